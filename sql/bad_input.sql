-- A catalogue of bad input: each case is refused with a clear message and
-- SQLSTATE (or handled as documented), in its own subtransaction, and nothing
-- is half-written (row counts are compared afterwards).
\set SHOW_CONTEXT never
SET timezone = 'UTC';
CREATE FUNCTION pg_temp.attempt(statement text, OUT code text, OUT answer text)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE statement;
  code := '00000';
  answer := 'accepted';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, answer = MESSAGE_TEXT;
END
$$;
CREATE TEMP TABLE counts_before AS
SELECT (SELECT count(*) FROM lead_scoring.leads) AS leads, (SELECT count(*) FROM lead_scoring.activities) AS activities,
       (SELECT count(*) FROM lead_scoring.activity_rules) AS activity_rules, (SELECT count(*) FROM lead_scoring.fit_rules) AS fit_rules,
       (SELECT count(*) FROM lead_scoring.components) AS components, (SELECT count(*) FROM lead_scoring.claims) AS claims,
       (SELECT count(*) FROM lead_scoring.cherry_picks) AS cherry_picks, (SELECT string_agg(grade || min_score, ',' ORDER BY rank) FROM lead_scoring.grades) AS grades;

-- checks deferred to commit (one active model) run per statement, inside each case
BEGIN;
SET CONSTRAINTS ALL IMMEDIATE;
SELECT n AS "#", c AS "case", a.code, a.answer FROM (VALUES
  -- NULLs
  (1, 'activity with NULL lead', $$INSERT INTO lead_scoring.activities (lead_id, activity_type) VALUES (NULL, 'web_visit')$$),
  (2, 'activity with NULL type', $$INSERT INTO lead_scoring.activities (lead_id, activity_type) VALUES (101, NULL)$$),
  (3, 'activity with NULL time', $$INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (101, 'web_visit', NULL)$$),
  (4, 'activity with NULL properties', $$INSERT INTO lead_scoring.activities (lead_id, activity_type, properties) VALUES (101, 'web_visit', NULL)$$),
  (5, 'lead with NULL attributes', $$INSERT INTO lead_scoring.leads (email, attributes) VALUES ('n@x.example', NULL)$$),
  (6, 'lead attributes not an object', $$INSERT INTO lead_scoring.leads (email, attributes) VALUES ('n@x.example', '[1, 2]')$$),
  (7, 'rule with NULL points', $$INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points) VALUES (1, 'web', 'x', NULL)$$),
  (8, 'grade with NULL min_score', $$INSERT INTO lead_scoring.grades (grade, rank, min_score) VALUES ('E', 9, NULL)$$),
  (9, 'engagement_score of NULL state', $$SELECT lead_scoring.engagement_score(NULL, '{}', now())$$),
  (10, 'score_activities with NULL model', $$SELECT lead_scoring.score_activities(NULL, 'x', now(), NULL)$$),
  -- NaN and infinities
  (11, 'NaN points', $$INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points) SELECT model_id, 'web', 'x', 'NaN' FROM lead_scoring.models WHERE name = 'live'$$),
  (12, 'infinite points', $$INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points) SELECT model_id, 'web', 'x', '-Infinity' FROM lead_scoring.models WHERE name = 'live'$$),
  (13, 'points beyond 1e12', $$INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points) SELECT model_id, 'web', 'x', 1e13 FROM lead_scoring.models WHERE name = 'live'$$),
  (14, 'infinite cap', $$UPDATE lead_scoring.components SET max_points = 'Infinity' WHERE component = 'web'$$),
  (15, 'NaN threshold', $$UPDATE lead_scoring.grades SET min_score = 'NaN' WHERE grade = 'D'$$),
  (16, 'infinite half-life', $$UPDATE lead_scoring.activity_rules SET half_life = 'infinity' WHERE activity_type = 'webinar'$$),
  -- absurd timestamps
  (17, 'activity at infinity', $$INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (101, 'web_visit', 'infinity')$$),
  (18, 'activity at -infinity', $$INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (101, 'web_visit', '-infinity')$$),
  (19, 'activity in 4713 BC (kept: a finite time)', $$WITH m AS (SELECT definition AS d FROM lead_scoring.models WHERE name = 'live') SELECT lead_scoring.engagement_score((SELECT lead_scoring.score_activities(d, 'webinar', '4713-01-01 00:00:00+00 BC', NULL) FROM m), (SELECT d FROM m), now())$$),
  (20, 'activity in year 294276 (kept: evaluated there)', $$WITH m AS (SELECT definition AS d FROM lead_scoring.models WHERE name = 'live') SELECT lead_scoring.engagement_score((SELECT lead_scoring.score_activities(d, 'webinar', '294276-12-31 00:00:00+00', NULL) FROM m), (SELECT d FROM m), now())$$),
  (21, 'score as of infinity (decayed to 0)', $$SELECT lead_scoring.engagement_score(engagement, (SELECT definition FROM lead_scoring.active_model), 'infinity') FROM lead_scoring.lead_scores WHERE lead_id = 101$$),
  -- huge and deeply nested jsonb, unknown types
  (22, 'properties 10,000 levels deep (stored, matched as usual)', $$INSERT INTO lead_scoring.activities (lead_id, activity_type, properties) SELECT 101, 'unknown_kind', (repeat('{"a": ', 10000) || '1' || repeat('}', 10000))::jsonb$$),
  (23, 'attributes of 1 MB (stored, scored)', $$INSERT INTO lead_scoring.leads (lead_id, email, attributes) VALUES (9401, 'big@x.example', jsonb_build_object('title', 'VP ' || repeat('x', 1000000)))$$),
  (24, 'unknown activity type (stored, scores nothing)', $$INSERT INTO lead_scoring.activities (lead_id, activity_type) VALUES (101, 'never_seen_before')$$),
  (25, 'model definition not an object', $$SELECT lead_scoring.check_model('"model"')$$),
  (26, 'model definition nested 10,000 deep', $$SELECT lead_scoring.check_model((repeat('{"components": ', 10000) || '[]' || repeat('}', 10000))::jsonb)$$),
  -- malformed state values
  (27, 'state that is not JSON', $$SELECT 'garbage'::lead_scoring.engagement_state$$),
  (28, 'state with a negative amount', $$SELECT '{"fingerprint": "0000000000000001", "counters": [{"counter": "0000000000000001", "activities": 1, "latest": "2026-01-01", "amount": -1, "half_life_seconds": 0}]}'::lead_scoring.engagement_state$$),
  (29, 'state built for other rules', $$SELECT lead_scoring.engagement_score(engagement, '{"components": [], "activity_rules": []}', now()) FROM lead_scoring.lead_scores WHERE lead_id = 101$$),
  (30, 'merging states of different rules', $$SELECT lead_scoring.merge_engagement(engagement, '{"fingerprint": "0000000000000001", "counters": []}') FROM lead_scoring.lead_scores WHERE lead_id = 101$$),
  -- invalid patterns, conflicting grades
  (31, 'invalid fit pattern', $$INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, pattern, points) SELECT model_id, 'title', 'title', 'matches', '[unclosed', 1 FROM lead_scoring.models WHERE name = 'live'$$),
  (32, 'invalid bogus-lead pattern', $$INSERT INTO lead_scoring.bogus_patterns (field, pattern) VALUES ('email', '*oops')$$),
  (33, 'two grades at one threshold', $$UPDATE lead_scoring.grades SET min_score = 50 WHERE grade = 'A'$$),
  (34, 'grades out of rank order', $$UPDATE lead_scoring.grades SET min_score = 10 WHERE grade = 'A'$$),
  (35, 'unknown dimension', $$INSERT INTO lead_scoring.components (model_id, component, dimension) VALUES (1, 'x', 'mood')$$),
  -- deleting what is in use, unknown leads
  (36, 'deleting a rule in use (rescored without it)', $$DELETE FROM lead_scoring.activity_rules WHERE activity_type = 'unsubscribe' AND model_id = (SELECT model_id FROM lead_scoring.models WHERE name = 'live')$$),
  (37, 'deleting the active model', $$DELETE FROM lead_scoring.models WHERE is_active$$),
  (38, 'claim of an unknown lead', $$SELECT lead_scoring.claim_lead(987654)$$),
  (39, 'claim of a NULL lead', $$SELECT lead_scoring.claim_lead(NULL)$$),
  (40, 'tracking a table that does not exist', $$SELECT lead_scoring.track('public.nope', 'a', 'b', 'c')$$),
  (41, 'activity of an unknown lead', $$INSERT INTO lead_scoring.activities (lead_id, activity_type) VALUES (987654, 'web_visit')$$),
  (42, 'setting of the wrong kind', $$UPDATE lead_scoring.settings SET value = 'often' WHERE name = 'cherry_pick_policy'$$),
  -- an amount above its count of activities scored -Infinity under negative points (test/fuzz/corpus/score/huge_amount)
  (43, 'state whose amount exceeds its activities', $$SELECT '{"fingerprint": "0000000000000001", "counters": [{"counter": "0000000000000001", "activities": 1, "latest": "2026-01-01", "amount": 1e308, "half_life_seconds": 0}]}'::lead_scoring.engagement_state$$),
  -- the C trigger checks how it was attached (track() attaches it right)
  (44, 'live-scoring trigger attached by hand, per row', $c$DO $d$ BEGIN
     CREATE TEMP TABLE misused (lead_id bigint, activity_type text, occurred_at timestamptz);
     CREATE TRIGGER misused AFTER INSERT ON misused FOR EACH ROW
       EXECUTE FUNCTION lead_scoring.score_inserted_activities('lead_id', 'activity_type', 'occurred_at', '');
     INSERT INTO misused VALUES (1, 'web_visit', now());
   END $d$$c$),
  -- settings are checked where they are stored, however they are written
  (45, 'burst_window that is no interval', $$UPDATE lead_scoring.settings SET value = 'soon' WHERE name = 'burst_window'$$),
  (46, 'burst_window of 300000 years', $$UPDATE lead_scoring.settings SET value = '300000 years' WHERE name = 'burst_window'$$),
  (47, 'an unknown setting written directly', $$INSERT INTO lead_scoring.setting_overrides (name, value) VALUES ('speed', 'fast')$$),
  (48, 'burst_max_activities written directly', $$INSERT INTO lead_scoring.setting_overrides (name, value) VALUES ('burst_max_activities', '99999999999')$$),
  -- only permanent tables of built-in column types are tracked
  (49, 'tracking a view', $$SELECT lead_scoring.track('lead_scoring.lead_grades', 'lead_id', 'email', 'last_activity_at')$$),
  (50, 'tracking a temporary table', $c$DO $d$ BEGIN
     CREATE TEMP TABLE passing (lead_id bigint, activity_type text, occurred_at timestamptz);
     PERFORM lead_scoring.track('pg_temp.passing', 'lead_id', 'activity_type', 'occurred_at');
   END $d$$c$),
  (51, 'a rejection with a reason that is not in the table', $$SELECT lead_scoring.reject_lead(101, 'too pricey')$$),
  -- near the limits of time: finite, so scored; the burst window around them does not overflow
  (52, 'activity 30 seconds before the end of time (kept)', $$INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (103, 'web_visit', '294276-12-31 23:59:30+00')$$),
  (53, 'activity 30 seconds after the start of time (kept)', $$INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (103, 'web_visit', '4714-11-24 00:00:30+00 BC')$$),
  (54, 'half-life of a million years (kept)', $$UPDATE lead_scoring.activity_rules SET half_life = '1000000 years' WHERE activity_type = 'webinar'$$),
  (55, 'half-life of 150 million years', $$UPDATE lead_scoring.activity_rules SET half_life = '150000000 years' WHERE activity_type = 'webinar'$$),
  (56, 'a model of 100001 fit rules', $$SELECT lead_scoring.check_model(jsonb_build_object('components', '[{"component": "c", "dimension": "fit"}]'::jsonb, 'fit_rules', (SELECT jsonb_agg(jsonb_build_object('rule_id', i, 'component', 'c', 'attribute', 'a', 'test', 'present', 'points', 1)) FROM generate_series(1, 100001) i)))$$)
) AS cases(n, c, s)
CROSS JOIN LATERAL pg_temp.attempt(s) AS a   -- once per case
ORDER BY n;
COMMIT;

