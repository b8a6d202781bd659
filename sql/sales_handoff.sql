-- Sales handoff: claims with snapshots, cherry-pick policies, the append-only
-- audit, handoff events, threshold history, and the sales views.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
-- Scores here are as of now(), so they must not depend on the day the suite
-- runs: the webinar, the only rule that decays, has its two activities moved
-- a thousand years back (worth exactly 0) for this test, and back at its end.
UPDATE lead_scoring.activities SET occurred_at = occurred_at - interval '1000 years' WHERE activity_type = 'webinar';
-- start from the 'live' model and a clean slate of grades: A >= 60 is sales-ready
SELECT * FROM lead_scoring.activate_model('live');
UPDATE lead_scoring.grades SET min_score = CASE grade WHEN 'A' THEN 60 WHEN 'B' THEN 50 WHEN 'C' THEN 20 ELSE 0 END;
SELECT lead_id, round(total_score::numeric, 1) AS total, grade, sales_ready FROM lead_scoring.lead_grades ORDER BY lead_id;

-- Claims record a snapshot of the lead's scores, the thresholds and the model in force.
CREATE ROLE rep_ann;
CREATE ROLE rep_bob;
GRANT USAGE ON SCHEMA lead_scoring TO rep_ann, rep_bob;
GRANT SELECT, INSERT ON lead_scoring.claims TO rep_ann, rep_bob;
GRANT SELECT ON ALL TABLES IN SCHEMA lead_scoring TO rep_ann, rep_bob;
GRANT EXECUTE ON FUNCTION lead_scoring.release_claim(bigint, text) TO rep_ann, rep_bob;
SET ROLE rep_ann;
SELECT claim_id, lead_id, rep, cherry_pick, round(total_score::numeric, 1) AS total, grade, sales_ready,
       thresholds -> 0 AS best_grade_then, model_name
  FROM lead_scoring.claim_lead(101, 'asked for pricing');
-- a claim of a lead below the sales-ready grade is a cherry-pick, recorded under the default policy (allow)
SELECT claim_id, lead_id, cherry_pick, grade FROM lead_scoring.claim_lead(102, 'knows the CFO');
-- a claim is made in one's own name
INSERT INTO lead_scoring.claims (lead_id, rep) VALUES (103, 'rep_bob');
RESET ROLE;

-- warn: recorded, and the client gets a WARNING
UPDATE lead_scoring.settings SET value = 'warn' WHERE name = 'cherry_pick_policy';
SET ROLE rep_bob;
INSERT INTO lead_scoring.claims (lead_id, reason) VALUES (103, 'met at a conference');
RESET ROLE;
-- deny: the claim is refused, the attempt is still recorded (ann let 102 go first)
UPDATE lead_scoring.settings SET value = 'deny' WHERE name = 'cherry_pick_policy';
SET ROLE rep_ann;
SELECT lead_id, rep, released_by, release_reason FROM lead_scoring.release_claim(102, 'the CFO left');
SET ROLE rep_bob;
SELECT claim_id FROM lead_scoring.claim_lead(102, 'second try');
-- a lead has one open claim: 101 is ann's until she releases it, and only she
-- (or a manager) may
SELECT lead_id FROM lead_scoring.claim_lead(101);
SELECT lead_id FROM lead_scoring.release_claim(101, 'mine now');
SET ROLE rep_ann;
SELECT lead_id, released_by FROM lead_scoring.release_claim(101, 'bob has the contact');
-- a sales-ready lead can still be claimed under deny
SET ROLE rep_bob;
SELECT lead_id, cherry_pick FROM lead_scoring.claim_lead(101);
RESET ROLE;
UPDATE lead_scoring.settings SET value = 'sometimes' WHERE name = 'cherry_pick_policy';
UPDATE lead_scoring.settings SET value = NULL WHERE name = 'cherry_pick_policy';  -- back to the default
SELECT name, value, default_value, changed_by = current_user AS changed_by_me FROM lead_scoring.settings WHERE name = 'cherry_pick_policy';

SELECT lead_id, rep, reason, cherry_pick, grade FROM lead_scoring.claims ORDER BY claim_id;
SELECT lead_id, rep, reason, policy, outcome, claim_id IS NOT NULL AS has_claim, grade,
       round(total_score::numeric, 1) AS total
  FROM lead_scoring.cherry_picks ORDER BY cherry_pick_id;
-- claims of unknown leads are refused
\set VERBOSITY terse
SELECT * FROM lead_scoring.claim_lead(424242);
\set VERBOSITY default

