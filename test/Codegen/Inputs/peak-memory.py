"""Runs a command and fails unless it succeeds with a peak resident set
under LIMIT MiB.

usage: peak-memory.py LIMIT_MIB COMMAND [ARG...]
"""

import resource
import subprocess
import sys

limit = float(sys.argv[1])
result = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL)
if result.returncode != 0:
    sys.exit(f"{sys.argv[2]} exited with {result.returncode}")
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"peak memory {peak:.0f} MiB, {'under' if peak < limit else 'over'} "
      f"{limit:g} MiB")
sys.exit(0 if peak < limit else 1)
