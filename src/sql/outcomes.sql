-- Outcomes: what became of the leads sales worked, what helped the buyer
-- choose, and the decision each outcome is judged at.

CREATE TABLE lead_scoring.outcomes (
  lead_id     bigint PRIMARY KEY,
  outcome     text NOT NULL CHECK (outcome IN ('won', 'lost', 'disqualified')),
  amount      numeric CHECK (amount >= 0),
  closed_at   timestamptz NOT NULL DEFAULT now(),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  notes       text,
  helped_by   text,
  decided_at  timestamptz,
  CONSTRAINT outcomes_decided_before_close CHECK (decided_at <= closed_at)
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
COMMENT ON COLUMN lead_scoring.outcomes.decided_at IS
  'When sales took the lead, if the extension did not see it (history imported): the instant the lead is judged at; empty: its first handoff or claim, or its close';
-- the lead's stage follows its outcome (lifecycle.sql)
CREATE TRIGGER stage_from_outcome AFTER INSERT ON lead_scoring.outcomes
  REFERENCING NEW TABLE AS new_outcomes
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.stage_from_outcome();
CREATE TRIGGER stage_from_changed_outcome AFTER UPDATE ON lead_scoring.outcomes
  REFERENCING NEW TABLE AS new_outcomes
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.stage_from_outcome();

CREATE FUNCTION lead_scoring.record_outcome(lead_id bigint, outcome text, amount numeric DEFAULT NULL,
                                            closed_at timestamptz DEFAULT now(), helped_by text DEFAULT NULL,
                                            notes text DEFAULT NULL, decided_at timestamptz DEFAULT NULL)
RETURNS lead_scoring.outcomes
LANGUAGE sql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  INSERT INTO lead_scoring.outcomes AS o (lead_id, outcome, amount, closed_at, helped_by, notes, decided_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (lead_id) DO UPDATE
     SET outcome = excluded.outcome, amount = excluded.amount, closed_at = excluded.closed_at,
         helped_by = excluded.helped_by, notes = excluded.notes, decided_at = excluded.decided_at,
         recorded_at = now()
  RETURNING o.*
$$;
COMMENT ON FUNCTION lead_scoring.record_outcome(bigint, text, numeric, timestamptz, text, text, timestamptz) IS
  'Records (or corrects) a lead''s outcome: won, lost or disqualified, with amount, close date, what helped the buyer choose, and, for history from before the extension, when sales took the lead';

-- A lead the extension never handed off nor saw claimed (history imported,
-- or closed unworked) is judged by the active model at its decision: its
-- score from the activities before that instant and its attributes.
CREATE FUNCTION lead_scoring.score_before(lead_id bigint, decided_at timestamptz) RETURNS double precision
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  definition jsonb;
  engagement lead_scoring.engagement_state;
  attributes jsonb;
BEGIN
  SELECT m.definition INTO definition FROM lead_scoring.active_model m;
  EXECUTE format($q$
    SELECT lead_scoring.score_activities($1, a.activity_type, a.occurred_at, a.properties)
      FROM (%s) a WHERE a.lead_id = $2 AND a.occurred_at < $3$q$, lead_scoring.activity_sources_sql())
    INTO engagement USING definition, score_before.lead_id, score_before.decided_at;
  SELECT lead_scoring.fit_attributes(l.email, l.first_name, l.last_name, l.company, l.attributes) INTO attributes
    FROM lead_scoring.leads l WHERE l.lead_id = score_before.lead_id;
  RETURN lead_scoring.total_score(coalesce(lead_scoring.fit_score(definition, attributes), 0),
                                  engagement, definition, score_before.decided_at);
END
$$;
COMMENT ON FUNCTION lead_scoring.score_before(bigint, timestamptz) IS
  'A lead''s total score under the active model at decided_at, from its activities strictly before then: how lead_decisions judges a lead the extension never handed off nor saw claimed';

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
       coalesce(CASE WHEN e.by_claim THEN c.grade END, CASE WHEN e.by_handoff THEN h.grade END,
                CASE WHEN e.by_outcome THEN (SELECT g.grades[lead_scoring.grade_index(x.score, g.min_scores)]
                                               FROM lead_scoring.grade_thresholds g) END) AS grade,
       coalesce(CASE WHEN e.by_claim THEN c.total_score END, CASE WHEN e.by_handoff THEN h.total_score END,
                CASE WHEN e.by_outcome THEN x.score END) AS total_score,
       coalesce(e.by_claim AND c.cherry_pick, false) AS cherry_picked,
       coalesce(CASE WHEN e.by_claim THEN c.model_name END, CASE WHEN e.by_handoff THEN h.model_name END,
                CASE WHEN e.by_outcome THEN (SELECT m.name FROM lead_scoring.active_model m) END) AS model,
       o.outcome, o.amount, o.closed_at, o.helped_by
  FROM taken t
  LEFT JOIN first_handoff h USING (lead_id)
  LEFT JOIN first_claim c USING (lead_id)
  LEFT JOIN lead_scoring.outcomes o USING (lead_id)
 CROSS JOIN LATERAL (SELECT least(h.handed_off_at, c.claimed_at, coalesce(o.decided_at, o.closed_at)) AS decided_at) d
 CROSS JOIN LATERAL (SELECT d.decided_at,
                            d.decided_at = c.claimed_at AND c.claimed_at < coalesce(h.handed_off_at, 'infinity') AS by_claim,
                            d.decided_at = h.handed_off_at AND NOT coalesce(c.claimed_at < h.handed_off_at, false) AS by_handoff,
                            d.decided_at < coalesce(least(h.handed_off_at, c.claimed_at), 'infinity') AS by_outcome) e
 -- evaluated only where a column that needs it is read
 CROSS JOIN LATERAL (SELECT lead_scoring.score_before(t.lead_id, e.decided_at) AS score) x;
COMMENT ON VIEW lead_scoring.lead_decisions IS
  'Each lead sales took (handed off or claimed) or closed: when, with what grade and score under which model, and the outcome so far. A lead closed with neither (imported history) is judged by the active model at its decision. Activity after decided_at is not used to judge the model';
COMMENT ON COLUMN lead_scoring.lead_decisions.lead_id IS 'Lead';
COMMENT ON COLUMN lead_scoring.lead_decisions.taken_by IS 'How sales got it first: handed off (scoring said sales-ready), claimed (a rep took it first), or closed (an outcome with neither before its decision: history imported, or closed unworked)';
COMMENT ON COLUMN lead_scoring.lead_decisions.decided_at IS 'The decision time: the earliest of first handoff, first claim and the outcome''s decided_at (or, without one, its close)';
COMMENT ON COLUMN lead_scoring.lead_decisions.grade IS 'Grade then (not today''s): as handed off or claimed; for a closed lead, the active model''s grade at decided_at';
COMMENT ON COLUMN lead_scoring.lead_decisions.total_score IS 'Total score then: as handed off or claimed; for a closed lead, the active model''s at decided_at (score_before)';
COMMENT ON COLUMN lead_scoring.lead_decisions.cherry_picked IS 'A rep claimed it below the sales-ready grade before any handoff';
COMMENT ON COLUMN lead_scoring.lead_decisions.model IS 'Model in force then; for a closed lead, the active model that judged it';
COMMENT ON COLUMN lead_scoring.lead_decisions.outcome IS 'won, lost, disqualified, or empty while open';
COMMENT ON COLUMN lead_scoring.lead_decisions.amount IS 'Revenue, for a win';
COMMENT ON COLUMN lead_scoring.lead_decisions.closed_at IS 'When the deal closed';
COMMENT ON COLUMN lead_scoring.lead_decisions.helped_by IS 'What the buyer said helped them choose';
