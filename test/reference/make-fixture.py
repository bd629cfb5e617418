#!/usr/bin/env python3
"""Writes a tiny fixture for a model family that has no fixture made by
Hugging Face transformers: config.json, model.safetensors (seeded random
weights) and golden.json in the hf-golden-logits/1 format, whose logits
come from the forward pass below, written in plain Python (double
precision) from each family's Hugging Face modeling code, not from tfm.

usage: make-fixture.py FAMILY OUTDIR
FAMILY: qwen3, qwen3_yarn, qwen3_swa, qwen2_moe_all, granite, cohere, persimmon, bloom_post_ln,
        gemma3_text, gemma3_text_6, falcon_alibi, cohere_qk, stablelm_qk,
        opt_projected, phi_qk, phi3_longrope_short, phi3_longrope_long,
        deepseek_v2, deepseek_v2_yarn, deepseek_v2_lite
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


def rope_frequencies(c, dims, theta=None, scaling=None, seq_len=0):
    """inv_freq and the attention factor of modeling_rope_utils: default,
    linear, YaRN, or LongRoPE (whose factor list depends on the length of
    the sequence the forward pass sees, `seq_len`)."""
    theta = theta or c["rope_theta"]
    inv = [1.0 / theta ** (2 * i / dims) for i in range(dims // 2)]
    scaling = c.get("rope_scaling") or {} if scaling is None else scaling
    if scaling.get("rope_type") == "linear":
        return [f / scaling["factor"] for f in inv], 1.0
    if scaling.get("type") == "longrope":
        # The original context (Phi-3 keeps it at the top level) and the
        # ratio of the model's context to it set the attention factor.
        original = c["original_max_position_embeddings"]
        factor = c["max_position_embeddings"] / original
        attention = scaling.get("attention_factor")
        if attention is None:
            attention = 1.0 if factor <= 1 else math.sqrt(
                1 + math.log(factor) / math.log(original))
        ext = scaling["long_factor"] if seq_len > original \
            else scaling["short_factor"]
        return [f / e for f, e in zip(inv, ext)], attention
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
# One decoder, with each family's choices as the Hugging Face modeling code
# makes them (the `arch` dict a family function returns).


def layer_norm(x, gain, bias, eps):
    mean = sum(x) / len(x)
    var = sum((v - mean) ** 2 for v in x) / len(x)
    inv = 1.0 / math.sqrt(var + eps)
    out = [(v - mean) * inv * g for v, g in zip(x, gain)]
    return [o + b for o, b in zip(out, bias)] if bias else out


def rope_interleaved(x, pos, inv, attention=1.0):
    """Cohere's rotation: pairs (2i, 2i+1) turn by the i-th frequency."""
    out = list(x)
    for i, freq in enumerate(inv):
        c = f32(math.cos(pos * freq) * attention)
        s = f32(math.sin(pos * freq) * attention)
        a, b = x[2 * i], x[2 * i + 1]
        out[2 * i] = a * c - b * s
        out[2 * i + 1] = b * c + a * s
    return out


def alibi_slopes(n):
    """transformers' build_alibi_tensor slopes."""
    closest = 2 ** math.floor(math.log2(n))
    base = 2 ** (-(2 ** -(math.log2(closest) - 3)))
    slopes = [base ** p for p in range(1, closest + 1)]
    if closest != n:
        extra = 2 ** (-(2 ** -(math.log2(2 * closest) - 3)))
        remaining = min(closest, n - closest)
        slopes += [extra ** p for p in range(1, 1 + 2 * remaining, 2)]
    return slopes


ACTIVATIONS = {
    "silu": silu,
    "gelu": lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2))),
    "gelu_tanh": lambda v: 0.5 * v * (1 + math.tanh(
        math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3))),
    "relu2": lambda v: max(v, 0.0) ** 2,
}


def linear(w, name, x, bias=False):
    y = matvec(w[name + ".weight"], x)
    return [a + b for a, b in zip(y, w[name + ".bias"])] if bias else y


