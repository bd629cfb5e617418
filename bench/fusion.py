#!/usr/bin/env python3
"""Measures what each fusion pass buys on the synthetic models of run.py.

For each model (stories15M-like and ~110M, seeded random f32 weights in
GGUF, 4096-position context) it compiles six programs: no fusion, each of
the four fusions alone, and all of them (the default). In interleaved
rounds, so that noise hits every variant alike, it measures:

  * prefill (128 tokens) and decode (64 tokens) tokens/s, one thread;
  * decode tokens/s after a prompt of 1, 256 and 2048 tokens (16 decode
    steps each), no fusion against all fusions, one thread.

It also counts the bytes a decoded token moves, from the host plan
(`tfmc --emit=host`): every buffer a kernel reads (weights, activations,
the cached keys and values) and every buffer it writes, plus cache-write
copies; an embedding kernel reads one row of its table.

Writes bench/fusion.json and the tables (markdown) to stdout.

With --context-only it compiles only the programs the context table needs
(no fusion, attention only, all) and measures only that table.

usage: bench/fusion.py [--build build] [--rounds 3] [--context-only]
                       [--models stories15m,llama110m] [--out FILE]
"""

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from importlib import import_module

bench = import_module("run")

FUSIONS = ["attention-kvcache", "rope-qk", "glu", "norm-residual"]
VARIANTS = {"none": "all", "all": "none"}
for f in FUSIONS:
    VARIANTS[f] = ",".join(x for x in FUSIONS if x != f)
ORDER = ["none"] + FUSIONS + ["all"]
CONTEXTS = [1, 256, 2048]
CONTEXT_VARIANTS = ["none", "attention-kvcache", "all"]
CTX = 4096


def plan_bytes(plan_text, context):
    """Bytes one decode call moves at `context` cached positions."""
    kernels = {}
    lines = plan_text.splitlines()
    for line in lines:
        w = line.split()
        if w and w[0] == "kernel":
            kernels[int(w[1])] = w[2]
    start = next(i for i, l in enumerate(lines) if l.startswith("entry decode"))
    regs, shapes, total = {}, {}, 0
    for line in lines[start + 1:]:
        w = line.split()
        if w[0] == "end":
            break
        if w[0].startswith("%"):
            r = int(w[0][1:])
            if w[2] == "pos":
                regs[r] = context
            elif w[2] == "tokens":
                regs[r] = 1
            elif w[2] == "const":
                regs[r] = int(w[3])
            elif w[2] == "add":
                regs[r] = regs[int(w[3][1:])] + regs[int(w[4][1:])]
        elif w[0].startswith("b") and w[1] == "=":
            dims = line[line.index("[") + 1:line.index("]")].split(",")
            n = 1
            for d in dims:
                d = d.strip()
                n *= regs[int(d[1:])] if d.startswith("%") else int(d)
            if w[2] in ("keys", "values"):
                # A cache view: a cached attention's covers every position,
                # but the kernel reads the context and this call's row.
                n = (context + 1) * int(dims[-1])
            shapes[int(w[0][1:])] = (n, dims)
        elif w[0] == "launch":
            name = kernels[int(w[1])]
            inner = line[line.index("(") + 1:line.index(")")]
            args = [a.strip() for a in inner.split(",") if a.strip()]
            results = line[line.index("->") + 2:].split(",")
            for a in args:
                if a.startswith("b"):
                    n, dims = shapes[int(a[1:])]
                    if "_embed" in name and len(dims) == 2:
                        n = int(dims[1])  # one row of the table
                    total += 4 * n
            for r in results:
                total += 4 * shapes[int(r.strip()[1:])][0]
        elif w[0] == "kv_write":
            for b in (w[3], w[5]):
                total += 2 * 4 * shapes[int(b[1:])][0]  # read and write
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--context-only", action="store_true")
    ap.add_argument("--models", default=",".join(bench.MODELS))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__),
                                                  "fusion.json"))
    opts = ap.parse_args()
    bindir, work = bench.workspace(opts.build)
    tfmc = os.path.join(bindir, "tfmc")

    models = opts.models.split(",")
    variants = CONTEXT_VARIANTS if opts.context_only else ORDER
    programs, res = {}, {"runs": [], "context": [], "bytes": []}
    for name in models:
        gguf = os.path.join(work, f"{name}-4k.gguf")
        bench.make_model(bindir, bench.MODELS[name], gguf, CTX)
        for variant in variants:
            flag = "--disable-fusion=" + VARIANTS[variant]
            prog = os.path.join(work, f"{name}-fusion-{variant}")
            print(f"compiling {name} ({variant})", file=sys.stderr)
            bench.run([tfmc, "compile", gguf, "-o", prog, flag])
            programs[(name, variant)] = (prog, gguf)
            plan = bench.run([tfmc, gguf, "--emit=host", flag]).stdout
            for c in CONTEXTS:
                res["bytes"].append(dict(model=name, variant=variant,
                                         context=c,
                                         bytes=plan_bytes(plan, c)))

    def measure(name, variant, n_prompt, n_decode, repeats):
        prog, gguf = programs[(name, variant)]
        out = bench.json_lines(bench.run(
            [prog, "--weights", gguf,
             "--prompt-ids", bench.prompt_ids(n_prompt),
             "-n", str(n_decode + 1), "--bench", "--json", "--threads", "1",
             "--repeats", str(repeats)]).stdout)[0]
        out.update(model=name, variant=variant)
        return out

    for r in range(opts.rounds):
        print(f"round {r + 1}/{opts.rounds}", file=sys.stderr)
        for name in models:
            if not opts.context_only:
                for variant in ORDER:
                    res["runs"].append(measure(name, variant, bench.PROMPT,
                                               bench.DECODE, 3))
            for c in CONTEXTS:
                for variant in CONTEXT_VARIANTS:
                    row = measure(name, variant, c, 16, 1)
                    row["context"] = c
                    res["context"].append(row)
    with open(opts.out, "w") as f:
        json.dump(res, f, indent=1)
    report(res, models)


