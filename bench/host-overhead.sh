#!/usr/bin/env bash
# Measures the test host's own cost per request (docs/benchmarks.md, "Test host overhead"): the
# trivial component (bench/hello) under shopnow-testhost next to the native hyper server answering
# the same bytes, on one core and on two, at fixed rates and with find-peak. Writes every run's
# JSON and Markdown, the CPU time each process used (cpu.tsv) and the machine (machine.txt) to the
# output folder, and optionally a perf profile of the host.
#
# Usage: bench/host-overhead.sh [OUT_DIR]       (default: bench/results/host-overhead)
# Env:   RATES="1000 5000"  DURATION=20s  WARMUP=3s   fixed-rate runs
#        PEAK=1  PEAK_DURATION=10s  PEAK_WARMUP=2s  PEAK_START=1000   find-peak (PEAK=0 skips)
#        PROFILE=1  PROFILE_RATE=5000   perf profile of the one-core test host (needs perf)
#        CONNECTIONS=32   IDLE_WAIT=900 (seconds to wait for the machine to be idle)
#        MAX_OTHER_CORES=0.10 RETRIES=10: a run during which other processes used more CPU is
#          repeated (after a quiet second) up to RETRIES times; one still disturbed says so
#        REQUIRE_IDLE=0 skips waiting for builds to finish (the per-run check still applies)
#
# One core: server pinned to CPU 0, generator to CPU 1. Two cores: both may use CPUs 0 and 1 (the
# generator shares the machine with the server; that limits the two-core figures).
# Loopback only. Builds nothing: run `cargo build --release ...` (bench/README.md) first, and never
# while another build or benchmark runs — the script waits for builds to finish.
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-bench/results/host-overhead}"
rates="${RATES:-1000 5000}"
duration="${DURATION:-20s}"
warmup="${WARMUP:-3s}"
connections="${CONNECTIONS:-32}"
peak="${PEAK:-1}"
profile="${PROFILE:-0}"
max_other="${MAX_OTHER_CORES:-0.10}"
retries="${RETRIES:-10}"
bin=target/release
wasm=target/wasm32-wasip2/release/shopnow_bench_hello.wasm

for f in "$bin/shopnow-bench" "$bin/shopnow-testhost" "$bin/shopnow-bench-native-hello" "$wasm"; do
  [ -e "$f" ] || { echo "missing $f: build first (bench/README.md)" >&2; exit 1; }
done
mkdir -p "$out"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Waits until no cargo or rustc process has run for 30 s in a row. The finer check is per run:
# with --server-pid the generator waits for a quiet second and repeats a run during which other
# processes used CPU (MAX_OTHER_CORES), so a build that starts mid-run does not skew the figures.
wait_idle() {
  [ "${REQUIRE_IDLE:-1}" = 0 ] && return 0
  local waited=0 quiet=0
  while [ "$quiet" -lt 30 ]; do
    if pgrep -x rustc >/dev/null || pgrep -x cargo >/dev/null; then quiet=0; else quiet=$((quiet + 5)); fi
    if [ "$waited" -ge "${IDLE_WAIT:-900}" ]; then
      echo "builds still running after ${waited}s (load $(cut -d' ' -f1-3 /proc/loadavg)); giving up" >&2
      exit 1
    fi
    sleep 5
    waited=$((waited + 5))
  done
}

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse --short HEAD)"
  echo "nproc: $(nproc)"
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p')"
  echo "memory: $(free -h | awk '/^Mem:/ { print $2 }')"
  echo "kernel: $(uname -r)"
  echo "rustc: $(rustc --version)"
} >"$out/machine.txt"
printf '%s\t' config rate requests server_cpu_s server_us_per_req server_cores gen_cpu_s gen_us_per_req \
  gen_cores other_cores softirq_s steal_s wall_s disturbed >"$out/cpu.tsv"
printf 'load_after\n' >>"$out/cpu.tsv"

# start_server LABEL CPUS: starts the server of LABEL (testhost|native) pinned to CPUS.
start_server() {
  local label="$1" cpus="$2" log="$work/$1.log" threads
  threads=$(($(tr -cd , <<<"$cpus" | wc -c) + 1))
  case "$label" in
    testhost)
      taskset -c "$cpus" "$bin/shopnow-testhost" --from bench/hello/spin.toml --listen 127.0.0.1:0 \
        --state-dir "$work/state" >"$log" 2>&1 &
      ;;
    native)
      taskset -c "$cpus" "$bin/shopnow-bench-native-hello" --listen 127.0.0.1:0 --threads "$threads" >"$log" 2>&1 &
      ;;
  esac
  server_pid=$!
  server_addr=""
  for _ in $(seq 1 300); do
    server_addr="$(sed -n -E 's#^(Serving http://|listening on )([0-9.:]+)$#\2#p' "$log" | head -n 1)"
    [ -n "$server_addr" ] && break
    sleep 0.1
  done
  [ -n "$server_addr" ] || { echo "server $label did not start" >&2; cat "$log" >&2; exit 1; }
  # One request so the component is compiled/loaded before anything is measured.
  curl -sf "http://$server_addr/hello" >/dev/null
}

