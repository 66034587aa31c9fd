#!/usr/bin/env python3
"""Latency at marketplace scale, sequential (one keep-alive connection, no other load): for each
request, N calls of page 1 and N of page 50 (reached by following next_cursor 49 times). Product
search and browse, then (with --orders) a heavy buyer's order history and a seller's fulfilment
list, signed in as bench/scale/identity.sql's buyer-0 and seller-0. Prints a Markdown table of
p50 / p99 / max in milliseconds, measured at the client over loopback.

    bench/scale/search.py --target http://127.0.0.1:3400 --label 1M --runs 30 [--orders] [--out FILE.md]
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
    ("browse bestselling", "sort=bestselling"),
    ("browse root category", "category=01900000-0000-7000-8000-000000000001"),
    ("browse leaf category", "category=01900000-0000-7000-8001-000000000003"),
    ("browse leaf category by price", "category=01900000-0000-7000-8001-000000000003&sort=price"),
    ("browse leaf category bestselling", "category=01900000-0000-7000-8001-000000000003&sort=bestselling"),
    ("price range 50.00–51.00 EUR", "currency=EUR&min_price=5000&max_price=5100"),
]


class Failed(Exception):
    """A request answered with another status than 200."""


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
    parser.add_argument("--orders", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.target)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)

    headers = {}

    def sign_in(email):
        conn.request("POST", "/v1/auth/token", body=json.dumps(
            {"email": email, "password": "bench-password-violet-42"}),
            headers={"content-type": "application/json"})
        response = conn.getresponse()
        body = json.loads(response.read())
        if response.status != 200:
            raise SystemExit(f"sign-in {email}: HTTP {response.status}: {body}")
        return {"authorization": f"Bearer {body['access_token']}"}

    def get(query, path="/v1/products"):
        start = time.perf_counter()
        conn.request("GET", f"{path}?limit={args.limit}" + (f"&{query}" if query else ""),
                     headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        if response.status != 200:
            raise Failed(f"HTTP {response.status}")
        return elapsed, json.loads(body)

    lines = [
        f"| request ({args.label}) | page 1 p50 / p99 / max ms | page {args.pages} p50 / p99 / max ms | items on page {args.pages} |",
        "| --- | ---: | ---: | ---: |",
    ]
    requests = [(name, query, "/v1/products", "items", None) for name, query in REQUESTS]
    if args.orders:
        requests += [
            ("order history, buyer with 2,000 orders", "", "/v1/orders", "orders", "buyer-0@bench.example"),
            ("seller fulfilments, ~2,000", "", "/v1/seller/fulfilments", "fulfilments", "seller-0@bench.example"),
        ]
    for name, query, path, key, email in requests:
        headers.clear()
        if email:
            headers.update(sign_in(email))
        fmt = lambda v: f"{percentile(v, 50):.1f} / {percentile(v, 99):.1f} / {v[-1]:.1f}"
        try:
            get(query, path)  # warm-up
            first = fmt(sorted(get(query, path)[0] for _ in range(args.runs)))
        except Failed as failed:
            lines.append(f"| {name} | {failed} | — | — |")
            print(lines[-1], flush=True)
            continue
        cursor_query = query
        try:
            for page in range(2, args.pages + 1):
                _, body = get(cursor_query, path)
                cursor = body.get("next_cursor")
                if not cursor:
                    break
                cursor_query = "&".join(
                    part for part in (query, f"cursor={urllib.parse.quote(cursor)}") if part
                )
            deep = sorted(get(cursor_query, path)[0] for _ in range(args.runs))
            _, last = get(cursor_query, path)
        except Failed as failed:
            lines.append(f"| {name} | {first} | {failed} (page {page}) | — |")
            print(lines[-1], flush=True)
            continue
        reached = "" if cursor_query != query or args.pages == 1 else " (one page only)"
        lines.append(f"| {name} | {first} | {fmt(deep)}{reached} | {len(last[key])} |")
        print(lines[-1], flush=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