-- Refused cases left nothing behind; accepted ones did what the table says.
SELECT (SELECT count(*) FROM lead_scoring.leads) - leads AS new_leads,
       (SELECT count(*) FROM lead_scoring.activities) - activities AS new_activities,
       (SELECT count(*) FROM lead_scoring.activity_rules) - activity_rules AS rules_change,
       (SELECT count(*) FROM lead_scoring.fit_rules) - fit_rules AS fit_rules_change,
       (SELECT count(*) FROM lead_scoring.components) - components AS components_change,
       (SELECT count(*) FROM lead_scoring.claims) - claims AS new_claims,
       (SELECT count(*) FROM lead_scoring.cherry_picks) - cherry_picks AS new_audit_entries,
       (SELECT string_agg(grade || min_score, ',' ORDER BY rank) FROM lead_scoring.grades) = grades AS grades_unchanged,
       (SELECT count(*) FROM lead_scoring.models WHERE is_active) AS active_models
  FROM counts_before;
-- the live state still equals a full recompute
SELECT * FROM public.live_mismatches();

-- Every lead's count of open suppressions, kept by the trigger on
-- suppressions through all the files above (opt-outs, bursts, bogus leads, by
-- hand, lifted, deleted, and leads gone), equals a count from scratch.
SELECT count(*) AS leads, count(*) FILTER (WHERE s.open_suppressions IS DISTINCT FROM coalesce(x.n, 0)) AS miscounted
  FROM lead_scoring.lead_scores s
  FULL JOIN (SELECT lead_id, count(*) AS n FROM lead_scoring.suppressions WHERE lifted_at IS NULL GROUP BY lead_id) x
 USING (lead_id);
