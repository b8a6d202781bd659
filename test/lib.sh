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
