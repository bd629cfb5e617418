#!/usr/bin/env python3
"""Writes a Hugging Face tokenizer.json (and tokenizer_config.json) for a
vocabulary of the GGUF tokenizer fixtures, so that the tokenizer.json
reader can be held to the same expected ids as the GGUF one:

- byte-level vocabularies (`gpt2` model): the vocabulary, the merges, and
  the pre-tokenizer as a Sequence of Split (Regex, Isolated) steps with the
  regexes tfm uses for that `tokenizer.ggml.pre`, then ByteLevel;
- SentencePiece-style vocabularies (`llama` model): BPE with byte fallback
  whose merges come from the scores as Hugging Face's converter derives
  them (every split of a token into two tokens, ordered by the token's
  score, best first), and the Prepend/Replace normalizers.

usage: make-tokenizer-json.py VOCAB.gguf OUTDIR
"""

import json
import os
import struct
import sys

GPT2 = ("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|"
        "\\s+(?!\\S)")
PRE = {
    "gpt-2": [GPT2],
    "falcon": ["[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]"],
    "starcoder": ["\\p{N}", GPT2],
}


def read_metadata(path):
    """The key/value metadata of a GGUF file (v2/v3)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"GGUF":
        sys.exit(f"{path}: not a GGUF file")
    at = 4 + 4 + 8
    (count,) = struct.unpack_from("<Q", data, at)
    at += 8
    scalar = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f",
              7: "<?", 10: "<Q", 11: "<q", 12: "<d"}

    def value(kind):
        nonlocal at
        if kind == 8:
            (n,) = struct.unpack_from("<Q", data, at)
            at += 8
            s = data[at:at + n].decode("utf-8")
            at += n
            return s
        if kind == 9:
            (inner, n) = struct.unpack_from("<IQ", data, at)
            at += 12
            return [value(inner) for _ in range(n)]
        fmt = scalar[kind]
        (v,) = struct.unpack_from(fmt, data, at)
        at += struct.calcsize(fmt)
        return v

    meta = {}
    for _ in range(count):
        key = value(8)
        (kind,) = struct.unpack_from("<I", data, at)
        at += 4
        meta[key] = value(kind)
    return meta


def main():
    gguf, out = sys.argv[1], sys.argv[2]
    m = read_metadata(gguf)
    tokens = m["tokenizer.ggml.tokens"]
    types = m.get("tokenizer.ggml.token_type", [1] * len(tokens))
    vocab, added = {}, []
    for i, (t, kind) in enumerate(zip(tokens, types)):
        if kind in (3, 4):
            added.append({"id": i, "content": t, "single_word": False,
                          "lstrip": False, "rstrip": False,
                          "normalized": False, "special": kind == 3})
        else:
            vocab.setdefault(t, i)
    name = lambda key: (tokens[m[key]] if key in m else None)
    config = {"bos_token": name("tokenizer.ggml.bos_token_id"),
              "eos_token": name("tokenizer.ggml.eos_token_id")}
    model = {"type": "BPE", "dropout": None, "fuse_unk": False,
             "unk_token": name("tokenizer.ggml.unknown_token_id"),
             "vocab": vocab}
    tok = {"version": "1.0", "added_tokens": added, "normalizer": None,
           "pre_tokenizer": None, "post_processor": None, "decoder": None}
    if m["tokenizer.ggml.model"] == "gpt2":
        pre = m["tokenizer.ggml.pre"]
        steps = [{"type": "Split", "pattern": {"Regex": r},
                  "behavior": "Isolated", "invert": False} for r in PRE[pre]]
        steps.append({"type": "ByteLevel", "add_prefix_space": False,
                      "trim_offsets": True, "use_regex": False})
        tok["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": steps}
        tok["decoder"] = {"type": "ByteLevel"}
        model["merges"] = m["tokenizer.ggml.merges"]
        model["byte_fallback"] = False
        config["add_bos_token"] = False
        config["clean_up_tokenization_spaces"] = True
    else:
        scores = m["tokenizer.ggml.scores"]
        normal = {t: i for i, (t, k) in enumerate(zip(tokens, types))
                  if k == 1}
        merges = []
        for piece, i in normal.items():
            for cut in range(1, len(piece)):
                left, right = piece[:cut], piece[cut:]
                if left in normal and right in normal:
                    merges.append((-scores[i], i, normal[left], normal[right],
                                   left, right))
        merges.sort()
        model["merges"] = [[l, r] for *_, l, r in merges]
        model["byte_fallback"] = True
        tok["normalizer"] = {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "},
             "content": "\u2581"}]}
        config["add_bos_token"] = m.get("tokenizer.ggml.add_bos_token", True)
        config["clean_up_tokenization_spaces"] = False
    tok["model"] = model
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False)
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=1)


if __name__ == "__main__":
    main()
