"""SVG charts of the report, drawn with the standard library.

Rules, so that every chart reads without its caption: one quantity per axis, named with its
unit; round ticks (1, 2, 2.5 or 5 times a power of ten); the legend below the plot, laid
out from the length of its labels, so it is never clipped; every chart has a fixed
``width`` and ``height`` (a renderer gives an image of exactly that size).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape

__all__ = ["nice_ticks", "line_chart", "histogram_chart", "interval_chart", "bar_chart", "WIDTH", "HEIGHT"]

WIDTH, HEIGHT = 720, 420
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
_CHAR = 7.0  # average width of a 12 px sans-serif character, for layout
_FONT = 'font-family="DejaVu Sans, Arial, sans-serif" font-size="12"'


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Return round ticks covering ``[low, high]``: about ``count`` steps of 1, 2, 2.5 or 5 x 10^k."""
    if high < low:
        low, high = high, low
    span = high - low
    if span <= 0:
        span = abs(high) or 1.0
        low, high = low - span / 2, high + span / 2
        if low < 0 <= high - span / 2:
            low = 0.0
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = magnitude
    for multiple in (1, 2, 2.5, 5, 10):
        step = multiple * magnitude
        if span / step <= count:
            break
    first = math.floor(low / step + 1e-9) * step
    last = math.ceil(high / step - 1e-9) * step
    ticks = []
    value = first
    while value <= last + step / 1e6:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _label(value: float, ticks: Sequence[float]) -> str:
    """Return a tick label with as many decimals as the step needs (0.25 -> two, 500 -> none)."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    decimals = 0
    while decimals < 6 and abs(step * 10 ** decimals - round(step * 10 ** decimals)) > 1e-6:
        decimals += 1
    text = f"{value:,.{decimals}f}"
    return "0" if text.strip("-0.,") == "" else text


def _legend(names: Sequence[str], top: float, left: float, width: float) -> tuple[list[str], float]:
    """Return the legend of line series (one colour each) laid out in rows from ``top``."""
    return _legend_items([("line", _COLORS[i % len(_COLORS)], name) for i, name in enumerate(names)],
                         top, left, width)


def _legend_items(items: Sequence[tuple[str, str, str]], top: float, left: float, width: float
                  ) -> tuple[list[str], float]:
    """Return legend items ``(kind, colour, text)`` laid out in rows from ``top``, and the height used.

    ``kind`` is ``"line"``, ``"bar"``, ``"dot"``, ``"tick"`` or ``"dashed"``; each item is as
    wide as its text, and an item that would pass ``left + width`` starts a new row.
    """
    out = []
    x, y = left, top
    for kind, color, text in items:
        item = 22 + len(text) * _CHAR + 18
        if x + item > left + width and x > left:
            x, y = left, y + 18
        if kind == "line":
            out.append(f'<rect x="{x:.1f}" y="{y - 2:.1f}" width="14" height="4" fill="{color}"/>')
        elif kind == "bar":
            out.append(f'<rect x="{x:.1f}" y="{y - 3:.1f}" width="14" height="6" fill="{color}"/>')
        elif kind == "dot":
            out.append(f'<circle cx="{x + 7:.1f}" cy="{y:.1f}" r="4" fill="{color}"/>')
        elif kind == "tick":
            out.append(f'<line x1="{x + 7:.1f}" y1="{y - 7:.1f}" x2="{x + 7:.1f}" y2="{y + 7:.1f}" '
                       f'stroke="{color}" stroke-width="2"/>')
        else:
            out.append(f'<line x1="{x + 7:.1f}" y1="{y - 7:.1f}" x2="{x + 7:.1f}" y2="{y + 7:.1f}" '
                       f'stroke="{color}" stroke-dasharray="3,3"/>')
        out.append(f'<text x="{x + 20:.1f}" y="{y + 4:.1f}">{escape(text)}</text>')
        x += item
    return out, (y - top) + 18


class _Frame:
    """A plot area with scales, axes, ticks and labels."""

    def __init__(self, title: str, x_label: str, y_label: str, x_ticks: list[float], y_ticks: list[float],
                 legend: int = 1, width: int = WIDTH, height: int = HEIGHT) -> None:
        self.width, self.height = width, height
        self.left = 20 + 18 + max(len(_label(t, y_ticks)) for t in y_ticks) * _CHAR
        self.right = width - 24
        self.top = 44
        self.bottom = height - 60 - 18 * legend
        self.x_ticks, self.y_ticks = x_ticks, y_ticks
        self.out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                    f'viewBox="0 0 {width} {height}" {_FONT}>',
                    f'<rect width="{width}" height="{height}" fill="white"/>',
                    f'<text x="{width / 2}" y="24" text-anchor="middle" font-size="15">{escape(title)}</text>']
        for tick in y_ticks:
            y = self.sy(tick)
            self.out.append(f'<line x1="{self.left}" y1="{y:.1f}" x2="{self.right}" y2="{y:.1f}" stroke="#e5e5e5"/>')
            self.out.append(f'<text x="{self.left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                            f'{_label(tick, y_ticks)}</text>')
        for tick in x_ticks:
            x = self.sx(tick)
            self.out.append(f'<line x1="{x:.1f}" y1="{self.bottom}" x2="{x:.1f}" y2="{self.bottom + 5}" '
                            'stroke="black"/>')
            self.out.append(f'<text x="{x:.1f}" y="{self.bottom + 18}" text-anchor="middle">'
                            f'{_label(tick, x_ticks)}</text>')
        middle = (self.top + self.bottom) / 2
        self.out += [
            f'<line x1="{self.left}" y1="{self.bottom}" x2="{self.right}" y2="{self.bottom}" stroke="black"/>',
            f'<line x1="{self.left}" y1="{self.top}" x2="{self.left}" y2="{self.bottom}" stroke="black"/>',
            f'<text x="{(self.left + self.right) / 2}" y="{self.bottom + 36}" text-anchor="middle">'
            f'{escape(x_label)}</text>',
            f'<text x="16" y="{middle}" transform="rotate(-90 16 {middle})" text-anchor="middle">'
            f'{escape(y_label)}</text>']

    def sx(self, x: float) -> float:
        low, high = self.x_ticks[0], self.x_ticks[-1]
        return self.left + (x - low) / ((high - low) or 1) * (self.right - self.left)

    def sy(self, y: float) -> float:
        low, high = self.y_ticks[0], self.y_ticks[-1]
        return self.bottom - (y - low) / ((high - low) or 1) * (self.bottom - self.top)

    def finish(self, names: Sequence[str], extra: Sequence[tuple[str, str, str]] = ()) -> str:
        items = [("line", _COLORS[i % len(_COLORS)], name) for i, name in enumerate(names)] + list(extra)
        legend, _ = _legend_items(items, self.bottom + 52, 20, self.width - 44)
        return "\n".join(self.out + legend + ["</svg>"]) + "\n"


def line_chart(title: str, x_label: str, y_label: str, series: dict[str, list[tuple[float, float]]]) -> str:
    """Return an SVG line chart; each series is ``[(x, y), ...]`` in the axes' units."""
    points = [p for values in series.values() for p in values] or [(0.0, 0.0), (1.0, 1.0)]
    x_ticks = nice_ticks(min(0.0, min(x for x, _ in points)), max(x for x, _ in points))
    y_ticks = nice_ticks(min(0.0, min(y for _, y in points)), max(y for _, y in points))
    frame = _Frame(title, x_label, y_label, x_ticks, y_ticks, legend=1 + len(series) // 4)
    for index, values in enumerate(series.values()):
        color = _COLORS[index % len(_COLORS)]
        path = " ".join(f"{frame.sx(x):.1f},{frame.sy(y):.1f}" for x, y in values)
        frame.out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
        for x, y in values:
            frame.out.append(f'<circle cx="{frame.sx(x):.1f}" cy="{frame.sy(y):.1f}" r="3" fill="{color}"/>')
    return frame.finish(list(series))


def histogram_chart(title: str, x_label: str, bucket: float, series: dict[str, list[int]],
                    markers: dict[str, dict[str, float]]) -> str:
    """Return an SVG histogram (one outline per series) with percentile markers.

    Args:
        bucket: the width of a bucket, in the x axis' unit.
        series: counts per bucket, from 0.
        markers: per series, ``{"p50": x, "p99": x}``: dashed vertical lines, labelled.
    """
    top_x = bucket * max((len(counts) for counts in series.values()), default=1)
    top_y = max((max(counts) for counts in series.values() if counts), default=1)
    x_ticks, y_ticks = nice_ticks(0.0, top_x), nice_ticks(0.0, top_y * 1.15)
    frame = _Frame(title, x_label, "requests per bucket", x_ticks, y_ticks, legend=2)
    names = list(series)
    for index, (name, counts) in enumerate(series.items()):
        color = _COLORS[index % len(_COLORS)]
        path = []
        for i, count in enumerate(counts):
            path.append(f"{frame.sx(i * bucket):.1f},{frame.sy(count):.1f}")
            path.append(f"{frame.sx((i + 1) * bucket):.1f},{frame.sy(count):.1f}")
        frame.out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(path)}"/>')
        for rank, (label, x) in enumerate(sorted((markers.get(name) or {}).items())):
            if x > x_ticks[-1]:
                continue
            px = frame.sx(x)
            y = frame.top + 12 + (index * 2 + rank) * 14
            frame.out.append(f'<line x1="{px:.1f}" y1="{frame.top}" x2="{px:.1f}" y2="{frame.bottom}" '
                             f'stroke="{color}" stroke-dasharray="5,4"/>')
            anchor = "end" if px > (frame.left + frame.right) / 2 else "start"
            offset = -4 if anchor == "end" else 4
            frame.out.append(f'<text x="{px + offset:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{color}">'
                             f'{escape(name)} {label}</text>')
    return frame.finish(names, [("dashed", "#555", "p50 and p99 of each, labelled")])


