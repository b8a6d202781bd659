-- The handoff loop: lifecycle stages kept as history, accept and reject,
-- recycling, follow-up SLAs, the demand waterfall, and rejections as a
-- measure of the model. Points here never fade, so that scores as of now()
-- do not depend on the day the suite runs.
\set SHOW_CONTEXT never
CREATE DATABASE lead_scoring_loop TEMPLATE template0;
\c lead_scoring_loop
\i sql/include/create_extension.sql
SET timezone = 'UTC';
SET client_min_messages = warning;
SELECT lead_scoring.create_roles();
RESET client_min_messages;
CREATE ROLE loop_ann IN ROLE lead_scoring_sales;
CREATE ROLE loop_bob IN ROLE lead_scoring_sales;
CREATE ROLE loop_manager IN ROLE lead_scoring_admin;

-- pricing page 30, webinar 20, demo request 40, a VP 20; A from 70 (answer
-- within 1 hour), B from 50 (answer within a microsecond: due by the next
-- statement), both sales-ready; C below.
INSERT INTO lead_scoring.models (name, is_active) VALUES ('m', true);
INSERT INTO lead_scoring.components (model_id, component, dimension)
SELECT model_id, c, d::lead_scoring.score_dimension FROM lead_scoring.models,
       (VALUES ('web', 'engagement'), ('title', 'fit')) v(c, d);
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points, description)
SELECT model_id, 'web', t, p, t || ' visit' FROM lead_scoring.models,
       (VALUES ('pricing', 30), ('webinar', 20), ('demo_request', 40)) v(t, p);
INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, value, points, description)
SELECT model_id, 'title', 'title', 'equals', '"VP"', 20, 'a VP' FROM lead_scoring.models;
DELETE FROM lead_scoring.grades;
INSERT INTO lead_scoring.grades (grade, rank, min_score, sales_ready, follow_up_within)
VALUES ('A', 1, 70, true, '1 hour'), ('B', 2, 50, true, '1 microsecond'), ('C', 3, 0, false, NULL);

-- The stages and what a rep may do, as installed.
SELECT stage, waterfall_position, in_sales_queue, recycle_rule FROM lead_scoring.lifecycle_stages
 ORDER BY waterfall_position NULLS LAST, stage;
SELECT reason, recycle FROM lead_scoring.rejection_reasons ORDER BY recycle DESC, reason;

-- 1: a VP on pricing and a webinar, 70: A; 2, 3, 7: pricing and a webinar,
-- 50: B; 4: a VP with a demo request and pricing, 90: A; 5: a VP, 20: C;
-- 6: a VP on pricing and a webinar, 70: A, suppressed below.
INSERT INTO lead_scoring.leads (lead_id, email, attributes)
SELECT i, 'lead' || i || '@corp.example', CASE WHEN i IN (1, 4, 5, 6) THEN '{"title": "VP"}'::jsonb ELSE '{}' END
  FROM generate_series(1, 7) i;
INSERT INTO lead_scoring.activities (lead_id, activity_type)
VALUES (1, 'pricing'), (1, 'webinar'), (2, 'pricing'), (2, 'webinar'), (3, 'pricing'), (3, 'webinar'),
       (4, 'demo_request'), (4, 'pricing'), (6, 'pricing'), (6, 'webinar'), (7, 'pricing'), (7, 'webinar');

-- Each handoff moved its lead from inquiry to marketing_qualified, and its
-- follow-up is due at the handoff plus its grade's follow_up_within.
SELECT h.lead_id, h.grade, h.total_score, h.follow_up_due_at - h.handed_off_at AS due_within, g.stage
  FROM lead_scoring.handoffs h JOIN lead_scoring.lead_grades g USING (lead_id) ORDER BY h.lead_id;
SELECT lead_id, action, from_stage, to_stage, reason, actor = current_user AS by_the_writer,
       handoff_id = (SELECT h.handoff_id FROM lead_scoring.handoffs h WHERE h.lead_id = e.lead_id) AS of_its_handoff
  FROM lead_scoring.lifecycle_events e ORDER BY lead_id;
SELECT lead_id, stage FROM lead_scoring.sales_queue ORDER BY lead_id;

