#!/bin/sh
# Handoff notifications reach a real client connection, at commit only:
# a listener (its own psql session) waits on channel lead_scoring_handoff
# while a writer makes two leads sales-ready, rolls one back and commits the
# other after the listener has passed a marker. The listener must see exactly
# the committed lead, after the marker, with the documented payload. Then a
# lead made sales-ready by an activity and a threshold change at once is
# handed off exactly once.
#
# Run inside a cluster: pg_virtualenv -t sh test/handoff_notify.sh
set -eu
NAME=handoff_notify
DB=ls_handoff_notify
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ls_notify.XXXXXX")
. "$(dirname "$0")/lib.sh"
trap 'dropdb --if-exists "$DB" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

createdb "$DB"
q <<'SQL'
CREATE EXTENSION lead_scoring;
INSERT INTO lead_scoring.models (name, is_active) VALUES ('notify', true);
INSERT INTO lead_scoring.components VALUES (1, 'intent', 'engagement', NULL, NULL);
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points) VALUES (1, 'intent', 'demo_request', 90);
INSERT INTO lead_scoring.grades VALUES ('A', 1, 80, true, NULL, '1 hour'), ('B', 2, 0, false, NULL, NULL);
INSERT INTO lead_scoring.leads (lead_id, email) VALUES (1, 'kept@x.example'), (2, 'rolled.back@x.example');
SQL

step "listener: LISTEN, then two waits separated by a marker"
psql -X -At -d "$DB" -c "LISTEN lead_scoring_handoff" -c "SELECT pg_sleep(2)" -c "SELECT 'marker'" \
	-c "SELECT pg_sleep(3)" -c "SELECT 'end'" > "$WORK/listener.out" 2>&1 &
listener=$!
sleep 0.5

step "writer: a handoff that is rolled back, and one committed after the marker"
q -c "BEGIN" -c "INSERT INTO lead_scoring.activities (lead_id, activity_type) VALUES (2, 'demo_request')" -c "ROLLBACK"
q -c "BEGIN" -c "INSERT INTO lead_scoring.activities (lead_id, activity_type) VALUES (1, 'demo_request')" \
	-c "SELECT pg_sleep(2.5)" -c "COMMIT" >/dev/null
wait "$listener" || fail "the listener failed: $(cat "$WORK/listener.out")"
sed 's/^/   listener: /' "$WORK/listener.out"

notifications=$(grep -c 'Asynchronous notification "lead_scoring_handoff"' "$WORK/listener.out" || true)
[ "$notifications" -eq 1 ] || fail "expected exactly 1 notification, got $notifications"
awk '/^marker$/ { m = NR } /Asynchronous notification/ { n = NR } END { exit !(m && n > m) }' "$WORK/listener.out" \
	|| fail "the notification arrived before the commit"
grep -q '"lead_id": 1,' "$WORK/listener.out" || fail "the notification is not for lead 1"
grep -q '"cause": "activity"' "$WORK/listener.out" || fail "the notification does not give its cause"
grep -q '"grade": "A"' "$WORK/listener.out" || fail "the notification does not give the grade"
due=$(q -c "SELECT follow_up_due_at - handed_off_at FROM lead_scoring.handoffs WHERE lead_id = 1")
[ "$due" = "01:00:00" ] || fail "the handoff is due $due after it, not A's follow_up_within (1 hour)"
grep -q "\"follow_up_due_at\": \"$(q -c "SELECT to_json(follow_up_due_at) #>> '{}' FROM lead_scoring.handoffs WHERE lead_id = 1")\"" \
	"$WORK/listener.out" || fail "the notification does not carry the follow-up due time"
[ "$(q -c "SELECT string_agg(lead_id::text, ',') FROM lead_scoring.handoffs")" = 1 ] \
	|| fail "lead_scoring.handoffs should hold lead 1 only"
echo "   ok: one notification, for the committed lead only, delivered at commit, with its follow-up due time"

step "race: an activity and a threshold change make lead 3 sales-ready at the same time"
q <<'SQL'
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points) VALUES (1, 'intent', 'visit', 70);
INSERT INTO lead_scoring.leads (lead_id, email) VALUES (3, 'raced@x.example');
INSERT INTO lead_scoring.activities (lead_id, activity_type) VALUES (3, 'visit');
SQL
q -c "BEGIN" -c "INSERT INTO lead_scoring.activities (lead_id, activity_type) VALUES (3, 'demo_request')" \
	-c "SELECT pg_sleep(2)" -c "COMMIT" >/dev/null &
writer=$!
sleep 0.5
q -c "UPDATE lead_scoring.grades SET min_score = 60 WHERE grade = 'A'"
wait "$writer" || fail "the writer failed"
n=$(q -c "SELECT count(*) FROM lead_scoring.handoffs WHERE lead_id = 3")
[ "$n" -eq 1 ] || fail "lead 3 was handed off $n times: $(q -c "SELECT string_agg(cause || ' ' || total_score, ', ') FROM lead_scoring.handoffs WHERE lead_id = 3")"
echo "   ok: handed off once ($(q -c "SELECT cause FROM lead_scoring.handoffs WHERE lead_id = 3"))"
echo "ok: $NAME"
