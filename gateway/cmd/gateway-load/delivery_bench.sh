#!/usr/bin/env bash
# delivery_bench.sh measures every delivery scenario of issue 11 in one run
# and ends with one table: scenario, figure, target, met. Every scenario
# starts a fresh gateway (gateway.yaml: storage.sync true, delivery.workers
# 64, loopback allowed) on an empty data directory, and gateway-load runs
# the receiver itself, verifying every signature with sdk/verify:
#
#   e2e       Fan-out 1 against the raw ceiling. First 64 Go clients POST
#             signed deliveries straight to the receiver for DUR s (the raw
#             ceiling); then 64 goroutines publish single events for DUR s
#             with no window, to one webhook with max_in_flight 64. The rate
#             is deliveries / (publish time + drain time). Target >= 0.25 x
#             raw. Its cpu/delivery is the "saturation" row.
#   decoys    The same publish load with DECOYS webhooks registered first,
#             each with its own two patterns ("t<i>.order.*",
#             "t<i>.invoice.paid") matching nothing published. Target: the
#             rate with decoys >= 0.9 x the e2e rate (matching costs <= 10%).
#   fanout    100 webhooks taking every event (max_in_flight 8, the
#             default), the same 64 publishers, at most 100 events (10,000
#             deliveries) undelivered. Target: deliveries/s >= 0.8 x the e2e
#             rate.
#   latency   One webhook (max_in_flight 64, as in e2e: the default 8 caps
#             one webhook near 1000 deliveries/s here), single-event
#             publishes at each rate of RATES, on a 1 ms ticker, one
#             goroutine per publish (64 idle connections kept), WARMUP s
#             then LAT_DUR s measured. Targets: p99 publish-to-arrival
#             < 5 ms at 200/s, < 10 ms at 1000/s; cpu/delivery <= 0.3 ms at
#             every rate. Keep RATES below what e2e reaches: past it, the
#             publishes in flight (and their connections) grow without
#             bound, and the tool measures its own pile-up.
#   pending   100,000 events to one webhook answering 503 after 2 s, the
#             default retry schedule; VmRSS once every delivery exists.
#             Target < 256 MiB. gateway-load runs this gateway itself (-gw),
#             so it also kills it with SIGKILL and times the restart.
#   pending1m PENDING events (1,000,000) to one webhook whose endpoint reads
#             each request and never answers, retry_schedule [1h]; VmRSS
#             and VmHWM once every delivery exists; then SIGKILL, restart on
#             the same data, time to GET /readyz 200 (target < 10 s) and
#             VmRSS right after and SETTLE s later (target < 512 MiB).
#
# decoys and fanout compare with e2e of the same run, so they run it first
# if ONLY leaves it out. Rows whose target is "-" are reported, not judged.
#
# Usage, from anywhere in the repository:
#
#   gateway/cmd/gateway-load/delivery_bench.sh          # everything
#   ONLY=latency gateway/cmd/gateway-load/delivery_bench.sh
#   ONLY=e2e,decoys PENDING=100000 gateway/cmd/gateway-load/delivery_bench.sh
#
# Settings (environment): ONLY (comma-separated scenario names; default
# all), DUR=8 (publish seconds of e2e, decoys and fanout), LAT_DUR=10 and
# WARMUP=2 (latency), RATES="200 1000 2000", DECOYS=10000,
# PENDING=1000000, SETTLE=30, GW_ADDR=127.0.0.1:8080, and QUIET: if set
# (e.g. 0.8), each scenario first waits, up to 3 minutes, until the 1-minute
# load average is below it, so that one scenario's load does not fall on
# the next (the wait is not part of any figure).
#
# How long it takes on the 2-core machine of BENCHMARKS.md, on main of
# 2026-12-03 before the engine rewrite (d7055cb): e2e 16 s, decoys 75 s
# (registering 10,000 webhooks 9-13 s; the backlog then drains at ~300
# deliveries/s), fanout 12 s, latency 12-13 s a rate, pending 68 s (two
# SETTLE waits), pending1m 4-5 minutes (1M deliveries created in 105-139 s,
# a 33-42 s restart, two SETTLE waits, 45 s to count 1M deliveries through
# the API): about 8 minutes in all, plus the builds and any QUIET waits. On
# main after the rewrite (2e667cc) decoys took 21 s and pending1m 209 s.
# PENDING=100000 makes pending1m take a little over a minute.
#
# Needs go, bash, awk and GW_ADDR free. Binaries, data and logs live in one
# temporary directory, removed with every process the script started when
# it exits.
set -euo pipefail

