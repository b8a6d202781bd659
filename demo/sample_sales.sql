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
-- outcomes: deals close for about half of the sales-ready claims, a fifth of the cherry-picks
INSERT INTO lead_scoring.outcomes (lead_id, outcome, amount, closed_at)
SELECT c.lead_id,
       CASE WHEN ('x' || substr(md5(c.lead_id::text), 1, 8))::bit(32)::int & 255 < CASE WHEN c.cherry_pick THEN 51 ELSE 128 END
            THEN 'won' ELSE 'lost' END,
       5000 + (c.lead_id % 40) * 1000, now() - interval '3 days'
  FROM lead_scoring.claims c;
UPDATE lead_scoring.outcomes SET amount = NULL WHERE outcome = 'lost';
COMMIT;