-- Accept: ann takes 1 (claimed in her name, moved to sales_accepted); bob
-- then tries to accept it, and to reject it: both refused, and recorded.
SET ROLE loop_ann;
SELECT lead_id, action, from_stage, to_stage, refused, actor FROM lead_scoring.accept_lead(1, 'called, budget confirmed');
SET ROLE loop_bob;
SELECT lead_id, action, to_stage, refused, actor FROM lead_scoring.accept_lead(1);
SELECT lead_id, action, to_stage, refused, actor FROM lead_scoring.reject_lead(1, 'not ready');
-- nor may he move it on: it is ann's
SELECT * FROM lead_scoring.advance_lead(1, 'sales_qualified');
SET ROLE loop_ann;
SELECT lead_id, action, from_stage, to_stage FROM lead_scoring.advance_lead(1, 'sales_qualified', 'demo booked');
-- a stage change that stage_transitions does not allow
SELECT * FROM lead_scoring.advance_lead(1, 'sales_accepted');
RESET ROLE;
SELECT lead_id, rep, reason, cherry_pick FROM lead_scoring.claims ORDER BY claim_id;
SELECT lead_id, stage, previous_stage, rep FROM lead_scoring.lead_stages WHERE lead_id = 1;

-- Reject: bob sends 2 back, not ready. It leaves the sales queue for nurture
-- (recycled); both of its rules carried it over 50 (50 - 30 and 50 - 20 are
-- below it). 7 works for a competitor: disqualified.
SET ROLE loop_bob;
SELECT lead_id, action, from_stage, to_stage, reason, note, carried_by, total_score, grade
  FROM lead_scoring.reject_lead(2, 'not ready', 'call again after the budget round');
SELECT lead_id, to_stage, carried_by FROM lead_scoring.reject_lead(7, 'competitor');
RESET ROLE;
SELECT lead_id, stage FROM lead_scoring.sales_queue ORDER BY lead_id;

-- The recycle rule: 2 comes back once its activities since the rejection
-- add recycle_points (set to 25 here) to what its older ones score. A
-- rescore reads the old activities again: nothing. A webinar adds 20: not
-- enough. Pricing adds 30 more: handed off again, from recycled.
-- (the settings refuse what is not a number of points, or a share)
UPDATE lead_scoring.settings SET value = 'lots' WHERE name = 'recycle_points';
UPDATE lead_scoring.settings SET value = '0' WHERE name = 'recycle_points';
UPDATE lead_scoring.settings SET value = '1.5' WHERE name = 'max_rejection_share';
UPDATE lead_scoring.settings SET value = '25' WHERE name = 'recycle_points';
SELECT leads_rescored > 0 AS rescored FROM lead_scoring.rescore();
INSERT INTO lead_scoring.activities (lead_id, activity_type) VALUES (2, 'webinar');
SELECT lead_id, round(total_score::numeric, 1) AS total, grade, stage FROM lead_scoring.lead_grades WHERE lead_id = 2;
SELECT count(*) AS handoffs_of_2 FROM lead_scoring.handoffs WHERE lead_id = 2;
INSERT INTO lead_scoring.activities (lead_id, activity_type) VALUES (2, 'pricing');
SELECT lead_id, cause, grade, total_score FROM lead_scoring.handoffs WHERE lead_id = 2 ORDER BY handoff_id;
SELECT lead_id, action, from_stage, to_stage FROM lead_scoring.lifecycle_events WHERE lead_id = 2 ORDER BY event_id;
-- a disqualified lead is not handed off again, whatever it does
INSERT INTO lead_scoring.activities (lead_id, activity_type) VALUES (7, 'demo_request');
SELECT lead_id, round(total_score::numeric, 1) AS total, grade, stage FROM lead_scoring.lead_grades WHERE lead_id = 7;
SELECT count(*) AS handoffs_of_7 FROM lead_scoring.handoffs WHERE lead_id = 7;
-- a sales signal in recycle_activity_types brings a recycled lead back at once
UPDATE lead_scoring.settings SET value = 'demo_request' WHERE name = 'recycle_activity_types';
SET ROLE loop_bob;
SELECT lead_id, to_stage FROM lead_scoring.reject_lead(2, 'no response');
RESET ROLE;
INSERT INTO lead_scoring.activities (lead_id, activity_type) VALUES (2, 'demo_request');
SELECT count(*) AS handoffs_of_2, (SELECT stage FROM lead_scoring.lead_stages WHERE lead_id = 2)
  FROM lead_scoring.handoffs WHERE lead_id = 2;

