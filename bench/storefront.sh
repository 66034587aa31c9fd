#!/usr/bin/env bash
# The storefront figures of docs/benchmarks.md ("Storefront pages"): page views through the
# storefront beside the API reads they wrap, in one run (`shopnow-bench scenario --mix
# storefront`: eight kinds of equal weight, so RATE=200 is 100 pages/s and 100 API reads/s), then
# each kind alone for the host's CPU time per request. On the test host over PostgreSQL and Redis,
# on the 10k-product scale dataset:
#
#   bench/scale/load --prefix shopnow_scale10k --products 10000 --users 2000 --orders 10000
#   cargo build --locked --release -p shopnow-testhost -p shopnow-bench
#   cargo build --locked --release --target wasm32-wasip2 -p shopnow-identity-component \
#     -p shopnow-catalog-component -p shopnow-orders-component -p shopnow-payments-sim \
#     -p shopnow-storefront-component
#   bench/storefront.sh
#
#   RATE=200 DURATION=30s USERS=50 ALONE_RATE=50 PREFIX=shopnow_scale10k OUT=bench/results/storefront
#
# The host, PostgreSQL, Redis and the generator share this machine's 2 cores over loopback.
# Bounded: every run has a duration; the host stops on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/scale/host.sh
source bench/scale/host.sh

out=${OUT:-bench/results/storefront}
rate=${RATE:-200}
duration=${DURATION:-30s}
users=${USERS:-50}
alone_rate=${ALONE_RATE:-50}
prefix=${PREFIX:-shopnow_scale10k}
addr=127.0.0.1:${PORT:-3300}
bench=target/release/shopnow-bench
kinds="page.home api.home page.search api.search page.product api.product page.cart api.cart"

mkdir -p "$out"
trap stop_host EXIT
record_machine "$out/machine.txt"
echo "command: bench/storefront.sh RATE=$rate DURATION=$duration USERS=$users ALONE_RATE=$alone_rate PREFIX=$prefix" >>"$out/machine.txt"
start_host "$prefix" spin.toml "$addr" "$out/host.log"

run() {
  local name=$1 at=$2 length=$3
  shift 3
  "$bench" scenario --target "http://$addr" --rate "$at" --duration "$length" --warmup 5s \
    --connections 128 --server-pid "$host_pid" --max-other-cores 2 --retries 0 --allow-errors \
    --out "$out/$name" --mix storefront --users "$users" "$@" >/dev/null 2>"$out/$name.log"
}

echo "==> pages and API reads together at $rate req/s"
run "mix-$rate" "$rate" "$duration"
sed -n 1,40p "$out/mix-$rate.md"

for kind in $kinds; do
  weights=()
  for other in $kinds; do
    [ "$other" = "$kind" ] || weights+=(--weight "$other=0")
  done
  echo "==> $kind alone at $alone_rate req/s"
  run "alone-$kind" "$alone_rate" 15s "${weights[@]}"
  grep -iE "cpu|p99" "$out/alone-$kind.md" | head -n 4
done
