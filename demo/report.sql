-- The demo report: the graded funnel, the best leads and why they score what
-- they do, activity types no rule scores, and a what-if on the thresholds.
-- A psql script: run with psql -X -q -v ON_ERROR_STOP=1 -f demo/report.sql.

\pset footer off
\pset null ''
\pset border 1
\pset linestyle unicode
\pset format aligned
\pset tuples_only off

-- The funnel as a bar chart: one line per grade, the bar scaled to the largest grade.
CREATE TEMP VIEW funnel_chart AS
SELECT rank,
       rtrim(format('  %s  %s %s  %s  %s  %s',
              rpad(grade, 2),
              rpad(CASE WHEN below_score IS NULL THEN 'score >= ' || min_score
                        WHEN rank = max(rank) OVER () THEN 'score <  ' || below_score
                        ELSE 'score ' || min_score || '-' || below_score END, 15),
              lpad(leads::text, 6),
              lpad(to_char(100 * share, 'FM990.0') || '%', 6),
              rpad(repeat('█', CASE WHEN leads = 0 THEN 0
                                    ELSE greatest(1, round(50.0 * leads / max(leads) OVER ())::int) END), 50),
              CASE WHEN sales_ready THEN 'sales-ready' ELSE '' END)) AS line
  FROM lead_scoring.funnel;

\echo
\echo '══════════════════════════════════════════════════════════════════════════════════'
\echo '  lead_scoring demo: fit + engagement scores, graded live inside PostgreSQL'
\echo '══════════════════════════════════════════════════════════════════════════════════'
\pset tuples_only on
\pset format unaligned
SELECT format('  model %L: %s components, %s activity rules, %s fit rules',
              m.name,
              (SELECT count(*) FROM lead_scoring.components c WHERE c.model_id = m.model_id),
              (SELECT count(*) FROM lead_scoring.activity_rules r WHERE r.model_id = m.model_id),
              (SELECT count(*) FROM lead_scoring.fit_rules r WHERE r.model_id = m.model_id))
  FROM lead_scoring.models m WHERE m.is_active;
SELECT format('  %s leads, %s activities, scored as of %s',
              (SELECT count(*) FROM lead_scoring.leads),
              (SELECT count(*) FROM lead_scoring.activities),
              to_char(now(), 'YYYY-MM-DD HH24:MI TZ'));

\echo
\echo '── The graded funnel (lead_scoring.funnel) ───────────────────────────────────────'
\echo
SELECT line FROM funnel_chart ORDER BY rank;
SELECT format('  %s sales-ready leads; %s junk leads suppressed as they arrived (not in the funnel)',
              (SELECT count(*) FROM lead_scoring.lead_grades WHERE sales_ready AND NOT suppressed),
              (SELECT count(*) FROM lead_scoring.suppressed_leads));

\echo
\echo '── Top 10 leads (lead_scoring.lead_grades) ───────────────────────────────────────'
\echo
\pset tuples_only off
\pset format aligned
SELECT row_number() OVER (ORDER BY g.total_score DESC, g.lead_id) AS "#",
       l.first_name || ' ' || l.last_name AS lead,
       g.email, g.company,
       l.attributes ->> 'title' AS title,
       round(g.fit_score::numeric, 1) AS fit,
       round(g.engagement_score::numeric, 1) AS engagement,
       round(g.total_score::numeric, 1) AS total,
       g.grade,
       to_char(g.last_activity_at, 'YYYY-MM-DD') AS last_active
  FROM lead_scoring.lead_grades g JOIN lead_scoring.leads l USING (lead_id)
 ORDER BY g.total_score DESC, g.lead_id
 LIMIT 10;

\echo '── Why the top 3 score what they do (lead_scoring.score_breakdown) ───────────────'
\echo '   points before caps: after decay; points: after the rule and component caps'
\echo
WITH top AS (
  SELECT g.lead_id, g.total_score, row_number() OVER (ORDER BY g.total_score DESC, g.lead_id) AS pos
    FROM lead_scoring.lead_grades g
   ORDER BY g.total_score DESC, g.lead_id
   LIMIT 3
), lines AS (
  SELECT t.pos, 0 AS part, b.dimension::text AS dimension, b.component, b.rule,
         b.activities, b.points_before_caps, b.points
    FROM top t JOIN lead_scoring.score_breakdown b USING (lead_id)
  UNION ALL
  SELECT t.pos, 1, 'total', NULL, NULL, NULL, NULL, t.total_score
    FROM top t
)
SELECT CASE WHEN row_number() OVER (PARTITION BY k.pos ORDER BY k.part, k.dimension DESC, k.points DESC, k.rule) = 1
            THEN format('#%s %s %s', k.pos, l.first_name, l.last_name) ELSE '' END AS lead,
       k.dimension, k.component, k.rule, k.activities,
       round(k.points_before_caps::numeric, 1) AS "points before caps",
       round(k.points::numeric, 1) AS points
  FROM lines k
  JOIN top t USING (pos)
  JOIN lead_scoring.leads l USING (lead_id)
 ORDER BY k.pos, k.part, k.dimension DESC, k.points DESC, k.rule;

\echo '── Activities no rule scores (lead_scoring.unscored_activity_types) ──────────────'
\echo '   candidates for new rules, or typos in a tracking integration'
\echo
SELECT activity_type, has_rules, activities, leads,
       to_char(first_seen, 'YYYY-MM-DD') AS first_seen, to_char(last_seen, 'YYYY-MM-DD') AS last_seen
  FROM lead_scoring.unscored_activity_types;

