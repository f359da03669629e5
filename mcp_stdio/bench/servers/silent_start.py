"""Reads its input but never answers anything, not even initialize."""

import os as _os
import sys as _sys

# Run as a script (python -S this file): the folder that holds the mcp_stdio package joins the path.
_sys.path.append(_os.path.abspath(_os.path.join(__file__, "../../../..")))
from mcp_stdio.bench.servers._common import messages  # noqa: E402

for _ in messages():
    pass
