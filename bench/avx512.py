#!/usr/bin/env python3
"""Measures the AVX-512 prefill products against the AVX2 ones.

In interleaved rounds (one thread): every prefill GEMM shape of run.py's
two models with tfm's default kernel (AVX-512 where the machine has it)
and with `--no-avx512` (AVX2), each next to OpenBLAS sgemm in the same
call; then each model's program compiled by default and with
`tfmc --avx512=off`, prefill (128 tokens) and decode (64) tokens/s.

Writes bench/avx512.json and markdown tables (medians over the rounds).

usage: bench/avx512.py [--build build] [--rounds 5]
"""

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(__file__))
from importlib import import_module

bench = import_module("run")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__),
                                                  "avx512.json"))
    opts = ap.parse_args()
    bindir, work = bench.workspace(opts.build)
    tfmc = os.path.join(bindir, "tfmc")
    kb = os.path.join(bindir, "kernel-bench")

    shapes = sorted({s for m in bench.MODELS.values()
                     for s in bench.projection_shapes(m)})
    programs = {}
    for name, m in bench.MODELS.items():
        gguf = os.path.join(work, f"{name}.gguf")
        bench.make_model(bindir, m, gguf, 2048)
        for isa, flag in (("avx512", "auto"), ("avx2", "off")):
            prog = os.path.join(work, f"{name}-{isa}")
            print(f"compiling {name} ({isa})", file=sys.stderr)
            bench.run([tfmc, "compile", gguf, "-o", prog, "--avx512=" + flag])
            programs[(name, isa)] = (prog, gguf)

    rows = []
    for r in range(opts.rounds):
        print(f"round {r + 1}/{opts.rounds}", file=sys.stderr)
        for n, k in shapes:
            for isa, extra in (("avx512", []), ("avx2", ["--no-avx512"])):
                out = bench.json_lines(bench.run(
                    [kb, "gemm", str(bench.PROMPT), str(n), str(k),
                     "--threads", "1"] + extra).stdout)
                tfm = next(o for o in out if o["bench"] == "tfm-gemm")
                blas = next(o for o in out if o["bench"] == "openblas-sgemm")
                rows.append(dict(kind="gemm", shape=tfm["shape"], isa=isa,
                                 tfm=tfm["gflops"], openblas=blas["gflops"]))
        for (name, isa), (prog, gguf) in programs.items():
            out = bench.json_lines(bench.run(
                [prog, "--weights", gguf, "--prompt-ids",
                 bench.prompt_ids(bench.PROMPT), "-n", str(bench.DECODE),
                 "--bench", "--repeats", "3", "--json",
                 "--threads", "1"]).stdout)[0]
            rows.append(dict(kind="program", model=name, isa=isa,
                             prefill=out["prefill_tokens_per_s"],
                             decode=out["decode_tokens_per_s"]))
    with open(opts.out, "w") as f:
        json.dump(rows, f, indent=1)
    report(rows)


def report(rows):
    med = statistics.median
    print("| shape S×N×K | tfm AVX-512 GFLOP/s | tfm AVX2 GFLOP/s | "
          "OpenBLAS GFLOP/s | AVX-512 / OpenBLAS | AVX2 / OpenBLAS |")
    print("|---|---|---|---|---|---|")
    shapes = sorted({r["shape"] for r in rows if r["kind"] == "gemm"},
                    key=lambda s: [int(x) for x in s.split("x")])
    for shape in shapes:
        def pick(isa, key):
            return [r[key] for r in rows if r["kind"] == "gemm"
                    and r["shape"] == shape and r["isa"] == isa]
        wide, narrow = med(pick("avx512", "tfm")), med(pick("avx2", "tfm"))
        # OpenBLAS ran in every call; its median over both kinds of call.
        blas = med(pick("avx512", "openblas") + pick("avx2", "openblas"))
        print(f"| {shape} | {wide:.1f} | {narrow:.1f} | {blas:.1f} | "
              f"{wide / blas:.0%} | {narrow / blas:.0%} |")
    print()
    print("| model | prefill tok/s AVX-512 | prefill tok/s AVX2 | ratio | "
          "decode tok/s AVX-512 | decode tok/s AVX2 |")
    print("|---|---|---|---|---|---|")
    for name in sorted({r["model"] for r in rows if r["kind"] == "program"}):
        def pick(isa, key):
            return med([r[key] for r in rows if r["kind"] == "program"
                        and r["model"] == name and r["isa"] == isa])
        print(f"| {name} | {pick('avx512', 'prefill'):.1f} | "
              f"{pick('avx2', 'prefill'):.1f} | "
              f"{pick('avx512', 'prefill') / pick('avx2', 'prefill'):.2f}× | "
              f"{pick('avx512', 'decode'):.1f} | {pick('avx2', 'decode'):.1f} |")


if __name__ == "__main__":
    main()