def decoder(c, a, w, ids):
    """Logits at every position of `ids`, computed without a cache."""
    nh, nkv, d = a["heads"], a["kv_heads"], a["head_dim"]
    rd = a.get("rotary_dim", d)
    ropes = a.get("rope_of",
                  lambda l: rope_frequencies(c, rd, seq_len=len(ids)))
    window_of = a.get("window", lambda l: 0)
    slopes = alibi_slopes(nh) if a.get("alibi") else None
    norm = a["norm"]
    m = a.get("branch_scale", 1.0)
    hs = [[v * a.get("embed_scale", 1.0) for v in w[a["embed"]][t]]
          for t in ids]
    if a.get("proj_in"):
        hs = [linear(w, a["proj_in"], h) for h in hs]
    if a.get("positions"):
        table, offset = a["positions"]
        hs = [[v + p for v, p in zip(h, w[table][i + offset])]
              for i, h in enumerate(hs)]
    if a.get("embed_norm"):
        hs = [norm(w, a["embed_norm"], h) for h in hs]

    def rotate(x, pos, l):
        if not a.get("rope"):
            return x
        inv, attention = ropes(l)
        if a["rope"] == "interleaved":
            return rope_interleaved(x[:rd], pos, inv, attention) + x[rd:]
        return rope_half(x[:rd], pos, inv, attention) + x[rd:]

    def attend(l, xs):
        qs, ks, vs = [], [], []
        for pos, x in enumerate(xs):
            q, k, v = a["qkv"](w, l, x)
            if a.get("qk_norm_fn"):
                q = [a["qk_norm_fn"](w, l, "q", i, hd) for i, hd in enumerate(q)]
                k = [a["qk_norm_fn"](w, l, "k", i, hd) for i, hd in enumerate(k)]
            elif a.get("qk_norm"):
                q = [norm(w, a["qk_norm"](l, "q"), hd) for hd in q]
                k = [norm(w, a["qk_norm"](l, "k"), hd) for hd in k]
            qs.append([rotate(hd, pos, l) for hd in q])
            ks.append([rotate(hd, pos, l) for hd in k])
            vs.append(v)
        out = []
        window = window_of(l)
        for i in range(len(xs)):
            row = []
            # Keys i - window < j <= i with a sliding window.
            keys = range(max(0, i - window + 1) if window else 0, i + 1)
            for h in range(nh):
                g = h // (nh // nkv)
                scores = [sum(p * q for p, q in zip(qs[i][h], ks[j][g]))
                          * a["scale"] for j in keys]
                if slopes and a.get("alibi_before_scale"):
                    scores = [(sum(p * q for p, q in zip(qs[i][h], ks[j][g]))
                               + slopes[h] * (j - i)) * a["scale"]
                              for j in keys]
                elif slopes:
                    scores = [sc + slopes[h] * (j - i)
                              for j, sc in zip(keys, scores)]
                probs = softmax(scores)
                row += [sum(p * vs[j][g][e] for p, j in zip(probs, keys))
                        for e in range(d)]
            out.append(a["out"](w, l, row))
        return out

    for l in range(c_layers(c)):
        n1 = [] if a["block"] == "post" else \
            [norm(w, a["attn_norm"](l), h) for h in hs]
        if a["block"] == "parallel":
            att = attend(l, n1)
            hs = [[r + m * x + m * y for r, x, y in zip(h, p, q)]
                  for h, p, q in zip(hs, att, [a["mlp"](w, l, x) for x in n1])]
            continue
        if a["block"] == "post":
            hs = [norm(w, a["attn_norm"](l), [r + x for r, x in zip(h, y)])
                  for h, y in zip(hs, attend(l, hs))]
            hs = [norm(w, a["ffn_norm"](l),
                       [r + x for r, x in zip(h, a["mlp"](w, l, h))])
                  for h in hs]
            continue
        if a["block"] == "sandwich":
            hs = [[r + x for r, x in zip(h, norm(w, a["post_attn_norm"](l), y))]
                  for h, y in zip(hs, attend(l, n1))]
            n2 = [norm(w, a["ffn_norm"](l), h) for h in hs]
            hs = [[r + x for r, x in zip(h, norm(w, a["post_ffn_norm"](l),
                                                 a["mlp"](w, l, y)))]
                  for h, y in zip(hs, n2)]
            continue
        residual = n1 if a["block"] == "pre_normed" else hs
        hs = [[r + m * x for r, x in zip(h, y)]
              for h, y in zip(residual, attend(l, n1))]
        n2 = [norm(w, a["ffn_norm"](l), h) for h in hs]
        residual = n2 if a["block"] == "pre_normed" else hs
        hs = [[r + m * x for r, x in zip(h, a["mlp"](w, l, y))]
              for h, y in zip(residual, n2)]
    logits = []
    for h in hs:
        if a.get("final_norm"):
            h = norm(w, a["final_norm"], h)
        if a.get("proj_out"):
            h = linear(w, a["proj_out"], h)
        row = linear(w, a["head"], h, a.get("head_bias", False))
        logits.append([v * a.get("logit_scale", 1.0) for v in row])
    return logits


def c_layers(c):
    return c.get("num_hidden_layers") or c["n_layer"]


def rms(eps, offset=0.0):
    return lambda w, name, x: rms_norm(x, w[name + ".weight"], eps, offset)


def ln(eps, bias=True):
    return lambda w, name, x: layer_norm(
        x, w[name + ".weight"], w[name + ".bias"] if bias else None, eps)


def per_head_fused(x, nh, d):
    """Q/K/V fused per head: rows (head, part, feature)."""
    parts = [[], [], []]
    for h in range(nh):
        for part in range(3):
            parts[part].append(x[(h * 3 + part) * d:(h * 3 + part + 1) * d])
    return parts


def dense_mlp(p, act):
    """dense_h_to_4h, the activation, dense_4h_to_h, with biases (BLOOM,
    Falcon, Persimmon); `p(l)` is layer l's prefix."""
    def mlp(w, l, x):
        up = linear(w, p(l) + "mlp.dense_h_to_4h", x, True)
        return linear(w, p(l) + "mlp.dense_4h_to_h",
                      [ACTIVATIONS[act](v) for v in up], True)
    return mlp


def with_biases(shapes, prefix, parts):
    """Each (name, shape) of `parts` as a weight under `prefix` and a bias
    of its rows."""
    for name, shape in parts:
        shapes[prefix + name + ".weight"] = shape
        shapes[prefix + name + ".bias"] = [shape[0]]


def bloom_like(c, layers, ffn, act):
    """BLOOM's and Falcon's shared layout (transformer.h.N, Q/K/V fused per
    head under self_attention, ALiBi, a dense MLP, ln_f, the LM head tied
    to word_embeddings), and its shapes."""
    h, nh = c["hidden_size"], c.get("n_head") or c["num_attention_heads"]
    d = h // nh
    p = lambda l: f"transformer.h.{l}."
    a = {"heads": nh, "kv_heads": nh, "head_dim": d, "alibi": True,
         "norm": ln(c["layer_norm_epsilon"]), "scale": 1 / math.sqrt(d),
         "block": "pre", "embed": "transformer.word_embeddings.weight",
         "attn_norm": lambda l: p(l) + "input_layernorm",
         "ffn_norm": lambda l: p(l) + "post_attention_layernorm",
         "qkv": lambda w, l, x: per_head_fused(
             linear(w, p(l) + "self_attention.query_key_value", x, True),
             nh, d),
         "out": lambda w, l, x: linear(w, p(l) + "self_attention.dense", x,
                                       True),
         "mlp": dense_mlp(p, act), "final_norm": "transformer.ln_f",
         "head": "transformer.word_embeddings"}
    shapes = {"transformer.word_embeddings.weight": [c["vocab_size"], h]}
    with_biases(shapes, "transformer.", [("ln_f", [h])])
    for l in range(layers):
        with_biases(shapes, p(l), [
            ("self_attention.query_key_value", [3 * h, h]),
            ("self_attention.dense", [h, h]),
            ("mlp.dense_h_to_4h", [ffn, h]), ("mlp.dense_4h_to_h", [h, ffn]),
            ("input_layernorm", [h]), ("post_attention_layernorm", [h])])
    return a, shapes


