#!/usr/bin/env python3
"""Decode speed against context, for each KV cache type, next to llama.cpp.

Compiles run.py's ~110M synthetic Llama (its GGUF files, one per matrix
type in --weights) once per KV cache type (--caches) for 2304 positions,
then, in interleaved rounds (every configuration once per round, so noise
on this shared machine hits all alike), measures decode tokens/s (16
steps) after a prompt of each length in --contexts, at each thread count:

  * tfm: PROGRAM --bench (median of --repeats runs after a warm-up);
  * llama.cpp (with LLAMA_BATCHED_BENCH set to its llama-batched-bench):
    its text-generation speed after a prompt of that length (-npp N -ntg
    16 -npl 1), with its default f16 cache. That tool times one run; the
    table takes the median over rounds as for tfm.

The table gives the median over rounds, and for each configuration the
cost of a token at the longest context relative to the shortest: the
time per token there over the time per token here (1.30 means decode at
2048 positions takes 30% longer per token than at 1).

usage: bench/context.py [--build build] [--rounds 3] [--threads 1,2]
           [--weights f32] [--caches f32,f16,bf16,q8_0]
           [--contexts 1,2048] [--repeats 3] [--out bench/context.json]
"""

import argparse
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(__file__))
from importlib import import_module

bench = import_module("run")

DECODE = 16
MODEL = "llama110m"
POSITIONS = 2304


def model_file(bindir, work, weights):
    """run.py's 110M model with its matrices stored as `weights`."""
    m = bench.MODELS[MODEL]
    gguf = os.path.join(work, f"{MODEL}-{weights}.gguf")
    if not os.path.exists(gguf):
        bench.run([os.path.join(bindir, "make-model"), "--dim",
                   str(m["dim"]), "--layers", str(m["layers"]), "--heads",
                   str(m["heads"]), "--kv-heads", str(m["heads"]),
                   "--hidden", str(m["hidden"]), "--vocab", str(m["vocab"]),
                   "--tied", "1", "--ctx", "1024", "--type", weights, "-o",
                   gguf])
    return gguf


def peer_decode(peer, gguf, context, threads):
    """llama-batched-bench's generation tokens/s after `context` tokens."""
    out = bench.run([peer, "-m", gguf, "-c", str(POSITIONS), "-b", "2048",
                     "-ub", "512", "-npp", str(context), "-ntg", str(DECODE),
                     "-npl", "1", "-t", str(threads)]).stdout
    # The table row: | PP | TG | B | N_KV | T_PP s | S_PP t/s | T_TG s |
    # S_TG t/s | T s | S t/s |
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 8 and cells[0] == str(context) and \
                re.fullmatch(r"[0-9.]+", cells[7]):
            return float(cells[7])
    raise SystemExit(f"no generation speed in llama-batched-bench's output:"
                     f"\n{out}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--weights", default="f32")
    ap.add_argument("--caches", default="f32,f16,bf16,q8_0")
    ap.add_argument("--contexts", default="1,2048")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__),
                                                  "context.json"))
    opts = ap.parse_args()
    threads = [int(t) for t in opts.threads.split(",")]
    contexts = [int(c) for c in opts.contexts.split(",")]
    weights = opts.weights.split(",")
    caches = opts.caches.split(",")
    if max(contexts) + DECODE + 1 > POSITIONS:
        raise SystemExit(f"contexts must be at most {POSITIONS - DECODE - 1}")
    peer = os.environ.get("LLAMA_BATCHED_BENCH")
    if peer and not os.access(peer, os.X_OK):
        raise SystemExit("LLAMA_BATCHED_BENCH is not an executable")

    bindir, work = bench.workspace(opts.build)
    programs = {}
    for w in weights:
        gguf = model_file(bindir, work, w)
        for c in caches:
            prog = os.path.join(work, f"{MODEL}-{w}-kv-{c}")
            bench.run([os.path.join(bindir, "tfmc"), "compile", gguf, "--ctx",
                       str(POSITIONS), "--kv-cache", c, "-o", prog])
            programs[(w, c)] = (prog, gguf)

    samples = []
    for r in range(opts.rounds):
        print(f"round {r + 1}/{opts.rounds}", file=sys.stderr)
        for w in weights:
            for n in threads:
                for ctx in contexts:
                    for c in caches:
                        prog, gguf = programs[(w, c)]
                        got = bench.json_lines(bench.run(
                            [prog, "--weights", gguf, "--prompt-ids",
                             bench.prompt_ids(ctx), "-n", str(DECODE + 1),
                             "--bench", "--json", "--threads", str(n),
                             "--repeats", str(opts.repeats)]).stdout)[0]
                        samples.append({"engine": "tfm", "weights": w,
                                        "cache": c, "threads": n,
                                        "context": ctx, "round": r,
                                        "decode": got["decode_tokens_per_s"]})
                    if peer:
                        samples.append({
                            "engine": "llama.cpp", "weights": w,
                            "cache": "f16", "threads": n, "context": ctx,
                            "round": r,
                            "decode": peer_decode(peer, programs[
                                (w, caches[0])][1], ctx, n)})
    with open(opts.out, "w") as f:
        json.dump({"model": MODEL, "rounds": opts.rounds, "decode": DECODE,
                   "samples": samples}, f, indent=1)

    engines = [("tfm", c) for c in caches]
    if peer:
        engines.append(("llama.cpp", "f16"))
    head = " | ".join(f"{ctx} tok/s" for ctx in contexts)
    print(f"| engine | matrices | KV cache | threads | {head} | cost at "
          f"{contexts[-1]} / at {contexts[0]} |")
    print("|---|---|---|---|" + "---|" * len(contexts) + "---|")
    for w in weights:
        for n in threads:
            for engine, c in engines:
                med = []
                for ctx in contexts:
                    rows = [s["decode"] for s in samples
                            if s["engine"] == engine and s["weights"] == w
                            and s["cache"] == c and s["threads"] == n
                            and s["context"] == ctx]
                    med.append(statistics.median(rows))
                cells = " | ".join(f"{v:.1f}" for v in med)
                print(f"| {engine} | {w} | {c} | {n} | {cells} | "
                      f"{med[0] / med[-1]:.2f} |")


if __name__ == "__main__":
    main()
