#!/usr/bin/env bash
# bench.sh produces the load figures in BENCHMARKS.md, all in one run:
#
#   1. RUNS times: the bare handler (gateway-load -bare) as its own process,
#      loaded with single events; then a fresh gateway (gateway.yaml, so
#      storage.sync is true, with an empty data directory) loaded the same
#      way. Prints each gateway/bare ratio and the median.
#   2. Batch ingest: a fresh gateway for each batch size, in events/s.
#   3. The gateway's VmRSS and VmHWM: idle after start, and after the load.
#
# For every load it also prints the CPU used by the server, by the load
# generator and by everything else on the machine, in % of one core: the
# machine has few cores, and the generator shares them with the server.
#
# Usage, from anywhere in the repository:
#
#   gateway/cmd/gateway-load/bench.sh              # RUNS=3 DUR=10 WARMUP=2 CONC=64
#   RUNS=5 DUR=20 gateway/cmd/gateway-load/bench.sh
#
# DUR and WARMUP are in seconds. Needs go, bash and ports 9090 and 8080 free
# on 127.0.0.1. Binaries, data directories and logs live in one temporary
# directory, which is removed, together with every process the script
# started, when it exits.
set -euo pipefail

RUNS=${RUNS:-3}
DUR=${DUR:-10}
WARMUP=${WARMUP:-2}
CONC=${CONC:-64}
BARE_ADDR=127.0.0.1:9090
GW_ADDR=127.0.0.1:8080
TARGET_RATIO=0.5

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gateway-bench.XXXXXX")
# shellcheck source=procs.sh
source "$(dirname "$0")/procs.sh"

# ready ADDR: GET /readyz answers 2xx.
ready() {
	local status
	exec 3<>"/dev/tcp/${1%:*}/${1#*:}" || return 1
	printf 'GET /readyz HTTP/1.0\r\nHost: %s\r\n\r\n' "$1" >&3
	read -r -t 2 _ status _ <&3 || status=
	exec 3<&-
	[[ $status == 2* ]]
}

# wait_ready ADDR: polls ready for up to 10s.
wait_ready() {
	for _ in $(seq 200); do
		ready "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "bench.sh: $1 did not become ready" >&2
	exit 1
}

# mem PID: VmRSS and VmHWM, with VmRSS split into anonymous memory and
# mapped files (Badger mmaps its logs and tables).
mem() {
	awk '/^VmRSS:/ {r=$2} /^VmHWM:/ {h=$2} /^RssAnon:/ {a=$2} /^RssFile:/ {f=$2}
		END {printf "VmRSS %.0f MiB (anon %.0f, file %.0f), VmHWM %.0f MiB", r/1024, a/1024, f/1024, h/1024}' "/proc/$1/status"
}

# ticks PID: CPU time used so far by PID, in clock ticks.
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

# busy: busy and total clock ticks of the whole machine so far.
busy() { awk '/^cpu / {t=0; for (i=2; i<=9; i++) t+=$i; print t-$5-$6, t}' /proc/stat; }

# load SERVER_PID OUT ARGS...: runs gateway-load with ARGS, report to OUT.
# Samples CPU during the measured part (after the warm-up, 1s short of the
# end) and appends a "cpu" line to the report.
load() {
	local srv=$1 out=$2
	shift 2
	"$WORK/gwload" -c "$CONC" -d "${DUR}s" -warmup "${WARMUP}s" "$@" >"$out" &
	local gen=$! window=$((DUR > 2 ? DUR - 1 : DUR))
	sleep "$WARMUP"
	local s1 g1 m1 t1 s2 g2 m2 t2
	s1=$(ticks "$srv") g1=$(ticks "$gen")
	read -r m1 t1 < <(busy)
	sleep "$window"
	s2=$(ticks "$srv") g2=$(ticks "$gen")
	read -r m2 t2 < <(busy)
	wait "$gen"
	awk -v s=$((s2 - s1)) -v g=$((g2 - g1)) -v m=$((m2 - m1)) -v t=$((t2 - t1)) -v w="$window" -v n="$(nproc)" \
		'BEGIN {hz = t / n / w; o = m - s - g; if (o < 0) o = 0
			printf "cpu           server %.0f%%  load generator %.0f%%  everything else %.0f%%  (%% of one core; %d cores)\n", 100*s/w/hz, 100*g/w/hz, 100*o/w/hz, n}' >>"$out"
}