\echo '── Suppressed leads (lead_scoring.suppressed_leads) ──────────────────────────────'
\echo '   kept with all their data, out of the funnel and the sales queue, never handed off'
\echo
SELECT kind, count(*) AS leads, min(reason) AS for_example
  FROM lead_scoring.suppressed_leads GROUP BY kind ORDER BY count(*) DESC;

\echo '── The sales queue: unclaimed sales-ready leads (lead_scoring.sales_queue) ───────'
\echo
SELECT lead_id AS lead, company, grade, round(total_score::numeric, 1) AS total, top_reasons
  FROM lead_scoring.sales_queue WHERE sales_ready AND claimed_by IS NULL LIMIT 5;

\echo '── Handoffs and cherry-picks ─────────────────────────────────────────────────────'
\echo
\pset tuples_only on
SELECT format('  %s leads handed off to sales (lead_scoring.handoffs; each also sent with NOTIFY on lead_scoring_handoff)',
              count(*)) FROM lead_scoring.handoffs;
\pset tuples_only off
\echo
SELECT rep, claims, cherry_picks, cherry_pick_share FROM lead_scoring.cherry_pick_rates ORDER BY rep;
SELECT sales_ready_closed, sales_ready_win_rate, cherry_picked_closed, cherry_picked_win_rate
  FROM lead_scoring.scoring_health;
SELECT '  ' || verdict AS "scoring health" FROM lead_scoring.scoring_health;

\echo '── The handoff loop: stages, answers, follow-up SLAs, the demand waterfall ───────'
\echo
SELECT g.stage, count(*) AS leads
  FROM lead_scoring.lead_grades g JOIN lead_scoring.lifecycle_stages s USING (stage)
 GROUP BY g.stage, s.waterfall_position ORDER BY s.waterfall_position NULLS LAST, g.stage;
\echo '   a lead ben sent back, which earned its way back (lead_scoring.lifecycle_events):'
\echo
SELECT e.lead_id AS lead, e.action, e.from_stage, e.to_stage, e.actor, e.reason, e.grade,
       round(e.total_score::numeric, 1) AS total
  FROM lead_scoring.lifecycle_events e
 WHERE e.lead_id = (SELECT h.lead_id FROM lead_scoring.handoffs h GROUP BY h.lead_id HAVING count(*) > 1
                     ORDER BY h.lead_id LIMIT 1)
 ORDER BY e.event_id;
\echo '   follow-up SLA (A: within a day) per rep (lead_scoring.follow_up_attainment):'
\echo
SELECT coalesce(rep, '(nobody yet)') AS rep, handoffs, in_time, late, overdue, open, attainment
  FROM lead_scoring.follow_up_attainment ORDER BY rep NULLS LAST;
\pset tuples_only on
SELECT format('  %s handed-off leads past due (lead_scoring.overdue_follow_ups); the first of the open ones is due %s',
              (SELECT count(*) FROM lead_scoring.overdue_follow_ups),
              (SELECT 'in ' || to_char(min(follow_up_due_at) - now(), 'HH24 "h" MI "min"')
                 FROM lead_scoring.follow_ups WHERE status = 'open'));
\pset tuples_only off
\echo
\echo '   rejections (false positives) next to cherry-picks (false negatives), by grade:'
\echo
SELECT grade, handoffs, accepted, rejected, rejection_rate, claims, cherry_picks, cherry_pick_share
  FROM lead_scoring.rejection_rates ORDER BY grade;
SELECT '  ' || handoff_verdict AS "handoff health" FROM lead_scoring.scoring_health;
\echo
\echo '   the demand waterfall by quarter (lead_scoring.demand_waterfall):'
\echo
SELECT to_char(period_start, 'YYYY "Q"Q') AS quarter, stage, grade_at_handoff AS grade, entered, went_on,
       conversion_rate, won, won_revenue
  FROM lead_scoring.demand_waterfall WHERE period = 'quarter'
 ORDER BY period_start, waterfall_position, grade_at_handoff NULLS FIRST;

\echo '── Opening the funnel: what if A started at 60 instead of 70? ────────────────────'
\echo '   BEGIN; UPDATE lead_scoring.grades SET min_score = 60 WHERE grade = ''A'';'
\echo '   (no refresh step: the very next query grades every lead with the new threshold)'
\echo
\pset tuples_only on
\pset format unaligned
SELECT count(*) AS ready_before FROM lead_scoring.lead_grades WHERE sales_ready \gset
BEGIN;
UPDATE lead_scoring.grades SET min_score = 60 WHERE grade = 'A';
SELECT line FROM funnel_chart ORDER BY rank;
SELECT format('  sales-ready leads: %s -> %s (%s more for sales to call)',
              :ready_before, count(*), count(*) - :ready_before)
  FROM lead_scoring.lead_grades WHERE sales_ready;
ROLLBACK;
\echo
\echo '   ROLLBACK; the thresholds are back:'
SELECT format('  A starts at %s again: %s sales-ready leads', min_score,
              (SELECT count(*) FROM lead_scoring.lead_grades WHERE sales_ready))
  FROM lead_scoring.grades WHERE grade = 'A';
\echo

DROP VIEW funnel_chart;
