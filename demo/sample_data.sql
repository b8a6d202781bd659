-- Sample data for the lead_scoring demo: 3,000 B2B leads and about 75,000
-- activities over the last 180 days. Pure SQL (no psql meta-commands) and
-- reproducible: setseed() fixes every random draw, so each run produces the same
-- leads and the same activities, placed relative to now().
--
-- What it looks like:
--   * leads have a name, a work (or free) email, a company, and attributes
--     {title, department, employees, industry, country, phone, lead_source};
--   * about 3% are junk (Mickey Mouse, test@test.com, asdf@mailinator.com...):
--     form spam and bots, with a handful of activities each;
--   * each lead has a hidden "intent" in [0, 1): activity counts grow steeply
--     with intent, so a few leads are very active and most are quiet; high-intent
--     leads were active recently, some went cold, and only they raise their hand
--     (demo requests, trials, contact-sales forms);
--   * 18 activity types, five of which no rule of the demo model scores
--     (including 'WebVisit', an old tracking script's spelling of web_visit).
--
-- Leads go in with one INSERT and activities with one INSERT ... SELECT, so the
-- extension's statement-level triggers score each batch at once. It can run on a
-- database that already has leads: it adds 3,000 more.

BEGIN;

DO $$ BEGIN PERFORM setseed(0.4242); END $$;

-- Weighted choices: each row covers [lo, hi) of a uniform draw.
CREATE TEMP TABLE demo_titles ON COMMIT DROP AS
SELECT title, department,
       (sum(weight) OVER w - weight) / sum(weight) OVER () AS lo,
       CASE WHEN ord = count(*) OVER () THEN 2 ELSE sum(weight) OVER w / sum(weight) OVER () END AS hi
  FROM (VALUES
    (1, 'CEO', 'executive', 1.5), (2, 'Founder & CEO', 'executive', 1.0), (3, 'CTO', 'it', 1.0),
    (4, 'CMO', 'marketing', 1.0), (5, 'CFO', 'finance', 0.7), (6, 'Chief Revenue Officer', 'sales', 0.6),
    (7, 'COO', 'operations', 0.5),
    (8, 'VP Marketing', 'marketing', 2.0), (9, 'VP of Sales', 'sales', 2.0),
    (10, 'Vice President, Engineering', 'engineering', 1.5), (11, 'VP Operations', 'operations', 1.0),
    (12, 'VP Finance', 'finance', 0.7),
    (13, 'Director of Marketing', 'marketing', 3.0), (14, 'Director of IT', 'it', 3.0),
    (15, 'Head of Growth', 'marketing', 2.0), (16, 'Head of Data', 'it', 1.5),
    (17, 'Director, Demand Generation', 'marketing', 2.0), (18, 'Sales Director', 'sales', 2.0),
    (19, 'Engineering Director', 'engineering', 1.5),
    (20, 'Marketing Manager', 'marketing', 5.0), (21, 'IT Manager', 'it', 4.0),
    (22, 'Product Manager', 'product', 4.0), (23, 'Sales Manager', 'sales', 4.0),
    (24, 'Engineering Manager', 'engineering', 3.0), (25, 'Operations Manager', 'operations', 3.0),
    (26, 'Team Lead, Customer Success', 'support', 1.5),
    (27, 'Software Engineer', 'engineering', 8.0), (28, 'Data Analyst', 'it', 5.0),
    (29, 'Marketing Specialist', 'marketing', 5.0), (30, 'Account Executive', 'sales', 5.0),
    (31, 'Consultant', 'consulting', 4.0), (32, 'Developer', 'engineering', 5.0),
    (33, 'Sales Representative', 'sales', 4.0), (34, 'Operations Analyst', 'operations', 3.0),
    (35, 'Customer Support Specialist', 'support', 3.0), (36, 'Accountant', 'finance', 2.0),
    (37, 'Designer', 'product', 2.0),
    (38, 'Student', 'education', 1.5), (39, 'Graduate Student', 'education', 0.8),
    (40, 'Marketing Intern', 'marketing', 1.0),
    (41, NULL, NULL, 7.0)) AS v(ord, title, department, weight)
WINDOW w AS (ORDER BY ord);

CREATE TEMP TABLE demo_countries ON COMMIT DROP AS
SELECT code, dial,
       (sum(weight) OVER w - weight) / sum(weight) OVER () AS lo,
       CASE WHEN ord = count(*) OVER () THEN 2 ELSE sum(weight) OVER w / sum(weight) OVER () END AS hi
  FROM (VALUES
    (1, 'US', '1', 42), (2, 'GB', '44', 10), (3, 'DE', '49', 8), (4, 'CA', '1', 6), (5, 'FR', '33', 5),
    (6, 'IN', '91', 7), (7, 'AU', '61', 4), (8, 'NL', '31', 3), (9, 'BR', '55', 4), (10, 'SE', '46', 2),
    (11, 'ES', '34', 2), (12, 'JP', '81', 2), (13, 'MX', '52', 2), (14, 'SG', '65', 2), (15, 'IT', '39', 1))
    AS v(ord, code, dial, weight)
WINDOW w AS (ORDER BY ord);

-- Company name suffixes, with the industry and top-level domain they suggest.
CREATE TEMP TABLE demo_suffixes ON COMMIT DROP AS
SELECT ord, suffix, industry, tld FROM (VALUES
    (1, 'Software', 'software', 'io'), (2, 'Labs', 'software', 'io'), (3, 'Analytics', 'software', 'ai'),
    (4, 'Systems', 'it services', 'com'), (5, 'Solutions', 'it services', 'com'),
    (6, 'Networks', 'telecommunications', 'net'), (7, 'Health', 'healthcare', 'com'),
    (8, 'Capital', 'financial services', 'com'), (9, 'Retail', 'retail', 'com'),
    (10, 'Manufacturing', 'manufacturing', 'com'), (11, 'Logistics', 'logistics', 'com'),
    (12, 'Group', 'consulting', 'com'), (13, 'Academy', 'education', 'org'), (14, 'Media', 'media', 'com'))
    AS v(ord, suffix, industry, tld);

-- Junk leads: what web forms collect from bots and people who won't give their details.
CREATE TEMP TABLE demo_junk ON COMMIT DROP AS
SELECT * FROM (VALUES
    (1, 'Mickey', 'Mouse', 'mickey.mouse@mailinator.com', 'Disney', 'CEO'),
    (2, 'Donald', 'Duck', 'donald@yopmail.com', 'Duckburg Inc', 'Owner'),
    (3, 'Test', 'Test', 'test@test.com', 'Test', 'Test'),
    (4, 'asdf', 'asdf', 'asdf@mailinator.com', 'asdf', 'asdf'),
    (5, 'Qwerty', 'Qwerty', 'qwerty@guerrillamail.com', 'qwerty', NULL),
    (6, 'N/A', 'N/A', 'na@trashmail.com', 'N/A', 'Student'),
    (7, 'xxx', 'xxx', 'xxx@10minutemail.com', 'xxx', NULL),
    (8, 'Test', 'User', 'test@example.com', 'Example Corp', 'Director'))
    AS v(ord, first_name, last_name, email, company, title);

-- Every random draw of every lead, in lead order (hence reproducible).
CREATE TEMP TABLE demo_draws ON COMMIT DROP AS
SELECT nextval(pg_get_serial_sequence('lead_scoring.leads', 'lead_id')) AS lead_id, i,
       random() AS r_junk, random() AS intent, random() AS r_first, random() AS r_last,
       random() AS r_prefix, random() AS r_suffix, random() AS r_title, random() AS r_country,
       random() AS r_employees, random() AS r_phone, random() AS r_phone_digits, random() AS r_email,
       random() AS r_free, random() AS r_source, random() AS r_industry, random() AS r_n,
       random() AS r_recency, random() AS r_cold, random() AS r_span, random() AS r_age,
       random() AS r_demo, random() AS r_demo_t, random() AS r_trial, random() AS r_trial_t,
       random() AS r_contact, random() AS r_contact_t, random() AS r_unsub, random() AS r_unsub_t,
       random() AS r_bounce, random() AS r_bounce_t
  FROM generate_series(1, 3000) AS i;

-- Each lead's profile: who they are and how they behave.
CREATE TEMP TABLE demo_leads ON COMMIT DROP AS
SELECT d.*, is_junk,
       -- activities: 1..6 for junk; otherwise a long tail: 1 + 80 intent^3 + 25 intent^12 + noise
       -- (median ~13; the top 10% have 70 or more, the very top about 110)
       CASE WHEN is_junk THEN 1 + floor(r_n * 6)
            ELSE 1 + floor(80 * intent ^ 3 + 25 * intent ^ 12 + 6 * r_n) END::int AS n_activities,
       -- days since the lead was last active: high intent means recent, but 20% went cold a month or more ago
       r_recency ^ 2 * 120 * (1 - intent) ^ 1.5 + CASE WHEN r_cold < 0.2 THEN 30 + 60 * r_cold / 0.2 ELSE 0 END
         AS recency_days,
       -- how many days their activities are spread over, ending at recency_days
       15 + 150 * r_span AS span_days,
       t.title IN ('Student', 'Graduate Student', 'Marketing Intern') AS is_student,
       CASE WHEN is_junk THEN j.first_name
            ELSE (ARRAY['James', 'Mary', 'John', 'Patricia', 'Robert', 'Jennifer', 'Michael', 'Linda',
                        'William', 'Elizabeth', 'David', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica',
                        'Thomas', 'Sarah', 'Charles', 'Karen', 'Daniel', 'Nancy', 'Matthew', 'Lisa',
                        'Anthony', 'Betty', 'Mark', 'Sandra', 'Priya', 'Wei', 'Aisha', 'Lukas', 'Sofia',
                        'Mateo', 'Emma', 'Noah', 'Olivia', 'Liam', 'Hannah', 'Jonas', 'Chloe', 'Raj', 'Mei',
                        'Carlos', 'Ana', 'Omar', 'Fatima', 'Sven', 'Ingrid', 'Yuki', 'Kenji', 'Amara',
                        'Tariq', 'Elena', 'Marco', 'Julia', 'Pierre', 'Claire', 'Diego', 'Zoe'])[1 + floor(r_first * 60)::int]
       END AS first_name,
       CASE WHEN is_junk THEN j.last_name
            ELSE (ARRAY['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis',
                        'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Wilson', 'Anderson', 'Thomas',
                        'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Thompson', 'White', 'Harris', 'Clark',
                        'Lewis', 'Walker', 'Young', 'Allen', 'King', 'Wright', 'Patel', 'Chen', 'Kim',
                        'Nguyen', 'Müller', 'Schmidt', 'Schneider', 'Fischer', 'Dubois', 'Moreau', 'Rossi',
                        'Bianchi', 'Silva', 'Santos', 'Kowalski', 'Novak', 'Johansson', 'Andersson', 'Tanaka',
                        'Sato', 'O''Brien', 'Murphy', 'Kelly', 'Singh', 'Kumar', 'Cohen', 'Levi', 'Okafor',
                        'Mensah', 'Hansen'])[1 + floor(r_last * 60)::int]
       END AS last_name,
       CASE WHEN is_junk THEN j.company ELSE prefix || ' ' || s.suffix END AS company,
       j.email AS junk_email,
       lower(replace(prefix, ' ', '')) || lower(s.suffix) || '.' || s.tld AS company_domain,
       CASE WHEN is_junk THEN j.title ELSE t.title END AS title,
       CASE WHEN NOT is_junk THEN t.department END AS department,
       CASE WHEN is_junk THEN (ARRAY[1, 99999, NULL, 5])[1 + floor(r_employees * 4)::int]
            WHEN r_employees < 0.05 THEN NULL
            -- log-uniform from 2 to about 50,000 employees: small companies are the most common
            ELSE round(exp(ln(2) + (r_employees - 0.05) / 0.95 * ln(25000)))::int END AS employees,
       CASE WHEN is_junk THEN NULL
            WHEN r_industry < 0.8 THEN s.industry
            ELSE (ARRAY['software', 'financial services', 'healthcare', 'education', 'government',
                        'nonprofit', 'media', 'retail'])[1 + floor((r_industry - 0.8) / 0.2 * 8)::int] END AS industry,
       CASE WHEN is_junk AND r_country < 0.5 THEN NULL ELSE c.code END AS country,
       CASE WHEN is_junk THEN CASE WHEN r_phone < 0.3 THEN '123' END
            WHEN r_phone < 0.55 THEN '+' || c.dial || ' ' || lpad(floor(r_phone_digits * 1e9)::bigint::text, 9, '0') END AS phone,
       (ARRAY['organic search', 'paid search', 'webinar', 'referral', 'trade show', 'content syndication',
              'social', 'list import'])[1 + floor(r_source * 8)::int] AS lead_source
  FROM demo_draws d
 CROSS JOIN LATERAL (SELECT d.r_junk < 0.03 AS is_junk,
                            (ARRAY['Acme', 'Northwind', 'Contoso', 'Globex', 'Initech', 'Umbrella', 'Stark',
                                   'Wayne', 'Hooli', 'Vandelay', 'Pied Piper', 'Wonka', 'Tyrell', 'Cyberdyne',
                                   'Soylent', 'Aperture', 'Massive Dynamic', 'Blue Sky', 'Silverline', 'Redwood',
                                   'Bluepeak', 'Brightwave', 'Clearpath', 'Crestview', 'Evergreen', 'Fairway',
                                   'Granite', 'Harbor', 'Ironclad', 'Juniper', 'Keystone', 'Lakeside', 'Meridian',
                                   'Nimbus', 'Orion', 'Pinnacle', 'Quantum', 'Riverbend', 'Summit', 'Trident',
                                   'Unity', 'Vertex', 'Westfield', 'Zenith', 'Apex', 'Beacon', 'Cobalt', 'Delta',
                                   'Everest', 'Falcon'])[1 + floor(d.r_prefix * 50)::int] AS prefix) k
  JOIN demo_suffixes s ON s.ord = 1 + floor(d.r_suffix * 14)::int
  JOIN demo_titles t ON d.r_title >= t.lo AND d.r_title < t.hi
  JOIN demo_countries c ON d.r_country >= c.lo AND d.r_country < c.hi
  LEFT JOIN demo_junk j ON is_junk AND j.ord = 1 + floor(d.r_first * 8)::int;

INSERT INTO lead_scoring.leads (lead_id, email, first_name, last_name, company, attributes, created_at)
SELECT lead_id,
       CASE WHEN is_junk THEN junk_email
            -- 12% sign up with a free address, the rest with their work address
            WHEN r_free < 0.12 THEN
              lower(translate(first_name || '.' || last_name, 'üöäé''', 'uoae')) || (10 + floor(r_free * 700))::int
              || '@' || (ARRAY['gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'icloud.com'])[1 + floor(r_free / 0.12 * 5)::int]
            ELSE lower(translate(CASE WHEN r_email < 0.6 THEN first_name || '.' || last_name
                                      WHEN r_email < 0.85 THEN left(first_name, 1) || last_name
                                      ELSE first_name END, 'üöäé''', 'uoae')) || '@' || company_domain
       END,
       first_name, last_name, company,
       jsonb_strip_nulls(jsonb_build_object('title', title, 'department', department, 'employees', employees,
                                            'industry', industry, 'country', country, 'phone', phone,
                                            'lead_source', lead_source)),
       now() - (least(recency_days + span_days, 180) + 1 + 60 * r_age) * interval '1 day'
  FROM demo_leads p
 ORDER BY lead_id;

-- All activities in one statement: the live-scoring trigger merges them into
-- each lead's engagement state once, at the end of the statement.
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at, properties)
WITH draws AS MATERIALIZED (
  SELECT p.lead_id, p.intent, p.is_junk, p.is_student, p.recency_days, p.span_days,
         random() AS r_type, random() AS r_time, random() AS r_prop
    FROM demo_leads p, generate_series(1, p.n_activities)
),
everyday AS (
  SELECT lead_id,
         CASE WHEN is_junk THEN
                CASE WHEN r_type < 0.45 THEN 'content_download' WHEN r_type < 0.75 THEN 'web_visit'
                     WHEN r_type < 0.9 THEN 'newsletter_signup' ELSE 'webinar_registered' END
              WHEN r_type < 0.44  THEN 'web_visit'
              WHEN r_type < 0.70  THEN 'email_open'
              WHEN r_type < 0.78  THEN 'email_click'
              WHEN r_type < 0.81  THEN 'content_download'
              WHEN r_type < 0.84  THEN 'video_watched'
              WHEN r_type < 0.865 THEN 'webinar_registered'
              WHEN r_type < 0.88  THEN 'webinar_attended'
              WHEN r_type < 0.885 THEN 'event_visit'
              WHEN r_type < 0.925 THEN 'chat_started'
              WHEN r_type < 0.955 THEN 'social_follow'
              WHEN r_type < 0.975 THEN 'newsletter_signup'
              WHEN r_type < 0.985 THEN 'WebVisit'
              ELSE 'community_post' END AS activity_type,
         -- most activity sits near the end of the lead's active period
         least(recency_days + r_time ^ 1.3 * span_days, 179.9) AS days_ago,
         r_prop, intent, is_student
    FROM draws
)
SELECT lead_id, activity_type, now() - days_ago * interval '1 day',
       CASE activity_type
         WHEN 'web_visit' THEN jsonb_build_object('page', CASE
                WHEN is_student AND r_prop < 0.3 THEN 'careers'
                WHEN r_prop < 0.04 + 0.16 * intent THEN 'pricing'
                WHEN r_prop < 0.05 + 0.16 * intent THEN 'careers'
                WHEN r_prop < 0.17 + 0.16 * intent THEN 'product'
                WHEN r_prop < 0.27 + 0.16 * intent THEN 'docs'
                WHEN r_prop < 0.60 + 0.16 * intent THEN 'blog'
                ELSE 'home' END)
         WHEN 'WebVisit' THEN jsonb_build_object('url', (ARRAY['/', '/blog', '/pricing', '/product'])[1 + floor(r_prop * 4)::int])
         WHEN 'email_open' THEN jsonb_build_object('campaign', (ARRAY['monthly-newsletter', 'product-update', 'webinar-invite',
                                                                       'case-study-digest', 'event-invite'])[1 + floor(r_prop * 5)::int])
         WHEN 'email_click' THEN jsonb_build_object('campaign', (ARRAY['monthly-newsletter', 'product-update', 'webinar-invite',
                                                                        'case-study-digest', 'event-invite'])[1 + floor(r_prop * 5)::int])
         WHEN 'content_download' THEN jsonb_build_object('asset', CASE
                WHEN r_prop < 0.35 THEN 'whitepaper' WHEN r_prop < 0.60 THEN 'ebook'
                WHEN r_prop < 0.60 + 0.2 * intent THEN 'case_study' WHEN r_prop < 0.85 THEN 'report'
                ELSE 'checklist' END)
         WHEN 'video_watched' THEN jsonb_build_object('video', (ARRAY['product-tour', 'customer-story', 'how-to'])[1 + floor(r_prop * 3)::int],
                                                      'seconds', 30 + floor(r_prop * 600)::int)
         WHEN 'webinar_registered' THEN jsonb_build_object('webinar', (ARRAY['scoring-101', 'pipeline-review', 'product-launch', 'roi-workshop'])[1 + floor(r_prop * 4)::int])
         WHEN 'webinar_attended' THEN jsonb_build_object('webinar', (ARRAY['scoring-101', 'pipeline-review', 'product-launch', 'roi-workshop'])[1 + floor(r_prop * 4)::int],
                                                         'minutes', 5 + floor(r_prop * 55)::int)
         WHEN 'event_visit' THEN jsonb_build_object('event', (ARRAY['SaaStr Annual', 'Web Summit', 'Dreamforce', 'DMEXCO'])[1 + floor(r_prop * 4)::int])
         WHEN 'chat_started' THEN jsonb_build_object('channel', 'website')
         WHEN 'social_follow' THEN jsonb_build_object('network', (ARRAY['linkedin', 'x', 'youtube'])[1 + floor(r_prop * 3)::int])
         ELSE '{}'::jsonb END
  FROM everyday
UNION ALL
-- Hand raisers: only high-intent leads (and spam bots) ask for a demo, a trial or sales,
-- a few days around the end of their active period.
SELECT lead_id, 'demo_request', now() - least(recency_days + 7 * r_demo_t, 179.9) * interval '1 day',
       jsonb_build_object('form', 'book-a-demo')
  FROM demo_leads
 WHERE (NOT is_junk AND r_demo < greatest(intent - 0.86, 0) * 1.6) OR (is_junk AND r_demo < 0.3)
UNION ALL
SELECT lead_id, 'trial_signup', now() - least(recency_days + 14 * r_trial_t, 179.9) * interval '1 day',
       jsonb_build_object('plan', CASE WHEN r_trial < 0.02 THEN 'enterprise' ELSE 'team' END)
  FROM demo_leads
 WHERE NOT is_junk AND r_trial < greatest(intent - 0.82, 0) * 0.8
UNION ALL
SELECT lead_id, 'contact_sales', now() - least(recency_days + 10 * r_contact_t, 179.9) * interval '1 day',
       jsonb_build_object('form', 'contact-sales')
  FROM demo_leads
 WHERE NOT is_junk AND r_contact < greatest(intent - 0.8, 0) * 0.4
UNION ALL
-- Bad news: unsubscribes from uninterested leads, hard bounces from fake addresses.
SELECT lead_id, 'unsubscribe', now() - least(recency_days + span_days * r_unsub_t, 179.9) * interval '1 day',
       jsonb_build_object('list', 'marketing')
  FROM demo_leads
 WHERE NOT is_junk AND intent < 0.6 AND r_unsub < 0.12
UNION ALL
SELECT lead_id, 'email_bounce', now() - least(recency_days + span_days * r_bounce_t, 179.9) * interval '1 day',
       jsonb_build_object('kind', 'hard')
  FROM demo_leads
 WHERE (is_junk AND r_bounce < 0.7) OR r_bounce < 0.015;

COMMIT;

ANALYZE lead_scoring.leads, lead_scoring.activities, lead_scoring.lead_scores;
