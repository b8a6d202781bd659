-- lead_scoring 1.0 -> 1.1: handoff volume by week and cause.
\echo Use "ALTER EXTENSION lead_scoring UPDATE TO '1.1'" to load this file. \quit

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

-- roles set up under 1.0 see the new view too
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'lead_scoring_bi') THEN
    GRANT SELECT ON lead_scoring.handoff_rates TO lead_scoring_bi;
  END IF;
END
$$;
