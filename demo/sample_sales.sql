-- Sales at work, for the demo: two reps claim leads (one also cherry-picks
-- B and C leads), and some of those deals close. Reproducible: no randomness.
BEGIN;
-- ana works the best sales-ready leads
INSERT INTO lead_scoring.claims (lead_id, rep, reason)
SELECT lead_id, 'ana', 'top of the queue'
  FROM lead_scoring.sales_queue WHERE sales_ready ORDER BY total_score DESC, lead_id LIMIT 40;
-- ben takes the next sales-ready ones, and B and C leads he has a hunch about
INSERT INTO lead_scoring.claims (lead_id, rep, reason)
SELECT lead_id, 'ben', 'next in line'
  FROM lead_scoring.sales_queue WHERE sales_ready AND claimed_by IS NULL ORDER BY total_score DESC, lead_id LIMIT 25;
INSERT INTO lead_scoring.claims (lead_id, rep, reason)
SELECT lead_id, 'ben', 'knows the company'
  FROM lead_scoring.sales_queue WHERE grade IN ('B', 'C') AND claimed_by IS NULL
 ORDER BY md5(lead_id::text) LIMIT 20;
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
