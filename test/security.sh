#!/bin/sh
# Attacks by real login roles: each logs in (password, over TCP) with only the
# roles create_roles() makes (bi, sales, marketing, admin) or none, and tries
# what the security review found. Every attack must be refused, no login may
# become superuser, and afterwards the audit, the data and the scores must be
# exactly as before (compared row by row, as md5 of each table).
#
# Run inside a cluster: pg_virtualenv -t sh test/security.sh
set -eu
cd "$(dirname "$0")/.."
NAME=security
DB=ls_security
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ls_security.XXXXXX")
. test/lib.sh
export PGTZ=UTC
LOGINS="sec_bi sec_ana sec_ben sec_mkt sec_admin sec_nobody"
cleanup() {
	status=$?
	dropdb --if-exists "$DB" >/dev/null 2>&1 || true
	for r in $LOGINS; do psql -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1 || true; done
	for r in lead_scoring_admin lead_scoring_marketing lead_scoring_sales lead_scoring_bi; do
		psql -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1 || true
	done
	rm -rf "$WORK"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
# as ROLE [psql args]: a session of that login, with nothing of ours in its settings
as() {
	role=$1; shift
	PGOPTIONS="-c client_min_messages=warning" psql -X -q -At -v ON_ERROR_STOP=1 -h "${PGHOST:-localhost}" -U "$role" -d "$DB" "$@"
}

# what must not change: the audit, the history, the data and every lead's scores
STATE_SQL="
SELECT 'superusers', string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolsuper;
SELECT 'cherry_picks', md5(coalesce(string_agg(t::text, E'\n' ORDER BY cherry_pick_id), '')) FROM lead_scoring.cherry_picks t;
SELECT 'claims', md5(coalesce(string_agg(t::text, E'\n' ORDER BY claim_id), '')) FROM lead_scoring.claims t;
SELECT 'grade_changes', md5(coalesce(string_agg(t::text, E'\n' ORDER BY change_id), '')) FROM lead_scoring.grade_changes t;
SELECT 'grades', md5(coalesce(string_agg(t::text, E'\n' ORDER BY rank), '')) FROM lead_scoring.grades t;
SELECT 'handoffs', md5(coalesce(string_agg(t::text, E'\n' ORDER BY handoff_id), '')) FROM lead_scoring.handoffs t;
SELECT 'suppressions', md5(coalesce(string_agg(t::text, E'\n' ORDER BY suppression_id), '')) FROM lead_scoring.suppressions t;
SELECT 'settings', md5(coalesce(string_agg(t::text, E'\n' ORDER BY name), '')) FROM lead_scoring.setting_overrides t;
SELECT 'models', md5(coalesce(string_agg(t::text, E'\n' ORDER BY model_id), '')) FROM lead_scoring.models t;
SELECT 'rules', md5(coalesce(string_agg(t::text, E'\n' ORDER BY rule_id), '')) FROM lead_scoring.activity_rules t;
SELECT 'tracked', md5(coalesce(string_agg(t::text, E'\n' ORDER BY activity_table), '')) FROM lead_scoring.tracked_tables t;
SELECT 'leads', md5(coalesce(string_agg(t::text, E'\n' ORDER BY lead_id), '')) FROM lead_scoring.leads t;
SELECT 'activities', md5(coalesce(string_agg(t::text, E'\n' ORDER BY activity_id), '')) FROM lead_scoring.activities t;
SELECT 'lifecycle_events', md5(coalesce(string_agg(t::text, E'\n' ORDER BY event_id), '')) FROM lead_scoring.lifecycle_events t;
SELECT 'lead_stages', md5(coalesce(string_agg(t::text, E'\n' ORDER BY lead_id), '')) FROM lead_scoring.lead_stages t;
SELECT 'stages', md5(coalesce(string_agg(t::text, E'\n' ORDER BY stage), '')) FROM lead_scoring.lifecycle_stages t;
SELECT 'scores', md5(coalesce(string_agg(lead_id || ' ' || fit_tests::text || ' ' || coalesce(fit_basis::text, '') || ' ' || coalesce(engagement::text, '') || ' ' || handed_off,
                                          E'\n' ORDER BY lead_id), '')) FROM lead_scoring.lead_scores;"

passed=0
failed=""
# refused NAME ROLE PATTERN SQL: the attack fails with an error matching PATTERN,
# and nothing of STATE_SQL changed; a case that does not hold is reported, and
# the test goes on with the next
refused() {
	name=$1 role=$2 pattern=$3 sql=$4
	q -c "$STATE_SQL" > "$WORK/before"
	if as "$role" -c "$sql" > "$WORK/out" 2>&1; then
		sed 's/^/     /' "$WORK/out" >&2
		echo "   FAILED: $name: $role's attack was not refused" >&2
		failed="$failed|$name"
	elif ! grep -Eq "$pattern" "$WORK/out"; then
		sed 's/^/     /' "$WORK/out" >&2
		echo "   FAILED: $name: refused, but not with /$pattern/" >&2
		failed="$failed|$name"
	fi
	q -c "$STATE_SQL" > "$WORK/after"
	if ! cmp -s "$WORK/before" "$WORK/after"; then
		diff "$WORK/before" "$WORK/after" | sed 's/^/     /' >&2
		echo "   FAILED: $name: something changed" >&2
		case "$failed" in *"|$name") ;; *) failed="$failed|$name" ;; esac
		# the next case starts from a clean slate of logins
		q -c "SELECT format('ALTER ROLE %I NOSUPERUSER', rolname) FROM pg_roles WHERE rolname LIKE 'sec\_%' AND rolsuper" -o "$WORK/fix.sql"
		q -f "$WORK/fix.sql" > /dev/null
		return
	fi
	case "$failed" in *"|$name") return ;; esac
	passed=$((passed + 1))
	echo "   ok: $name: $(grep -E "$pattern" "$WORK/out" | head -1 | sed 's/^psql:[^E]*//' | cut -c1-150)"
}

