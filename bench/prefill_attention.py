#!/usr/bin/env python3
"""Measures prefill, and the attention kernel inside it, against prompt length.

For each synthetic model of run.py (4096-position context) it compiles the
program with every fusion (the default) and with none, then, in interleaved
rounds, runs a prefill of 128, 512 and 2048 tokens (one thread, `--profile`)
and records prefill tokens/s and the milliseconds spent in the prefill
attention kernel. Programs given with --extra NAME=PATH (for instance the
same model compiled by an older tfmc) are measured in the same rounds.

Writes bench/prefill_attention.json and a markdown table (medians over the
rounds) to stdout.

usage: bench/prefill_attention.py [--build build] [--rounds 3]
                                  [--models stories15m,llama110m]
                                  [--extra llama110m:old-all=PATH ...]
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from importlib import import_module

bench = import_module("run")

LENGTHS = [128, 512, 2048]
CTX = 4096


def attention_ms(profile_text):
    """Milliseconds of the prefill attention kernels in a --profile table."""
    total = 0.0
    for line in profile_text.splitlines():
        w = line.split()
        if len(w) >= 3 and re.match(r"prefill_(cached_)?attention_\d+$", w[0]):
            total += float(w[2])
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--models", default=",".join(bench.MODELS))
    ap.add_argument("--extra", action="append", default=[],
                    help="MODEL:NAME=PATH, a program measured alongside")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__),
                                                  "prefill_attention.json"))
    opts = ap.parse_args()
    bindir, work = bench.workspace(opts.build)
    tfmc = os.path.join(bindir, "tfmc")

    models = opts.models.split(",")
    programs = {}  # (model, variant) -> (program, weights)
    for name in models:
        gguf = os.path.join(work, f"{name}-4k.gguf")
        bench.make_model(bindir, bench.MODELS[name], gguf, CTX)
        for variant, flag in (("all", "none"), ("none", "all")):
            prog = os.path.join(work, f"{name}-prefill-{variant}")
            print(f"compiling {name} ({variant})", file=sys.stderr)
            bench.run([tfmc, "compile", gguf, "-o", prog,
                       "--disable-fusion=" + flag])
            programs[(name, variant)] = (prog, gguf)
    for extra in opts.extra:
        model, rest = extra.split(":", 1)
        variant, path = rest.split("=", 1)
        programs[(model, variant)] = (
            path, os.path.join(work, f"{model}-4k.gguf"))

    rows = []
    for r in range(opts.rounds):
        print(f"round {r + 1}/{opts.rounds}", file=sys.stderr)
        for n in LENGTHS:
            for (name, variant), (prog, gguf) in programs.items():
                proc = bench.run([prog, "--weights", gguf, "--prompt-ids",
                                  bench.prompt_ids(n), "-n", "1", "--json",
                                  "--threads", "1", "--profile"])
                out = bench.json_lines(proc.stdout)[0]
                rows.append(dict(model=name, variant=variant, length=n,
                                 prefill_tokens_per_s=out[
                                     "prefill_tokens_per_s"],
                                 attention_ms=attention_ms(proc.stderr)))
    with open(opts.out, "w") as f:
        json.dump(rows, f, indent=1)
    report(rows, programs)


def report(rows, programs):
    print("| model | prompt | variant | prefill tok/s | attention ms "
          "| attention share |")
    print("|---|---|---|---|---|---|")
    for (name, variant) in programs:
        for n in LENGTHS:
            sel = [r for r in rows if r["model"] == name and
                   r["variant"] == variant and r["length"] == n]
            tps = statistics.median(r["prefill_tokens_per_s"] for r in sel)
            ms = statistics.median(r["attention_ms"] for r in sel)
            share = ms / (1000.0 * n / tps)
            print(f"| {name} | {n} | {variant} | {tps:.1f} | {ms:.1f} | "
                  f"{100 * share:.0f}% |")


if __name__ == "__main__":
    main()