stop_server() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# run_fixed CONFIG GEN_CPUS RATE: one fixed-rate run; its CPU figures go to cpu.tsv.
run_fixed() {
  local config="$1" gen_cpus="$2" rate="$3" name="$1-$3"
  taskset -c "$gen_cpus" "$bin/shopnow-bench" single --target "http://$server_addr" --path /hello \
    --rate "$rate" --duration "$duration" --warmup "$warmup" --connections "$connections" \
    --server-pid "$server_pid" --max-other-cores "$max_other" --retries "$retries" --out "$out/$name" --allow-errors >/dev/null 2>"$out/$name.log"
  jq -r --arg c "$config" --arg l "$(cut -d' ' -f1 /proc/loadavg)" '
    def r(n): if . == null then "-" else (. * pow(10; n) | round / pow(10; n)) end;
    [$c, .settings.rate, .cpu.requests_sent, (.cpu.server_cpu_s | r(2)),
      (.cpu.server_us_per_request | r(1)), (.cpu.server_cores | r(3)), (.cpu.generator_cpu_s | r(2)),
      (.cpu.generator_us_per_request | r(1)), (.cpu.generator_cores | r(3)), (.cpu.other_cores | r(3)),
      (.cpu.softirq_cpu_s | r(2)), (.cpu.steal_cpu_s | r(2)), (.cpu.wall_s | r(2)), .disturbed, $l] | @tsv' \
    "$out/$name.json" >>"$out/cpu.tsv"
  head -n 2 "$out/$name.md" | grep -v '^$'
}

# run_peak CONFIG GEN_CPUS
run_peak() {
  local config="$1" gen_cpus="$2"
  taskset -c "$gen_cpus" "$bin/shopnow-bench" find-peak --target "http://$server_addr" \
    --duration "${PEAK_DURATION:-10s}" --warmup "${PEAK_WARMUP:-2s}" --connections "$connections" \
    --bound-ms 300 --bound-ms 50 --start-rate "${PEAK_START:-1000}" --max-rate 200000 \
    --server-pid "$server_pid" --max-other-cores "$max_other" --retries "$retries" --out "$out/$config-peak" single --path /hello >/dev/null 2>"$out/$config-peak.log"
  head -n 2 "$out/$config-peak.md"
}

wait_idle
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"
for cores in 1 2; do
  if [ "$cores" = 1 ]; then server_cpus=0 gen_cpus=1; else server_cpus=0,1 gen_cpus=0,1; fi
  for label in testhost native; do
    config="$label-${cores}core"
    echo "==> $config (server on CPU $server_cpus, generator on CPU $gen_cpus)"
    wait_idle
    start_server "$label" "$server_cpus"
    for rate in $rates; do run_fixed "$config" "$gen_cpus" "$rate"; done
    if [ "$peak" = 1 ]; then run_peak "$config" "$gen_cpus"; fi
    if [ "$profile" = 1 ] && [ "$config" = testhost-1core ]; then
      echo "==> perf profile of $config at ${PROFILE_RATE:-5000} req/s"
      taskset -c "$gen_cpus" "$bin/shopnow-bench" single --target "http://$server_addr" --path /hello \
        --rate "${PROFILE_RATE:-5000}" --duration 15s --warmup 1s --connections "$connections" \
        --allow-errors >/dev/null &
      gen=$!
      sleep 3
      perf record -e cpu-clock -F 1999 -p "$server_pid" -o "$work/perf.data" -- sleep 10 2>/dev/null
      wait "$gen"
      # To files first: `perf report | head` would die of SIGPIPE under pipefail.
      perf report -i "$work/perf.data" --no-children --sort dso,symbol --percent-limit 0.25 \
        --stdio >"$work/perf-symbols.txt" 2>/dev/null || true
      perf report -i "$work/perf.data" --no-children --sort dso --stdio >"$work/perf-dso.txt" 2>/dev/null || true
      sed -e 's/ *$//' -e '/^$/d' "$work/perf-dso.txt" >"$out/perf-testhost-1core-dso.txt"
      sed -e 's/ *$//' -e 's/  *- *- *$//' -e '/^$/d' "$work/perf-symbols.txt" >"$out/perf-testhost-1core.txt"
    fi
    stop_server
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"
echo "==> results in $out (cpu.tsv: CPU seconds per process and per request)"
column -t -s $'\t' "$out/cpu.tsv"
