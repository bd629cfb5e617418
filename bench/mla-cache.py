#!/usr/bin/env python3
"""KV cache bytes per position of latent attention next to the same model
shape with ordinary attention (MHA and GQA), as tfmc compiles them.

Reads examples/deepseek-v2-lite/config.json, writes tfm's spec for it,
then two variants of that spec without `attention.latent`: every head its
own keys and values (MHA, the shape DeepSeek-V2's attention computes), and
one KV head per four query heads (GQA). Each is compiled with tfmc for
each cache type, and the "KV cache" line tfmc prints is read back.

usage: bench/mla-cache.py [--build build] [--caches f32,bf16]
           [--out bench/mla-cache.json]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "examples", "deepseek-v2-lite", "config.json")


def cache_line(tfmc, spec, storage, out):
    """tfmc's KV cache line for `spec` compiled with that cache."""
    run = subprocess.run([tfmc, "compile", spec, "-o", out, "--kv-cache",
                          storage], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"tfmc failed on {spec}:\n{run.stderr}")
    m = re.search(r"KV cache: (\S+), ([\d.]+) KiB per position \((.*)\)",
                  run.stderr)
    if not m:
        sys.exit(f"no KV cache line in tfmc's output:\n{run.stderr}")
    return float(m.group(2)), m.group(3)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--caches", default="f32,bf16")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench",
                                                  "mla-cache.json"))
    args = ap.parse_args()
    tfmc = os.path.join(args.build, "bin", "tfmc")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        latent = os.path.join(tmp, "latent.json")
        subprocess.run([tfmc, CONFIG, "--emit=spec", "-o", latent],
                       check=True)
        with open(latent) as f:
            spec = json.load(f)
        heads = spec["attention"]["num_heads"]
        variants = [("MLA (latent)", latent)]
        for name, kv in [("MHA", heads), ("GQA", heads // 4)]:
            s = json.loads(json.dumps(spec))
            s["attention"]["latent"] = None
            s["attention"]["num_kv_heads"] = kv
            path = os.path.join(tmp, name + ".json")
            with open(path, "w") as f:
                json.dump(s, f)
            variants.append((f"{name} ({kv} KV heads)", path))
        for storage in args.caches.split(","):
            for name, path in variants:
                kib, what = cache_line(tfmc, path, storage,
                                       os.path.join(tmp, "program"))
                results.append({"attention": name, "cache": storage,
                                "kib_per_position": kib, "layout": what})
    mla = {r["cache"]: r["kib_per_position"] for r in results
           if r["attention"].startswith("MLA")}
    print("| attention | cache | KiB per position | vs MLA | layout |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['attention']} | {r['cache']} | {r['kib_per_position']:.1f}"
              f" | {r['kib_per_position'] / mla[r['cache']]:.2f}x"
              f" | {r['layout']} |")
    with open(args.out, "w") as f:
        json.dump({"config": "examples/deepseek-v2-lite/config.json",
                   "results": results}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
