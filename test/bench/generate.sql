-- Benchmark data generator: leads and their activities, scored by the demo's
-- rule set (demo/sample_model.sql, loaded beforehand).
--
-- psql variables (all required):
--   first_lead  id of the first lead to create (leads get consecutive ids)
--   leads       how many leads
--   activities  how many activities in all, shared out among those leads
--   seed        setseed() value, in [-1, 1]: the same seed gives the same data
--   base_time   activities happen in the 180 days before this instant
--
-- Activity counts per lead are skewed as in real marketing data: each lead
-- gets a log-normal weight (sigma 1.3), and the activities are shared out in
-- proportion, so that the median lead has about a third of the mean, the top
-- 1% about 15 times the mean, and a few leads none at all. The total is
-- exactly `activities`. The mix of activity types and properties follows the
-- demo (demo/sample_data.sql): mostly web visits and email opens, a few hand
-- raisers, some types no rule scores.
--
-- The caller decides whether the live-scoring triggers run while it loads.

BEGIN;

SELECT pg_catalog.setseed(:seed) \g /dev/null

CREATE TEMP TABLE bench_draws ON COMMIT DROP AS
SELECT (:first_lead)::bigint + i - 1 AS lead_id,
       random() AS r_title, random() AS r_employees, random() AS r_industry,
       random() AS r_country, random() AS r_phone, random() AS r_email, random() AS r_name,
       -- log-normal weight from a Box-Muller normal draw
       exp(1.3 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) AS weight,
       -- when the lead was last active (days before base_time) and over how many days
       180 * random() ^ 2 AS recency_days, 10 + 170 * random() AS span_days
  FROM pg_catalog.generate_series(1, :leads) AS i;

-- Counts from the running sum of the weights: floor(C_i) - floor(C_i-1) adds
-- up to exactly :activities.
CREATE TEMP TABLE bench_leads ON COMMIT DROP AS
SELECT d.*,
       (floor(c.upto * (:activities)::float8 / c.total)
        - floor((c.upto - d.weight) * (:activities)::float8 / c.total))::int AS n_activities
  FROM bench_draws d
  JOIN (SELECT lead_id, sum(weight) OVER (ORDER BY lead_id) AS upto, sum(weight) OVER () AS total
          FROM bench_draws) c USING (lead_id);
DROP TABLE bench_draws;

INSERT INTO lead_scoring.leads (lead_id, email, first_name, last_name, company, attributes, created_at)
SELECT l.lead_id,
       CASE WHEN l.r_email < 0.12
            THEN 'lead' || l.lead_id || '@' || (ARRAY['gmail.com', 'yahoo.com', 'outlook.com'])[1 + floor(l.r_email / 0.12 * 3)::int]
            ELSE 'lead' || l.lead_id || '@company' || (l.lead_id % 9973) || '.com' END,
       (ARRAY['James', 'Mary', 'Priya', 'Wei', 'Lukas', 'Sofia', 'Omar', 'Yuki'])[1 + floor(l.r_name * 8)::int],
       (ARRAY['Smith', 'Garcia', 'Patel', 'Chen', 'Müller', 'Rossi', 'Okafor', 'Tanaka'])[1 + floor(l.r_title * 8)::int],
       'Company ' || (l.lead_id % 9973),
       pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
         'title', (ARRAY['CEO', 'VP Marketing', 'Director of IT', 'Head of Growth', 'Marketing Manager',
                         'Software Engineer', 'Data Analyst', 'Consultant', 'Student', 'Marketing Intern',
                         NULL])[1 + floor(l.r_title * 11)::int],
         'employees', CASE WHEN l.r_employees >= 0.05
                           THEN round(exp(ln(2) + (l.r_employees - 0.05) / 0.95 * ln(25000)))::int END,
         'industry', (ARRAY['software', 'financial services', 'healthcare', 'retail', 'education',
                            'manufacturing', 'media', 'consulting'])[1 + floor(l.r_industry * 8)::int],
         'country', (ARRAY['US', 'US', 'US', 'GB', 'DE', 'CA', 'FR', 'IN', 'BR', 'JP'])[1 + floor(l.r_country * 10)::int],
         'phone', CASE WHEN l.r_phone < 0.5 THEN '+1 555 ' || lpad((l.lead_id % 10000)::text, 4, '0') END)),
       (:'base_time')::timestamptz - interval '200 days'
  FROM bench_leads l
 ORDER BY l.lead_id;

