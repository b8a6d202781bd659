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
