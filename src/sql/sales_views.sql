-- Views for sales and marketing: the queue, cherry-pick and handoff rates,
-- scoring health.

CREATE VIEW lead_scoring.sales_queue AS
SELECT g.lead_id, g.email, g.company, g.grade, g.sales_ready,
       g.fit_score, g.engagement_score, g.total_score,
       r.top_reasons, c.rep AS claimed_by, c.claimed_at, g.last_activity_at, g.stage
  FROM lead_scoring.lead_grades g
  LEFT JOIN LATERAL (
    SELECT string_agg(format('%s (%s)', b.rule, round(b.points::numeric, 1)), ', ' ORDER BY b.points DESC) AS top_reasons
      FROM (SELECT rule, points FROM lead_scoring.score_breakdown sb
             WHERE sb.lead_id = g.lead_id AND sb.points > 0
             ORDER BY sb.points DESC LIMIT 3) b) r ON true
  LEFT JOIN LATERAL (
    SELECT cl.rep, cl.claimed_at FROM lead_scoring.claims cl
     WHERE cl.lead_id = g.lead_id AND cl.released_at IS NULL) c ON true
 WHERE NOT g.suppressed
   -- the few leads in a stage out of the queue, found by the index on stage:
   -- a query that shows no stage reads no other row of lead_stages
   AND NOT EXISTS (SELECT FROM lead_scoring.lead_stages st
                    WHERE st.lead_id = g.lead_id
                      AND st.stage = ANY (ARRAY(SELECT ls.stage FROM lead_scoring.lifecycle_stages ls
                                                 WHERE NOT ls.in_sales_queue)))
 ORDER BY g.total_score DESC, g.lead_id;
COMMENT ON VIEW lead_scoring.sales_queue IS 'Every lead that is not suppressed and whose stage is in the sales queue (not recycled, lost, disqualified or won), best first, with why and who claimed it; filter by grade or sales_ready to taste';
COMMENT ON COLUMN lead_scoring.sales_queue.lead_id IS 'Lead';
COMMENT ON COLUMN lead_scoring.sales_queue.email IS 'Email';
COMMENT ON COLUMN lead_scoring.sales_queue.company IS 'Company';
COMMENT ON COLUMN lead_scoring.sales_queue.grade IS 'Grade now';
COMMENT ON COLUMN lead_scoring.sales_queue.sales_ready IS 'Whether the grade is sales-ready (claiming one that is not is a cherry-pick)';
COMMENT ON COLUMN lead_scoring.sales_queue.fit_score IS 'Fit score now';
COMMENT ON COLUMN lead_scoring.sales_queue.engagement_score IS 'Engagement score now';
COMMENT ON COLUMN lead_scoring.sales_queue.total_score IS 'Total score now';
COMMENT ON COLUMN lead_scoring.sales_queue.top_reasons IS 'The three rules that bring the most points';
COMMENT ON COLUMN lead_scoring.sales_queue.claimed_by IS 'Rep with the open claim (empty: unclaimed)';
COMMENT ON COLUMN lead_scoring.sales_queue.claimed_at IS 'When claimed';
COMMENT ON COLUMN lead_scoring.sales_queue.last_activity_at IS 'Latest scored activity';
COMMENT ON COLUMN lead_scoring.sales_queue.stage IS 'Lifecycle stage: marketing_qualified leads wait for a rep to accept or reject them';

CREATE VIEW lead_scoring.cherry_pick_rates AS
WITH attempts AS (
  SELECT rep, claimed_at AS at, cherry_pick, false AS denied FROM lead_scoring.claims
  UNION ALL
  SELECT rep, attempted_at, true, true FROM lead_scoring.cherry_picks WHERE outcome = 'denied')
SELECT rep, date_trunc('week', at) AS week,
       count(*) FILTER (WHERE NOT denied) AS claims,
       count(*) FILTER (WHERE cherry_pick) AS cherry_picks,
       count(*) FILTER (WHERE denied) AS denied,
       round(count(*) FILTER (WHERE cherry_pick)::numeric / count(*), 4) AS cherry_pick_share
  FROM attempts
 GROUP BY rep, date_trunc('week', at);
