-- Compile models from their tables, rescore, activate, and attach activity tables.

CREATE FUNCTION lead_scoring.model_definition(model_id integer) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  SELECT jsonb_build_object(
    'model_id', $1,
    'components', coalesce((
       SELECT jsonb_agg(jsonb_build_object('component', c.component, 'dimension', c.dimension,
                                           'max_points', c.max_points) ORDER BY c.component)
         FROM lead_scoring.components c WHERE c.model_id = $1), '[]'),
    'activity_rules', coalesce((
       SELECT jsonb_agg(jsonb_build_object('rule_id', r.rule_id, 'component', r.component,
                                           'activity_type', r.activity_type, 'properties', r.properties,
                                           'points', r.points,
                                           'half_life_seconds', extract(epoch FROM r.half_life),
                                           'max_points', r.max_points) ORDER BY r.rule_id)
         FROM lead_scoring.activity_rules r WHERE r.model_id = $1), '[]'),
    'fit_rules', coalesce((
       SELECT jsonb_agg(jsonb_build_object('rule_id', r.rule_id, 'component', r.component,
                                           'attribute', r.attribute, 'test', r.test,
                                           'value', r.value, 'pattern', r.pattern,
                                           'min_value', r.min_value, 'max_value', r.max_value,
                                           'points', r.points) ORDER BY r.rule_id)
         FROM lead_scoring.fit_rules r WHERE r.model_id = $1), '[]'))
$$;
COMMENT ON FUNCTION lead_scoring.model_definition(integer) IS
  'A model''s components and rules as JSON, read from the model tables (not validated; see check_model)';

-- A model whose stored definition holds rules its tables do not: what a
-- pg_restore -j leaves when it loads rules before their components (and the
-- foreign keys refuse them). Nothing may then compile the definition anew
-- from the tables, which would drop those rules without a word.
CREATE FUNCTION lead_scoring.check_model_tables(model_id integer, definition jsonb) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  missing bigint;
BEGIN
  SELECT count(*) INTO missing
    FROM (SELECT 'activity_rules' AS list, (r->>'rule_id')::integer AS rule_id
            FROM jsonb_array_elements(definition->'activity_rules') r
          UNION ALL
          SELECT 'fit_rules', (r->>'rule_id')::integer FROM jsonb_array_elements(definition->'fit_rules') r) d
   WHERE NOT EXISTS (SELECT FROM lead_scoring.activity_rules a
                      WHERE d.list = 'activity_rules' AND a.rule_id = d.rule_id AND a.model_id = check_model_tables.model_id)
     AND NOT EXISTS (SELECT FROM lead_scoring.fit_rules f
                      WHERE d.list = 'fit_rules' AND f.rule_id = d.rule_id AND f.model_id = check_model_tables.model_id);
  IF missing > 0 THEN
    RAISE EXCEPTION 'model % holds % rules that lead_scoring.activity_rules and fit_rules do not', model_id, missing
      USING ERRCODE = 'data_corrupted',
            DETAIL = 'Rules are only removed by deleting them; these were never loaded, as after a parallel pg_restore (-j) loads rules before their components.',
            HINT = 'Restore the dump again, without -j (serially), into an empty database.';
  END IF;
END
$$;
COMMENT ON FUNCTION lead_scoring.check_model_tables(integer, jsonb) IS
  'Refuses a model whose definition holds rules its tables do not (an incomplete restore), before anything compiles it anew and drops them';

