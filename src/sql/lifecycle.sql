-- The handoff loop: lifecycle stages (the demand waterfall) kept as history,
-- accept and reject, recycling, and the stage changes of handoffs and
-- outcomes. Before views.sql: lead_grades shows each lead's stage. The views
-- over the loop are in lifecycle_views.sql.

CREATE TABLE lead_scoring.lifecycle_stages (
  stage              text PRIMARY KEY CHECK (stage ~ '^[a-z][a-z0-9_]*$'),
  waterfall_position integer UNIQUE CHECK (waterfall_position > 0),
  in_sales_queue     boolean NOT NULL DEFAULT true,
  recycle_rule       boolean NOT NULL DEFAULT false,
  built_in           boolean NOT NULL DEFAULT false,
  description        text
);
COMMENT ON TABLE lead_scoring.lifecycle_stages IS 'The stages a lead goes through: the demand waterfall (inquiry, marketing_qualified, sales_accepted, sales_qualified, won) and the stages beside it (recycled, lost, disqualified). Add your own; the built-in ones cannot be deleted or renamed';
COMMENT ON COLUMN lead_scoring.lifecycle_stages.stage IS 'Stage name (lower case, digits and _)';
COMMENT ON COLUMN lead_scoring.lifecycle_stages.waterfall_position IS 'Its place in the demand waterfall (1 first); empty for a stage beside it';
COMMENT ON COLUMN lead_scoring.lifecycle_stages.in_sales_queue IS 'Whether leads in this stage are listed in lead_scoring.sales_queue';
COMMENT ON COLUMN lead_scoring.lifecycle_stages.recycle_rule IS 'Whether a lead in this stage is handed off again only under the recycle rule (recycle_points, recycle_activity_types)';
COMMENT ON COLUMN lead_scoring.lifecycle_stages.built_in IS 'One of the extension''s stages, which its functions move leads to';
COMMENT ON COLUMN lead_scoring.lifecycle_stages.description IS 'What the stage means';
INSERT INTO lead_scoring.lifecycle_stages (stage, waterfall_position, in_sales_queue, recycle_rule, built_in, description) VALUES
  ('inquiry', 1, true, false, true, 'A known lead not handed to sales yet: every lead starts here'),
  ('marketing_qualified', 2, true, false, true, 'Handed off: scoring made it sales-ready; a rep is to accept or reject it'),
  ('sales_accepted', 3, true, false, true, 'A rep accepted it and works it'),
  ('sales_qualified', 4, true, false, true, 'Sales qualified it: an opportunity'),
  ('won', 5, false, false, true, 'A customer: its outcome is won'),
  ('recycled', NULL, false, true, true, 'Sent back to nurture by sales; handed off again only under the recycle rule'),
  ('lost', NULL, false, true, true, 'Its deal was lost; nurtured, and handed off again only under the recycle rule'),
  ('disqualified', NULL, false, false, true, 'Not a buyer (bad data, a competitor, a student): not handed off again unless a manager moves it');

CREATE TABLE lead_scoring.stage_transitions (
  from_stage text NOT NULL REFERENCES lead_scoring.lifecycle_stages ON UPDATE CASCADE ON DELETE CASCADE,
  to_stage   text NOT NULL REFERENCES lead_scoring.lifecycle_stages ON UPDATE CASCADE ON DELETE CASCADE,
  built_in   boolean NOT NULL DEFAULT false,
  PRIMARY KEY (from_stage, to_stage)
);
COMMENT ON TABLE lead_scoring.stage_transitions IS 'The stage changes allowed to handoffs and reps; a lead is handed off only from a stage with a transition to marketing_qualified. Outcomes (won, lost, disqualified) and a manager''s override_stage are facts and need none';
COMMENT ON COLUMN lead_scoring.stage_transitions.from_stage IS 'Stage left';
COMMENT ON COLUMN lead_scoring.stage_transitions.to_stage IS 'Stage entered';
COMMENT ON COLUMN lead_scoring.stage_transitions.built_in IS 'One of the extension''s defaults';
INSERT INTO lead_scoring.stage_transitions (from_stage, to_stage, built_in)
SELECT f, t, true FROM (VALUES
  ('inquiry', 'marketing_qualified'), ('inquiry', 'disqualified'),
  ('marketing_qualified', 'marketing_qualified'), ('marketing_qualified', 'sales_accepted'),
  ('marketing_qualified', 'recycled'), ('marketing_qualified', 'disqualified'),
  ('sales_accepted', 'sales_qualified'), ('sales_accepted', 'recycled'), ('sales_accepted', 'disqualified'),
  ('sales_qualified', 'recycled'),
  ('recycled', 'marketing_qualified'), ('recycled', 'disqualified'),
  ('lost', 'marketing_qualified'), ('lost', 'recycled')) v(f, t);

