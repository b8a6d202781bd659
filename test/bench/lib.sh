# shellcheck shell=sh disable=SC2034,SC2046,SC2086  # sets variables for run.sh; splits figures on purpose
# Helpers of the benchmark suite (sourced by test/bench/run.sh, not run).
# Timing is psql's \timing: the time from sending a statement to having its
# whole result, as an application sees it. Queries that would return many
# rows are wrapped in count(*) and sum() so that no side pays for sending them.

FAILED=0

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# An equality check failed: say so now, and make the run fail at the end.
mismatch() {
	echo "bench: FAIL $*" >&2
	FAILED=1
}

# seconds with 3 decimals from milliseconds
secs() { awk -v ms="$1" 'BEGIN { printf "%.3f", ms / 1000 }'; }

# A step of the run, with the seconds since it began.
step() { echo "-- $* (at $(since "${START:-$(now_ms)}") s)"; }

# Median of the numbers given as arguments.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# time_pair A_PRE A_QUERY A_POST B_PRE B_QUERY B_POST: run side A once to
# warm the caches (not with WARM_UP=0: the data is warm already), then A and
# B alternately BENCH_REPEAT times in one session (so that a burst of load on
# the machine hits both sides alike). Only the QUERY of each side is timed;
# PRE and POST (settings, BEGIN and ROLLBACK…) run around it, untimed. Sets
# A_MS and B_MS (medians, milliseconds) and A_RUNS and B_RUNS (every run,
# seconds).
time_pair() {
	script=$WORK/pair.sql
	{
		printf '%s\n' '\o /dev/null'
		[ "${WARM_UP:-1}" = 0 ] || printf '%s\n%s;\n%s\n' "$1" "$2" "$3"
		i=0
		while [ "$i" -lt "$REPEAT" ]; do
			printf '\\echo @A\n%s\n\\timing on\n%s;\n\\timing off\n%s\n' "$1" "$2" "$3"
			printf '\\echo @B\n%s\n\\timing on\n%s;\n\\timing off\n%s\n' "$4" "$5" "$6"
			i=$((i + 1))
		done
	} > "$script"
	q -f "$script" > "$WORK/pair.out"
	set -- $(awk '/^@A$/ { side = "A" } /^@B$/ { side = "B" }
		/^Time: / { printf "%s:%s\n", side, $2 }' "$WORK/pair.out")
	a="" b=""
	for t in "$@"; do
		case $t in A:*) a="$a ${t#A:}" ;; B:*) b="$b ${t#B:}" ;; esac
	done
	A_MS=$(median $a)
	B_MS=$(median $b)
	A_RUNS=$(for t in $a; do printf '%s ' "$(secs "$t")"; done | sed 's/ $//')
	B_RUNS=$(for t in $b; do printf '%s ' "$(secs "$t")"; done | sed 's/ $//')
}

# report NAME RATIO OP GOAL: the target's line; OP is <= or >=.
report() {
	verdict=$(awk -v r="$2" -v op="$3" -v g="$4" 'BEGIN {
		ok = (op == "<=") ? (r <= g) : (r >= g); print ok ? "met" : "MISSED" }')
	echo "bench: $1 ratio=$2 goal=$3$4 $verdict"
}

# ratio X Y: X / Y with 2 decimals
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", (y > 0) ? x / y : 0 }'; }

# Peak memory of the backend whose pid is (or will be) in PIDFILE, sampled
# every 20 ms from /proc until it exits. Writes to OUT: the private memory
# (RssAnon) when first seen, its peak, and the peak resident set (VmHWM,
# which also counts the shared buffers the backend touched), all in kB.
# Run in the background; it needs to read the server's /proc entries
# (the benchmark runs as root, or as the server's user).
sample_memory() {
	pidfile=$1 out=$2
	tries=0
	while [ ! -s "$pidfile" ]; do
		tries=$((tries + 1))
		[ "$tries" -lt 1000 ] || { echo "0 0 0" > "$out"; return; }
		sleep 0.02
	done
	pid=$(cat "$pidfile")
	first="" peak=0 hwm=0
	while [ -r "/proc/$pid/status" ]; do
		set -- $(awk '/^RssAnon:/ { a = $2 } /^VmHWM:/ { h = $2 } END { print a + 0, h + 0 }' \
			"/proc/$pid/status" 2>/dev/null || echo 0 0)
		[ "$1" -gt 0 ] || break
		[ -n "$first" ] || first=$1
		[ "$1" -gt "$peak" ] && peak=$1
		[ "$2" -gt "$hwm" ] && hwm=$2
		sleep 0.02
	done
	echo "${first:-0} $peak $hwm" > "$out"
}

# measure_memory LABEL SETTINGS QUERY: run QUERY once in a fresh session
# while sampling its backend; sets MEM_IDLE_KB, MEM_PEAK_KB, MEM_HWM_KB and
# MEM_SECONDS.
measure_memory() {
	rm -f "$WORK/pid" "$WORK/mem"
	sample_memory "$WORK/pid" "$WORK/mem" &
	sampler=$!
	{
		echo "$2"
		printf '%s\n' "SELECT pg_catalog.pg_backend_pid() \\g $WORK/pid" "SELECT pg_catalog.pg_sleep(0.2);" \
			'\o /dev/null' '\timing on' "$3;"
	} > "$WORK/mem.sql"
	q -f "$WORK/mem.sql" > "$WORK/mem.out"
	wait "$sampler" || true
	set -- $(cat "$WORK/mem")
	MEM_IDLE_KB=$1 MEM_PEAK_KB=$2 MEM_HWM_KB=$3
	MEM_SECONDS=$(secs "$(awk '/^Time: / { print $2 }' "$WORK/mem.out")")
	if [ "$MEM_PEAK_KB" -eq 0 ]; then
		echo "  ($1: the backend's /proc entry could not be read; memory not measured)"
	fi
}

# mb KB: megabytes with 1 decimal
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# auto_explain_settings [TIMING [MIN_MS]]: what makes a session print the
# executor time of every statement it runs (nested ones included, those
# shorter than MIN_MS left out) as NOTICEs, which nested_durations parses.
# Planning time is not in these figures.
auto_explain_settings() {
	printf '%s\n' "LOAD 'auto_explain';" "SET auto_explain.log_min_duration = ${2:-0};" \
		"SET auto_explain.log_nested_statements = on;" "SET auto_explain.log_analyze = on;" \
		"SET auto_explain.log_timing = ${1:-off};" "SET auto_explain.log_level = notice;" \
		"SET client_min_messages = notice;"
}

# nested_durations FILE: from auto_explain's NOTICEs in FILE, one line per
# distinct statement: how many times it ran, its executor time in all, and
# the start of its text (or of its plan, for the body of a SQL function
# called once per row), the longest first.
nested_durations() {
	awk 'function flush() { if (key != "") { n[key]++; t[key] += d } key = "" }
		/NOTICE: .*duration: / { flush(); for (i = 1; i <= NF; i++) if ($i == "duration:") d = $(i + 1); state = 1; next }
		state == 1 && /^Query Text:/ { sub(/^Query Text: */, ""); if ($0 != "") { key = $0; state = 0 } else state = 2; next }
		state == 2 && NF > 0 { key = $0; gsub(/ *\((cost|actual)[^)]*\)/, "", key); state = 0; next }
		END { flush(); for (k in n) { s = k; gsub(/[ \t]+/, " ", s); printf "%12.3f ms %7d x  %s\n", t[k], n[k], substr(s, 1, 95) } }' "$1" |
		sort -rn | head -n "${2:-15}" | sed 's/^/  /'
}