-- Activities in the order they happened, as an activity feed would write them.
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at, properties, recorded_at)
SELECT x.lead_id, x.activity_type, x.occurred_at,
       CASE x.activity_type
         WHEN 'web_visit' THEN pg_catalog.jsonb_build_object('page', CASE
                WHEN x.r_prop < 0.10 THEN 'pricing' WHEN x.r_prop < 0.13 THEN 'careers'
                WHEN x.r_prop < 0.28 THEN 'product' WHEN x.r_prop < 0.40 THEN 'docs'
                WHEN x.r_prop < 0.75 THEN 'blog' ELSE 'home' END)
         WHEN 'email_open' THEN pg_catalog.jsonb_build_object('campaign',
                (ARRAY['monthly-newsletter', 'product-update', 'webinar-invite', 'event-invite'])[1 + floor(x.r_prop * 4)::int])
         WHEN 'email_click' THEN pg_catalog.jsonb_build_object('campaign',
                (ARRAY['monthly-newsletter', 'product-update', 'webinar-invite', 'event-invite'])[1 + floor(x.r_prop * 4)::int])
         WHEN 'content_download' THEN pg_catalog.jsonb_build_object('asset', CASE
                WHEN x.r_prop < 0.35 THEN 'whitepaper' WHEN x.r_prop < 0.60 THEN 'ebook'
                WHEN x.r_prop < 0.75 THEN 'case_study' ELSE 'report' END)
         WHEN 'video_watched' THEN pg_catalog.jsonb_build_object('video', 'product-tour', 'seconds', 30 + floor(x.r_prop * 600)::int)
         WHEN 'webinar_attended' THEN pg_catalog.jsonb_build_object('webinar', 'scoring-101', 'minutes', 5 + floor(x.r_prop * 55)::int)
         WHEN 'WebVisit' THEN pg_catalog.jsonb_build_object('url', '/pricing')
         ELSE '{}'::jsonb END,
       x.occurred_at + interval '5 minutes'
  FROM (SELECT l.lead_id,
               CASE WHEN r.r_type < 0.440 THEN 'web_visit'
                    WHEN r.r_type < 0.700 THEN 'email_open'
                    WHEN r.r_type < 0.780 THEN 'email_click'
                    WHEN r.r_type < 0.810 THEN 'content_download'
                    WHEN r.r_type < 0.840 THEN 'video_watched'
                    WHEN r.r_type < 0.865 THEN 'webinar_registered'
                    WHEN r.r_type < 0.880 THEN 'webinar_attended'
                    WHEN r.r_type < 0.885 THEN 'event_visit'
                    WHEN r.r_type < 0.925 THEN 'chat_started'
                    WHEN r.r_type < 0.955 THEN 'social_follow'
                    WHEN r.r_type < 0.972 THEN 'newsletter_signup'
                    WHEN r.r_type < 0.982 THEN 'WebVisit'
                    WHEN r.r_type < 0.990 THEN 'community_post'
                    WHEN r.r_type < 0.993 THEN 'demo_request'
                    WHEN r.r_type < 0.995 THEN 'trial_signup'
                    WHEN r.r_type < 0.997 THEN 'contact_sales'
                    WHEN r.r_type < 0.999 THEN 'unsubscribe'
                    ELSE 'email_bounce' END AS activity_type,
               -- most activity sits near the end of the lead's active period
               (:'base_time')::timestamptz
                 - (l.recency_days + r.r_time ^ 1.3 * l.span_days) * interval '1 day' AS occurred_at,
               r.r_prop
          FROM bench_leads l
         CROSS JOIN LATERAL (SELECT random() AS r_type, random() AS r_time, random() AS r_prop
                               FROM pg_catalog.generate_series(1, l.n_activities)) r) x
 ORDER BY x.occurred_at;

COMMIT;
