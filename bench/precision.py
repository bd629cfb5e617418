#!/usr/bin/env python3
"""Logit error and greedy-id agreement at bf16 precision, on every fixture.

For each Hugging Face fixture of the tests (test/fixtures/hf and
test/fixtures/reference: logits computed by other implementations in f32),
runs `tfmc run` (the compiled kernels, JIT; with the fixture's arguments
from test/CMakeLists.txt) at each --precision given:
- greedy, for as many tokens as the fixture generated: how many of the
  generated ids are the fixture's, and the first step that differs;
- forced with the fixture's tokens: the largest and the rms logit
  difference from the fixture over every row (prefill and decode), and
  the steps whose argmax is the fixture's.

The table shows each fixture and precision; at f32 the differences are
those of f32 arithmetic in another order (the tests hold them to 1e-4).

usage: bench/precision.py [--build build] [--precisions f32,bf16]
           [--fixtures a,b,...] [--out bench/precision.json]
"""

import argparse
import importlib.util
import json
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def load_golden_module():
    path = os.path.join(ROOT, "test", "golden", "check-golden.py")
    spec = importlib.util.spec_from_file_location("check_golden", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fixtures():
    """(name, directory) of each fixture with a config and a golden."""
    found = []
    for group in ("hf", "reference"):
        base = os.path.join(ROOT, "test", "fixtures", group)
        for name in sorted(os.listdir(base)):
            d = os.path.join(base, name)
            if (os.path.exists(os.path.join(d, "config.json"))
                    and os.path.exists(os.path.join(d, "golden.json"))):
                found.append((name, d))
    return found


def fixture_args():
    """Each fixture's extra arguments, as the tests give them
    (set(TFM_FIXTURE_ARGS_<name> ...) in test/CMakeLists.txt)."""
    args = {}
    with open(os.path.join(ROOT, "test", "CMakeLists.txt")) as f:
        for m in re.finditer(r"set\(TFM_FIXTURE_ARGS_(\w+)([^)]*)\)", f.read()):
            args[m.group(1)] = m.group(2).split()
    return args


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--precisions", default="f32,bf16")
    ap.add_argument("--fixtures", default="")
    ap.add_argument("--out", default=os.path.join(HERE, "precision.json"))
    opts = ap.parse_args()
    golden_mod = load_golden_module()
    tfmc = os.path.join(opts.build, "bin", "tfmc")
    wanted = set(f for f in opts.fixtures.split(",") if f)
    extra = fixture_args()
    results = []
    for name, d in fixtures():
        if wanted and name not in wanted:
            continue
        with open(os.path.join(d, "golden.json")) as f:
            golden = json.load(f)
        prompt, gen = golden["input_ids"], golden["generated_ids"]
        want = golden["prefill_logits"] + golden["decode_logits"][1:]
        for precision in opts.precisions.split(","):
            program = [tfmc, "run", os.path.join(d, "config.json"),
                       "--precision", precision] + extra.get(name, [])
            base = ["--weights", d, "--prompt-ids",
                    ",".join(map(str, prompt))]
            print(f"{name} at {precision}", file=sys.stderr)
            with tempfile.TemporaryDirectory() as tmp:
                greedy, _ = golden_mod.run(
                    program, base + ["-n", str(len(gen))], tmp, logits=False)
                forced, rows = golden_mod.run(
                    program,
                    base + ["--force-ids", ",".join(map(str, gen[:-1]))], tmp)
            ids = greedy["generated_ids"]
            first = next((k for k in range(len(gen))
                          if k >= len(ids) or ids[k] != gen[k]), None)
            err, _ = golden_mod.max_abs_diff(rows, want)
            rms = golden_mod.rms_diff(rows, want)
            argmax = sum(1 for a, b in zip(forced["generated_ids"], gen)
                         if a == b)
            results.append({"fixture": name, "precision": precision,
                            "max_abs": err, "rms": rms,
                            "greedy_match": len(gen) if first is None
                            else first,
                            "steps": len(gen), "forced_argmax": argmax,
                            "rows": len(want)})
    with open(opts.out, "w") as f:
        json.dump(results, f, indent=1)
    precisions = opts.precisions.split(",")
    head = "| fixture |"
    for p in precisions:
        head += (f" max abs ({p}) | rms ({p}) | greedy ids ({p}) "
                 f"| forced argmax ({p}) |")
    print(head)
    print("|---" * (head.count("|") - 1) + "|")
    names = []
    for r in results:
        if r["fixture"] not in names:
            names.append(r["fixture"])
    for n in names:
        line = f"| {n} |"
        for p in precisions:
            r = next(x for x in results
                     if x["fixture"] == n and x["precision"] == p)
            line += (f" {r['max_abs']:.3g} | {r['rms']:.3g} "
                     f"| {r['greedy_match']}/{r['steps']} "
                     f"| {r['forced_argmax']}/{r['steps']} |")
        print(line)


if __name__ == "__main__":
    main()
