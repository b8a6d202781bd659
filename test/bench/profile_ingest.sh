# shellcheck shell=sh disable=SC2086
# Where the time of a single-row insert goes (sourced by test/bench/run.sh,
# in the benchmark's database, after the ingest targets).
#
#  1. the trigger's cost per statement: one pgbench client, with and without
#     the live-scoring trigger (latency average);
#  2. per function: track_functions = 'all' over PROFILE_INSERTS inserts,
#     calls, total and self time from pg_stat_user_functions (self time is
#     the function's own statements, planning included, without the tracked
#     functions it calls);
#  3. per statement: auto_explain at NOTICE level with nested statements on,
#     the executor time of every statement one insert runs (planning is not
#     in it: the difference to the self times above is mostly planning).

profile_ingest() {
	step "profile of a single-row insert (live-scoring trigger)"
	pgb() {
		pgbench -n -c 1 -j 1 -T "$PROFILE_SECONDS" -f test/bench/ingest.pgbench -D leads="$LEADS" "$PGDATABASE" 2>&1 |
			awk '/^latency average/ { print $4 }'
	}
	q -c 'ALTER TABLE lead_scoring.activities DISABLE TRIGGER lead_scoring_score_inserts'
	without=$(pgb)
	q -c 'ALTER TABLE lead_scoring.activities ENABLE TRIGGER lead_scoring_score_inserts'
	with=$(pgb)
	echo "  one client, ${PROFILE_SECONDS} s each: $without ms per insert without scoring, $with ms with;" \
		"the trigger costs $(awk -v a="$with" -v b="$without" 'BEGIN { printf "%.2f", a - b }') ms per statement"

	# the same inserts, one transaction each, from one session
	awk -v n="$PROFILE_INSERTS" -v leads="$LEADS" 'BEGIN { srand(7); for (i = 0; i < n; i++)
		printf "INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at, properties) VALUES (%d, %s, now(), %s);\n",
			1 + int(rand() * leads), (i % 2) ? "'\''web_visit'\''" : "'\''email_open'\''",
			(i % 10) ? "'\''{}'\''" : "'\''{\"page\": \"pricing\"}'\''" }' > "$WORK/inserts.sql"
	q -c 'SELECT pg_catalog.pg_stat_reset()' > /dev/null
	q -c "SET track_functions = 'all'" -f "$WORK/inserts.sql"
	sleep 1   # the session's statistics reach the shared counters when it ends
	echo "  per function over $PROFILE_INSERTS inserts (ms per insert; self = without the tracked functions it calls):"
	psql -X -q -v ON_ERROR_STOP=1 -P footer=off -c "
		SELECT f.funcname AS function, f.calls,
		       round((f.total_time / $PROFILE_INSERTS)::numeric, 3) AS total_ms,
		       round((f.self_time / $PROFILE_INSERTS)::numeric, 3) AS self_ms
		  FROM pg_catalog.pg_stat_user_functions f
		 WHERE f.schemaname = 'lead_scoring'
		 ORDER BY f.total_time DESC, f.funcname" | sed 's/^/    /'

	echo "  per statement of one insert (auto_explain: executor time only, no planning):"
	{
		head -n 20 "$WORK/inserts.sql"
		auto_explain_settings
		sed -n 21p "$WORK/inserts.sql"
	} > "$WORK/explain.sql"
	q -f "$WORK/explain.sql" 2> "$WORK/explain.out" > /dev/null
	nested_durations "$WORK/explain.out"

	echo "  per statement of the INSERT ... SELECT of $INSERT_ROWS rows, rolled back (auto_explain, 1 ms or more):"
	{
		auto_explain_settings off 1
		printf '%s\n' 'BEGIN;' "$INSERT_SQL;" 'ROLLBACK;'
	} > "$WORK/bulk.sql"
	q -f "$WORK/bulk.sql" 2> "$WORK/bulk.out" > /dev/null
	nested_durations "$WORK/bulk.out" 12
}
