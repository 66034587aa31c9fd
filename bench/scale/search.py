#!/usr/bin/env python3
"""Search and browse latency at catalog scale: for each request, N sequential calls of page 1 and
N of page 50 (reached by following next_cursor 49 times), one keep-alive connection, no other load.
Prints a Markdown table of p50 / p99 / max in milliseconds, measured at the client over loopback.

    bench/scale/search.py --target http://127.0.0.1:3400 --label 1M --runs 30 [--out FILE.md]
"""
import argparse
import http.client
import json
import time
import urllib.parse

REQUESTS = [
    ("q=oak (1/30 match)", "q=oak"),
    ("q=oak+lamp", "q=oak+lamp"),
    ("q=made (every product)", "q=made"),
    ("q=zyzzyva (a word in none)", "q=zyzzyva"),
    ("q=made+zyzzyva", "q=made+zyzzyva"),
    ("q=oak+walnut (never together)", "q=oak+walnut"),
    ("q=order (titles only, 1/10)", "q=order"),
    ("browse newest", "sort=newest"),
    ("browse sort=price", "sort=price"),
    ("browse sort=-price, EUR", "sort=-price&currency=EUR"),
    ("browse root category", "category=01900000-0000-7000-8000-000000000001"),
    ("browse leaf category", "category=01900000-0000-7000-8001-000000000003"),
    ("browse leaf category by price", "category=01900000-0000-7000-8001-000000000003&sort=price"),
    ("price range 50.00–51.00 EUR", "currency=EUR&min_price=5000&max_price=5100"),
]


def percentile(sorted_values, p):
    """Nearest-rank percentile: the smallest value with at least p% of values at or below it."""
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", default="http://127.0.0.1:3400")
    parser.add_argument("--label", default="")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--out")
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.target)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)

    def get(query):
        start = time.perf_counter()
        conn.request("GET", f"/v1/products?{query}&limit={args.limit}")
        response = conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        if response.status != 200:
            raise SystemExit(f"{query}: HTTP {response.status}: {body[:300]!r}")
        return elapsed, json.loads(body)

    lines = [
        f"| request ({args.label}) | page 1 p50 / p99 / max ms | page {args.pages} p50 / p99 / max ms | items on page {args.pages} |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, query in REQUESTS:
        get(query)  # warm-up
        first = sorted(get(query)[0] for _ in range(args.runs))
        cursor_query = query
        body = None
        for _ in range(args.pages - 1):
            _, body = get(cursor_query)
            cursor = body.get("next_cursor")
            if not cursor:
                break
            cursor_query = f"{query}&cursor={urllib.parse.quote(cursor)}"
        deep = sorted(get(cursor_query)[0] for _ in range(args.runs))
        _, last = get(cursor_query)
        fmt = lambda v: f"{percentile(v, 50):.1f} / {percentile(v, 99):.1f} / {v[-1]:.1f}"
        reached = "" if cursor_query != query or args.pages == 1 else " (one page only)"
        lines.append(f"| {name} | {fmt(first)} | {fmt(deep)}{reached} | {len(last['items'])} |")
        print(lines[-1], flush=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
