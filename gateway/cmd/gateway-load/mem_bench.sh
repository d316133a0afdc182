#!/usr/bin/env bash
# mem_bench.sh: the gateway's memory with 1 MiB events, and the throughput
# cost of server.memory_limit (BENCHMARKS.md, "Memory with large events").
#
#   gateway/cmd/gateway-load/mem_bench.sh [rss|limit|all]
#
# rss:   64 publishers send ~1 MiB events (POST /v1/events) for DUR seconds,
#        with no webhook, then with one webhook whose receiver never
#        answers (-hang); reports the gateway's peak VmRSS and VmHWM.
# limit: ingest with server.memory_limit at its default and off: small
#        single events, batches of 100, and 1 MiB events.
#
# GW_BIN runs a prebuilt gateway binary instead of building this tree's
# (to measure another commit); CONFIG is the config file (default this
# tree's gateway.yaml; an older binary needs its own tree's).
set -euo pipefail

WHAT=${1:-all}
DUR=${DUR:-30}
LDUR=${LDUR:-10}
WARMUP=${WARMUP:-2}
GW_ADDR=${GW_ADDR:-127.0.0.1:18431}
# Just under server.max_body_bytes (1 MiB) with the event's envelope.
BIG=1048000
TARGET_RSS_MIB=512

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
CONFIG=${CONFIG:-$ROOT/gateway.yaml}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gateway-mbench.XXXXXX")
source "$(dirname "$0")/procs.sh"

# gateway NAME [ENV=VALUE...]: starts the gateway on a fresh data directory.
gateway() {
	local name=$1
	shift
	port_free "$GW_ADDR"
	start env "$@" "$GW" serve --config "$CONFIG" --data "$WORK/data-$name" --addr "$GW_ADDR" 2>"$WORK/gw-$name.log"
	PID=$LAST
}

# load NAME [ENV=VALUE...] -- GWLOAD-FLAGS...
load() {
	local name=$1 env=()
	shift
	while [[ $1 != -- ]]; do env+=("$1"); shift; done
	shift
	gateway "$name" "${env[@]+"${env[@]}"}"
	# start runs env, which execs the gateway: the pid is the gateway's.
	"$WORK/gwload" -url "http://$GW_ADDR" -wait 10s -pid "$PID" -warmup "${WARMUP}s" "$@" >"$WORK/$name.txt"
	stop "$PID"
	echo "-- $name: ${env[*]+"${env[*]}"} gwload $*"
	cat "$WORK/$name.txt"
	du -sh "$WORK/data-$name" | awk '{print "data dir      " $1}'
	rm -rf "$WORK/data-$name"
}

cd "$ROOT"
echo "== machine"
echo "cpus:   $(nproc) x $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "go:     $(go version)"
echo "date:   $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' plus uncommitted changes')"
if [[ -n ${GW_BIN:-} ]]; then
	GW=$GW_BIN
	echo "gateway: $GW_BIN (prebuilt)"
else
	GW=$WORK/gw
	go build -o "$GW" ./gateway/cmd/gateway
fi
go build -o "$WORK/gwload" ./gateway/cmd/gateway-load

if [[ $WHAT == rss || $WHAT == all ]]; then
	echo
	echo "== 1 MiB events, 64 publishers, ${DUR}s (target: peak RSS < $TARGET_RSS_MIB MiB)"
	load big-nohook -- -mode single -c 64 -size $BIG -d "${DUR}s"
	load big-hang -- -mode single -c 64 -size $BIG -d "${DUR}s" -hang 127.0.0.1:0
	echo "load:   $(cut -d' ' -f1-3 /proc/loadavg)"
fi

if [[ $WHAT == limit || $WHAT == all ]]; then
	echo
	echo "== server.memory_limit default vs off, ${LDUR}s each"
	for lim in default off; do
		env=()
		[[ $lim == off ]] && env=(GATEWAY_SERVER__MEMORY_LIMIT=off)
		load "small-$lim" "${env[@]+"${env[@]}"}" -- -mode single -c 64 -size 200 -d "${LDUR}s"
		load "batch-$lim" "${env[@]+"${env[@]}"}" -- -mode batch -batch 100 -c 16 -size 200 -d "${LDUR}s"
		load "big-$lim" "${env[@]+"${env[@]}"}" -- -mode single -c 64 -size $BIG -d "${LDUR}s"
	done
	echo "load:   $(cut -d' ' -f1-3 /proc/loadavg)"
fi
