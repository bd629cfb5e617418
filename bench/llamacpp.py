#!/usr/bin/env python3
"""Measures tfm's programs next to llama.cpp on the same GGUF files.

Writes a synthetic Llama (seeded random weights; --model: run.py's ~110M
one, or llama1b, of Llama 3.2 1B's shape) once per weight type, with its
matrices stored as that type (norms stay f32; Q4_K_M quantized from the
f32 file by tfmc quantize), and compiles each file with tfmc. Then, in
interleaved rounds (each round runs every type and thread count, tfm and
llama.cpp alternating, in reversed order every other round, so that noise
on this shared machine hits both alike), measures prefill (--prompt
tokens, 128) and decode (64 tokens) tokens/s:

  * tfm: PROGRAM --bench (the median of R repeats after a warm-up);
  * with --without-amx, the same program with TFM_GEMM_ISA=avx512, which
    keeps its prefill products off the AMX tiles (the fallback of CPUs
    without them);
  * llama.cpp: llama-bench -p P -n 64 -r R (the mean of R repeats).

The tables give the median over rounds and the ratio tfm / llama.cpp.
Then, once per type, the peak RSS of the same work on one thread (a
128-token prompt, 64 tokens decoded), from /usr/bin/time: tfm's program,
and llama-bench -p 128 -n 64 -r 1 (which builds a context for each of
its two tests).
llama.cpp is not built here: give its llama-bench with LLAMA_BENCH.

usage: LLAMA_BENCH=/path/to/llama-bench bench/llamacpp.py [--build build]
           [--model llama110m|llama1b] [--rounds 3] [--repeats R (5)]
           [--threads 1,2] [--types f16,bf16,q8_0,q4_0,Q4_K_M]
           [--prompt 128] [--without-amx] [--out bench/llamacpp.json]
"""

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(__file__))
from importlib import import_module

bench = import_module("run")

# The ~110M synthetic Llama of run.py, and a 1B-class one of Llama 3.2
# 1B's shape (grouped-query attention, vocabulary 128,256, tied).
MODELS = dict(bench.MODELS,
              llama1b=dict(dim=2048, layers=16, heads=32, kv_heads=8,
                           hidden=8192, vocab=128256))


