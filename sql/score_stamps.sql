-- Score stamps: each lead_scores row carries bounds of its total until its
-- grade may change, so that the views grade it without evaluating it. A
-- stamp serves only the row version (its xmin) and the model it was made
-- for, and never gives another grade than evaluating the lead would.
\set SHOW_CONTEXT never
CREATE DATABASE lead_scoring_stamps TEMPLATE template0;
\c lead_scoring_stamps
\i sql/include/create_extension.sql
SET timezone = 'UTC';

-- web visits 10 points and careers-page visits -20, both halving every day;
-- a VP 20 points. Grades: A from 30, B from 10, C below.
INSERT INTO lead_scoring.models (name, is_active) VALUES ('m', true);
INSERT INTO lead_scoring.components (model_id, component, dimension)
SELECT model_id, c, d::lead_scoring.score_dimension FROM lead_scoring.models,
       (VALUES ('web', 'engagement'), ('title', 'fit')) v(c, d);
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points, half_life)
SELECT model_id, 'web', t, p, '1 day' FROM lead_scoring.models,
       (VALUES ('web_visit', 10), ('careers_visit', -20)) v(t, p);
INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, value, points)
SELECT model_id, 'title', 'title', 'equals', '"VP"', 20 FROM lead_scoring.models;
DELETE FROM lead_scoring.grades;
INSERT INTO lead_scoring.grades (grade, rank, min_score, sales_ready)
VALUES ('A', 1, 30, true), ('B', 2, 10, false), ('C', 3, 0, false);

-- 1: a VP with 2 visits on 1 March, 20 + 20 x 2^-days: A for one day, then B
--    for ever;
-- 2: 1 careers-page visit, -20 x 2^-days: below every threshold for ever;
-- 3: a VP with 1 careers-page visit, 20 - 20 x 2^-days: C for one day (the
--    negative points fade), then B for ever;
-- 4: a VP and nothing else: 20, B for ever;
-- 5: a VP with a visit and a careers-page visit, 20 + 10 - 20 = 10 on 1 March:
--    exactly at B's threshold, where no bounds fall within one grade;
-- 6: 2 visits on 1 March and 1 on 3 March, for the rows changed below.
INSERT INTO lead_scoring.leads (lead_id, attributes)
VALUES (1, '{"title": "VP"}'), (2, '{}'), (3, '{"title": "VP"}'), (4, '{"title": "VP"}'),
       (5, '{"title": "VP"}'), (6, '{}');
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at)
VALUES (1, 'web_visit', '2026-03-01'), (1, 'web_visit', '2026-03-01'), (2, 'careers_visit', '2026-03-01'),
       (3, 'careers_visit', '2026-03-01'), (5, 'web_visit', '2026-03-01'), (5, 'careers_visit', '2026-03-01'),
       (6, 'web_visit', '2026-03-01'), (6, 'web_visit', '2026-03-01');
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at)
VALUES (6, 'web_visit', '2026-03-03');

-- The stamps the inserts wrote hold from the insert on (lead 4's always: it
-- has no activity), months after the activities, when every grade here has
-- settled for ever.
CREATE FUNCTION pg_temp.stamp_from(s lead_scoring.score_stamp) RETURNS timestamptz
  LANGUAGE sql RETURN (regexp_match(s::text, '"([^"]*)",'))[1]::timestamptz;
CREATE FUNCTION pg_temp.stamp_until(s lead_scoring.score_stamp) RETURNS timestamptz
  LANGUAGE sql RETURN (regexp_match(s::text, '"([^"]*)",[0-9a-f]+\)$'))[1]::timestamptz;
CREATE FUNCTION pg_temp.stamp_bounds(s lead_scoring.score_stamp) RETURNS numeric[]
  LANGUAGE sql RETURN ARRAY[round(split_part(ltrim(s::text, '('), ',', 1)::numeric, 6),
                            round(split_part(s::text, ',', 2)::numeric, 6)];
SELECT s.lead_id,
       CASE WHEN pg_temp.stamp_from(s.score_stamp) = '-infinity' THEN 'always'
            WHEN pg_temp.stamp_from(s.score_stamp) BETWEEN now() - interval '1 day' AND now() THEN 'the insert'
            ELSE pg_temp.stamp_from(s.score_stamp)::text END AS holds_from,
       pg_temp.stamp_until(s.score_stamp) AS until
  FROM lead_scoring.lead_scores s ORDER BY s.lead_id;

