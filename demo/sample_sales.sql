-- Sales at work, for the demo: two reps answer the leads scoring handed off
-- (ana accepts the best; ben accepts the next, sends some back, and also
-- cherry-picks B and C leads), the deals they work close, and a lead sent back
-- earns its way back. Reproducible: no randomness.
SET client_min_messages = warning;
SELECT lead_scoring.create_roles() \g /dev/null
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ana') THEN CREATE ROLE ana IN ROLE lead_scoring_sales; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ben') THEN CREATE ROLE ben IN ROLE lead_scoring_sales; END IF;
END
$$;
RESET client_min_messages;
BEGIN;
-- ana accepts the best handed-off leads (accepting claims them in her name)
SET ROLE ana;
SELECT count(*) FROM (SELECT lead_scoring.accept_lead(lead_id, 'top of the queue')
                        FROM lead_scoring.sales_queue WHERE stage = 'marketing_qualified'
                       ORDER BY total_score DESC, lead_id LIMIT 40) a \g /dev/null
-- ben accepts the next ones, and sends back one in six of those after them
-- (not ready, or students)
SET ROLE ben;
SELECT count(*) FROM (SELECT lead_scoring.accept_lead(lead_id, 'next in line')
                        FROM lead_scoring.sales_queue WHERE stage = 'marketing_qualified'
                       ORDER BY total_score DESC, lead_id LIMIT 25) a \g /dev/null
SELECT count(*) FROM (SELECT lead_scoring.reject_lead(lead_id, CASE WHEN lead_id % 12 = 0 THEN 'not ready' ELSE 'student or researcher' END,
                                                      'called: no project this year')
                        FROM lead_scoring.sales_queue WHERE stage = 'marketing_qualified' AND lead_id % 6 = 0
                       ORDER BY total_score DESC, lead_id LIMIT 6) r \g /dev/null
-- and claims B and C leads he has a hunch about: cherry-picks
INSERT INTO lead_scoring.claims (lead_id, reason)
SELECT lead_id, 'knows the company'
  FROM lead_scoring.sales_queue WHERE grade IN ('B', 'C') AND claimed_by IS NULL
 ORDER BY md5(lead_id::text) LIMIT 20;
RESET ROLE;
-- ana qualifies the opportunities among hers: a demo request or a trial
SET ROLE ana;
SELECT count(*) FROM (SELECT lead_scoring.advance_lead(c.lead_id, 'sales_qualified', 'demo booked')
                        FROM lead_scoring.claims c
                       WHERE c.rep = 'ana' AND EXISTS (SELECT FROM lead_scoring.activities a
                                                        WHERE a.lead_id = c.lead_id
                                                          AND a.activity_type IN ('demo_request', 'trial_signup'))) q \g /dev/null
RESET ROLE;
-- outcomes: what really sells here is webinars and senior buyers; cherry-picks
-- close less. Each claim closes won when a hash of its lead falls under a bar
-- those raise; buyers say what helped them choose.
INSERT INTO lead_scoring.outcomes (lead_id, outcome, amount, closed_at, helped_by)
SELECT c.lead_id,
       CASE WHEN ('x' || substr(md5(c.lead_id::text), 1, 8))::bit(32)::int & 255
                 < 40 + 90 * w.webinar::int + 70 * senior::int - 20 * c.cherry_pick::int
            THEN 'won' ELSE 'lost' END,
       5000 + (c.lead_id % 40) * 1000, now(),
       CASE WHEN w.webinar THEN 'webinar_attended' WHEN c.lead_id % 3 = 0 THEN 'pricing' ELSE 'case study' END
  FROM lead_scoring.claims c
  JOIN lead_scoring.leads l USING (lead_id)
 CROSS JOIN LATERAL (SELECT EXISTS (SELECT FROM lead_scoring.activities a
                                     WHERE a.lead_id = c.lead_id AND a.activity_type = 'webinar_attended'
                                       AND a.occurred_at < c.claimed_at) AS webinar) w
 CROSS JOIN LATERAL (SELECT l.attributes->>'title' ~* '^(CEO|CTO|CFO|COO|CMO|CRO|Founder|Owner|VP|Vice President|Head|Director)' AS senior) t;
UPDATE lead_scoring.outcomes SET amount = NULL, helped_by = NULL WHERE outcome = 'lost';
COMMIT;
-- later, the first lead ben sent back as not ready requests a demo: its new
-- engagement (30 points) passes the recycle rule, and it is handed off again
INSERT INTO lead_scoring.activities (lead_id, activity_type)
SELECT lead_id, 'demo_request' FROM lead_scoring.lifecycle_events
 WHERE action = 'reject' AND reason = 'not ready' ORDER BY event_id LIMIT 1;
