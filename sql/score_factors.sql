-- A lead's score in words: the top factors raising and lowering it, from the
-- exact breakdown.
\set SHOW_CONTEXT never
CREATE DATABASE lead_scoring_factors TEMPLATE template0;
\c lead_scoring_factors
\i sql/include/create_extension.sql
SET timezone = 'UTC';

-- web visits 10 points with a 7-day half-life, capped at 25; webinars 30;
-- a VP 20 points, a student -25; careers-page visits -5 each.
INSERT INTO lead_scoring.models (name, is_active) VALUES ('m', true);
INSERT INTO lead_scoring.components (model_id, component, dimension)
SELECT model_id, c, d::lead_scoring.score_dimension FROM lead_scoring.models,
       (VALUES ('web', 'engagement'), ('title', 'fit')) v(c, d);
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points, half_life, max_points, description)
SELECT model_id, 'web', t, p, h::interval, cap, dsc FROM lead_scoring.models,
       (VALUES ('web_visit', 10, '7 days', 25, 'Website visit'), ('webinar', 30, NULL, NULL, 'Attended a webinar'),
               ('careers_visit', -5, NULL, NULL, NULL)) v(t, p, h, cap, dsc);
INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, value, pattern, points, description)
SELECT model_id, 'title', 'title', t::lead_scoring.fit_test, v::jsonb, pat, p, dsc FROM lead_scoring.models,
       (VALUES ('equals', '"VP"', NULL, 20, NULL), ('matches', NULL, 'student|intern', -25, 'Student or intern')) x(t, v, pat, p, dsc);
INSERT INTO lead_scoring.leads (lead_id, attributes) VALUES (1, '{"title": "VP"}'), (2, '{"title": "Student"}'), (3, '{}');
-- lead 1: 6 visits a half-life before 15 March (30, capped at 25), a webinar the
-- day before (30); lead 2: 2 careers-page visits 40 days before
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at)
SELECT 1, 'web_visit', timestamptz '2026-03-08' FROM generate_series(1, 6) UNION ALL
SELECT 1, 'webinar', '2026-03-14 12:00' UNION ALL
SELECT 2, 'careers_visit', '2026-02-03' FROM generate_series(1, 2);

SELECT * FROM lead_scoring.score_factors(1, '2026-03-15');
-- only the top one each way
SELECT * FROM lead_scoring.score_factors(1, '2026-03-15', factors => 1);
SELECT * FROM lead_scoring.score_factors(2, '2026-03-15');
-- the factors add up to the score when nothing is left out
SELECT round(sum(points)::numeric, 6) = round((SELECT total_score FROM lead_scoring.lead_score(1, '2026-03-15'))::numeric, 6) AS adds_up
  FROM lead_scoring.score_factors(1, '2026-03-15', factors => 100);
-- points are rounded to 0.1 as in the text: on 20 March the 6 visits are 12
-- days old, 60 x 2^(-12/7) = 18.285 points
SELECT rank, points, factor FROM lead_scoring.score_factors(1, '2026-03-20') WHERE factor LIKE 'Website%';
-- nothing to say about a lead with no points, or an unknown one
SELECT * FROM lead_scoring.score_factors(3, '2026-03-15');
SELECT * FROM lead_scoring.score_factors(99);
SELECT lead_scoring.time_ago(i) FROM unnest(ARRAY[interval '5 minutes', '1 hour', '5 hours', '1 day', '3 days', '200 days']) i;

\c contrib_regression
DROP DATABASE lead_scoring_factors;
