"""Runs a compiled program under address-space limits from too small to
enough, and checks that every run either succeeds or fails cleanly: exit
status 1, an error message, nothing on stdout, never a signal (an abort on
std::bad_alloc, say).

  memory-limits.py PROGRAM [ARGS...]
"""
import resource
import subprocess
import sys


def main():
    argv = sys.argv[1:]
    failed = succeeded = 0
    for mib in range(40, 400, 20):
        limit = mib << 20

        def cap():
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

        r = subprocess.run(argv, capture_output=True, text=True,
                           preexec_fn=cap)
        if r.returncode == 0:
            succeeded += 1
            continue
        failed += 1
        if r.returncode != 1 or "error:" not in r.stderr or r.stdout:
            print(f"{mib} MiB: exit status {r.returncode}")
            print("stdout:", repr(r.stdout))
            print("stderr:", r.stderr)
            return 1
    print(f"clean: {failed} limits failed with a message, "
          f"{succeeded} ran")
    return 0 if failed and succeeded else 1


if __name__ == "__main__":
    sys.exit(main())