-- Stamps as a write on 1 March would make them: low and high bound the total
-- from then until 'until', just before the grade may change, and widened by a
-- billionth against rounding; as no activity is later, they hold before 1
-- March too. The search doubles from an hour (16 hours hold, 32 do not), then
-- halves to within a 32nd of the interval: lead 1 until 23:30, its lowest
-- total then 20 + 20 x 2^(-23.5/24) = 30.1455; lead 3's highest 20 - 10.1455.
UPDATE lead_scoring.lead_scores s
   SET score_stamp = lead_scoring.stamp_score(s.fit_tests, s.fit_basis, s.engagement, m.definition, t.min_scores,
                                              '2026-03-01')
  FROM lead_scoring.active_model m, lead_scoring.grade_thresholds t;
SELECT s.lead_id, pg_temp.stamp_from(s.score_stamp) AS from, pg_temp.stamp_bounds(s.score_stamp) AS bounds,
       CASE WHEN pg_temp.stamp_until(s.score_stamp) = 'infinity' THEN 'for ever'
            WHEN pg_temp.stamp_until(s.score_stamp) BETWEEN '2026-03-01 23:00' AND '2026-03-02'
            THEN 'to 2 March, within an hour' ELSE pg_temp.stamp_until(s.score_stamp)::text END AS holds
  FROM lead_scoring.lead_scores s WHERE s.lead_id <> 6 ORDER BY s.lead_id;

-- At every 3 hours from 28 February to 5 March, the grade from the stamps is
-- the grade of the exact total, for every lead (lead 5, and every lead past
-- its 'until', is evaluated), and so is whether it is sales-ready (A).
CREATE TEMP VIEW graded_both_ways AS
SELECT i.at, s.lead_id,
       lead_scoring.stamped_grade_index(s.score_stamp, s.xmin, s.fit_tests, s.fit_basis, s.engagement, m.definition,
                                        i.at, t.min_scores) AS from_stamp,
       lead_scoring.grade_index(lead_scoring.stored_total_score(s.fit_tests, s.fit_basis, s.engagement,
                                                                m.definition, i.at), t.min_scores) AS exact,
       lead_scoring.stamped_sales_ready(s.score_stamp, s.xmin, s.fit_tests, s.fit_basis, s.engagement, m.definition,
                                        i.at, t.min_scores, t.sales_ready) AS ready_from_stamp,
       t.sales_ready
  FROM lead_scoring.lead_scores s, lead_scoring.active_model m, lead_scoring.grade_thresholds t,
       generate_series(timestamptz '2026-02-28', '2026-03-05', '3 hours') i(at);
SELECT count(*) AS gradings, count(*) FILTER (WHERE from_stamp = exact) AS same_grade,
       count(*) FILTER (WHERE ready_from_stamp = sales_ready[exact]) AS same_readiness FROM graded_both_ways;
-- the grades of lead 1 and 3 change on 2 March (positions: 1 is C, 3 is A)
SELECT lead_id, at, exact FROM graded_both_ways
 WHERE lead_id IN (1, 3) AND at IN ('2026-03-01 21:00', '2026-03-02 00:00', '2026-03-02 03:00')
 ORDER BY lead_id, at;

-- The funnel's counts at an instant, per grade position from the lowest:
-- leads, leads with a total, lowest and highest total. On 1 March at noon
-- (2^-0.5 = 0.7071): C: lead 2 (-14.14) and 3 (20 - 14.14 = 5.86); B: lead 4
-- (20), 5 (20 + 7.07 - 14.14 = 12.93) and 6 (evaluated at its visit of 3 March,
-- as every score is at its latest activity: 20 x 2^-2 + 10 = 15); A: lead 1
-- (20 + 14.14 = 34.14).
SELECT c[1] AS c_leads, round(c[3]::numeric, 2) AS c_lowest, round(c[4]::numeric, 2) AS c_highest,
       c[5] AS b_leads, round(c[7]::numeric, 2) AS b_lowest, round(c[8]::numeric, 2) AS b_highest,
       c[9] AS a_leads, round(c[11]::numeric, 2) AS a_lowest, round(c[12]::numeric, 2) AS a_highest
  FROM (SELECT lead_scoring.funnel_counts(s.score_stamp, s.xmin, s.fit_tests, s.fit_basis, s.engagement, m.definition,
                                          '2026-03-01 12:00', t.min_scores) AS c
          FROM lead_scoring.lead_scores s, lead_scoring.active_model m, lead_scoring.grade_thresholds t) f;

