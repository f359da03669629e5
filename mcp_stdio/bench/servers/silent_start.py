"""Reads its input but never answers anything, not even initialize."""

from _common import messages

for _ in messages():
    pass
