#!/usr/bin/env bash
set -euo pipefail
cd /work/main
scpus="$1" gcpus="$2" name="$3"
W=$(mktemp -d)
env SHOPNOW_TESTHOST_CACHE_DIR=/tmp/exp/cache EXP_KEEP_RESIDENT=1 taskset -c "$scpus" target/release/shopnow-testhost-exp --from bench/hello/spin.toml --listen 127.0.0.1:0 --state-dir $W/state > $W/log 2>&1 &
SP=$!
for _ in $(seq 1 100); do addr=$(sed -n -E 's#^Serving http://([0-9.:]+)$#\1#p' $W/log); [ -n "$addr" ] && break; sleep 0.1; done
curl -sf http://$addr/hello >/dev/null
taskset -c "$gcpus" target/release/shopnow-bench find-peak --target http://$addr --duration 10s --warmup 2s --connections 32 --bound-ms 300 --bound-ms 50 --start-rate 10000 --growth 1.3 --refine 3 --max-rate 200000 --server-pid $SP --retries 10 --out /tmp/expres/$name single --path /hello > /dev/null 2> /tmp/expres/$name.log
kill $SP; wait $SP 2>/dev/null || true; rm -rf $W
