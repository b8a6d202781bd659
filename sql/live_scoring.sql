-- Live scoring: inserts (single, bulk, COPY, late), updates, deletes and
-- attribute changes keep each lead's state equal to a full recompute.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
INSERT INTO lead_scoring.models (name, description) VALUES ('live', 'regression model');
\set live '(SELECT model_id FROM lead_scoring.models WHERE name = ''live'')'
INSERT INTO lead_scoring.components (model_id, component, dimension, max_points)
VALUES (:live, 'web', 'engagement', 40), (:live, 'events', 'engagement', NULL), (:live, 'title', 'fit', NULL);
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, properties, points, half_life, max_points, description)
VALUES (:live, 'web', 'web_visit', NULL, 5, NULL, 20, 'Web visit'),
       (:live, 'web', 'web_visit', '{"page": "pricing"}', 15, NULL, NULL, 'Pricing page visit'),
       (:live, 'events', 'webinar', NULL, 10, '30 days', NULL, 'Webinar attended'),
       (:live, 'events', 'unsubscribe', NULL, -20, NULL, NULL, 'Unsubscribed');
INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, pattern, points, description)
VALUES (:live, 'title', 'title', 'matches', 'director|vp', 25, 'Senior title');
SELECT * FROM lead_scoring.activate_model('live');

-- Live states against a full recompute from every tracked table, at three instants:
-- how many (lead, instant) pairs differ in activity count or by more than 1e-9 (relative).
CREATE FUNCTION public.live_mismatches(OUT comparisons bigint, OUT mismatches bigint)
LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE format($q$
    WITH recomputed AS (
      SELECT a.lead_id, lead_scoring.score_activities(m.definition, a.activity_type, a.occurred_at, a.properties) AS state
        FROM (%s) a, lead_scoring.active_model m GROUP BY a.lead_id),
    pairs AS (
      SELECT lead_scoring.activity_count(s.engagement) AS live_count, lead_scoring.activity_count(r.state) AS recomputed_count,
             coalesce(lead_scoring.engagement_score(s.engagement, m.definition, t), 0) AS live,
             coalesce(lead_scoring.engagement_score(r.state, m.definition, t), 0) AS recomputed
        FROM lead_scoring.lead_scores s JOIN lead_scoring.active_model m ON true
        LEFT JOIN recomputed r USING (lead_id),
        unnest(ARRAY['2026-01-31', '2026-06-01', '2030-01-01']::timestamptz[]) AS t)
    SELECT count(*), count(*) FILTER (WHERE live_count IS DISTINCT FROM recomputed_count
                                         OR abs(live - recomputed) > 1e-9 * greatest(1, abs(recomputed)))
      FROM pairs$q$, lead_scoring.activity_sources_sql())
  INTO comparisons, mismatches;
END
$f$;

INSERT INTO lead_scoring.leads (lead_id, email, attributes) VALUES
  (101, 'dana@acme.com', '{"title": "Director of IT"}'),
  (102, 'eve@beta.io', '{}'),
  (103, 'finn@gamma.com', '{"title": "Engineer"}');
-- fit is scored as leads arrive
SELECT lead_id, lead_scoring.tested_fit_score(fit_tests, fit_basis, (SELECT definition FROM lead_scoring.active_model)) AS fit_score, engagement
  FROM lead_scoring.lead_scores ORDER BY lead_id;

-- single-row inserts: a visit and two pricing-page visits for 101
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (101, 'web_visit', '2026-01-10');
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at, properties) VALUES (101, 'web_visit', '2026-01-11', '{"page": "pricing"}');
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at, properties) VALUES (101, 'web_visit', '2026-01-12', '{"page": "pricing"}');
-- a bulk INSERT ... SELECT: ten visits for 102
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at)
SELECT 102, 'web_visit', '2026-01-01'::timestamptz + i * interval '1 day' FROM generate_series(1, 10) i;
-- COPY: a webinar and an unsubscribe for 103
COPY lead_scoring.activities (lead_id, activity_type, occurred_at) FROM stdin;
103	webinar	2026-01-01 00:00:00+00
103	unsubscribe	2026-01-20 00:00:00+00
\.
-- a late activity: 101 attended a webinar on Dec 2, recorded after everything else
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (101, 'webinar', '2025-12-02');

