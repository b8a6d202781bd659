#!/bin/sh
# Long work answers a cancel while it runs, not when it is done: a
# statement_timeout of a tenth of the work's own uncancelled time must stop
# logistic_regression (a Newton step on 1,500 leads x 600 features, one
# row's m^2 work between checks) and check_model (the largest model allowed,
# 100,000 fit rules) well before they would finish. Every duration is taken
# inside the server (clock_timestamp) and compared with the same work's time
# in the same run, so load slows both sides alike.
#
# Run inside a cluster: pg_virtualenv -t sh test/cancel.sh
set -eu
NAME=cancel
DB=ls_cancel
. "$(dirname "$0")/lib.sh"
trap 'dropdb --if-exists "$DB" >/dev/null 2>&1 || true' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

createdb "$DB"
q <<'SQL'
CREATE EXTENSION lead_scoring;
-- work(kind) runs one piece of long work; elapsed_ms(kind) says how long it
-- ran before it ended or was cancelled, and whether it was cancelled
CREATE TABLE training_input AS
  SELECT array(SELECT random() < 0.4 FROM generate_series(1, 1500)) AS won,
         array(SELECT array(SELECT random() + 0 * i FROM generate_series(1, 600))
                 FROM generate_series(1, 1500) i) AS features
    FROM (SELECT setseed(0.17)) s;
CREATE TABLE big_model AS
  SELECT jsonb_build_object('components', '[{"component": "c", "dimension": "fit"}]'::jsonb,
           'fit_rules', (SELECT jsonb_agg(jsonb_build_object('rule_id', i, 'component', 'c',
                                  'attribute', 'a' || i, 'test', 'present', 'points', 1))
                           FROM generate_series(1, 100000) i)) AS definition;
CREATE FUNCTION work(kind text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  iterations integer;
BEGIN
  IF kind = 'logistic_regression' THEN
    SELECT (lead_scoring.logistic_regression(won, features, 1.0)).iterations INTO iterations FROM training_input;
    RETURN iterations;
  END IF;
  PERFORM lead_scoring.check_model(definition) FROM big_model;
  RETURN 1;
END $$;
CREATE FUNCTION elapsed_ms(kind text, OUT ms double precision, OUT cancelled boolean, OUT iterations integer)
LANGUAGE plpgsql AS $$
DECLARE
  started timestamptz := clock_timestamp();
BEGIN
  cancelled := false;
  BEGIN
    iterations := work(kind);
  EXCEPTION WHEN query_canceled THEN
    cancelled := true;
  END;
  ms := 1000 * extract(epoch FROM clock_timestamp() - started);
END $$;
SQL

# check KIND: time it whole, then with a timeout of a
# tenth of one step (an iteration of the fit; the whole check of a model)
check() {
	kind=$1
	full=$(q -c "SELECT ms || ' ' || iterations FROM elapsed_ms('$kind')")
	ms=${full% *}
	iterations=${full#* }
	step_ms=$(awk -v ms="$ms" -v n="$iterations" 'BEGIN { printf "%.1f", ms / n }')
	timeout=$(awk -v s="$step_ms" 'BEGIN { t = int(s / 10 + 0.5); print (t < 1 ? 1 : t) }')
	got=$(q -c "BEGIN" -c "SET LOCAL statement_timeout = $timeout" \
		-c "SELECT round(ms::numeric, 1) || ' ' || cancelled FROM elapsed_ms('$kind')" -c "COMMIT")
	cancel_ms=${got% *}
	echo "   $kind: $ms ms whole ($iterations steps of $step_ms ms); a timeout of $timeout ms ended it after $got"
	[ "${got#* }" = true ] || fail "$kind was not cancelled by a statement_timeout of $timeout ms (a tenth of one of its $iterations steps)"
	awk -v c="$cancel_ms" -v s="$step_ms" 'BEGIN { exit !(c < s / 2) }' \
		|| fail "$kind answered a cancel after $cancel_ms ms, more than half of one step ($step_ms ms): it does not check for interrupts while it works"
}

step "logistic_regression on 1,500 leads x 600 features"
check logistic_regression
step "check_model of 100,000 fit rules (the most a model may have)"
check check_model
echo "   ok: both answered the cancel within half a step"
