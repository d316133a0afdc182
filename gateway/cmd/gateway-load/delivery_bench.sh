#!/usr/bin/env bash
# delivery_bench.sh produces the webhook delivery figures in BENCHMARKS.md
# ("Delivery"), all in one run. Each step starts a fresh gateway
# (gateway.yaml: storage.sync true, delivery.workers 64, loopback allowed)
# with an empty data directory, and gateway-load runs the receiver itself:
#
#   1. Fan-out 1: the raw ceiling (64 connections POSTing signed deliveries
#      straight to the receiver), then 1 webhook (max_in_flight 64) and
#      publishers as fast as a window of 5000 undelivered events allows.
#   2. Fan-out 10: the same with 10 webhooks (max_in_flight 8, the default;
#      10 x 8 is more than the 64 workers).
#   3. Latency: 1 webhook, 1000 events/s, single-event publishes.
#   4. Memory: 100,000 events to 1 webhook whose endpoint answers 503 after
#      2 s, so that the deliveries stay pending; the gateway's VmRSS once
#      every delivery exists.
#
# Usage, from anywhere in the repository:
#
#   gateway/cmd/gateway-load/delivery_bench.sh        # DUR=10 WARMUP=2 RUNS=1
#   RUNS=3 DUR=20 gateway/cmd/gateway-load/delivery_bench.sh
#
# Needs go, bash and port 8080 free on 127.0.0.1. Binaries, data and logs
# live in one temporary directory, removed with every process the script
# started when it exits.
set -euo pipefail

RUNS=${RUNS:-1}
DUR=${DUR:-10}
WARMUP=${WARMUP:-2}
PENDING=${PENDING:-100000}
GW_ADDR=127.0.0.1:8080
TARGET_RATIO=0.25
TARGET_P99_MS=50
TARGET_RSS_MIB=256

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gateway-dbench.XXXXXX")
# shellcheck source=procs.sh
source "$(dirname "$0")/procs.sh"

# gateway NAME: starts a fresh gateway; its pid is in $GW.
gateway() {
	port_free "$GW_ADDR"
	start "$WORK/gw" serve --config "$ROOT/gateway.yaml" --data "$WORK/data-$1" --addr "$GW_ADDR" 2>"$WORK/gw-$1.log"
	GW=$LAST
	sleep 1
}

# load NAME ARGS...: gateway-load against a fresh gateway, report to
# $WORK/NAME.txt, printed.
load() {
	local name=$1
	shift
	gateway "$name"
	"$WORK/gwload" -url "http://$GW_ADDR" -wait 10s -pid "$GW" -d "${DUR}s" -warmup "${WARMUP}s" "$@" >"$WORK/$name.txt"
	stop "$GW"
	echo "-- $name: gwload $*"
	cat "$WORK/$name.txt"
	if grep -Eq 'missing [1-9]|rejected [1-9]' "$WORK/$name.txt"; then
		echo "delivery_bench.sh: $name lost or rejected deliveries" >&2
		exit 1
	fi
}

# num NAME LINE FIELD: field FIELD of the line of report NAME starting LINE.
num() { awk -v l="$2" -v f="$3" 'index($0, l) == 1 {print $f; exit}' "$WORK/$1.txt"; }

cd "$ROOT"
echo "== machine"
echo "cpus:   $(nproc) x $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "go:     $(go version)"
echo "date:   $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' plus uncommitted changes')"
go build -o "$WORK/gw" ./gateway/cmd/gateway
go build -o "$WORK/gwload" ./gateway/cmd/gateway-load

summary=()
for i in $(seq "$RUNS"); do
	echo
	echo "== run $i"
	load "fanout1-$i" -mode deliver -fanout 1 -max-in-flight 64 -c 8 -batch 10 -raw-c 64
	load "fanout10-$i" -mode deliver -fanout 10 -c 8 -batch 10 -raw-c 64
	load "rate1000-$i" -mode deliver -fanout 1 -c 8 -batch 1 -rate 1000 -raw-c 0
	for f in 1 10; do
		n="fanout$f-$i"
		summary+=("$(printf 'run %d fan-out %2d: raw %s req/s, gateway %s deliveries/s (%s events/s), ratio %s (target >= %s)' \
			"$i" "$f" "$(num "$n" 'raw requests/s' 3)" "$(num "$n" 'deliveries/s' 2)" "$(num "$n" 'events/s' 2)" \
			"$(num "$n" ratio 2)" "$TARGET_RATIO")")
	done
	n="rate1000-$i"
	summary+=("$(printf 'run %d 1000 events/s: p50 %s  p95 %s  p99 %s ms (target p99 < %s)' \
		"$i" "$(num "$n" 'latency ms' 4)" "$(num "$n" 'latency ms' 6)" "$(num "$n" 'latency ms' 8)" "$TARGET_P99_MS")")
done

echo
echo "== $PENDING pending deliveries"
gateway pending
"$WORK/gwload" -url "http://$GW_ADDR" -wait 10s -pid "$GW" -mode pending -n "$PENDING" -batch 1000 -c 4 -fanout 1 >"$WORK/pending.txt"
stop "$GW"
cat "$WORK/pending.txt"
rss=$(awk '$1 == "memory" && $2 == "created" {print $4}' "$WORK/pending.txt")
summary+=("$(printf '%d pending: VmRSS %s MiB once created (target < %s MiB)' "$PENDING" "$rss" "$TARGET_RSS_MIB")")

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