-- The audit is append-only for every role but a superuser, even its owner.
CREATE ROLE audit_owner;
GRANT USAGE ON SCHEMA lead_scoring TO audit_owner;
ALTER TABLE lead_scoring.cherry_picks OWNER TO audit_owner;
SET ROLE audit_owner;
UPDATE lead_scoring.cherry_picks SET outcome = 'claimed' WHERE outcome = 'denied';
DELETE FROM lead_scoring.cherry_picks;
TRUNCATE lead_scoring.cherry_picks;
-- nor can the owner switch the guard off
ALTER TABLE lead_scoring.cherry_picks DISABLE TRIGGER append_only;
DROP TRIGGER append_only ON lead_scoring.cherry_picks;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'lead_scoring.cherry_picks'::regclass ORDER BY 1;
RESET ROLE;
SET ROLE rep_ann;
DELETE FROM lead_scoring.cherry_picks;
RESET ROLE;
SELECT count(*) AS audit_entries FROM lead_scoring.cherry_picks;
ALTER TABLE lead_scoring.cherry_picks OWNER TO CURRENT_USER;

-- Cherry-pick rates by rep and week.
SELECT rep, claims, cherry_picks, denied, cherry_pick_share FROM lead_scoring.cherry_pick_rates ORDER BY rep;

-- Handoffs: leads that become sales-ready are handed off once, with a cause.
SELECT lead_id, cause, grade FROM lead_scoring.handoffs ORDER BY handoff_id;
-- two pricing-page visits lift 102 from 50 to 70 (web capped at 40, minus its unsubscribe): an activity handoff
-- (at now(): visits never decay, so when does not matter)
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at, properties)
VALUES (102, 'web_visit', now(), '{"page": "pricing"}'), (102, 'web_visit', now(), '{"page": "pricing"}');
SELECT lead_id, cause, grade FROM lead_scoring.handoffs ORDER BY handoff_id;
-- thresholds low enough for 103 (5.0) hand it off, with the thresholds then in force
UPDATE lead_scoring.grades SET min_score = 4 WHERE grade = 'D';
UPDATE lead_scoring.grades SET min_score = CASE grade WHEN 'A' THEN 5 WHEN 'B' THEN 4.5 WHEN 'C' THEN 4.2 ELSE 4 END;
SELECT lead_id, cause, grade, (thresholds -> 0 ->> 'min_score')::float8 AS a_threshold_then
  FROM lead_scoring.handoffs ORDER BY handoff_id;
-- a lead that leaves sales-ready and comes back is handed off again
UPDATE lead_scoring.grades SET min_score = CASE grade WHEN 'A' THEN 60 WHEN 'B' THEN 50 WHEN 'C' THEN 20 ELSE 0 END;
UPDATE lead_scoring.grades SET min_score = CASE grade WHEN 'A' THEN 5 WHEN 'B' THEN 4.5 WHEN 'C' THEN 4.2 ELSE 4 END;
SELECT lead_id, cause, count(*) AS handoffs FROM lead_scoring.handoffs GROUP BY lead_id, cause ORDER BY lead_id, cause;
UPDATE lead_scoring.grades SET min_score = CASE grade WHEN 'A' THEN 60 WHEN 'B' THEN 50 WHEN 'C' THEN 20 ELSE 0 END;

-- Every threshold change is kept, with who and when.
SELECT operation, grade, old_values ->> 'min_score' AS old_min, new_values ->> 'min_score' AS new_min,
       changed_by = current_user AS by_me
  FROM lead_scoring.grade_changes WHERE grade = 'A' ORDER BY change_id DESC LIMIT 4;

-- The sales queue: every lead not suppressed, best first, with reasons and claims.
SELECT lead_id, grade, sales_ready, round(total_score::numeric, 1) AS total, top_reasons, claimed_by
  FROM lead_scoring.sales_queue;
-- a rep who works only sales-ready leads and one who also works C leads each use a WHERE clause
SELECT lead_id FROM lead_scoring.sales_queue WHERE sales_ready;
SELECT lead_id FROM lead_scoring.sales_queue WHERE grade IN ('A', 'B', 'C');

-- Scoring health: cherry-picked leads that convert as well as sales-ready ones mean the model needs work.
SELECT * FROM lead_scoring.scoring_health;
INSERT INTO lead_scoring.outcomes (lead_id, outcome, amount) VALUES (101, 'won', 12000), (102, 'lost', NULL);
SELECT * FROM lead_scoring.scoring_health;
UPDATE lead_scoring.outcomes SET outcome = 'won', amount = 8000 WHERE lead_id = 102;
SELECT * FROM lead_scoring.scoring_health;
DROP OWNED BY audit_owner, rep_ann, rep_bob;
DROP ROLE audit_owner, rep_ann, rep_bob;

-- A lead that fades below sales-ready by time alone is handed off again when
-- it comes back. 600: a VP (50) at a webinar now (10): 60, an A, handed off.
INSERT INTO lead_scoring.leads (lead_id, email, attributes) VALUES (600, 'vp@fading.example', '{"title": "VP"}');
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (600, 'webinar', now());
-- Sixty days go by (its state and its activity are made what sixty days would
-- make them, without an event): the webinar is worth 5 and the lead 55, a B.
UPDATE lead_scoring.lead_scores SET engagement = (
         SELECT lead_scoring.score_activities(m.definition, 'webinar', now() - interval '1440 hours', NULL)
           FROM lead_scoring.active_model m)
 WHERE lead_id = 600;