def report(res, models):
    if res["runs"]:
        report_runs(res, models)
    report_context(res, models)


def report_runs(res, models):
    print("### Fusions on and off (1 thread, median over rounds)\n")
    print("| model | fusion | prefill tok/s | decode tok/s | vs none: prefill "
          "| vs none: decode | decode MB/token (ctx 256) |")
    print("|---|---|---|---|---|---|---|")
    for name in models:
        base = [r for r in res["runs"] if r["model"] == name
                and r["variant"] == "none"]
        bp = bench.med(base, "prefill_tokens_per_s")
        bd = bench.med(base, "decode_tokens_per_s")
        for variant in ORDER:
            rows = [r for r in res["runs"] if r["model"] == name
                    and r["variant"] == variant]
            p = bench.med(rows, "prefill_tokens_per_s")
            d = bench.med(rows, "decode_tokens_per_s")
            mb = next(b["bytes"] for b in res["bytes"] if b["model"] == name and
                      b["variant"] == variant and b["context"] == 256) / 1e6
            label = {"none": "none", "all": "all"}.get(variant, variant + " only")
            print(f"| {name} | {label} | {p:.1f} | {d:.1f} | {p / bp:.2f}× | "
                  f"{d / bd:.2f}× | {mb:.1f} |")


def report_context(res, models):
    print("\n### Decode at a given context (1 thread, 16 steps after the "
          "prompt, median over rounds)\n")
    print("| model | context | none tok/s | attention-kvcache only tok/s "
          "| all tok/s | none MB/token | all MB/token |")
    print("|---|---|---|---|---|---|---|")
    for name in models:
        for c in CONTEXTS:
            row = {}
            for variant in ("none", "attention-kvcache", "all"):
                rows = [r for r in res["context"] if r["model"] == name and
                        r["variant"] == variant and r["context"] == c]
                row[variant] = bench.med(rows, "decode_tokens_per_s")
            mb = {v: next(b["bytes"] for b in res["bytes"] if b["model"] == name
                          and b["variant"] == v and b["context"] == c) / 1e6
                  for v in ("none", "all")}
            print(f"| {name} | {c} | {row['none']:.1f} | "
                  f"{row['attention-kvcache']:.1f} | {row['all']:.1f} | "
                  f"{mb['none']:.1f} | {mb['all']:.1f} |")


if __name__ == "__main__":
    main()
