-- Changing rules or the active model rescores through rescore(), which
-- reports how many leads changed grade.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
\set live '(SELECT model_id FROM lead_scoring.models WHERE name = ''live'')'
SELECT lead_id, grade FROM lead_scoring.lead_grades ORDER BY lead_id;

-- Points are applied at evaluation: doubling the title points lifts 101 (B to A) and 102 (C to B).
UPDATE lead_scoring.fit_rules SET points = 50 WHERE model_id = :live;
SELECT lead_id, grade FROM lead_scoring.lead_grades ORDER BY lead_id;
-- A half-life change needs every state rebuilt: the rescore does it, and the live state still equals a recompute.
UPDATE lead_scoring.activity_rules SET half_life = '60 days' WHERE model_id = :live AND activity_type = 'webinar';
SELECT * FROM public.live_mismatches();
-- Nothing changed: nothing to report.
SELECT * FROM lead_scoring.rescore();

-- A second model, built on the side and activated in one call.
INSERT INTO lead_scoring.models (name, description) VALUES ('strict', 'only demo requests count');
INSERT INTO lead_scoring.components (model_id, component, dimension)
SELECT model_id, 'sales_signals', 'engagement' FROM lead_scoring.models WHERE name = 'strict';
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points)
SELECT model_id, 'sales_signals', 'demo_request', 90 FROM lead_scoring.models WHERE name = 'strict';
SELECT lead_id, grade FROM lead_scoring.lead_grades ORDER BY lead_id;
SELECT * FROM lead_scoring.activate_model('strict');
SELECT lead_id, grade, model FROM lead_scoring.lead_grades ORDER BY lead_id;
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (103, 'demo_request', '2026-01-25');
SELECT lead_id, grade, sales_ready FROM lead_scoring.lead_grades WHERE lead_id = 103;
SELECT * FROM public.live_mismatches();
-- going back: activate the previous model
SELECT * FROM lead_scoring.activate_model('live');
SELECT * FROM lead_scoring.activate_model('no such model');
-- a plain UPDATE of is_active rescores as well (reported in a notice)
BEGIN;
UPDATE lead_scoring.models SET is_active = (name = 'strict');
SELECT lead_id, grade, model FROM lead_scoring.lead_grades ORDER BY lead_id;
ROLLBACK;
SELECT * FROM public.live_mismatches();

-- A change costs what changed. Scans of the activities and rows of
-- lead_scores written in this transaction, since the last call.
CREATE FUNCTION public.change_cost(OUT activity_scans bigint, OUT states_written bigint)
LANGUAGE sql AS $$
  SELECT (SELECT seq_scan + coalesce(idx_scan, 0) FROM pg_stat_xact_user_tables
           WHERE relid = 'lead_scoring.activities'::regclass),
         (SELECT n_tup_upd + n_tup_ins + n_tup_del FROM pg_stat_xact_user_tables
           WHERE relid = 'lead_scoring.lead_scores'::regclass)
$$;
-- Moving a point or a cap reads no activity and writes no state; 103's
-- web visit now counts 7 points instead of 5 (its grade follows at once).
SELECT round((lead_scoring.lead_score(103, '2026-02-01')).engagement_score::numeric, 2) AS engagement_of_103;
CREATE TEMP TABLE saved_rules AS SELECT rule_id, points, max_points FROM lead_scoring.activity_rules WHERE model_id = :live;
BEGIN;
SELECT activity_scans AS scans0, states_written AS written0 FROM public.change_cost() \gset
UPDATE lead_scoring.activity_rules SET points = 7, max_points = 40 WHERE model_id = :live AND activity_type = 'web_visit';
-- (applied now rather than at commit, to be measured)
SELECT leads_rescored FROM lead_scoring.apply_model_changes();
SELECT activity_scans - :scans0 AS activity_scans, states_written - :written0 AS states_written FROM public.change_cost();
COMMIT;
SELECT round((lead_scoring.lead_score(103, '2026-02-01')).engagement_score::numeric, 2) AS engagement_of_103;
SELECT * FROM public.live_mismatches();
-- A copy with new points (new rule ids, same counters and fit tests)
-- activates without reading an activity or a lead, and writes no row: the
-- stored states and fit tests are evaluated under its points.
SELECT lead_scoring.copy_model('live', 'live_copy');
UPDATE lead_scoring.fit_rules SET points = points + 1 WHERE model_id = (SELECT model_id FROM lead_scoring.models WHERE name = 'live_copy');
BEGIN;
SELECT activity_scans AS scans0, states_written AS written0 FROM public.change_cost() \gset
SELECT * FROM lead_scoring.activate_model('live_copy');
SELECT activity_scans - :scans0 AS activity_scans,
       states_written - :written0 AS states_written
  FROM public.change_cost();
