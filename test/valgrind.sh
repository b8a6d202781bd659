#!/bin/sh
# Memory safety: the pg_regress suite against a server whose every backend
# runs under valgrind (memcheck). Fails on any valgrind error that happens in
# lead_scoring.so: an invalid read or write, or a use of uninitialised memory.
# (The extension allocates only with palloc in memory contexts, which free it
# wholesale; valgrind's leak check cannot see inside them on this server.) Slow (minutes); run it with `make valgrind`.
# Debian's server is not built with USE_VALGRIND, so memory inside a memory
# context chunk is not tracked; reads and writes past palloc'd blocks and all
# malloc misuse are.
set -eu
NAME=valgrind
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
bindir=$(pg_config --bindir)
work=$(mktemp -d "${TMPDIR:-/tmp}/ls_valgrind.XXXXXX")
chmod 755 "$work"
port=55432
user=postgres
run() { if [ "$(id -u)" -eq 0 ]; then su "$user" -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
[ "$(id -u)" -eq 0 ] && chown "$user" "$work"

cleanup() {
	run "$bindir/pg_ctl -D $work/data -m fast stop" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

step "initdb and start a server under valgrind (port $port)"
run "$bindir/initdb -D $work/data -U postgres --auth=trust -E UTF8 --locale=C" > "$work/initdb.log"
cat >> "$work/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$work'
port = $port
max_parallel_workers_per_gather = 2
jit = off
CONF
run "valgrind --quiet --trace-children=yes --track-origins=yes --read-var-info=yes \
	--leak-check=no --num-callers=30 --error-markers=VALGRINDERROR-BEGIN,VALGRINDERROR-END \
	--log-file=$work/valgrind.%p.log $bindir/postgres -D $work/data" > "$work/server.log" 2>&1 &
for i in $(seq 1 120); do pg_isready -q -h "$work" -p "$port" && break; sleep 1; done
pg_isready -q -h "$work" -p "$port" || fail "the server did not start under valgrind"

step "the pg_regress suite"
status=0
# the suite sees the notices lib.sh silences for the shell tests
PGOPTIONS= PGHOST=$work PGPORT=$port PGUSER=postgres make -C "$top" -s installcheck || status=$?
[ "$status" -eq 0 ] || { cat "$top/regression.diffs" 2>/dev/null | head -40; fail "the suite failed under valgrind"; }

run "$bindir/pg_ctl -D $work/data -m fast stop" > /dev/null
step "valgrind errors in lead_scoring.so"
# An error is the extension's when the first frame outside valgrind's wrappers
# and libc is in lead_scoring.so (errors inside PostgreSQL that pass through
# the extension further down the stack are the server's).
# frames in the extension: its library, or (with debug information) one of its sources
ours=$(cd "$top/src" && ls ./*.c | sed 's|^\./||; s|\.c$|\\\\.c:|' | paste -sd '|')
cat "$work"/valgrind.*.log | awk -v files="($ours)" '
	/VALGRINDERROR-BEGIN/ { e = ""; inside = 1; first = ""; kind = ""; next }
	inside && kind == "" && /==[0-9]+== [A-Z]/ { kind = $0; sub(/^==[0-9]+== /, "", kind) }
	inside && first == "" && /(at|by) 0x/ && !/vgpreload|libc\.so/ { first = $0 }
	inside { e = e $0 "\n" }
	/VALGRINDERROR-END/ { inside = 0; total++
		if (first ~ /lead_scoring/ || first ~ files) { ours++; printf "%s", e > "/dev/stderr" }
		else { sub(/^.*(at|by) 0x[0-9A-F]+: /, "", first); other[kind " in " first]++ } }
	END { for (k in other) printf "   not ours (%d): %s\n", other[k], k
	      printf "%d %d\n", total, ours > "'"$work"'/counts" }'
read -r all errors < "$work/counts"
echo "   $all valgrind error(s) in all, $errors in lead_scoring.so"
[ "$errors" -eq 0 ] || fail "$errors valgrind error(s) in the extension's code"
echo "ok: $NAME"
