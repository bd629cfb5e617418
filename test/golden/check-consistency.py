#!/usr/bin/env python3
"""Checks that a model computes the same logits whether a sequence is run as
one prefill or as a one-token prefill followed by decode steps (the KV-cache
path), and that repeated runs agree exactly.

usage: check-consistency.py CONFIG --ids 1,2,3,... [--tol T] -- PROGRAM...
PROGRAM gets: CONFIG --prompt-ids ... [--force-ids ...] --json --logits-out F
"""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from importlib import import_module

golden = import_module("check-golden")


def run(program, args, tmp):
    return golden.run(program, args, tmp)[1]


def main():
    argv = sys.argv[1:]
    split = argv.index("--")
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("--ids", required=True)
    parser.add_argument("--tol", type=float, default=1e-5)
    opts = parser.parse_args(argv[:split])
    program = argv[split + 1:]
    ids = opts.ids.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        whole = run(program, [opts.config, "--prompt-ids", opts.ids, "-n", "1"],
                    tmp)
        again = run(program, [opts.config, "--prompt-ids", opts.ids, "-n", "1"],
                    tmp)
        stepped = run(program, [opts.config, "--prompt-ids", ids[0],
                                "--force-ids", ",".join(ids[1:])], tmp)
    failures = []
    if whole != again:
        failures.append("two identical runs gave different logits")
    err, where = golden.max_abs_diff(whole, stepped)
    print(f"prefill vs decode: max |diff| = {err:.3g} over {len(whole)} rows")
    if len(whole) != len(stepped) or not err <= opts.tol:
        failures.append(f"prefill and decode logits differ by {err:.3g} at "
                        f"{where} (tolerance {opts.tol})")
    return golden.conclude(failures)


if __name__ == "__main__":
    sys.exit(main())
