#!/usr/bin/env python3
"""Checks a compiled program against the reference interpreter on the same
config and weights: every logits row within --tol (absolute) and identical
greedy ids, for a prompt run as one prefill and then decode steps, and
again with the prompt fed one token at a time (the decode path alone).

The interpreter runs the graph level (no fusions). With --unfused, a
program compiled without fusions must also generate the same ids. Without
--logits-out a program computes only the last prompt row's logits; it must
generate the same ids as with them.

With --stored-cache (a KV cache stored as f16, bf16 or q8_0) the logits
are held to another rule. The cache rounds each key and value to a step of
its storage, in the program as in the interpreter, but the values rounded
differ at the f32 level (the kernels sum in another order than the
interpreter), and wherever such a difference straddles a rounding boundary
the two caches hold values a whole step apart. That is common in f16 (a
dot product of a few hundred terms with cancellation is good to about 1e-5
relative, a step is 1e-3), so the logits cannot be held to 1e-4. Each row
must instead be nearer the interpreter's with the same cache than the
interpreter's with an f32 cache: the program rounds as its cache says, and
no other error is as large as that rounding. The ids must be the same but
at a near tie, one that the row's distance to the interpreter explains
(see nearer_rounded).

With --rounded-products (products at bf16 precision, which round every
activation they read to bf16, a step of 2^-8 relative) the same rule holds
against the interpreter at f32 precision, for the same reason: an
activation that the kernels' f32 sums and the interpreter's f64 ones put
on two sides of a rounding boundary ends a whole step apart.

With --layers L (for models too big to run whole here), CONFIG's layer
count is cut to L and the cut model is compiled into a fresh program. Its
kernels must be exactly the full model's (the same compiled functions in
both host plans, each named by a hash of the kernel's IR and target), so
the check runs every kernel at the model's real shapes; only the depth
differs.

usage: check-compiled.py CONFIG --program PROG --tfmc TFMC --ids 1,2,3 [-n N]
                         [--weights PATH] [--tol T] [--prefill-only]
                         [--unfused PROG] [--layers L] [--stored-cache]
                         [--rounded-products]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from importlib import import_module

golden = import_module("check-golden")


# Where each config format keeps its layer count.
LAYER_KEYS = ("num_hidden_layers", "num_layers", "n_layer")


def kernel_functions(tfmc, config):
    """The compiled functions of a config's kernels, from its host plan: a
    hash of each kernel's IR and target."""
    plan = subprocess.run([tfmc, config, "--emit=host"], check=True,
                          capture_output=True, text=True).stdout
    return set(re.findall(r"\btfm_k_[0-9a-f]+", plan))


def cut_depth(config, layers, tfmc, tmp):
    """A copy of `config` with `layers` layers, compiled; returns (config
    path, program path) or raises with the reason."""
    with open(config) as f:
        spec = json.load(f)
    key = next((k for k in LAYER_KEYS if k in spec), None)
    if key is None:
        raise RuntimeError(f"{config}: no layer count ({', '.join(LAYER_KEYS)})")
    spec[key] = layers
    cut = os.path.join(tmp, "config.json")
    with open(cut, "w") as f:
        json.dump(spec, f)
    full, part = kernel_functions(tfmc, config), kernel_functions(tfmc, cut)
    print(f"{layers} of the model's layers: {len(part)} kernels, "
          f"{len(part & full)} of them the full model's; it has {len(full)}")
    if part != full:
        raise RuntimeError(f"the {layers}-layer model's kernels are not the "
                           f"full model's ({len(part - full)} of its own, "
                           f"{len(full - part)} missing)")
    program = os.path.join(tmp, "program")
    subprocess.run([tfmc, "compile", cut, "-o", program], check=True,
                   capture_output=True, text=True)
    return cut, program


