#!/usr/bin/env python3
"""Checks a tfm program against a golden fixture of logits from another
implementation.

Runs PROGRAM (e.g. `tfmc run` or a compiled model) twice on the fixture's
prompt: greedy for as many tokens as the fixture generated, then in scoring
mode with the fixture's tokens forced. Compares every logits row (prefill and
decode) with the fixture within --tol (absolute) and the greedy ids exactly.

usage: check-golden.py FIXTURE_DIR [--config FILE] [--compiled] [--tol T]
                       -- PROGRAM...
PROGRAM gets: CONFIG --weights DIR --prompt-ids ... --json --logits-out F
(without CONFIG when --compiled: a compiled program knows its model).
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile


def read_npy(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        raise ValueError(f"{path}: not an .npy file")
    header_len = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + header_len].decode("latin1")
    if "'<f4'" not in header or "False" not in header:
        raise ValueError(f"{path}: expected a C-order float32 array")
    shape = header[header.index("(") + 1:header.index(")")]
    rows, cols = (int(x) for x in shape.split(",") if x.strip())
    body = data[10 + header_len:]
    values = struct.unpack(f"<{rows * cols}f", body)
    return [list(values[r * cols:(r + 1) * cols]) for r in range(rows)]


def max_abs_diff(rows_a, rows_b):
    worst = 0.0
    where = None
    for r, (a, b) in enumerate(zip(rows_a, rows_b)):
        if len(a) != len(b):
            raise ValueError(f"row {r}: {len(a)} logits vs {len(b)}")
        for c, (x, y) in enumerate(zip(a, b)):
            d = abs(x - y)
            if d > worst or d != d:
                worst, where = d, (r, c)
    return worst, where


def compare(name, got, ref, tol, reference, failures):
    """Checks one run (its JSON and logits rows) against a reference run:
    every logit within `tol`, the same greedy ids."""
    (got_json, got_rows), (ref_json, ref_rows) = got, ref
    err, where = max_abs_diff(got_rows, ref_rows)
    print(f"{name}: max |diff| = {err:.3g} over {len(ref_rows)} rows")
    if len(got_rows) != len(ref_rows) or not err <= tol:
        failures.append(f"{name}: logits differ by {err:.3g} at {where} "
                        f"(tolerance {tol})")
    if got_json["generated_ids"] != ref_json["generated_ids"]:
        failures.append(f"{name}: ids {got_json['generated_ids']} != "
                        f"{reference} {ref_json['generated_ids']}")


def conclude(failures):
    """Prints the verdict; returns the exit code."""
    if failures:
        print("FAIL\n  " + "\n  ".join(failures))
        return 1
    print("PASS")
    return 0


def run(program, args, tmp, logits=True):
    """The program's --json report and, with `logits`, every logits row
    (--logits-out); without, None."""
    out = os.path.join(tmp, "logits.npy")
    cmd = program + args + ["--json"]
    if logits:
        cmd += ["--logits-out", out]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"FAIL: {' '.join(cmd)} exited {proc.returncode}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return report, read_npy(out) if logits else None


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        raise SystemExit(__doc__)
    split = argv.index("--")
    parser = argparse.ArgumentParser()
    parser.add_argument("fixture")
    parser.add_argument("--config")
    parser.add_argument("--compiled", action="store_true")
    parser.add_argument("--tol", type=float, default=1e-4)
    opts = parser.parse_args(argv[:split])
    program = argv[split + 1:]

    with open(os.path.join(opts.fixture, "golden.json")) as f:
        golden = json.load(f)
    config = opts.config or os.path.join(opts.fixture, "config.json")
    prompt = golden["input_ids"]
    gen = golden["generated_ids"]
    base = ([] if opts.compiled else [config]) + [
        "--weights", opts.fixture, "--prompt-ids", ",".join(map(str, prompt))]
    failures = []

    def check(name, rows, want):
        if len(rows) != len(want):
            failures.append(f"{name}: {len(rows)} rows, expected {len(want)}")
            return
        err, where = max_abs_diff(rows, want)
        print(f"{name}: max |diff| = {err:.3g} over {len(rows)} rows")
        if not err <= opts.tol:
            failures.append(f"{name}: max |diff| {err:.3g} at row/col "
                            f"{where} exceeds {opts.tol}")

    with tempfile.TemporaryDirectory() as tmp:
        # Greedy generation.
        result, rows = run(program, base + ["-n", str(len(gen))], tmp)
        p = len(prompt)
        check("prefill logits", rows[:p], golden["prefill_logits"])
        check("greedy decode logits", [rows[p - 1]] + rows[p:],
              golden["decode_logits"][:len(rows) - p + 1])
        if result["generated_ids"] != gen:
            failures.append(f"greedy ids {result['generated_ids']} != "
                            f"golden {gen}")
        else:
            print(f"greedy ids: {len(gen)} match")

        # Scoring mode: the fixture's own tokens fed back (teacher forcing).
        forced = gen[:-1]
        result, rows = run(program, base + ["--force-ids",
                                            ",".join(map(str, forced))], tmp)
        check("forced decode logits", [rows[p - 1]] + rows[p:],
              golden["decode_logits"])
        if result["generated_ids"] != gen:
            failures.append(f"argmax under forcing {result['generated_ids']} "
                            f"!= golden {gen}")

    return conclude(failures)


if __name__ == "__main__":
    sys.exit(main())