COMMIT;
SELECT * FROM public.live_mismatches();
-- A fit test changed (the title pattern) reads the leads but no activity,
-- and writes only the records that change: 101 and 102 (director, VP) no
-- longer pass, 103 (engineer) does, at the copy's 51 points (50 + 1); the
-- fourth write clears the handoff flag of 102, no longer sales-ready
-- (rolled back: the handoffs it makes would change what later tests expect).
BEGIN;
SELECT activity_scans AS scans0, states_written AS written0 FROM public.change_cost() \gset
UPDATE lead_scoring.fit_rules SET pattern = 'engineer'
 WHERE model_id = (SELECT model_id FROM lead_scoring.models WHERE name = 'live_copy');
SELECT leads_changed_grade FROM lead_scoring.apply_model_changes();
SELECT activity_scans - :scans0 AS activity_scans, states_written - :written0 AS states_written
  FROM public.change_cost();
SELECT lead_id, fit_score FROM lead_scoring.lead_grades WHERE lead_id IN (101, 102, 103) ORDER BY lead_id;
ROLLBACK;
-- Which basis each lead's row has: the active model's own ("model"), an
-- older one the model lists as kept ("kept", in stored_state_bases and in the
-- definition's stored_bases), or neither ("stale", never expected).
CREATE FUNCTION public.row_bases(OUT lead_id bigint, OUT engagement text, OUT fit text)
RETURNS SETOF record LANGUAGE sql AS $$
  SELECT s.lead_id,
         CASE WHEN s.engagement IS NULL THEN NULL
              WHEN lead_scoring.state_fingerprint(s.engagement) = lead_scoring.model_fingerprint(m.definition) THEN 'model'
              WHEN lead_scoring.state_fingerprint(s.engagement) IN (
                     SELECT b.basis FROM lead_scoring.stored_state_bases b WHERE b.dimension = 'engagement')
                   AND lead_scoring.state_fingerprint(s.engagement)::text IN (
                     SELECT jsonb_array_elements_text(m.definition->'stored_bases'->'fingerprints')) THEN 'kept'
              ELSE 'stale' END,
         CASE WHEN s.fit_basis IS NULL THEN NULL
              WHEN s.fit_basis = lead_scoring.fit_basis(m.definition) THEN 'model'
              WHEN s.fit_basis IN (SELECT b.basis FROM lead_scoring.stored_state_bases b WHERE b.dimension = 'fit')
                   AND s.fit_basis::text IN (SELECT jsonb_array_elements_text(m.definition->'stored_bases'->'fit_bases'))
                THEN 'kept'
              ELSE 'stale' END
    FROM lead_scoring.lead_scores s, lead_scoring.active_model m ORDER BY 1
$$;
-- A rule that counts something new writes only the states of the leads with
-- such activities: 103, the one lead with a demo request. 101 and 102 keep
-- their states as they are, built with fewer counters: the model lists their
-- fingerprint as kept, and scores them as a recompute does.
BEGIN;
SELECT activity_scans AS scans0, states_written AS written0 FROM public.change_cost() \gset
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points)
SELECT model_id, 'web', 'demo_request', 3 FROM lead_scoring.models WHERE name = 'live_copy';
SELECT leads_rescored FROM lead_scoring.apply_model_changes();
SELECT activity_scans - :scans0 AS activity_scans, states_written - :written0 AS states_written FROM public.change_cost();
SELECT * FROM public.row_bases();
SELECT * FROM public.live_mismatches();
-- an activity of 101 brings its state to the model's counters
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (101, 'web_visit', '2026-01-20');
SELECT * FROM public.row_bases();
SELECT * FROM public.live_mismatches();
-- Removing the rule writes only the state that counted with it (103's). 102's
-- state has the model's counters again; 101's, built with the rule's counter
-- (which counted nothing for it), is kept. The list also keeps older bases no
-- row has any more (those of the models activated above): they are looked
-- for, and dropped, only past 8.
SELECT activity_scans AS scans0, states_written AS written0 FROM public.change_cost() \gset
DELETE FROM lead_scoring.activity_rules
 WHERE model_id = (SELECT model_id FROM lead_scoring.models WHERE name = 'live_copy') AND activity_type = 'demo_request';
SELECT leads_rescored FROM lead_scoring.apply_model_changes();
SELECT activity_scans - :scans0 AS activity_scans, states_written - :written0 AS states_written FROM public.change_cost();
SELECT * FROM public.row_bases();
SELECT dimension, count(*) FROM lead_scoring.stored_state_bases GROUP BY 1 ORDER BY 1;
SELECT * FROM public.live_mismatches();
-- An edit that changes what the model counts, not yet applied: the edited
-- model accepts no older state (they were listed for the model before), so
-- a read of 101's kept state is refused too, until the edit is applied.
SAVEPOINT edit;
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, properties, points)
SELECT model_id, 'web', 'webinar', '{"track": "sales"}', 2 FROM lead_scoring.models WHERE name = 'live_copy';
\set VERBOSITY terse
SELECT lead_id, grade FROM lead_scoring.lead_grades WHERE lead_id = 101;
\set VERBOSITY default
ROLLBACK TO SAVEPOINT edit;
-- A new fit test (title contains "engineer", 4 points) writes only the
-- record of the lead that passes it (103, an engineer, whom no other title
-- rule scores); 101 and 102 keep theirs, and their 51 points.
SELECT activity_scans AS scans0, states_written AS written0 FROM public.change_cost() \gset
INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, pattern, points)
SELECT model_id, 'title', 'title', 'matches', 'engineer', 4 FROM lead_scoring.models WHERE name = 'live_copy';
SELECT leads_rescored FROM lead_scoring.apply_model_changes();
SELECT activity_scans - :scans0 AS activity_scans, states_written - :written0 AS states_written FROM public.change_cost();
SELECT * FROM public.row_bases();
SELECT lead_id, fit_score FROM lead_scoring.lead_grades ORDER BY lead_id;
-- a full rescore brings every row to the model's bases, and lists none; it
-- changes no grade (101 and 102's kept records scored 51 before it, as after)
SELECT leads_rescored, leads_changed_grade FROM lead_scoring.rescore();
SELECT * FROM public.row_bases();
SELECT count(*) AS kept_bases, (SELECT definition ? 'stored_bases' FROM lead_scoring.active_model) AS in_definition
  FROM lead_scoring.stored_state_bases;
SELECT lead_id, fit_score FROM lead_scoring.lead_grades ORDER BY lead_id;
ROLLBACK;
-- Past 16 older bases kept, a change brings every row to the model's: here
-- 18 leads each with an activity type of its own, and a rule for one more of
-- those types at each of 17 changes, each writing its lead's state only.
BEGIN;
INSERT INTO lead_scoring.leads (lead_id, email) SELECT 200 + i, format('l%s@example.com', i) FROM generate_series(1, 18) i;
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at)
SELECT 200 + i, format('type_%s', i), '2026-01-15' FROM generate_series(1, 18) i;
CREATE TEMP TABLE kept_counts (change integer, written bigint, kept bigint);
DO $$
DECLARE
  written0 bigint;
