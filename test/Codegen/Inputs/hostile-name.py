"""Writes a tiny tfm spec, a Hugging Face config and a GGUF file whose
model names hold what must never reach generated source as code: newlines,
quotes, a raw string's closing `)"`, a C++ constructor, non-ASCII text, and
(in the GGUF, the one format whose strings are bytes) sequences that are
not UTF-8. Then, given a compiled program's --help output, checks that the
name comes back exactly.

  hostile-name.py write DIR                 → DIR/spec.json,
                                              DIR/hf/config.json, DIR/name.gguf,
                                              DIR/other.gguf (2 blocks)
  hostile-name.py check OUTPUT_FILE [gguf]  (exit 1 unless the name is
                                              reported)
"""
import json
import os
import struct
import sys

NAME = ('x\n__attribute__((constructor)) static void f() '
        '{ __builtin_printf("INJECTED\\n"); }\n//)tfmplan" )" \\ %41 \u00e9\u4e2d\t!')

SPEC = {
    "name": NAME, "vocab_size": 64, "hidden_size": 32, "num_layers": 1,
    "max_seq_len": 16, "attention": {"num_heads": 2},
    "ffn": {"kind": "glu", "activation": "silu", "hidden_size": 64},
}

# Not UTF-8: a lone continuation byte, an overlong encoding, 0xff.
GGUF_NAME = NAME.encode() + b" \x80\xc0\xaf\xff end"


def gguf(name, blocks=1):
    """A GGUF (version 3) with a llama's metadata and no tensors."""
    def string(b):
        return struct.pack("<Q", len(b)) + b

    def kv(key, kind, payload):
        return string(key.encode()) + struct.pack("<I", kind) + payload

    u32 = lambda v: struct.pack("<I", v)
    meta = [
        kv("general.architecture", 8, string(b"llama")),
        kv("general.name", 8, string(name)),
        kv("llama.context_length", 4, u32(16)),
        kv("llama.embedding_length", 4, u32(32)),
        kv("llama.block_count", 4, u32(blocks)),
        kv("llama.feed_forward_length", 4, u32(64)),
        kv("llama.attention.head_count", 4, u32(2)),
        kv("llama.attention.head_count_kv", 4, u32(1)),
        kv("llama.attention.layer_norm_rms_epsilon", 6,
           struct.pack("<f", 1e-5)),
        kv("llama.vocab_size", 4, u32(64)),
    ]
    return (b"GGUF" + struct.pack("<IQQ", 3, 0, len(meta)) + b"".join(meta))


HF = {
    "model_type": "llama", "_name_or_path": NAME, "vocab_size": 64,
    "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
    "num_attention_heads": 2, "num_key_value_heads": 1,
    "max_position_embeddings": 16, "rms_norm_eps": 1e-5,
}


def main():
    if sys.argv[1] == "write":
        os.makedirs(os.path.join(sys.argv[2], "hf"), exist_ok=True)
        with open(os.path.join(sys.argv[2], "spec.json"), "w") as f:
            json.dump(SPEC, f)
        with open(os.path.join(sys.argv[2], "hf", "config.json"), "w") as f:
            json.dump(HF, f)
        with open(os.path.join(sys.argv[2], "name.gguf"), "wb") as f:
            f.write(gguf(GGUF_NAME))
        # Another model's file: two blocks where the program has one.
        with open(os.path.join(sys.argv[2], "other.gguf"), "wb") as f:
            f.write(gguf(GGUF_NAME, blocks=2))
        return 0
    with open(sys.argv[2], "rb") as f:
        out = f.read()
    # The name holds the word once; the constructor would print it again.
    if out.count(b"INJECTED") != 1:
        print("the model name ran as code, or was not reported")
        return 1
    name = GGUF_NAME if sys.argv[3:] == ["gguf"] else NAME.encode()
    expected = b"model: " + name + b" (vocabulary 64"
    if expected not in out:
        print("the name did not come back exactly; output:")
        print(out.decode(errors="replace"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
