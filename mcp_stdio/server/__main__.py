"""``python -m mcp_stdio.server``: the reference server on stdin and stdout."""

import sys

from . import main

sys.exit(main())