-- Bad inputs: clear errors, nothing changed.
SET ROLE loop_ann;
SELECT * FROM lead_scoring.reject_lead(4, 'too pricey');
SELECT * FROM lead_scoring.reject_lead(5, 'not ready');
SELECT * FROM lead_scoring.accept_lead(5);
SELECT * FROM lead_scoring.accept_lead(99);
SELECT * FROM lead_scoring.advance_lead(4, 'won');
RESET ROLE;
SELECT lead_scoring.suppress_lead(6, 'bounced') IS NOT NULL AS suppressed;
SET ROLE loop_ann;
SELECT * FROM lead_scoring.accept_lead(6);
-- and what a rep may not do at all
SELECT * FROM lead_scoring.override_stage(4, 'disqualified', 'I say so');
INSERT INTO lead_scoring.lifecycle_events (lead_id, action, from_stage, to_stage) VALUES (4, 'accept', 'marketing_qualified', 'sales_accepted');
UPDATE lead_scoring.lead_stages SET stage = 'sales_accepted' WHERE lead_id = 4;
RESET ROLE;
SELECT count(*) AS events, count(*) FILTER (WHERE refused IS NOT NULL) AS refused FROM lead_scoring.lifecycle_events;
-- the history is append-only, even for a role granted to write it
CREATE ROLE loop_owner;
GRANT USAGE ON SCHEMA lead_scoring TO loop_owner;
GRANT SELECT, UPDATE, DELETE, TRUNCATE ON lead_scoring.lifecycle_events TO loop_owner;
SET ROLE loop_owner;
UPDATE lead_scoring.lifecycle_events SET actor = 'nobody' WHERE lead_id = 1;
DELETE FROM lead_scoring.lifecycle_events;
TRUNCATE lead_scoring.lifecycle_events;
RESET ROLE;
-- the built-in stages stay
DELETE FROM lead_scoring.lifecycle_stages WHERE stage = 'recycled';

-- Follow-up SLAs. 3 (B, due a microsecond after its handoff) is overdue and
-- unassigned; 4 and 6 (A, due in an hour) are open (a suppressed lead is
-- followed up or rejected like any). A manager gives 3 to bob.
SELECT lead_id, grade, status, rep, answer FROM lead_scoring.follow_ups ORDER BY handoff_id;
SELECT rep, lead_id, grade, overdue_by > interval '0' AS overdue FROM lead_scoring.overdue_follow_ups;
SET ROLE loop_manager;
SELECT lead_id, rep, assigned_by FROM lead_scoring.reassign_claim(3, 'loop_bob', 'nobody took it');
RESET ROLE;
SELECT rep, lead_id FROM lead_scoring.overdue_follow_ups;
-- his own claim would have answered it; an assignment does not
SELECT rep, sum(handoffs) AS handoffs, sum(in_time) AS in_time, sum(late) AS late, sum(overdue) AS overdue,
       sum(open) AS open
  FROM lead_scoring.follow_up_attainment GROUP BY rep ORDER BY rep NULLS FIRST;

-- A manager overrides: 7 was disqualified by mistake. Back to inquiry, it is
-- sales-ready (110): handed off at once.
SET ROLE loop_manager;
SELECT lead_id, action, from_stage, to_stage, reason, actor FROM lead_scoring.override_stage(7, 'inquiry', 'not a competitor after all');
RESET ROLE;
SELECT lead_id, cause, grade FROM lead_scoring.handoffs WHERE lead_id = 7;
SELECT stage FROM lead_scoring.lead_stages WHERE lead_id = 7;

-- Outcomes move the stage: 1 won.
SELECT lead_id, outcome FROM lead_scoring.record_outcome(1, 'won', 5000);
SELECT lead_id, action, from_stage, to_stage FROM lead_scoring.lifecycle_events WHERE lead_id = 1 AND refused IS NULL ORDER BY event_id;

