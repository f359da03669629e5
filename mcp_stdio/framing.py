"""Newline framing of a byte stream (sans-I/O).

Theory of operation
-------------------
The stdio transport of MCP (2025-11-25, basic/transports, "stdio") says: "Messages are
delimited by newlines, and MUST NOT contain embedded newlines." A :class:`LineFramer` turns
the chunks a pipe delivers into those lines:

* It splits on ``b"\\n"`` only. ``str.splitlines()`` would also split on U+2028, U+0085 and
  other characters that are legal, unescaped, inside JSON strings.
* It strips one trailing ``b"\\r"`` so that CRLF writers work, and skips blank lines.
* It is linear in the size of the stream: a search for ``b"\\n"`` starts where the previous
  search stopped, never at the start of the buffer, so a 50 MiB message delivered in 64 KiB
  chunks is scanned once, not 800 times.
* It never holds more than ``max_message_size`` bytes of an unfinished line. A longer line is
  reported as :class:`Oversized` and the rest of it is discarded as it arrives, so memory
  stays bounded by the limit even for an endless line.

The framer does no I/O and knows nothing of JSON: feed it bytes, get lines.
"""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_MESSAGE_SIZE", "LineFramer", "Oversized"]

# 64 MiB: comfortably above the largest real tool results seen in the wild (file reads,
# screenshots as base64) and the 50 MiB message of our own benchmark, yet small enough that
# a runaway server cannot exhaust memory. ``None`` disables the limit.
DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024

_WHITESPACE = b" \t\r\n"
_WHITESPACE_BYTES = (b" ", b"\t", b"\r", b"\n")

# A line at least this long that starts a buffer is handed over without a copy.
_HANDOVER_SIZE = 64 * 1024


class Oversized:
    """A line longer than the limit was seen and dropped.

    Attributes:
        size: bytes of the line seen when it was dropped (at least ``limit + 1``).
        limit: the ``max_message_size`` in force.
    """

    __slots__ = ("size", "limit")

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit

    def __repr__(self) -> str:
        return f"Oversized(size={self.size}, limit={self.limit})"


class LineFramer:
    """Split a byte stream into lines.

    Args:
        max_message_size: the longest line accepted, in bytes, without its line end;
            ``None`` disables the limit.
    """

    __slots__ = ("max_message_size", "_buf", "_discarding")

    def __init__(self, max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        if max_message_size is not None and max_message_size < 1:
            raise ValueError("max_message_size must be a positive number of bytes or None")
        self.max_message_size = max_message_size
        # The unfinished line; it never contains b"\n", so a new search starts at its end.
        self._buf = bytearray()
        # True while the tail of an oversized line is being dropped.
        self._discarding = False

    @property
    def buffered(self) -> int:
        """Return how many bytes of an unfinished line are held."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes | bytearray | Oversized]:
        """Add bytes from the stream and return the lines they complete.

        Each item of the result is either a line (``bytes``, or for a line of 64 KiB or
        more a ``bytearray`` handed over without a copy; without its line end, never
        empty) or an :class:`Oversized` marker standing where a line was dropped. The
        caller should handle them in order, then call :meth:`feed` again with more data or
        :meth:`feed_eof` at the end of the stream.
        """
        limit = self.max_message_size
        if self._discarding:
            # Drop the rest of an oversized line, up to and including its newline.
            end = data.find(b"\n")
            if end < 0:
                return []
            self._discarding = False
            data = data[end + 1:]
        buf = self._buf
        if not buf and data[-1:] == b"\n" and data.find(b"\n") == len(data) - 1 and len(data) > 1 \
                and (limit is None or len(data) <= limit) and data[:1] not in _WHITESPACE_BYTES:
            # The most common chunk: exactly one whole line, nothing buffered.
            return [data[:-2] if data[-2:-1] == b"\r" else data[:-1]]
        out: list[bytes | bytearray | Oversized] = []
        if not buf:
            # Fast path: nothing pending, so lines can be cut from data itself.
            start = 0
            find = data.find
            while True:
                end = find(b"\n", start)
                if end < 0:
                    break
                self._emit(data, start, end, out)
                start = end + 1
            if start < len(data):
                buf += data[start:] if start else data
        else:
            pos = len(buf)  # everything before this was searched by an earlier call
            buf += data
            end = buf.find(b"\n", pos)
            if end >= _HANDOVER_SIZE:
                # A large line fills the buffer: hand the buffer itself over as the line
                # instead of copying it, and start a new buffer with what follows.
                rest = buf[end + 1:]
                del buf[end:]
                out.append(self._line_or_marker(buf))
                self._buf = buf = bytearray()
                return out + self.feed(bytes(rest)) if rest else out
            start = 0
            find = buf.find
            while end >= 0:
                self._emit(buf, start, end, out)
                start = pos = end + 1
                end = find(b"\n", pos)
            if start:
                del buf[:start]  # amortized O(1): bytearray keeps an offset to its start
        if limit is not None and len(buf) > limit:
            out.append(Oversized(len(buf), limit))
            buf.clear()
            self._discarding = True
        return out

    def feed_eof(self) -> list[bytes | Oversized]:
        """Signal the end of the stream and return a last unterminated line, if any.

        A writer that ends its last message without a newline still gets it delivered.
        """
        out: list[bytes | Oversized] = []
        buf = self._buf
        if buf and not self._discarding:
            self._emit(buf, 0, len(buf), out)
        buf.clear()
        self._discarding = False
        return out

    def _line_or_marker(self, line: bytearray) -> bytearray | Oversized:
        if line.endswith(b"\r"):
            del line[-1:]
        limit = self.max_message_size
        if limit is not None and len(line) > limit:
            return Oversized(len(line), limit)
        return line

    def _emit(self, source: bytes | bytearray, start: int, end: int, out: list) -> None:
        if end > start and source[end - 1] == 13:  # one trailing b"\r"
            end -= 1
        size = end - start
        if size <= 0:
            return
        limit = self.max_message_size
        if limit is not None and size > limit:
            out.append(Oversized(size, limit))
            return
        if source[start] in _WHITESPACE and not source[start:end].strip():
            return  # a blank line
        out.append(bytes(source[start:end]))
