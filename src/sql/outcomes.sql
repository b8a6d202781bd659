-- Outcomes: what became of the leads sales worked, what helped the buyer
-- choose, and the decision each outcome is judged at.

CREATE TABLE lead_scoring.outcomes (
  lead_id     bigint PRIMARY KEY,
  outcome     text NOT NULL CHECK (outcome IN ('won', 'lost', 'disqualified')),
  amount      numeric CHECK (amount >= 0),
  closed_at   timestamptz NOT NULL DEFAULT now(),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  notes       text,
  helped_by   text
);
COMMENT ON TABLE lead_scoring.outcomes IS 'What became of a lead sales worked: won, lost or disqualified';
COMMENT ON COLUMN lead_scoring.outcomes.lead_id IS 'Lead';
COMMENT ON COLUMN lead_scoring.outcomes.outcome IS 'won, lost or disqualified';
COMMENT ON COLUMN lead_scoring.outcomes.amount IS 'Revenue, for a win';
COMMENT ON COLUMN lead_scoring.outcomes.closed_at IS 'When the deal closed';
COMMENT ON COLUMN lead_scoring.outcomes.recorded_at IS 'When the outcome was recorded';
COMMENT ON COLUMN lead_scoring.outcomes.notes IS 'Anything sales wants to add';
COMMENT ON COLUMN lead_scoring.outcomes.helped_by IS
  'The buyer''s answer to "what one thing helped you choose us?": an activity type (e.g. webinar) or an asset (e.g. pricing)';

CREATE FUNCTION lead_scoring.record_outcome(lead_id bigint, outcome text, amount numeric DEFAULT NULL,
                                            closed_at timestamptz DEFAULT now(), helped_by text DEFAULT NULL,
                                            notes text DEFAULT NULL)
RETURNS lead_scoring.outcomes
LANGUAGE sql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  INSERT INTO lead_scoring.outcomes AS o (lead_id, outcome, amount, closed_at, helped_by, notes)
  VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (lead_id) DO UPDATE
     SET outcome = excluded.outcome, amount = excluded.amount, closed_at = excluded.closed_at,
         helped_by = excluded.helped_by, notes = excluded.notes, recorded_at = now()
  RETURNING o.*
$$;
COMMENT ON FUNCTION lead_scoring.record_outcome(bigint, text, numeric, timestamptz, text, text) IS
  'Records (or corrects) a lead''s outcome: won, lost or disqualified, with amount, close date, and what helped the buyer choose';

-- The moment sales took a lead (its first handoff or claim), or its close if
-- neither happened: what scoring knew then is what an outcome is judged on.
CREATE VIEW lead_scoring.lead_decisions AS
WITH first_handoff AS (
  SELECT DISTINCT ON (lead_id) lead_id, handed_off_at, grade, total_score, model_id, model_name
    FROM lead_scoring.handoffs ORDER BY lead_id, handed_off_at, handoff_id),
first_claim AS (
  SELECT DISTINCT ON (lead_id) lead_id, claimed_at, grade, total_score, cherry_pick, model_id, model_name
    FROM lead_scoring.claims ORDER BY lead_id, claimed_at, claim_id),
taken AS (
  SELECT lead_id FROM first_handoff UNION SELECT lead_id FROM first_claim
  UNION SELECT lead_id FROM lead_scoring.outcomes)
SELECT t.lead_id,
       CASE WHEN e.by_claim THEN 'claimed' WHEN e.by_handoff THEN 'handed off' ELSE 'closed' END AS taken_by,
       e.decided_at,
       coalesce(CASE WHEN e.by_claim THEN c.grade END, CASE WHEN e.by_handoff THEN h.grade END) AS grade,
       coalesce(CASE WHEN e.by_claim THEN c.total_score END, CASE WHEN e.by_handoff THEN h.total_score END) AS total_score,
       coalesce(e.by_claim AND c.cherry_pick, false) AS cherry_picked,
       coalesce(CASE WHEN e.by_claim THEN c.model_name END, CASE WHEN e.by_handoff THEN h.model_name END) AS model,
       o.outcome, o.amount, o.closed_at, o.helped_by
  FROM taken t
  LEFT JOIN first_handoff h USING (lead_id)
  LEFT JOIN first_claim c USING (lead_id)
  LEFT JOIN lead_scoring.outcomes o USING (lead_id)
 CROSS JOIN LATERAL (SELECT least(h.handed_off_at, c.claimed_at, o.closed_at) AS decided_at) d
 CROSS JOIN LATERAL (SELECT d.decided_at,
                            d.decided_at = c.claimed_at AND c.claimed_at < coalesce(h.handed_off_at, 'infinity') AS by_claim,
                            d.decided_at = h.handed_off_at AND NOT coalesce(c.claimed_at < h.handed_off_at, false) AS by_handoff) e;
COMMENT ON VIEW lead_scoring.lead_decisions IS
  'Each lead sales took (handed off or claimed) or closed: when, with what grade and score under which model, and the outcome so far. Activity after decided_at is not used to judge the model';
COMMENT ON COLUMN lead_scoring.lead_decisions.lead_id IS 'Lead';
COMMENT ON COLUMN lead_scoring.lead_decisions.taken_by IS 'How sales got it first: handed off (scoring said sales-ready), claimed (a rep took it first), or closed (an outcome with neither)';
COMMENT ON COLUMN lead_scoring.lead_decisions.decided_at IS 'Earliest of first handoff, first claim and close: the decision time';
COMMENT ON COLUMN lead_scoring.lead_decisions.grade IS 'Grade then (not today''s); empty if only closed';
COMMENT ON COLUMN lead_scoring.lead_decisions.total_score IS 'Total score then';
COMMENT ON COLUMN lead_scoring.lead_decisions.cherry_picked IS 'A rep claimed it below the sales-ready grade before any handoff';
COMMENT ON COLUMN lead_scoring.lead_decisions.model IS 'Model in force then';
COMMENT ON COLUMN lead_scoring.lead_decisions.outcome IS 'won, lost, disqualified, or empty while open';
COMMENT ON COLUMN lead_scoring.lead_decisions.amount IS 'Revenue, for a win';
COMMENT ON COLUMN lead_scoring.lead_decisions.closed_at IS 'When the deal closed';
COMMENT ON COLUMN lead_scoring.lead_decisions.helped_by IS 'What the buyer said helped them choose';
