#!/usr/bin/env bash
# Benchmark smoke test (CI calls it): builds the load generator, the test host, the native hello
# server and the hello component, then drives `/hello` for about three seconds under the test host
# and under the native server. Fails if any request failed or anything did not build or start.
# Loopback only; every server it starts listens on a free port and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

rate="${SMOKE_RATE:-200}"
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> building (release): generator, test host, native hello, hello component"
cargo build --locked --release -p shopnow-bench -p shopnow-testhost -p shopnow-bench-native-hello
cargo build --locked --release --target wasm32-wasip2 -p shopnow-bench-hello

# Starts a server in the background (not in a subshell, so cleanup knows its pid) and sets
# server_addr to the address it announced. $1: a regex whose first group is the address; the rest:
# the command.
start_server() {
  local pattern="$1" log addr
  shift
  log="$work/server-${#pids[@]}.log"
  "$@" >"$log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 300); do
    addr="$(sed -n -E "s#${pattern}#\1#p" "$log" | head -n 1)"
    if [ -n "$addr" ]; then
      server_addr="$addr"
      return 0
    fi
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "smoke: server did not start: $*" >&2
  cat "$log" >&2
  return 1
}

start_server '^Serving http://([0-9.:]+)$' \
  target/release/shopnow-testhost --from bench/hello/spin.toml --listen 127.0.0.1:0 \
  --state-dir "$work/state"
host_addr="$server_addr"
start_server '^listening on ([0-9.:]+)$' \
  target/release/shopnow-bench-native-hello --listen 127.0.0.1:0 --threads 1
native_addr="$server_addr"

status=0
for pair in "testhost:$host_addr" "native:$native_addr"; do
  name="${pair%%:*}"
  addr="${pair#*:}"
  echo "==> $name at $addr: GET /hello, $rate req/s for 3 s"
  if ! target/release/shopnow-bench single --target "http://$addr" --path /hello \
    --rate "$rate" --duration 2.5s --warmup 0.5s --connections 8 --out "$work/smoke-$name"; then
    echo "smoke: $name had errors (see the first line above)" >&2
    status=1
  fi
done
exit "$status"