def llama_arch(c, norm, bias=False, mlp_bias=False, act="silu"):
    """Separate q/k/v/o projections, a GLU MLP (gate, up, down)."""
    nh, nkv = c["num_attention_heads"], c.get("num_key_value_heads")
    nkv = nkv or nh
    d = c.get("head_dim") or c["hidden_size"] // nh
    p = lambda l: f"model.layers.{l}."

    def qkv(w, l, x):
        return (heads(linear(w, p(l) + "self_attn.q_proj", x, bias), nh, d),
                heads(linear(w, p(l) + "self_attn.k_proj", x, bias), nkv, d),
                heads(linear(w, p(l) + "self_attn.v_proj", x, bias), nkv, d))

    def mlp(w, l, x):
        gate = linear(w, p(l) + "mlp.gate_proj", x, mlp_bias)
        up = linear(w, p(l) + "mlp.up_proj", x, mlp_bias)
        return linear(w, p(l) + "mlp.down_proj",
                      [ACTIVATIONS[act](g) * u for g, u in zip(gate, up)],
                      mlp_bias)

    return {
        "heads": nh, "kv_heads": nkv, "head_dim": d, "rope": "half",
        "norm": norm, "scale": 1 / math.sqrt(d), "block": "pre",
        "embed": "model.embed_tokens.weight",
        "attn_norm": lambda l: p(l) + "input_layernorm",
        "ffn_norm": lambda l: p(l) + "post_attention_layernorm",
        "qkv": qkv,
        "out": lambda w, l, x: linear(w, p(l) + "self_attn.o_proj", x, bias),
        "mlp": mlp, "final_norm": "model.norm", "head": "lm_head",
    }


def llama_shapes(c, norm_bias=False, bias=False, qk_norm=False):
    h, nh = c["hidden_size"], c["num_attention_heads"]
    nkv = c.get("num_key_value_heads") or nh
    d = c.get("head_dim") or h // nh
    f = c["intermediate_size"]
    shapes = {"model.embed_tokens.weight": [c["vocab_size"], h],
              "model.norm.weight": [h]}
    if not c.get("tie_word_embeddings"):
        shapes["lm_head.weight"] = [c["vocab_size"], h]
    if norm_bias:
        shapes["model.norm.bias"] = [h]
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        for name, shape in [("self_attn.q_proj", [nh * d, h]),
                            ("self_attn.k_proj", [nkv * d, h]),
                            ("self_attn.v_proj", [nkv * d, h]),
                            ("self_attn.o_proj", [h, nh * d]),
                            ("mlp.gate_proj", [f, h]), ("mlp.up_proj", [f, h]),
                            ("mlp.down_proj", [h, f])]:
            shapes[p + name + ".weight"] = shape
            if bias and name.startswith("self_attn"):
                shapes[p + name + ".bias"] = [shape[0]]
        for name in ["input_layernorm", "post_attention_layernorm"]:
            shapes[p + name + ".weight"] = [h]
            if norm_bias:
                shapes[p + name + ".bias"] = [h]
        if qk_norm:
            shapes[p + "self_attn.q_norm.weight"] = [d]
            shapes[p + "self_attn.k_norm.weight"] = [d]
    return shapes


def base_config(model_type, **keys):
    c = {"model_type": model_type, "vocab_size": 48, "hidden_size": 32,
         "intermediate_size": 40, "num_hidden_layers": 2,
         "num_attention_heads": 4, "max_position_embeddings": 64,
         "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32"}
    c.update(keys)
    return c


# qwen3 (modeling_qwen3): RMSNorm over each head of Q and K before RoPE.
def qwen3_config():
    return base_config(
        "qwen3", architectures=["Qwen3ForCausalLM"], num_key_value_heads=2,
        head_dim=12, rms_norm_eps=1e-6, rope_theta=10000.0,
        hidden_act="silu", attention_bias=False, tie_word_embeddings=False,
        use_sliding_window=False)


def qwen3_yarn_config():
    """Qwen3 with YaRN over an original context of 16 positions."""
    c = qwen3_config()
    c["rope_scaling"] = {"rope_type": "yarn", "factor": 4.0,
                         "original_max_position_embeddings": 16}
    return c


def qwen3_swa_config():
    """Qwen3 with sliding-window layers: those from max_window_layers on
    attend over the last sliding_window positions."""
    c = qwen3_config()
    c.update(use_sliding_window=True, sliding_window=4, max_window_layers=1,
             num_hidden_layers=3)
    return c


def qwen3(c):
    a = llama_arch(c, rms(c["rms_norm_eps"]))
    a["qk_norm"] = lambda l, which: f"model.layers.{l}.self_attn.{which}_norm"
    if c.get("use_sliding_window"):
        a["window"] = lambda l: (c["sliding_window"]
                                 if l >= c["max_window_layers"] else 0)
    return a, llama_shapes(c, qk_norm=True)


# qwen2_moe (modeling_qwen2_moe): Q/K/V biases; every layer a mixture
# (softmax over the experts, the top-k weights as the softmax gave them)
# plus a shared expert scaled by sigmoid(shared_expert_gate · x), the shape
# llama.cpp's qwen2moe runs.
def qwen2_moe_config():
    return base_config(
        "qwen2_moe", architectures=["Qwen2MoeForCausalLM"],
        num_key_value_heads=2, rms_norm_eps=1e-6, rope_theta=10000.0,
        hidden_act="silu", tie_word_embeddings=False, num_experts=6,
        num_experts_per_tok=2, moe_intermediate_size=12,
        shared_expert_intermediate_size=20, norm_topk_prob=False,
        decoder_sparse_step=1, mlp_only_layers=[], use_sliding_window=False)