def interval_chart(title: str, x_label: str, rows: list[tuple[str, float, float, float, float | None]]) -> str:
    """Return an SVG chart of estimates: per row ``(label, median, low, high, goal)``.

    The x axis is the estimate's unit; the rows are the categories. Each row shows its 95 %
    interval as a bar, its median as a dot, and its goal as a short vertical mark.
    """
    row_height = 26
    values = [v for _, median, low, high, goal in rows for v in (median, low, high, goal, 1.0) if v is not None]
    x_ticks = nice_ticks(min(values + [0.0]), max(values + [1.0]) * 1.05)
    label_width = max((len(label) for label, *_ in rows), default=10) * _CHAR + 16
    left = 20 + label_width
    right = WIDTH - 24
    top, bottom = 44, 44 + row_height * max(1, len(rows))

    def sx(x: float) -> float:
        return left + (x - x_ticks[0]) / ((x_ticks[-1] - x_ticks[0]) or 1) * (right - left)

    legend, used = _legend_items([("bar", _COLORS[0], "95 % interval"), ("dot", "black", "median"),
                                  ("tick", _COLORS[1], "goal"), ("dashed", "#888", "1.0: the floor's cost")],
                                 bottom + 56, 20, WIDTH - 44)
    height = int(bottom + 56 + used + 4)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" {_FONT}>',
           f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
           f'<text x="{WIDTH / 2}" y="24" text-anchor="middle" font-size="15">{escape(title)}</text>']
    for tick in x_ticks:
        x = sx(tick)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 18}" text-anchor="middle">{_label(tick, x_ticks)}</text>')
    out.append(f'<line x1="{sx(1.0):.1f}" y1="{top}" x2="{sx(1.0):.1f}" y2="{bottom}" stroke="#888" '
               f'stroke-dasharray="3,3"/>')
    for index, (label, median, low, high, goal) in enumerate(rows):
        y = top + row_height * index + row_height / 2
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>')
        if low is not None and high is not None:
            out.append(f'<line x1="{sx(low):.1f}" y1="{y:.1f}" x2="{sx(high):.1f}" y2="{y:.1f}" '
                       f'stroke="{_COLORS[0]}" stroke-width="5"/>')
        out.append(f'<circle cx="{sx(median):.1f}" cy="{y:.1f}" r="4" fill="black"/>')
        if goal is not None:
            out.append(f'<line x1="{sx(goal):.1f}" y1="{y - 9:.1f}" x2="{sx(goal):.1f}" y2="{y + 9:.1f}" '
                       f'stroke="{_COLORS[1]}" stroke-width="2"/>')
    out += [f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="black"/>',
            f'<text x="{(left + right) / 2}" y="{bottom + 36}" text-anchor="middle">{escape(x_label)}</text>']
    out += legend
    return "\n".join(out + ["</svg>"]) + "\n"


