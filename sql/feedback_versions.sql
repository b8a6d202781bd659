-- The feedback loop, part 3: model versions (draft, active, retired), and
-- backtests of a draft or of what-if thresholds against the model in force.
\set SHOW_CONTEXT never
CREATE DATABASE lead_scoring_versions TEMPLATE template0;
\c lead_scoring_versions
\i sql/include/create_extension.sql
SET timezone = 'UTC';

-- v1: web visits 10 points, webinars 30, nothing decays; A (sales-ready) from 50, B from 20.
INSERT INTO lead_scoring.models (name, is_active) VALUES ('v1', true);
INSERT INTO lead_scoring.components (model_id, component, dimension) SELECT model_id, 'web', 'engagement' FROM lead_scoring.models;
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points)
SELECT model_id, 'web', t, p FROM lead_scoring.models, (VALUES ('web_visit', 10), ('webinar', 30)) v(t, p);
INSERT INTO lead_scoring.grades (grade, rank, min_score, sales_ready) VALUES
  ('A', 1, 50, true), ('B', 2, 20, false), ('C', 3, 0, false);
-- the leads arrived on 1 February
INSERT INTO lead_scoring.leads (lead_id, created_at) SELECT generate_series(1, 6), '2026-02-01';
-- in March: L1 3 visits then a webinar on the 5th (60); L2 a webinar, then
-- visits on the 10th and 11th (50); L3 2 visits (20); L4 1 visit (10); L5 a
-- webinar on the 20th (30); L6 nothing (0)
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES
  (1, 'web_visit', '2026-03-02'), (1, 'web_visit', '2026-03-03'), (1, 'web_visit', '2026-03-04'), (1, 'webinar', '2026-03-05'),
  (2, 'webinar', '2026-03-02'), (2, 'web_visit', '2026-03-10'), (2, 'web_visit', '2026-03-11'),
  (3, 'web_visit', '2026-03-02'), (3, 'web_visit', '2026-03-03'), (4, 'web_visit', '2026-03-02'),
  (5, 'webinar', '2026-03-20');
-- all closed on 1 April: L1 and L3 won
INSERT INTO lead_scoring.outcomes (lead_id, outcome, amount, closed_at)
SELECT i, CASE WHEN i IN (1, 3) THEN 'won' ELSE 'lost' END, CASE i WHEN 1 THEN 100 WHEN 3 THEN 50 END, '2026-04-01'
  FROM generate_series(1, 6) i;

-- Versions: copy v1 into a draft v2 and make webinars worth 10 there.
SELECT lead_scoring.copy_model('v1', 'v2') AS v2_id \gset
SELECT name, based_on = (SELECT model_id FROM lead_scoring.models WHERE name = 'v1') AS based_on_v1
  FROM lead_scoring.models WHERE model_id = :v2_id;
UPDATE lead_scoring.activity_rules SET points = 10
 WHERE activity_type = 'webinar' AND model_id = (SELECT model_id FROM lead_scoring.models WHERE name = 'v2');
SELECT name, status, based_on, activity_rules, handoffs, claims, description FROM lead_scoring.model_versions;
-- handoffs and claims carry the model version
SELECT lead_id, model_name FROM lead_scoring.handoffs ORDER BY lead_id;

-- Any model at any instant, without activating it. v2 on 15 April: L1 40 (3
-- visits, a webinar now 10), L2 30, L3 20 (B from 20), L4 10, L5 10, L6 0 (C).
SELECT * FROM lead_scoring.model_scores('v2', '2026-04-15');
-- v2 on 4 March at noon: L1 has its 3 visits (30, B), L2 its webinar (10),
-- L3 2 visits (20), L4 1 (10), L5 and L6 nothing yet
SELECT lead_id, total_score, grade FROM lead_scoring.model_scores('v2', '2026-03-04 12:00', ARRAY[1, 2, 3, 4, 5, 6]);
-- the active model gives what the live states give, lead by lead
SELECT count(*) AS leads, bool_and(m.total_score = l.total_score AND m.grade = l.grade
                                   AND m.fit_score = l.fit_score AND m.engagement_score = l.engagement_score) AS same_as_live
  FROM lead_scoring.model_scores('v1', '2026-04-15') m,
       LATERAL lead_scoring.lead_score(m.lead_id, '2026-04-15') l;
