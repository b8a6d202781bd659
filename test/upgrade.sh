#!/bin/sh
# Upgrade: for each released version (its frozen full script in
# src/sql/released/), a database is installed at that version, given the
# roles (create_roles() and login roles granted them), data, claims, outcomes,
# threshold history and tracked user tables (one partitioned), and updated with
# ALTER EXTENSION lead_scoring UPDATE. Then:
#   - its data and every lead's scores at fixed instants are unchanged;
#   - live scoring goes on, in every tracked table; rows written straight into
#     a partition (which versions before 1.4 left unscored) are scored;
#   - its extension equals a fresh install of the current version given the
#     same create_roles(): relations, columns, constraints, indexes, sequences,
#     views, functions (volatility, strictness, parallel safety, SECURITY
#     DEFINER, SET clauses, body), aggregates, types, triggers, event
#     triggers, grants, owners and comments (test/schema_catalog.sql);
#   - the pg_regress suite passes against a database installed at that
#     version and updated (the four files that make databases of their own
#     install them the same way, through lead_scoring_test.install_from).
# Last, a 1.3 database tracking what 1.4 cannot follow (a partition, a table
# with a child by inheritance) is updated: both are untracked, with a warning.
#
# Run inside a cluster: pg_virtualenv -t sh test/upgrade.sh
set -eu
cd "$(dirname "$0")/.."
NAME=upgrade
OLD=ls_upgrade_old
NEW=ls_upgrade_fresh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ls_upgrade.XXXXXX")
. test/lib.sh
export PGTZ=UTC
LOGINS="up_bi up_sales up_marketing up_admin"
ROLES="lead_scoring_admin lead_scoring_marketing lead_scoring_sales lead_scoring_bi"
# the roles this test made; the suite's own roles test makes them anew
drop_roles() {
	for r in $LOGINS $ROLES; do psql -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1 || true; done
}
cleanup() {
	status=$?
	for db in "$OLD" "$NEW" ls_upgrade_unfollowed; do dropdb --if-exists "$db" >/dev/null 2>&1 || true; done
	drop_roles
	rm -rf "$WORK"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
q() { db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
T1='2026-03-01 00:00:00+00'   # fixed instants the scores are compared at
T2='2027-01-01 00:00:00+00'
CURRENT=$(sed -n "s/^default_version = '\(.*\)'/\1/p" lead_scoring.control)

# everything a user keeps, and every lead's scores and breakdown at fixed
# instants. Each table is compared on the columns it had before the update
# (an update may add columns; what was there must stay); the query is written
# once, from the old database's catalog, into $WORK/snapshot.sql.
TABLES="leads:lead_id activities:activity_id models:model_id activity_rules:rule_id fit_rules:rule_id
        grades:rank grade_changes:change_id setting_overrides:name claims:claim_id cherry_picks:cherry_pick_id
        handoffs:handoff_id outcomes:lead_id suppressions:suppression_id tracked_tables:activity_table"
snapshot_sql() {
	for t in $TABLES; do
		table=${t%%:*} key=${t#*:}
		cols=$(q "$1" -c "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
		                   WHERE attrelid = 'lead_scoring.$table'::regclass AND attnum > 0 AND NOT attisdropped")
		echo "SELECT '$table', md5(coalesce(string_agg(ROW($cols)::text, E'\\n' ORDER BY $key), '')) FROM lead_scoring.$table;"
	done
	cat <<'SQL'
SELECT 'web events', md5(string_agg(t::text, E'\n' ORDER BY id)) FROM public.web_events t;
SELECT 'events by month', md5(string_agg(t::text, E'\n' ORDER BY t::text)) FROM public.events_by_month t;
-- (the leads of events_by_month are checked on their own: the update scores
-- the rows that went unscored)
SELECT 'states', md5(string_agg(s.lead_id || ' ' || coalesce(s.engagement::text, '') || ' ' || s.handed_off,
                                E'\n' ORDER BY s.lead_id)) FROM lead_scoring.lead_scores s WHERE s.lead_id < 1000;
SELECT 'score', t, l.lead_id, s.* FROM lead_scoring.leads l,
       unnest(ARRAY[:'t1', :'t2']::timestamptz[]) t, lead_scoring.lead_score(l.lead_id, t) s ORDER BY 2, 3;
SELECT 'breakdown', t, l.lead_id, b.* FROM lead_scoring.leads l,
       unnest(ARRAY[:'t1', :'t2']::timestamptz[]) t, lead_scoring.explain_score(l.lead_id, t) b ORDER BY 2, 3, 4, 5, 6;
SQL
}
snapshot() { q "$1" -v t1="$T1" -v t2="$T2" -f "$WORK/snapshot.sql"; }

# a database at version $2, with the roles and data a user has
fill() {
	createdb "$1"
	q "$1" -c "CREATE EXTENSION lead_scoring VERSION '$2'" -c "SELECT lead_scoring.create_roles()" \
		-c "GRANT lead_scoring_bi TO up_bi" -c "GRANT lead_scoring_sales TO up_sales" \
		-c "GRANT lead_scoring_marketing TO up_marketing" -c "GRANT lead_scoring_admin TO up_admin" \
		-f test/fixture_model.sql > /dev/null
	q "$1" > /dev/null <<'SQL'
INSERT INTO lead_scoring.leads (lead_id, email, attributes)
SELECT i, 'lead' || i || '@up.example', jsonb_build_object('title', (ARRAY['VP Sales', 'Engineer', 'Director'])[1 + i % 3])
  FROM generate_series(1, 200) i;
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at, properties)
SELECT 1 + i % 200, (ARRAY['web_visit', 'email_click', 'download', 'webinar', 'demo_request', 'unsubscribe'])[1 + i % 6],
       timestamptz '2026-01-01' + (i % 59) * interval '1 day', CASE WHEN i % 4 = 0 THEN '{"page": "pricing"}' ELSE '{}' END::jsonb
  FROM generate_series(1, 3000) i;
CREATE TABLE public.web_events (id serial PRIMARY KEY, visitor bigint, kind text, at timestamptz, payload jsonb);
INSERT INTO public.web_events (visitor, kind, at, payload)
SELECT 1 + i % 250, 'web_visit', timestamptz '2026-02-01' + i * interval '1 hour', '{"page": "pricing"}'
  FROM generate_series(1, 300) i;
SELECT count(*) FROM lead_scoring.track('public.web_events', 'visitor', 'kind', 'at', 'payload');
-- a partitioned table, tracked; leads 1000 to 1004 are only in it
CREATE TABLE public.events_by_month (visitor bigint, kind text, at timestamptz) PARTITION BY RANGE (at);
CREATE TABLE public.events_2026_02 PARTITION OF public.events_by_month FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
SELECT count(*) FROM lead_scoring.track('public.events_by_month', 'visitor', 'kind', 'at');
INSERT INTO public.events_by_month SELECT 1000 + i % 5, 'web_visit', timestamptz '2026-02-01' + i * interval '1 hour'
  FROM generate_series(1, 20) i;
-- rows written straight into the partition: before 1.4, not scored
INSERT INTO public.events_2026_02 SELECT 1000 + i % 5, 'download', timestamptz '2026-02-10' + i * interval '1 hour'
  FROM generate_series(1, 10) i;
UPDATE lead_scoring.grades SET min_score = min_score - 5 WHERE grade = 'A';
UPDATE lead_scoring.settings SET value = 'warn' WHERE name = 'cherry_pick_policy';
INSERT INTO lead_scoring.bogus_patterns (field, pattern) VALUES ('email', '^lead13@');
SELECT lead_scoring.find_bogus_leads();
SQL
	# the login roles work through the documented roles
	q "$1" -c "SET ROLE up_sales" -c "SET client_min_messages = error" -c "SELECT count(*) FROM (SELECT lead_scoring.claim_lead(lead_id, 'before the update') FROM lead_scoring.sales_queue ORDER BY lead_id LIMIT 6) c" \
		-c "SELECT count(*) FROM lead_scoring.claim_lead(1, 'again: versions before 1.4 let claims pile up')" \
		-c "SELECT lead_scoring.record_outcome(3, 'won', 1200, '2026-02-20')" > /dev/null
	q "$1" -c "SET ROLE up_marketing" -c "UPDATE lead_scoring.grades SET description = 'tuned' WHERE grade = 'B'" > /dev/null
}

for script in src/sql/released/lead_scoring--*.sql; do
	FROM=$(basename "$script" .sql | sed 's/^lead_scoring--//')
	step "version $FROM from its frozen script, with roles and data"
	for r in $LOGINS; do q postgres -c "CREATE ROLE $r LOGIN"; done
	fill "$OLD" "$FROM"
	[ "$(q "$OLD" -c "SELECT extversion FROM pg_extension WHERE extname = 'lead_scoring'")" = "$FROM" ] || fail "not at version $FROM"
	[ "$(q "$OLD" -c "SELECT count(*) FROM lead_scoring.claims")" -gt 0 ] || fail "the sales login made no claim"
	snapshot_sql "$OLD" > "$WORK/snapshot.sql"
	snapshot "$OLD" > "$WORK/before.txt"
	echo "   $(grep -c '^score' "$WORK/before.txt") lead scores at two instants"

	step "ALTER EXTENSION lead_scoring UPDATE ($FROM to $CURRENT)"
	q "$OLD" -c "ALTER EXTENSION lead_scoring UPDATE"
	version=$(q "$OLD" -c "SELECT extversion FROM pg_extension WHERE extname = 'lead_scoring'")
	[ "$version" = "$CURRENT" ] || fail "updated to $version, not $CURRENT"

	step "data, states and scores unchanged"
	snapshot "$OLD" > "$WORK/after.txt"
	cmp -s "$WORK/before.txt" "$WORK/after.txt" || { diff "$WORK/before.txt" "$WORK/after.txt" | head -20 >&2; fail "the update changed data or scores"; }
	echo "   ok: identical"

	[ "$(q "$OLD" -c "SELECT count(*) FROM (SELECT lead_id FROM lead_scoring.claims WHERE released_at IS NULL
	                                         GROUP BY lead_id HAVING count(*) > 1) x")" = 0 ] \
		|| fail "a lead has more than one open claim after the update"
	echo "   ok: one open claim per lead (the latest)"

	step "rows written into a partition are scored: those from before the update, and new ones"
	q "$OLD" -c "INSERT INTO public.events_2026_02 VALUES (1000, 'web_visit', '2026-02-20')"
	wrong=$(q "$OLD" -v t1="$T1" <<'SQL'
SELECT count(*) FROM (SELECT e.visitor, count(*) AS n, lead_scoring.score_activities(m.definition, e.kind, e.at, NULL) AS state
                        FROM public.events_by_month e, lead_scoring.models m WHERE m.is_active GROUP BY e.visitor) x
  JOIN lead_scoring.lead_scores s ON s.lead_id = x.visitor, lead_scoring.models m
 WHERE m.is_active
   AND (lead_scoring.activity_count(s.engagement) IS DISTINCT FROM x.n
        OR abs(lead_scoring.engagement_score(s.engagement, m.definition, :'t1')
               - lead_scoring.engagement_score(x.state, m.definition, :'t1')) > 1e-9);
SQL
)
	[ "$wrong" = 0 ] || fail "$wrong leads of the partitioned table are not scored as a recompute scores them"
	[ "$(q "$OLD" -c "SELECT count(*) FROM lead_scoring.lead_scores WHERE lead_id BETWEEN 1000 AND 1004")" = 5 ] \
		|| fail "the leads of the partitioned table are not all scored"
	echo "   ok: 5 leads, 31 rows, equal to a recompute"

	step "live scoring goes on, for the roles too"
	q "$OLD" -c "SET ROLE up_marketing" -c "INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (7, 'demo_request', '2026-02-27')"
	q "$OLD" -c "INSERT INTO public.web_events (visitor, kind, at) VALUES (7, 'web_visit', '2026-02-28')"
	[ "$(q "$OLD" -c "SELECT lead_scoring.activity_count(engagement) - (SELECT count(*) FROM lead_scoring.activities WHERE lead_id = 7)
	                           FROM lead_scoring.lead_scores WHERE lead_id = 7")" -gt 0 ] || fail "no live scoring after the update"
	q "$OLD" -c "SET ROLE up_bi" -c "SELECT count(*) FROM lead_scoring.funnel" -c "SELECT count(*) FROM lead_scoring.handoff_rates" > /dev/null \
		|| fail "a BI login cannot read the views after the update"
	echo "   ok"

	step "the updated extension equals a fresh install of $CURRENT"
	createdb "$NEW"
	q "$NEW" -c "CREATE EXTENSION lead_scoring" -c "SELECT lead_scoring.create_roles()" > /dev/null
	for db in "$OLD" "$NEW"; do
		q "$db" -f test/schema_catalog.sql > "$WORK/catalog_$db.txt"
	done
	# the version stamped is the only line that differs by design: none here
	if ! cmp -s "$WORK/catalog_$OLD.txt" "$WORK/catalog_$NEW.txt"; then
		diff "$WORK/catalog_$OLD.txt" "$WORK/catalog_$NEW.txt" | cut -c1-300 | head -30 >&2
		fail "the extension updated from $FROM differs from a fresh install (< updated, > fresh)"
	fi
	echo "   ok: $(wc -l < "$WORK/catalog_$NEW.txt") catalog lines identical ($(grep -c '^function' "$WORK/catalog_$NEW.txt") functions, $(grep -c '^relation' "$WORK/catalog_$NEW.txt") relations, grants and comments included)"
	dropdb "$OLD"
	dropdb "$NEW"
	drop_roles

	step "the pg_regress suite against a database installed at $FROM and updated"
	dropdb --if-exists contrib_regression > /dev/null 2>&1
	createdb contrib_regression
	q contrib_regression -c "SET client_min_messages = warning" -c "CREATE EXTENSION lead_scoring VERSION '$FROM'" -c "ALTER EXTENSION lead_scoring UPDATE"
	if ! PGOPTIONS="-c lead_scoring_test.install_from=$FROM" make -s installcheck EXTRA_REGRESS_OPTS=--use-existing > "$WORK/regress.txt" 2>&1; then
		cat "$WORK/regress.txt" >&2
		[ -f regression.diffs ] && head -60 regression.diffs >&2
		fail "the pg_regress suite fails on a database updated from $FROM"
	fi
	grep -E 'tests passed' "$WORK/regress.txt" | sed 's/^ */   ok: /'
done
step "tables 1.4 cannot follow are untracked by the update, with a warning: a partition, a table with an inherited child"
UNFOLLOWED=ls_upgrade_unfollowed
createdb "$UNFOLLOWED"
q "$UNFOLLOWED" -c "CREATE EXTENSION lead_scoring VERSION '1.3'" -f test/fixture_model.sql > /dev/null
q "$UNFOLLOWED" > /dev/null <<'SQL'
CREATE TABLE public.by_month (visitor bigint, kind text, at timestamptz) PARTITION BY RANGE (at);
CREATE TABLE public.by_month_02 PARTITION OF public.by_month FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
SELECT count(*) FROM lead_scoring.track('public.by_month_02', 'visitor', 'kind', 'at');
CREATE TABLE public.parent_events (visitor bigint, kind text, at timestamptz);
CREATE TABLE public.child_events () INHERITS (public.parent_events);
SELECT count(*) FROM lead_scoring.track('public.parent_events', 'visitor', 'kind', 'at');
INSERT INTO public.by_month_02 VALUES (2001, 'web_visit', '2026-02-02');
INSERT INTO public.parent_events VALUES (2002, 'web_visit', '2026-02-03');
SQL
q "$UNFOLLOWED" -c "ALTER EXTENSION lead_scoring UPDATE" > "$WORK/unfollowed.txt" 2>&1 \
	|| { cat "$WORK/unfollowed.txt" >&2; fail "the update failed on tables it cannot follow"; }
grep -q 'WARNING:  public.by_month_02 is no longer tracked: it is a partition of public.by_month' "$WORK/unfollowed.txt" \
	&& grep -q 'WARNING:  public.parent_events is no longer tracked: public.child_events inherits from public.parent_events' "$WORK/unfollowed.txt" \
	|| { cat "$WORK/unfollowed.txt" >&2; fail "the update did not warn about each table it untracked"; }
[ "$(q "$UNFOLLOWED" -c "SELECT string_agg(activity_table::text, ',') FROM lead_scoring.tracked_tables")" = lead_scoring.activities ] \
	|| fail "the update left a table it cannot follow tracked"
[ "$(q "$UNFOLLOWED" -c "SELECT count(*) FROM pg_trigger WHERE tgrelid IN ('public.by_month_02'::regclass, 'public.parent_events'::regclass)")" = 0 ] \
	|| fail "the update left live triggers on a table it untracked"
[ "$(q "$UNFOLLOWED" -c "SELECT count(*) FROM lead_scoring.lead_scores WHERE lead_id IN (2001, 2002)")" = 0 ] \
	|| fail "leads only in the untracked tables are still scored"
dropdb "$UNFOLLOWED"
sed -n 's/^WARNING:  /   ok, warned: /p' "$WORK/unfollowed.txt"

echo "ok: $NAME"