def qwen2_moe(c):
    a = llama_arch(c, rms(c["rms_norm_eps"]), bias=True)
    h, experts = c["hidden_size"], c["num_experts"]
    p = lambda l: f"model.layers.{l}.mlp."

    def glu(w, name, x):
        gate, up = linear(w, name + ".gate_proj", x), linear(
            w, name + ".up_proj", x)
        return linear(w, name + ".down_proj",
                      [silu(g) * u for g, u in zip(gate, up)])

    def mlp(w, l, x):
        probs = softmax(linear(w, p(l) + "gate", x))
        top = sorted(range(experts), key=lambda e: -probs[e])
        top = top[:c["num_experts_per_tok"]]
        weights = [probs[e] for e in top]
        if c["norm_topk_prob"]:
            weights = [v / sum(weights) for v in weights]
        g = 1 / (1 + math.exp(-linear(w, p(l) + "shared_expert_gate", x)[0]))
        out = [g * v for v in glu(w, p(l) + "shared_expert", x)]
        for e, weight in zip(top, weights):
            y = glu(w, p(l) + f"experts.{e}", x)
            out = [o + weight * v for o, v in zip(out, y)]
        return out

    a["mlp"] = mlp
    # Biases on Q, K and V only.
    a["out"] = lambda w, l, x: linear(w, f"model.layers.{l}.self_attn.o_proj",
                                      x)
    shapes = {k: v for k, v in llama_shapes(c, bias=True).items()
              if ".mlp." not in k and not k.endswith("o_proj.bias")}
    for l in range(c["num_hidden_layers"]):
        widths = {f"experts.{e}": c["moe_intermediate_size"]
                  for e in range(experts)}
        widths["shared_expert"] = c["shared_expert_intermediate_size"]
        for name, width in widths.items():
            shapes[p(l) + name + ".gate_proj.weight"] = [width, h]
            shapes[p(l) + name + ".up_proj.weight"] = [width, h]
            shapes[p(l) + name + ".down_proj.weight"] = [h, width]
        shapes[p(l) + "gate.weight"] = [experts, h]
        shapes[p(l) + "shared_expert_gate.weight"] = [1, h]
    return a, shapes


# granite (modeling_granite): llama with four multipliers.
def granite_config():
    return base_config(
        "granite", architectures=["GraniteForCausalLM"],
        num_key_value_heads=2, rms_norm_eps=1e-6, rope_theta=10000.0,
        hidden_act="silu", tie_word_embeddings=True,
        embedding_multiplier=3.5, attention_multiplier=0.2,
        residual_multiplier=0.4, logits_scaling=2.5)


def granite(c):
    a = llama_arch(c, rms(c["rms_norm_eps"]))
    a.update(embed_scale=c["embedding_multiplier"],
             scale=c["attention_multiplier"],
             branch_scale=c["residual_multiplier"],
             logit_scale=1 / c["logits_scaling"], head="model.embed_tokens")
    return a, llama_shapes(c)


# cohere (modeling_cohere): one bias-free LayerNorm feeds attention and MLP
# in parallel; RoPE over interleaved pairs; logits times logit_scale.
def cohere_config():
    return base_config(
        "cohere", architectures=["CohereForCausalLM"], num_key_value_heads=2,
        layer_norm_eps=1e-5, rope_theta=10000.0, hidden_act="silu",
        logit_scale=0.25, use_qk_norm=False, tie_word_embeddings=True)


def cohere(c):
    a = llama_arch(c, ln(c["layer_norm_eps"], bias=False))
    a.update(rope="interleaved", block="parallel",
             logit_scale=c["logit_scale"], head="model.embed_tokens")
    del a["ffn_norm"]
    shapes = llama_shapes(c)
    for l in range(c["num_hidden_layers"]):  # one norm per layer
        del shapes[f"model.layers.{l}.post_attention_layernorm.weight"]
    return a, shapes


# persimmon (modeling_persimmon): Q/K/V fused per head with biases, a
# LayerNorm per head of Q and K, half of each head rotated, ReLU² MLP.
def persimmon_config():
    return base_config(
        "persimmon", architectures=["PersimmonForCausalLM"],
        layer_norm_eps=1e-5, rope_theta=25000.0, hidden_act="relu2",
        qk_layernorm=True, partial_rotary_factor=0.5,
        tie_word_embeddings=False)


def persimmon(c):
    h, nh = c["hidden_size"], c["num_attention_heads"]
    d, f = h // nh, c["intermediate_size"]
    norm = ln(c["layer_norm_eps"])
    p = lambda l: f"model.layers.{l}."
    a = llama_arch(c, norm)
    a.update(
        rotary_dim=int(d * c["partial_rotary_factor"]),
        qkv=lambda w, l, x: per_head_fused(
            linear(w, p(l) + "self_attn.query_key_value", x, True), nh, d),
        qk_norm=lambda l, which: p(l) + f"self_attn.{which}_layernorm",
        out=lambda w, l, x: linear(w, p(l) + "self_attn.dense", x, True),
        mlp=dense_mlp(p, "relu2"), final_norm="model.final_layernorm")
    shapes = {"model.embed_tokens.weight": [c["vocab_size"], h],
              "lm_head.weight": [c["vocab_size"], h],
              "model.final_layernorm.weight": [h],
              "model.final_layernorm.bias": [h]}
    for l in range(c["num_hidden_layers"]):
        with_biases(shapes, p(l), [
            ("self_attn.query_key_value", [3 * h, h]),
            ("self_attn.dense", [h, h]),
            ("mlp.dense_h_to_4h", [f, h]), ("mlp.dense_4h_to_h", [h, f]),
            ("input_layernorm", [h]), ("post_attention_layernorm", [h]),
            ("self_attn.q_layernorm", [d]), ("self_attn.k_layernorm", [d])])
    return a, shapes


# phi3 (modeling_phi3) with LongRoPE: Q/K/V fused in qkv_proj and gate/up in
# gate_up_proj; inv_freq divided by short_factor, or by long_factor once the
# sequence is longer than original_max_position_embeddings, and cos/sin
# times √(1 + ln(max / original) / ln original). The short fixture's
# sequences stay within its original context of 32, the long one's exceed
# its original context of 4 from the prompt on.
def phi3_longrope_config(original):
    c = base_config(
        "phi3", architectures=["Phi3ForCausalLM"], num_key_value_heads=2,
        rms_norm_eps=1e-5, rope_theta=10000.0, hidden_act="silu",
        tie_word_embeddings=False, sliding_window=None,
        original_max_position_embeddings=original)
    c["rope_scaling"] = {"type": "longrope",
                         "short_factor": [1.0, 1.25, 2.5, 4.0],
                         "long_factor": [1.5, 3.0, 7.0, 12.0]}
    return c


