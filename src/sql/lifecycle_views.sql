-- Views of the handoff loop: follow-up SLAs, the demand waterfall, and
-- rejections as a measure of the model.

-- How sales answered each handoff: the first accept or reject of its cycle,
-- or the first claim the rep made (or held) from the handoff until the next.
CREATE VIEW lead_scoring.follow_ups AS
SELECT h.handoff_id, h.lead_id, h.grade, h.model_name AS model, h.handed_off_at, h.follow_up_due_at,
       a.answered_at, a.answer, coalesce(a.rep, assigned.rep) AS rep,
       CASE WHEN a.answered_at IS NOT NULL AND h.follow_up_due_at IS NULL THEN 'answered'
            WHEN a.answered_at <= h.follow_up_due_at THEN 'in time'
            WHEN a.answered_at IS NOT NULL THEN 'late'
            WHEN n.next_handoff_at IS NOT NULL THEN 'superseded'
            WHEN h.follow_up_due_at IS NULL THEN 'no SLA'
            WHEN now() > h.follow_up_due_at THEN 'overdue'
            ELSE 'open' END AS status
  FROM lead_scoring.handoffs h
 CROSS JOIN LATERAL (SELECT min(h2.handed_off_at) AS next_handoff_at FROM lead_scoring.handoffs h2
                      WHERE h2.lead_id = h.lead_id AND h2.handed_off_at > h.handed_off_at) n
  LEFT JOIN LATERAL (
    SELECT x.answered_at, x.answer, x.rep FROM (
      SELECT e.occurred_at AS answered_at, e.action AS answer, e.actor AS rep
        FROM lead_scoring.lifecycle_events e
       WHERE e.handoff_id = h.handoff_id AND e.action IN ('accept', 'reject') AND e.refused IS NULL
      UNION ALL
      SELECT greatest(c.claimed_at, h.handed_off_at), 'claim', c.rep
        FROM lead_scoring.claims c
       WHERE c.lead_id = h.lead_id AND c.assigned_by IS NULL
         AND c.claimed_at < coalesce(n.next_handoff_at, 'infinity')
         AND coalesce(c.released_at, 'infinity') > h.handed_off_at) x
     ORDER BY x.answered_at LIMIT 1) a ON true
  -- the rep a manager gave the lead to answers for it
  LEFT JOIN LATERAL (
    SELECT c.rep FROM lead_scoring.claims c
     WHERE c.lead_id = h.lead_id AND c.assigned_by IS NOT NULL
       AND coalesce(c.released_at, 'infinity') > h.handed_off_at
     ORDER BY c.claimed_at DESC LIMIT 1) assigned ON true;
COMMENT ON VIEW lead_scoring.follow_ups IS 'Each handoff and how sales answered it against its follow-up SLA (the grade''s follow_up_within): accepted, rejected or claimed in time, late, overdue, still open, or superseded by a later handoff of the lead';
COMMENT ON COLUMN lead_scoring.follow_ups.handoff_id IS 'Handoff';
COMMENT ON COLUMN lead_scoring.follow_ups.lead_id IS 'Lead';
COMMENT ON COLUMN lead_scoring.follow_ups.grade IS 'Grade at handoff';
COMMENT ON COLUMN lead_scoring.follow_ups.model IS 'Model at handoff';
COMMENT ON COLUMN lead_scoring.follow_ups.handed_off_at IS 'When handed off';
COMMENT ON COLUMN lead_scoring.follow_ups.follow_up_due_at IS 'When an answer was due (empty: no SLA for the grade)';
COMMENT ON COLUMN lead_scoring.follow_ups.answered_at IS 'First answer: accept, reject, or the rep''s own claim (one held at the handoff counts from it)';
COMMENT ON COLUMN lead_scoring.follow_ups.answer IS 'accept, reject or claim';
COMMENT ON COLUMN lead_scoring.follow_ups.rep IS 'The rep who answered, or else the one a manager assigned the lead to (empty: nobody)';
COMMENT ON COLUMN lead_scoring.follow_ups.status IS 'in time, late, overdue (due and unanswered), open (unanswered, not due yet), superseded (handed off again before an answer), answered or no SLA (grade without follow_up_within)';

