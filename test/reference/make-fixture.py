#!/usr/bin/env python3
"""Writes a tiny fixture for a model family that has no fixture made by
Hugging Face transformers: config.json, model.safetensors (seeded random
weights) and golden.json in the hf-golden-logits/1 format, whose logits
come from the forward pass below, written in plain Python (double
precision) from each family's Hugging Face modeling code, not from tfm.

usage: make-fixture.py FAMILY OUTDIR
FAMILY: qwen3, qwen3_yarn
"""

import json
import math
import os
import random
import struct
import sys

# ---------------------------------------------------------------------------
# Plain-Python linear algebra over lists (row-major matrices).


def matvec(w, x):
    """w: rows of len(x); returns w·x."""
    return [sum(a * b for a, b in zip(row, x)) for row in w]


def rms_norm(x, gain, eps, offset=0.0):
    inv = 1.0 / math.sqrt(sum(v * v for v in x) / len(x) + eps)
    return [v * inv * (g + offset) for v, g in zip(x, gain)]


def silu(v):
    return v / (1.0 + math.exp(-v))


def f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


def rope_frequencies(c, dims):
    """inv_freq and the attention factor of modeling_rope_utils: default,
    or YaRN."""
    theta = c["rope_theta"]
    inv = [1.0 / theta ** (2 * i / dims) for i in range(dims // 2)]
    scaling = c.get("rope_scaling") or {}
    if scaling.get("rope_type") != "yarn":
        return inv, 1.0
    factor = scaling["factor"]
    original = scaling.get("original_max_position_embeddings",
                           c["max_position_embeddings"])

    def get_mscale(scale, mscale=1.0):
        return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0

    attention = scaling.get("attention_factor")
    if attention is None:
        if scaling.get("mscale") and scaling.get("mscale_all_dim"):
            attention = get_mscale(factor, scaling["mscale"]) / get_mscale(
                factor, scaling["mscale_all_dim"])
        else:
            attention = get_mscale(factor)

    def correction_dim(rotations):
        return dims * math.log(original / (rotations * 2 * math.pi)) / (
            2 * math.log(theta))

    low = max(math.floor(correction_dim(scaling.get("beta_fast", 32))), 0)
    high = min(math.ceil(correction_dim(scaling.get("beta_slow", 1))),
               dims - 1)
    if low == high:
        high += 0.001
    out = []
    for i, extrapolated in enumerate(inv):
        ramp = min(max((i - low) / (high - low), 0.0), 1.0)
        keep = 1 - ramp
        out.append(extrapolated / factor * (1 - keep) + extrapolated * keep)
    return out, attention


def rope_half(x, pos, inv, attention=1.0):
    """Rotates the first 2·len(inv) features of one head, halves paired
    (transformers' rotate_half with cos/sin of cat(freqs, freqs), both
    times the attention factor, in f32)."""
    half = len(inv)
    out = list(x)
    for i in range(half):
        angle = pos * inv[i]
        c = f32(math.cos(angle) * attention)
        s = f32(math.sin(angle) * attention)
        a, b = x[i], x[i + half]
        out[i] = a * c - b * s
        out[i + half] = b * c + a * s
    return out


def softmax(xs):
    m = max(xs)
    e = [math.exp(v - m) for v in xs]
    total = sum(e)
    return [v / total for v in e]


def heads(x, n, d):
    return [x[h * d:(h + 1) * d] for h in range(n)]


# ---------------------------------------------------------------------------
# Families: a config, the weights it names, and its forward pass.


def qwen3_config():
    return {
        "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3",
        "vocab_size": 48, "hidden_size": 32, "intermediate_size": 40,
        "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "head_dim": 12,
        "max_position_embeddings": 64, "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0, "hidden_act": "silu",
        "attention_bias": False, "tie_word_embeddings": False,
        "use_sliding_window": False, "bos_token_id": 1, "eos_token_id": 2,
        "torch_dtype": "float32",
    }


def qwen3_shapes(c):
    h, d = c["hidden_size"], c["head_dim"]
    q, kv, f = c["num_attention_heads"] * d, c["num_key_value_heads"] * d, \
        c["intermediate_size"]
    shapes = {"model.embed_tokens.weight": [c["vocab_size"], h],
              "model.norm.weight": [h], "lm_head.weight": [c["vocab_size"], h]}
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        shapes.update({
            p + "input_layernorm.weight": [h],
            p + "post_attention_layernorm.weight": [h],
            p + "self_attn.q_proj.weight": [q, h],
            p + "self_attn.k_proj.weight": [kv, h],
            p + "self_attn.v_proj.weight": [kv, h],
            p + "self_attn.o_proj.weight": [h, q],
            p + "self_attn.q_norm.weight": [d],
            p + "self_attn.k_norm.weight": [d],
            p + "mlp.gate_proj.weight": [f, h],
            p + "mlp.up_proj.weight": [f, h],
            p + "mlp.down_proj.weight": [h, f]})
    return shapes


def qwen3_forward(c, w, ids):
    """Logits at every position of `ids` (modeling_qwen3: RMSNorm over each
    head of Q and K before RoPE, GQA, SwiGLU)."""
    eps, d = c["rms_norm_eps"], c["head_dim"]
    nh, nkv = c["num_attention_heads"], c["num_key_value_heads"]
    inv, attention = rope_frequencies(c, d)
    hs = [list(w["model.embed_tokens.weight"][t]) for t in ids]
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        qs, ks, vs = [], [], []
        for pos, h in enumerate(hs):
            x = rms_norm(h, w[p + "input_layernorm.weight"], eps)
            q = [rope_half(rms_norm(hd, w[p + "self_attn.q_norm.weight"], eps),
                           pos, inv, attention)
                 for hd in heads(matvec(w[p + "self_attn.q_proj.weight"], x),
                                 nh, d)]
            k = [rope_half(rms_norm(hd, w[p + "self_attn.k_norm.weight"], eps),
                           pos, inv, attention)
                 for hd in heads(matvec(w[p + "self_attn.k_proj.weight"], x),
                                 nkv, d)]
            v = heads(matvec(w[p + "self_attn.v_proj.weight"], x), nkv, d)
            qs.append(q), ks.append(k), vs.append(v)
        out = []
        for i, h in enumerate(hs):
            attn = []
            for hh in range(nh):
                g = hh // (nh // nkv)
                scores = [sum(a * b for a, b in zip(qs[i][hh], ks[j][g]))
                          / math.sqrt(d) for j in range(i + 1)]
                probs = softmax(scores)
                attn += [sum(probs[j] * vs[j][g][e] for j in range(i + 1))
                         for e in range(d)]
            h = [a + b for a, b in
                 zip(h, matvec(w[p + "self_attn.o_proj.weight"], attn))]
            x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
            gate = matvec(w[p + "mlp.gate_proj.weight"], x)
            up = matvec(w[p + "mlp.up_proj.weight"], x)
            mid = [silu(a) * b for a, b in zip(gate, up)]
            out.append([a + b for a, b in
                        zip(h, matvec(w[p + "mlp.down_proj.weight"], mid))])
        hs = out
    return [matvec(w["lm_head.weight"], rms_norm(h, w["model.norm.weight"],
                                                 eps)) for h in hs]


def qwen3_yarn_config():
    """Qwen3 with YaRN over an original context of 16 positions."""
    c = qwen3_config()
    c["rope_scaling"] = {"rope_type": "yarn", "factor": 4.0,
                         "original_max_position_embeddings": 16}
    return c


FAMILIES = {"qwen3": (qwen3_config, qwen3_shapes, qwen3_forward),
            "qwen3_yarn": (qwen3_yarn_config, qwen3_shapes, qwen3_forward)}

# ---------------------------------------------------------------------------


def random_weights(shapes, seed):
    """Matrices N(0, 0.3²) in f32; gains 1 + N(0, 0.1²)."""
    rng = random.Random(seed)
    weights = {}
    for name, shape in sorted(shapes.items()):
        if len(shape) == 1:
            weights[name] = [f32(1.0 + rng.gauss(0, 0.1))
                             for _ in range(shape[0])]
        else:
            weights[name] = [[f32(rng.gauss(0, 0.3)) for _ in range(shape[1])]
                             for _ in range(shape[0])]
    return weights


def write_safetensors(path, shapes, weights):
    header, blobs, offset = {}, [], 0
    for name in sorted(shapes):
        flat = weights[name]
        if len(shapes[name]) == 2:
            flat = [v for row in flat for v in row]
        blob = struct.pack(f"<{len(flat)}f", *flat)
        header[name] = {"dtype": "F32", "shape": shapes[name],
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in FAMILIES:
        sys.exit(__doc__)
    family, out = sys.argv[1], sys.argv[2]
    make_config, make_shapes, forward = FAMILIES[family]
    config = make_config()
    shapes = make_shapes(config)
    vocab = config["vocab_size"]
    # The first seed whose greedy choices are all clear (top-2 gap > 0.05),
    # so f32 rounding in an implementation cannot flip an id.
    for seed in range(100):
        weights = random_weights(shapes, seed)
        rng = random.Random(1000 + seed)
        prompt = [rng.randrange(3, vocab) for _ in range(7)]
        rows = forward(config, weights, prompt)
        ids, decode = list(prompt), []
        for _ in range(16):
            last = rows[-1]
            decode.append(last)
            ids.append(max(range(vocab), key=lambda t: last[t]))
            rows = forward(config, weights, ids)
        gaps = [sorted(r)[-1] - sorted(r)[-2] for r in decode]
        if min(gaps) > 0.05:
            break
    else:
        sys.exit("no seed below 100 gives clear greedy choices")
    prefill = forward(config, weights, prompt)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    write_safetensors(os.path.join(out, "model.safetensors"), shapes, weights)
    golden = {
        "format": "hf-golden-logits/1", "model_type": config["model_type"],
        "generator": "test/reference/make-fixture.py (plain Python, float64)",
        "seed": seed, "min_top2_gap": min(gaps),
        "input_ids": prompt, "generated_ids": ids[len(prompt):],
        "prefill_logits": prefill, "decode_logits": decode,
    }
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump(golden, f)


if __name__ == "__main__":
    main()