CREATE TABLE lead_scoring.rejection_reasons (
  reason      text PRIMARY KEY CHECK (btrim(reason) <> ''),
  recycle     boolean NOT NULL,
  built_in    boolean NOT NULL DEFAULT false,
  description text
);
COMMENT ON TABLE lead_scoring.rejection_reasons IS 'Why sales sends a handed-off lead back: a reason that recycles puts the lead in nurture (stage recycled), one that does not disqualifies it';
COMMENT ON COLUMN lead_scoring.rejection_reasons.reason IS 'The reason, as reps give it to lead_scoring.reject_lead';
COMMENT ON COLUMN lead_scoring.rejection_reasons.recycle IS 'True: the lead goes back to nurture (recycled); false: it is disqualified';
COMMENT ON COLUMN lead_scoring.rejection_reasons.built_in IS 'One of the extension''s defaults';
COMMENT ON COLUMN lead_scoring.rejection_reasons.description IS 'When to use it';
INSERT INTO lead_scoring.rejection_reasons (reason, recycle, built_in, description) VALUES
  ('not ready', true, true, 'Interested, but not buying yet'),
  ('no budget', true, true, 'No budget this cycle'),
  ('no response', true, true, 'Did not answer the follow-up'),
  ('bad data', false, true, 'Fake or unusable contact details'),
  ('student or researcher', false, true, 'Not a buyer: studying the market'),
  ('competitor', false, true, 'Works for a competitor'),
  ('duplicate', false, true, 'Another lead is the same person');

-- The built-in stages are the ones the functions move leads to: they stay.
-- A restore brings back the rows as dumped over the defaults that
-- CREATE EXTENSION made (one trigger function per table, so that
-- plpgsql_check checks each against its table).
CREATE FUNCTION lead_scoring.guard_lifecycle_stages() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM lead_scoring.require_trigger_on(TG_RELID, 'lead_scoring.lifecycle_stages', 'guard_lifecycle_stages');
  IF TG_OP = 'INSERT' AND lead_scoring.loading_dump() THEN
    UPDATE lead_scoring.lifecycle_stages s
       SET waterfall_position = NEW.waterfall_position, in_sales_queue = NEW.in_sales_queue,
           recycle_rule = NEW.recycle_rule, description = NEW.description
     WHERE s.stage = NEW.stage;
    RETURN CASE WHEN FOUND THEN NULL ELSE NEW END;
  END IF;
  IF TG_OP <> 'INSERT' AND OLD.built_in AND (TG_OP = 'DELETE' OR NEW.stage IS DISTINCT FROM OLD.stage) THEN
    RAISE EXCEPTION 'stage % is built in: it cannot be %', OLD.stage, CASE TG_OP WHEN 'DELETE' THEN 'deleted' ELSE 'renamed' END
      USING ERRCODE = 'restrict_violation',
            HINT = 'Change its description, waterfall_position, in_sales_queue or recycle_rule instead.';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  NEW.built_in := TG_OP = 'UPDATE' AND OLD.built_in;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lead_scoring.guard_lifecycle_stages() IS
  'Trigger (before each change of lifecycle_stages): keeps the built-in stages, marks only the extension''s own built in, and lets a restore bring back the rows as dumped';
CREATE TRIGGER guard_lifecycle_stages BEFORE INSERT OR UPDATE OR DELETE ON lead_scoring.lifecycle_stages
  FOR EACH ROW EXECUTE FUNCTION lead_scoring.guard_lifecycle_stages();

CREATE FUNCTION lead_scoring.guard_stage_transitions() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM lead_scoring.require_trigger_on(TG_RELID, 'lead_scoring.stage_transitions', 'guard_stage_transitions');
  IF TG_OP = 'INSERT' AND lead_scoring.loading_dump() THEN
    PERFORM FROM lead_scoring.stage_transitions t WHERE t.from_stage = NEW.from_stage AND t.to_stage = NEW.to_stage;
    RETURN CASE WHEN FOUND THEN NULL ELSE NEW END;
  END IF;
  NEW.built_in := TG_OP = 'UPDATE' AND OLD.built_in;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lead_scoring.guard_stage_transitions() IS
  'Trigger (before insert or update of stage_transitions): marks only the extension''s defaults built in, and lets a restore bring back the rows as dumped';
CREATE TRIGGER guard_stage_transitions BEFORE INSERT OR UPDATE ON lead_scoring.stage_transitions
  FOR EACH ROW EXECUTE FUNCTION lead_scoring.guard_stage_transitions();

CREATE FUNCTION lead_scoring.guard_rejection_reasons() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM lead_scoring.require_trigger_on(TG_RELID, 'lead_scoring.rejection_reasons', 'guard_rejection_reasons');
  IF TG_OP = 'INSERT' AND lead_scoring.loading_dump() THEN
    UPDATE lead_scoring.rejection_reasons r SET recycle = NEW.recycle, description = NEW.description
     WHERE r.reason = NEW.reason;
    RETURN CASE WHEN FOUND THEN NULL ELSE NEW END;
  END IF;
  NEW.built_in := TG_OP = 'UPDATE' AND OLD.built_in;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lead_scoring.guard_rejection_reasons() IS
  'Trigger (before insert or update of rejection_reasons): marks only the extension''s defaults built in, and lets a restore bring back the rows as dumped';
CREATE TRIGGER guard_rejection_reasons BEFORE INSERT OR UPDATE ON lead_scoring.rejection_reasons
  FOR EACH ROW EXECUTE FUNCTION lead_scoring.guard_rejection_reasons();

