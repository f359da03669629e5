"""How stable the bench's ratios are across runs: ``python -m mcp_stdio.bench.stability RESULT.json...``.

For every ratio against the floor (an estimate in ``x``) found in all the given results
files, print its median in each run and ``max / min`` over the runs; the bench's own
requirement is ``max / min <= 1.25`` over three consecutive runs on one machine. The exit
status is 1 when a ratio exceeds the limit.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import flatten, is_estimate

__all__ = ["ratios", "table", "main", "LIMIT"]

# The largest max/min of one ratio over consecutive runs (issue 14).
LIMIT = 1.25


def ratios(documents: list[dict]) -> dict[str, list[float]]:
    """Return ``{metric: [median per run]}`` for the ratios present in every document."""
    flats = [flatten(document["results"]) for document in documents]
    found: dict[str, list[float]] = {}
    for path, value in flats[0].items():
        if not (is_estimate(value) and value.get("unit") == "x"):
            continue
        medians = [flat[path]["median"] for flat in flats if is_estimate(flat.get(path))]
        if len(medians) == len(flats):
            found[path] = medians
    return found


def table(found: dict[str, list[float]], limit: float = LIMIT) -> list[str]:
    """Return the stability table: metric, the medians, max/min, and whether it is within ``limit``."""
    width = max((len(path) for path in found), default=10)
    lines = [f"{'ratio':<{width}}  {'medians per run':<26}  max/min"]
    for path, medians in found.items():
        spread = max(medians) / min(medians) if min(medians) > 0 else float("inf")
        values = ", ".join(f"{m:.3f}" for m in medians)
        lines.append(f"{path:<{width}}  {values:<26}  {spread:.3f}{'' if spread <= limit else '  OVER ' + str(limit)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Print the stability table of the given results files; return 1 past the limit."""
    parser = argparse.ArgumentParser(prog="python -m mcp_stdio.bench.stability", description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", help="bench-*.json files of consecutive runs")
    parser.add_argument("--limit", type=float, default=LIMIT, help=f"largest max/min allowed (default {LIMIT})")
    args = parser.parse_args(argv)
    documents = []
    for path in args.results:
        with open(path, encoding="utf-8") as source:
            documents.append(json.load(source))
    found = ratios(documents)
    print("\n".join(table(found, args.limit)))
    loads = [document.get("load_average") or {} for document in documents]
    for path, load in zip(args.results, loads):
        print(f"{path}: load average {load.get('start')} at the start, {load.get('max')} at most, "
              f"{load.get('end')} at the end")
    over = [path for path, medians in found.items() if max(medians) / min(medians) > args.limit]
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