COMMENT ON VIEW lead_scoring.cherry_pick_rates IS 'Per rep and week: claims, cherry-picks (claims or attempts below the sales-ready grade) and their share';
COMMENT ON COLUMN lead_scoring.cherry_pick_rates.rep IS 'Sales rep';
COMMENT ON COLUMN lead_scoring.cherry_pick_rates.week IS 'Week (starting Monday)';
COMMENT ON COLUMN lead_scoring.cherry_pick_rates.claims IS 'Claims made';
COMMENT ON COLUMN lead_scoring.cherry_pick_rates.cherry_picks IS 'Cherry-picks, denied attempts included';
COMMENT ON COLUMN lead_scoring.cherry_pick_rates.denied IS 'Cherry-picks refused by the deny policy';
COMMENT ON COLUMN lead_scoring.cherry_pick_rates.cherry_pick_share IS 'cherry_picks / (claims + denied), 0 to 1';

CREATE VIEW lead_scoring.handoff_rates AS
SELECT date_trunc('week', handed_off_at) AS week, cause,
       count(*) AS handoffs, count(DISTINCT lead_id) AS leads,
       round(avg(total_score)::numeric, 1) AS average_score
  FROM lead_scoring.handoffs
 GROUP BY date_trunc('week', handed_off_at), cause;
COMMENT ON VIEW lead_scoring.handoff_rates IS 'Leads handed to sales per week and cause: how much marketing delivers, and what made the leads sales-ready';
COMMENT ON COLUMN lead_scoring.handoff_rates.week IS 'Week (starting Monday)';
COMMENT ON COLUMN lead_scoring.handoff_rates.cause IS 'What made the leads sales-ready: activity, fit, thresholds, model, rescore or restored';
COMMENT ON COLUMN lead_scoring.handoff_rates.handoffs IS 'Handoffs';
COMMENT ON COLUMN lead_scoring.handoff_rates.leads IS 'Distinct leads handed off';
COMMENT ON COLUMN lead_scoring.handoff_rates.average_score IS 'Their average total score when handed off';

CREATE VIEW lead_scoring.scoring_health AS
WITH first_claims AS (
  SELECT DISTINCT ON (lead_id) lead_id, cherry_pick FROM lead_scoring.claims ORDER BY lead_id, claimed_at, claim_id),
closed AS (
  SELECT c.cherry_pick, o.outcome FROM first_claims c JOIN lead_scoring.outcomes o USING (lead_id)),
rates AS (
  SELECT count(*) FILTER (WHERE NOT cherry_pick) AS ready_closed,
         count(*) FILTER (WHERE NOT cherry_pick AND outcome = 'won') AS ready_won,
         count(*) FILTER (WHERE cherry_pick) AS cherry_closed,
         count(*) FILTER (WHERE cherry_pick AND outcome = 'won') AS cherry_won
    FROM closed),
-- without claims to go by (history imported), the leads closed without
-- handoff or claim, graded by the active model at their decision
history AS (
  SELECT count(*) FILTER (WHERE g.sales_ready) AS ready_closed,
         count(*) FILTER (WHERE g.sales_ready AND d.outcome = 'won') AS ready_won,
         count(*) FILTER (WHERE NOT g.sales_ready) AS other_closed,
         count(*) FILTER (WHERE NOT g.sales_ready AND d.outcome = 'won') AS other_won
    FROM lead_scoring.lead_decisions d JOIN lead_scoring.grades g USING (grade)
   WHERE d.taken_by = 'closed' AND d.outcome IS NOT NULL),
-- the first accept or reject of each handoff
answers AS (
  SELECT DISTINCT ON (e.handoff_id) e.action
    FROM lead_scoring.lifecycle_events e
   WHERE e.action IN ('accept', 'reject') AND e.refused IS NULL AND e.handoff_id IS NOT NULL
   ORDER BY e.handoff_id, e.occurred_at, e.event_id),
sent_back AS (
  SELECT count(*) AS answered, count(*) FILTER (WHERE action = 'reject') AS rejected,
         lead_scoring.setting('max_rejection_share')::numeric AS max_share
    FROM answers)
