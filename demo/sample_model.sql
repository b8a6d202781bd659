-- A realistic B2B lead scoring model, named 'demo', and the grades A to D.
--
-- Self-contained: runs on a database right after CREATE EXTENSION lead_scoring
-- (no psql meta-commands, so any client can run it), and can be run again: it
-- replaces the 'demo' model and the grade thresholds. Everything happens in one
-- transaction that ends by activating the model, which rescores every lead once.
--
-- Fit (who the lead is), at most 30 + 25 + 10 + 5 = 70 points:
--   title    cap 30  seniority read from the job title
--   company  cap 25  company size and industry
--   region   cap 10  markets we sell in
--   contact  cap  5  a phone number to call
--   quality  no cap  penalties: free or throwaway email domains, students, junk names
-- Engagement (how interested, fading with a half-life), at most 140 points:
--   web            cap 25  site visits, pricing and product pages
--   email          cap 15  opens and clicks on marketing email
--   content        cap 30  downloads and videos
--   events         cap 30  webinars and trade shows
--   sales_signals  cap 40  hand raisers: demo requests, trials, contact-sales forms
--   negatives      no cap  unsubscribes, bounces, job seekers

BEGIN;

DELETE FROM lead_scoring.models WHERE name = 'demo';

-- Inserted inactive: activate_model() at the end switches to it and rescores once.
INSERT INTO lead_scoring.models (name, description)
VALUES ('demo', 'B2B SaaS demo model: fit from title, company size, industry and region; '
                'engagement from web, email, content, events and sales signals, with decay');

INSERT INTO lead_scoring.components (model_id, component, dimension, max_points, description)
SELECT m.model_id, v.component, v.dimension::lead_scoring.score_dimension, v.max_points, v.description
  FROM lead_scoring.models m,
       (VALUES ('title',         'fit',        30,   'Seniority and buying power read from the job title'),
               ('company',       'fit',        25,   'Company size and industry: how well the account fits our ideal customer'),
               ('region',        'fit',        10,   'Markets we sell in and support'),
               ('contact',       'fit',         5,   'Contact details sales can use'),
               ('quality',       'fit',        NULL, 'Penalties for junk data: free or disposable email, students, made-up names'),
               ('web',           'engagement', 25,   'Website visits, with extra weight on pricing and product pages'),
               ('email',         'engagement', 15,   'Opens and clicks on marketing email'),
               ('content',       'engagement', 30,   'Gated content downloads and product videos'),
               ('events',        'engagement', 30,   'Webinars and trade shows'),
               ('sales_signals', 'engagement', 40,   'Hand raisers: demo requests, trials, contact-sales forms'),
               ('negatives',     'engagement', NULL, 'Unsubscribes, hard bounces and job seekers'))
         AS v(component, dimension, max_points, description)
 WHERE m.name = 'demo';

-- Engagement rules. An activity counts for every rule it matches: a visit to the
-- pricing page earns the plain web_visit points and the pricing-page points.
INSERT INTO lead_scoring.activity_rules
       (model_id, component, activity_type, properties, points, half_life, max_points, description)
SELECT m.model_id, v.component, v.activity_type, v.properties::jsonb, v.points, v.half_life::interval,
       v.max_points, v.description
  FROM lead_scoring.models m,
       (VALUES
         ('web',           'web_visit',          NULL,                         1,    '14 days', 10,   'Website visit'),
         ('web',           'web_visit',          '{"page": "pricing"}',        5,    '14 days', 15,   'Pricing page visit'),
         ('web',           'web_visit',          '{"page": "product"}',        2,    '14 days', 8,    'Product tour page visit'),
         ('email',         'email_open',         NULL,                         0.5,  '14 days', 5,    'Marketing email opened'),
         ('email',         'email_click',        NULL,                         2,    '21 days', 10,   'Link clicked in a marketing email'),
         ('content',       'content_download',   NULL,                         5,    '30 days', 15,   'Gated content downloaded'),
         ('content',       'content_download',   '{"asset": "case_study"}',    4,    '30 days', 8,    'Case study downloaded (late-stage content)'),
         ('content',       'video_watched',      NULL,                         2,    '30 days', 6,    'Product video watched'),
         ('events',        'webinar_registered', NULL,                         3,    '30 days', 6,    'Registered for a webinar'),
         ('events',        'webinar_attended',   NULL,                         8,    '45 days', 16,   'Attended a webinar'),
         ('events',        'event_visit',        NULL,                         12,   '60 days', 24,   'Met us at a trade show booth'),
         ('sales_signals', 'demo_request',       NULL,                         30,   '30 days', 30,   'Requested a demo'),
         ('sales_signals', 'trial_signup',       NULL,                         25,   '30 days', 25,   'Started a free trial'),
         ('sales_signals', 'contact_sales',      NULL,                         20,   '30 days', 20,   'Filled in the contact-sales form'),
         ('negatives',     'unsubscribe',        NULL,                         -20,  NULL,      20,   'Unsubscribed from email'),
         ('negatives',     'email_bounce',       NULL,                         -15,  NULL,      15,   'Email hard bounced'),
         ('negatives',     'web_visit',          '{"page": "careers"}',        -5,   '90 days', 15,   'Careers page visit (likely a job seeker)'))
         AS v(component, activity_type, properties, points, half_life, max_points, description)
 WHERE m.name = 'demo';

