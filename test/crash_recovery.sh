#!/bin/sh
# Crash safety: 4 clients load activities (single-row and multi-row inserts,
# late and out of order) while the server is stopped with
# `pg_ctl stop -m immediate` (no shutdown checkpoint: a crash). After the
# restart and WAL replay, every lead's live state must equal a full recompute
# over the rows that committed: no activity lost or counted twice.
#
# Run inside a cluster: pg_virtualenv -t sh test/crash_recovery.sh
set -eu
NAME=crash_recovery
DB=ls_crash
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ls_crash.XXXXXX")
. "$(dirname "$0")/lib.sh"
trap 'dropdb --if-exists "$DB" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
cluster="${PGVERSION:-15} regress"

createdb "$DB"
q -c "CREATE EXTENSION lead_scoring" -f "$(dirname "$0")/fixture_model.sql"
q -c "INSERT INTO lead_scoring.leads (lead_id, email) SELECT i, 'lead' || i || '@crash.example' FROM generate_series(1, 100) i"

cat > "$WORK/load.sql" <<'SQL'
\set lead random(1, 100)
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at, properties)
VALUES (:lead, (ARRAY['web_visit', 'email_click', 'download', 'webinar', 'demo_request'])[1 + :lead % 5],
        now() - random() * interval '30 days', '{"page": "pricing"}');
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at)
SELECT 1 + (:lead + g) % 100, 'web_visit', now() - random() * interval '30 days' FROM generate_series(1, 5) g;
SQL

step "load: 4 clients for up to 20 s; the server is killed after 4 s"
pgbench -n -c 4 -j 2 -T 20 -f "$WORK/load.sql" "$DB" > "$WORK/pgbench.log" 2>&1 &
bench=$!
sleep 4
before=$(q -c "SELECT count(*) FROM lead_scoring.activities")
pg_ctlcluster $cluster stop -m immediate
wait "$bench" || true   # the clients lose their connections: expected
echo "   killed with about $before committed activities; pgbench: $(grep -cE 'server closed|terminat|connection' "$WORK/pgbench.log" || true) connection error line(s)"

step "restart: crash recovery replays the WAL"
pg_ctlcluster $cluster start
for i in 1 2 3 4 5 6 7 8 9 10; do pg_isready -q && break; sleep 1; done
pg_isready -q || fail "the server did not come back"
after=$(q -c "SELECT count(*) FROM lead_scoring.activities")
[ "$after" -ge "$before" ] || fail "committed activities were lost: $before before the crash, $after after"
echo "   $after activities survived (at least the $before seen committed before the kill)"

step "live state of every lead = full recompute over the committed rows"
result=$(q -F ' ' <<'SQL'
WITH recomputed AS (
  SELECT a.lead_id, lead_scoring.score_activities(m.definition, a.activity_type, a.occurred_at, a.properties) AS state
    FROM lead_scoring.activities a, lead_scoring.active_model m GROUP BY a.lead_id),
pairs AS (
  SELECT lead_scoring.activity_count(s.engagement) AS live_n, lead_scoring.activity_count(r.state) AS full_n,
         lead_scoring.engagement_score(s.engagement, m.definition, t) AS live_score,
         lead_scoring.engagement_score(r.state, m.definition, t) AS full_score
    FROM lead_scoring.lead_scores s JOIN lead_scoring.active_model m ON true
    LEFT JOIN recomputed r USING (lead_id),
         unnest(ARRAY[now(), now() + interval '20 days']) AS t)
SELECT count(*), count(*) FILTER (WHERE live_n IS DISTINCT FROM full_n
                                     OR abs(coalesce(live_score, 0) - coalesce(full_score, 0)) > 1e-9 * greatest(1, abs(coalesce(full_score, 0))))
  FROM pairs
SQL
)
set -- $result
[ "$1" -eq 200 ] || fail "expected 200 comparisons (100 leads x 2 instants), got $1"
[ "$2" -eq 0 ] || fail "$2 of $1 comparisons differ between the live state and the full recompute"
echo "   ok: 100 leads x 2 instants, live state = full recompute"
echo "ok: $NAME"
