#!/bin/sh
# Every test, run inside a throwaway cluster: `pg_virtualenv -t sh test/run_all.sh`
# (what `make test` does). Prints a closing "N passed, M failed" line.
set -u
cd "$(dirname "$0")/.."

passed=0
failed=0
record() {
	if [ "$1" -eq 0 ]; then passed=$((passed + 1)); echo "== ok: $2"
	else failed=$((failed + 1)); echo "== FAILED: $2"; fi
}

make -s installcheck
status=$?
[ $status -ne 0 ] && [ -f regression.diffs ] && cat regression.diffs
record $status "pg_regress suite (sql/, expected/)"

for t in test/regress_clock_ahead.sh test/plpgsql_check.sh test/security.sh test/cancel.sh test/concurrency.sh test/dump_restore.sh test/handoff_notify.sh test/crash_recovery.sh test/upgrade.sh test/scale_out.sh test/train_vs_sklearn.sh test/train_realistic.sh; do
	echo "== running $t"
	sh "$t"
	record $? "$t"
done

echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
