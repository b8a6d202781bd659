#!/bin/sh
# Every PL/pgSQL function of the extension through plpgsql_check (Debian's
# postgresql-15-plpgsql-check): a trigger function against each trigger that
# runs it, with that trigger's table and transition tables; the others as they
# are, with its security warnings. Any error fails the test; warnings are
# counted and listed. (Its "extra" warnings are left out: they say only that
# the OUT columns of RETURN QUERY EXECUTE cannot be seen statically.)
#
# Run inside a cluster: pg_virtualenv -t sh test/plpgsql_check.sh
set -eu
cd "$(dirname "$0")/.."
NAME=plpgsql_check
DB=ls_plpgsql_check
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ls_plpgsql_check.XXXXXX")
. test/lib.sh
trap 'dropdb --if-exists "$DB" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

createdb "$DB"
q -c "CREATE EXTENSION lead_scoring" -c "CREATE EXTENSION plpgsql_check"
# a tracked table of the user's, so that its triggers are checked too
q -c "CREATE TABLE public.web_events (visitor integer, kind varchar(40), at timestamptz, payload json)" \
  -c "SELECT count(*) FROM lead_scoring.track('public.web_events', 'visitor', 'kind', 'at', 'payload')" > /dev/null
q -F '|' > "$WORK/report" <<'SQL'
WITH functions AS (
  SELECT p.oid, p.oid::regprocedure AS function, p.prorettype = 'trigger'::regtype AS is_trigger
    FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
   WHERE p.pronamespace = 'lead_scoring'::regnamespace AND l.lanname = 'plpgsql'),
runs AS (
  SELECT f.function, f.oid, t.tgrelid, t.tgname, t.tgoldtable, t.tgnewtable
    FROM functions f LEFT JOIN pg_trigger t ON t.tgfoid = f.oid
   WHERE NOT f.is_trigger OR t.oid IS NOT NULL
  UNION ALL   -- a trigger function no trigger runs is checked without a table, and fails
  SELECT f.function, f.oid, 0, NULL::name, NULL::name, NULL::name FROM functions f
   WHERE f.is_trigger AND NOT EXISTS (SELECT FROM pg_trigger t WHERE t.tgfoid = f.oid))
SELECT 'checked', count(DISTINCT r.oid)::text, count(r.tgname)::text FROM runs r
UNION ALL
SELECT c.level, r.function || coalesce(' on ' || r.tgrelid::regclass || ' (' || r.tgname || ')', ''),
       coalesce('line ' || c.lineno || ': ', '') || c.message || coalesce(' (' || c.detail || ')', '')
  FROM runs r
 CROSS JOIN LATERAL plpgsql_check_function_tb(r.oid, coalesce(r.tgrelid, 0)::regclass, oldtable => r.tgoldtable, newtable => r.tgnewtable,
                                              extra_warnings => false, security_warnings => true) c;
SQL
awk -F'|' '/^checked/ { print "   " $2 " PL/pgSQL functions checked, the trigger functions against each of their " $3 " triggers" }' "$WORK/report"
errors=$(grep -c '^error' "$WORK/report" || true)
warnings=$(grep -vc '^error\|^checked' "$WORK/report" || true)
grep -v '^checked' "$WORK/report" | sed 's/^/   /; s/|/ | /g'
echo "   $errors errors, $warnings warnings"
[ "$errors" -eq 0 ] || fail "plpgsql_check reports $errors errors"
echo "ok: $NAME"
