#!/usr/bin/env bash
# Server CPU per request for each kind of the shopper mix on its own: one test host on one
# dataset made by bench/scale/load, then for each kind a fixed-rate run with every other kind's
# weight at 0, so a report's "server µs per request" is that kind's alone. Tells which requests
# the mix's CPU per request is made of (docs/benchmarks.md, "CPU per request by kind").
#
#   bench/scale/endpoints.sh OUT_DIR [PREFIX]
#   defaults: PREFIX shopnow_scale;  RATE=50  DURATION=20s  USERS=100  MANIFEST=spin.toml
#   KINDS="search browse product cart.put cart.get checkout orders" (sign-in is left out: argon2id)
#
# Needs target/release/{shopnow-testhost,shopnow-bench}. Bounded: every run has a duration; the
# whole script takes about 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$1 prefix=${2:-shopnow_scale}
rate=${RATE:-50} duration=${DURATION:-20s} users=${USERS:-100}
kinds=${KINDS:-search browse product cart.put cart.get checkout orders}
all_kinds="search browse product cart.put cart.get checkout orders sign-in"
bin=target/release
addr=127.0.0.1:${PORT:-3405}
mkdir -p "$out"
. bench/scale/host.sh
record_machine "$out/machine.txt"
trap stop_host EXIT
start_host "$prefix" "${MANIFEST:-spin.toml}" "$addr" "$out/host.log"
printf '| kind | requests | p50 ms | p99 ms | server µs per request | other processes, cores | steal s |\n' >"$out/summary.md"
printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n' >>"$out/summary.md"
for kind in $kinds; do
  weights=()
  for other in $all_kinds; do
    [ "$other" = "$kind" ] || weights+=(--weight "$other=0")
  done
  "$bin/shopnow-bench" scenario --target "http://$addr" --rate "$rate" --duration "$duration" \
    --warmup 5s --connections 64 --threads 1 --server-pid "$host_pid" --max-other-cores 2 --retries 0 \
    --out "$out/$kind" --mix shopper --users "$users" --setup-concurrency 8 "${weights[@]}" \
    >/dev/null 2>"$out/$kind.log" || echo "$kind: the generator reported errors (see $out/$kind.md)" >&2
  python3 - "$out/$kind.json" "$kind" >>"$out/summary.md" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
row = next(e for e in report["endpoints"] if e["name"] == sys.argv[2])
cpu = report["cpu"]
print(f"| {sys.argv[2]} | {row['requests']} | {row['latency']['p50_ms']:.3f} | {row['latency']['p99_ms']:.3f} "
      f"| {cpu['server_us_per_request']:.1f} | {cpu['other_cores']:.2f} | {cpu['steal_cpu_s']:.2f} |")
EOF
done
cat "$out/summary.md"