-- A stamp is read, not recomputed: lead 4's, carried to the row version
-- this transaction writes and its bounds moved to A's range, grades it A.
-- Whoever may write lead_scores may as well write its states, so a stamp
-- asks no more trust than they do.
BEGIN;
UPDATE lead_scoring.lead_scores
   SET score_stamp = regexp_replace(lead_scoring.carried_stamp(score_stamp, xmin)::text,
                                    '^\([^,]*,[^,]*,', '(40,50,')::lead_scoring.score_stamp
 WHERE lead_id = 4;
SELECT lead_id, grade FROM lead_scoring.lead_grades WHERE lead_id = 4;
-- but it serves only the row version it was made for: written on lead 2's
-- row by another (sub)transaction it is not read (lead 2 stays a C), nor on
-- lead 4's once that changed its fit record without a new stamp (a fit of
-- 0 now: a C)
SAVEPOINT another;
UPDATE lead_scoring.lead_scores SET score_stamp = (SELECT score_stamp FROM lead_scoring.lead_scores WHERE lead_id = 4)
 WHERE lead_id = 2;
SELECT lead_id, grade FROM lead_scoring.lead_grades WHERE lead_id IN (2, 4) ORDER BY lead_id;
UPDATE lead_scoring.lead_scores SET fit_tests = '{}' WHERE lead_id = 4;
SELECT lead_id, grade FROM lead_scoring.lead_grades WHERE lead_id = 4;
ROLLBACK;

-- Thresholds moved: the stamps still bound the totals, so every grade is
-- exact under the new thresholds at once (A from 25: lead 1 is an A until
-- 20 x 2^-days falls below 5, on 3 March).
UPDATE lead_scoring.grades SET min_score = 25 WHERE grade = 'A';
SELECT count(*) AS gradings, count(*) FILTER (WHERE from_stamp = exact) AS same_grade,
       count(*) FILTER (WHERE ready_from_stamp = sales_ready[exact]) AS same_readiness FROM graded_both_ways;
SELECT at, exact FROM graded_both_ways WHERE lead_id = 1 AND at IN ('2026-03-02 21:00', '2026-03-03 00:00', '2026-03-03 03:00') ORDER BY at;

-- Another model (visits 40 points): no stamp made under the old one serves;
-- the rows are graded exactly, and the rescore stamps them anew.
UPDATE lead_scoring.activity_rules SET points = 40 WHERE activity_type = 'web_visit';
SELECT count(*) AS gradings, count(*) FILTER (WHERE from_stamp = exact) AS same_grade,
       count(*) FILTER (WHERE ready_from_stamp = sales_ready[exact]) AS same_readiness FROM graded_both_ways;
SELECT count(*) AS leads,
       count(*) FILTER (WHERE lead_scoring.stamp_is_current(s.score_stamp, s.xmin, m.definition)) AS stamped_under_the_model
  FROM lead_scoring.lead_scores s, lead_scoring.active_model m;
SELECT leads_rescored FROM lead_scoring.rescore();
SELECT count(*) AS leads,
       count(*) FILTER (WHERE lead_scoring.stamp_is_current(s.score_stamp, s.xmin, m.definition)) AS stamped_under_the_model
  FROM lead_scoring.lead_scores s, lead_scoring.active_model m;

-- A write that changes only a lead's suppression count or handoff flag
-- carries its stamp to the row version it writes: lead 1 suppressed, then
-- lifted, each in a transaction of its own, keeps a stamp that serves (and
-- its row a new xmin each time).
CREATE TEMP TABLE versions AS SELECT s.xmin::text AS version FROM lead_scoring.lead_scores s WHERE s.lead_id = 1;
SELECT lead_scoring.suppress_lead(1, 'a test') IS NOT NULL AS suppressed;
INSERT INTO versions SELECT s.xmin::text FROM lead_scoring.lead_scores s WHERE s.lead_id = 1;
SELECT lead_scoring.restore_lead(1, 'the test is over') AS lifted;
INSERT INTO versions SELECT s.xmin::text FROM lead_scoring.lead_scores s WHERE s.lead_id = 1;
SELECT count(DISTINCT v.version) AS row_versions,
       (SELECT lead_scoring.stamp_is_current(s.score_stamp, s.xmin, m.definition)
          FROM lead_scoring.lead_scores s, lead_scoring.active_model m WHERE s.lead_id = 1) AS stamp_serves
  FROM versions v;