def nearer_rounded(name, got, ref, unrounded, failures, greedy):
    """--stored-cache, --rounded-products: every row of `got` nearer `ref`
    (the interpreter with the same rounding) than `unrounded` (without it:
    an f32 cache, f32 products); the same ids, but at a near tie.

    A rounding step moves logits by about the distance between the two
    interpreters, so where the top two logits are closer than that the
    program may pick the other one. Such an id is accepted only if it is
    first in the program's own row and within twice the row's distance to
    `ref` of `ref`'s top: a tie that distance explains. In a greedy run
    the rows after the first id that differs among the three runs were fed
    other tokens and are not compared."""
    (got_json, got_rows), (ref_json, ref_rows) = got, ref
    unrounded_json, f32_rows = unrounded
    if not (len(got_rows) == len(ref_rows) == len(f32_rows)):
        failures.append(f"{name}: {len(got_rows)} logits rows, the "
                        f"interpreter {len(ref_rows)}")
        return
    got_ids, ref_ids = got_json["generated_ids"], ref_json["generated_ids"]
    if len(got_ids) != len(ref_ids):
        failures.append(f"{name}: {len(got_ids)} ids, the interpreter "
                        f"{len(ref_ids)}")
        return
    # Row first + j gave id j.
    first = len(got_rows) - len(got_ids) + 1
    compared = len(got_rows)
    if greedy:
        for j, ids in enumerate(zip(got_ids, ref_ids,
                                    unrounded_json["generated_ids"])):
            if len(set(ids)) > 1:
                compared = first + j + 1
                break
    worst = 0.0
    nears = []
    for i, (g, r, u) in enumerate(zip(got_rows[:compared], ref_rows,
                                      f32_rows)):
        near = max(abs(a - b) for a, b in zip(g, r))
        far = max(abs(a - b) for a, b in zip(g, u))
        nears.append(near)
        worst = max(worst, near / far if far > 0 else float("inf"))
        if not near < far:
            failures.append(f"{name}: row {i} is {near:.3g} from the "
                            f"interpreter with the same rounding but "
                            f"{far:.3g} from one without it")
    print(f"{name}: each row's distance to the interpreter with the same "
          f"rounding is at most {worst:.3g} of its distance to one without "
          f"it")
    for j, (a, b) in enumerate(zip(got_ids, ref_ids)):
        row = first + j - 1
        if row >= compared:
            break
        if a == b:
            continue
        g, r = got_rows[row], ref_rows[row]
        gap = r[b] - r[a]
        if g[a] == max(g) and gap <= 2 * nears[row]:
            print(f"{name}: id {j} is {a}, the interpreter's {b}: a tie "
                  f"({gap:.3g} apart in the interpreter's row, which is "
                  f"{nears[row]:.3g} from the program's)")
        else:
            failures.append(f"{name}: ids {got_ids} != interpreter {ref_ids} "
                            f"(id {j}: {gap:.3g} below the interpreter's "
                            f"top, its row {nears[row]:.3g} from the "
                            f"program's)")
            break


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("--program", required=True)
    parser.add_argument("--tfmc", required=True)
    parser.add_argument("--ids", required=True)
    parser.add_argument("-n", type=int, default=8)
    parser.add_argument("--weights")
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--unfused")
    parser.add_argument("--prefill-only", action="store_true",
                        help="skip the one-token-at-a-time run (big models)")
    parser.add_argument("--stored-cache", action="store_true",
                        help="the KV cache rounds: compare against the "
                             "interpreter with and without that rounding")
    parser.add_argument("--rounded-products", action="store_true",
                        help="the products round to bf16: compare against "
                             "the interpreter with and without that "
                             "rounding")
    parser.add_argument("--layers", type=int,
                        help="run the model cut to this many layers")
    opts = parser.parse_args()
    if opts.layers and opts.unfused:
        parser.error("--unfused takes a full-depth program; not with --layers")
    weights = ["--weights", opts.weights] if opts.weights else []
    ids = opts.ids.split(",")
    runs = {
        "prefill + greedy decode": ["--prompt-ids", opts.ids, "-n", str(opts.n)],
        "one token at a time": ["--prompt-ids", ids[0],
                                "--force-ids", ",".join(ids[1:])],
    }
    if opts.prefill_only:
        del runs["one token at a time"]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        config, program = opts.config, opts.program
        if opts.layers:
            try:
                config, program = cut_depth(config, opts.layers, opts.tfmc,
                                            tmp)
            except (RuntimeError, subprocess.CalledProcessError) as e:
                return golden.conclude([f"cutting to {opts.layers} layers: "
                                        f"{getattr(e, 'stderr', None) or e}"])
        for name, args in runs.items():
            ref = golden.run([opts.tfmc, "run", config,
                              "--disable-fusion=all"] + weights, args, tmp)
            got = golden.run([program] + weights, args, tmp)
            if opts.stored_cache or opts.rounded_products:
                without = (["--kv-cache", "f32"] if opts.stored_cache else
                           ["--precision", "f32"])
                unrounded = golden.run([opts.tfmc, "run", config,
                                        "--disable-fusion=all"] + without +
                                       weights, args, tmp)
                nearer_rounded(name, got, ref, unrounded, failures,
                               name == "prefill + greedy decode")
            else:
                golden.compare(name, got, ref, opts.tol, "interpreter",
                               failures)
            lean, _ = golden.run([program] + weights, args, tmp,
                                 logits=False)
            lean_ids = lean["generated_ids"]
            if lean_ids != got[0]["generated_ids"]:
                failures.append(f"{name}: ids without --logits-out {lean_ids} "
                                f"!= with it {got[0]['generated_ids']}")
            if opts.unfused:
                plain, _ = golden.run([opts.unfused] + weights, args, tmp)
                if plain["generated_ids"] != got[0]["generated_ids"]:
                    failures.append(f"{name}: ids {got[0]['generated_ids']} "
                                    f"!= unfused program's "
                                    f"{plain['generated_ids']}")
    return golden.conclude(failures)


if __name__ == "__main__":
    sys.exit(main())
