-- The feedback loop, part 2: logistic regression in C, features without
-- leakage, and a trainer that writes a draft model.
\set SHOW_CONTEXT never
CREATE DATABASE lead_scoring_training TEMPLATE template0;
\c lead_scoring_training
\i sql/include/create_extension.sql
SET timezone = 'UTC';

-- One binary feature, no penalty: 1 of 4 won without it, 3 of 4 with it. The
-- answer is known in closed form: intercept ln(1/3) = -1.0986, coefficient
-- 2 ln 3 = 2.1972, standard errors sqrt(1 + 1/3) = 1.1547 and
-- sqrt(1 + 1/3 + 1/3 + 1) = 1.6330; AUC 12/16 = 0.75 (ties count half);
-- log-loss the entropy of 1/4, 0.5623.
SELECT leads, wins, round(intercept::numeric, 4) AS intercept,
       round(intercept_standard_error::numeric, 4) AS intercept_se,
       (SELECT array_agg(round(c::numeric, 4)) FROM unnest(coefficients) c) AS coefficients,
       (SELECT array_agg(round(s::numeric, 4)) FROM unnest(standard_errors) s) AS standard_errors,
       round(auc::numeric, 4) AS auc, round(log_loss::numeric, 4) AS log_loss, converged
  FROM lead_scoring.logistic_regression(
         ARRAY[false, false, false, true, true, true, true, false],
         ARRAY[[0], [0], [0], [0], [1], [1], [1], [1]]::float8[], 0);
-- a penalty pulls the coefficient towards 0; a constant feature is left out
-- (coefficient 0, no standard error)
SELECT round(coefficients[1]::numeric, 4) AS shrunk, coefficients[2] AS constant, standard_errors[2] AS constant_se
  FROM lead_scoring.logistic_regression(
         ARRAY[false, false, false, true, true, true, true, false],
         ARRAY[[0, 5], [0, 5], [0, 5], [0, 5], [1, 5], [1, 5], [1, 5], [1, 5]]::float8[], 1);
-- a feature's scale does not change the fit: x 1000 gives coefficient / 1000
SELECT round((coefficients[1] * 1000)::numeric, 4) AS rescaled
  FROM lead_scoring.logistic_regression(
         ARRAY[false, false, false, true, true, true, true, false],
         ARRAY[[0], [0], [0], [0], [1000], [1000], [1000], [1000]]::float8[], 0);
\set VERBOSITY terse
-- perfectly separated classes need a penalty
SELECT converged FROM lead_scoring.logistic_regression(ARRAY[false, true], ARRAY[[0], [1]]::float8[], 0);
SELECT round(coefficients[1]::numeric, 4) FROM lead_scoring.logistic_regression(ARRAY[false, true], ARRAY[[0], [1]]::float8[], 1);
-- bad input
SELECT lead_scoring.logistic_regression(ARRAY[true, true], ARRAY[[0], [1]]::float8[], 1);
SELECT lead_scoring.logistic_regression(ARRAY[true, false], ARRAY[[0], [1], [2]]::float8[], 1);
SELECT lead_scoring.logistic_regression(ARRAY[true, false], ARRAY[0, 1]::float8[], 1);
SELECT lead_scoring.logistic_regression(ARRAY[true, NULL], ARRAY[[0], [1]]::float8[], 1);
SELECT lead_scoring.logistic_regression(ARRAY[true, false], ARRAY[[0], ['NaN']]::float8[], 1);
SELECT lead_scoring.logistic_regression(ARRAY[true, false], ARRAY[[0], [NULL]]::float8[], 1);
SELECT lead_scoring.logistic_regression(ARRAY[true, false], ARRAY[[0], [1]]::float8[], -1);
SELECT lead_scoring.logistic_regression(ARRAY[true, false], ARRAY[[0], [1]]::float8[], 'infinity');
SELECT lead_scoring.logistic_regression(ARRAY[true, false, true], ARRAY[[0, 0], [1, 2], [2, 4]]::float8[], 0);
\set VERBOSITY default

-- AUC: the chance a won lead outscores a lost one, ties half
SELECT lead_scoring.roc_auc(ARRAY[1, 2, 3, 4], ARRAY[false, false, true, true]) AS perfect,
       lead_scoring.roc_auc(ARRAY[4, 3, 2, 1], ARRAY[false, false, true, true]) AS backwards,
       lead_scoring.roc_auc(ARRAY[1, 1, 1, 1], ARRAY[false, true, false, true]) AS all_tied,
       lead_scoring.roc_auc(ARRAY[1, 3, 2, 4], ARRAY[false, false, true, true]) AS three_of_four,
       lead_scoring.roc_auc(ARRAY[1, 2], ARRAY[true, true]) AS one_class,
       lead_scoring.roc_auc('{}', '{}') AS empty;
\set VERBOSITY terse
SELECT lead_scoring.roc_auc(ARRAY[1, 2], ARRAY[true]);
SELECT lead_scoring.roc_auc(ARRAY[1, NULL], ARRAY[true, false]);
\set VERBOSITY default

-- A model: web visits fade with a 7-day half-life; a VP title is a fit rule.
INSERT INTO lead_scoring.models (name, is_active) VALUES ('base', true);
INSERT INTO lead_scoring.components (model_id, component, dimension, max_points)
SELECT model_id, c, d::lead_scoring.score_dimension, m FROM lead_scoring.models,
       (VALUES ('web', 'engagement', 40), ('title', 'fit', NULL)) v(c, d, m);
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points, half_life, max_points, description)
SELECT model_id, 'web', 'web_visit', 10, '7 days', 30, 'Website visit' FROM lead_scoring.models;
INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, value, points, description)
SELECT model_id, 'title', 'title', 'equals', '"VP"', 20, 'Vice president' FROM lead_scoring.models;