BEGIN
  FOR i IN 1..17 LOOP
    SELECT states_written INTO written0 FROM public.change_cost();
    INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points)
    SELECT model_id, 'web', format('type_%s', i), 1 FROM lead_scoring.models WHERE name = 'live_copy';
    PERFORM lead_scoring.apply_model_changes();
    INSERT INTO kept_counts
    SELECT i, (SELECT states_written - written0 FROM public.change_cost()),
           (SELECT count(*) FROM lead_scoring.stored_state_bases WHERE dimension = 'engagement');
  END LOOP;
END
$$;
SELECT * FROM kept_counts WHERE change IN (1, 2, 16, 17) ORDER BY change;
SELECT engagement, count(*) FROM public.row_bases() GROUP BY 1;
SELECT * FROM public.live_mismatches();
ROLLBACK;
-- A rule that counts something new recounts its type only; the other
-- counters of every state are kept, and the result equals a full recompute.
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points)
SELECT model_id, 'web', 'demo_request', 3 FROM lead_scoring.models WHERE name = 'live_copy';
SELECT * FROM public.live_mismatches();
DELETE FROM lead_scoring.activity_rules
 WHERE model_id = (SELECT model_id FROM lead_scoring.models WHERE name = 'live_copy') AND activity_type = 'demo_request';
