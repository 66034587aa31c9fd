# Sourced by bench/scale/{mix,endpoints}.sh: start_host PREFIX MANIFEST ADDR LOG starts the test
# host (target/release/shopnow-testhost) on the PREFIX_{identity,catalog,orders} databases with
# Redis, sign-in limits out of the way, in its own process group, and waits until it answers;
# its pid is then in host_pid. stop_host stops it (and is safe to call twice).
host_pid=""
start_host() {
  local prefix=$1 manifest=$2 addr=$3 log=$4 state
  local pg=postgres://postgres@127.0.0.1:5432
  state=$(mktemp -d)
  SPIN_VARIABLE_IDENTITY_ADMIN_EMAILS=admin@example.com \
    SPIN_VARIABLE_IDENTITY_CLIENT_SIGN_IN_LIMIT=1000000000 \
    SPIN_VARIABLE_IDENTITY_CLIENT_REGISTER_LIMIT=1000000000 \
    SPIN_VARIABLE_IDENTITY_DATABASE_URL="$pg/${prefix}_identity?sslmode=disable" \
    SPIN_VARIABLE_CATALOG_DATABASE_URL="$pg/${prefix}_catalog?sslmode=disable" \
    SPIN_VARIABLE_ORDERS_DATABASE_URL="$pg/${prefix}_orders?sslmode=disable" \
    setsid target/release/shopnow-testhost --from "$manifest" --listen "$addr" \
    --runtime-config-file runtime-config.redis.toml --state-dir "$state" >>"$log" 2>&1 &
  host_pid=$!
  for _ in $(seq 1 600); do
    curl -sf "http://$addr/.well-known/jwks.json" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "host did not start (see $log)" >&2
  exit 1
}
stop_host() {
  [ -n "$host_pid" ] && { kill -- "-$host_pid" 2>/dev/null || true; wait "$host_pid" 2>/dev/null || true; }
  host_pid=""
}
# record_machine FILE: the kernel, cores, commit, memory and page cache, PostgreSQL's
# shared_buffers and the scale databases' sizes (a 1M dataset larger than the cache reads from
# disk: docs/benchmarks.md, "Category browse by the category index").
record_machine() {
  local file=$1
  { uname -a; nproc; git rev-parse HEAD; free -m
    psql postgres://postgres@127.0.0.1:5432/postgres -XAtc "SELECT 'shared_buffers ' || current_setting('shared_buffers')" \
      -c "SELECT datname || ' ' || pg_size_pretty(pg_database_size(datname)) FROM pg_database WHERE datname LIKE 'shopnow_scale%' ORDER BY 1"
  } >"$file" 2>&1 || true
}