def phi3_longrope(c):
    h, nh, nkv = c["hidden_size"], c["num_attention_heads"], \
        c["num_key_value_heads"]
    d, f = h // nh, c["intermediate_size"]
    p = lambda l: f"model.layers.{l}."
    a = llama_arch(c, rms(c["rms_norm_eps"]))

    def qkv(w, l, x):
        y = linear(w, p(l) + "self_attn.qkv_proj", x)
        q, k, v = y[:nh * d], y[nh * d:(nh + nkv) * d], y[(nh + nkv) * d:]
        return heads(q, nh, d), heads(k, nkv, d), heads(v, nkv, d)

    def mlp(w, l, x):
        y = linear(w, p(l) + "mlp.gate_up_proj", x)
        return linear(w, p(l) + "mlp.down_proj",
                      [silu(g) * u for g, u in zip(y[:f], y[f:])])

    a.update(qkv=qkv, mlp=mlp)
    shapes = {"model.embed_tokens.weight": [c["vocab_size"], h],
              "lm_head.weight": [c["vocab_size"], h],
              "model.norm.weight": [h]}
    for l in range(c["num_hidden_layers"]):
        for name, shape in [("self_attn.qkv_proj", [(nh + 2 * nkv) * d, h]),
                            ("self_attn.o_proj", [h, nh * d]),
                            ("mlp.gate_up_proj", [2 * f, h]),
                            ("mlp.down_proj", [h, f]),
                            ("input_layernorm", [h]),
                            ("post_attention_layernorm", [h])]:
            shapes[p(l) + name + ".weight"] = shape
    return a, shapes


# phi (modeling_phi) with qk_layernorm: one LayerNorm feeding attention and
# the MLP in parallel, half of each head rotated, a LayerNorm (gain and
# bias shared by the heads) over each head of Q and K, biases everywhere,
# the LM head's included.
def phi_qk_config():
    return base_config(
        "phi", architectures=["PhiForCausalLM"], num_key_value_heads=4,
        layer_norm_eps=1e-5, rope_theta=10000.0, partial_rotary_factor=0.5,
        hidden_act="gelu_new", qk_layernorm=True, tie_word_embeddings=False)


def phi_qk(c):
    h, nh = c["hidden_size"], c["num_attention_heads"]
    d, f = h // nh, c["intermediate_size"]
    p = lambda l: f"model.layers.{l}."
    a = llama_arch(c, ln(c["layer_norm_eps"]), bias=True)

    def mlp(w, l, x):
        up = linear(w, p(l) + "mlp.fc1", x, True)
        return linear(w, p(l) + "mlp.fc2",
                      [ACTIVATIONS["gelu_tanh"](v) for v in up], True)

    a.update(rotary_dim=int(d * c["partial_rotary_factor"]), block="parallel",
             qk_norm=lambda l, which: p(l) + f"self_attn.{which}_layernorm",
             out=lambda w, l, x: linear(w, p(l) + "self_attn.dense", x, True),
             mlp=mlp, final_norm="model.final_layernorm", head_bias=True)
    del a["ffn_norm"]
    shapes = {"model.embed_tokens.weight": [c["vocab_size"], h],
              "lm_head.weight": [c["vocab_size"], h],
              "lm_head.bias": [c["vocab_size"]],
              "model.final_layernorm.weight": [h],
              "model.final_layernorm.bias": [h]}
    for l in range(c["num_hidden_layers"]):
        with_biases(shapes, p(l), [
            ("self_attn.q_proj", [h, h]), ("self_attn.k_proj", [h, h]),
            ("self_attn.v_proj", [h, h]), ("self_attn.dense", [h, h]),
            ("mlp.fc1", [f, h]), ("mlp.fc2", [h, f]),
            ("input_layernorm", [h]),
            ("self_attn.q_layernorm", [d]), ("self_attn.k_layernorm", [d])])
    return a, shapes


# bloom (modeling_bloom) with apply_residual_connection_post_layernorm: each
# residual is taken after its LayerNorm.
def bloom_post_ln_config():
    return {"model_type": "bloom", "architectures": ["BloomForCausalLM"],
            "vocab_size": 48, "hidden_size": 32, "n_layer": 2, "n_head": 4,
            "layer_norm_epsilon": 1e-5,
            "apply_residual_connection_post_layernorm": True,
            "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32"}


def bloom_post_ln(c):
    a, shapes = bloom_like(c, c["n_layer"], 4 * c["hidden_size"], "gelu_tanh")
    a.update(block="pre_normed",
             embed_norm="transformer.word_embeddings_layernorm")
    with_biases(shapes, "transformer.",
                [("word_embeddings_layernorm", [c["hidden_size"]])])
    return a, shapes


# gemma3_text (modeling_gemma3): Gemma 2's sandwich norms, an RMSNorm (gain
# 1 + w) over each head of Q and K, local layers with a sliding window and
# their own unscaled RoPE base, every sliding_window_pattern-th layer global.
def gemma3_config():
    return base_config(
        "gemma3_text", architectures=["Gemma3ForCausalLM"],
        num_hidden_layers=3, num_key_value_heads=2, head_dim=12,
        hidden_activation="gelu_pytorch_tanh", rms_norm_eps=1e-6,
        rope_theta=1e6, rope_local_base_freq=1e4,
        rope_scaling={"rope_type": "linear", "factor": 2.0},
        query_pre_attn_scalar=10, sliding_window=5, sliding_window_pattern=2,
        final_logit_softcapping=None, attn_logit_softcapping=None,
        tie_word_embeddings=True)


def gemma3_6_config():
    """Gemma 3 as llama.cpp's gemma3 runs it: every sixth layer global, the
    query scaled by 1/√head_dim, local layers at base 10000."""
    c = gemma3_config()
    c.update(num_hidden_layers=6, sliding_window_pattern=6,
             query_pre_attn_scalar=12)
    return c


