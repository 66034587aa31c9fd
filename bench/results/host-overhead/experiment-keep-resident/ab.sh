#!/usr/bin/env bash
# A/B of the pooling allocator's keep-resident settings in a scratch copy of the test host.
set -euo pipefail
cd /work/main
mode="$1" scpus="$2" gcpus="$3" rate="$4"
W=$(mktemp -d)
envs=(SHOPNOW_TESTHOST_CACHE_DIR=/tmp/exp/cache)
[ "$mode" = on ] && envs+=(EXP_KEEP_RESIDENT=1)
env "${envs[@]}" taskset -c "$scpus" target/release/shopnow-testhost-exp --from bench/hello/spin.toml --listen 127.0.0.1:0 --state-dir $W/state > $W/log 2>&1 &
SP=$!
for _ in $(seq 1 100); do addr=$(sed -n -E 's#^Serving http://([0-9.:]+)$#\1#p' $W/log); [ -n "$addr" ] && break; sleep 0.1; done
curl -sf http://$addr/hello >/dev/null
taskset -c "$gcpus" target/release/shopnow-bench single --target http://$addr --path /hello --rate $rate --duration 12s --warmup 2s --server-pid $SP --allow-errors --out /tmp/expres/$mode-$scpus-$rate >/dev/null 2>$W/gen.err &
G=$!
sleep 3
perf stat -e task-clock,page-faults,context-switches -p $SP -o $W/ps.txt -- sleep 8
wait $G
faults=$(awk '/page-faults/ {gsub(",","",$1); print $1}' $W/ps.txt)
echo "$mode server=$scpus gen=$gcpus rate=$rate faults/req=$(awk -v f=$faults -v r=$rate 'BEGIN{printf "%.2f", f/(r*8)}') $(jq -r '"server_us/req=\(.cpu.server_us_per_request|.*10|round/10) server_cores=\(.cpu.server_cores|.*100|round/100) other=\(.cpu.other_cores|.*100|round/100) p50=\(.overall.latency.p50_ms) p99=\(.overall.latency.p99_ms) errors=\(.errors)"' /tmp/expres/$mode-$scpus-$rate.json)"
kill $SP; wait $SP 2>/dev/null || true; rm -rf $W
