#!/usr/bin/env bash
# What the zero-row guard (crates/shopnow-kernel/src/sql/never_empty.rs) costs PostgreSQL: the same
# three statements sent as written and as the PostgreSQL adapter rewrites them, by pgbench with
# unnamed extended-protocol statements (Parse/Bind/Execute each time, as Spin's client sends
# them). Alternates plain and guarded runs so drift hits both. Loopback only; bounded in time.
#   bench/pgbench/never-empty/run.sh   # ROWS=1000000 SECONDS_PER_RUN=10 CLIENTS=4 ROUNDS=2 OUT=...
# Output: one line per run (statement, variant, tps, average latency) and the raw pgbench files
# under OUT (default bench/results/<date>/never-empty).
set -euo pipefail
cd "$(dirname "$0")/../../.."
rows="${ROWS:-1000000}" seconds="${SECONDS_PER_RUN:-10}" clients="${CLIENTS:-4}" rounds="${ROUNDS:-2}"
out="$(realpath -m "${OUT:-bench/results/$(date -u +%F)/never-empty}")"
mkdir -p "$out"
cd bench/pgbench/never-empty
db=shopnow_bench_guard
psql -h 127.0.0.1 -U postgres -qXc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -h 127.0.0.1 -U postgres -qX -d "$db" -v rows="$rows" -f setup.sql
for round in $(seq 1 "$rounds"); do
  for statement in hit miss page; do
    for variant in "" -guarded; do
      file="$out/$statement$variant-r$round.txt"
      pgbench -h 127.0.0.1 -U postgres -n -M extended -c "$clients" -j 2 -T "$seconds" \
        -D rows="$rows" -f "$statement$variant.sql" "$db" >"$file" 2>&1
      tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$file")
      lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$file")
      printf '%s\t%s\tround %s\ttps %s\tlatency_avg_ms %s\n' "$statement" "${variant:-plain}" "$round" "$tps" "$lat"
    done
  done
done | tee "$out/summary.tsv"
psql -h 127.0.0.1 -U postgres -qXc "DROP DATABASE $db"
