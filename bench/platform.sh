#!/usr/bin/env bash
# The platform figures of docs/benchmarks.md ("Shopper mix", "Component-model cost", "Database
# bound", "Cold start", "Checkout breakdown") and docs/capacity.md. Raw outputs go to
# bench/results/platform/ (JSON + Markdown per run, logs, machine.txt).
#
#   bench/platform.sh [STEP...]     steps: pg-mix cost coldstart checkout-sql pgbench embedded-mix
#                                   (default: all, in that order); not in the default:
#                                   checkout-steps (seeds fresh databases of its own) and
#                                   profile (perf record of the product read, wasm and native)
#   MIX_FIXED="1160 2320"           fixed-rate mix runs after find-peak (empty: none)
#   MIX_START=100                   find-peak start rate of the mix
#   MIX_ARGS="--weight sign-in=0"   more scenario options for the fixed-rate mix runs
#   MIX_PEAK=1                      0: skip find-peak (only the MIX_FIXED runs, which report
#                                   percentiles per endpoint)
#   OUT=bench/results/platform      where results go
#   MANIFEST=spin.toml              the application the host runs (another build's spin.toml,
#                                   to measure it with the same commands)
#   COST_SEARCH=1                   0: the cost step measures the product read only
#   CHECKOUTS=200                   checkouts of the checkout-steps step (at 5 req/s)
#   SERVER=testhost                 spin: run the application on real Spin (SPIN_BIN, default
#                                   ../shared/bin/spin) instead of the test host, with the same
#                                   options, for side-by-side figures
#
# Host, PostgreSQL 15, Redis and the generator all run on this one 2-core machine over loopback:
# unless a step says otherwise nothing is pinned, so every figure is "the whole stack on 2 cores".
# Needs the release builds of bench/README.md plus shopnow-catalog-seed and
# shopnow-bench-native-catalog, a PostgreSQL at 127.0.0.1:5432 (user postgres, trust) and a Redis
# at 127.0.0.1:6379. Bounded: every generator run has a duration and a request count limit.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/release
out=${OUT:-bench/results/platform}
manifest=${MANIFEST:-spin.toml}
mkdir -p "$out"
port=${PORT:-3300}
addr=127.0.0.1:$port
pg=postgres://postgres@127.0.0.1:5432
# Loopback to a packaged PostgreSQL with a self-signed certificate: TLS off (README, "TLS to
# PostgreSQL"); appended to each service's database URL.
sslmode='?sslmode=disable'
server=${SERVER:-testhost}
spin_bin=${SPIN_BIN:-../shared/bin/spin}
users=${USERS:-1000}
products=${PRODUCTS:-10000}
work="$(mktemp -d)"
host_pid=""