CREATE VIEW lead_scoring.overdue_follow_ups AS
SELECT f.rep, f.lead_id, l.email, l.company, f.grade, f.handed_off_at, f.follow_up_due_at,
       now() - f.follow_up_due_at AS overdue_by
  FROM lead_scoring.follow_ups f
  LEFT JOIN lead_scoring.leads l ON l.lead_id = f.lead_id
 WHERE f.status = 'overdue'
 ORDER BY f.rep NULLS FIRST, f.follow_up_due_at, f.lead_id;
COMMENT ON VIEW lead_scoring.overdue_follow_ups IS 'Handed-off leads past their follow-up SLA that nobody accepted, rejected or claimed, per rep assigned (empty: unassigned), most overdue first';
COMMENT ON COLUMN lead_scoring.overdue_follow_ups.rep IS 'Rep a manager assigned the lead to (empty: unassigned)';
COMMENT ON COLUMN lead_scoring.overdue_follow_ups.lead_id IS 'Lead';
COMMENT ON COLUMN lead_scoring.overdue_follow_ups.email IS 'Email';
COMMENT ON COLUMN lead_scoring.overdue_follow_ups.company IS 'Company';
COMMENT ON COLUMN lead_scoring.overdue_follow_ups.grade IS 'Grade at handoff';
COMMENT ON COLUMN lead_scoring.overdue_follow_ups.handed_off_at IS 'When handed off';
COMMENT ON COLUMN lead_scoring.overdue_follow_ups.follow_up_due_at IS 'When an answer was due';
COMMENT ON COLUMN lead_scoring.overdue_follow_ups.overdue_by IS 'How long past due, now';

CREATE VIEW lead_scoring.follow_up_attainment AS
SELECT f.rep, date_trunc('week', f.handed_off_at) AS week,
       count(*) FILTER (WHERE f.status IN ('in time', 'late', 'overdue', 'open')) AS handoffs,
       count(*) FILTER (WHERE f.status = 'in time') AS in_time,
       count(*) FILTER (WHERE f.status = 'late') AS late,
       count(*) FILTER (WHERE f.status = 'overdue') AS overdue,
       count(*) FILTER (WHERE f.status = 'open') AS open,
       round(count(*) FILTER (WHERE f.status = 'in time')::numeric
             / nullif(count(*) FILTER (WHERE f.status IN ('in time', 'late', 'overdue')), 0), 4) AS attainment
  FROM lead_scoring.follow_ups f
 WHERE f.follow_up_due_at IS NOT NULL
 GROUP BY f.rep, date_trunc('week', f.handed_off_at);
COMMENT ON VIEW lead_scoring.follow_up_attainment IS 'Follow-up SLA attainment per rep and week of handoff: handoffs answered in time, late, overdue or still open, and the share answered in time of those due';
COMMENT ON COLUMN lead_scoring.follow_up_attainment.rep IS 'The rep who answered, or was assigned (empty: nobody)';
COMMENT ON COLUMN lead_scoring.follow_up_attainment.week IS 'Week of the handoff (starting Monday)';
COMMENT ON COLUMN lead_scoring.follow_up_attainment.handoffs IS 'Handoffs with an SLA (superseded ones left out)';
COMMENT ON COLUMN lead_scoring.follow_up_attainment.in_time IS 'Answered by their due time';
COMMENT ON COLUMN lead_scoring.follow_up_attainment.late IS 'Answered after it';
COMMENT ON COLUMN lead_scoring.follow_up_attainment.overdue IS 'Past due, unanswered';
COMMENT ON COLUMN lead_scoring.follow_up_attainment.open IS 'Not due yet, unanswered';
COMMENT ON COLUMN lead_scoring.follow_up_attainment.attainment IS 'in_time / (in_time + late + overdue), 0 to 1';

-- Each entry of a lead into a waterfall stage: as an inquiry when created,
-- then every stage change (live or imported) into a waterfall stage.
CREATE VIEW lead_scoring.demand_waterfall AS
WITH entries AS (
  SELECT l.lead_id, 'inquiry'::text AS stage, l.created_at AS entered_at, NULL::bigint AS handoff_id
    FROM lead_scoring.leads l
  UNION ALL
  SELECT e.lead_id, e.to_stage, e.occurred_at, e.handoff_id
    FROM lead_scoring.lifecycle_events e
   WHERE e.refused IS NULL AND e.to_stage <> e.from_stage),
