#!/usr/bin/env python3
"""Checks tfm's tokenizer against one vocabulary of llama.cpp's tokenizer
test suite (test/fixtures/vocab/README.md): `tfmc tokenize` must give
exactly the ids Hugging Face's tokenizer gave for every test text (no BOS,
special-token text as plain text, as the suite runs), and `tfmc
detokenize` exactly the text llama.cpp gives back for those ids.

With --source PATH the tokenizer is read from PATH (a tokenizer.json
that make-tokenizer-json.py wrote from the GGUF) instead of the GGUF.

usage: check-vocab.py GGUF --tfmc TFMC [--source PATH]
"""

import argparse
import subprocess
import sys

SEP = "\n__ggml_vocab_test__\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gguf")
    ap.add_argument("--tfmc", required=True)
    ap.add_argument("--source")
    args = ap.parse_args()
    source = args.source or args.gguf
    with open(args.gguf + ".inp", encoding="utf-8") as f:
        texts = f.read().split(SEP)[:-1]
    with open(args.gguf + ".out", encoding="utf-8") as f:
        expected = [line.split() for line in f.read().split("\n")[:len(texts)]]
    with open(args.gguf + ".detok", "rb") as f:
        detok = f.read()
    failures = []
    got = subprocess.run(
        [args.tfmc, "tokenize", source, "--lines", "\\n__ggml_vocab_test__\\n",
         "--no-bos", "--no-special"],
        input=SEP.join(texts).encode() + SEP.encode(), capture_output=True,
        check=True).stdout.decode().split("\n")[:-1]
    if len(got) != len(texts):
        failures.append(f"{len(got)} lines of ids for {len(texts)} texts")
    for i, (text, ids, want) in enumerate(zip(texts, got, expected)):
        if ids.split() != want:
            failures.append(f"text {i} {text!r}: ids {ids.split()} != {want}")
    back = subprocess.run(
        [args.tfmc, "detokenize", source, "--lines",
         "\\n__ggml_vocab_test__\\n"],
        input="\n".join(" ".join(ids) for ids in expected).encode() + b"\n",
        capture_output=True, check=True).stdout
    if back != detok:
        pieces = back.split(SEP.encode())
        wants = detok.split(SEP.encode())
        for i, (b, w) in enumerate(zip(pieces, wants)):
            if b != w:
                failures.append(f"detokenized text {i}: {b!r} != {w!r}")
                break
        else:
            failures.append("detokenized output differs in length")
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print(f"PASS: {len(texts)} texts tokenized and detokenized as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
