-- Shared scoring model of test/concurrency.sh and test/dump_restore.sh.
-- Load after CREATE EXTENSION lead_scoring, into a database with no model yet.
-- Rule types scored: web_visit, email_click, download, webinar, demo_request,
-- unsubscribe, bounce; anything else (e.g. job_fair_visit) is unmatched.
\set ON_ERROR_STOP on
BEGIN;

INSERT INTO lead_scoring.models (name, description, is_active)
VALUES ('fixture', 'test model: decay, caps, properties, negative points, fit rules', true);

INSERT INTO lead_scoring.components (model_id, component, dimension, max_points, description)
SELECT m.model_id, c.component, c.dimension::lead_scoring.score_dimension, c.max_points, c.description
  FROM lead_scoring.models m,
       (VALUES ('web',       'engagement', 40,   'web visits'),
               ('content',   'engagement', 60,   'downloads and webinars'),
               ('intent',    'engagement', 80,   'demo requests'),
               ('hygiene',   'engagement', NULL, 'unsubscribes and bounces, uncapped'),
               ('title',     'fit',        30,   'job title'),
               ('company',   'fit',        25,   'company size and industry'),
               ('domain',    'fit',        NULL, 'email domain')) AS c(component, dimension, max_points, description)
 WHERE m.name = 'fixture';

INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, properties, points, half_life, max_points, description)
SELECT m.model_id, r.component, r.activity_type, r.properties::jsonb, r.points, r.half_life::interval, r.max_points, r.description
  FROM lead_scoring.models m,
       (VALUES ('web',     'web_visit',    NULL,                      2,   '14 days',  30,   'any visit'),
               ('web',     'web_visit',    '{"page": "pricing"}',     8,   '10 days',  NULL, 'pricing page visit'),
               ('web',     'email_click',  NULL,                      1.5, '7 days',   12,   'email click'),
               ('content', 'download',     NULL,                      5,   '30 days',  NULL, 'any download'),
               ('content', 'download',     '{"asset": "whitepaper"}', 7,   '45 days',  35,   'whitepaper download'),
               ('content', 'webinar',      NULL,                      12,  '60 days',  NULL, 'webinar attended'),
               ('intent',  'demo_request', NULL,                      40,  '30 days',  NULL, 'demo request'),
               ('hygiene', 'unsubscribe',  NULL,                      -25, NULL,       NULL, 'unsubscribed (never fades)'),
               ('hygiene', 'bounce',       NULL,                      -3,  '90 days',  15,   'email bounced (capped at -15)')
       ) AS r(component, activity_type, properties, points, half_life, max_points, description)
 WHERE m.name = 'fixture';

INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, value, pattern, min_value, max_value, points, description)
SELECT m.model_id, f.component, f.attribute, f.test::lead_scoring.fit_test, f.value::jsonb, f.pattern,
       f.min_value, f.max_value, f.points, f.description
  FROM lead_scoring.models m,
       (VALUES ('title',   'title',        'matches', NULL,                         'vp|director|head of', NULL::float8, NULL::float8, 30,  'senior title'),
               ('title',   'title',        'in',      '["Student", "Intern"]',      NULL,                  NULL,        NULL,        -20, 'not a buyer'),
               ('company', 'employees',    'between', NULL,                         NULL,                  200,         NULL,        20,  '200+ employees'),
               ('company', 'industry',     'equals',  '"software"',                 NULL,                  NULL,        NULL,        10,  'software industry'),
               ('domain',  'email_domain', 'in',      '["gmail.com", "yahoo.com"]', NULL,                  NULL,        NULL,        -10, 'free mail'),
               ('domain',  'phone',        'present', NULL,                         NULL,                  NULL,        NULL,        2.5, 'phone given')
       ) AS f(component, attribute, test, value, pattern, min_value, max_value, points, description)
 WHERE m.name = 'fixture';

INSERT INTO lead_scoring.grades (grade, rank, min_score, sales_ready, description) VALUES
  ('A', 1, 90, true,  'sales-ready'),
  ('B', 2, 55, false, 'nurture, high'),
  ('C', 3, 20, false, 'nurture'),
  ('D', 4, 0,  false, 'cold');

COMMIT;