# field NAME FILE: the value on the report line that starts with NAME.
field() { awk -v n="$1" '$1 == n {print $2}' "$2"; }

# latency FILE: "p50/p99 ms" from a report.
latency() { awk '$1 == "latency" {print $4 "/" $8 " ms"}' "$1"; }

# check FILE: fails loudly if the report counted any failure.
check() {
	if [[ $(field non-2xx "$1") != 0 || $(field errors "$1") != 0 ]]; then
		echo "bench.sh: the run in $1 had failures:" >&2
		cat "$1" >&2
		exit 1
	fi
}

median() { sort -g | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# gateway NAME: starts a fresh gateway with its own data directory and
# waits until it is ready; its pid is in $GW.
gateway() {
	port_free "$GW_ADDR"
	start "$WORK/gw" serve --config "$ROOT/gateway.yaml" --data "$WORK/data-$1" --addr "$GW_ADDR" 2>"$WORK/gw-$1.log"
	GW=$LAST
	wait_ready "$GW_ADDR"
}

cd "$ROOT"
echo "== machine"
echo "cpus:   $(nproc) x $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo "memory: $(free -g | awk '/^Mem:/ {print $2}') GiB"
echo "go:     $(go version)"
echo "date:   $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' plus uncommitted changes')"

go build -o "$WORK/gw" ./gateway/cmd/gateway
go build -o "$WORK/gwload" ./gateway/cmd/gateway-load

echo
echo "== single-event ingest, $CONC connections, ${DUR}s after ${WARMUP}s warm-up, $RUNS runs"
ratios=()
summary=()
for i in $(seq "$RUNS"); do
	port_free "$BARE_ADDR"
	start "$WORK/gwload" -bare "$BARE_ADDR" 2>/dev/null
	BARE=$LAST
	wait_ready "$BARE_ADDR"
	load "$BARE" "$WORK/bare-$i.txt" -url "http://$BARE_ADDR"
	stop "$BARE"
	check "$WORK/bare-$i.txt"

	gateway "single-$i"
	sleep 2
	idle=$(mem "$GW")
	load "$GW" "$WORK/gw-$i.txt" -url "http://$GW_ADDR"
	loaded=$(mem "$GW")
	stop "$GW"
	check "$WORK/gw-$i.txt"

	echo "-- run $i: bare handler"
	cat "$WORK/bare-$i.txt"
	echo "-- run $i: gateway"
	cat "$WORK/gw-$i.txt"
	echo "memory idle   $idle"
	echo "memory after  $loaded"
	b=$(field requests/s "$WORK/bare-$i.txt")
	g=$(field requests/s "$WORK/gw-$i.txt")
	r=$(awk -v g="$g" -v b="$b" 'BEGIN {printf "%.2f", g/b}')
	ratios+=("$r")
	summary+=("$(printf 'run %d: bare %s req/s (p50/p99 %s), gateway %s req/s (p50/p99 %s), ratio %s' \
		"$i" "$b" "$(latency "$WORK/bare-$i.txt")" "$g" "$(latency "$WORK/gw-$i.txt")" "$r")")
done

echo
echo "== batch ingest, $CONC connections, ${DUR}s after ${WARMUP}s warm-up"
for n in 100 1000; do
	gateway "batch-$n"
	sleep 2
	idle=$(mem "$GW")
	load "$GW" "$WORK/batch-$n.txt" -url "http://$GW_ADDR" -mode batch -batch "$n"
	loaded=$(mem "$GW")
	stop "$GW"
	check "$WORK/batch-$n.txt"
	echo "-- batches of $n"
	cat "$WORK/batch-$n.txt"
	echo "memory idle   $idle"
	echo "memory after  $loaded"
	summary+=("$(printf 'batch %d: %s events/s (%s req/s, p50/p99 %s); after: %s' \
		"$n" "$(field events/s "$WORK/batch-$n.txt")" "$(field requests/s "$WORK/batch-$n.txt")" \
		"$(latency "$WORK/batch-$n.txt")" "$loaded")")
done

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
med=$(printf '%s\n' "${ratios[@]}" | median)
met=no
awk -v m="$med" -v t="$TARGET_RATIO" 'BEGIN {exit !(m >= t)}' && met=yes
echo "median gateway/bare ratio: $med (target >= $TARGET_RATIO: $met)"