def gemma3(c):
    norm = rms(c["rms_norm_eps"], offset=1.0)
    a = llama_arch(c, norm, act="gelu_tanh")
    p = lambda l: f"model.layers.{l}."
    glob = lambda l: (l + 1) % c["sliding_window_pattern"] == 0
    d = c["head_dim"]
    local = rope_frequencies(c, d, c["rope_local_base_freq"], {})
    a.update(
        block="sandwich", embed_scale=f32(math.sqrt(c["hidden_size"])),
        scale=c["query_pre_attn_scalar"] ** -0.5, head="model.embed_tokens",
        qk_norm=lambda l, which: p(l) + f"self_attn.{which}_norm",
        rope_of=lambda l: rope_frequencies(c, d) if glob(l) else local,
        window=lambda l: 0 if glob(l) else c["sliding_window"],
        post_attn_norm=lambda l: p(l) + "post_attention_layernorm",
        ffn_norm=lambda l: p(l) + "pre_feedforward_layernorm",
        post_ffn_norm=lambda l: p(l) + "post_feedforward_layernorm")
    shapes = llama_shapes(c, qk_norm=True)
    for l in range(c["num_hidden_layers"]):
        for name in ["pre_feedforward_layernorm", "post_feedforward_layernorm"]:
            shapes[p(l) + name + ".weight"] = [c["hidden_size"]]
    return a, shapes


# falcon (modeling_falcon) with ALiBi: Q/K/V fused per head (the layout
# without multi_query), serial blocks, ALiBi added to q·k before the scores
# are scaled.
def falcon_alibi_config():
    return {"model_type": "falcon", "architectures": ["FalconForCausalLM"],
            "vocab_size": 48, "hidden_size": 32, "num_hidden_layers": 2,
            "num_attention_heads": 4, "ffn_hidden_size": 48,
            "layer_norm_epsilon": 1e-5, "alibi": True, "multi_query": False,
            "new_decoder_architecture": False, "parallel_attn": False,
            "bias": True, "activation": "gelu", "bos_token_id": 1,
            "eos_token_id": 2, "torch_dtype": "float32"}


def falcon_alibi(c):
    a, shapes = bloom_like(c, c["num_hidden_layers"], c["ffn_hidden_size"],
                           c["activation"])
    a["alibi_before_scale"] = True
    return a, shapes


# cohere with use_qk_norm: a bias-free LayerNorm over each head of Q and K
# with a [heads, head_dim] gain.
def cohere_qk_config():
    c = cohere_config()
    c["use_qk_norm"] = True
    return c


def cohere_qk(c):
    a, shapes = cohere(c)
    nh, nkv = c["num_attention_heads"], c["num_key_value_heads"]
    d = c["hidden_size"] // nh
    p = lambda l: f"model.layers.{l}."
    a["qk_norm_fn"] = lambda w, l, which, h, x: layer_norm(
        x, w[p(l) + f"self_attn.{which}_norm.weight"][h], None,
        c["layer_norm_eps"])
    for l in range(c["num_hidden_layers"]):
        shapes[p(l) + "self_attn.q_norm.weight"] = [nh, d]
        shapes[p(l) + "self_attn.k_norm.weight"] = [nkv, d]
    return a, shapes


# stablelm (modeling_stablelm) with qk_layernorm and a parallel residual:
# one bias-free LayerNorm per head of Q and K, a quarter of each head
# rotated, Q/K/V biases.
def stablelm_qk_config():
    return base_config(
        "stablelm", architectures=["StableLmForCausalLM"],
        num_key_value_heads=2, layer_norm_eps=1e-5, rope_theta=10000.0,
        hidden_act="silu", partial_rotary_factor=0.5, use_qkv_bias=True,
        qk_layernorm=True, use_parallel_residual=True,
        tie_word_embeddings=False)


def stablelm_qk(c):
    nh, nkv = c["num_attention_heads"], c["num_key_value_heads"]
    d = c["hidden_size"] // nh
    eps = c["layer_norm_eps"]
    a = llama_arch(c, ln(eps), bias=True)
    p = lambda l: f"model.layers.{l}."
    a.update(
        block="parallel", rotary_dim=int(d * c["partial_rotary_factor"]),
        out=lambda w, l, x: linear(w, p(l) + "self_attn.o_proj", x),
        qk_norm_fn=lambda w, l, which, h, x: layer_norm(
            x, w[p(l) + f"self_attn.{which}_layernorm.norms.{h}.weight"],
            None, eps))
    shapes = llama_shapes(c, norm_bias=True, bias=True)
    for l in range(c["num_hidden_layers"]):
        del shapes[p(l) + "self_attn.o_proj.bias"]
        del shapes[p(l) + "post_attention_layernorm.weight"]
        del shapes[p(l) + "post_attention_layernorm.bias"]
        for which, n in [("q", nh), ("k", nkv)]:
            for h in range(n):
                shapes[p(l) + f"self_attn.{which}_layernorm.norms.{h}.weight"] \
                    = [d]
    return a, shapes


# opt (modeling_opt) as OPT-350m is built: post-LN blocks (so no final
# norm), learned positions two rows into their table, embeddings narrower
# than the hidden size with project_in and project_out.
def opt_projected_config():
    return {"model_type": "opt", "architectures": ["OPTForCausalLM"],
            "vocab_size": 48, "hidden_size": 32, "word_embed_proj_dim": 16,
            "num_hidden_layers": 2, "num_attention_heads": 4, "ffn_dim": 48,
            "max_position_embeddings": 32, "do_layer_norm_before": False,
            "activation_function": "relu", "enable_bias": True,
            "bos_token_id": 2, "eos_token_id": 2, "pad_token_id": 1,
            "torch_dtype": "float32"}


