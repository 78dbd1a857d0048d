#!/usr/bin/env python3
"""The disk's fdatasync latency, which bounds a steady rate's tail when every commit is synced.

    scripts/fsync-latency.py [DIR] [COUNT]      DIR: where the database lives (default data/)

Writes COUNT times into a scratch file in DIR, each write followed by fdatasync, for write sizes
from one page to a large commit's, and prints the percentiles of the fdatasync alone (µs).
"""
import os, sys, time

folder = sys.argv[1] if len(sys.argv) > 1 else "data"
count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
os.makedirs(folder, exist_ok=True)
path = os.path.join(folder, ".fsync-probe")
try:
    for size in (4096, 20_000, 80_000, 200_000):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        block, took = b"x" * size, []
        for i in range(count):
            os.pwrite(fd, block, (i % 50) * size)
            t = time.perf_counter()
            os.fdatasync(fd)
            took.append((time.perf_counter() - t) * 1e6)
        os.close(fd)
        took.sort()
        at = lambda q: took[min(len(took) - 1, int(q * len(took)))]
        print(f"{size:>7} B a write: fdatasync p50 {at(0.5):.0f} µs, p90 {at(0.9):.0f}, p99 {at(0.99):.0f}, p99.9 {at(0.999):.0f}")
finally:
    if os.path.exists(path):
        os.unlink(path)
