"""``python -m mcp_stdio``: the command line (see :mod:`mcp_stdio.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