def opt_projected(c):
    h, nh, f = c["hidden_size"], c["num_attention_heads"], c["ffn_dim"]
    e, d = c["word_embed_proj_dim"], h // nh
    p = lambda l: f"model.decoder.layers.{l}."

    def mlp(w, l, x):
        up = linear(w, p(l) + "fc1", x, True)
        return linear(w, p(l) + "fc2", [max(v, 0.0) for v in up], True)

    a = {"heads": nh, "kv_heads": nh, "head_dim": d, "norm": ln(1e-5),
         "scale": 1 / math.sqrt(d), "block": "post",
         "embed": "model.decoder.embed_tokens.weight",
         "proj_in": "model.decoder.project_in",
         "positions": ("model.decoder.embed_positions.weight", 2),
         "attn_norm": lambda l: p(l) + "self_attn_layer_norm",
         "ffn_norm": lambda l: p(l) + "final_layer_norm",
         "qkv": lambda w, l, x: tuple(
             heads(linear(w, p(l) + f"self_attn.{n}_proj", x, True), nh, d)
             for n in "qkv"),
         "out": lambda w, l, x: linear(w, p(l) + "self_attn.out_proj", x,
                                       True),
         "mlp": mlp, "final_norm": None,
         "proj_out": "model.decoder.project_out",
         "head": "model.decoder.embed_tokens"}
    shapes = {"model.decoder.embed_tokens.weight": [c["vocab_size"], e],
              "model.decoder.embed_positions.weight":
                  [c["max_position_embeddings"] + 2, h],
              "model.decoder.project_in.weight": [h, e],
              "model.decoder.project_out.weight": [e, h]}
    for l in range(c["num_hidden_layers"]):
        with_biases(shapes, p(l), [
            ("self_attn.q_proj", [h, h]), ("self_attn.k_proj", [h, h]),
            ("self_attn.v_proj", [h, h]), ("self_attn.out_proj", [h, h]),
            ("fc1", [f, h]), ("fc2", [h, f]),
            ("self_attn_layer_norm", [h]), ("final_layer_norm", [h])])
    return a, shapes


# deepseek_v2 (modeling_deepseek): multi-head latent attention in its
# naive form (keys and values up-projected per head from the normed latent;
# RoPE on the last qk_rope_head_dim features of Q and on the key part every
# head shares, over interleaved pairs; the softmax scale times YaRN's
# mscale_all_dim term squared) and DeepSeekMoE (softmax over the routed
# experts, top-k greedy or from the best expert groups, scaled by
# routed_scaling_factor or normalised, a shared MLP on every token, the
# first first_k_dense_replace layers dense).
def deepseek_v2_config():
    return base_config(
        "deepseek_v2", architectures=["DeepseekV2ForCausalLM"],
        num_key_value_heads=4, moe_intermediate_size=10,
        n_shared_experts=1, n_routed_experts=12, routed_scaling_factor=1.5,
        kv_lora_rank=16, q_lora_rank=None, qk_rope_head_dim=4,
        v_head_dim=6, qk_nope_head_dim=8, topk_method="group_limited_greedy",
        n_group=4, topk_group=2, num_experts_per_tok=3, moe_layer_freq=1,
        first_k_dense_replace=1, norm_topk_prob=False,
        scoring_func="softmax", aux_loss_alpha=0.001, seq_aux=True,
        hidden_act="silu", rms_norm_eps=1e-6, rope_theta=10000.0,
        attention_bias=False, tie_word_embeddings=False)


def deepseek_v2_yarn_config():
    """A query latent, normalised top-k weights, and YaRN with distinct
    mscale and mscale_all_dim over an original context of 16."""
    c = deepseek_v2_config()
    c.update(q_lora_rank=24, routed_scaling_factor=1.0, norm_topk_prob=True,
             num_hidden_layers=3, n_routed_experts=6, topk_method="greedy",
             n_group=1, topk_group=1, num_experts_per_tok=2)
    c["rope_scaling"] = {"type": "yarn", "factor": 4.0,
                         "original_max_position_embeddings": 16,
                         "beta_fast": 32, "beta_slow": 1, "mscale": 1.0,
                         "mscale_all_dim": 0.8}
    return c


def deepseek_v2_lite_config():
    """V2-Lite's choices (no query latent, greedy routing, two shared
    experts, mscale equal to mscale_all_dim), which llama.cpp's deepseek2
    runs as transformers does; the routed weights scaled by 2."""
    c = deepseek_v2_config()
    c.update(n_routed_experts=8, n_shared_experts=2, topk_method="greedy",
             n_group=1, topk_group=1, num_experts_per_tok=3,
             routed_scaling_factor=2.0)
    c["rope_scaling"] = {"type": "yarn", "factor": 4.0,
                         "original_max_position_embeddings": 16,
                         "beta_fast": 32, "beta_slow": 1, "mscale": 0.707,
                         "mscale_all_dim": 0.707}
    return c