step "a database with the roles, their logins, a model, leads, activities, a claim"
createdb "$DB"
q -c "CREATE EXTENSION lead_scoring" -f test/fixture_model.sql -c "SELECT lead_scoring.create_roles()" > /dev/null
for r in $LOGINS; do q -c "CREATE ROLE $r LOGIN PASSWORD '$PGPASSWORD'"; done
q -c "GRANT lead_scoring_bi TO sec_bi" -c "GRANT lead_scoring_sales TO sec_ana, sec_ben" \
  -c "GRANT lead_scoring_marketing TO sec_mkt" -c "GRANT lead_scoring_admin TO sec_admin" \
  -c "GRANT TEMPORARY ON DATABASE $DB TO PUBLIC"
q > /dev/null <<'SQL'
INSERT INTO lead_scoring.leads (lead_id, email, attributes)
SELECT i, 'lead' || i || '@sec.example', jsonb_build_object('title', (ARRAY['VP Sales', 'Engineer', 'Director'])[1 + i % 3])
  FROM generate_series(1, 20) i;
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at, properties)
SELECT 1 + i % 20, (ARRAY['web_visit', 'download', 'webinar', 'demo_request'])[1 + i % 4],
       timestamptz '2026-03-01' + i * interval '1 hour', '{"page": "pricing"}'
  FROM generate_series(1, 200) i;
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (3, 'opt_out', '2026-03-05');
SQL
as sec_ana -c "SELECT count(*) FROM lead_scoring.claim_lead(1, 'a real claim')" > /dev/null

# The evil function of the attacks: run as a superuser, it makes its caller one.
EVIL="CREATE FUNCTION pg_temp.escalate() RETURNS void LANGUAGE plpgsql AS \$e\$
BEGIN EXECUTE format('ALTER ROLE %I SUPERUSER', session_user); END \$e\$;"

step "1. a BI login attaches the owner-rights trigger functions to a table whose lead column has its own type"
for attach in "AFTER DELETE ON pg_temp.acts REFERENCING OLD TABLE AS old_activities FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.rescore_changed_activities('lead_id')" \
              "AFTER INSERT ON pg_temp.acts REFERENCING NEW TABLE AS new_activities FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.score_inserted_activities('lead_id', 'activity_type', 'occurred_at', '')"; do
	refused "trigger $(echo "$attach" | sed 's/.*lead_scoring\.\([a-z_]*\).*/\1/') on a temp table" sec_bi "permission denied for function|fires only" "