-- Fit rules, using every test: matches, equals, in, between, present.
INSERT INTO lead_scoring.fit_rules
       (model_id, component, attribute, test, value, pattern, min_value, max_value, points, description)
SELECT m.model_id, v.component, v.attribute, v.test::lead_scoring.fit_test, v.value::jsonb, v.pattern,
       v.min_value, v.max_value, v.points, v.description
  FROM lead_scoring.models m,
       (VALUES
         -- title (cap 30): a VP who is also a founder still gets 30
         ('title',   'title',        'matches', NULL, '\m(chief|ceo|cto|cmo|cfo|cro|coo|founder|co-founder|owner)\M|^president\M',
                                                                        NULL, NULL,  25, 'C-level, founder or owner'),
         ('title',   'title',        'matches', NULL, '(\mvp\M|vice president|director|head of)',
                                                                        NULL, NULL,  20, 'VP, director or head of a function'),
         ('title',   'title',        'matches', NULL, '\m(manager|team lead)\M',
                                                                        NULL, NULL,  10, 'Manager'),
         ('title',   'department',   'in',      '["marketing", "sales", "it", "operations"]', NULL,
                                                                        NULL, NULL,   5, 'Works in a buying department'),
         -- company (cap 25)
         ('company', 'employees',    'between', NULL, NULL,               50,  199,    8, '50-199 employees'),
         ('company', 'employees',    'between', NULL, NULL,              200, 4999,   15, '200-4,999 employees (sweet spot)'),
         ('company', 'employees',    'between', NULL, NULL,             5000, NULL,   12, '5,000+ employees (long sales cycle)'),
         ('company', 'employees',    'between', NULL, NULL,             NULL,    9,   -5, 'Fewer than 10 employees'),
         ('company', 'industry',     'equals',  '"software"', NULL,     NULL, NULL,   10, 'Software industry'),
         ('company', 'industry',     'in',      '["financial services", "healthcare", "manufacturing", "retail", "telecommunications"]', NULL,
                                                                        NULL, NULL,    6, 'Target vertical'),
         -- region (cap 10)
         ('region',  'country',      'equals',  '"US"', NULL,           NULL, NULL,   10, 'United States'),
         ('region',  'country',      'in',      '["CA", "GB", "DE", "FR", "NL", "SE", "AU"]', NULL,
                                                                        NULL, NULL,    7, 'Supported market'),
         -- contact (cap 5)
         ('contact', 'phone',        'present', NULL, NULL,             NULL, NULL,    5, 'Phone number given'),
         -- quality (no cap): penalties that keep junk out of the sales queue
         ('quality', 'email_domain', 'in',      '["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com", "gmx.de"]', NULL,
                                                                        NULL, NULL,  -10, 'Free email provider'),
         ('quality', 'email_domain', 'in',      '["mailinator.com", "guerrillamail.com", "10minutemail.com", "yopmail.com", "trashmail.com", "test.com", "example.com"]', NULL,
                                                                        NULL, NULL,  -40, 'Disposable or fake email domain'),
         ('quality', 'title',        'matches', NULL, '\m(student|intern|trainee)\M',
                                                                        NULL, NULL,  -25, 'Student or intern'),
         ('quality', 'last_name',    'matches', NULL, '^(mouse|duck|test|asdf|qwerty|xxx|none|n/?a)$',
                                                                        NULL, NULL,  -30, 'Made-up name'))
         AS v(component, attribute, test, value, pattern, min_value, max_value, points, description)
 WHERE m.name = 'demo';

-- Grades on the total score (fit + engagement); only A goes to sales.
DELETE FROM lead_scoring.grades;
-- A handed-off lead is to be accepted, rejected or claimed within a day.
INSERT INTO lead_scoring.grades (grade, rank, min_score, sales_ready, description, follow_up_within) VALUES
  ('A', 1, 70, true,  'Sales-ready: route to an account executive within a day', '1 day'),
  ('B', 2, 50, false, 'Marketing qualified: SDR follow-up and targeted nurture', NULL),
  ('C', 3, 25, false, 'Interested or a good fit, not both yet: keep nurturing', NULL),
  ('D', 4,  0, false, 'Cold, poor fit or junk: newsletter only', NULL);

-- Make 'demo' the active model; this rescores every lead (none on a fresh database).
DO $$ BEGIN PERFORM lead_scoring.activate_model('demo'); END $$;

COMMIT;
