#!/usr/bin/env python3
"""Checks text mode against the text llama.cpp generated greedily from a
prompt with a real trained model (test/fixtures/gguf/stories260K-text):
the prompt's ids, the generated ids and the generated text must be
llama.cpp's exactly, with --json and as streamed to stdout (the prompt,
then the text). Then a --stop string inside that text: the run must end
there, printing the text before it and nothing of the stop string.

usage: check-text.py GOLDEN_DIR -- PROGRAM [ARGS...]
(the program gets --weights, --prompt, -n and --ignore-eos)
"""

import json
import os
import subprocess
import sys


def main():
    sep = sys.argv.index("--")
    golden_dir, command = sys.argv[1], sys.argv[sep + 1:]
    with open(os.path.join(golden_dir, "golden.json")) as f:
        g = json.load(f)
    weights = os.path.normpath(os.path.join(golden_dir, g["model"]))
    base = command + ["--weights", weights, "--prompt", g["prompt"],
                      "-n", str(g["n_generated"]), "--ignore-eos"]
    failures = []
    r = json.loads(subprocess.run(base + ["--json"], capture_output=True,
                                  check=True).stdout)
    for key in ["prompt_ids", "generated_ids", "generated_text"]:
        if r[key] != g[key]:
            failures.append(f"{key}: {r[key]!r} != llama.cpp's {g[key]!r}")
    out = subprocess.run(base, capture_output=True, check=True).stdout
    want = (g["prompt"] + g["generated_text"] + "\n").encode()
    if out != want:
        failures.append(f"stdout {out!r} != {want!r}")
    # A stop string in the middle of the text.
    text = g["generated_text"]
    stop = "red ball"
    cut = text.index(stop)
    r = json.loads(subprocess.run(base + ["--json", "--stop", stop],
                                  capture_output=True, check=True).stdout)
    if r["generated_text"] != text[:cut] or r["stop_reason"] != "stop":
        failures.append(f"--stop: {r['generated_text']!r} "
                        f"({r['stop_reason']}) != {text[:cut]!r} (stop)")
    out = subprocess.run(base + ["--stop", stop], capture_output=True,
                         check=True).stdout
    if out != (g["prompt"] + text[:cut] + "\n").encode():
        failures.append(f"--stop stdout: {out!r}")
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print(f"PASS: {len(g['generated_ids'])} tokens of llama.cpp's text, "
          f"streamed and as JSON; --stop ends before '{stop}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
