#!/bin/sh
# The pg_regress suite on a server whose clock runs ahead: Debian's libfaketime
# is preloaded into a cluster of the test's own, so that now() in the server is
# CLOCK_AHEAD (default +400 days) after today. The suite must pass there as it
# does today: tests pin their instants, or show only what cannot drift.
#
# Run as root inside pg_virtualenv (what test/run_all.sh does) or as any user
# who may run initdb. CLOCK_AHEAD takes libfaketime's offsets: +400d, +20y.
set -eu
cd "$(dirname "$0")/.."
NAME=regress_clock_ahead
CLOCK_AHEAD=${CLOCK_AHEAD:-+400d}
FAKETIME_LIB=${FAKETIME_LIB:-/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/faketime/libfaketime.so.1}
. "$(dirname "$0")/lib.sh"
# the suite sees the notices lib.sh silences, and reaches only this cluster
unset PGOPTIONS PGHOST PGPORT PGUSER PGDATABASE PGSERVICE 2>/dev/null || true
[ -f "$FAKETIME_LIB" ] || fail "no $FAKETIME_LIB: install Debian's libfaketime (test/install_deps.sh does)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ls_clock.XXXXXX")
trap 'status=$?; stop_cluster ahead; [ $status -ne 0 ] && [ -s "$WORK/ahead.log" ] && tail -15 "$WORK/ahead.log" >&2; rm -rf "$WORK"; exit $status' EXIT
trap 'exit 130' INT TERM

step "a server whose clock is $CLOCK_AHEAD ahead (libfaketime)"
# only the wall clock moves; timeouts and waits keep the real monotonic clock
start_cluster ahead "LD_PRELOAD='$FAKETIME_LIB' FAKETIME='$CLOCK_AHEAD' FAKETIME_DONT_FAKE_MONOTONIC=1"
export PGHOST=127.0.0.1 PGPORT="$(cat "$WORK/ahead.port")" PGUSER="$SUPERUSER"
server_now=$(psql -X -At -d postgres -c "SELECT date_trunc('second', now())")
days=$(psql -X -At -d postgres -c "SELECT round(extract(epoch FROM now() - '$(date -u '+%Y-%m-%d %H:%M:%S')+00'::timestamptz) / 86400)")
echo "   the server's now() is $server_now, $days days after this machine's clock"
[ "$days" -ge 365 ] || fail "the server's clock is only $days days ahead; the test wants at least a year"

step "the pg_regress suite there"
if ! make -s installcheck > "$WORK/regress.txt" 2>&1; then
	cat "$WORK/regress.txt" >&2
	[ -f regression.diffs ] && cat regression.diffs >&2
	fail "the suite fails with the server's clock $CLOCK_AHEAD ahead"
fi
grep -E 'tests passed' "$WORK/regress.txt" | sed 's/^ */   /'
echo "ok: $NAME"
