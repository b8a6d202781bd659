# shellcheck shell=sh disable=SC2086
# Where the time of lead_scoring.rescore() goes (sourced by test/bench/run.sh,
# in the benchmark's database): one more rescore() under auto_explain (row
# counts, no per-node timing), the executor time of each statement it runs,
# and, timed apart, the fit scores of every lead (the engagement part is the
# aggregate without workers, timed above: rescore() runs no parallel plan,
# since its statement writes).

profile_rescore() {
	step "profile of lead_scoring.rescore() ($LEADS leads)"
	{
		auto_explain_settings off
		printf '%s\n' '\timing on' 'SELECT * FROM lead_scoring.rescore();'
	} > "$WORK/rescore_explain.sql"
	q -f "$WORK/rescore_explain.sql" 2> "$WORK/rescore_explain.out" > "$WORK/rescore_timing.out"
	echo "  rescore() under auto_explain: $(secs "$(awk '/^Time: / { print $2 }' "$WORK/rescore_timing.out")") s;" \
		"executor time of its statements (in all, times run, text):"
	nested_durations "$WORK/rescore_explain.out" 10
	printf '%s\n' '\o /dev/null' '\timing on' \
		"SELECT count(*), sum(lead_scoring.fit_score(m.definition, lead_scoring.fit_attributes(l.email, l.first_name, l.last_name, l.company, l.attributes)))
		   FROM lead_scoring.leads l, lead_scoring.active_model m;" > "$WORK/fit.sql"
	echo "  fit of every lead alone (fit_score of fit_attributes): $(secs "$(q -f "$WORK/fit.sql" | awk '/^Time: / { print $2 }')") s"
}
