#!/usr/bin/env python3
"""Runs shell commands in turn, N rounds, and prints each one's median, quartiles and minimum wall
time. Alternating keeps a shared machine's drift out of the comparison (BENCHMARKS.md).

Usage: scripts/alternate.py N 'command a' 'command b' ...
"""
import statistics
import subprocess
import sys
import time


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rounds, commands = int(sys.argv[1]), sys.argv[2:]
    times = [[] for _ in commands]
    for _ in range(rounds):
        for i, c in enumerate(commands):
            t = time.perf_counter()
            subprocess.run(c, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            times[i].append(time.perf_counter() - t)
    for c, t in zip(commands, times):
        t.sort()
        print(f"median {statistics.median(t):.3f}  q1 {t[len(t) // 4]:.3f}  q3 {t[3 * len(t) // 4]:.3f}  min {t[0]:.3f}  {c}")


if __name__ == "__main__":
    main()