SELECT * FROM public.live_mismatches();
SELECT * FROM lead_scoring.activate_model('live');
-- back to the model the other tests expect
DELETE FROM lead_scoring.models WHERE name = 'live_copy';
UPDATE lead_scoring.activity_rules r SET points = s.points, max_points = s.max_points
  FROM saved_rules s WHERE s.rule_id = r.rule_id;
-- Edits in one transaction are rescored once, at commit, and the notice says
-- what was recounted: here two new counters (a property no activity has) and
-- a point moved, three edits. Until then the states are the old model's: a
-- read of scores in the transaction is refused, saying so.
BEGIN;
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, properties, points)
VALUES (:live, 'web', 'webinar', '{"asset": "batch_test"}', 1);
SAVEPOINT before_read;
SELECT count(grade) FROM lead_scoring.lead_grades;
ROLLBACK TO SAVEPOINT before_read;
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, properties, points)
VALUES (:live, 'web', 'web_visit', '{"asset": "batch_test"}', 1);
UPDATE lead_scoring.activity_rules SET points = 2
 WHERE model_id = :live AND activity_type = 'webinar' AND properties = '{"asset": "batch_test"}';
COMMIT;
SELECT * FROM public.live_mismatches();
-- An activity inserted after an edit is scored under the edited model: live
-- scoring applies the edit first (the notice comes from the insert), and
-- nothing is left for the commit.
BEGIN;
DELETE FROM lead_scoring.activity_rules WHERE model_id = :live AND properties = '{"asset": "batch_test"}';
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (101, 'webinar', '2026-01-27');
SELECT leads_rescored AS left_for_commit FROM lead_scoring.apply_model_changes();
SELECT * FROM public.live_mismatches();
ROLLBACK;
DELETE FROM lead_scoring.activity_rules WHERE model_id = :live AND properties = '{"asset": "batch_test"}';
-- An edit rolled back to a savepoint leaves nothing to apply: no notice at commit.
BEGIN;
SAVEPOINT edit;
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, properties, points)
VALUES (:live, 'web', 'webinar', '{"asset": "batch_test"}', 1);
ROLLBACK TO SAVEPOINT edit;
SELECT count(*) AS pending_edits FROM lead_scoring.pending_model_changes;
COMMIT;
-- rescore() or a switch of model in the transaction starts from the states as
-- they are (the definition before the first edit), and leaves nothing for the
-- commit; every state then fits the active model (rolled back afterwards).
BEGIN;
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, properties, points)
VALUES (:live, 'web', 'webinar', '{"asset": "batch_test"}', 1);
SELECT leads_rescored FROM lead_scoring.rescore();
SELECT * FROM public.live_mismatches();
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, properties, points)
VALUES (:live, 'web', 'web_visit', '{"asset": "batch_test"}', 1);
SELECT lead_scoring.copy_model('live', 'live_b') IS NOT NULL AS copied;
SELECT leads_rescored FROM lead_scoring.activate_model('live_b');
SELECT * FROM public.live_mismatches();
SELECT count(*) AS pending_edits FROM lead_scoring.pending_model_changes;
ROLLBACK;
-- Under REPEATABLE READ a recount is refused at commit, not made from a
-- stale snapshot, and the edit is rolled back with it.
BEGIN ISOLATION LEVEL REPEATABLE READ;
UPDATE lead_scoring.activity_rules SET half_life = '61 days' WHERE model_id = :live AND activity_type = 'webinar';
COMMIT;
SELECT half_life FROM lead_scoring.activity_rules WHERE model_id = :live AND activity_type = 'webinar';