-- On Jan 31:
--   101: fit 25; visits: 3 x 5 = 15, pricing 2 x 15 = 30, web 45 capped to 40; webinar 60 days old: 10/4 = 2.5
--   102: 10 visits = 50, capped to 20 by the rule
--   103: webinar 30 days old = 5, unsubscribe -20
SELECT lead_id, (lead_scoring.lead_score(lead_id, '2026-01-31')).* FROM lead_scoring.leads ORDER BY lead_id;
SELECT * FROM public.live_mismatches();

-- An update of activities recomputes the leads concerned: 102's last visit becomes an unsubscribe (20 - 20).
UPDATE lead_scoring.activities SET activity_type = 'unsubscribe' WHERE lead_id = 102 AND occurred_at = '2026-01-11';
-- A delete too: 103's unsubscribe is withdrawn (webinar alone: 5).
DELETE FROM lead_scoring.activities WHERE lead_id = 103 AND activity_type = 'unsubscribe';
-- Moving an activity to another lead recomputes both.
UPDATE lead_scoring.activities SET lead_id = 103 WHERE lead_id = 102 AND occurred_at = '2026-01-10';
SELECT lead_id, (lead_scoring.lead_score(lead_id, '2026-01-31')).* FROM lead_scoring.leads ORDER BY lead_id;
SELECT * FROM public.live_mismatches();

-- Changing a lead's attributes re-scores its fit; other updates leave it alone.
UPDATE lead_scoring.leads SET attributes = '{"title": "VP Sales"}' WHERE lead_id = 102;
UPDATE lead_scoring.leads SET email = 'finn@gamma.example' WHERE lead_id = 103;
SELECT lead_id, lead_scoring.tested_fit_score(fit_tests, fit_basis, (SELECT definition FROM lead_scoring.active_model)) AS fit_score
  FROM lead_scoring.lead_scores ORDER BY lead_id;

-- Scoring happens in the inserting transaction: a rollback leaves no trace.
BEGIN;
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (103, 'webinar', '2026-01-30');
SELECT (lead_scoring.lead_score(103, '2026-01-31')).engagement_score > 14 AS scored_in_transaction;
ROLLBACK;
SELECT (lead_scoring.lead_score(103, '2026-01-31')).engagement_score AS after_rollback;

-- Activities for an unknown lead, without a type, or at an infinite time are refused.
\set VERBOSITY terse
INSERT INTO lead_scoring.activities (lead_id, activity_type) VALUES (999, 'web_visit');
INSERT INTO lead_scoring.activities (lead_id, activity_type) VALUES (101, NULL);
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (101, 'web_visit', 'infinity');
\set VERBOSITY default

-- Deleting a lead removes its activities and scores.
INSERT INTO lead_scoring.leads (lead_id, email) VALUES (104, 'gone@x.com');
INSERT INTO lead_scoring.activities (lead_id, activity_type) VALUES (104, 'web_visit');
DELETE FROM lead_scoring.leads WHERE lead_id = 104;
SELECT count(*) AS scores_of_deleted_lead FROM lead_scoring.lead_scores WHERE lead_id = 104;
SELECT * FROM public.live_mismatches();

-- The triggers run once per statement over transition tables, not once per row.
SELECT c.relname, t.tgname, (t.tgtype & 1) = 1 AS for_each_row, t.tgoldtable, t.tgnewtable
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'lead_scoring'::regnamespace AND c.relname IN ('activities', 'leads') AND NOT t.tgisinternal
 ORDER BY 1, 2;
