"""Checks that --emit=spec is a fixed point for each config given: the
printed spec, read back, prints byte for byte the same.

  spec-fixed-point.py TFMC WORKDIR CONFIG...   (exit 1 on the first that
                                                 differs)
"""
import os
import subprocess
import sys


def main():
    tfmc, work, configs = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(work, exist_ok=True)
    for i, config in enumerate(configs):
        first = os.path.join(work, f"{i}.spec.json")
        subprocess.run([tfmc, config, "--emit=spec", "-o", first], check=True)
        again = subprocess.run([tfmc, first, "--emit=spec"], check=True,
                               capture_output=True).stdout
        with open(first, "rb") as f:
            printed = f.read()
        if printed != again:
            print(f"{config}: --emit=spec of its spec differs:")
            sys.stdout.write(again.decode())
            return 1
    print(f"{len(configs)} configs round-trip")
    return 0


if __name__ == "__main__":
    sys.exit(main())
