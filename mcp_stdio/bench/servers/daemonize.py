"""Forks a background child that keeps running after the server itself exits on EOF."""

import os
import sys
import time

from _common import serve

pid = os.fork()
if pid == 0:
    os.close(0)
    os.close(1)
    while True:
        time.sleep(1)
sys.stderr.write(f"background {pid}\n")
sys.stderr.flush()
serve()
