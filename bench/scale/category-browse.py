#!/usr/bin/env python3
"""Sequential category-browse timings through a running host (no other load).

    bench/scale/category-browse.py PORT CATEGORY_ID...

For each category: page 1, then the cursor chain to page 50 (or the last page, if the category
has fewer), and 30 requests of each timed one after another with urllib (a new connection each,
so every figure includes the client's connect). Prints p50 and max in ms.
"""
import json
import statistics
import sys
import time
import urllib.request

port, categories = sys.argv[1], sys.argv[2:]


def get(query):
    start = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/products?{query}") as resp:
        body = json.load(resp)
    return (time.perf_counter() - start) * 1000, body


for category in categories:
    query = f"category={category}&limit=20"
    cursor, page = None, 1
    while page < 50:
        _, body = get(query + (f"&cursor={cursor}" if cursor else ""))
        if not body.get("next_cursor"):
            break
        cursor, page = body["next_cursor"], page + 1
    for number, timed in [(1, query), (page, query + (f"&cursor={cursor}" if cursor else ""))]:
        times = sorted(get(timed)[0] for _ in range(30))
        print(f"{category} page {number:2}: p50 {statistics.median(times):6.2f} max {times[-1]:6.2f} ms")