ONLY=${ONLY:-e2e,decoys,fanout,latency,pending,pending1m}
DUR=${DUR:-8}
LAT_DUR=${LAT_DUR:-10}
WARMUP=${WARMUP:-2}
RATES=${RATES:-200 1000 2000}
DECOYS=${DECOYS:-10000}
PENDING=${PENDING:-1000000}
SETTLE=${SETTLE:-30}
GW_ADDR=${GW_ADDR:-127.0.0.1:8080}
QUIET=${QUIET:-}

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gateway-dbench.XXXXXX")
# shellcheck source=procs.sh
source "$(dirname "$0")/procs.sh"

# want NAME: NAME is one of the scenarios ONLY selects.
want() { [[ ",$ONLY," == *",$1,"* ]]; }

# gateway NAME: starts a fresh gateway; its pid is in $GW.
gateway() {
	port_free "$GW_ADDR"
	start "$WORK/gw" serve --config "$ROOT/gateway.yaml" --data "$WORK/data-$1" --addr "$GW_ADDR" 2>"$WORK/gw-$1.log"
	GW=$LAST
}

# report NAME ARGS...: prints the report of gateway-load ARGS, saved in
# $WORK/NAME.txt, with the load average before it and how long it took
# (TOOK[NAME]); fails if any delivery was lost or rejected.
declare -A TOOK
NAMES=()
report() {
	local name=$1 t0=$SECONDS
	shift
	echo
	echo "-- $name: gwload $* (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
	"$WORK/gwload" "$@" >"$WORK/$name.txt"
	TOOK[$name]=$((SECONDS - t0))
	NAMES+=("$name")
	cat "$WORK/$name.txt"
	echo "($name took ${TOOK[$name]} s)"
	if grep -Eq 'missing [1-9]|rejected [1-9]' "$WORK/$name.txt"; then
		echo "delivery_bench.sh: $name lost or rejected deliveries" >&2
		exit 1
	fi
}

# quiet: with QUIET set, waits up to 3 minutes for the 1-minute load
# average to drop below it.
quiet() {
	[[ -n $QUIET ]] || return 0
	for _ in $(seq 180); do
		awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v q="$QUIET" 'BEGIN {exit !(l < q)}' && return 0
		sleep 1
	done
	echo "delivery_bench.sh: the load average stayed at or above $QUIET; measuring anyway" >&2
}

# deliver NAME ARGS...: -mode deliver against a fresh gateway.
deliver() {
	local name=$1
	shift
	quiet
	gateway "$name"
	report "$name" -url "http://$GW_ADDR" -wait 10s -pid "$GW" -mode deliver "$@"
	stop "$GW"
}

# pending NAME ARGS...: -mode pending, with gateway-load running the
# gateway itself.
pending() {
	local name=$1
	shift
	quiet
	port_free "$GW_ADDR"
	report "$name" -url "http://$GW_ADDR" -mode pending -gw "$WORK/gw" -config "$ROOT/gateway.yaml" \
		-data "$WORK/data-$name" -gw-log "$WORK/gw-$name.log" -settle "${SETTLE}s" -batch 1000 -c 4 -fanout 1 "$@"
}

# num NAME LINE FIELD: field FIELD of the line of report NAME starting LINE.
num() { awk -v l="$2" -v f="$3" 'index($0, l) == 1 {print $f; exit}' "$WORK/$1.txt"; }

# cmp A OP B: "yes" if A OP B holds (OP is >=, <= or <), else "no".
cmp() {
	awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN {
		if (a == "") { print "no"; exit }
		ok = (op == ">=") ? (a + 0 >= b + 0) : (op == "<=") ? (a + 0 <= b + 0) : (a + 0 < b + 0)
		print ok ? "yes" : "no"
	}'
}

# div A B: A / B with two decimals.
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "" }'; }

# row SCENARIO FIGURE TARGET MET: one line of the summary table.
ROWS=()
row() { ROWS+=("$(printf '| %s | %s | %s | %s |' "$1" "$2" "$3" "$4")"); }

# cpurow NAME LABEL: the cpu/delivery row of report NAME.
cpurow() {
	local v
	v=$(num "$1" 'cpu/delivery' 2)
	row "cpu/delivery, $2" "$v ms" "<= 0.3 ms" "$(cmp "$v" '<=' 0.3)"
}

# rss NAME LINE, hwm NAME LINE: VmRSS, VmHWM in MiB from the memory line
# LINE of report NAME.
rss() { num "$1" "$2" 4; }
hwm() { awk -v l="$2" 'index($0, l) == 1 {for (i = 1; i < NF; i++) if ($i == "VmHWM") {print $(i + 1); exit}}' "$WORK/$1.txt"; }

run_e2e() {
	deliver e2e -fanout 1 -max-in-flight 64 -c 64 -batch 1 -window 0 -d "${DUR}s" -warmup 0s -raw-c 64
	E2E=$(num e2e 'end-to-end/s' 2)
	local raw ratio
	raw=$(num e2e 'raw requests/s' 3)
	ratio=$(num e2e 'e2e ratio' 3)
	row "e2e: fan-out 1, 64 publishers, ${DUR} s" "$E2E deliveries/s over $raw raw req/s = **$ratio**" ">= 0.25" "$(cmp "$ratio" '>=' 0.25)"
	row "e2e, old figure (deliveries/s received during -d)" "$(num e2e 'deliveries/s' 2) = $(num e2e 'ratio' 2) of raw" "-" "-"
	cpurow e2e "saturation (e2e)"
}

