#!/usr/bin/env python3
"""Checks a tfm program against a golden fixture of logits from another
implementation.

Runs PROGRAM (e.g. `tfmc run` or a compiled model) twice on the fixture's
prompt: greedy for as many tokens as the fixture generated, then in scoring
mode with the fixture's tokens forced. Compares every logits row (prefill and
decode) with the fixture within --tol (absolute) and the greedy ids exactly.

With --exact MANIFEST (the GGUF fixtures of quantized weights), only the
forced run is checked, and against what an exact computation gives: the
manifest states how far llama.cpp's logits are from an exact forward pass
over the dequantized weights (llama.cpp quantizes its activations; tfm
does not). The program's distance from the golden must be that same
distance, within --exact-tol; the rms of the differences at most --rms-tol;
and the argmax the golden's at every step except those where the manifest
says the exact computation picks another token.

With --emulated (the GGUF fixtures whose products tfm computes over
activations rounded per block as llama.cpp rounds them), the fixture's
tokens are run twice, and compared with llama.cpp's logits row by row:
forced one token at a time after the prompt (the decode path), and as one
prompt (the prefill path). An activation that lies within float32
rounding of a tie may round to another integer than llama.cpp's; every
row after it then differs (the fixtures' README measures such rows up to
about 0.4 away). The two paths sum in other orders, so they rarely both
meet such a tie before the same row. Most rows (--close-rows, a fraction)
must be within --emulated-tol of the golden, the float32 level, in one of
the two paths (an exact computation is 0.15 or more away on every row);
every row within --tol in both; the decode path's rms at most --rms-tol;
and its argmax the golden's at every step whose top-2 gap is larger than
twice that row's distance.

With --prefill-rows N, only the first N rows of the prefill logits are
checked (weights that keep no sliding window of N: rows before it never
reach it).

usage: check-golden.py FIXTURE_DIR [--config FILE] [--weights W]
                       [--compiled] [--tol T] [--prefill-rows N]
                       [--exact MANIFEST [--exact-tol E] [--rms-tol R]]
                       [--emulated [--emulated-tol E] [--close-rows F]
                                   [--rms-tol R]]
                       -- PROGRAM...
PROGRAM gets: CONFIG --weights W (default FIXTURE_DIR) --prompt-ids ... --json --logits-out F
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
    parser.add_argument("--weights")
    parser.add_argument("--prefill-rows", type=int)
    parser.add_argument("--compiled", action="store_true")
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--exact")
    parser.add_argument("--exact-tol", type=float, default=1e-3)
    parser.add_argument("--rms-tol", type=float, default=0.15)
    parser.add_argument("--emulated", action="store_true")
    parser.add_argument("--emulated-tol", type=float, default=1e-4)
    parser.add_argument("--close-rows", type=float, default=0.75)
    opts = parser.parse_args(argv[:split])
    program = argv[split + 1:]
    if opts.exact:
        return check_exact(opts, program)
    if opts.emulated:
        return check_emulated(opts, program)

    with open(os.path.join(opts.fixture, "golden.json")) as f:
        golden = json.load(f)
    config = opts.config or os.path.join(opts.fixture, "config.json")
    prompt = golden["input_ids"]
    gen = golden["generated_ids"]
    base = ([] if opts.compiled else [config]) + [
        "--weights", opts.weights or opts.fixture,
        "--prompt-ids", ",".join(map(str, prompt))]
    failures = []
    if opts.prefill_rows:
        return check_prefill_rows(opts, program, base, golden)

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


def check_prefill_rows(opts, program, base, golden):
    """Only the first N prefill rows: the weights describe the fixture's
    model except for a sliding window of N, which rows before it never
    reach (llama.cpp's GGUF files of some architectures keep no window)."""
    n = opts.prefill_rows
    with tempfile.TemporaryDirectory() as tmp:
        _, rows = run(program, base + ["-n", "1"], tmp)
    failures = []
    err, where = max_abs_diff(rows[:n], golden["prefill_logits"][:n])
    print(f"prefill logits, first {n} rows: max |diff| = {err:.3g}")
    if not err <= opts.tol:
        failures.append(f"prefill logits: max |diff| {err:.3g} at row/col "
                        f"{where} exceeds {opts.tol}")
    return conclude(failures)


def forced_rows(opts, program):
    """The golden and the program's logits rows under teacher forcing:
    (golden, result, got rows, wanted rows)."""
    with open(os.path.join(opts.fixture, "golden.json")) as f:
        golden = json.load(f)
    config = opts.config or os.path.join(opts.fixture, "config.json")
    prompt, gen = golden["input_ids"], golden["generated_ids"]
    base = ([] if opts.compiled else [config]) + [
        "--weights", opts.weights or opts.fixture,
        "--prompt-ids", ",".join(map(str, prompt))]
    with tempfile.TemporaryDirectory() as tmp:
        result, rows = run(program, base + [
            "--force-ids", ",".join(map(str, gen[:-1]))], tmp)
    want = golden["prefill_logits"] + golden["decode_logits"][1:]
    return golden, result, rows, want


def rms_diff(got, want):
    count = sum(len(r) for r in want)
    return (sum((x - y) ** 2 for a, b in zip(got, want)
                for x, y in zip(a, b)) / count) ** 0.5


def check_exact(opts, program):
    """The forced run of a quantized fixture against the golden and the
    manifest's measurement of the exact computation (see the docstring)."""
    name = os.path.basename(os.path.normpath(opts.fixture))
    with open(opts.exact) as f:
        manifest = json.load(f)
    entry = next((e for e in manifest["fixtures"] if e["name"] == name), None)
    if entry is None:
        raise SystemExit(f"FAIL: {name} is not in {opts.exact}")
    exact = entry["vs_exact"]
    golden, result, got, want = forced_rows(opts, program)
    gen = golden["generated_ids"]
    failures = []
    if len(got) != len(want):
        return conclude([f"{len(got)} logits rows, expected {len(want)}"])
    err, where = max_abs_diff(got, want)
    rms = rms_diff(got, want)
    print(f"forced logits: max |diff| = {err:.4g} (exact: "
          f"{exact['max_abs']:.4g}), rms {rms:.4g} (exact: "
          f"{exact['rms']:.4g}) over {len(want)} rows")
    if not err <= opts.tol:
        failures.append(f"max |diff| {err:.4g} at row/col {where} exceeds "
                        f"{opts.tol}")
    if not abs(err - exact["max_abs"]) <= opts.exact_tol:
        failures.append(f"max |diff| {err:.6g} is not the exact "
                        f"computation's {exact['max_abs']:.6g} (within "
                        f"{opts.exact_tol})")
    if not rms <= opts.rms_tol:
        failures.append(f"rms {rms:.4g} exceeds {opts.rms_tol}")
    skip = set(exact["exact_argmax_disagrees_at_steps"])
    ids = result["generated_ids"]
    wrong = [k for k in range(len(gen))
             if k not in skip and (k >= len(ids) or ids[k] != gen[k])]
    if wrong:
        failures.append(f"argmax under forcing differs from the golden at "
                        f"steps {wrong} (the exact computation differs only "
                        f"at {sorted(skip)})")
    else:
        print(f"argmax: {len(gen) - len(skip)} of {len(gen)} steps match "
              f"(the exact computation differs at {sorted(skip)})")
    return conclude(failures)


def top2_gap(row):
    first, second = sorted(row, reverse=True)[:2]
    return first - second


def check_emulated(opts, program):
    """Both paths of a quantized fixture against llama.cpp's logits, with
    activations rounded as llama.cpp rounds them (see the docstring)."""
    golden, result, got, want = forced_rows(opts, program)
    gen = golden["generated_ids"]
    if len(got) != len(want):
        return conclude([f"{len(got)} logits rows, expected {len(want)}"])
    # The prefill path: the prompt and the forced tokens as one prompt.
    config = opts.config or os.path.join(opts.fixture, "config.json")
    ids = golden["input_ids"] + gen[:-1]
    with tempfile.TemporaryDirectory() as tmp:
        _, batch = run(program, ([] if opts.compiled else [config]) + [
            "--weights", opts.weights or opts.fixture, "--prompt-ids",
            ",".join(map(str, ids)), "-n", "1"], tmp)
    if len(batch) != len(want):
        return conclude([f"{len(batch)} prefill rows, expected {len(want)}"])
    failures = []
    decode = [max_abs_diff([a], [b])[0] for a, b in zip(got, want)]
    prefill = [max_abs_diff([a], [b])[0] for a, b in zip(batch, want)]
    best = [min(a, b) for a, b in zip(decode, prefill)]
    far = [r for r, d in enumerate(best) if not d <= opts.emulated_tol]
    close = len(best) - len(far)
    rms = rms_diff(got, want)
    def tie_rows(dist):
        rows = [f"{r} ({d:.3g})" for r, d in enumerate(dist)
                if not d <= opts.emulated_tol]
        return ", ".join(rows) or "none"
    print(f"{close} of {len(best)} rows within {opts.emulated_tol:g} in a "
          f"path; past a rounding tie: decode path rows {tie_rows(decode)}; "
          f"prefill path rows {tie_rows(prefill)}; decode path rms {rms:.4g}")
    if close < opts.close_rows * len(best):
        failures.append(f"only {close} of {len(best)} rows are within "
                        f"{opts.emulated_tol:g} (at least "
                        f"{opts.close_rows:.0%} must be)")
    worst = max(decode + prefill)
    if not worst <= opts.tol:
        failures.append(f"a row is {worst:.4g} away, more than {opts.tol}")
    if not rms <= opts.rms_tol:
        failures.append(f"rms {rms:.4g} exceeds {opts.rms_tol}")
    p = len(golden["input_ids"])
    ids = result["generated_ids"]
    checked, wrong = 0, []
    for k in range(len(gen)):
        row = p - 1 + k
        if top2_gap(want[row]) <= 2 * decode[row]:
            continue  # too close to call at this row's distance
        checked += 1
        if k >= len(ids) or ids[k] != gen[k]:
            wrong.append(k)
    if wrong:
        failures.append(f"argmax under forcing differs from the golden at "
                        f"steps {wrong}")
    else:
        print(f"argmax: the golden's at all {checked} of {len(gen)} steps "
              f"whose top-2 gap exceeds twice the row's distance")
    return conclude(failures)


if __name__ == "__main__":
    sys.exit(main())