-- Features: per activity rule the decayed count, per fit rule 1 or 0. Two
-- visits 14 and 7 days before as_of count 1/4 + 1/2 = 0.75.
SELECT lead_scoring.model_features(
         lead_scoring.score_activities(m.definition, 'web_visit', t, NULL), m.definition,
         '{"title": "VP"}', '2026-03-15')
  FROM lead_scoring.models m, (VALUES (timestamptz '2026-03-01'), ('2026-03-08')) v(t)
 GROUP BY m.definition;
SELECT lead_scoring.model_features(NULL, definition, NULL, '2026-03-15') AS nothing FROM lead_scoring.models;

-- Leads 1-12 close on 1 June; half of them are VPs. Each visits the site
-- (lead_id mod 4) times on 25 May, a half-life before; lead 1 also visits 5
-- times on 2 June, after its close, which must not count.
INSERT INTO lead_scoring.leads (lead_id, attributes)
SELECT i, CASE WHEN i % 2 = 0 THEN '{"title": "VP"}' ELSE '{}' END::jsonb FROM generate_series(1, 12) i;
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at)
SELECT i, 'web_visit', '2026-05-25' FROM generate_series(1, 12) i, generate_series(1, i % 4);
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at)
SELECT 1, 'web_visit', '2026-06-02' FROM generate_series(1, 5);
INSERT INTO lead_scoring.outcomes (lead_id, outcome, closed_at)
SELECT i, CASE WHEN i IN (2, 3, 4, 7, 8, 11) THEN 'won' WHEN i = 12 THEN 'disqualified' ELSE 'lost' END, '2026-06-01'
  FROM generate_series(1, 12) i;
-- at the decision lead 1 has one visit a half-life old (0.5), lead 3 three (1.5)
SELECT s.lead_id, s.decided_at, s.won, lead_scoring.activity_count(s.engagement) AS visits,
       (SELECT array_agg(round(f::numeric, 4))
          FROM unnest(lead_scoring.model_features(s.engagement, m.definition, s.attributes, s.decided_at)) f) AS features
  FROM lead_scoring.states_at_decision((SELECT definition FROM lead_scoring.models WHERE name = 'base')) s,
       lead_scoring.models m WHERE m.name = 'base' AND s.lead_id <= 4
 ORDER BY s.lead_id;

-- Training writes a draft: the base model's rules with points =
-- coefficient * 20 / ln 2, and the run with its fit.
SELECT run_id, base_model_id, draft_model_id, leads, wins, l2, points_to_double_odds,
       round(intercept::numeric, 4) AS intercept, round(auc::numeric, 4) AS auc,
       round(log_loss::numeric, 4) AS log_loss, converged
  FROM lead_scoring.train_model('learnt', l2 => 0.5);
-- the coefficients equal a direct fit on the same features
SELECT c.dimension, c.base_rule_id, c.draft_rule_id, c.feature,
       round(c.coefficient::numeric, 6) = round(direct.coefficients[n]::numeric, 6) AS same_as_direct_fit,
       round(c.coefficient::numeric, 4) AS coefficient, round(c.standard_error::numeric, 4) AS standard_error,
       round(c.odds_ratio::numeric, 4) AS odds_ratio,
       c.odds_ratio_low < c.odds_ratio AND c.odds_ratio < c.odds_ratio_high AS interval_around,
       c.points, c.points = round((c.coefficient * 20 / ln(2))::numeric, 1) AS points_follow_scaling
  FROM lead_scoring.training_coefficients c,
       (SELECT lead_scoring.logistic_regression(array_agg(s.won ORDER BY s.lead_id),
                 array_agg(lead_scoring.model_features(s.engagement, m.definition, s.attributes, s.decided_at)
                           ORDER BY s.lead_id), 0.5) AS fit
          FROM lead_scoring.models m, lead_scoring.states_at_decision(m.definition) s
         WHERE m.name = 'base') x,
       LATERAL (SELECT (x.fit).coefficients) direct(coefficients),
       LATERAL (SELECT CASE c.dimension WHEN 'engagement' THEN 1 ELSE 2 END) k(n)
 ORDER BY c.dimension DESC;
-- the draft has the learnt points, the base model's caps and components, and is not active
SELECT name, status, b.based_on, description FROM lead_scoring.model_versions b ORDER BY model_id;
SELECT r.activity_type, r.points = c.points AS learnt, r.half_life, r.max_points
  FROM lead_scoring.activity_rules r JOIN lead_scoring.models m USING (model_id)
  JOIN lead_scoring.training_coefficients c ON c.draft_rule_id = r.rule_id AND c.dimension = 'engagement'
 WHERE m.name = 'learnt';
SELECT component, max_points FROM lead_scoring.components JOIN lead_scoring.models USING (model_id)
 WHERE name = 'learnt' ORDER BY component;

\set VERBOSITY terse
SELECT * FROM lead_scoring.train_model('learnt');
SELECT * FROM lead_scoring.train_model('other', 'nonesuch');
SELECT * FROM lead_scoring.train_model('other', points_to_double_odds => 0);
DELETE FROM lead_scoring.outcomes;
SELECT * FROM lead_scoring.train_model('other');
\set VERBOSITY default
SELECT count(*) AS models FROM lead_scoring.models;

\c contrib_regression
DROP DATABASE lead_scoring_training;