-- A lead whose lead_scores row is missing (a restore does not dump that
-- table) comes back in a rescore with its handoff flag: off for a lead never
-- handed off, even when others were, so that one that is sales-ready now is
-- handed off then (cause "rescore"). Its activities come in with live
-- scoring off; all of it is rolled back.
BEGIN;
SELECT l.lead_id AS quiet_lead FROM lead_scoring.lead_grades l
 WHERE NOT l.sales_ready AND NOT l.suppressed AND NOT EXISTS (SELECT FROM lead_scoring.handoffs h WHERE h.lead_id = l.lead_id)
 ORDER BY l.lead_id LIMIT 1 \gset
SELECT count(*) > 0 AS others_handed_off FROM lead_scoring.handoffs;
ALTER TABLE lead_scoring.activities DISABLE TRIGGER lead_scoring_score_inserts;
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at, properties)
SELECT :quiet_lead, r.activity_type, now(), coalesce(r.properties, '{}')
  FROM lead_scoring.activity_rules r JOIN lead_scoring.active_model m USING (model_id), generate_series(1, 20)
 WHERE r.points > 0;
ALTER TABLE lead_scoring.activities ENABLE TRIGGER lead_scoring_score_inserts;
DELETE FROM lead_scoring.lead_scores WHERE lead_id = :quiet_lead;
SELECT leads_now_sales_ready >= 1 AS some_now_sales_ready FROM lead_scoring.rescore();
SELECT g.sales_ready, s.handed_off, (SELECT count(*) FROM lead_scoring.handoffs h WHERE h.lead_id = :quiet_lead) AS handoffs,
       (SELECT h.cause FROM lead_scoring.handoffs h WHERE h.lead_id = :quiet_lead) AS cause
  FROM lead_scoring.lead_scores s JOIN lead_scoring.lead_grades g USING (lead_id) WHERE s.lead_id = :quiet_lead;
ROLLBACK;

-- Hostile search_path: same-named objects in public hijack nothing.
CREATE FUNCTION public.width_bucket(double precision, double precision[]) RETURNS integer
  LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION public.split_part(text, text, integer) RETURNS text LANGUAGE sql AS $$SELECT 'evil.example'$$;
CREATE TABLE public.lead_scores (lead_id bigint, fit_score float8, engagement lead_scoring.engagement_state);
SET search_path = public, pg_catalog, lead_scoring;
SELECT lead_id, grade FROM lead_scoring.lead_grades ORDER BY lead_id;
SELECT * FROM lead_scoring.rescore();
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (101, 'web_visit', '2026-01-26');
UPDATE lead_scoring.leads SET attributes = attributes || '{"seen": true}' WHERE lead_id = 101;
SELECT count(*) AS rows_in_public_lead_scores FROM public.lead_scores;
SELECT lead_scoring.fit_attributes('a@acme.com', NULL, NULL, NULL, '{}') ->> 'email_domain' AS email_domain;
RESET search_path;
DROP FUNCTION public.width_bucket(double precision, double precision[]);
DROP FUNCTION public.split_part(text, text, integer);
DROP TABLE public.lead_scores;
SELECT * FROM public.live_mismatches();