def bar_chart(title: str, x_label: str, rows: list[tuple[str, float]]) -> str:
    """Return an SVG horizontal bar chart: per row ``(label, value)`` in the x axis' unit."""
    row_height = 30
    height = 100 + row_height * max(1, len(rows))
    x_ticks = nice_ticks(0.0, max((v for _, v in rows), default=1.0) or 1.0)
    label_width = max((len(label) for label, _ in rows), default=10) * _CHAR + 16
    left, right = 20 + label_width, WIDTH - 24
    top, bottom = 44, 44 + row_height * max(1, len(rows))

    def sx(x: float) -> float:
        return left + x / (x_ticks[-1] or 1) * (right - left)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" {_FONT}>',
           f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
           f'<text x="{WIDTH / 2}" y="24" text-anchor="middle" font-size="15">{escape(title)}</text>']
    for tick in x_ticks:
        x = sx(tick)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 18}" text-anchor="middle">{_label(tick, x_ticks)}</text>')
    for index, (label, value) in enumerate(rows):
        y = top + row_height * index + 5
        out.append(f'<text x="{left - 8}" y="{y + 15:.1f}" text-anchor="end">{escape(label)}</text>')
        out.append(f'<rect x="{left}" y="{y:.1f}" width="{max(0.0, sx(value) - left):.1f}" height="{row_height - 10}" '
                   f'fill="{_COLORS[index % len(_COLORS)]}"/>')
        text = f"{value:,.0f}" if value >= 100 else f"{value:,.3g}"
        inside = sx(value) - left > len(text) * _CHAR + 12
        anchor, color = ("end", "white") if inside else ("start", "black")
        out.append(f'<text x="{sx(value) + (-6 if inside else 6):.1f}" y="{y + 15:.1f}" '
                   f'text-anchor="{anchor}" fill="{color}">{text}</text>')
    out += [f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="black"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="black"/>',
            f'<text x="{(left + right) / 2}" y="{bottom + 36}" text-anchor="middle">{escape(x_label)}</text>']
    return "\n".join(out + ["</svg>"]) + "\n"