-- Many leads, read by parallel workers: the funnel's counts from the stamps
-- equal those of the exact totals, at instants before, between and after the
-- activities. 2,000 leads with 1 to 4 visits and up to 2 careers-page visits
-- over March, a third of them VPs.
INSERT INTO lead_scoring.leads (lead_id, attributes)
SELECT 100 + g, CASE WHEN g % 3 = 0 THEN '{"title": "VP"}'::jsonb ELSE '{}' END FROM generate_series(1, 2000) g;
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at)
SELECT 100 + g, CASE WHEN k <= 1 + g % 4 THEN 'web_visit' ELSE 'careers_visit' END,
       timestamptz '2026-03-01' + ((g * 7 + k * 13) % 30) * interval '1 day' + (g % 24) * interval '1 hour'
  FROM generate_series(1, 2000) g, generate_series(1, 6) k WHERE k <= 1 + g % 4 OR k - 4 <= g % 3;
UPDATE lead_scoring.lead_scores s
   SET score_stamp = lead_scoring.stamp_score(s.fit_tests, s.fit_basis, s.engagement, m.definition, t.min_scores,
                                              '2026-02-20')
  FROM lead_scoring.active_model m, lead_scoring.grade_thresholds t;
ANALYZE lead_scoring.lead_scores;
BEGIN;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL max_parallel_workers_per_gather = 2;
CREATE TEMP TABLE funnels AS
SELECT i.at,
       (SELECT lead_scoring.funnel_counts(s.score_stamp, s.xmin, s.fit_tests, s.fit_basis, s.engagement,
                                          (SELECT m.definition FROM lead_scoring.active_model m), i.at,
                                          (SELECT t.min_scores FROM lead_scoring.grade_thresholds t))
          FROM lead_scoring.lead_scores s) AS from_stamps,
       (SELECT array_agg(x ORDER BY p.p, u.k)
          FROM generate_series(1, 3) p(p)
          LEFT JOIN (SELECT g.p, count(*)::float8 AS leads, min(g.total), max(g.total)
                       FROM (SELECT lead_scoring.grade_index(e.total, t.min_scores) AS p, e.total
                               FROM lead_scoring.lead_scores s, lead_scoring.active_model m,
                                    lead_scoring.grade_thresholds t,
                                    LATERAL (SELECT lead_scoring.stored_total_score(s.fit_tests, s.fit_basis,
                                                                                    s.engagement, m.definition,
                                                                                    i.at) AS total) e) g
                      GROUP BY g.p) c ON c.p = p.p,
               LATERAL unnest(ARRAY[coalesce(c.leads, 0), coalesce(c.leads, 0), coalesce(c.min, 0),
                                    coalesce(c.max, 0)]) WITH ORDINALITY u(x, k)) AS exact
  FROM generate_series(timestamptz '2026-02-20', '2026-05-01', '5 days') i(at);
EXPLAIN (COSTS OFF)
SELECT lead_scoring.funnel_counts(s.score_stamp, s.xmin, s.fit_tests, s.fit_basis, s.engagement,
                                  (SELECT m.definition FROM lead_scoring.active_model m), '2026-03-10',
                                  (SELECT t.min_scores FROM lead_scoring.grade_thresholds t))
  FROM lead_scoring.lead_scores s;
COMMIT;
-- every total equal to the last bit; the A leads fade to B by April
SELECT count(*) AS instants, count(*) FILTER (WHERE from_stamps = exact) AS same_counts,
       min(from_stamps[1] + from_stamps[5] + from_stamps[9]) AS fewest_leads,
       max(from_stamps[1] + from_stamps[5] + from_stamps[9]) AS most_leads,
       count(*) FILTER (WHERE from_stamps[9] = 0) AS instants_without_a FROM funnels;
-- and the stamps served: on 10 March, most leads' stamps hold
SELECT count(*) AS leads,
       count(*) FILTER (WHERE lead_scoring.stamp_is_current(s.score_stamp, s.xmin, m.definition)
                          AND '2026-03-10' BETWEEN pg_temp.stamp_from(s.score_stamp)
                                               AND pg_temp.stamp_until(s.score_stamp)) AS stamps_holding
  FROM lead_scoring.lead_scores s, lead_scoring.active_model m;

