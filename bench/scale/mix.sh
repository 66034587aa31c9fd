#!/usr/bin/env bash
# The shopper mix at marketplace scale, in one run: on the 10k-product databases and on the
# 1M-product ones (both made by bench/scale/load), through the test host on PostgreSQL + Redis:
# find-peak (p99 ≤ 300 ms and ≤ 50 ms), then a fixed rate without sign-ins for per-endpoint
# p50/p99 and host CPU per request. With BEFORE=MANIFEST, each dataset's fixed-rate run is
# preceded by the same run with that manifest (an earlier build), back to back.
#
#   bench/scale/mix.sh OUT_DIR [SMALL_PREFIX] [LARGE_PREFIX]
#   defaults: shopnow_scale10k shopnow_scale;  RATE=100  USERS=1000  MANIFEST=spin.toml  BEFORE=
#   PEAK=0 skips find-peak (fixed rate only); SIZES="small" or "large" runs one dataset only.
#
# Needs target/release/{shopnow-testhost,shopnow-bench}. Bounded: every generator run has a
# duration; the whole script takes about 15 minutes. A run with errors is reported and the script
# goes on to the next one.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$1 small=${2:-shopnow_scale10k} large=${3:-shopnow_scale}
rate=${RATE:-100} users=${USERS:-1000}
bin=target/release
port=${PORT:-3401}
addr=127.0.0.1:$port
mkdir -p "$out"
. bench/scale/host.sh
record_machine "$out/machine.txt"
trap stop_host EXIT
fixed() {
  local name=$1
  "$bin/shopnow-bench" scenario --target "http://$addr" --rate "$rate" --duration 30s --warmup 5s \
    --connections 256 --threads 1 --server-pid "$host_pid" --max-other-cores 2 --retries 0 \
    --out "$out/$name" --mix shopper --users "$users" --setup-concurrency 8 \
    --weight sign-in=0 >/dev/null 2>"$out/$name.log" ||
    echo "$name: the generator reported errors (the report says which); going on" >&2
  sed -n 1,25p "$out/$name.md"
}
peak() {
  local name=$1
  "$bin/shopnow-bench" find-peak --target "http://$addr" --bound-ms 300 --bound-ms 50 \
    --start-rate 100 --growth 1.5 --max-rate 20000 --duration 10s --warmup 3s \
    --connections 256 --threads 1 --server-pid "$host_pid" --max-other-cores 2 --retries 0 \
    --out "$out/$name" scenario --mix shopper --users "$users" --setup-concurrency 8 \
    >"$out/$name.txt" 2>"$out/$name.log" || echo "$name: find-peak failed (see $out/$name.log)" >&2
  cat "$out/$name.md"
}
for size in ${SIZES:-small large}; do
  case $size in small) prefix=$small ;; large) prefix=$large ;; *) echo "SIZES: small or large, not $size" >&2; exit 2 ;; esac
  if [ -n "${BEFORE:-}" ]; then
    start_host "$prefix" "$BEFORE" "$addr" "$out/host-$size-before.log"; fixed "$size-before-no-sign-in"; stop_host
  fi
  start_host "$prefix" "${MANIFEST:-spin.toml}" "$addr" "$out/host-$size.log"; fixed "$size-no-sign-in"
  [ "${PEAK:-1}" = 0 ] || peak "$size-peak"
  stop_host
done
