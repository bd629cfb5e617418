#!/usr/bin/env python3
"""Compares the programs of two tfm builds side by side.

Compiles the synthetic models of run.py (stories15M-like and ~110M, seeded
random f32 weights in GGUF) with the tfmc of each build, every fusion on
and then every fusion off, and measures prefill (128 tokens) and decode (64
tokens) tokens/s in interleaved rounds: in each round every program runs
once per thread count, base and new alternating, so that noise on this
shared machine hits both alike. Each run reports the median of 5 repeats
(--bench); the tables give the median over rounds and the ratio new / base.

Also checks that the two builds' programs generate the same token ids.

usage: bench/compare.py --base BUILD --new BUILD [--rounds 3]
                        [--threads 1,2] [--out FILE]
"""

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(__file__))
from importlib import import_module

bench = import_module("run")

VARIANTS = {"fused": "none", "unfused": "all"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="the build to compare with")
    ap.add_argument("--new", default="build", help="the build measured")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__),
                                                  "compare.json"))
    opts = ap.parse_args()
    threads = [int(t) for t in opts.threads.split(",")]
    builds = {"base": opts.base, "new": opts.new}

    bindir, work = bench.workspace(opts.new)
    programs = {}
    for name, m in bench.MODELS.items():
        gguf = os.path.join(work, name + ".gguf")
        bench.make_model(bindir, m, gguf, 1024)
        for label, build in builds.items():
            tfmc = os.path.join(build, "bin", "tfmc")
            for variant, disabled in VARIANTS.items():
                prog = os.path.join(work, f"compare-{label}-{name}-{variant}")
                bench.run([tfmc, "compile", gguf, "-o", prog,
                           f"--disable-fusion={disabled}"])
                programs[(label, name, variant)] = (prog, gguf)

    prompt = bench.prompt_ids(bench.PROMPT)
    ids = {}
    for key, (prog, gguf) in programs.items():
        out = bench.json_lines(bench.run(
            [prog, "--weights", gguf, "--prompt-ids", prompt, "-n", "16",
             "--json"]).stdout)[0]
        ids[key] = out["generated_ids"]
    same = all(ids[("base",) + k[1:]] == ids[("new",) + k[1:]]
               for k in ids if k[0] == "new")

    rows = []
    for r in range(opts.rounds):
        print(f"round {r + 1}/{opts.rounds}", file=sys.stderr)
        for t in threads:
            for name in bench.MODELS:
                for variant in VARIANTS:
                    for label in builds:
                        prog, gguf = programs[(label, name, variant)]
                        out = bench.json_lines(bench.run(
                            [prog, "--weights", gguf, "--prompt-ids", prompt,
                             "-n", str(bench.DECODE + 1), "--bench", "--json",
                             "--threads", str(t)]).stdout)[0]
                        out.update(build=label, model=name, variant=variant,
                                   threads=t, round=r)
                        rows.append(out)
    with open(opts.out, "w") as f:
        json.dump({"rows": rows, "same_ids": same}, f, indent=1)

    print(f"Same generated ids from both builds: {'yes' if same else 'NO'}\n")
    print("| model | fusions | threads | prefill base | prefill new | new/base "
          "| decode base | decode new | new/base |")
    print("|---|---|---|---|---|---|---|---|---|")
    for t in threads:
        for name in bench.MODELS:
            for variant in VARIANTS:
                def med(label, key):
                    return statistics.median(
                        x[key] for x in rows if x["build"] == label and
                        x["model"] == name and x["variant"] == variant and
                        x["threads"] == t)
                pb, pn = (med(l, "prefill_tokens_per_s") for l in builds)
                db, dn = (med(l, "decode_tokens_per_s") for l in builds)
                print(f"| {name} | {variant} | {t} | {pb:.1f} | {pn:.1f} | "
                      f"{pn / pb:.2f} | {db:.1f} | {dn:.1f} | {dn / db:.2f} |")


if __name__ == "__main__":
    main()