$EVIL
CREATE TYPE pg_temp.evil AS (x integer);
CREATE FUNCTION pg_temp.to_bigint(pg_temp.evil) RETURNS bigint LANGUAGE plpgsql AS \$c\$
BEGIN PERFORM pg_temp.escalate(); RETURN 1; END \$c\$;
CREATE CAST (pg_temp.evil AS bigint) WITH FUNCTION pg_temp.to_bigint(pg_temp.evil) AS IMPLICIT;
CREATE TEMP TABLE acts (lead_id pg_temp.evil, activity_type text, occurred_at timestamptz);
CREATE TRIGGER t $attach;
INSERT INTO pg_temp.acts VALUES (ROW(1), 'web_visit', now());
DELETE FROM pg_temp.acts;"
done

step "3. the same trick on the other owner-rights trigger functions: forged audit, history, scores"
for f in record_claim record_grade_change score_new_leads score_changed_leads forget_deleted_leads \
         hand_off_after_threshold_change; do
	refused "trigger $f on a temp table" sec_ana "permission denied for function|fires only" "
CREATE TEMP TABLE fake (claim_id bigint, lead_id bigint, rep name, reason text, claimed_at timestamptz,
  cherry_pick boolean, grade text, email text, first_name text, last_name text, company text,
  attributes jsonb, opted_out boolean);
CREATE TRIGGER t BEFORE INSERT OR UPDATE OR DELETE ON pg_temp.fake FOR EACH ROW EXECUTE FUNCTION lead_scoring.$f();
INSERT INTO pg_temp.fake VALUES (1, 2, 'sec_ben', 'forged', now(), false, 'A', 'x@y', NULL, NULL, NULL, '{}', false);"
done

