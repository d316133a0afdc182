# procs.sh: process bookkeeping shared by bench.sh and delivery_bench.sh.
# Source it after setting WORK; it removes WORK and stops every process
# started with start (or added to PIDS) when the script exits.

PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start CMD...: runs CMD in the background; its pid is in $LAST.
start() {
	"$@" &
	LAST=$!
	PIDS+=("$LAST")
}

# stop PID: SIGTERM, then wait for it to exit.
stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	local keep=()
	for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	PIDS=("${keep[@]+"${keep[@]}"}")
}

# port_free ADDR fails if something already listens on ADDR.
port_free() {
	if (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null; then
		echo "$(basename "$0"): $1 is in use; stop whatever listens there first" >&2
		exit 1
	fi
}