# versus NAME LABEL TARGET ARGS...: -mode deliver ARGS as NAME, judged by
# its end-to-end rate over e2e's, which must be at least TARGET.
versus() {
	local name=$1 label=$2 target=$3 v r
	shift 3
	deliver "$name" "$@"
	v=$(num "$name" 'end-to-end/s' 2)
	r=$(div "$v" "$E2E")
	row "$label" "$v deliveries/s = **$r** of e2e" ">= $target" "$(cmp "$r" '>=' "$target")"
	cpurow "$name" "$label"
}

run_decoys() {
	versus decoys "decoys: $DECOYS non-matching webhooks" 0.9 \
		-fanout 1 -max-in-flight 64 -c 64 -batch 1 -window 0 -d "${DUR}s" -warmup 0s -raw-c 0 -decoys "$DECOYS"
}

run_fanout() {
	versus fanout100 "fan-out 100" 0.8 -fanout 100 -c 64 -batch 1 -window 100 -d "${DUR}s" -warmup 0s -raw-c 0
}

run_latency() {
	local r n p99 target
	for r in $RATES; do
		n=rate$r
		deliver "$n" -fanout 1 -max-in-flight 64 -c 64 -batch 1 -rate "$r" -d "${LAT_DUR}s" -warmup "${WARMUP}s" -raw-c 0
		p99=$(num "$n" 'latency ms' 8)
		case $r in
		200) target=5 ;;
		1000) target=10 ;;
		*) target= ;;
		esac
		if [[ -n $target ]]; then
			row "latency at $r events/s" "p50 $(num "$n" 'latency ms' 4), p99 **$p99** ms" "p99 < $target ms" "$(cmp "$p99" '<' "$target")"
		else
			row "latency at $r events/s" "p50 $(num "$n" 'latency ms' 4), p99 $p99 ms" "-" "-"
		fi
		cpurow "$n" "$r events/s"
	done
}

run_pending() {
	pending pending100k -n 100000 -slow 2s
	local v
	v=$(rss pending100k 'memory created')
	row "100,000 pending (503 after 2 s), default config" "VmRSS **$v** MiB (VmHWM $(hwm pending100k 'memory created')) once created" "< 256 MiB" "$(cmp "$v" '<' 256)"
	row "100,000 pending: restart" "ready in $(num pending100k 'ready after' 3) s; VmRSS $(rss pending100k 'memory ready'), ${SETTLE} s later $(rss pending100k 'memory later') MiB" "-" "-"
}

run_pending1m() {
	pending pending1m -n "$PENDING" -hang 127.0.0.1:0 -retry-schedule 1h
	local n ready a b
	n=$PENDING
	row "$n pending (never answers, retry [1h])" "VmRSS $(rss pending1m 'memory created') MiB, VmHWM $(hwm pending1m 'memory created') MiB once created" "-" "-"
	ready=$(num pending1m 'ready after' 3)
	row "$n pending: SIGKILL, restart to /readyz 200" "**$ready** s" "< 10 s" "$(cmp "$ready" '<' 10)"
	a=$(rss pending1m 'memory ready')
	b=$(rss pending1m 'memory later')
	row "$n pending: VmRSS after ready, ${SETTLE} s later" "**$a**, **$b** MiB (VmHWM $(hwm pending1m 'memory later'))" "< 512 MiB" "$(cmp "$(awk -v a="$a" -v b="$b" 'BEGIN {print (a > b) ? a : b}')" '<' 512)"
	row "$n pending: unfinished after the restart" "$(num pending1m 'unfinished' 2) of $n" "-" "-"
}

cd "$ROOT"
echo "== machine"
echo "cpus:   $(nproc) x $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "go:     $(go version)"
echo "date:   $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' plus uncommitted changes')"
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg)"
go build -o "$WORK/gw" ./gateway/cmd/gateway
go build -o "$WORK/gwload" ./gateway/cmd/gateway-load

E2E=
if want e2e || want decoys || want fanout; then run_e2e; fi
if want decoys; then run_decoys; fi
if want fanout; then run_fanout; fi
if want latency; then run_latency; fi
if want pending; then run_pending; fi
if want pending1m; then run_pending1m; fi

echo
echo "== summary ($(date -u +%Y-%m-%dT%H:%M:%SZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| Scenario | Figure | Target | Met? |"
echo "|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "Time taken, s (without builds and QUIET waits):$(for k in "${NAMES[@]}"; do printf ' %s %s;' "$k" "${TOOK[$k]}"; done)"