-- Rebuild every lead's state under the active model and report grade changes.
-- previous_definition is what the states were built with, to grade "before".
CREATE FUNCTION lead_scoring.rescore_from(previous_definition jsonb,
  OUT leads_rescored bigint, OUT leads_changed_grade bigint,
  OUT leads_now_sales_ready bigint, OUT leads_no_longer_sales_ready bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  definition jsonb;
BEGIN
  -- block live-scoring writers so that no committed activity is missed or counted twice
  LOCK TABLE lead_scoring.lead_scores IN EXCLUSIVE MODE;
  SELECT m.definition INTO definition FROM lead_scoring.models m WHERE m.is_active;
  -- the first rescore after a restore finds a restore that lost rules
  PERFORM lead_scoring.check_model_tables(m.model_id, m.definition) FROM lead_scoring.models m;
  IF definition IS NULL THEN
    RAISE EXCEPTION 'no scoring model is active'
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Activate one with SELECT * FROM lead_scoring.activate_model(''name'').';
  END IF;
  EXECUTE format($q$
    WITH t AS (SELECT * FROM lead_scoring.grade_thresholds),
    before AS (
      SELECT s.lead_id, t.grades[g] AS grade, t.sales_ready[g] AS sales_ready
        FROM lead_scoring.lead_scores s, t,
             LATERAL lead_scoring.grade_index(lead_scoring.total_score(s.fit_score,
               CASE WHEN lead_scoring.state_matches_model(s.engagement, $2) THEN s.engagement END, $2, now()),
               t.min_scores) g),
    fresh AS (
      SELECT a.lead_id, lead_scoring.score_activities($1, a.activity_type, a.occurred_at, a.properties) AS engagement
        FROM (%s) a WHERE a.lead_id IS NOT NULL GROUP BY a.lead_id),
    fit AS (
      SELECT l.lead_id, lead_scoring.fit_score($1, lead_scoring.fit_attributes(l.email, l.first_name, l.last_name, l.company, l.attributes)) AS fit_score
        FROM lead_scoring.leads l),
    -- the leads scored: those of the leads table, and those with activities
    -- in a tracked table; a state of anyone else (a deleted lead, or one only
    -- in a table no longer tracked) goes
    everyone AS (
      SELECT lead_id FROM fresh UNION SELECT lead_id FROM fit),
    gone AS (
      DELETE FROM lead_scoring.lead_scores s WHERE NOT EXISTS (SELECT FROM everyone e WHERE e.lead_id = s.lead_id)),
    written AS (
      INSERT INTO lead_scoring.lead_scores AS s (lead_id, fit_score, engagement, scored_at, handed_off)
      SELECT e.lead_id, coalesce(fit.fit_score, 0), fresh.engagement, now(),
             EXISTS (SELECT FROM lead_scoring.handoffs h WHERE h.lead_id = e.lead_id)
        FROM everyone e LEFT JOIN fresh USING (lead_id) LEFT JOIN fit USING (lead_id)
       ORDER BY e.lead_id
      ON CONFLICT (lead_id) DO UPDATE
         SET fit_score = excluded.fit_score, engagement = excluded.engagement, scored_at = excluded.scored_at
      RETURNING s.lead_id, lead_scoring.total_score(s.fit_score, s.engagement, $1, now()) AS total),
    after AS (
      SELECT w.lead_id, t.grades[g] AS grade, t.sales_ready[g] AS sales_ready
        FROM written w, t, LATERAL lead_scoring.grade_index(w.total, t.min_scores) g)
    SELECT count(*),
           count(*) FILTER (WHERE a.grade IS DISTINCT FROM b.grade),
           count(*) FILTER (WHERE a.sales_ready AND NOT coalesce(b.sales_ready, false)),
           count(*) FILTER (WHERE b.sales_ready AND NOT coalesce(a.sales_ready, false))
      FROM after a LEFT JOIN before b USING (lead_id)$q$,
    lead_scoring.activity_sources_sql())
  INTO leads_rescored, leads_changed_grade, leads_now_sales_ready, leads_no_longer_sales_ready
  USING definition, coalesce(previous_definition, definition);
  -- opt-outs as the activities have them (the latest of each lead decides)
  PERFORM lead_scoring.apply_opt_activities(NULL);
  PERFORM lead_scoring.hand_off(NULL, CASE WHEN previous_definition IS DISTINCT FROM definition
                                           THEN 'model' ELSE 'rescore' END);
END
$$;
COMMENT ON FUNCTION lead_scoring.rescore_from(jsonb) IS
  'Rescores every lead under the active model; grades before are computed with previous_definition. Use lead_scoring.rescore()';

-- Owner's rights, so that only rescore() needs a grant (to marketing): it
-- reads the leads, the model and the tracked tables, which track() checked.
CREATE FUNCTION lead_scoring.rescore(
  OUT leads_rescored bigint, OUT leads_changed_grade bigint,
  OUT leads_now_sales_ready bigint, OUT leads_no_longer_sales_ready bigint)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  SELECT * FROM lead_scoring.rescore_from(NULL)
$$;
COMMENT ON FUNCTION lead_scoring.rescore() IS
  'Recomputes every lead''s fit and engagement from the leads and all tracked activity tables under the active model, and reports how many leads changed grade and sales-readiness';

-- One UPDATE switches the model, and its trigger (rescore_on_activation)
-- rescores and leaves its report in a transaction-local setting: no flag a
-- session could set switches the rescore off.
CREATE FUNCTION lead_scoring.activate_model(model_name text,
  OUT leads_rescored bigint, OUT leads_changed_grade bigint,
  OUT leads_now_sales_ready bigint, OUT leads_no_longer_sales_ready bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off
  SET client_min_messages = warning AS $$
DECLARE
  report text[];
BEGIN
  IF NOT EXISTS (SELECT FROM lead_scoring.models WHERE name = model_name) THEN
    RAISE EXCEPTION 'scoring model "%" does not exist', model_name
      USING ERRCODE = 'undefined_object';
  END IF;
  IF EXISTS (SELECT FROM lead_scoring.models WHERE name = model_name AND is_active) THEN
    -- already active: nothing switches, and a rescore is what was asked
    SELECT * INTO leads_rescored, leads_changed_grade, leads_now_sales_ready, leads_no_longer_sales_ready
      FROM lead_scoring.rescore_from((SELECT m.definition FROM lead_scoring.models m WHERE m.is_active));
    RETURN;
  END IF;
  PERFORM pg_catalog.set_config('lead_scoring.last_activation', '', true);
  UPDATE lead_scoring.models SET is_active = (name = model_name) WHERE is_active OR name = model_name;
  report := pg_catalog.string_to_array(pg_catalog.current_setting('lead_scoring.last_activation'), ' ');
  leads_rescored := report[1];
  leads_changed_grade := report[2];
  leads_now_sales_ready := report[3];
  leads_no_longer_sales_ready := report[4];
END
$$;
COMMENT ON FUNCTION lead_scoring.activate_model(text) IS
  'Makes the named model the active one and rescores every lead, in one transaction; reports how many leads changed grade';

-- After rule or component changes: recompile definitions; rescore if the active one changed.
CREATE FUNCTION lead_scoring.compile_models() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  m record;
  compiled jsonb;
  previous jsonb;
  report record;
BEGIN
  IF TG_RELID NOT IN ('lead_scoring.components'::regclass, 'lead_scoring.activity_rules'::regclass,
                      'lead_scoring.fit_rules'::regclass) THEN
    PERFORM lead_scoring.require_trigger_on(TG_RELID, 'lead_scoring.components', 'compile_models');
  END IF;
  IF lead_scoring.loading_dump() THEN
    RETURN NULL;  -- restoring a dump: data as dumped; rescore() follows
  END IF;
  FOR m IN SELECT model_id, is_active, definition FROM lead_scoring.models ORDER BY model_id LOOP
    -- rules leave a definition only by being deleted
    IF TG_OP NOT IN ('DELETE', 'TRUNCATE') AND m.definition IS NOT NULL THEN
      PERFORM lead_scoring.check_model_tables(m.model_id, m.definition);
    END IF;
    compiled := lead_scoring.check_model(lead_scoring.model_definition(m.model_id));
    IF compiled IS DISTINCT FROM m.definition THEN
      UPDATE lead_scoring.models SET definition = compiled WHERE model_id = m.model_id;
      IF m.is_active THEN
        previous := m.definition;
      END IF;
    END IF;
  END LOOP;
  IF previous IS NOT NULL THEN
    SELECT * INTO report FROM lead_scoring.rescore_from(previous);
    RAISE NOTICE 'active model changed: % leads rescored, % changed grade', report.leads_rescored, report.leads_changed_grade;
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.compile_models() IS
  'Trigger (after changes to components or rules, per statement): validates and stores each model''s definition, and rescores if the active model changed';

CREATE TRIGGER compile_models AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lead_scoring.components
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.compile_models();
CREATE TRIGGER compile_models AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lead_scoring.activity_rules
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.compile_models();
CREATE TRIGGER compile_models AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lead_scoring.fit_rules
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.compile_models();

-- A model's definition is always derived from its tables.
CREATE FUNCTION lead_scoring.compile_model_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  IF lead_scoring.loading_dump() THEN
    RETURN NEW;  -- restoring a dump: the row as dumped
  END IF;
  NEW.definition := lead_scoring.check_model(lead_scoring.model_definition(NEW.model_id));
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lead_scoring.compile_model_row() IS
  'Trigger (before insert or update on models): sets definition from the model''s tables';
CREATE TRIGGER compile_model_row BEFORE INSERT OR UPDATE ON lead_scoring.models
  FOR EACH ROW EXECUTE FUNCTION lead_scoring.compile_model_row();

-- Switching the active model rescores, by activate_model or a plain UPDATE.
CREATE FUNCTION lead_scoring.rescore_on_activation() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  previous jsonb;
  report record;
BEGIN
  PERFORM lead_scoring.require_trigger_on(TG_RELID, 'lead_scoring.models', 'rescore_on_activation');
  IF lead_scoring.loading_dump() THEN
    RETURN NULL;  -- restoring a dump: data as dumped; rescore() follows
  END IF;
  IF NOT EXISTS (SELECT FROM lead_scoring.models WHERE is_active) THEN
    RETURN NULL;
  END IF;
  IF NOT EXISTS (SELECT FROM old_models o JOIN new_models n USING (model_id)
                  WHERE o.is_active IS DISTINCT FROM n.is_active) THEN
    RETURN NULL;
  END IF;
  SELECT o.definition INTO previous FROM old_models o WHERE o.is_active;
  SELECT * INTO report FROM lead_scoring.rescore_from(previous);
  RAISE NOTICE 'active model changed: % leads rescored, % changed grade', report.leads_rescored, report.leads_changed_grade;
  -- for activate_model, which reports it
  PERFORM pg_catalog.set_config('lead_scoring.last_activation',
                                pg_catalog.concat_ws(' ', report.leads_rescored, report.leads_changed_grade,
                                                     report.leads_now_sales_ready, report.leads_no_longer_sales_ready), true);
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.rescore_on_activation() IS
  'Trigger (after update on models, per statement): rescores when the active model was switched, by activate_model or a plain UPDATE';
CREATE TRIGGER rescore_on_activation AFTER UPDATE ON lead_scoring.models
  REFERENCING OLD TABLE AS old_models NEW TABLE AS new_models
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.rescore_on_activation();

-- At commit: if models exist, exactly one is active.
CREATE FUNCTION lead_scoring.check_one_active_model() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  IF EXISTS (SELECT FROM lead_scoring.models)
     AND NOT EXISTS (SELECT FROM lead_scoring.models WHERE is_active) THEN
    RAISE EXCEPTION 'no scoring model is active'
      USING ERRCODE = 'check_violation',
            HINT = 'Exactly one model must be active; switch with lead_scoring.activate_model(name).';
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.check_one_active_model() IS
  'Constraint trigger (deferred to commit): refuses to leave models without an active one';
CREATE CONSTRAINT TRIGGER check_one_active_model AFTER INSERT OR UPDATE OR DELETE ON lead_scoring.models
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION lead_scoring.check_one_active_model();

-- Owner's rights, so that only track() and untrack() need a grant (to admin)
-- and nobody writes tracked_tables or attaches the trigger functions but
-- they: the caller must be able to read the table and create its triggers,
-- and the table must fit (check_tracked_table).
CREATE FUNCTION lead_scoring.track(activity_table regclass, lead_column name, type_column name,
                                   time_column name, properties_column name DEFAULT NULL,
  OUT leads_rescored bigint, OUT leads_changed_grade bigint,
  OUT leads_now_sales_ready bigint, OUT leads_no_longer_sales_ready bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  IF NOT (pg_catalog.has_table_privilege(lead_scoring.acting_role(), activity_table, 'SELECT')
          AND pg_catalog.has_table_privilege(lead_scoring.acting_role(), activity_table, 'TRIGGER')) THEN
    RAISE EXCEPTION 'permission denied for table %', activity_table
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Tracking a table needs SELECT and TRIGGER on it.';
  END IF;
  PERFORM lead_scoring.check_tracked_table(activity_table, lead_column, type_column, time_column, properties_column);
  IF EXISTS (SELECT FROM lead_scoring.tracked_tables t WHERE t.activity_table = track.activity_table) THEN
    RAISE EXCEPTION '% is already tracked', activity_table USING ERRCODE = 'duplicate_object';
  END IF;
  INSERT INTO lead_scoring.tracked_tables (activity_table, lead_column, type_column, time_column, properties_column)
  VALUES (activity_table, lead_column, type_column, time_column, properties_column);
  EXECUTE format('CREATE TRIGGER lead_scoring_score_inserts AFTER INSERT ON %s REFERENCING NEW TABLE AS new_activities '
                 'FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.score_inserted_activities(%L, %L, %L, %L)',
                 activity_table, lead_column, type_column, time_column, coalesce(properties_column, ''));
  EXECUTE format('CREATE TRIGGER lead_scoring_rescore_updates AFTER UPDATE ON %s '
                 'REFERENCING OLD TABLE AS old_activities NEW TABLE AS new_activities '
                 'FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.rescore_changed_activities(%L)',
                 activity_table, lead_column);
  EXECUTE format('CREATE TRIGGER lead_scoring_rescore_deletes AFTER DELETE ON %s REFERENCING OLD TABLE AS old_activities '
                 'FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.rescore_changed_activities(%L)',
                 activity_table, lead_column);
  EXECUTE format('CREATE TRIGGER lead_scoring_rescore_truncates AFTER TRUNCATE ON %s '
                 'FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.rescore_changed_activities(%L)',
                 activity_table, lead_column);
  IF EXISTS (SELECT FROM lead_scoring.models WHERE is_active) THEN
    SELECT * INTO leads_rescored, leads_changed_grade, leads_now_sales_ready, leads_no_longer_sales_ready
      FROM lead_scoring.rescore();
  END IF;
END
$$;
COMMENT ON FUNCTION lead_scoring.track(regclass, name, name, name, name) IS
  'Scores an existing activity table live, in place: adds triggers, scores its rows, and reports the rescore';

CREATE FUNCTION lead_scoring.untrack(activity_table regclass,
  OUT leads_rescored bigint, OUT leads_changed_grade bigint,
  OUT leads_now_sales_ready bigint, OUT leads_no_longer_sales_ready bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  trigger_name text;
BEGIN
  IF NOT pg_catalog.has_table_privilege(lead_scoring.acting_role(), activity_table, 'TRIGGER') THEN
    RAISE EXCEPTION 'permission denied for table %', activity_table
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Untracking a table needs TRIGGER on it.';
  END IF;
  DELETE FROM lead_scoring.tracked_tables t WHERE t.activity_table = untrack.activity_table;
  IF NOT FOUND THEN
    RAISE EXCEPTION '% is not tracked', activity_table USING ERRCODE = 'undefined_object';
  END IF;
  FOREACH trigger_name IN ARRAY ARRAY['lead_scoring_score_inserts', 'lead_scoring_rescore_updates',
                                      'lead_scoring_rescore_deletes', 'lead_scoring_rescore_truncates'] LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', trigger_name, activity_table);
  END LOOP;
  IF EXISTS (SELECT FROM lead_scoring.models WHERE is_active) THEN
    SELECT * INTO leads_rescored, leads_changed_grade, leads_now_sales_ready, leads_no_longer_sales_ready
      FROM lead_scoring.rescore();
  END IF;
END
$$;
COMMENT ON FUNCTION lead_scoring.untrack(regclass) IS
  'Stops scoring an activity table: drops its triggers, leaves its rows untouched, and rescores without them';

-- A tracked table stays what track() checked: DDL that renames, retypes or
-- drops one of its tracked columns is refused (it would break the scoring of
-- that table), and a dropped table is untracked, its activities leaving the
-- scores. Owner's rights, to read tracked_tables for whoever runs the DDL.
CREATE FUNCTION lead_scoring.guard_tracked_tables() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  t record;
BEGIN
  IF TG_EVENT = 'ddl_command_end' THEN
    FOR t IN SELECT x.activity_table, p.problem
               FROM lead_scoring.tracked_tables x
              CROSS JOIN LATERAL (SELECT lead_scoring.tracked_table_problem(x.activity_table, x.lead_column, x.type_column,
                                                                            x.time_column, x.properties_column) AS problem) p
              WHERE p.problem IS NOT NULL
                AND x.activity_table::oid IN (SELECT c.objid FROM pg_event_trigger_ddl_commands() c
                                               WHERE c.classid = 'pg_class'::regclass) LOOP
      RAISE EXCEPTION '% is tracked, and this would stop its scoring: %', t.activity_table, t.problem
        USING ERRCODE = 'dependent_objects_still_exist',
              HINT = 'Untrack it first (lead_scoring.untrack), then change it and track it again.';
    END LOOP;
  ELSE
    DELETE FROM lead_scoring.tracked_tables x
     USING pg_event_trigger_dropped_objects() d
     WHERE d.classid = 'pg_class'::regclass AND d.objid = x.activity_table::oid AND d.objsubid = 0;
    IF FOUND AND EXISTS (SELECT FROM lead_scoring.models WHERE is_active) THEN
      PERFORM lead_scoring.rescore_from((SELECT m.definition FROM lead_scoring.models m WHERE m.is_active));
    END IF;
  END IF;
END
$$;
COMMENT ON FUNCTION lead_scoring.guard_tracked_tables() IS
  'Event trigger: refuses ALTER TABLE that renames, retypes or drops a tracked column, and untracks a dropped table (rescoring without it)';
CREATE EVENT TRIGGER lead_scoring_guard_tracked_alter ON ddl_command_end WHEN TAG IN ('ALTER TABLE')
  EXECUTE FUNCTION lead_scoring.guard_tracked_tables();
CREATE EVENT TRIGGER lead_scoring_guard_tracked_drop ON sql_drop WHEN TAG IN ('DROP TABLE', 'DROP SCHEMA', 'DROP OWNED')
  EXECUTE FUNCTION lead_scoring.guard_tracked_tables();

SELECT lead_scoring.track('lead_scoring.activities', 'lead_id', 'activity_type', 'occurred_at', 'properties');
