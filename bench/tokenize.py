#!/usr/bin/env python3
"""Tokenizing speed: tfm's tokenizer next to llama.cpp's llama-tokenize on
the same vocabulary and text.

The text is about 1 MB of English: the project's own documentation
(README.md and docs/*.md) repeated. Each tool runs on it and on an empty
file (to take out start-up and vocabulary loading), in interleaved rounds;
the table gives the median over rounds of (time on the text - time on
nothing) as MB/s. Both must produce the same ids (no BOS, special tokens
parsed, llama-tokenize with --no-escape).

usage: LLAMA_TOKENIZE=/path/to/llama-tokenize bench/tokenize.py
           [--build build] [--vocab test/fixtures/vocab/ggml-vocab-NAME.gguf,...]
           [--rounds 5] [--out bench/tokenize.json]
"""

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def english(size):
    parts = [os.path.join(ROOT, "README.md")] + sorted(
        glob.glob(os.path.join(ROOT, "docs", "*.md")))
    text = "\n".join(open(p, encoding="utf-8").read() for p in parts)
    return (text * (size // len(text) + 1))[:size].encode("utf-8", "ignore")


def timed(cmd, stdin=None):
    start = time.perf_counter()
    run = subprocess.run(cmd, stdin=stdin, capture_output=True, check=True)
    return time.perf_counter() - start, run.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--vocab", default=",".join(
        os.path.join(ROOT, "test", "fixtures", "vocab", f"ggml-vocab-{v}.gguf")
        for v in ["llama-spm", "gpt-2"]))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench",
                                                  "tokenize.json"))
    a = ap.parse_args()
    llama = os.environ.get("LLAMA_TOKENIZE")
    tfmc = os.path.join(a.build, "bin", "tfmc")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        text_path, empty_path = os.path.join(tmp, "text.txt"), os.path.join(
            tmp, "empty.txt")
        text = english(1 << 20)
        open(text_path, "wb").write(text)
        open(empty_path, "wb").write(b"")
        mb = len(text) / 1e6
        for vocab in a.vocab.split(","):
            name = os.path.basename(vocab)
            tools = {"tfm": lambda path: timed(
                [tfmc, "tokenize", vocab, "--no-bos"], open(path, "rb"))}
            if llama:
                tools["llama.cpp"] = lambda path: timed(
                    [llama, "-m", vocab, "-f", path, "--ids", "--no-bos",
                     "--no-escape", "--log-disable"])
            times = {k: [] for k in tools}
            ids = {}
            for _ in range(a.rounds):
                for tool, run in tools.items():
                    full, out = run(text_path)
                    none, _ = run(empty_path)
                    times[tool].append(full - none)
                    ids[tool] = out
            counts = {}
            for tool, out in ids.items():
                s = out.decode().strip()
                counts[tool] = json.loads(s) if s.startswith("[") else [
                    int(x) for x in s.split()]
            same = len(set(map(tuple, counts.values()))) == 1
            for tool in tools:
                t = statistics.median(times[tool])
                results.append({"vocab": name, "tool": tool, "mb": mb,
                                "seconds": t, "mb_per_s": mb / t,
                                "tokens": len(counts[tool]),
                                "same_ids": same, "rounds": a.rounds})
    print("| vocabulary | tool | tokens | seconds | MB/s | same ids |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['vocab']} | {r['tool']} | {r['tokens']} | "
              f"{r['seconds']:.3f} | {r['mb_per_s']:.1f} | {r['same_ids']} |")
    with open(a.out, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
