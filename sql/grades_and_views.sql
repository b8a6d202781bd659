-- Views as of now(): lead_grades, funnel, score_breakdown, unscored activity
-- types; one UPDATE of the thresholds changes the very next SELECT.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
-- The views score as of now(), so what they show must not depend on the day
-- the suite runs. The webinar is the live model's only rule that decays: its
-- two activities (2025-12-02 and 2026-01-01) go back a thousand years, where
-- they count exactly 0 (2^-12175 underflows), until the views are tested.
UPDATE lead_scoring.activities SET occurred_at = occurred_at - interval '1000 years' WHERE activity_type = 'webinar';
UPDATE lead_scoring.grades SET min_score = CASE grade WHEN 'A' THEN 80 WHEN 'B' THEN 50 WHEN 'C' THEN 20 ELSE 0 END;
-- 101 earns 65: fit 25 + web 40 (capped); 102: fit 25 + 0; 103: a visit, 5 (and a webinar, 0 now)
SELECT lead_id, email, round(fit_score::numeric, 1) AS fit, round(engagement_score::numeric, 1) AS engagement,
       round(total_score::numeric, 1) AS total, grade, sales_ready, model
  FROM lead_scoring.lead_grades ORDER BY lead_id;
SELECT grade, leads, share, min_score, below_score, round(lowest_score::numeric, 1) AS lowest,
       round(highest_score::numeric, 1) AS highest, sales_ready
  FROM lead_scoring.funnel;

-- "Open the funnel": A from 80 to 60. No refresh step: the next SELECT sees it.
UPDATE lead_scoring.grades SET min_score = 60 WHERE grade = 'A';
SELECT lead_id, grade, sales_ready FROM lead_scoring.lead_grades ORDER BY lead_id;
SELECT grade, leads, share, sales_ready FROM lead_scoring.funnel;
-- Make B sales-ready as well.
UPDATE lead_scoring.grades SET sales_ready = true WHERE grade = 'B';
SELECT grade, leads, sales_ready FROM lead_scoring.funnel;
UPDATE lead_scoring.grades SET sales_ready = false WHERE grade = 'B';
UPDATE lead_scoring.grades SET min_score = 80 WHERE grade = 'A';

-- The breakdown explains each score to the point: its rows add up to total_score.
SELECT lead_id, dimension, component, rule, activities, round(points_before_caps::numeric, 1) AS before_caps,
       round(points::numeric, 3) AS points
  FROM lead_scoring.score_breakdown WHERE lead_id = 101 ORDER BY dimension, rule;
SELECT g.lead_id, round(g.total_score::numeric, 9) = round(coalesce(sum(b.points), 0)::numeric, 9) AS adds_up
  FROM lead_scoring.lead_grades g LEFT JOIN lead_scoring.score_breakdown b USING (lead_id)
 GROUP BY g.lead_id, g.total_score ORDER BY g.lead_id;
UPDATE lead_scoring.activities SET occurred_at = occurred_at + interval '1000 years' WHERE activity_type = 'webinar';
-- explain_score gives the same at any instant: on Jan 31, 101's webinar is 60 days old (10 / 4 = 2.5)
SELECT dimension, component, activities, points FROM lead_scoring.explain_score(101, '2026-01-31');

-- Activity types no rule scores (a web visit to the blog is scored; a badge scan is not).
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at, properties) VALUES
  (101, 'badge_scan', '2026-01-05', '{}'), (102, 'badge_scan', '2026-01-06', '{}'),
  (102, 'web_visit', '2026-01-07', '{"page": "blog"}');
SELECT * FROM lead_scoring.unscored_activity_types;

-- The report of a model change (regrade), under thresholds 0, 40 and
-- 70, the last one sales-ready. Lead 1 rises a grade (10 -> 50), 2 becomes
-- sales-ready (65 -> 75), 3 stops being (80 -> 60), 4 stays (90 -> 95), 5 is
-- new to scoring (no score before; -5 is the lowest grade), 6 stays at the
-- threshold (70 -> 70): four changed grade, one became and one stopped being
-- sales-ready. hand_off must look at 2 and 6 (sales-ready, not handed off)
-- and 3 (handed off, no longer sales-ready).
SELECT (g.r).leads, (g.r).changed_grade, (g.r).now_sales_ready, (g.r).no_longer_sales_ready,
       ARRAY(SELECT unnest((g.r).leads_to_hand_off) ORDER BY 1) AS leads_to_hand_off
  FROM (SELECT lead_scoring.regrade(v.lead_id, v.handed_off, v.before, v.after, '{0,40,70}', '{f,f,t}') AS r
          FROM (VALUES (1::bigint, false, 10::float8, 50::float8), (2, false, 65, 75), (3, true, 80, 60),
                       (4, true, 90, 95), (5, false, NULL, -5), (6, false, 70, 70)) v(lead_id, handed_off, before, after)) g;
-- no grades: nothing changes grade, nothing is sales-ready
SELECT (lead_scoring.regrade(1, false, 10, 50, NULL, NULL)).*;
-- thresholds out of order, or of two lengths
SELECT lead_scoring.regrade(1, false, 10, 50, '{40,0}', '{f,t}');
SELECT lead_scoring.regrade(1, false, 10, 50, '{0,40}', '{f}');

-- Every public table, view, column and function has a comment.
SELECT c.relname AS uncommented_relation FROM pg_class c
 WHERE c.relnamespace = 'lead_scoring'::regnamespace AND c.relkind IN ('r', 'v')
   AND obj_description(c.oid, 'pg_class') IS NULL;
SELECT c.relname, a.attname AS uncommented_column FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE c.relnamespace = 'lead_scoring'::regnamespace AND c.relkind IN ('r', 'v') AND a.attnum > 0
   AND NOT a.attisdropped AND col_description(c.oid, a.attnum) IS NULL;
SELECT p.oid::regprocedure AS uncommented_function FROM pg_proc p
 WHERE p.pronamespace = 'lead_scoring'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL;
