#!/usr/bin/env python3
"""Checks that the fusion passes keep a model's meaning: the reference
interpreter gives the same logits (within --tol) and greedy ids on the
graph level (every fusion disabled), after each fusion pass alone, and after
all of them.

usage: check-fusion.py CONFIG --tfmc TFMC --ids 1,2,3 [-n N] [--weights P]
                       [--tol T]
"""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from importlib import import_module

golden = import_module("check-golden")

FUSIONS = ["attention-kvcache", "rope-qk", "glu", "norm-residual"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("--tfmc", required=True)
    parser.add_argument("--ids", required=True)
    parser.add_argument("-n", type=int, default=4)
    parser.add_argument("--weights")
    parser.add_argument("--tol", type=float, default=1e-5)
    opts = parser.parse_args()
    weights = ["--weights", opts.weights] if opts.weights else []
    args = ["--prompt-ids", opts.ids, "-n", str(opts.n)]
    variants = {"all fusions": "none"}
    for f in FUSIONS:
        variants["tfm-fuse-" + f] = ",".join(x for x in FUSIONS if x != f)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        def interpret(disabled):
            return golden.run([opts.tfmc, "run", opts.config, "--interpret",
                               "--disable-fusion=" + disabled] + weights,
                              args, tmp)
        ref = interpret("all")
        for name, disabled in variants.items():
            golden.compare(name, interpret(disabled), ref, opts.tol,
                           "unfused", failures)
    return golden.conclude(failures)


if __name__ == "__main__":
    sys.exit(main())