CREATE TABLE lead_scoring.lifecycle_events (
  event_id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  lead_id          bigint NOT NULL,
  action           text NOT NULL CHECK (action IN ('handoff', 'accept', 'reject', 'advance', 'claim', 'outcome', 'override', 'import')),
  from_stage       text NOT NULL,
  to_stage         text NOT NULL,
  refused          text,
  occurred_at      timestamptz NOT NULL DEFAULT now(),
  recorded_at      timestamptz NOT NULL DEFAULT now(),
  actor            name NOT NULL DEFAULT lead_scoring.acting_role(),
  reason           text,
  note             text,
  handoff_id       bigint,
  carried_by       text[],
  fit_score        double precision,
  engagement_score double precision,
  total_score      double precision,
  grade            text,
  model_id         integer,
  model_name       text
);
CREATE INDEX lifecycle_events_lead_id_occurred_at_idx ON lead_scoring.lifecycle_events (lead_id, occurred_at);
CREATE INDEX lifecycle_events_handoff_id_idx ON lead_scoring.lifecycle_events (handoff_id) WHERE handoff_id IS NOT NULL;
COMMENT ON TABLE lead_scoring.lifecycle_events IS 'Append-only history of every lead''s stage: each change with who, when, why, the model and the score then, and each refused attempt (the loser of two reps taking one lead); only a superuser may change or delete a row';
COMMENT ON COLUMN lead_scoring.lifecycle_events.event_id IS 'Event identifier';
COMMENT ON COLUMN lead_scoring.lifecycle_events.lead_id IS 'Lead';
COMMENT ON COLUMN lead_scoring.lifecycle_events.action IS 'What moved it: handoff, accept, reject, advance (a rep), claim (a refused one only), outcome, override (a manager) or import (history)';
COMMENT ON COLUMN lead_scoring.lifecycle_events.from_stage IS 'Stage before';
COMMENT ON COLUMN lead_scoring.lifecycle_events.to_stage IS 'Stage after (for a refused attempt: the stage asked for)';
COMMENT ON COLUMN lead_scoring.lifecycle_events.refused IS 'Why the attempt was refused (empty: the change was made)';
COMMENT ON COLUMN lead_scoring.lifecycle_events.occurred_at IS 'When it happened (for an outcome: the close; for an import: as imported)';
COMMENT ON COLUMN lead_scoring.lifecycle_events.recorded_at IS 'When it was recorded';
COMMENT ON COLUMN lead_scoring.lifecycle_events.actor IS 'Who: the rep, the manager, or the role whose write caused a handoff or outcome';
COMMENT ON COLUMN lead_scoring.lifecycle_events.reason IS 'The rejection reason (of lead_scoring.rejection_reasons), the handoff''s cause, or the reason given';
COMMENT ON COLUMN lead_scoring.lifecycle_events.note IS 'Free text beside it';
COMMENT ON COLUMN lead_scoring.lifecycle_events.handoff_id IS 'The handoff of the lead''s current cycle (lead_scoring.handoffs)';
COMMENT ON COLUMN lead_scoring.lifecycle_events.carried_by IS 'For a rejection: the rules without any one of which the lead would not have been sales-ready at its handoff (active model, current thresholds)';
COMMENT ON COLUMN lead_scoring.lifecycle_events.fit_score IS 'Fit score then';
COMMENT ON COLUMN lead_scoring.lifecycle_events.engagement_score IS 'Engagement score then';
COMMENT ON COLUMN lead_scoring.lifecycle_events.total_score IS 'Total score then';
COMMENT ON COLUMN lead_scoring.lifecycle_events.grade IS 'Grade then';
COMMENT ON COLUMN lead_scoring.lifecycle_events.model_id IS 'Model in force';
COMMENT ON COLUMN lead_scoring.lifecycle_events.model_name IS 'Its name';
-- (its append-only triggers are the cherry-pick audit's: sales_handoff.sql)

-- Each lead's current stage, kept with its history by the functions below
-- (a lead without a row is an inquiry); only they write it.
CREATE TABLE lead_scoring.lead_stages (
  lead_id        bigint PRIMARY KEY,
  stage          text NOT NULL REFERENCES lead_scoring.lifecycle_stages ON UPDATE CASCADE,
  previous_stage text NOT NULL,
  since          timestamptz NOT NULL,
  event_id       bigint NOT NULL,
  handoff_id     bigint,
  rep            name
);
-- sales_queue finds the leads of the stages out of the queue by it
CREATE INDEX lead_stages_stage_idx ON lead_scoring.lead_stages (stage);
COMMENT ON TABLE lead_scoring.lead_stages IS 'Each lead''s current stage, the latest of its lifecycle_events (a lead without a row is an inquiry); written by handoffs, accept_lead, reject_lead, advance_lead, outcomes and override_stage only';
COMMENT ON COLUMN lead_scoring.lead_stages.lead_id IS 'Lead';
COMMENT ON COLUMN lead_scoring.lead_stages.stage IS 'Stage now';
COMMENT ON COLUMN lead_scoring.lead_stages.previous_stage IS 'Stage before';
COMMENT ON COLUMN lead_scoring.lead_stages.since IS 'When it entered the stage';
COMMENT ON COLUMN lead_scoring.lead_stages.event_id IS 'The lifecycle event that moved it there';
COMMENT ON COLUMN lead_scoring.lead_stages.handoff_id IS 'The handoff of its current cycle';
COMMENT ON COLUMN lead_scoring.lead_stages.rep IS 'The rep who accepted it (stages after sales_accepted)';

-- Whether scoring may hand off a lead of this stage (a transition to
-- marketing_qualified exists).
CREATE FUNCTION lead_scoring.stage_hands_off(stage text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT EXISTS (SELECT FROM lead_scoring.stage_transitions t
                  WHERE t.from_stage = coalesce($1, 'inquiry') AND t.to_stage = 'marketing_qualified')
$$;
COMMENT ON FUNCTION lead_scoring.stage_hands_off(text) IS
  'Whether a lead in this stage (empty: inquiry) is handed off when it becomes sales-ready: its stage has a transition to marketing_qualified';

-- The recycle rule: what new engagement brings a lead back. Exact under any
-- model: its score now less what its activities up to since (decayed to now)
-- would score alone, so that re-reading old activities (a rescore, a new
-- model) never brings it back.
CREATE FUNCTION lead_scoring.recycle_rule_met(lead_id bigint, since timestamptz) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  definition jsonb := (SELECT m.definition FROM lead_scoring.active_model m);
  signals text[] := lead_scoring.type_list(lead_scoring.setting('recycle_activity_types'));
  now_score double precision;
  old_score double precision;
BEGIN
  IF definition IS NULL THEN
    RETURN false;
  END IF;
  IF cardinality(signals) > 0 AND EXISTS (
       SELECT FROM lead_scoring.activities a
        WHERE a.lead_id = recycle_rule_met.lead_id AND a.occurred_at > since AND a.activity_type = ANY (signals)) THEN
    RETURN true;
  END IF;
  SELECT g.total_score INTO now_score FROM lead_scoring.lead_grades g WHERE g.lead_id = recycle_rule_met.lead_id;
  SELECT lead_scoring.total_score(coalesce(lead_scoring.fit_score(definition, s.attributes), 0), s.engagement,
                                  definition, now())
    INTO old_score
    FROM lead_scoring.states_at(definition, since, ARRAY[recycle_rule_met.lead_id]) s;
  RETURN now_score - coalesce(old_score, 0) >= lead_scoring.setting('recycle_points')::double precision;
END
$$;
COMMENT ON FUNCTION lead_scoring.recycle_rule_met(bigint, timestamptz) IS
  'The recycle rule: whether a lead recycled (or lost) at since has earned its way back: an activity since then of a type in recycle_activity_types, or activities since then adding at least recycle_points to what its older activities score now (active model)';

-- The lock every change of a lead's stage or claim takes first, on its
-- lead_scores row (the row hand_off locks too): two reps taking one lead
-- are served one after the other, and the second sees what the first did.
CREATE FUNCTION lead_scoring.lock_lead(lead_id bigint) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM FROM lead_scoring.lead_scores s WHERE s.lead_id = lock_lead.lead_id FOR NO KEY UPDATE;
  RETURN FOUND;
END
$$;
COMMENT ON FUNCTION lead_scoring.lock_lead(bigint) IS
  'Locks a lead''s lead_scores row for a change of its stage or claim; false if the lead is unknown';

CREATE FUNCTION lead_scoring.lock_known_lead(lead_id bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  IF NOT lead_scoring.lock_lead(lock_known_lead.lead_id) THEN
    RAISE EXCEPTION 'lead % does not exist', lock_known_lead.lead_id USING ERRCODE = 'foreign_key_violation';
  END IF;
END
$$;
COMMENT ON FUNCTION lead_scoring.lock_known_lead(bigint) IS
  'lock_lead, or an error that the lead does not exist';

-- A stage the caller names, or an error that says where the stages are.
CREATE FUNCTION lead_scoring.require_stage(stage text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  IF NOT EXISTS (SELECT FROM lead_scoring.lifecycle_stages ls WHERE ls.stage = require_stage.stage) THEN
    RAISE EXCEPTION 'there is no stage "%"', coalesce(require_stage.stage, '')
      USING ERRCODE = 'invalid_parameter_value', HINT = 'The stages are listed in lead_scoring.lifecycle_stages.';
  END IF;
END
$$;
COMMENT ON FUNCTION lead_scoring.require_stage(text) IS
  'An error unless the stage is one of lead_scoring.lifecycle_stages';

-- Moves a lead to a stage: its row in lead_stages, the event, and the
-- handed_off flag (false where scoring may hand it off again, so that
-- hand_off looks at it; true where it may not, so that it does not).
-- The caller holds lock_lead and has checked everything.
CREATE FUNCTION lead_scoring.move_lead(lead_id bigint, action text, to_stage text, occurred_at timestamptz,
                                       reason text, note text, carried_by text[] DEFAULT NULL)
RETURNS lead_scoring.lifecycle_events
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  current lead_scoring.lead_stages;
  snap record;
  event lead_scoring.lifecycle_events;
BEGIN
  SELECT * INTO current FROM lead_scoring.lead_stages st WHERE st.lead_id = move_lead.lead_id;
  SELECT * INTO snap FROM lead_scoring.score_snapshot(move_lead.lead_id);
  INSERT INTO lead_scoring.lifecycle_events AS e (lead_id, action, from_stage, to_stage, occurred_at, reason, note,
                                                  handoff_id, carried_by, fit_score, engagement_score, total_score,
                                                  grade, model_id, model_name)
  VALUES (move_lead.lead_id, move_lead.action, coalesce(current.stage, 'inquiry'), move_lead.to_stage,
          move_lead.occurred_at, move_lead.reason, move_lead.note, current.handoff_id, move_lead.carried_by,
          snap.fit_score, snap.engagement_score, snap.total_score, snap.grade, snap.model_id, snap.model_name)
  RETURNING * INTO event;
  INSERT INTO lead_scoring.lead_stages AS st (lead_id, stage, previous_stage, since, event_id, handoff_id, rep)
  VALUES (move_lead.lead_id, move_lead.to_stage, event.from_stage, move_lead.occurred_at, event.event_id, current.handoff_id,
          -- the rep who works it: the holder of its claim (a manager may answer for a rep)
          CASE WHEN move_lead.action IN ('accept', 'advance')
               THEN coalesce((SELECT c.rep FROM lead_scoring.claims c
                               WHERE c.lead_id = move_lead.lead_id AND c.released_at IS NULL),
                             current.rep, lead_scoring.acting_role()) END)
  ON CONFLICT ON CONSTRAINT lead_stages_pkey DO UPDATE
     SET stage = excluded.stage, previous_stage = excluded.previous_stage, since = excluded.since,
         event_id = excluded.event_id, rep = excluded.rep;
  UPDATE lead_scoring.lead_scores s
     SET handed_off = NOT lead_scoring.stage_hands_off(move_lead.to_stage),
         score_stamp = lead_scoring.carried_stamp(s.score_stamp, s.xmin)
   WHERE s.lead_id = move_lead.lead_id AND s.handed_off = lead_scoring.stage_hands_off(move_lead.to_stage);
  RETURN event;
END
$$;
COMMENT ON FUNCTION lead_scoring.move_lead(bigint, text, text, timestamptz, text, text, text[]) IS
  'Moves a lead to a stage: records the event with the score snapshot, its current stage, and whether scoring may hand it off again (for accept_lead, reject_lead, advance_lead, outcomes and override_stage)';

-- An attempt that lost (another rep took the lead first, or the policy
-- refused the claim), recorded as such: the audit keeps the loser.
CREATE FUNCTION lead_scoring.refuse_move(lead_id bigint, action text, to_stage text, refused text,
                                         reason text, note text)
RETURNS lead_scoring.lifecycle_events
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  event lead_scoring.lifecycle_events;
BEGIN
  INSERT INTO lead_scoring.lifecycle_events (lead_id, action, from_stage, to_stage, refused, reason, note, handoff_id,
                                             fit_score, engagement_score, total_score, grade, model_id, model_name)
  SELECT refuse_move.lead_id, refuse_move.action, coalesce(st.stage, 'inquiry'),
         coalesce(refuse_move.to_stage, st.stage, 'inquiry'), refuse_move.refused,
         refuse_move.reason, refuse_move.note, st.handoff_id,
         snap.fit_score, snap.engagement_score, snap.total_score, snap.grade, snap.model_id, snap.model_name
    FROM lead_scoring.score_snapshot(refuse_move.lead_id) snap
    LEFT JOIN lead_scoring.lead_stages st ON st.lead_id = refuse_move.lead_id
  RETURNING * INTO event;
  RAISE WARNING '% of lead % refused: %; the attempt is recorded in lead_scoring.lifecycle_events',
    refuse_move.action, refuse_move.lead_id, refuse_move.refused;
  RETURN event;
END
$$;
COMMENT ON FUNCTION lead_scoring.refuse_move(bigint, text, text, text, text, text) IS
  'Records a refused attempt on a lead (the loser of a race, a claim of a lead another rep holds) in lifecycle_events and warns; returns the event';

-- Accept and reject act on a handed-off lead: one waiting in
-- marketing_qualified. One that another rep accepted or rejected first, or
-- holds, is a lost race, recorded; anything else is an error.
CREATE FUNCTION lead_scoring.check_handed_off(lead_id bigint, action text, to_stage text, note text,
                                              OUT refusal lead_scoring.lifecycle_events)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  current lead_scoring.lead_stages;
  last lead_scoring.lifecycle_events;
  holder name;
BEGIN
  PERFORM lead_scoring.lock_known_lead(check_handed_off.lead_id);
  SELECT * INTO current FROM lead_scoring.lead_stages st WHERE st.lead_id = check_handed_off.lead_id;
  IF current.stage IS DISTINCT FROM 'marketing_qualified' THEN
    SELECT * INTO last FROM lead_scoring.lifecycle_events e WHERE e.event_id = current.event_id;
    IF last.action IN ('accept', 'reject') THEN
      refusal := lead_scoring.refuse_move(check_handed_off.lead_id, check_handed_off.action, check_handed_off.to_stage,
                   format('%s %s it first (stage %s)', last.actor,
                          CASE last.action WHEN 'accept' THEN 'accepted' ELSE 'rejected' END, current.stage),
                   NULL, check_handed_off.note);
      RETURN;
    END IF;
    RAISE EXCEPTION 'lead % is not waiting for sales: its stage is %, not marketing_qualified', check_handed_off.lead_id,
                    coalesce(current.stage, 'inquiry')
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = CASE WHEN current.stage IS NULL
                        THEN 'Only a lead scoring handed off can be accepted or rejected; a rep takes another one with lead_scoring.claim_lead().'
                        ELSE 'A manager moves it with lead_scoring.override_stage().' END;
  END IF;
  SELECT c.rep INTO holder FROM lead_scoring.claims c
   WHERE c.lead_id = check_handed_off.lead_id AND c.released_at IS NULL;
  IF holder IS DISTINCT FROM lead_scoring.acting_role() AND holder IS NOT NULL AND NOT lead_scoring.is_manager() THEN
    refusal := lead_scoring.refuse_move(check_handed_off.lead_id, check_handed_off.action, check_handed_off.to_stage,
                 format('claimed by %s', holder), NULL, check_handed_off.note);
  END IF;
END
$$;
COMMENT ON FUNCTION lead_scoring.check_handed_off(bigint, text, text, text) IS
  'For accept_lead and reject_lead: locks the lead, and returns the refusal recorded if another rep took it first or holds it; an error if it is unknown or not waiting in marketing_qualified';

CREATE FUNCTION lead_scoring.accept_lead(lead_id bigint, note text DEFAULT NULL)
RETURNS lead_scoring.lifecycle_events
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  refusal lead_scoring.lifecycle_events;
  suppression text;
  claim_id bigint;
BEGIN
  refusal := lead_scoring.check_handed_off(accept_lead.lead_id, 'accept', 'sales_accepted', accept_lead.note);
  IF refusal.event_id IS NOT NULL THEN
    RETURN refusal;
  END IF;
  SELECT format('%s: %s', s.kind, s.reason) INTO suppression FROM lead_scoring.suppressions s
   WHERE s.lead_id = accept_lead.lead_id AND s.lifted_at IS NULL ORDER BY s.suppressed_at LIMIT 1;
  IF suppression IS NOT NULL THEN
    RAISE EXCEPTION 'lead % is suppressed (%): it cannot be accepted', accept_lead.lead_id, suppression
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Reject it, or lift the suppression first.';
  END IF;
  IF NOT EXISTS (SELECT FROM lead_scoring.claims c WHERE c.lead_id = accept_lead.lead_id AND c.released_at IS NULL) THEN
    -- the rep who accepts a lead claims it (record_claim: snapshot, policy)
    INSERT INTO lead_scoring.claims AS c (lead_id, reason)
    VALUES (accept_lead.lead_id, coalesce('accepted: ' || accept_lead.note, 'accepted'))
    RETURNING c.claim_id INTO claim_id;
    IF claim_id IS NULL THEN
      RETURN lead_scoring.refuse_move(accept_lead.lead_id, 'accept', 'sales_accepted',
                                      'its claim was denied by cherry_pick_policy', NULL, accept_lead.note);
    END IF;
  END IF;
  RETURN lead_scoring.move_lead(accept_lead.lead_id, 'accept', 'sales_accepted', now(), NULL, accept_lead.note);
END
$$;
COMMENT ON FUNCTION lead_scoring.accept_lead(bigint, text) IS
  'A rep accepts a handed-off lead (stage marketing_qualified): it moves to sales_accepted and is claimed in the rep''s name; returns the event (a refused one, with a WARNING, if another rep accepted, rejected or holds it first)';

-- The rules whose points carried a lead over the sales-ready threshold at an
-- instant: without any one of them it would not have been sales-ready.
CREATE FUNCTION lead_scoring.rules_carrying(lead_id bigint, as_of timestamptz) RETURNS text[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  definition jsonb := (SELECT m.definition FROM lead_scoring.active_model m);
  ready_from double precision := (SELECT t.sales_ready_from FROM lead_scoring.grade_thresholds t);
  carried text[];
BEGIN
  IF definition IS NULL OR ready_from IS NULL THEN
    RETURN NULL;
  END IF;
  WITH parts AS (
    SELECT coalesce(r.description, r.activity_type) AS rule, b.points
      FROM lead_scoring.states_at(definition, as_of, ARRAY[rules_carrying.lead_id]) s
     CROSS JOIN LATERAL lead_scoring.engagement_breakdown(s.engagement, definition, as_of) b
      LEFT JOIN lead_scoring.activity_rules r ON r.rule_id = b.rule_id
    UNION ALL
    SELECT coalesce(r.description, r.attribute), b.points
      FROM lead_scoring.states_at(definition, as_of, ARRAY[rules_carrying.lead_id]) s
     CROSS JOIN LATERAL lead_scoring.fit_breakdown(definition, s.attributes) b
      LEFT JOIN lead_scoring.fit_rules r ON r.rule_id = b.rule_id)
  SELECT array_agg(p.rule ORDER BY p.points DESC, p.rule) INTO carried
    FROM parts p
   WHERE p.points > 0 AND (SELECT sum(q.points) FROM parts q) - p.points < ready_from;
  RETURN coalesce(carried, '{}');
END
$$;
COMMENT ON FUNCTION lead_scoring.rules_carrying(bigint, timestamptz) IS
  'The rules without any one of which a lead would not have been sales-ready at as_of (active model, current thresholds), most points first: what a rejection holds against the model';

CREATE FUNCTION lead_scoring.reject_lead(lead_id bigint, reason text, note text DEFAULT NULL)
RETURNS lead_scoring.lifecycle_events
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  recycle boolean := (SELECT r.recycle FROM lead_scoring.rejection_reasons r WHERE r.reason = reject_lead.reason);
  new_stage text;
  refusal lead_scoring.lifecycle_events;
  handed_off_at timestamptz;
BEGIN
  IF recycle IS NULL THEN
    RAISE EXCEPTION 'there is no rejection reason "%"', coalesce(reason, '')
      USING ERRCODE = 'invalid_parameter_value',
            HINT = format('Give one of: %s (lead_scoring.rejection_reasons), and the details as the note.',
                          (SELECT string_agg(r.reason, ', ' ORDER BY r.reason) FROM lead_scoring.rejection_reasons r));
  END IF;
  new_stage := CASE WHEN recycle THEN 'recycled' ELSE 'disqualified' END;
  refusal := lead_scoring.check_handed_off(reject_lead.lead_id, 'reject', new_stage, reject_lead.note);
  IF refusal.event_id IS NOT NULL THEN
    RETURN refusal;
  END IF;
  IF NOT EXISTS (SELECT FROM lead_scoring.stage_transitions t
                  WHERE t.from_stage = 'marketing_qualified' AND t.to_stage = new_stage) THEN
    RAISE EXCEPTION 'lead_scoring.stage_transitions has no transition from marketing_qualified to %', new_stage
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Rejecting needs it: insert it again.';
  END IF;
  SELECT h.handed_off_at INTO handed_off_at
    FROM lead_scoring.lead_stages st JOIN lead_scoring.handoffs h ON h.handoff_id = st.handoff_id
   WHERE st.lead_id = reject_lead.lead_id;
  UPDATE lead_scoring.claims c
     SET released_at = now(), released_by = lead_scoring.acting_role(), release_reason = 'rejected: ' || reject_lead.reason
   WHERE c.lead_id = reject_lead.lead_id AND c.released_at IS NULL;
  RETURN lead_scoring.move_lead(reject_lead.lead_id, 'reject', new_stage, now(), reject_lead.reason, reject_lead.note,
                                lead_scoring.rules_carrying(reject_lead.lead_id, coalesce(handed_off_at, now())));
END
$$;
COMMENT ON FUNCTION lead_scoring.reject_lead(bigint, text, text) IS
  'A rep sends a handed-off lead back, with a reason of lead_scoring.rejection_reasons and a note: it leaves the sales queue for nurture (recycled: handed off again only under the recycle rule) or is disqualified; its open claim is released. Returns the event (a refused one, with a WARNING, if another rep accepted, rejected or holds it first)';

-- A rep moves a lead it works along stage_transitions (sales_accepted to
-- sales_qualified, or a stage of the user's own).
CREATE FUNCTION lead_scoring.advance_lead(lead_id bigint, stage text, note text DEFAULT NULL)
RETURNS lead_scoring.lifecycle_events
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  current lead_scoring.lead_stages;
  holder name;
BEGIN
  PERFORM lead_scoring.require_stage(advance_lead.stage);
  IF advance_lead.stage IN ('marketing_qualified', 'recycled', 'disqualified', 'won', 'lost') THEN
    RAISE EXCEPTION 'a lead enters % through %', advance_lead.stage,
      CASE WHEN advance_lead.stage = 'marketing_qualified' THEN 'a handoff'
           WHEN advance_lead.stage IN ('won', 'lost') THEN 'its outcome' ELSE 'a rejection' END
      USING ERRCODE = 'invalid_parameter_value',
            HINT = CASE WHEN advance_lead.stage = 'marketing_qualified' THEN 'Scoring hands leads off.'
                        WHEN advance_lead.stage IN ('won', 'lost') THEN 'Record it with lead_scoring.record_outcome().'
                        ELSE 'Use lead_scoring.reject_lead(lead_id, reason, note).' END;
  END IF;
  PERFORM lead_scoring.lock_known_lead(advance_lead.lead_id);
  SELECT * INTO current FROM lead_scoring.lead_stages st WHERE st.lead_id = advance_lead.lead_id;
  SELECT c.rep INTO holder FROM lead_scoring.claims c WHERE c.lead_id = advance_lead.lead_id AND c.released_at IS NULL;
  IF holder IS DISTINCT FROM lead_scoring.acting_role() AND NOT lead_scoring.is_manager() THEN
    RAISE EXCEPTION 'lead % is %: only the rep who holds it or a manager moves it', advance_lead.lead_id,
                    coalesce('claimed by ' || holder, 'claimed by nobody')
      USING ERRCODE = 'insufficient_privilege', HINT = 'Claim or accept it first.';
  END IF;
  IF NOT EXISTS (SELECT FROM lead_scoring.stage_transitions t
                  WHERE t.from_stage = coalesce(current.stage, 'inquiry') AND t.to_stage = advance_lead.stage) THEN
    RAISE EXCEPTION 'lead % cannot go from % to %', advance_lead.lead_id, coalesce(current.stage, 'inquiry'), advance_lead.stage
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'The allowed changes are listed in lead_scoring.stage_transitions.';
  END IF;
  RETURN lead_scoring.move_lead(advance_lead.lead_id, 'advance', advance_lead.stage, now(), NULL, advance_lead.note);
END
$$;
COMMENT ON FUNCTION lead_scoring.advance_lead(bigint, text, text) IS
  'The rep who holds a lead (or a manager) moves it along lead_scoring.stage_transitions, e.g. from sales_accepted to sales_qualified; returns the event';

-- A manager moves a lead to any stage but marketing_qualified, audited; in
-- a stage scoring hands off from, the lead is handed off at once if ready.
CREATE FUNCTION lead_scoring.override_stage(lead_id bigint, stage text, reason text)
RETURNS lead_scoring.lifecycle_events
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  event lead_scoring.lifecycle_events;
BEGIN
  IF NOT lead_scoring.is_manager() THEN
    RAISE EXCEPTION 'only a manager (lead_scoring_admin) may override a lead''s stage' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF reason IS NULL OR btrim(reason) = '' THEN
    RAISE EXCEPTION 'an override needs a reason' USING ERRCODE = 'not_null_violation';
  END IF;
  PERFORM lead_scoring.require_stage(override_stage.stage);
  IF override_stage.stage = 'marketing_qualified' THEN
    RAISE EXCEPTION 'a lead enters marketing_qualified through a handoff' USING ERRCODE = 'invalid_parameter_value',
      HINT = 'Move it to inquiry: it is handed off at once if it is sales-ready.';
  END IF;
  PERFORM lead_scoring.lock_known_lead(override_stage.lead_id);
  event := lead_scoring.move_lead(override_stage.lead_id, 'override', override_stage.stage, now(), override_stage.reason, NULL);
  IF lead_scoring.stage_hands_off(override_stage.stage) THEN
    PERFORM lead_scoring.hand_off(ARRAY[override_stage.lead_id], 'stage');
  END IF;
  RETURN event;
END
$$;
COMMENT ON FUNCTION lead_scoring.override_stage(bigint, text, text) IS
  'A manager moves a lead to any stage but marketing_qualified, with a reason, recorded as an override; a lead moved to a stage scoring hands off from is handed off at once if sales-ready. Returns the event';

-- An outcome is a fact: the lead's stage follows it (won, lost or
-- disqualified) at its close, whatever the stage was.
CREATE FUNCTION lead_scoring.stage_from_outcome() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  o record;
BEGIN
  PERFORM lead_scoring.require_trigger_on(TG_RELID, 'lead_scoring.outcomes', 'stage_from_outcome');
  IF lead_scoring.loading_dump() THEN
    RETURN NULL;  -- restoring a dump: the history as dumped
  END IF;
  FOR o IN SELECT n.lead_id, n.outcome, n.closed_at FROM new_outcomes n ORDER BY n.lead_id LOOP
    IF lead_scoring.lock_lead(o.lead_id)
       AND NOT EXISTS (SELECT FROM lead_scoring.lead_stages st WHERE st.lead_id = o.lead_id AND st.stage = o.outcome) THEN
      PERFORM lead_scoring.move_lead(o.lead_id, 'outcome', o.outcome, o.closed_at, NULL, NULL);
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.stage_from_outcome() IS
  'Trigger (after outcomes are recorded or changed, per statement): moves each lead to the stage of its outcome (won, lost or disqualified) at its close';
-- (its triggers are created with the outcomes table: outcomes.sql)

-- History from before the extension: stage changes as they happened, while
-- importing history only (begin_history_import), not validated.
CREATE FUNCTION lead_scoring.import_stage_change(lead_id bigint, stage text, occurred_at timestamptz,
                                                 actor name DEFAULT NULL, reason text DEFAULT NULL)
RETURNS lead_scoring.lifecycle_events
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  current lead_scoring.lead_stages;
  event lead_scoring.lifecycle_events;
BEGIN
  IF NOT lead_scoring.importing_history() THEN
    RAISE EXCEPTION 'stage changes are imported only inside a history import'
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Call lead_scoring.begin_history_import() first, in the same transaction.';
  END IF;
  PERFORM lead_scoring.require_stage(import_stage_change.stage);
  IF occurred_at IS NULL OR NOT isfinite(occurred_at) OR occurred_at > now() THEN
    RAISE EXCEPTION 'an imported stage change needs the finite, past instant it happened, not %', occurred_at
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM lead_scoring.lock_lead(import_stage_change.lead_id);
  SELECT * INTO current FROM lead_scoring.lead_stages st WHERE st.lead_id = import_stage_change.lead_id;
  INSERT INTO lead_scoring.lifecycle_events AS e (lead_id, action, from_stage, to_stage, occurred_at, actor, reason)
  VALUES (import_stage_change.lead_id, 'import',
          coalesce((SELECT p.to_stage FROM lead_scoring.lifecycle_events p
                     WHERE p.lead_id = import_stage_change.lead_id AND p.refused IS NULL
                       AND p.occurred_at <= import_stage_change.occurred_at
                     ORDER BY p.occurred_at DESC, p.event_id DESC LIMIT 1), 'inquiry'),
          import_stage_change.stage, import_stage_change.occurred_at,
          coalesce(import_stage_change.actor, lead_scoring.acting_role()), import_stage_change.reason)
  RETURNING * INTO event;
  IF current.since IS NULL OR current.since <= occurred_at THEN
    INSERT INTO lead_scoring.lead_stages AS st (lead_id, stage, previous_stage, since, event_id)
    VALUES (import_stage_change.lead_id, import_stage_change.stage, event.from_stage, import_stage_change.occurred_at, event.event_id)
    ON CONFLICT ON CONSTRAINT lead_stages_pkey DO UPDATE
       SET stage = excluded.stage, previous_stage = excluded.previous_stage, since = excluded.since,
           event_id = excluded.event_id, handoff_id = NULL, rep = NULL;
  END IF;
  RETURN event;
END
$$;
COMMENT ON FUNCTION lead_scoring.import_stage_change(bigint, text, timestamptz, name, text) IS
  'Inside a history import (begin_history_import), records a stage change from before the extension as it happened (not validated: history is a fact); the latest becomes the lead''s stage. For the demand waterfall of the past';
