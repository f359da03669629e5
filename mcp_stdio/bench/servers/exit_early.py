"""Exits with status 3 before answering initialize; with --quiet it says nothing on stderr."""

import sys

if "--quiet" not in sys.argv:
    sys.stderr.write("starting up\nfatal: configuration file missing\n")
    sys.stderr.flush()
sys.exit(3)
