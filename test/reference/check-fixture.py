#!/usr/bin/env python3
"""Checks that a committed reference fixture is what make-fixture.py
writes: the same config, weights and golden values.

usage: check-fixture.py FAMILY DIR
"""

import filecmp
import os
import subprocess
import sys
import tempfile


def main():
    family, committed = sys.argv[1], sys.argv[2]
    maker = os.path.join(os.path.dirname(__file__), "make-fixture.py")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, maker, family, tmp], check=True)
        names = ["config.json", "model.safetensors", "golden.json"]
        _, mismatch, errors = filecmp.cmpfiles(committed, tmp, names,
                                               shallow=False)
        if mismatch or errors:
            print(f"FAIL: {committed}: {', '.join(mismatch + errors)} differ "
                  f"from what make-fixture.py {family} writes")
            return 1
    print(f"PASS: {committed} is what make-fixture.py {family} writes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