staged AS (
  SELECT n.lead_id, n.stage, s.waterfall_position, n.entered_at, h.model_name AS model, h.grade
    FROM entries n
    JOIN lead_scoring.lifecycle_stages s ON s.stage = n.stage AND s.waterfall_position IS NOT NULL
    LEFT JOIN lead_scoring.handoffs h ON h.handoff_id = n.handoff_id),
cohorts AS (
  SELECT p.period, date_trunc(p.period, x.entered_at) AS period_start, x.stage, x.waterfall_position,
         x.model, x.grade, x.lead_id,
         bool_or(EXISTS (SELECT FROM staged y
                          WHERE y.lead_id = x.lead_id AND y.waterfall_position > x.waterfall_position
                            AND y.entered_at >= x.entered_at)) AS went_on
    FROM staged x
   CROSS JOIN (VALUES ('week'), ('month'), ('quarter')) p(period)
   GROUP BY 1, 2, 3, 4, 5, 6, 7)
SELECT c.period, c.period_start, c.stage, c.waterfall_position, c.model AS model_at_handoff,
       c.grade AS grade_at_handoff, count(*) AS entered,
       CASE WHEN c.waterfall_position < (SELECT max(s.waterfall_position) FROM lead_scoring.lifecycle_stages s)
            THEN count(*) FILTER (WHERE c.went_on) END AS went_on,
       CASE WHEN c.waterfall_position < (SELECT max(s.waterfall_position) FROM lead_scoring.lifecycle_stages s)
            THEN round(count(*) FILTER (WHERE c.went_on)::numeric / count(*), 4) END AS conversion_rate,
       count(o.lead_id) AS won,
       coalesce(sum(o.amount), 0) AS won_revenue
  FROM cohorts c
  LEFT JOIN lead_scoring.outcomes o ON o.lead_id = c.lead_id AND o.outcome = 'won'
 GROUP BY c.period, c.period_start, c.stage, c.waterfall_position, c.model, c.grade;
COMMENT ON VIEW lead_scoring.demand_waterfall IS 'The demand waterfall per week, month and quarter: the leads entering each waterfall stage (inquiry when created, then each stage change, live or imported), how many of them went on to a later stage, and the wins and revenue among them, by model and grade at handoff';
COMMENT ON COLUMN lead_scoring.demand_waterfall.period IS 'week, month or quarter';
COMMENT ON COLUMN lead_scoring.demand_waterfall.period_start IS 'Start of the period the leads entered the stage in';
COMMENT ON COLUMN lead_scoring.demand_waterfall.stage IS 'Waterfall stage';
COMMENT ON COLUMN lead_scoring.demand_waterfall.waterfall_position IS 'Its place in the waterfall';
COMMENT ON COLUMN lead_scoring.demand_waterfall.model_at_handoff IS 'Model of the handoff of the lead''s cycle (empty for inquiries and imported history)';
COMMENT ON COLUMN lead_scoring.demand_waterfall.grade_at_handoff IS 'Grade at that handoff (empty for inquiries and imported history)';
COMMENT ON COLUMN lead_scoring.demand_waterfall.entered IS 'Leads that entered the stage in the period';
COMMENT ON COLUMN lead_scoring.demand_waterfall.went_on IS 'Of them, those that entered a later waterfall stage afterwards (so far; empty for the last stage)';
COMMENT ON COLUMN lead_scoring.demand_waterfall.conversion_rate IS 'went_on / entered, 0 to 1: the conversion from this stage to the next';
COMMENT ON COLUMN lead_scoring.demand_waterfall.won IS 'Of them, those won (lead_scoring.outcomes)';
COMMENT ON COLUMN lead_scoring.demand_waterfall.won_revenue IS 'The revenue of those wins';