cleanup() {
  if [ -n "$host_pid" ]; then kill "$host_pid" 2>/dev/null || true; wait "$host_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Waits until no build or other benchmark runs and the 1-minute load is below 0.5.
wait_idle() {
  local waited=0
  while pgrep -x rustc >/dev/null || pgrep -x cargo >/dev/null || pgrep -x shopnow-bench >/dev/null ||
    pgrep -f 'bench/(host-overhead|host-counters|smoke)\.sh' >/dev/null ||
    [ "$(awk '{ print ($1 < 0.5) }' /proc/loadavg)" = 0 ]; do
    [ "$waited" -ge 1800 ] && { echo "machine still busy after ${waited}s; giving up" >&2; exit 1; }
    sleep 5
    waited=$((waited + 5))
  done
  echo "quiet: load $(cut -d' ' -f1-3 /proc/loadavg)"
}

fresh_dbs() {
  for s in identity catalog orders; do
    dropdb -h 127.0.0.1 -U postgres --if-exists "shopnow_bench_$s"
    createdb -h 127.0.0.1 -U postgres "shopnow_bench_$s"
  done
}

# start_host BACKEND [TASKSET_CPUS] [extra VAR=VALUE...]: BACKEND is pg (PostgreSQL + Redis) or
# embedded (SQLite + embedded key-value in a fresh state folder).
start_host() {
  local backend="$1" cpus="${2:-0,1}"
  shift 2 || shift $#
  # Every simulated shopper comes from this one address: lift the per-client sign-in and
  # registration limits (the per-account limit stays; the mix signs in with right passwords).
  local env=(SPIN_VARIABLE_IDENTITY_ADMIN_EMAILS=admin@example.com
    SPIN_VARIABLE_IDENTITY_CLIENT_SIGN_IN_LIMIT=1000000000
    SPIN_VARIABLE_IDENTITY_CLIENT_REGISTER_LIMIT=1000000000 "$@")
  local config=runtime-config.toml
  if [ "$backend" = pg ]; then
    config=runtime-config.redis.toml
    env+=(SPIN_VARIABLE_IDENTITY_DATABASE_URL="$pg/shopnow_bench_identity$sslmode"
      SPIN_VARIABLE_CATALOG_DATABASE_URL="$pg/shopnow_bench_catalog$sslmode"
      SPIN_VARIABLE_ORDERS_DATABASE_URL="$pg/shopnow_bench_orders$sslmode")
  fi
  local host_cmd=("$bin/shopnow-testhost")
  [ "$server" = spin ] && host_cmd=("$spin_bin" up)
  env "${env[@]}" taskset -c "$cpus" "${host_cmd[@]}" --from "$manifest" --listen "$addr" \
    --runtime-config-file "$config" --state-dir "$state" >>"$out/host-$backend.log" 2>&1 &
  host_pid=$!
  for _ in $(seq 1 600); do
    if curl -sf "http://$addr/.well-known/jwks.json" >/dev/null 2>&1; then
      # CPU is measured on the process that runs the components: Spin's is the `spin trigger
      # http` child of `spin up` (which only supervises it).
      measure_pid=$host_pid
      [ "$server" = spin ] && measure_pid=$(pgrep -P "$host_pid" | head -n 1)
      return 0
    fi
    sleep 0.1
  done
  echo "host did not start" >&2
  exit 1
}

stop_host() {
  kill "$host_pid"
  wait "$host_pid" 2>/dev/null || true
  host_pid=""
}

seed() {
  local started=$SECONDS
  "$bin/shopnow-catalog-seed" --url "http://$addr" --admin-email admin@example.com \
    --products "$products" | tee -a "$out/seed-$1.txt"
  echo "seed wall time: $((SECONDS - started)) s" | tee -a "$out/seed-$1.txt"
  # This machine's PostgreSQL runs with autovacuum off, so nothing would ever gather statistics
  # on the freshly seeded tables and the planner would guess (production runs autovacuum).
  if [ "$1" = pg ]; then
    for s in identity catalog orders; do
      psql -h 127.0.0.1 -U postgres -d "shopnow_bench_$s" -qc ANALYZE
    done
  fi
}

# mix BACKEND: find-peak of the shopper mix, then fixed 1,160 and 2,320 req/s.
mix() {
  local b="$1"
  if [ "${MIX_PEAK:-1}" = 1 ]; then
    "$bin/shopnow-bench" find-peak --target "http://$addr" --bound-ms 300 --bound-ms 50 \
      --start-rate "${MIX_START:-100}" --growth 1.5 --max-rate 20000 --duration 10s --warmup 3s \
      --connections 256 --threads 1 --server-pid "$measure_pid" --max-other-cores 2 --retries 0 \
      --out "$out/mix-$b-peak" scenario --mix shopper --users "$users" --setup-concurrency 8 \
      >"$out/mix-$b-peak.txt" 2>"$out/mix-$b-peak.log"
    cat "$out/mix-$b-peak.txt"
  fi
  for rate in ${MIX_FIXED-1160 2320}; do
    "$bin/shopnow-bench" scenario --target "http://$addr" --rate "$rate" --duration 30s --warmup 5s \
      --connections 512 --threads 1 --server-pid "$measure_pid" --max-other-cores 2 --retries 0 \
      --allow-errors --out "$out/mix-$b-$rate" --mix shopper --users "$users" --setup-concurrency 8 \
      ${MIX_ARGS:-} >/dev/null 2>"$out/mix-$b-$rate.log"
    sed -n 1,25p "$out/mix-$b-$rate.md"
  done
}

step_pg_mix() {
  wait_idle
  fresh_dbs
  state="$work/state-pg"
  mkdir -p "$state"
  start_host pg
  seed pg
  mix pg
  stop_host
}

# The component-model cost: the catalog component (cache off) under the test host vs the same
# handler code native, each pinned to CPU 0, the generator on CPU 1; PostgreSQL floats.
single() {
  local name="$1" server="$2" path="$3"
  for rate in 200 1000; do
    taskset -c 1 "$bin/shopnow-bench" single --target "http://$server" --path "$path" --rate "$rate" \
      --duration 15s --warmup 3s --connections 64 --server-pid "$spid" --max-other-cores 2 --retries 0 \
      --allow-errors --out "$out/cost-$name-$rate" >/dev/null 2>&1
    sed -n 1,20p "$out/cost-$name-$rate.md"
  done
  taskset -c 1 "$bin/shopnow-bench" find-peak --target "http://$server" --bound-ms 300 --bound-ms 50 \
    --start-rate 500 --max-rate 50000 --duration 8s --warmup 2s --connections 64 --server-pid "$spid" \
    --max-other-cores 2 --retries 0 --out "$out/cost-$name-peak" single --path "$path" >/dev/null 2>&1
  cat "$out/cost-$name-peak.md"
}

step_cost() {
  wait_idle
  state="$work/state-pg"
  mkdir -p "$state"
  start_host pg 0 SPIN_VARIABLE_CATALOG_CACHE_TTL_SECS=0
  spid=$measure_pid
  local id
  id="$(curl -sf "http://$addr/v1/products?limit=1&sort=price" | sed -E 's/^\{"items":\[\{"id":"([0-9a-f-]+)".*/\1/')"
  echo "product $id" | tee "$out/cost-product.txt"
  single wasm-product "$addr" "/v1/products/$id"
  [ "${COST_SEARCH:-1}" = 1 ] && single wasm-search "$addr" "/v1/products?q=oak&limit=20"
  stop_host
  taskset -c 0 "$bin/shopnow-bench-native-catalog" --listen 127.0.0.1:3400 --threads 1 \
    --database-url "$pg/shopnow_bench_catalog" >"$out/native-catalog.log" 2>&1 &
  spid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:3400/v1/products/$id" >/dev/null && break; sleep 0.1; done
  # Same bytes? (request ids and nothing else differ)
  curl -s "http://127.0.0.1:3400/v1/products/$id" >"$out/cost-native-body.json"
  single native-product 127.0.0.1:3400 "/v1/products/$id"
  [ "${COST_SEARCH:-1}" = 1 ] && single native-search 127.0.0.1:3400 "/v1/products?q=oak&limit=20"
  kill "$spid"
  wait "$spid" 2>/dev/null || true
}

# Cold start: a new host process until its first 200 (GET /v1/products?limit=1, PostgreSQL
# backend), with an empty compilation cache and with a warm one; 3 times each.
step_coldstart() {
  wait_idle
  state="$work/state-pg"
  mkdir -p "$state"
  local cache="$work/cache" kind t0 t1
  : >"$out/coldstart.tsv"
  for kind in compile compile compile cached cached cached; do
    [ "$kind" = compile ] && rm -rf "$cache"
    t0=$(date +%s%N)
    if [ "$server" = spin ] && [ "$kind" = compile ]; then
      # Spin's own Wasmtime cache (on by default) is skipped, so every component compiles.
      DISABLE_WASMTIME_CACHE=true start_host pg
    else
      SHOPNOW_TESTHOST_CACHE_DIR="$cache" start_host pg
    fi
    until curl -sf "http://$addr/v1/products?limit=1" >/dev/null; do sleep 0.005; done
    t1=$(date +%s%N)
    printf '%s\t%s\n' "$kind" "$(((t1 - t0) / 1000000))" | tee -a "$out/coldstart.tsv"
    stop_host
  done
}

# The SQL of checkouts as PostgreSQL sees it, with durations: statement logging for 20 checkouts.
step_checkout_sql() {
  wait_idle
  state="$work/state-pg"
  mkdir -p "$state"
  local log=/var/log/postgresql/postgresql-15-main.log lines
  lines=$(wc -l <"$log")
  psql -h 127.0.0.1 -U postgres -qc "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()"
  start_host pg
  "$bin/shopnow-bench" scenario --target "http://$addr" --rate 2 --duration 10s --warmup 0s \
    --connections 4 --mix shopper --users 4 --setup-concurrency 4 --weight search=0 --weight browse=0 \
    --weight product=0 --weight cart.put=0 --weight cart.get=0 --weight orders=0 --weight sign-in=0 \
    --out "$out/checkout-sql-run" >/dev/null 2>&1
  sed -n 1,20p "$out/checkout-sql-run.md"
  psql -h 127.0.0.1 -U postgres -qc "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()"
  stop_host
  tail -n +"$((lines + 1))" "$log" >"$out/checkout-sql.log"
}

# Where a checkout's time goes, with nothing else running and no statement logging: fresh
# databases, the seed, then CHECKOUTS checkouts (one product, a fresh key each) at 5 req/s; one
# table per step event from the host's log: the orders component's checkout and the catalog's
# reserve and commit it calls (bench/checkout-steps.py).
step_checkout_steps() {
  wait_idle
  fresh_dbs
  state="$work/state-steps"
  mkdir -p "$state"
  start_host pg
  seed pg
  local lines checkouts=${CHECKOUTS:-200}
  lines=$(wc -l <"$out/host-pg.log")
  "$bin/shopnow-bench" scenario --target "http://$addr" --rate 5 --duration "$((checkouts / 5))s" \
    --warmup 0s --connections 8 --mix shopper --users 20 --setup-concurrency 4 --weight search=0 \
    --weight browse=0 --weight product=0 --weight cart.put=0 --weight cart.get=0 --weight orders=0 \
    --weight sign-in=0 --out "$out/checkout-steps-load" >/dev/null 2>&1
  sed -n 1,20p "$out/checkout-steps-load.md"
  stop_host
  tail -n +"$((lines + 1))" "$out/host-pg.log" >"$work/steps.log"
  gzip -c "$work/steps.log" >"$out/checkout-steps-host.log.gz"
  python3 bench/checkout-steps.py "$work/steps.log" | tee "$out/checkout-steps.md"
  python3 bench/checkout-steps.py --event reservation.reserve.steps "$work/steps.log" |
    tee "$out/checkout-steps-reserve.md"
  python3 bench/checkout-steps.py --event reservation.commit.steps --status 204 "$work/steps.log" |
    tee "$out/checkout-steps-commit.md"
}

# Where the product read's CPU goes, wasm under the test host vs native: each server pinned to
# CPU 0 at 1,000 req/s of GET /v1/products/{id} (the generator on CPU 1, cache off), `perf record`
# (cpu-clock sampling, call graphs) of the server for 10 s; the report by binary and the top
# functions. The host writes a perf map (SHOPNOW_TESTHOST_PROFILER=perfmap), so the components'
# compiled code is named. Needs the seeded bench databases (pg-mix or checkout-steps first).
profile_server() {
  local name="$1" server="$2" path="$3"
  taskset -c 1 "$bin/shopnow-bench" single --target "http://$server" --path "$path" --rate 1000 \
    --duration 14s --warmup 2s --connections 64 --server-pid "$spid" --max-other-cores 2 --retries 0 \
    --allow-errors --out "$out/profile-$name-load" >/dev/null 2>&1 &
  local gen=$!
  sleep 3
  perf record -F 999 -g -p "$spid" -o "$work/perf-$name.data" -- sleep 10 >/dev/null 2>&1
  wait "$gen"
  sed -n 1,12p "$out/profile-$name-load.md"
  # sed, not head: perf must read to the end, or pipefail stops the script on its SIGPIPE.
  {
    echo "# perf record -F 999 -g -p <server> -- sleep 10, $name, 1000 req/s of $path"
    echo "# (the profiled run's latency includes perf's own overhead on the server's core)"
    echo "## by binary (self time)"
    perf report -i "$work/perf-$name.data" --no-children --sort dso --stdio -g none 2>/dev/null |
      grep -v '^#' | grep -v '^$' | sed -n 1,20p
    echo "## top functions (self time)"
    perf report -i "$work/perf-$name.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
      grep -v '^#' | grep -v '^$' | sed -n 1,70p
    echo "## top functions with their callers (inclusive time)"
    perf report -i "$work/perf-$name.data" --children --sort sym --stdio -g none --percent-limit 3 \
      2>/dev/null | grep -v '^#' | grep -v '^$' | sed -n 1,70p
  } >"$out/profile-$name.txt"
  sed -n 1,24p "$out/profile-$name.txt"
}

step_profile() {
  wait_idle
  state="$work/state-profile"
  mkdir -p "$state"
  start_host pg 0 SPIN_VARIABLE_CATALOG_CACHE_TTL_SECS=0 SHOPNOW_TESTHOST_PROFILER=perfmap
  spid=$measure_pid
  local id
  id="$(curl -sf "http://$addr/v1/products?limit=1&sort=price" | sed -E 's/^\{"items":\[\{"id":"([0-9a-f-]+)".*/\1/')"
  profile_server wasm-product "$addr" "/v1/products/$id"
  stop_host
  taskset -c 0 "$bin/shopnow-bench-native-catalog" --listen 127.0.0.1:3400 --threads 1 \
    --database-url "$pg/shopnow_bench_catalog" >"$out/native-catalog.log" 2>&1 &
  spid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:3400/v1/products/$id" >/dev/null && break; sleep 0.1; done
  profile_server native-product 127.0.0.1:3400 "/v1/products/$id"
  kill "$spid"
  wait "$spid" 2>/dev/null || true
}

step_pgbench() {
  wait_idle
  psql -h 127.0.0.1 -U postgres -q -d shopnow_bench_catalog -f bench/pgbench/setup.sql
  for c in 8 32; do
    pgbench -h 127.0.0.1 -U postgres -n -M extended -c "$c" -j 2 -T 20 -D products="$products" \
      -f bench/pgbench/product-read.sql shopnow_bench_catalog >"$out/pgbench-product-read-c$c.txt" 2>&1
    grep -E 'latency average|tps|number of failed' "$out/pgbench-product-read-c$c.txt"
  done
  # A checkout's SQL: the catalog's part and the orders service's part each alone, then both at
  # once (two pgbench processes, one per database, as a checkout loads both; -j 1 each, so two
  # generator threads in all as alone).
  psql -h 127.0.0.1 -U postgres -q -d shopnow_bench_catalog -f bench/pgbench/setup-checkout-catalog.sql
  psql -h 127.0.0.1 -U postgres -Atq -d shopnow_bench_catalog -c "COPY (SELECT c.n, p.id, \
    p.seller_id, p.title, p.price_amount, p.price_currency FROM bench_checkout_ids c \
    JOIN products p ON p.id = c.id) TO STDOUT" |
    psql -h 127.0.0.1 -U postgres -q -d shopnow_bench_orders -f bench/pgbench/setup-checkout-orders.sql
  local deep side c
  deep=$(psql -h 127.0.0.1 -U postgres -Atq -d shopnow_bench_catalog -c "SELECT count(*) FROM bench_checkout_ids")
  echo "checkout products (deep stock): $deep"
  for side in catalog orders; do
    for c in 8 32; do
      pgbench -h 127.0.0.1 -U postgres -n -M extended -c "$c" -j 2 -T 20 -D deep="$deep" -D users="$users" \
        -f "bench/pgbench/checkout-$side.sql" "shopnow_bench_$side" >"$out/pgbench-checkout-$side-c$c.txt" 2>&1
      echo "$side, -c $c:"
      grep -E 'latency average|tps|number of failed' "$out/pgbench-checkout-$side-c$c.txt"
    done
  done
  local pids=()
  for side in catalog orders; do
    pgbench -h 127.0.0.1 -U postgres -n -M extended -c 16 -j 1 -T 20 -D deep="$deep" -D users="$users" \
      -f "bench/pgbench/checkout-$side.sql" "shopnow_bench_$side" >"$out/pgbench-checkout-both-$side-c16.txt" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"
  for side in catalog orders; do
    echo "both, $side:"
    grep -E 'latency average|tps|number of failed' "$out/pgbench-checkout-both-$side-c16.txt"
  done
}

step_embedded_mix() {
  wait_idle
  state="$work/state-embedded"
  mkdir -p "$state"
  start_host embedded
  seed embedded
  mix embedded
  stop_host
}

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse --short HEAD)"
  echo "nproc: $(nproc)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p')"
  echo "memory: $(free -h | awk '/^Mem:/ { print $2 }')"
  echo "postgres: $(psql -h 127.0.0.1 -U postgres -Atc 'show server_version') shared_buffers=$(psql -h 127.0.0.1 -U postgres -Atc 'show shared_buffers')"
  echo "redis: $(redis-server --version | cut -d' ' -f3)"
} >"$out/machine.txt"

steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(pg-mix cost coldstart checkout-sql pgbench embedded-mix)
for step in "${steps[@]}"; do
  echo "==> $step"
  "step_${step//-/_}"
done