-- L1 under v2, rule by rule: 3 visits (30) and a webinar (10)
SELECT * FROM lead_scoring.model_breakdown('v2', 1, '2026-04-15');
-- and in words, as score_factors says it for the active model: L1's 3 visits
-- (30 points, the latest on 4 March, 42 days before 15 April) and its webinar
-- of 5 March (10 points under v2, 30 under v1)
SELECT * FROM lead_scoring.model_factors('v2', 1, '2026-04-15');
SELECT * FROM lead_scoring.score_factors(1, '2026-04-15');
-- before the leads arrived there is nobody; v2 is still a draft and v1 active
SELECT count(*) AS leads_in_january FROM lead_scoring.model_scores('v2', '2026-01-15');
SELECT name, status FROM lead_scoring.models ORDER BY model_id;
\set VERBOSITY terse
SELECT * FROM lead_scoring.model_scores('v3');
\set VERBOSITY default

-- Backtest v2 over March to mid-April, beside v1 as it is. By hand:
-- v2 scores L1 40, L2 30, L3 20, L4 10, L5 10, L6 0: nobody reaches A; at the
-- end and at the decision (1 April) B holds L1, L2, L3 (2 won, 150) and C the
-- other 3; AUC: the
-- won L1 beats all 4 lost, L3 beats 3 of 4: 7/8.
-- v1 scores L1 60, L2 50, L3 20, L4 10, L5 30, L6 0: L1 reaches A on the 5th and
-- L2 on the 11th; A holds L1 (won, 100) and L2, B L3 (won) and L5; AUC 6/8.
SELECT * FROM lead_scoring.backtest('v2', '2026-03-01', '2026-04-15');
-- What if A started at 30? v1 as it is beside v1 with the new threshold: L5
-- (30) joins A, and L1 reaches A a day earlier, on its third visit.
SELECT scenario, model, grade, min_score, sales_ready, leads_at_end, would_hand_off, decided, won, win_rate, auc
  FROM lead_scoring.backtest('v1', '2026-03-01', '2026-04-15', '{"A": 30}');
-- a period before the leads arrived: nobody to grade, nothing decided
SELECT scenario, grade, leads_at_end, would_hand_off, decided, auc
  FROM lead_scoring.backtest('v2', '2026-01-01', '2026-02-01');
\set VERBOSITY terse
SELECT * FROM lead_scoring.backtest('v3', '2026-03-01', '2026-04-15');
SELECT * FROM lead_scoring.backtest('v2', '2026-04-15', '2026-03-01');
SELECT * FROM lead_scoring.backtest('v2', '2026-03-01', '2026-04-15', '{"Z": 30}');
SELECT * FROM lead_scoring.backtest('v2', '2026-03-01', '2026-04-15', '{"B": 70}');
SELECT * FROM lead_scoring.backtest('v2', '2026-03-01', '2026-04-15', '{"A": "high"}');
SELECT * FROM lead_scoring.backtest('v2', '2026-03-01', '2026-04-15', '[50]');
\set VERBOSITY default

-- Activation is one call that rescores; v1 is retired.
SELECT * FROM lead_scoring.activate_model('v2');
SELECT name, status, activated_at IS NOT NULL AS was_activated, retired_at IS NOT NULL AS was_retired
  FROM lead_scoring.model_versions;
SELECT lead_id, round(total_score::numeric, 1) AS total, grade, model FROM lead_scoring.lead_grades ORDER BY lead_id;
-- a claim now records v2
SELECT lead_id, grade, cherry_pick, model_name FROM lead_scoring.claim_lead(5);
-- going back is activating the previous version
SELECT * FROM lead_scoring.reactivate_previous_model();
SELECT name, status FROM lead_scoring.model_versions;
SELECT lead_id, round(total_score::numeric, 1) AS total, grade, model FROM lead_scoring.lead_grades ORDER BY lead_id;
SELECT lead_id, model_name FROM lead_scoring.claim_lead(6);
SELECT name, claims FROM lead_scoring.model_versions;
\set VERBOSITY terse
SELECT lead_scoring.copy_model('nonesuch', 'v3');
SELECT lead_scoring.copy_model('v1', 'v2');
\set VERBOSITY default

\c contrib_regression
DROP DATABASE lead_scoring_versions;
