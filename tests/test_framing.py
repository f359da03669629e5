"""Tier 1: the line framer, byte by byte, with no event loop."""

from __future__ import annotations

import pytest

from mcp_stdio.framing import DEFAULT_MAX_MESSAGE_SIZE, LineFramer, Oversized

MESSAGES = [b'{"a":1}', b'{"b":"\xe2\x80\xa8 and \xc2\x85 stay inside"}', b"x" * 1000, b"{}"]
STREAM = b"\n".join(MESSAGES) + b"\n"


def feed_in_pieces(framer: LineFramer, data: bytes, size: int) -> list:
    out = []
    for start in range(0, len(data), size):
        out.extend(framer.feed(data[start:start + size]))
    return out


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 1001, len(STREAM)])
def test_every_chunking_yields_the_same_lines(size):
    assert feed_in_pieces(LineFramer(), STREAM, size) == MESSAGES


def test_every_split_point_of_two_messages():
    for cut in range(len(STREAM) + 1):
        framer = LineFramer()
        assert framer.feed(STREAM[:cut]) + framer.feed(STREAM[cut:]) == MESSAGES, cut


def test_splits_on_newline_only_not_on_unicode_line_separators():
    line = '{"t":"a\u2028b\u2029c\x85d\x0be\x0cf\x1cg"}'.encode()
    assert LineFramer().feed(line + b"\n") == [line]


def test_strips_one_trailing_carriage_return():
    assert LineFramer().feed(b"{}\r\n{}\r\r\n") == [b"{}", b"{}\r"]


def test_skips_blank_lines():
    assert LineFramer().feed(b"\n\r\n   \n\t\r\n{}\n\n") == [b"{}"]


def test_keeps_partial_line_until_newline():
    framer = LineFramer()
    assert framer.feed(b'{"a":') == []
    assert framer.buffered == 5
    assert framer.feed(b"1}\n") == [b'{"a":1}']
    assert framer.buffered == 0


def test_eof_delivers_an_unterminated_last_line():
    framer = LineFramer()
    assert framer.feed(b"{}\n{") == [b"{}"]
    assert framer.feed_eof() == [b"{"]
    assert framer.feed_eof() == []


def test_no_64k_line_limit():
    big = b"y" * (5 * 1024 * 1024)
    assert feed_in_pieces(LineFramer(), big + b"\n", 65536) == [big]


def test_default_limit_is_documented_value():
    assert LineFramer().max_message_size == DEFAULT_MAX_MESSAGE_SIZE == 64 * 1024 * 1024


def test_complete_line_over_limit_is_reported_and_dropped():
    framer = LineFramer(max_message_size=10)
    out = framer.feed(b"0123456789A\n{}\n")
    assert [type(item) for item in out] == [Oversized, bytes]
    assert (out[0].size, out[0].limit) == (11, 10)
    assert out[1] == b"{}"


def test_endless_line_is_reported_once_and_memory_stays_bounded():
    framer = LineFramer(max_message_size=100)
    reports = []
    for _ in range(1000):
        reports.extend(framer.feed(b"z" * 64))
        assert framer.buffered <= 100
    assert len(reports) == 1 and isinstance(reports[0], Oversized)
    # The rest of the oversized line is discarded up to its newline, then framing resumes.
    assert framer.feed(b"zzz\n{}\n") == [b"{}"]


def test_limit_none_disables_the_check():
    framer = LineFramer(max_message_size=None)
    assert framer.feed(b"q" * 10000 + b"\n") == [b"q" * 10000]


def test_limit_must_be_positive():
    with pytest.raises(ValueError, match="max_message_size"):
        LineFramer(max_message_size=0)


def test_search_starts_where_the_last_one_stopped():
    # The property that makes framing linear: a 16 MiB line in 4 KiB chunks is searched
    # 4096 times, each time only from where the previous search ended.
    calls = []

    class Spy(bytearray):
        def find(self, sub, start=0, *rest):
            calls.append(start)
            return bytearray.find(self, sub, start, *rest)

    framer = LineFramer(max_message_size=None)
    framer._buf = Spy()
    framer.feed(b"a" * 10)  # the buffer was empty: the fast path searches the chunk itself
    framer.feed(b"b" * 10)
    framer.feed(b"c" * 10 + b"\n")
    # Searches in the buffer start at the old end (10, then 20), never at 0 again.
    assert calls and all(start >= 10 for start in calls), calls


def test_large_line_handed_over_then_framing_goes_on():
    big = b"B" * (200 * 1024)
    stream = big + b"\r\n" + b'{"a":1}\n' + big + b"\n{}\n{"
    for size in (1000, 65536, 70000, len(stream)):
        framer = LineFramer()
        out = feed_in_pieces(framer, stream, size)
        assert [bytes(line) for line in out] == [big, b'{"a":1}', big, b"{}"], size
        assert framer.buffered == 1


def test_large_line_over_the_limit_is_reported_on_handover():
    framer = LineFramer(max_message_size=100 * 1024)
    data = b"C" * (150 * 1024)
    out = []
    for start in range(0, len(data), 50 * 1024):
        out.extend(framer.feed(data[start:start + 50 * 1024]))
    out.extend(framer.feed(b"\n{}\n"))
    assert [type(item) for item in out] == [Oversized, bytes]
