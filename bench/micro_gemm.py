#!/usr/bin/env python3
"""The prefill micro-kernels alone, on the products of a model's prefill.

For each product of the model's prefill (QKV fused, the attention output,
the GLU's gate and up fused, down; a prefill's LM head is a GEMV over the
last row), each weight type and each prompt
length, times `kernel-bench micro-gemm` on one thread on the CPU's best
path and, with --isa, on the paths below it, in interleaved rounds. Then
`kernel-bench amx-peak` gives the tiles' peak on one core, and the table
shows each product's GFLOP/s (GOP/s for the 8-bit types), its fraction of
that peak (bf16 peak for f16/bf16, int8 peak for q4_0/q8_0), and the
ratio to the first of the other paths.

A tile product over one block of 32 (the 8-bit types' scale blocks) takes
as long as one over 64 bytes of k, so the 8-bit kernels' ceiling is half
the int8 peak; the table gives that fraction too.

usage: bench/micro_gemm.py [--build build] [--model llama110m|llama1b]
           [--types q4_0,q8_0,q4_K,q6_K,bf16,f16] [--prompts 128,512] [--rounds 3]
           [--isa avx512] [--out bench/micro-gemm.json]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from importlib import import_module

bench = import_module("run")
peer = import_module("llamacpp")


def products(m):
    """(name, N, K) of each prefill GEMM, GLU halves and QKV fused."""
    d, f = m["dim"], m["hidden"]
    hd = d // m["heads"]
    kv = m.get("kv_heads", m["heads"]) * hd
    return [("qkv", d + 2 * kv, d), ("attn out", d, d),
            ("gate+up", 2 * f, d), ("down", d, f)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--model", default="llama110m", choices=sorted(peer.MODELS))
    ap.add_argument("--types", default="q4_0,q8_0,bf16,f16")
    ap.add_argument("--prompts", default="128,512")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--isa", default="avx512",
                    help="other paths to time, comma-separated ('' for none)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__),
                                                  "micro-gemm.json"))
    opts = ap.parse_args()
    kb = os.path.join(opts.build, "bin", "kernel-bench")
    m = peer.MODELS[opts.model]
    isas = [""] + [i for i in opts.isa.split(",") if i]

    # No peak (and no fractions) on a CPU without AMX.
    peak = {}
    probe = subprocess.run([kb, "amx-peak"], capture_output=True, text=True)
    for line in bench.json_lines(probe.stdout):
        peak[line["bench"].rsplit("-", 1)[1]] = line["gflops"]

    samples = []
    for r in range(opts.rounds):
        print(f"round {r + 1}/{opts.rounds}", file=sys.stderr)
        for t in opts.types.split(","):
            for s in [int(p) for p in opts.prompts.split(",")]:
                for name, n, k in products(m):
                    order = isas if r % 2 == 0 else isas[::-1]
                    for isa in order:
                        cmd = [kb, "micro-gemm", t, str(s), str(n), str(k)]
                        if isa:
                            cmd += ["--isa", isa]
                        got = bench.json_lines(bench.run(cmd).stdout)[0]
                        samples.append({"type": t, "prompt": s,
                                        "product": name, "n": n, "k": k,
                                        "isa": isa or "best", "round": r,
                                        "path": got["bench"],
                                        "gflops": got["gflops"]})
    with open(opts.out, "w") as f:
        json.dump({"model": opts.model, "rounds": opts.rounds,
                   "amx_peak_gflops": peak, "samples": samples}, f, indent=1)

    print(f"AMX peak on one core: bf16 {peak.get('bf16', 0):.0f} GFLOP/s, "
          f"int8 {peak.get('int8', 0):.0f} GOP/s\n")
    head = "| type | prompt | product | N × K | path | G(FL)OP/s | of peak |"
    for isa in isas[1:]:
        head += f" {isa} | best / {isa} |"
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    for t in opts.types.split(","):
        int8 = t.startswith("q")
        top = peak.get("int8" if int8 else "bf16", 0)
        for s in [int(p) for p in opts.prompts.split(",")]:
            for name, n, k in products(m):
                def med(isa):
                    return statistics.median(
                        x["gflops"] for x in samples
                        if x["type"] == t and x["prompt"] == s
                        and x["product"] == name and x["isa"] == isa)
                best = med("best")
                path = next(x["path"] for x in samples
                            if x["type"] == t and x["isa"] == "best")
                path = path.split("-", 3)[-1]
                frac = f"{best / top:.1%}" if top else "-"
                if int8 and top:
                    frac += f" ({2 * best / top:.0%} of the 32-k ceiling)"
                line = (f"| {t} | {s} | {name} | {n} × {k} | {path} "
                        f"| {best:.0f} | {frac} |")
                for isa in isas[1:]:
                    other = med(isa)
                    line += f" {other:.0f} | {best / other:.2f} |"
                print(line)


if __name__ == "__main__":
    main()
