-- Roles keep everyone in their lane: one call sets them up; each denial is shown.
\set SHOW_CONTEXT never
\set VERBOSITY terse
SET timezone = 'UTC';
SELECT lead_scoring.create_roles();
SELECT lead_scoring.create_roles();  -- idempotent
-- the claims of earlier tests are released (a superuser manages them all)
SELECT count(*) AS released FROM lead_scoring.claims c
 CROSS JOIN LATERAL lead_scoring.release_claim(c.lead_id, 'the roles test starts afresh') r
 WHERE c.released_at IS NULL;
CREATE ROLE t_bi IN ROLE lead_scoring_bi;
CREATE ROLE t_sales IN ROLE lead_scoring_sales;
CREATE ROLE t_marketing IN ROLE lead_scoring_marketing;
CREATE ROLE t_admin IN ROLE lead_scoring_admin;

-- BI reads the views, and only the views.
SET ROLE t_bi;
SELECT count(*) AS grades_in_funnel FROM lead_scoring.funnel;
SELECT count(*) > 0 AS sees_leads FROM lead_scoring.lead_grades;
SELECT count(*) >= 0 AS sees_unscored_types FROM lead_scoring.unscored_activity_types;
SELECT count(*) FROM lead_scoring.leads;
SELECT count(*) FROM lead_scoring.activities;
SELECT * FROM lead_scoring.lead_score(101);
SELECT * FROM lead_scoring.claim_lead(101);
UPDATE lead_scoring.grades SET min_score = 1 WHERE grade = 'D';
RESET ROLE;

-- Sales reads and claims (the audit is written for them), records outcomes,
-- and changes neither rules, grades nor settings, nor the audit.
SET ROLE t_sales;
SELECT count(*) > 0 AS sees_queue FROM lead_scoring.sales_queue;
SELECT lead_id, rep, cherry_pick FROM lead_scoring.claim_lead(102, 'sales claims');
SELECT lead_id, rep, cherry_pick FROM lead_scoring.claim_lead(103, 'a cherry-pick');
SELECT rep, outcome FROM lead_scoring.cherry_picks WHERE rep = 't_sales';
-- a rep releases its own claims; only a manager (admin) reassigns one
SELECT lead_id, released_by FROM lead_scoring.release_claim(103, 'no budget this year');
SELECT * FROM lead_scoring.reassign_claim(102, 't_sales', 'to myself');
INSERT INTO lead_scoring.outcomes (lead_id, outcome) VALUES (103, 'lost') ON CONFLICT (lead_id) DO UPDATE SET outcome = excluded.outcome;
UPDATE lead_scoring.grades SET min_score = 1 WHERE grade = 'D';
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points) VALUES (1, 'web', 'x', 1);
UPDATE lead_scoring.fit_rules SET points = 0;
UPDATE lead_scoring.settings SET value = 'allow' WHERE name = 'cherry_pick_policy';
INSERT INTO lead_scoring.cherry_picks (lead_id, rep, attempted_at, policy, outcome) VALUES (1, 'someone', now(), 'allow', 'claimed');
UPDATE lead_scoring.cherry_picks SET rep = 'someone else';
DELETE FROM lead_scoring.cherry_picks;
DELETE FROM lead_scoring.claims;
UPDATE lead_scoring.lead_scores SET fit_tests = '{}';
SELECT * FROM lead_scoring.rescore();
CALL lead_scoring.restamp();
SELECT lead_scoring.hand_off(NULL, 'forged');
SELECT * FROM lead_scoring.activate_model('live');
RESET ROLE;

-- Marketing tunes the model, thresholds and settings; the audit stays out of reach.
SET ROLE t_marketing;
UPDATE lead_scoring.grades SET description = 'tuned by marketing' WHERE grade = 'D';
UPDATE lead_scoring.settings SET value = 'warn' WHERE name = 'cherry_pick_policy';
UPDATE lead_scoring.settings SET value = NULL WHERE name = 'cherry_pick_policy';
SELECT * FROM lead_scoring.rescore();
CALL lead_scoring.restamp();
SELECT lead_scoring.find_bogus_leads() >= 0 AS can_find_bogus_leads;
DELETE FROM lead_scoring.cherry_picks;
TRUNCATE lead_scoring.cherry_picks;
SELECT * FROM lead_scoring.claim_lead(101);
RESET ROLE;

-- A hostile search_path with a same-named function in public hijacks nothing,
-- neither for the invoker's functions nor for those running as the owner.
CREATE FUNCTION public.split_part(text, text, integer) RETURNS text LANGUAGE sql AS $$SELECT 'evil.example'$$;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql AS $$SELECT '1999-01-01'::timestamptz$$;
GRANT EXECUTE ON FUNCTION public.split_part(text, text, integer), public.now() TO PUBLIC;
SET ROLE t_sales;
SET search_path = public, pg_catalog;
SELECT lead_id, claimed_at > '2000-01-01' AS real_clock, grade IS NOT NULL AS graded
  FROM lead_scoring.claim_lead(101, 'hostile path');
RESET search_path;
RESET ROLE;
SET ROLE t_marketing;
SET search_path = public, pg_catalog;
INSERT INTO lead_scoring.leads (lead_id, email) VALUES (301, 'x@mailinator.com');
SELECT lead_id, reason FROM lead_scoring.suppressed_leads WHERE lead_id = 301;
RESET search_path;
RESET ROLE;
DROP FUNCTION public.split_part(text, text, integer);
DROP FUNCTION public.now();

-- the admin assigns 103 to t_sales, and the claim says who assigned it
SET ROLE t_admin;
SELECT lead_id, rep, assigned_by, reason FROM lead_scoring.reassign_claim(103, 't_sales', 'back on the list');
SELECT lead_id, rep, assigned_by, released_by, release_reason FROM lead_scoring.claims WHERE lead_id = 103 ORDER BY claim_id DESC LIMIT 2;
RESET ROLE;

DROP OWNED BY t_bi, t_sales, t_marketing, t_admin;
DROP ROLE t_bi, t_sales, t_marketing, t_admin;
DROP OWNED BY lead_scoring_bi, lead_scoring_sales, lead_scoring_marketing, lead_scoring_admin;
DROP ROLE lead_scoring_bi, lead_scoring_sales, lead_scoring_marketing, lead_scoring_admin;