SELECT ready_closed AS sales_ready_closed,
       round(ready_won::numeric / nullif(ready_closed, 0), 4) AS sales_ready_win_rate,
       cherry_closed AS cherry_picked_closed,
       round(cherry_won::numeric / nullif(cherry_closed, 0), 4) AS cherry_picked_win_rate,
       CASE WHEN (ready_closed = 0 OR cherry_closed = 0)
                 AND (SELECT h.ready_closed > 0 AND h.other_closed > 0 FROM history h)
              THEN (SELECT format('not enough closed claims to compare yet; of the leads closed without handoff or claim, those the model grades sales-ready at their decision won %s%% and the others %s%%: %s',
                                  round(100.0 * h.ready_won / h.ready_closed, 1), round(100.0 * h.other_won / h.other_closed, 1),
                                  CASE WHEN h.ready_won::numeric / h.ready_closed > h.other_won::numeric / h.other_closed
                                       THEN 'the model separates buyers' ELSE 'the scoring model needs refinement' END)
                      FROM history h)
            WHEN ready_closed = 0 OR cherry_closed = 0
              THEN 'not enough closed claims yet to compare sales-ready and cherry-picked leads'
            WHEN cherry_won::numeric / cherry_closed >= ready_won::numeric / ready_closed
              THEN format('cherry-picked leads convert at least as well as sales-ready ones (%s%% vs %s%%): the scoring model needs refinement',
                          round(100.0 * cherry_won / cherry_closed, 1), round(100.0 * ready_won / ready_closed, 1))
            ELSE format('sales-ready leads convert better than cherry-picked ones (%s%% vs %s%%): the model separates buyers',
                        round(100.0 * ready_won / ready_closed, 1), round(100.0 * cherry_won / cherry_closed, 1))
       END AS verdict,
       b.answered AS handoffs_answered,
       round(b.rejected::numeric / nullif(b.answered, 0), 4) AS rejection_share,
       CASE WHEN b.answered = 0 THEN 'no handoff accepted or rejected yet'
            WHEN b.rejected::numeric / b.answered > b.max_share
              THEN format('sales rejects %s%% of the handoffs it answers (more than max_rejection_share, %s%%): the model hands over too many leads; see lead_scoring.rejection_rules',
                          round(100.0 * b.rejected / b.answered, 1), round(100 * b.max_share, 1))
            ELSE format('sales rejects %s%% of the handoffs it answers (at most max_rejection_share, %s%%)',
                        round(100.0 * b.rejected / b.answered, 1), round(100 * b.max_share, 1))
       END AS handoff_verdict
  FROM rates, sent_back b;
COMMENT ON VIEW lead_scoring.scoring_health IS 'Do cherry-picked leads convert as well as sales-ready ones? If so, the model needs refinement. From each lead''s first claim and its recorded outcome; without claims to compare, from the leads closed without handoff or claim (imported history), sales-ready at their decision or not. And does sales send back too many of the leads the model hands over?';
COMMENT ON COLUMN lead_scoring.scoring_health.sales_ready_closed IS 'Leads claimed when sales-ready that have an outcome';
COMMENT ON COLUMN lead_scoring.scoring_health.sales_ready_win_rate IS 'Share of them won';
COMMENT ON COLUMN lead_scoring.scoring_health.cherry_picked_closed IS 'Leads cherry-picked that have an outcome';
COMMENT ON COLUMN lead_scoring.scoring_health.cherry_picked_win_rate IS 'Share of them won';
COMMENT ON COLUMN lead_scoring.scoring_health.verdict IS 'What it means, in words';
COMMENT ON COLUMN lead_scoring.scoring_health.handoffs_answered IS 'Handoffs sales accepted or rejected';
COMMENT ON COLUMN lead_scoring.scoring_health.rejection_share IS 'Share of them rejected first: the model''s false positives';
COMMENT ON COLUMN lead_scoring.scoring_health.handoff_verdict IS 'Whether the model hands over too many leads sales sends back (rejection_share above the setting max_rejection_share), in words';
