#!/usr/bin/env python3
"""Where the time of a checkout goes: a per-step table from the orders component's log.

Usage:
    python3 bench/checkout-steps.py HOST.log            # or: ... < HOST.log
    python3 bench/checkout-steps.py --status 201 HOST.log
    python3 bench/checkout-steps.py --event reservation.reserve.steps --status 201 HOST.log

Reads the `event=checkout.steps` lines the orders component writes for every POST /v1/orders
(docs/operations.md), or with --event another step event (the catalog's
`reservation.{reserve,commit,release,restock}.steps`, its share of a checkout), keeps those
with the given status (201 by default: completed checkouts; 204 for a commit),
and prints a Markdown table: one row per step label in the order steps first occur, with the
number of checkouts that ran it, how many times it ran per checkout (median), the median and p90
of its microseconds per checkout (repeats within a checkout summed), and its share of the summed
checkout total; then the time outside any step (the component's own work: JSON, JWT, domain
rules, retry back-off) and the total. Requests sent together overlap, so shares could then add
up to more than 100% (and the time outside any step be negative).
Python 3 standard library only.
"""

import argparse
import math
import statistics
import sys

EVENT = "checkout.steps"


def parse_line(line):
    """The key=value pairs of a log line, in order (repeated keys kept)."""
    pairs = []
    for token in line.split():
        key, sep, value = token.partition("=")
        if sep:
            pairs.append((key, value))
    return pairs


def percentile(values, fraction):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(len(ordered) * fraction))
    return ordered[rank - 1]


def read_checkouts(stream, status, event=EVENT):
    """Per matching line: (total_us, {label: (summed_us, count)} in first-seen order)."""
    checkouts = []
    for line in stream:
        if "event=" + event not in line:
            continue
        pairs = parse_line(line)
        fields = dict(pairs)
        if fields.get("event") != event:
            continue
        if fields.get("status") != status or "total_us" not in fields:
            continue
        try:
            total = int(fields["total_us"])
            steps = {}
            for key, value in pairs:
                if ":" not in key:  # step labels are kind:detail; other keys are fields
                    continue
                summed, count = steps.get(key, (0, 0))
                steps[key] = (summed + int(value), count + 1)
        except ValueError:
            continue  # a line cut by interleaved output
        checkouts.append((total, steps))
    return checkouts


def table(checkouts):
    labels = []
    seen = set()
    for _, steps in checkouts:
        for label in steps:
            if label not in seen:
                seen.add(label)
                labels.append(label)
    grand_total = sum(total for total, _ in checkouts) or 1
    rows = [
        "| step | checkouts | runs per checkout (median) | median µs | p90 µs | share of total |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]

    def row(name, values, runs):
        runs_cell = f"{statistics.median(runs):g}" if runs else ""
        rows.append(
            f"| `{name}` | {len(values)} | {runs_cell} | {statistics.median(values):.0f} | "
            f"{percentile(values, 0.9)} | {100 * sum(values) / grand_total:.1f}% |"
        )

    for label in labels:
        per_checkout = [steps[label] for _, steps in checkouts if label in steps]
        row(label, [us for us, _ in per_checkout], [n for _, n in per_checkout])
    unaccounted = [total - sum(us for us, _ in steps.values()) for total, steps in checkouts]
    row("(outside any step)", unaccounted, [])
    row("total", [total for total, _ in checkouts], [])
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", nargs="?", help="host log (default: standard input)")
    parser.add_argument("--status", default="201", help="HTTP status to keep (default 201)")
    parser.add_argument("--event", default=EVENT, help=f"step event to read (default {EVENT})")
    args = parser.parse_args()
    if args.log:
        with open(args.log, encoding="utf-8", errors="replace") as stream:
            checkouts = read_checkouts(stream, args.status, args.event)
    else:
        checkouts = read_checkouts(sys.stdin, args.status, args.event)
    if not checkouts:
        print(f"no event={args.event} lines with status={args.status}", file=sys.stderr)
        return 1
    print(f"{len(checkouts)} {args.event} requests with status {args.status}\n")
    print(table(checkouts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
