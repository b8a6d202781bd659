# Helpers shared by the shell tests under test/ (sourced, not run).
# The sourcing script sets NAME before calling fail.

fail() {
	echo "FAIL ($NAME): $*" >&2
	exit 1
}
step() { echo "-- $*"; }
# milliseconds since the epoch (GNU date; whole seconds elsewhere)
now_ms() { case $(date +%s%3N) in *N) echo $(($(date +%s) * 1000)) ;; *) date +%s%3N ;; esac; }
since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
# the tests' own notices (rescore reports) would drown what they print
export PGOPTIONS="-c client_min_messages=warning"

# Clusters of a test's own, under a work directory WORK that the test makes:
# the server runs as postgres when we are root (initdb refuses root).
BINDIR=${PG_BINDIR:-$(pg_config --bindir)}
if [ "$(id -u)" -eq 0 ]; then
	SUPERUSER=postgres
	as_server() { su postgres -s /bin/sh -c "$*"; }
else
	SUPERUSER=$(id -un)
	as_server() { sh -c "$*"; }
fi

# a port of 127.0.0.1 nobody listens on, from a range the system does not hand out
free_port() {
	p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000 ))
	while :; do
		rc=0
		"$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$p" -t 1 || rc=$?
		[ "$rc" -eq 2 ] && { echo "$p"; return; }   # 2: no answer
		p=$((p + 1))
	done
}

# start_cluster NAME [ENV]: initdb $WORK/NAME and start it on 127.0.0.1 (port
# in $WORK/NAME.port, log in $WORK/NAME.log); ENV is put before pg_ctl, e.g.
# to preload a library into the server
start_cluster() {
	n=$1
	if [ "$(id -u)" -eq 0 ]; then chmod 755 "$WORK"; chown postgres "$WORK"; fi
	as_server "'$BINDIR/initdb' -D '$WORK/$n' -A trust -U '$SUPERUSER' -E UTF8 --locale=C.UTF-8 >'$WORK/$n.initdb.log' 2>&1" \
		|| { cat "$WORK/$n.initdb.log" >&2; fail "initdb of $n failed"; }
	for attempt in 1 2 3; do
		port=$(free_port)
		if as_server "${2:-} '$BINDIR/pg_ctl' -D '$WORK/$n' -l '$WORK/$n.log' -w -t 60 start \
			-o \"-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$WORK' \
			    -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=32MB \
			    -c max_connections=20 -c TimeZone=UTC\"" >/dev/null 2>&1; then
			echo "$port" > "$WORK/$n.port"
			return 0
		fi
	done
	fail "could not start $n"
}

# stop_cluster NAME: stop a cluster start_cluster started, if it runs
stop_cluster() {
	if [ -f "$WORK/$1/postmaster.pid" ]; then
		as_server "'$BINDIR/pg_ctl' -D '$WORK/$1' -m fast -w stop" >/dev/null 2>&1 || true
	fi
}

# The set-up of the tests against scikit-learn (train_vs_sklearn.sh,
# train_realistic.sh), which set DB and WORK first: Debian's python (for which
# python3-sklearn is installed), q() on DB, and on exit DB and WORK dropped,
# or kept with KEEP_DB=1.
PYTHON=/usr/bin/python3
sklearn_test_setup() {
	export PGTZ=UTC
	q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
	trap sklearn_test_cleanup EXIT
	"$PYTHON" -c 'import numpy, sklearn' 2>/dev/null \
		|| fail "$PYTHON cannot import sklearn: install Debian's python3-sklearn (test/install_deps.sh)"
}
sklearn_test_cleanup() {
	if [ "${KEEP_DB:-0}" = 1 ]; then
		echo "(KEEP_DB=1: database $DB and $WORK kept)"
	else
		dropdb --if-exists "$DB" >/dev/null 2>&1 || true
		rm -rf "$WORK"
	fi
}
