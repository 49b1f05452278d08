#!/usr/bin/env python3
"""Writes OUT: SIZE bytes that do not compress (a fixed seed, so builds
repeat), the web assets of the benchmark's 1 MB plugin."""
import random
import sys

out, size = sys.argv[1], int(sys.argv[2])
with open(out, "wb") as f:
    f.write(random.Random(20261201).randbytes(size))
