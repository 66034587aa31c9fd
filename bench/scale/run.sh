#!/usr/bin/env bash
# Sequential latency at scale (bench/scale/search.py, with the order lists) on databases made by
# bench/scale/load, through the test host on PostgreSQL + Redis, nothing else running.
#
#   bench/scale/run.sh PREFIX LABEL OUT.md      e.g. shopnow_scale 1M bench/results/…/1m.md
#   MANIFEST=spin.toml  RUNS=30  PORT=3400  SERVER=testhost (or spin: ../shared/bin/spin up)
#
# The catalog cache is off (catalog_cache_ttl_secs=0) so every request reaches the database.
set -euo pipefail
cd "$(dirname "$0")/../.."
prefix=$1 label=$2 out=$3
manifest=${MANIFEST:-spin.toml}
port=${PORT:-3400}
pg=postgres://postgres@127.0.0.1:5432
state=$(mktemp -d)
host=(target/release/shopnow-testhost)
[ "${SERVER:-testhost}" = spin ] && host=("${SPIN_BIN:-../shared/bin/spin}" up)
SPIN_VARIABLE_IDENTITY_DATABASE_URL="$pg/${prefix}_identity?sslmode=disable" \
  SPIN_VARIABLE_CATALOG_DATABASE_URL="$pg/${prefix}_catalog?sslmode=disable" \
  SPIN_VARIABLE_ORDERS_DATABASE_URL="$pg/${prefix}_orders?sslmode=disable" \
  SPIN_VARIABLE_CATALOG_CACHE_TTL_SECS=0 \
  SPIN_VARIABLE_IDENTITY_CLIENT_SIGN_IN_LIMIT=1000000 \
  setsid "${host[@]}" --from "$manifest" --listen "127.0.0.1:$port" \
  --runtime-config-file runtime-config.redis.toml --state-dir "$state" >"$out.host.log" 2>&1 &
pid=$!
trap 'kill -- -$pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$state"' EXIT
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/.well-known/jwks.json" >/dev/null 2>&1 && break
  sleep 0.1
done
mkdir -p "$(dirname "$out")"
{
  echo "# $label: $manifest on ${SERVER:-testhost}, databases ${prefix}_*, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD)"
  echo
  nproc | sed 's/^/cores: /'
  echo
} >"$out"
timeout 1200 python3 bench/scale/search.py --target "http://127.0.0.1:$port" --label "$label" \
  --runs "${RUNS:-30}" --orders --out "$out.table"
cat "$out.table" >>"$out"
rm -f "$out.table"
