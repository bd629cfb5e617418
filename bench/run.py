#!/usr/bin/env python3
"""Benchmarks compiled tfm programs, their kernels, OpenBLAS and memory.

Builds two synthetic Llama-shaped GGUF models with seeded random f32 weights
(stories15M-like and ~110M), compiles them with tfmc, and measures, in
interleaved rounds so that noise hits every configuration alike:

  * prefill (128 tokens) and decode (64 tokens) tokens/s of each program at
    1 and 2 threads (each program run reports the median of 5 repeats; the
    table shows the median over rounds);
  * the prefill GEMMs and decode GEMVs of both models, tfm's kernel next to
    OpenBLAS sgemm/sgemv on the same shape (GEMVs with cold caches);
  * a STREAM-style triad (memory bandwidth).

Then profiles one decode run of each model per kernel, and writes the
measurements to bench/results.json and the tables to stdout (markdown).

usage: bench/run.py [--build build] [--rounds 5] [--out bench/results.json]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

MODELS = {
    "stories15m": dict(dim=288, layers=6, heads=6, hidden=768, vocab=32000),
    "llama110m": dict(dim=768, layers=12, heads=12, hidden=2048, vocab=32000),
}
PROMPT = 128
DECODE = 64


def run(cmd, env=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return proc


def json_lines(text):
    return [json.loads(line) for line in text.splitlines()
            if line.startswith("{")]


def projection_shapes(m):
    d, f, v = m["dim"], m["hidden"], m["vocab"]
    # (N, K) of every distinct projection: q/k/v/o, gate/up, down, LM head.
    return [(d, d), (f, d), (d, f), (v, d)]


def weight_bytes(m):
    d, f, v, l = m["dim"], m["hidden"], m["vocab"], m["layers"]
    per_layer = 4 * d * d + 3 * d * f + 2 * d
    return 4 * (l * per_layer + d + v * d)  # tied: the LM head reads embed


def workspace(build):
    """The build's bin directory and its bench/ work directory (created)."""
    work = os.path.join(build, "bench")
    os.makedirs(work, exist_ok=True)
    return os.path.join(build, "bin"), work


def prompt_ids(n):
    """The benchmark prompt: n token ids spread over the vocabulary."""
    return ",".join(str(1 + (i * 7919) % 31999) for i in range(n))


def make_model(bindir, m, path, ctx):
    """Writes the synthetic GGUF of model `m` with `ctx` positions, once."""
    if not os.path.exists(path):
        run([os.path.join(bindir, "make-model"), "--dim", str(m["dim"]),
             "--layers", str(m["layers"]), "--heads", str(m["heads"]),
             "--hidden", str(m["hidden"]), "--vocab", str(m["vocab"]),
             "--tied", "1", "--ctx", str(ctx), "-o", path])


def kv_bytes(m, context):
    # Keys and values of every layer read once per decoded token.
    return 4 * 2 * m["layers"] * context * m["dim"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__),
                                                  "results.json"))
    opts = ap.parse_args()
    bindir, work = workspace(opts.build)

    programs = {}
    for name, m in MODELS.items():
        gguf = os.path.join(work, name + ".gguf")
        make_model(bindir, m, gguf, 1024)
        prog = os.path.join(work, name)
        run([os.path.join(bindir, "tfmc"), "compile", gguf, "-o", prog])
        programs[name] = (prog, gguf)

    prompt = prompt_ids(PROMPT)
    results = {"programs": [], "kernels": [], "triad": [], "profiles": {}}
    bench = os.path.join(bindir, "kernel-bench")
    for r in range(opts.rounds):
        print(f"round {r + 1}/{opts.rounds}", file=sys.stderr)
        for threads in (1, 2):
            results["triad"] += json_lines(run(
                [bench, "triad", "--threads", str(threads)]).stdout)
            for name, (prog, gguf) in programs.items():
                out = json_lines(run(
                    [prog, "--weights", gguf, "--prompt-ids", prompt,
                     "-n", str(DECODE + 1), "--bench", "--json",
                     "--threads", str(threads)]).stdout)[0]
                out.update(model=name, threads=threads)
                results["programs"].append(out)
            for name, m in MODELS.items():
                for n, k in projection_shapes(m):
                    for mode in ("gemm", "gemv"):
                        args = ([str(PROMPT), str(n), str(k)]
                                if mode == "gemm" else [str(n), str(k), "--cold"])
                        for row in json_lines(run(
                                [bench, mode] + args +
                                ["--threads", str(threads)]).stdout):
                            row["model"] = name
                            results["kernels"].append(row)
    for name, (prog, gguf) in programs.items():
        proc = run([prog, "--weights", gguf, "--prompt-ids", prompt, "-n",
                    str(DECODE + 1), "--profile", "--threads", "2"])
        results["profiles"][name] = proc.stderr

    results["machine"] = {
        "cpu": next((l.split(":", 1)[1].strip() for l in
                     open("/proc/cpuinfo") if l.startswith("model name")), ""),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
    }
    with open(opts.out, "w") as f:
        json.dump(results, f, indent=1)
    report(results)


def med(rows, key):
    return statistics.median(r[key] for r in rows)


def report(res):
    print("### Programs (median over rounds)\n")
    print("| model | threads | prefill tok/s | decode tok/s | decode roofline "
          "tok/s | decode / roofline |")
    print("|---|---|---|---|---|---|")
    for name, m in MODELS.items():
        for threads in (1, 2):
            rows = [r for r in res["programs"]
                    if r["model"] == name and r["threads"] == threads]
            bw = med([t for t in res["triad"] if t["threads"] == threads],
                     "gbytes_per_s") * 1e9
            per_token = weight_bytes(m) + kv_bytes(m, PROMPT + DECODE // 2)
            roof = bw / per_token
            dec = med(rows, "decode_tokens_per_s")
            print(f"| {name} | {threads} | {med(rows, 'prefill_tokens_per_s'):.1f}"
                  f" | {dec:.1f} | {roof:.1f} | {100 * dec / roof:.0f}% |")
    print("\n### Memory bandwidth (STREAM-style triad)\n")
    for threads in (1, 2):
        rows = [t for t in res["triad"] if t["threads"] == threads]
        print(f"- {threads} thread(s): {med(rows, 'gbytes_per_s'):.2f} GB/s "
              f"(median of {len(rows)})")
    print("\n### Projections: tfm next to OpenBLAS (median over rounds)\n")
    print("| shape S×N×K | threads | tfm GFLOP/s | OpenBLAS GFLOP/s | tfm / "
          "OpenBLAS | tfm GB/s |")
    print("|---|---|---|---|---|---|")
    seen = []
    for row in res["kernels"]:
        key = (row["bench"].split("-")[1], row["shape"], row["threads"])
        if key in seen:
            continue
        seen.append(key)
    for kind, shape, threads in seen:
        tfm = [r for r in res["kernels"] if r["bench"] == f"tfm-{kind}"
               and r["shape"] == shape and r["threads"] == threads]
        blas = [r for r in res["kernels"] if r["bench"] == f"openblas-s{kind}"
                and r["shape"] == shape and r["threads"] == threads]
        if not tfm or not blas:
            continue
        t, b = med(tfm, "gflops"), med(blas, "gflops")
        print(f"| {kind} {shape} | {threads} | {t:.1f} | {b:.1f} | "
              f"{100 * t / b:.0f}% | {med(tfm, 'gbytes_per_s'):.2f} |")
    for name, text in res["profiles"].items():
        print(f"\n### Per-kernel profile: {name}, 2 threads\n")
        print("```")
        print(text.strip())
        print("```")


if __name__ == "__main__":
    main()
