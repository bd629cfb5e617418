"""Writes a tiny tfm spec and a Hugging Face config whose model names hold
what must never reach generated source as code: newlines, quotes, a raw
string's closing `)"`, a C++ constructor, non-ASCII text. Then, given a
compiled program's --help output, checks that the name comes back exactly.

  hostile-name.py write DIR          → DIR/spec.json, DIR/hf/config.json
  hostile-name.py check OUTPUT_FILE  (exit 1 unless the name is reported)
"""
import json
import os
import sys

NAME = ('x\n__attribute__((constructor)) static void f() '
        '{ __builtin_printf("INJECTED\\n"); }\n//)tfmplan" )" \\ %41 \u00e9\u4e2d\t!')

SPEC = {
    "name": NAME, "vocab_size": 64, "hidden_size": 32, "num_layers": 1,
    "max_seq_len": 16, "attention": {"num_heads": 2},
    "ffn": {"kind": "glu", "activation": "silu", "hidden_size": 64},
}

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
        return 0
    with open(sys.argv[2], "rb") as f:
        out = f.read()
    # The name holds the word once; the constructor would print it again.
    if out.count(b"INJECTED") != NAME.count("INJECTED"):
        print("the model name ran as code, or was not reported")
        return 1
    expected = ("model: " + NAME + " (vocabulary 64").encode()
    if expected not in out:
        print("the name did not come back exactly; output:")
        print(out.decode(errors="replace"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