step "1 and 3, second layer: a trigger function the owner attaches elsewhere refuses to run"
for case in "record_claim BEFORE INSERT|FOR EACH ROW" "score_new_leads AFTER INSERT|REFERENCING NEW TABLE AS new_leads FOR EACH STATEMENT" \
            "record_grade_change AFTER INSERT|FOR EACH ROW" "rescore_on_activation AFTER UPDATE|REFERENCING OLD TABLE AS old_models NEW TABLE AS new_models FOR EACH STATEMENT"; do
	f=${case%% *}; rest=${case#* }; event=${rest%%|*}; how=${rest#*|}
	q -c "CREATE TABLE public.elsewhere (lead_id bigint, rep name, grade text, is_active boolean, model_id int)" \
	  -c "CREATE TRIGGER t $event ON public.elsewhere $how EXECUTE FUNCTION lead_scoring.$f()"
	if q -c "INSERT INTO public.elsewhere VALUES (1, 'x', 'A', true, 1)" -c "UPDATE public.elsewhere SET is_active = false" > "$WORK/out" 2>&1 \
	   || ! grep -q "fires only on" "$WORK/out"; then
		cat "$WORK/out" >&2; failed="$failed|$f attached elsewhere by the owner"
	else
		echo "   ok: $f on another table: $(grep -o 'ERROR: .*' "$WORK/out" | head -1)"
	fi
	q -c "DROP TABLE public.elsewhere"
done

step "an admin tracks a table of its own, then gives its lead column a type of its own"
q -c "CREATE TABLE public.admin_events (visitor bigint, kind text, at timestamptz)" \
  -c "ALTER TABLE public.admin_events OWNER TO sec_admin" -c "GRANT USAGE, CREATE ON SCHEMA public TO sec_admin"
as sec_admin -c "SELECT count(*) FROM lead_scoring.track('public.admin_events', 'visitor', 'kind', 'at')" > /dev/null \
	|| fail "an admin cannot track a table of its own"
refused "an evil type on a tracked table" sec_admin "cannot score the rows inserted|has type" "
$EVIL
CREATE TYPE public.evil AS (x integer);
CREATE FUNCTION public.to_bigint(public.evil) RETURNS bigint LANGUAGE plpgsql AS \$c\$
BEGIN PERFORM pg_temp.escalate(); RETURN 1; END \$c\$;
CREATE CAST (public.evil AS bigint) WITH FUNCTION public.to_bigint(public.evil) AS IMPLICIT;
ALTER TABLE public.admin_events ALTER COLUMN visitor TYPE public.evil USING ROW(visitor::int);
INSERT INTO public.admin_events VALUES (ROW(1), 'web_visit', now());"
refused "a temporary table tracked" sec_admin "temporary table" "
CREATE TEMP TABLE mine (visitor bigint, kind text, at timestamptz);
SELECT * FROM lead_scoring.track('pg_temp.mine', 'visitor', 'kind', 'at');"
refused "a table the admin cannot read" sec_admin "permission denied for table" "
SELECT * FROM lead_scoring.track('lead_scoring.outcomes', 'lead_id', 'outcome', 'closed_at');"
refused "sales tracks a table" sec_ana "permission denied for function track" "
SELECT * FROM lead_scoring.track('public.admin_events', 'visitor', 'kind', 'at');"
q -c "SELECT count(*) FROM lead_scoring.untrack('public.admin_events')" -c "DROP TABLE public.admin_events" \
  -c "DROP TYPE IF EXISTS public.evil CASCADE" > /dev/null

step "15. an admin's table partitioned by month: partitions written directly, attached and detached by their owner"
q -c "CREATE TABLE public.admin_months (visitor bigint, kind text, at timestamptz) PARTITION BY RANGE (at)" \
  -c "ALTER TABLE public.admin_months OWNER TO sec_admin"
as sec_admin > /dev/null <<'SQL' || fail "the admin cannot track, write, attach or detach partitions of its own table"
CREATE TABLE public.admin_2026_01 PARTITION OF public.admin_months FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
SELECT count(*) FROM lead_scoring.track('public.admin_months', 'visitor', 'kind', 'at');
INSERT INTO public.admin_2026_01 VALUES (5, 'web_visit', '2026-01-05'), (77001, 'web_visit', '2026-01-06');
CREATE TABLE public.admin_2025_12 (visitor bigint, kind text, at timestamptz);
INSERT INTO public.admin_2025_12 VALUES (5, 'web_visit', '2025-12-04'), (77002, 'web_visit', '2025-12-05');
ALTER TABLE public.admin_months ATTACH PARTITION public.admin_2025_12 FOR VALUES FROM ('2025-12-01') TO ('2026-01-01');
SQL
# every lead's state as a recompute from every tracked table makes it: count and score
cat > "$WORK/mismatches.sql" <<'SQL'
SELECT format($f$SELECT count(*) FROM lead_scoring.lead_scores s JOIN lead_scoring.active_model m ON true
  FULL JOIN (SELECT a.lead_id, lead_scoring.score_activities(m.definition, a.activity_type, a.occurred_at, a.properties) AS state
               FROM (%s) a, lead_scoring.active_model m WHERE a.lead_id IS NOT NULL GROUP BY a.lead_id) r USING (lead_id)
 WHERE lead_scoring.activity_count(s.engagement) IS DISTINCT FROM lead_scoring.activity_count(r.state)
    OR abs(coalesce(lead_scoring.engagement_score(s.engagement, m.definition, '2026-03-01'), 0)
           - coalesce(lead_scoring.engagement_score(r.state, m.definition, '2026-03-01'), 0)) > 1e-9$f$,
  lead_scoring.activity_sources_sql()) \gexec
SQL
[ "$(q -f "$WORK/mismatches.sql")" = 0 ] || fail "after writes into a partition and an attach, live states differ from a recompute"
[ "$(q -c "SELECT string_agg(lead_id || ':' || lead_scoring.activity_count(engagement), ' ' ORDER BY lead_id)
            FROM lead_scoring.lead_scores WHERE lead_id IN (77001, 77002)")" = "77001:1 77002:1" ] \
	|| fail "the leads only in the partitions are not scored"
as sec_admin -c "ALTER TABLE public.admin_months DETACH PARTITION public.admin_2025_12" > /dev/null
[ "$(q -f "$WORK/mismatches.sql")" = 0 ] || fail "after a detach, live states differ from a recompute"
[ "$(q -c "SELECT count(*) FROM lead_scoring.lead_scores WHERE lead_id = 77002")" = 0 ] \
	|| fail "a lead only in the detached partition is still scored"
echo "   ok: a row written into a partition, a partition attached with its rows and one detached: live = recompute"
refused "a partition tracked on its own" sec_admin "is a partition of public.admin_months" "
SELECT * FROM lead_scoring.track('public.admin_2026_01', 'visitor', 'kind', 'at');"
q -c "CREATE FOREIGN DATA WRAPPER sec_fdw" -c "CREATE SERVER sec_nowhere FOREIGN DATA WRAPPER sec_fdw" \
  -c "GRANT USAGE ON FOREIGN SERVER sec_nowhere TO sec_admin"
refused "a foreign table attached as a partition" sec_admin "is a foreign table" "
CREATE FOREIGN TABLE public.admin_remote (visitor bigint, kind text, at timestamptz) SERVER sec_nowhere;
ALTER TABLE public.admin_months ATTACH PARTITION public.admin_remote FOR VALUES FROM ('2027-01-01') TO ('2027-02-01');"
refused "the partition machinery called directly" sec_admin "permission denied for function follow_partitions" "
SELECT lead_scoring.follow_partitions(NULL);"
refused "a rescore of chosen leads called directly" sec_mkt "permission denied for function rescore_leads" "
SELECT lead_scoring.rescore_leads(ARRAY[5]);"
q -c "SELECT count(*) FROM lead_scoring.untrack('public.admin_months')" -c "DROP TABLE public.admin_months, public.admin_2025_12" \
  -c "DROP SERVER sec_nowhere" -c "DROP FOREIGN DATA WRAPPER sec_fdw" > /dev/null

step "2. an admin login puts a view of its own into tracked_tables and rescores"
refused "a temp view in tracked_tables" sec_admin "permission denied|must be|not a table" "
$EVIL
CREATE TEMP VIEW v AS SELECT 1::bigint AS lead_id, 'x'::text AS t, now() AS at WHERE (SELECT pg_temp.escalate()) IS NULL;
INSERT INTO lead_scoring.tracked_tables (activity_table, lead_column, type_column, time_column)
VALUES ('pg_temp.v'::regclass, 'lead_id', 't', 'at');
SELECT * FROM lead_scoring.rescore();"

step "4. a session switches the triggers off with check_function_bodies = off"
refused "a forged claim with no audit row" sec_ana "denied|refused|own name|does not exist|not sales-ready" "
SET check_function_bodies = off;
INSERT INTO lead_scoring.claims (lead_id, rep, grade, total_score, sales_ready, cherry_pick)
VALUES (999, 'sec_ben', 'A', 99, true, false);"
before=$(q -c "SELECT count(*) FROM lead_scoring.grade_changes")
as sec_mkt -c "SET check_function_bodies = off" -c "UPDATE lead_scoring.grades SET min_score = min_score - 1 WHERE grade = 'A'"
[ "$(q -c "SELECT count(*) || ' ' || string_agg(DISTINCT changed_by, ',') FROM lead_scoring.grade_changes WHERE change_id > (SELECT min(change_id) - 1 + $before FROM lead_scoring.grade_changes)")" = "1 sec_mkt" ] \
	|| fail "a grade change under check_function_bodies = off left no history row in sec_mkt's name"
q -c "UPDATE lead_scoring.grades SET min_score = min_score + 1 WHERE grade = 'A'"
echo "   ok: the grade change is in the history, by sec_mkt"

step "5. a claim in another rep's name"
refused "ana claims for ben" sec_ana "own name" "INSERT INTO lead_scoring.claims (lead_id, rep) VALUES (5, 'sec_ben')"

step "6. two reps claim one lead at once"
# ana's claim is open in a transaction while ben claims: ben waits, then is
# refused, and his attempt is recorded (a WARNING, so that it stays)
as sec_ana -c "BEGIN" -c "SELECT count(*) FROM lead_scoring.claim_lead(9, 'first')" -c "SELECT pg_sleep(2)" -c "COMMIT" \
	> "$WORK/ana" 2>&1 &
sleep 0.5
as sec_ben -c "SELECT count(*) FROM lead_scoring.claim_lead(9, 'second')" > "$WORK/ben" 2>&1 || true
wait
open=$(q -c "SELECT string_agg(rep, ',') FROM lead_scoring.claims WHERE lead_id = 9 AND released_at IS NULL")
[ "$open" = sec_ana ] || failed="$failed|open claims of lead 9: $open"
grep -q "refused: claimed by sec_ana" "$WORK/ben" || failed="$failed|ben's lost claim not refused: $(cat "$WORK/ben")"
lost=$(q -c "SELECT actor || ': ' || refused FROM lead_scoring.lifecycle_events WHERE lead_id = 9 AND action = 'claim'")
[ "$lost" = "sec_ben: claimed by sec_ana" ] || failed="$failed|ben's lost claim not recorded: $lost"
echo "   ok: one open claim, ana's; ben's attempt recorded ($lost)"

step "6b. two reps answer one handed-off lead at once: accept and accept, accept and reject"
# ana accepts in a transaction while ben accepts (or rejects) the same lead:
# ben waits for her, then finds it accepted; one winner, the loser recorded
# two VPs with two demo requests now (30 + 80, an A): handed off
set -- $(q -c "INSERT INTO lead_scoring.leads (lead_id, email, attributes)
                 VALUES (31, 'race1@sec.example', '{\"title\": \"VP Sales\"}'), (32, 'race2@sec.example', '{\"title\": \"VP Sales\"}')" \
           -c "INSERT INTO lead_scoring.activities (lead_id, activity_type)
                 SELECT l, 'demo_request' FROM (VALUES (31), (32), (31), (32)) v(l)" \
           -c "SELECT lead_id FROM lead_scoring.lead_stages WHERE lead_id IN (31, 32) AND stage = 'marketing_qualified' ORDER BY 1")
[ "$*" = "31 32" ] || fail "leads 31 and 32 were not handed off: $*"
for race in "$1 accept_lead($1)" "$2 reject_lead($2, 'not ready')"; do
	lead=${race%% *} call=${race#* }
	as sec_ana -c "BEGIN" -c "SELECT refused FROM lead_scoring.accept_lead($lead)" -c "SELECT pg_sleep(2)" -c "COMMIT" \
		> "$WORK/ana" 2>&1 &
	sleep 0.5
	as sec_ben -c "SELECT refused FROM lead_scoring.$call" > "$WORK/ben" 2>&1 \
		|| failed="$failed|ben's $call failed: $(cat "$WORK/ben")"
	wait
	got=$(q -c "SELECT (SELECT stage || ' ' || rep FROM lead_scoring.lead_stages WHERE lead_id = $lead) || '; '
	               || (SELECT string_agg(rep, ',') FROM lead_scoring.claims WHERE lead_id = $lead AND released_at IS NULL) || '; '
	               || (SELECT string_agg(actor || ' ' || action || ' ' || coalesce(refused, 'done'), ', ' ORDER BY event_id)
	                     FROM lead_scoring.lifecycle_events WHERE lead_id = $lead AND action <> 'handoff')")
	want="sales_accepted sec_ana; sec_ana; sec_ana accept done, sec_ben ${call%%_*} sec_ana accepted it first (stage sales_accepted)"
	[ "$got" = "$want" ] || failed="$failed|race on lead $lead: $got"
	echo "   ok: lead $lead, ana's accept against ben's ${call%%(*}: $got"
done
refused "ben releases ana's claim" sec_ben "only they or a manager" "SELECT * FROM lead_scoring.release_claim(9, 'mine now')"
refused "ben assigns himself ana's lead" sec_ben "permission denied for function reassign_claim" \
	"SELECT * FROM lead_scoring.reassign_claim(9, 'sec_ben', 'mine now')"

step "16. the handoff loop: history, stages and overrides are not the reps' to write"
refused "ben writes the lifecycle history" sec_ben "permission denied for table lifecycle_events" "
INSERT INTO lead_scoring.lifecycle_events (lead_id, action, from_stage, to_stage) VALUES (2, 'accept', 'marketing_qualified', 'sales_accepted')"
refused "ben moves a lead's stage by hand" sec_ben "permission denied for table lead_stages" "
UPDATE lead_scoring.lead_stages SET stage = 'won'"
refused "ben overrides a stage" sec_ben "permission denied for function override_stage" "
SELECT lead_scoring.override_stage(2, 'won', 'mine')"
refused "ben imports a stage history" sec_ben "permission denied for function import_stage_change" "
SELECT lead_scoring.import_stage_change(2, 'won', '2020-01-01')"
refused "ben moves ana's lead on" sec_ben "only the rep who holds it or a manager" "
SELECT lead_scoring.advance_lead(1, 'sales_qualified')"
refused "marketing deletes a built-in stage" sec_mkt "built in: it cannot be deleted" "
DELETE FROM lead_scoring.lifecycle_stages WHERE stage = 'recycled'"
refused "marketing rewrites the lifecycle history" sec_mkt "permission denied for table lifecycle_events" "
UPDATE lead_scoring.lifecycle_events SET actor = 'nobody'"
refused "an admin truncates the lifecycle history" sec_admin "permission denied for table lifecycle_events" "
TRUNCATE lead_scoring.lifecycle_events"
refused "ben imports history inside an import he cannot begin" sec_ben "permission denied for function begin_history_import" "
SELECT lead_scoring.begin_history_import()"

step "7. the activation flag is a public setting"
as sec_mkt -c "SET lead_scoring.activating = 'on'" -c "INSERT INTO lead_scoring.models (name) VALUES ('other')" \
	-c "UPDATE lead_scoring.models SET is_active = (name = 'other')" > /dev/null
[ "$(q -c "SELECT count(*) FROM lead_scoring.lead_scores s, lead_scoring.active_model m
            WHERE s.engagement IS NOT NULL AND NOT lead_scoring.state_matches_model(s.engagement, m.definition)")" = 0 ] \
	|| fail "a switch of models under lead_scoring.activating = on left states of the old model"
as sec_bi -c "SELECT count(*) FROM lead_scoring.funnel" > /dev/null || fail "the views fail after the switch"
q -c "SELECT * FROM lead_scoring.activate_model('fixture')" -c "DELETE FROM lead_scoring.models WHERE name = 'other'" > /dev/null
echo "   ok: the setting switches nothing off: the models were switched and every lead rescored"

step "8. settings written directly, past their validation"
refused "burst_max_activities = abc" sec_mkt "must be a whole number|permission denied" "
INSERT INTO lead_scoring.setting_overrides (name, value, changed_by) VALUES ('burst_max_activities', 'abc', 'someone_else')"
refused "a policy of 'whatever'" sec_mkt "must be allow, warn or deny|permission denied" "
INSERT INTO lead_scoring.setting_overrides (name, value) VALUES ('cherry_pick_policy', 'whatever')"

step "a model change pending in a transaction: not forged, not skipped by a setting"
refused "marketing writes a pending change of its own" sec_mkt "permission denied for table pending_model_changes" "
INSERT INTO lead_scoring.pending_model_changes (previous) VALUES ('{}')"
mismatched_states() {
	q -c "SELECT count(*) FROM lead_scoring.lead_scores s, lead_scoring.active_model m
	       WHERE s.engagement IS NOT NULL AND NOT lead_scoring.state_matches_model(s.engagement, m.definition)"
}
# an edit that changes what the model counts, the flag cleared, then an activity:
# the live trigger does not apply the edit, and the merge refuses the old state
refused "an activity scored past a pending change" sec_mkt "built with different activity counters|built with other activity rules" "
BEGIN;
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, properties, points)
SELECT model_id, 'web', 'web_visit', '{\"campaign\": \"sec\"}', 1 FROM lead_scoring.models WHERE is_active;
SET LOCAL lead_scoring.model_change_pending = '';
INSERT INTO lead_scoring.activities (lead_id, activity_type) VALUES (1, 'web_visit');
COMMIT;"
# the flag cleared, nothing else: the commit rescores all the same
as sec_mkt -c "BEGIN" -c "INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, properties, points)
SELECT model_id, 'web', 'web_visit', '{\"campaign\": \"sec\"}', 1 FROM lead_scoring.models WHERE is_active" \
	-c "SET LOCAL lead_scoring.model_change_pending = ''" -c "COMMIT" > /dev/null || fail "marketing cannot add a rule"
[ "$(mismatched_states)" = 0 ] || fail "a rule added with the pending flag cleared left states of the old model"
as sec_mkt -c "DELETE FROM lead_scoring.activity_rules WHERE properties = '{\"campaign\": \"sec\"}'" > /dev/null
[ "$(mismatched_states)" = 0 ] || fail "removing the rule left states of the old model"
echo "   ok: the pending row is the owner's; with the flag cleared a write is refused, and the commit rescores"

step "the older bases a change lets rows keep: only the owner lists them"
refused "marketing lists a fingerprint of its own" sec_mkt "permission denied for table stored_state_bases" "
INSERT INTO lead_scoring.stored_state_bases (dimension, basis, model_basis)
SELECT 'engagement', 1, lead_scoring.model_fingerprint(m.definition) FROM lead_scoring.active_model m"
# a definition written by hand is compiled again from the tables: nothing
# forged in it decides which states the model accepts
as sec_mkt -c "UPDATE lead_scoring.models
                  SET definition = definition || '{\"stored_bases\": {\"fingerprints\": [1, 2], \"fit_bases\": [3]}}'
                WHERE is_active" > /dev/null || fail "marketing cannot update models"
[ "$(q -c "SELECT count(*) FROM lead_scoring.models
             WHERE definition->'stored_bases'->'fingerprints' @> '[1]' OR definition->'stored_bases'->'fit_bases' @> '[3]'")" = 0 ] \
	|| fail "a stored_bases written into a definition by hand stayed there"
[ "$(mismatched_states)" = 0 ] || fail "states the model does not accept after a forged definition"
echo "   ok: the list is the owner's; a stored_bases written into a definition is compiled away"

step "10. the audit's event trigger and another role's DDL"
as sec_nobody -c "CREATE TEMP TABLE mine (x int)" -c "ALTER TABLE mine ADD COLUMN y int" \
	-c "CREATE TRIGGER t BEFORE INSERT ON mine FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()" \
	-c "DROP TRIGGER t ON mine" > "$WORK/out" 2>&1 \
	|| { cat "$WORK/out" >&2; fail "a role without the schema cannot alter its own table"; }
echo "   ok: a role with no lead_scoring role alters its own table and drops its own trigger"

step "a history import turns handoffs off: only an administrator's, recorded, and no setting does it"
refused "marketing begins a history import" sec_mkt "permission denied for function begin_history_import" "
SELECT lead_scoring.begin_history_import()"
refused "an administrator marks its transaction without the record" sec_admin "permission denied for function mark_history_import" "
SELECT lead_scoring.mark_history_import(false)"
as sec_admin -c "BEGIN" -c "SELECT lead_scoring.begin_history_import(note => 'security test')" -c "COMMIT" > /dev/null \
	|| fail "an administrator cannot begin a history import"
[ "$(q -c "SELECT started_by FROM lead_scoring.history_imports WHERE note = 'security test'")" = sec_admin ] \
	|| fail "the history import is not recorded in the administrator's name"
echo "   ok: marketing and a bare mark refused; the administrator's import recorded as sec_admin"

step "what runs with the owner's rights and PUBLIC may execute"
public=$(q -c "SELECT string_agg(p.oid::regprocedure::text, ', ') FROM pg_proc p
                WHERE p.pronamespace = 'lead_scoring'::regnamespace AND (p.prosecdef OR p.prorettype IN ('trigger'::regtype, 'event_trigger'::regtype))
                  AND (p.proacl IS NULL OR EXISTS (SELECT FROM aclexplode(p.proacl) a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))")
if [ -n "$public" ]; then failed="$failed|PUBLIC may execute: $public"; else echo "   ok: no SECURITY DEFINER or trigger function"; fi

[ -z "$failed" ] || fail "not refused, or something changed:$(echo "$failed" | tr '|' '\n' | sed 's/^/ /' | paste -sd ';')"
echo "ok: $NAME ($passed attacks refused, nothing changed)"
