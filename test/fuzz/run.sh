#!/bin/sh
# Coverage-guided fuzzing of the extension's parsers with libFuzzer, inside a
# throwaway server (make fuzz).  The server runs with the AddressSanitizer
# runtime preloaded and loads build/lead_scoring_fuzz.so by its path (nothing
# is installed); each target runs in one backend through lead_scoring_fuzz().
#
#   FUZZ_RUNS     executions per target (default 1700000: 11.9 million in all)
#   FUZZ_TARGETS  the targets to run (default: all seven)
#
# Fails on a crash, a sanitizer report, a leak (LeakSanitizer for malloc,
# memory context growth for palloc), an internal error, a round trip that
# changes a state, or an input slower than 10 s.  The input is kept under
# test/fuzz/artifacts/; add it to test/fuzz/corpus/<target>/ with the fix.
set -eu
NAME=fuzz
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
runs=${FUZZ_RUNS:-1700000}
targets=${FUZZ_TARGETS:-"state_in state_recv agg_deserial model pattern match score"}
so=$here/build/lead_scoring_fuzz.so
asan=$(clang-14 -print-file-name=libclang_rt.asan-x86_64.so)
bindir=$(pg_config --bindir)
[ -f "$so" ] && [ -f "$here/build/no_nls.so" ] || fail "not built: run make -C test/fuzz"
[ -f "$asan" ] || fail "no AddressSanitizer runtime at $asan"

work=$(mktemp -d "${TMPDIR:-/tmp}/ls_fuzz.XXXXXX")
chmod 755 "$work"
port=55433
user=postgres
run() { if [ "$(id -u)" -eq 0 ]; then su "$user" -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
[ "$(id -u)" -eq 0 ] && chown "$user" "$work"
cleanup() {
	run "$bindir/pg_ctl -D $work/data -m immediate stop" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

step "initdb and start a server with the AddressSanitizer runtime (niced)"
run "$bindir/initdb -D $work/data -U $user --auth=trust -E UTF8 --locale=C" > "$work/initdb.log"
cat >> "$work/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$work'
port = $port
shared_buffers = 16MB
max_connections = 5
autovacuum = off
jit = off
CONF
# LeakSanitizer runs after inputs that malloc more than they free (libFuzzer's
# -detect_leaks), not at exit, where the server's own allocations would show.
asan_env="LD_PRELOAD='$asan $here/build/no_nls.so' ASAN_OPTIONS=detect_leaks=1:leak_check_at_exit=0:symbolize=1 \
	LSAN_OPTIONS=suppressions=$here/lsan.supp ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer-14 || true) UBSAN_OPTIONS=print_stacktrace=1"
run "env $asan_env nice -n 10 $bindir/pg_ctl -D $work/data -l $work/server.log -w start" > /dev/null ||
	{ tail -20 "$work/server.log"; fail "the server did not start"; }
psql() { command psql -X -q -At -h "$work" -p "$port" -U "$user" -d postgres "$@"; }
psql -c "CREATE FUNCTION lead_scoring_fuzz(text, text, text[]) RETURNS integer
	AS '$so', 'lead_scoring_fuzz' LANGUAGE C STRICT"

total=0
failed=""
for t in $targets; do
	step "$t: $runs executions"
	mkdir -p "$work/corpus/$t" "$work/artifacts"
	[ "$(id -u)" -eq 0 ] && chown -R "$user" "$work/corpus" "$work/artifacts"
	case $t in state_in | model | match | score) dict="'-dict=$here/lead_scoring.dict'," ;; *) dict="" ;; esac
	for i in $(seq 1 30); do pg_isready -q -h "$work" -p "$port" && break; sleep 1; done
	start=$(now_ms)
	# libFuzzer ends the backend with exit() when done: the connection always breaks
	psql -c "SELECT lead_scoring_fuzz('$t', '$work/$t.log', ARRAY[$dict
		'-runs=$runs', '-max_len=4096', '-timeout=10', '-print_final_stats=1',
		'-artifact_prefix=$work/artifacts/$t-', '$work/corpus/$t', '$here/corpus/$t'])" \
		> "$work/$t.psql" 2>&1 || true
	seconds=$(since "$start")
	log=$work/$t.log
	# no log when the backend failed before it started libFuzzer
	done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" 2>/dev/null || true)
	summary=$(grep '^lead_scoring_fuzz: ' "$log" 2>/dev/null || true)
	if [ -z "$done_runs" ] || ! echo "$summary" | grep -qE ': ok$|too few to check memory$' ||
		grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|FAILURE|ALARM|deadly signal' "$log" 2>/dev/null ||
		[ -n "$(ls "$work/artifacts" | grep "^$t-" || true)" ]; then
		failed="$failed $t"
		mkdir -p "$here/artifacts"
		cp "$log" "$work/artifacts/$t-"* "$here/artifacts/" 2>/dev/null || true
		[ -f "$log" ] || head -5 "$work/$t.psql" >&2
		grep -E 'ERROR|runtime error|FAILURE|ALARM|deadly|SUMMARY|^lead_scoring_fuzz' "$log" 2>/dev/null | head -20 >&2 || true
		echo "   FAILED; log and inputs in $here/artifacts/" >&2
		continue
	fi
	total=$((total + done_runs))
	rate=$(awk -v n="$done_runs" -v s="$seconds" 'BEGIN { printf "%d", n / (s > 0 ? s : 1) }')
	cov=$(sed -n 's/^#[0-9]*[[:space:]]*DONE[[:space:]]*cov: \([0-9]*\).*/\1/p' "$log")
	echo "   $done_runs executions in $seconds s ($rate exec/s), $cov coverage edges," \
		"$(sed -n 's/^stat::new_units_added: *//p' "$log") new inputs, peak RSS $(sed -n 's/^stat::peak_rss_mb: *//p' "$log") MB"
	echo "   ${summary#lead_scoring_fuzz: }"
done

if [ -n "$failed" ]; then
	fail "fuzz targets failed:$failed ($total executions in the others)"
fi
echo "ok: $NAME: $total executions over $(echo $targets | wc -w) targets, no crash, sanitizer report or leak"