-- The planner takes the share of sales-ready leads from the statistics of
-- the handed_off flags (stamped_sales_ready's support function): with a
-- quarter of the 2,006 leads flagged (lead 4, and 500 of 101 to 2,100), it
-- expects 501 rows from the sales-ready test, through lead_grades too, where
-- its default would be a third of them.
CREATE FUNCTION pg_temp.estimated_rows(query text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  plan json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
  RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END
$$;
BEGIN;
UPDATE lead_scoring.lead_scores SET handed_off = (lead_id % 4 = 0);
ANALYZE lead_scoring.lead_scores;
SELECT pg_temp.estimated_rows($q$
  SELECT s.lead_id FROM lead_scoring.lead_scores s
   WHERE lead_scoring.stamped_sales_ready(s.score_stamp, s.xmin, s.fit_tests, s.fit_basis, s.engagement,
                                          (SELECT m.definition FROM lead_scoring.active_model m), now(),
                                          (SELECT t.min_scores FROM lead_scoring.grade_thresholds t),
                                          (SELECT t.sales_ready FROM lead_scoring.grade_thresholds t))$q$) AS sales_ready_rows,
       pg_temp.estimated_rows('SELECT g.lead_id FROM lead_scoring.lead_grades g WHERE g.sales_ready') AS through_lead_grades;
ROLLBACK;

-- Without an active model (only within a transaction that activates
-- another), lead_grades lists every lead with empty scores and grade.
BEGIN;
UPDATE lead_scoring.models SET is_active = false;
SELECT count(*) AS leads, count(fit_score) AS fit_scores, count(engagement_score) AS engagement_scores,
       count(total_score) AS totals, count(grade) AS grades, count(*) FILTER (WHERE sales_ready) AS sales_ready,
       count(model) AS models
  FROM lead_scoring.lead_grades;
ROLLBACK;

-- A change of points writes no row, so no stamp serves after it; restamp()
-- stamps every lead anew, 500 per transaction, without changing any state,
-- and the funnel's counts from the new stamps equal the exact ones.
CREATE TEMP TABLE states_before AS SELECT s.lead_id, s.engagement::text AS engagement FROM lead_scoring.lead_scores s;
UPDATE lead_scoring.activity_rules SET points = 45 WHERE activity_type = 'web_visit';
SELECT count(*) AS leads,
       count(*) FILTER (WHERE lead_scoring.stamp_is_current(s.score_stamp, s.xmin, m.definition)) AS stamped_under_the_model
  FROM lead_scoring.lead_scores s, lead_scoring.active_model m;
CALL lead_scoring.restamp(500);
SELECT count(*) AS leads,
       count(*) FILTER (WHERE lead_scoring.stamp_is_current(s.score_stamp, s.xmin, m.definition)) AS stamped_under_the_model,
       count(*) FILTER (WHERE s.engagement::text IS DISTINCT FROM b.engagement) AS states_changed
  FROM lead_scoring.lead_scores s JOIN states_before b USING (lead_id), lead_scoring.active_model m;
SELECT (SELECT lead_scoring.funnel_counts(s.score_stamp, s.xmin, s.fit_tests, s.fit_basis, s.engagement, m.definition,
                                          '2026-03-20', t.min_scores)
          FROM lead_scoring.lead_scores s, lead_scoring.active_model m, lead_scoring.grade_thresholds t)
       = (SELECT lead_scoring.funnel_counts(NULL, NULL, s.fit_tests, s.fit_basis, s.engagement, m.definition,
                                            '2026-03-20', t.min_scores)
            FROM lead_scoring.lead_scores s, lead_scoring.active_model m, lead_scoring.grade_thresholds t)
       AS same_counts_as_evaluating;
-- a batch of no lead is refused; within a transaction block, restamp()
-- cannot commit its batches
SELECT * FROM lead_scoring.restamp_leads(NULL, 0);
BEGIN;
CALL lead_scoring.restamp();
ROLLBACK;

-- Thresholds out of order are refused; a stamp's text form is checked.
SELECT lead_scoring.funnel_counts(NULL, NULL, '{}', NULL, NULL, '{}', '2026-03-01', '{20,0}');
SELECT '(1,2,"-infinity","2026-03-01 00:00:00+00",00ff)'::lead_scoring.score_stamp;
SELECT '(1,2,"-infinity","2026-03-01",zz)'::lead_scoring.score_stamp;
SELECT '(1,2)'::lead_scoring.score_stamp;
SELECT '(one,2,"-infinity","2026-03-01",00ff)'::lead_scoring.score_stamp;

\c contrib_regression
DROP DATABASE lead_scoring_stamps;