-- Rejections are the model's false positives, cherry-picks its false
-- negatives: both by grade.
CREATE VIEW lead_scoring.rejection_rates AS
WITH answered AS (
  SELECT f.model, f.grade,
         count(*) AS handoffs,
         count(*) FILTER (WHERE f.answer = 'accept') AS accepted,
         count(*) FILTER (WHERE f.answer = 'reject') AS rejected
    FROM lead_scoring.follow_ups f GROUP BY f.model, f.grade),
picked AS (
  SELECT c.model_name AS model, c.grade, count(*) AS claims, count(*) FILTER (WHERE c.cherry_pick) AS cherry_picks
    FROM lead_scoring.claims c GROUP BY c.model_name, c.grade)
SELECT coalesce(a.model, p.model) AS model, coalesce(a.grade, p.grade) AS grade,
       coalesce(a.handoffs, 0) AS handoffs, coalesce(a.accepted, 0) AS accepted, coalesce(a.rejected, 0) AS rejected,
       round(a.rejected::numeric / nullif(a.accepted + a.rejected, 0), 4) AS rejection_rate,
       coalesce(p.claims, 0) AS claims, coalesce(p.cherry_picks, 0) AS cherry_picks,
       round(p.cherry_picks::numeric / nullif(p.claims, 0), 4) AS cherry_pick_share
  FROM answered a
  FULL JOIN picked p ON coalesce(p.model, '') = coalesce(a.model, '') AND coalesce(p.grade, '') = coalesce(a.grade, '');
COMMENT ON VIEW lead_scoring.rejection_rates IS 'Per model and grade: handoffs, how many sales accepted and rejected (rejections are the model''s false positives), next to claims and cherry-picks of that grade (its false negatives)';
COMMENT ON COLUMN lead_scoring.rejection_rates.model IS 'Model at handoff or claim';
COMMENT ON COLUMN lead_scoring.rejection_rates.grade IS 'Grade at handoff or claim';
COMMENT ON COLUMN lead_scoring.rejection_rates.handoffs IS 'Handoffs of the grade';
COMMENT ON COLUMN lead_scoring.rejection_rates.accepted IS 'Of them, accepted by sales first';
COMMENT ON COLUMN lead_scoring.rejection_rates.rejected IS 'Of them, rejected by sales first';
COMMENT ON COLUMN lead_scoring.rejection_rates.rejection_rate IS 'rejected / (accepted + rejected), 0 to 1';
COMMENT ON COLUMN lead_scoring.rejection_rates.claims IS 'Claims of leads of the grade';
COMMENT ON COLUMN lead_scoring.rejection_rates.cherry_picks IS 'Of them, cherry-picks (below the sales-ready grade)';
COMMENT ON COLUMN lead_scoring.rejection_rates.cherry_pick_share IS 'cherry_picks / claims, 0 to 1';

CREATE VIEW lead_scoring.rejection_rules AS
SELECT r.rule, count(*) AS rejections, count(DISTINCT e.lead_id) AS leads,
       round(count(*)::numeric / (SELECT count(*) FROM lead_scoring.lifecycle_events t
                                   WHERE t.action = 'reject' AND t.refused IS NULL), 4) AS share_of_rejections,
       string_agg(DISTINCT e.reason, ', ' ORDER BY e.reason) AS reasons
  FROM lead_scoring.lifecycle_events e
 CROSS JOIN LATERAL unnest(e.carried_by) r(rule)
 WHERE e.action = 'reject' AND e.refused IS NULL
 GROUP BY r.rule;
COMMENT ON VIEW lead_scoring.rejection_rules IS 'The rules that most often carried leads sales rejected over the sales-ready threshold (without any one of them the lead would not have been sales-ready at its handoff): the points to question first';
COMMENT ON COLUMN lead_scoring.rejection_rules.rule IS 'Rule (its description, or activity type or attribute)';
COMMENT ON COLUMN lead_scoring.rejection_rules.rejections IS 'Rejections it carried';
COMMENT ON COLUMN lead_scoring.rejection_rules.leads IS 'Distinct leads';
COMMENT ON COLUMN lead_scoring.rejection_rules.share_of_rejections IS 'Share of all rejections, 0 to 1';
COMMENT ON COLUMN lead_scoring.rejection_rules.reasons IS 'The reasons sales gave';
