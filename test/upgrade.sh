#!/bin/sh
# Upgrade: a database filled under version 1.0 is updated with
# ALTER EXTENSION lead_scoring UPDATE; its data and every lead's scores must be
# unchanged, live scoring must go on, and its schema must equal a fresh install
# of the new version.
#
# Run inside a cluster: pg_virtualenv -t sh test/upgrade.sh
set -eu
NAME=upgrade
OLD=ls_upgrade_old
NEW=ls_upgrade_fresh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ls_upgrade.XXXXXX")
. "$(dirname "$0")/lib.sh"
export PGTZ=UTC
trap 'dropdb --if-exists "$OLD" >/dev/null 2>&1 || true; dropdb --if-exists "$NEW" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
q() { db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
T='2026-03-01 00:00:00+00'

# everything a user keeps, and every lead's scores at a fixed instant
snapshot() {
	q "$1" -v t="$T" <<'SQL'
SELECT 'leads', md5(string_agg(t::text, E'\n' ORDER BY lead_id)) FROM lead_scoring.leads t;
SELECT 'activities', md5(string_agg(t::text, E'\n' ORDER BY activity_id)) FROM lead_scoring.activities t;
SELECT 'rules', md5(string_agg(t::text, E'\n' ORDER BY rule_id)) FROM lead_scoring.activity_rules t;
SELECT 'fit rules', md5(string_agg(t::text, E'\n' ORDER BY rule_id)) FROM lead_scoring.fit_rules t;
SELECT 'grades', md5(string_agg(t::text, E'\n' ORDER BY rank)) FROM lead_scoring.grades t;
SELECT 'claims', md5(string_agg(t::text, E'\n' ORDER BY claim_id)) FROM lead_scoring.claims t;
SELECT 'handoffs', md5(string_agg(t::text, E'\n' ORDER BY handoff_id)) FROM lead_scoring.handoffs t;
SELECT 'scores', l.lead_id, s.* FROM lead_scoring.leads l, lead_scoring.lead_score(l.lead_id, :'t') s ORDER BY l.lead_id;
SQL
}

step "version 1.0, filled"
createdb "$OLD"
q "$OLD" -c "CREATE EXTENSION lead_scoring VERSION '1.0'" -f "$(dirname "$0")/fixture_model.sql"
q "$OLD" <<'SQL'
INSERT INTO lead_scoring.leads (lead_id, email, attributes)
SELECT i, 'lead' || i || '@up.example', jsonb_build_object('title', (ARRAY['VP Sales', 'Engineer', 'Director'])[1 + i % 3])
  FROM generate_series(1, 200) i;
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at, properties)
SELECT 1 + i % 200, (ARRAY['web_visit', 'email_click', 'download', 'webinar', 'demo_request', 'unsubscribe'])[1 + i % 6],
       timestamptz '2026-01-01' + (i % 59) * interval '1 day', CASE WHEN i % 4 = 0 THEN '{"page": "pricing"}' ELSE '{}' END::jsonb
  FROM generate_series(1, 3000) i;
SQL
q "$OLD" -c "SELECT lead_scoring.claim_lead(lead_id, 'before the upgrade') FROM lead_scoring.sales_queue LIMIT 5" > /dev/null
[ "$(q "$OLD" -c "SELECT extversion FROM pg_extension WHERE extname = 'lead_scoring'")" = 1.0 ] || fail "not at version 1.0"
snapshot "$OLD" > "$WORK/before.txt"
echo "   $(grep -c '^scores' "$WORK/before.txt") leads scored"

step "ALTER EXTENSION lead_scoring UPDATE"
q "$OLD" -c "ALTER EXTENSION lead_scoring UPDATE"
version=$(q "$OLD" -c "SELECT extversion FROM pg_extension WHERE extname = 'lead_scoring'")
[ "$version" = "$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$(dirname "$0")/../lead_scoring.control")" ] \
	|| fail "updated to $version, not the default version"
echo "   now at version $version"

step "data and scores unchanged"
snapshot "$OLD" > "$WORK/after.txt"
cmp -s "$WORK/before.txt" "$WORK/after.txt" || { diff "$WORK/before.txt" "$WORK/after.txt" | head -20 >&2; fail "the update changed data or scores"; }
echo "   ok: identical"

step "live scoring goes on, and the new version's view works"
q "$OLD" -c "INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (7, 'demo_request', now())"
[ "$(q "$OLD" -c "SELECT lead_scoring.activity_count(engagement) FROM lead_scoring.lead_scores WHERE lead_id = 7")" -gt 0 ] || fail "no live scoring after the update"
q "$OLD" -c "SELECT count(*) FROM lead_scoring.handoff_rates" > /dev/null
echo "   ok"

step "the updated schema equals a fresh install of $version"
createdb "$NEW"
q "$NEW" -c "CREATE EXTENSION lead_scoring"
for db in "$OLD" "$NEW"; do
	q "$db" <<'SQL' > "$WORK/schema_$db.txt"
SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' ' || coalesce(obj_description(c.oid, 'pg_class'), '')
  FROM pg_class c WHERE c.relnamespace = 'lead_scoring'::regnamespace AND c.relkind IN ('r', 'v', 'i', 'S') ORDER BY 1;
SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE c.relnamespace = 'lead_scoring'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped ORDER BY 1;
SELECT 'view ' || c.relname || ' ' || md5(pg_get_viewdef(c.oid)) FROM pg_class c
 WHERE c.relnamespace = 'lead_scoring'::regnamespace AND c.relkind = 'v' ORDER BY 1;
SELECT 'function ' || p.oid::regprocedure || ' ' || md5(pg_get_functiondef(p.oid)) FROM pg_proc p
 WHERE p.pronamespace = 'lead_scoring'::regnamespace AND p.prokind <> 'a' ORDER BY 1;
SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'lead_scoring'::regnamespace AND NOT t.tgisinternal ORDER BY 1;
SQL
done
cmp -s "$WORK/schema_$OLD.txt" "$WORK/schema_$NEW.txt" || { diff "$WORK/schema_$OLD.txt" "$WORK/schema_$NEW.txt" | head -20 >&2; fail "the updated schema differs from a fresh install"; }
echo "   ok: $(wc -l < "$WORK/schema_$NEW.txt") relations, columns, views, functions and triggers identical"
echo "ok: $NAME"
