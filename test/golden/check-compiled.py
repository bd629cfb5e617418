#!/usr/bin/env python3
"""Checks a compiled program against the reference interpreter on the same
config and weights: every logits row within --tol (absolute) and identical
greedy ids, for a prompt run as one prefill and then decode steps, and
again with the prompt fed one token at a time (the decode path alone).

The interpreter runs the graph level (no fusions). With --unfused, a
program compiled without fusions must also generate the same ids. Without
--logits-out a program computes only the last prompt row's logits; it must
generate the same ids as with them.

usage: check-compiled.py CONFIG --program PROG --tfmc TFMC --ids 1,2,3 [-n N]
                         [--weights PATH] [--tol T] [--prefill-only]
                         [--unfused PROG]
"""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from importlib import import_module

golden = import_module("check-golden")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("--program", required=True)
    parser.add_argument("--tfmc", required=True)
    parser.add_argument("--ids", required=True)
    parser.add_argument("-n", type=int, default=8)
    parser.add_argument("--weights")
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--unfused")
    parser.add_argument("--prefill-only", action="store_true",
                        help="skip the one-token-at-a-time run (big models)")
    opts = parser.parse_args()
    weights = ["--weights", opts.weights] if opts.weights else []
    ids = opts.ids.split(",")
    runs = {
        "prefill + greedy decode": ["--prompt-ids", opts.ids, "-n", str(opts.n)],
        "one token at a time": ["--prompt-ids", ids[0],
                                "--force-ids", ",".join(ids[1:])],
    }
    if opts.prefill_only:
        del runs["one token at a time"]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in runs.items():
            ref = golden.run([opts.tfmc, "run", opts.config,
                              "--disable-fusion=all"] + weights, args, tmp)
            got = golden.run([opts.program] + weights, args, tmp)
            golden.compare(name, got, ref, opts.tol, "interpreter", failures)
            lean, _ = golden.run([opts.program] + weights, args, tmp,
                                 logits=False)
            lean_ids = lean["generated_ids"]
            if lean_ids != got[0]["generated_ids"]:
                failures.append(f"{name}: ids without --logits-out {lean_ids} "
                                f"!= with it {got[0]['generated_ids']}")
            if opts.unfused:
                plain, _ = golden.run([opts.unfused] + weights, args, tmp)
                if plain["generated_ids"] != got[0]["generated_ids"]:
                    failures.append(f"{name}: ids {got[0]['generated_ids']} "
                                    f"!= unfused program's "
                                    f"{plain['generated_ids']}")
    return golden.conclude(failures)


if __name__ == "__main__":
    sys.exit(main())
