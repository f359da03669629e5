"""Writes the given number of MiB (default 100) to stderr before answering initialize."""

import os
import sys

from _common import serve

mib = int(sys.argv[1]) if len(sys.argv) > 1 else 100
line = b"E" * 1023 + b"\n"
block = line * 1024  # 1 MiB
for _ in range(mib):
    view = memoryview(block)
    while view:
        view = view[os.write(2, view):]
os.write(2, b"flood done\n")
serve()