def deepseek_v2(c):
    h, nh = c["hidden_size"], c["num_attention_heads"]
    nope, rd, vd = (c["qk_nope_head_dim"], c["qk_rope_head_dim"],
                    c["v_head_dim"])
    rank, qrank = c["kv_lora_rank"], c["q_lora_rank"]
    experts, shared = c["n_routed_experts"], c["n_shared_experts"]
    fe, f = c["moe_intermediate_size"], c["intermediate_size"]
    p = lambda l: f"model.layers.{l}."
    norm = rms(c["rms_norm_eps"])
    scaling = dict(c.get("rope_scaling") or {})
    scale = 1 / math.sqrt(nope + rd)
    if scaling:
        scaling["rope_type"] = scaling.pop("type")
        m = 0.1 * scaling["mscale_all_dim"] * math.log(scaling["factor"]) + 1
        scale *= m * m
    inv, attention = rope_frequencies(c, rd, scaling=scaling)

    def glu(w, name, x):
        gate = linear(w, name + ".gate_proj", x)
        up = linear(w, name + ".up_proj", x)
        return linear(w, name + ".down_proj",
                      [silu(g) * u for g, u in zip(gate, up)])

    def mlp(w, l, x):
        if l < c["first_k_dense_replace"]:
            return glu(w, p(l) + "mlp", x)
        probs = softmax(linear(w, p(l) + "mlp.gate", x))
        if c["topk_method"] == "group_limited_greedy":
            # Experts outside the topk_group groups with the best maxima
            # score 0.
            size = experts // c["n_group"]
            best = [max(probs[g * size:(g + 1) * size])
                    for g in range(c["n_group"])]
            keep = sorted(range(c["n_group"]), key=lambda g: -best[g])
            keep = keep[:c["topk_group"]]
            probs = [v if e // size in keep else 0.0
                     for e, v in enumerate(probs)]
        top = sorted(range(experts), key=lambda e: -probs[e])
        top = top[:c["num_experts_per_tok"]]
        weights = [probs[e] for e in top]
        if c["norm_topk_prob"]:
            weights = [v / sum(weights) for v in weights]
        else:
            weights = [v * c["routed_scaling_factor"] for v in weights]
        out = glu(w, p(l) + "mlp.shared_experts", x)
        for e, g in zip(top, weights):
            y = glu(w, p(l) + f"mlp.experts.{e}", x)
            out = [o + g * v for o, v in zip(out, y)]
        return out

    def forward(c, w, ids):
        hs = [list(w["model.embed_tokens.weight"][t]) for t in ids]
        for l in range(c["num_hidden_layers"]):
            qs, ks, vs = [], [], []
            for pos, h0 in enumerate(hs):
                x = norm(w, p(l) + "input_layernorm", h0)
                if qrank:
                    q = linear(w, p(l) + "self_attn.q_b_proj", norm(
                        w, p(l) + "self_attn.q_a_layernorm",
                        linear(w, p(l) + "self_attn.q_a_proj", x)))
                else:
                    q = linear(w, p(l) + "self_attn.q_proj", x)
                q = heads(q, nh, nope + rd)
                kv_a = linear(w, p(l) + "self_attn.kv_a_proj_with_mqa", x)
                latent = norm(w, p(l) + "self_attn.kv_a_layernorm",
                              kv_a[:rank])
                k_pe = rope_interleaved(kv_a[rank:], pos, inv, attention)
                kv = heads(linear(w, p(l) + "self_attn.kv_b_proj", latent),
                           nh, nope + vd)
                qs.append([hq[:nope] + rope_interleaved(hq[nope:], pos, inv,
                                                        attention)
                           for hq in q])
                ks.append([hk[:nope] + k_pe for hk in kv])
                vs.append([hk[nope:] for hk in kv])
            out = []
            for i in range(len(hs)):
                row = []
                for hd in range(nh):
                    scores = [sum(a * b for a, b in zip(qs[i][hd], ks[j][hd]))
                              * scale for j in range(i + 1)]
                    probs = softmax(scores)
                    row += [sum(pr * vs[j][hd][e]
                                for pr, j in zip(probs, range(i + 1)))
                            for e in range(vd)]
                out.append(linear(w, p(l) + "self_attn.o_proj", row))
            hs = [[a + b for a, b in zip(h0, o)] for h0, o in zip(hs, out)]
            hs = [[a + b for a, b in zip(h0, mlp(w, l, norm(
                w, p(l) + "post_attention_layernorm", h0)))] for h0 in hs]
        return [linear(w, "lm_head", norm(w, "model.norm", h0)) for h0 in hs]

    shapes = {"model.embed_tokens.weight": [c["vocab_size"], h],
              "model.norm.weight": [h], "lm_head.weight": [c["vocab_size"], h]}
    for l in range(c["num_hidden_layers"]):
        parts = {"input_layernorm": [h], "post_attention_layernorm": [h],
                 "self_attn.kv_a_proj_with_mqa": [rank + rd, h],
                 "self_attn.kv_a_layernorm": [rank],
                 "self_attn.kv_b_proj": [nh * (nope + vd), rank],
                 "self_attn.o_proj": [h, nh * vd]}
        if qrank:
            parts.update({"self_attn.q_a_proj": [qrank, h],
                          "self_attn.q_a_layernorm": [qrank],
                          "self_attn.q_b_proj": [nh * (nope + rd), qrank]})
        else:
            parts["self_attn.q_proj"] = [nh * (nope + rd), h]
        mlps = {"mlp": f} if l < c["first_k_dense_replace"] else dict(
            {f"mlp.experts.{e}": fe for e in range(experts)},
            **{"mlp.shared_experts": fe * shared})
        for name, width in mlps.items():
            parts.update({name + ".gate_proj": [width, h],
                          name + ".up_proj": [width, h],
                          name + ".down_proj": [h, width]})
        if l >= c["first_k_dense_replace"]:
            parts["mlp.gate"] = [experts, h]
        for name, shape in parts.items():
            shapes[p(l) + name + ".weight"] = shape
    return {"forward": forward}, shapes


FAMILIES = {
    "qwen3": (qwen3_config, qwen3),
    "qwen3_yarn": (qwen3_yarn_config, qwen3),
    "qwen3_swa": (qwen3_swa_config, qwen3),
    "qwen2_moe_all": (qwen2_moe_config, qwen2_moe),
    "granite": (granite_config, granite),
    "cohere": (cohere_config, cohere),
    "persimmon": (persimmon_config, persimmon),
    "bloom_post_ln": (bloom_post_ln_config, bloom_post_ln),
    "gemma3_text": (gemma3_config, gemma3),
    "gemma3_text_6": (gemma3_6_config, gemma3),
    "falcon_alibi": (falcon_alibi_config, falcon_alibi),
    "cohere_qk": (cohere_qk_config, cohere_qk),
    "stablelm_qk": (stablelm_qk_config, stablelm_qk),
    "opt_projected": (opt_projected_config, opt_projected),
    "phi_qk": (phi_qk_config, phi_qk),
    "phi3_longrope_short": (lambda: phi3_longrope_config(32), phi3_longrope),
    "phi3_longrope_long": (lambda: phi3_longrope_config(4), phi3_longrope),
    "deepseek_v2": (deepseek_v2_config, deepseek_v2),
    "deepseek_v2_yarn": (deepseek_v2_yarn_config, deepseek_v2),
    "deepseek_v2_lite": (deepseek_v2_lite_config, deepseek_v2),
}

# ---------------------------------------------------------------------------


def random_weights(shapes, seed):
    """Matrices N(0, 0.3²) in f32; gains 1 + N(0, 0.1²)."""
    rng = random.Random(seed)
    weights = {}
    for name, shape in sorted(shapes.items()):
        if len(shape) == 2 and name.endswith("norm.weight"):
            weights[name] = [[f32(1.0 + rng.gauss(0, 0.1))
                              for _ in range(shape[1])]
                             for _ in range(shape[0])]
        elif len(shape) == 1:
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
    make_config, make_arch = FAMILIES[family]
    config = make_config()
    arch, shapes = make_arch(config)
    forward = arch.get("forward") or (
        lambda c, w, ids: decoder(c, arch, w, ids))
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
