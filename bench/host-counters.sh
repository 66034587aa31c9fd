#!/usr/bin/env bash
# Per-request kernel counters of a server under a fixed load (docs/benchmarks.md, "Where the test
# host's time goes"): page faults, context switches and CPU migrations from `perf stat`, and the
# system calls from `strace -c` (in a separate, slower run: strace itself costs a lot per call).
#
# Usage: bench/host-counters.sh testhost|native SERVER_CPUS GEN_CPUS RATE [OUT_PREFIX]
#   e.g. bench/host-counters.sh testhost 0 1 5000 bench/results/host-overhead/counters-testhost-1core
# Needs perf, strace and jq; builds nothing (bench/README.md); loopback only. Run it on a quiet
# machine: the output says how much CPU other processes used during the perf window's run.
set -euo pipefail
cd "$(dirname "$0")/.."

label="$1" server_cpus="$2" gen_cpus="$3" rate="$4" out="${5:-}"
bin=target/release
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

threads=$(($(tr -cd , <<<"$server_cpus" | wc -c) + 1))
case "$label" in
  testhost)
    taskset -c "$server_cpus" "$bin/shopnow-testhost" --from bench/hello/spin.toml --listen 127.0.0.1:0 \
      --state-dir "$work/state" >"$work/server.log" 2>&1 &
    ;;
  native)
    taskset -c "$server_cpus" "$bin/shopnow-bench-native-hello" --listen 127.0.0.1:0 --threads "$threads" \
      >"$work/server.log" 2>&1 &
    ;;
  *) echo "usage: $0 testhost|native SERVER_CPUS GEN_CPUS RATE [OUT_PREFIX]" >&2; exit 2 ;;
esac
server_pid=$!
addr=""
for _ in $(seq 1 300); do
  addr="$(sed -n -E 's#^(Serving http://|listening on )([0-9.:]+)$#\2#p' "$work/server.log" | head -n 1)"
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "$addr" ] || { cat "$work/server.log" >&2; exit 1; }
curl -sf "http://$addr/hello" >/dev/null

# load SECONDS: the generator at RATE for SECONDS (1 s warm-up first), in the background.
load() {
  taskset -c "$gen_cpus" "$bin/shopnow-bench" single --target "http://$addr" --path /hello --rate "$rate" \
    --duration "$1s" --warmup 1s --connections 32 --allow-errors --server-pid "$server_pid" \
    --retries 0 --quiet-wait 0s --out "$work/gen-$1" >/dev/null 2>&1 &
  gen=$!
}

load 12
sleep 2.5
perf stat -e task-clock,context-switches,cpu-migrations,page-faults,minor-faults,major-faults \
  -p "$server_pid" -o "$work/perf-stat.txt" -- sleep 10
wait "$gen"
requests=$((rate * 10))
{
  echo "# $label, server on CPU $server_cpus, generator on CPU $gen_cpus, $rate req/s; perf stat over 10 s"
  echo "# = $requests requests; per request = count / $requests"
  grep -E 'task-clock|context-switches|cpu-migrations|faults' "$work/perf-stat.txt" |
    awk -v n="$requests" '{ gsub(",", "", $1)
      if ($2 == "msec") printf "%-18s %14s  %10.1f µs per request\n", "task-clock (ms)", $1, $1 * 1000 / n
      else printf "%-18s %14s  %10.2f per request\n", $2, $1, $1 / n }'
  head -n 1 "$work/gen-12.md"
  # The generator's accounting over its whole run: other processes must have been idle.
  jq -r '"other processes: \(.cpu.other_cores * 100 | round / 100) cores during the run" +
    (if .disturbed then " — DISTURBED, repeat on a quiet machine" else "" end)' "$work/gen-12.json"
} | tee "$work/counters.txt"

# strace: syscall counts per request at a tenth of the rate (strace slows every call down).
rate=$((rate / 10))
load 6
sleep 2.5
timeout 5 strace -c -f -q -p "$server_pid" -o "$work/strace.txt" || true
wait "$gen"
{
  echo "# strace -c -f over ~5 s at $rate req/s (~$((rate * 5)) requests); calls per request = calls / $((rate * 5))"
  awk -v n="$((rate * 5))" 'NR > 2 && $NF != "total" && $4 ~ /^[0-9]+$/ { printf "%-20s %10d  %8.2f per request\n", $NF, $4, $4 / n }' \
    "$work/strace.txt" | sort -k2 -n -r | head -n 20
} | tee "$work/syscalls.txt"

if [ -n "$out" ]; then
  mkdir -p "$(dirname "$out")"
  cp "$work/counters.txt" "$out.txt"
  cp "$work/syscalls.txt" "$out-syscalls.txt"
fi