-- Rejections as a measure of the model, by grade at handoff: A 6 handoffs
-- (1 accepted, 2's second rejected), B 3 (2 and 7 rejected, 3 unanswered),
-- next to claims. Pricing carried all three rejections; the webinar the
-- first two (at 2's second handoff, 100 less the webinar's 40 is still
-- sales-ready, 100 less pricing's 60 is not).
SELECT * FROM lead_scoring.rejection_rates ORDER BY grade;
SELECT * FROM lead_scoring.rejection_rules ORDER BY rejections DESC, rule;
SELECT handoffs_answered, rejection_share, handoff_verdict FROM lead_scoring.scoring_health;
UPDATE lead_scoring.settings SET value = '0.9' WHERE name = 'max_rejection_share';
SELECT handoff_verdict FROM lead_scoring.scoring_health;

-- A manager may answer for a rep: 3 is bob's (assigned), the manager accepts
-- it, and bob is the rep who works it.
SET ROLE loop_manager;
SELECT lead_id, action, to_stage, refused, actor FROM lead_scoring.accept_lead(3, 'for bob, who is away');
RESET ROLE;
SELECT lead_id, stage, rep FROM lead_scoring.lead_stages WHERE lead_id = 3;

-- The demand waterfall, from history imported with its instants (2020):
-- 20: inquiry 10 Jan, MQL 1 Feb, SAL 3 Feb, SQL 1 Mar, won 15 Apr (1,000);
-- 21: inquiry 20 Jan, MQL 10 Feb, SAL 12 Feb, lost 1 May;
-- 22: inquiry 5 Feb, MQL 15 Mar, recycled 20 Mar; 23: inquiry 1 Mar.
-- First quarter: 4 inquiries, 3 went on (0.75); 3 MQL, 2 on (0.6667); 2 SAL,
-- 1 on (0.5); 1 SQL, 1 on (won in April); each cohort holds the one win.
BEGIN;
SET ROLE loop_manager;
SELECT lead_scoring.begin_history_import(note => 'the old CRM') > 0 AS importing;
INSERT INTO lead_scoring.leads (lead_id, email, created_at) VALUES
  (20, 'a@old.example', '2020-01-10'), (21, 'b@old.example', '2020-01-20'),
  (22, 'c@old.example', '2020-02-05'), (23, 'd@old.example', '2020-03-01');
SELECT count(*) AS imported FROM (VALUES
  (20, 'marketing_qualified', '2020-02-01'), (20, 'sales_accepted', '2020-02-03'), (20, 'sales_qualified', '2020-03-01'),
  (21, 'marketing_qualified', '2020-02-10'), (21, 'sales_accepted', '2020-02-12'),
  (22, 'marketing_qualified', '2020-03-15'), (22, 'recycled', '2020-03-20')) v(l, s, t)
 CROSS JOIN LATERAL lead_scoring.import_stage_change(v.l, v.s, v.t::timestamptz, 'old_crm') e;
SELECT lead_id FROM lead_scoring.record_outcome(20, 'won', 1000, closed_at => '2020-04-15');
SELECT lead_id FROM lead_scoring.record_outcome(21, 'lost', closed_at => '2020-05-01');
RESET ROLE;
COMMIT;
SELECT period, period_start::date, stage, entered, went_on, conversion_rate, won, won_revenue
  FROM lead_scoring.demand_waterfall
 WHERE period IN ('quarter', 'month') AND period_start < '2021-01-01'
 ORDER BY period DESC, period_start, waterfall_position;
SELECT lead_id, stage, previous_stage FROM lead_scoring.lead_stages WHERE lead_id >= 20 ORDER BY lead_id;
-- outside an import, history is refused
SELECT * FROM lead_scoring.import_stage_change(23, 'won', '2020-06-01');

\c contrib_regression
DROP DATABASE lead_scoring_loop;
DROP ROLE loop_ann, loop_bob, loop_manager, loop_owner;
DROP ROLE lead_scoring_bi, lead_scoring_sales, lead_scoring_marketing, lead_scoring_admin;