ALTER TABLE lead_scoring.activities DISABLE TRIGGER lead_scoring_rescore_updates;
UPDATE lead_scoring.activities SET occurred_at = now() - interval '1440 hours' WHERE lead_id = 600;
ALTER TABLE lead_scoring.activities ENABLE TRIGGER lead_scoring_rescore_updates;
SELECT round(total_score::numeric, 1) AS total, grade FROM lead_scoring.lead_grades WHERE lead_id = 600;
-- a second webinar lifts it to 65, an A again: a second handoff
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (600, 'webinar', now());
SELECT cause, round(total_score::numeric, 1) AS total, grade FROM lead_scoring.handoffs WHERE lead_id = 600 ORDER BY handoff_id;
-- The insert trigger calls hand_off only for a lead whose sales-readiness
-- changed (pg_stat_xact_user_functions counts this transaction's calls): a
-- third webinar keeps 600 an A, handed off already, and calls nothing; one
-- that lifts 601, a VP (50, a B), to 60 calls it once, and hands 601 off.
INSERT INTO lead_scoring.leads (lead_id, email, attributes) VALUES (601, 'vp@rising.example', '{"title": "VP"}');
BEGIN;
SET LOCAL track_functions = 'pl';
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (600, 'webinar', now());
SELECT grade, coalesce((SELECT calls FROM pg_stat_xact_user_functions
                         WHERE schemaname = 'lead_scoring' AND funcname = 'hand_off'), 0) AS hand_off_calls
  FROM lead_scoring.lead_grades WHERE lead_id = 600;
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (601, 'webinar', now());
SELECT grade, coalesce((SELECT calls FROM pg_stat_xact_user_functions
                         WHERE schemaname = 'lead_scoring' AND funcname = 'hand_off'), 0) AS hand_off_calls
  FROM lead_scoring.lead_grades WHERE lead_id = 601;
COMMIT;
SELECT lead_id, cause, round(total_score::numeric, 1) AS total, grade FROM lead_scoring.handoffs
 WHERE lead_id IN (600, 601) ORDER BY handoff_id;
DELETE FROM lead_scoring.leads WHERE lead_id IN (600, 601);

-- A history import hands off nobody. 610, a VP (50) at a webinar (10), is an
-- A (60) with an exact state, but not handed off; the import is recorded.
BEGIN;
SELECT lead_scoring.begin_history_import(note => 'CRM history') > 0 AS began, lead_scoring.importing_history();
INSERT INTO lead_scoring.leads (lead_id, email, attributes) VALUES (610, 'vp@imported.example', '{"title": "VP"}');
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (610, 'webinar', now());
SELECT round(total_score::numeric, 1) AS total, grade, sales_ready FROM lead_scoring.lead_grades WHERE lead_id = 610;
SELECT count(*) AS handoffs FROM lead_scoring.handoffs WHERE lead_id = 610;
COMMIT;
-- the next transaction is live again: a second webinar (70) hands it off
SELECT lead_scoring.importing_history();
SELECT started_by = current_user AS by_me, find_bursts, note FROM lead_scoring.history_imports WHERE note = 'CRM history';
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (610, 'webinar', now());
SELECT cause, round(total_score::numeric, 1) AS total, grade FROM lead_scoring.handoffs WHERE lead_id = 610;
-- one import per transaction; a rolled-back one leaves no record
BEGIN;
SELECT lead_scoring.begin_history_import(note => 'rolled back') > 0 AS began;
\set VERBOSITY terse
SELECT lead_scoring.begin_history_import();
\set VERBOSITY default
ROLLBACK;
SELECT count(*) AS imports_rolled_back FROM lead_scoring.history_imports WHERE note = 'rolled back';
-- rolled back to before it (and its record), a savepoint's import is none:
-- the transaction hands off again; kept by a released savepoint, it holds
BEGIN;
SAVEPOINT before_import;
SELECT lead_scoring.begin_history_import(note => 'rolled back to a savepoint') > 0 AS began;
ROLLBACK TO SAVEPOINT before_import;
SELECT lead_scoring.importing_history() AS after_rollback_to_savepoint;
SAVEPOINT kept;
SELECT lead_scoring.begin_history_import(note => 'kept by a savepoint') > 0 AS began;
RELEASE SAVEPOINT kept;
SELECT lead_scoring.importing_history() AS after_release;
COMMIT;
SELECT note FROM lead_scoring.history_imports WHERE note LIKE '%savepoint' ORDER BY import_id;
DELETE FROM lead_scoring.activities WHERE lead_id = 610;
DELETE FROM lead_scoring.leads WHERE lead_id = 610;
UPDATE lead_scoring.activities SET occurred_at = occurred_at + interval '1000 years' WHERE activity_type = 'webinar';