def llama_bench(path, gguf, threads, repeats, prompt):
    """llama-bench's prefill and decode tokens/s for one file."""
    out = bench.run([path, "-m", gguf, "-p", str(prompt), "-n",
                     str(bench.DECODE), "-t", str(threads), "-r",
                     str(repeats), "-o", "json"]).stdout
    rows = json.loads(out)
    speed = {}
    for row in rows:
        kind = "prefill" if row["n_prompt"] > 0 else "decode"
        speed[kind] = row["avg_ts"]
    return speed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--model", default="llama110m", choices=sorted(MODELS))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--types", default="f16,bf16,q8_0,q4_0,Q4_K_M")
    ap.add_argument("--prompt", type=int, default=bench.PROMPT)
    ap.add_argument("--without-amx", action="store_true")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__),
                                                  "llamacpp.json"))
    opts = ap.parse_args()
    peer = os.environ.get("LLAMA_BENCH")
    if not peer or not os.access(peer, os.X_OK):
        raise SystemExit("set LLAMA_BENCH to llama.cpp's llama-bench")
    threads = [int(t) for t in opts.threads.split(",")]
    types = opts.types.split(",")

    bindir, work = bench.workspace(opts.build)
    MODEL = opts.model
    m = MODELS[MODEL]
    files = {}
    for t in types:
        gguf = os.path.join(work, f"{MODEL}-{t}.gguf")
        if not os.path.exists(gguf):
            # A mix (Q4_K_M) is quantized by tfmc from the f32 file, as
            # llama-quantize would make it from a checkpoint.
            mix = t.upper().endswith("_K_M")
            made = os.path.join(work, f"{MODEL}-f32.gguf") if mix else gguf
            if not os.path.exists(made):
                bench.run([os.path.join(bindir, "make-model"), "--dim",
                           str(m["dim"]), "--layers", str(m["layers"]),
                           "--heads", str(m["heads"]), "--kv-heads",
                           str(m.get("kv_heads", m["heads"])), "--hidden",
                           str(m["hidden"]), "--vocab", str(m["vocab"]),
                           "--tied", "1", "--ctx", "1024", "--type",
                           "f32" if mix else t, "-o", made])
            if mix:
                bench.run([os.path.join(bindir, "tfmc"), "quantize", made,
                           gguf, "--type", "mix=" + t[0].lower() + t[1:]])
        prog = os.path.join(work, f"{MODEL}-{t}")
        bench.run([os.path.join(bindir, "tfmc"), "compile", gguf, "-o", prog])
        files[t] = (prog, gguf)

    prompt = bench.prompt_ids(opts.prompt)
    no_amx = dict(os.environ, TFM_GEMM_ISA="avx512")
    samples = []
    for r in range(opts.rounds):
        print(f"round {r + 1}/{opts.rounds}", file=sys.stderr)
        for t in types:
            prog, gguf = files[t]
            for n in threads:
                def ours(env=None):
                    return bench.json_lines(bench.run(
                        [prog, "--weights", gguf, "--prompt-ids", prompt,
                         "-n", str(bench.DECODE + 1), "--bench", "--json",
                         "--threads", str(n), "--repeats",
                         str(opts.repeats)], env=env).stdout)[0]
                runs = [("tfm", ours),
                        ("llama", lambda: llama_bench(peer, gguf, n,
                                                      opts.repeats,
                                                      opts.prompt))]
                if opts.without_amx:
                    runs.insert(1, ("noamx", lambda: ours(no_amx)))
                got = {name: f() for name, f in
                       (runs if r % 2 == 0 else runs[::-1])}
                sample = {
                    "type": t, "threads": n, "round": r,
                    "prompt": opts.prompt,
                    "tfm_prefill": got["tfm"]["prefill_tokens_per_s"],
                    "tfm_decode": got["tfm"]["decode_tokens_per_s"],
                    "paths": [got["tfm"]["bf16_gemm_path"],
                              got["tfm"]["int8_gemm_path"],
                              got["tfm"]["dot_path"]],
                    "llama_prefill": got["llama"]["prefill"],
                    "llama_decode": got["llama"]["decode"]}
                if opts.without_amx:
                    sample["noamx_prefill"] = \
                        got["noamx"]["prefill_tokens_per_s"]
                    sample["noamx_decode"] = \
                        got["noamx"]["decode_tokens_per_s"]
                samples.append(sample)
    memory = {}
    for t in types:
        prog, gguf = files[t]
        memory[t] = {
            "tfm_kib": peak_rss([prog, "--weights", gguf, "--prompt-ids",
                                 prompt, "-n", str(bench.DECODE + 1),
                                 "--threads", "1"]),
            "llama_kib": peak_rss([peer, "-m", gguf, "-p", str(opts.prompt),
                                   "-n", str(bench.DECODE), "-t", "1", "-r",
                                   "1"])}
    with open(opts.out, "w") as f:
        json.dump({"model": MODEL, "rounds": opts.rounds,
                   "prompt": opts.prompt,
                   "samples": samples, "peak_rss": memory}, f, indent=1)

    keys = ["tfm_prefill", "llama_prefill", "tfm_decode", "llama_decode"]
    head = ("| type | threads | prefill tfm | prefill llama.cpp | ratio "
            "| decode tfm | decode llama.cpp | ratio |")
    if opts.without_amx:
        keys += ["noamx_prefill", "noamx_decode"]
        head += " prefill without AMX | AMX / without | decode without AMX |"
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for t in types:
        for n in threads:
            rows = [s for s in samples if s["type"] == t and s["threads"] == n]
            med = {k: statistics.median(s[k] for s in rows) for k in keys}
            line = (f"| {t} | {n} | {med['tfm_prefill']:.1f} "
                    f"| {med['llama_prefill']:.1f} "
                    f"| {med['tfm_prefill'] / med['llama_prefill']:.2f} "
                    f"| {med['tfm_decode']:.1f} | {med['llama_decode']:.1f} "
                    f"| {med['tfm_decode'] / med['llama_decode']:.2f} |")
            if opts.without_amx:
                line += (f" {med['noamx_prefill']:.1f} "
                         f"| {med['tfm_prefill'] / med['noamx_prefill']:.2f} "
                         f"| {med['noamx_decode']:.1f} |")
            print(line)

    print()
    print("| type | peak RSS tfm | peak RSS llama.cpp | ratio |")
    print("|---|---|---|---|")
    for t in types:
        m = memory[t]
        print(f"| {t} | {m['tfm_kib'] / 1024:.1f} MiB "
              f"| {m['llama_kib'] / 1024:.1f} MiB "
              f"| {m['tfm_kib'] / m['llama_kib']:.2f} |")


def peak_rss(cmd):
    """The peak resident set of `cmd` in KiB (GNU time's %M)."""
    out = bench.run(["/usr/bin/time", "-f", "peak-rss-kib %M"] + cmd)
    for line in out.stderr.splitlines():
        if line.startswith("peak-rss-kib "):
            return int(line.split()[1])
    raise SystemExit(f"no peak RSS from {cmd[0]}")


if __name__ == "__main__":
    main()
