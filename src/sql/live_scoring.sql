-- Live scoring: statement-level triggers with transition tables keep
-- lead_scores current in the same transaction as the change.

CREATE TABLE lead_scoring.tracked_tables (
  activity_table    regclass PRIMARY KEY,
  lead_column       name NOT NULL,
  type_column       name NOT NULL,
  time_column       name NOT NULL,
  properties_column name,
  tracked_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE lead_scoring.tracked_tables IS 'Activity tables whose rows are scored live; add one with lead_scoring.track()';
COMMENT ON COLUMN lead_scoring.tracked_tables.activity_table IS 'The table';
COMMENT ON COLUMN lead_scoring.tracked_tables.lead_column IS 'Its column holding the lead id';
COMMENT ON COLUMN lead_scoring.tracked_tables.type_column IS 'Its column holding the activity type';
COMMENT ON COLUMN lead_scoring.tracked_tables.time_column IS 'Its column holding when the activity happened';
COMMENT ON COLUMN lead_scoring.tracked_tables.properties_column IS 'Its jsonb column of properties rules can match; empty if none';
COMMENT ON COLUMN lead_scoring.tracked_tables.tracked_at IS 'When tracking started';

-- A tracked table's tree: pg_partition_tree and pg_partition_ancestors list
-- nothing for a table that is not partitioned nor a partition.
CREATE FUNCTION lead_scoring.partition_tree(relation regclass) RETURNS TABLE (relid regclass, level integer)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT $1, 0 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_partition_tree($1))
  UNION ALL
  SELECT t.relid, t.level FROM pg_catalog.pg_partition_tree($1) t
$$;
COMMENT ON FUNCTION lead_scoring.partition_tree(regclass) IS
  'The table and its partitions at every level (level 0: the table), whether or not it is partitioned';
CREATE FUNCTION lead_scoring.partition_ancestors(relation regclass) RETURNS SETOF regclass
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT $1 UNION SELECT pg_catalog.pg_partition_ancestors($1)
$$;
COMMENT ON FUNCTION lead_scoring.partition_ancestors(regclass) IS
  'The table and the tables it is a partition of, at every level';

-- What a tracked table must be: C, so that the insert trigger checks it too.
CREATE FUNCTION lead_scoring.tracked_table_problem(activity_table oid, lead_column name, type_column name,
                                                   time_column name, properties_column name)
RETURNS text AS 'MODULE_PATHNAME', 'lead_scoring_tracked_table_problem'
  LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.tracked_table_problem(oid, name, name, name, name) IS
  'Why these columns of this table cannot be tracked (not a permanent table, a column missing, or not of a built-in type that fits), or null if they can';
CREATE FUNCTION lead_scoring.check_tracked_table(activity_table oid, lead_column name, type_column name,
                                                 time_column name, properties_column name)
RETURNS void AS 'MODULE_PATHNAME', 'lead_scoring_check_tracked_table'
  LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.check_tracked_table(oid, name, name, name, name) IS
  'Raises the error tracked_table_problem describes, if any';

-- Whoever writes tracked_tables (track(), or a superuser by hand), only a
-- table that fits gets in: every query of the owner's rights reads it.
CREATE FUNCTION lead_scoring.check_tracked_table_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM lead_scoring.check_tracked_table(NEW.activity_table, NEW.lead_column, NEW.type_column,
                                           NEW.time_column, NEW.properties_column);
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lead_scoring.check_tracked_table_row() IS
  'Trigger (before insert or update on tracked_tables): refuses a relation that is not a permanent table, or columns that do not fit';
CREATE TRIGGER check_tracked_table_row BEFORE INSERT OR UPDATE ON lead_scoring.tracked_tables
  FOR EACH ROW EXECUTE FUNCTION lead_scoring.check_tracked_table_row();

-- One SELECT over every tracked table, with the standard column names, in
-- the order of their names (which a restore keeps, unlike their oids: a
-- rescore then sums each lead's activities in the same order). A
-- table that no longer fits (a column renamed, retyped or dropped) is left
-- out with a warning: it is not read with the owner's rights, and it does not
-- stop the others.
CREATE FUNCTION lead_scoring.activity_sources_sql() RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT x.activity_table, p.problem
             FROM lead_scoring.tracked_tables x
            CROSS JOIN LATERAL (SELECT lead_scoring.tracked_table_problem(x.activity_table, x.lead_column, x.type_column,
                                                                          x.time_column, x.properties_column) AS problem) p
            WHERE p.problem IS NOT NULL LOOP
    RAISE WARNING 'the activities of % are not scored: %', t.activity_table, t.problem
      USING HINT = 'Give the column back its name and type, or untrack the table and track it again.';
  END LOOP;
  RETURN (
    SELECT coalesce(string_agg(format(
             'SELECT %I::bigint AS lead_id, %I::text AS activity_type, %I AS occurred_at, %s AS properties FROM %s',
             lead_column, type_column, time_column,
             CASE WHEN properties_column IS NULL THEN 'NULL::jsonb' ELSE format('%I::jsonb', properties_column) END,
             activity_table), ' UNION ALL ' ORDER BY activity_table::text COLLATE "C"),
           'SELECT NULL::bigint AS lead_id, NULL::text AS activity_type, NULL::timestamptz AS occurred_at, NULL::jsonb AS properties WHERE false')
      FROM lead_scoring.tracked_tables
     WHERE lead_scoring.tracked_table_problem(activity_table, lead_column, type_column, time_column, properties_column) IS NULL);
END
$$;
COMMENT ON FUNCTION lead_scoring.activity_sources_sql() IS
  'SQL text of a query over all tracked activity tables, with columns lead_id, activity_type, occurred_at, properties';

-- The insert trigger in C: its statements keep their plans between inserts
-- (as dynamic SQL in PL/pgSQL they were planned again on every insert), and
-- the burst search runs only for leads with enough activities to have one.
CREATE FUNCTION lead_scoring.score_inserted_activities() RETURNS trigger
AS 'MODULE_PATHNAME', 'lead_scoring_score_inserted_activities'
LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off;
COMMENT ON FUNCTION lead_scoring.score_inserted_activities() IS
  'Trigger (AFTER INSERT, per statement; arguments: the lead, type, time and properties columns): adds the inserted activities to their leads'' engagement, applies opt-outs, finds bursts and hands off leads that became sales-ready';

-- Recompute the engagement of some leads (all if lead_ids is null) from every
-- tracked table. For all leads, only states that change are written: a
-- TRUNCATE of a partitioned table fires on the table and on each partition,
-- and all but the first find nothing left to change.
CREATE FUNCTION lead_scoring.recompute_engagement(lead_ids bigint[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  changed bigint[];
BEGIN
  IF pg_catalog.current_setting('lead_scoring.model_change_pending', true) = 'on' THEN
    PERFORM lead_scoring.apply_model_changes();  -- the states as the active model counts
  END IF;
  -- Lock the states being replaced, in lead order: a concurrent insert's merge
  -- waits for this transaction, and this recompute (a new snapshot, taken after
  -- the lock) sees every activity committed before it. Row locks, not a table
  -- lock, so a transaction that already wrote scores never has to upgrade.
  PERFORM FROM lead_scoring.lead_scores s
   WHERE lead_ids IS NULL OR s.lead_id = ANY (lead_ids)
   ORDER BY s.lead_id FOR UPDATE;
  EXECUTE format($q$
    WITH fresh AS (
      SELECT a.lead_id, lead_scoring.score_activities(m.definition, a.activity_type, a.occurred_at, a.properties) AS engagement
        FROM (%s) a, lead_scoring.models m
       WHERE m.is_active AND ($1 IS NULL OR a.lead_id = ANY ($1))
       GROUP BY a.lead_id),
    written AS (
      UPDATE lead_scoring.lead_scores s
         SET engagement = fresh.engagement, scored_at = now(),
             -- faded below sales-ready since its handoff: it may be handed off again
             handed_off = s.handed_off AND (lead_scoring.lead_score(s.lead_id, now())).sales_ready,
             score_stamp = lead_scoring.stamp_score(t.fit_tests, t.fit_basis, fresh.engagement,
                                                    (SELECT m.definition FROM lead_scoring.models m WHERE m.is_active),
                                                    (SELECT g.min_scores FROM lead_scoring.grade_thresholds g), now())
        FROM lead_scoring.lead_scores t LEFT JOIN fresh USING (lead_id)
       WHERE s.lead_id = t.lead_id AND ($1 IS NULL OR t.lead_id = ANY ($1))
         -- the leads asked for are written even if unchanged, so that a
         -- rescore running meanwhile sees their rows change (rescore_from)
         AND ($1 IS NOT NULL
              OR lead_scoring.engagement_state_send(t.engagement) IS DISTINCT FROM lead_scoring.engagement_state_send(fresh.engagement))
      RETURNING s.lead_id)
    SELECT array_agg(lead_id) FROM written$q$,
    lead_scoring.activity_sources_sql())
  INTO changed
  USING lead_ids;
  IF changed IS NOT NULL THEN
    PERFORM lead_scoring.hand_off(changed, 'activity');
    -- as rescore() would: a lead is scored if it is in leads or has activities
    -- (or is suppressed: its row keeps the count)
    DELETE FROM lead_scoring.lead_scores s
     WHERE s.lead_id = ANY (changed) AND s.engagement IS NULL AND s.open_suppressions = 0
       AND NOT EXISTS (SELECT FROM lead_scoring.leads l WHERE l.lead_id = s.lead_id);
  END IF;
END
$$;
COMMENT ON FUNCTION lead_scoring.recompute_engagement(bigint[]) IS
  'Recomputes the engagement state of the given leads (all leads if null) from every tracked activity table; a lead left with no activities and not in leads loses its state';

-- AFTER UPDATE, DELETE or TRUNCATE: recompute the leads whose activities changed.
CREATE FUNCTION lead_scoring.rescore_changed_activities() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  ids bigint[];
  tracked lead_scoring.tracked_tables;
BEGIN
  -- only a tracked table, read only while its columns still fit (see
  -- score_inserted_activities)
  SELECT * INTO tracked FROM lead_scoring.tracked_tables t
   WHERE t.activity_table IN (SELECT lead_scoring.partition_ancestors(TG_RELID)) AND t.lead_column = TG_ARGV[0];
  IF tracked.activity_table IS NULL THEN
    RAISE EXCEPTION 'rescore_changed_activities() fires only on tables tracked with lead_scoring.track(), not on %',
      TG_RELID::regclass USING ERRCODE = 'trigger_protocol_violated';
  END IF;
  PERFORM lead_scoring.check_tracked_table(TG_RELID, tracked.lead_column, tracked.type_column,
                                           tracked.time_column, tracked.properties_column);
  IF lead_scoring.loading_dump() THEN
    RETURN NULL;  -- restoring a dump: data as dumped; rescore() follows
  END IF;
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM lead_scoring.recompute_engagement(NULL);
    RETURN NULL;
  ELSIF TG_OP = 'UPDATE' THEN
    EXECUTE format('SELECT array_agg(DISTINCT l) FROM (SELECT %1$I::bigint FROM old_activities UNION ALL SELECT %1$I::bigint FROM new_activities) x(l)',
                   TG_ARGV[0]) INTO ids;
  ELSE
    EXECUTE format('SELECT array_agg(DISTINCT %1$I::bigint) FROM old_activities', TG_ARGV[0]) INTO ids;
  END IF;
  IF ids IS NOT NULL THEN
    PERFORM lead_scoring.recompute_engagement(ids);
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.rescore_changed_activities() IS
  'Trigger (AFTER UPDATE, DELETE or TRUNCATE, per statement): recomputes the engagement of the leads whose activities changed';

-- AFTER INSERT on leads: score the fit of the new leads.
CREATE FUNCTION lead_scoring.score_new_leads() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  lead_ids bigint[];
BEGIN
  PERFORM lead_scoring.require_trigger_on(TG_RELID, 'lead_scoring.leads', 'score_new_leads');
  IF lead_scoring.loading_dump() THEN
    RETURN NULL;  -- restoring a dump: data as dumped; rescore() follows
  END IF;
  IF pg_catalog.current_setting('lead_scoring.model_change_pending', true) = 'on' THEN
    PERFORM lead_scoring.apply_model_changes();  -- the states as the active model counts
  END IF;
  WITH scored AS (
    INSERT INTO lead_scoring.lead_scores AS s (lead_id, fit_tests, fit_basis, score_stamp)
    SELECT n.lead_id, f.tests, f.basis, lead_scoring.stamp_score(f.tests, f.basis, NULL, m.definition, t.min_scores, now())
      FROM new_leads n LEFT JOIN lead_scoring.models m ON m.is_active
     CROSS JOIN LATERAL (SELECT coalesce(lead_scoring.lead_fit_tests(m.definition, n.email, n.first_name, n.last_name,
                                                                     n.company, n.attributes), '{}') AS tests,
                                lead_scoring.fit_basis(m.definition) AS basis) f
     CROSS JOIN lead_scoring.grade_thresholds t
     ORDER BY n.lead_id
    ON CONFLICT (lead_id) DO UPDATE SET fit_tests = excluded.fit_tests, fit_basis = excluded.fit_basis, scored_at = now(),
       -- faded below sales-ready since its handoff: it may be handed off again
       handed_off = s.handed_off AND (lead_scoring.lead_score(s.lead_id, now())).sales_ready,
       score_stamp = lead_scoring.stamp_score(excluded.fit_tests, excluded.fit_basis, s.engagement,
                                              (SELECT m.definition FROM lead_scoring.models m WHERE m.is_active),
                                              (SELECT t.min_scores FROM lead_scoring.grade_thresholds t), now())
    RETURNING s.lead_id)
  SELECT array_agg(lead_id) INTO lead_ids FROM scored;
  INSERT INTO lead_scoring.suppressions (lead_id, kind, reason)
  SELECT n.lead_id, 'opt_out', 'opted out (leads.opted_out)' FROM new_leads n WHERE n.opted_out
  ON CONFLICT DO NOTHING;
  IF lead_ids IS NOT NULL THEN
    PERFORM lead_scoring.find_bogus_leads(lead_ids);
    PERFORM lead_scoring.hand_off(lead_ids, 'fit');
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.score_new_leads() IS
  'Trigger (AFTER INSERT on leads, per statement): scores the fit of new leads, suppresses bogus and opted-out ones, and hands off those that are sales-ready';

-- AFTER UPDATE on leads: score the fit of the leads whose attributes changed,
-- and follow their opt-outs.
CREATE FUNCTION lead_scoring.score_changed_leads() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  lead_ids bigint[];
BEGIN
  PERFORM lead_scoring.require_trigger_on(TG_RELID, 'lead_scoring.leads', 'score_changed_leads');
  IF lead_scoring.loading_dump() THEN
    RETURN NULL;  -- restoring a dump: data as dumped; rescore() follows
  END IF;
  IF pg_catalog.current_setting('lead_scoring.model_change_pending', true) = 'on' THEN
    PERFORM lead_scoring.apply_model_changes();  -- the states as the active model counts
  END IF;
  WITH scored AS (
    INSERT INTO lead_scoring.lead_scores AS s (lead_id, fit_tests, fit_basis, score_stamp)
    SELECT n.lead_id, f.tests, f.basis, lead_scoring.stamp_score(f.tests, f.basis, NULL, m.definition, t.min_scores, now())
      FROM new_leads n LEFT JOIN old_leads o USING (lead_id) LEFT JOIN lead_scoring.models m ON m.is_active
     CROSS JOIN LATERAL (SELECT coalesce(lead_scoring.lead_fit_tests(m.definition, n.email, n.first_name, n.last_name,
                                                                     n.company, n.attributes), '{}') AS tests,
                                lead_scoring.fit_basis(m.definition) AS basis) f
     CROSS JOIN lead_scoring.grade_thresholds t
     WHERE o.lead_id IS NULL   -- a lead whose id changed comes in as if inserted
        OR (n.email, n.first_name, n.last_name, n.company, n.attributes)
           IS DISTINCT FROM (o.email, o.first_name, o.last_name, o.company, o.attributes)
     ORDER BY n.lead_id
    ON CONFLICT (lead_id) DO UPDATE SET fit_tests = excluded.fit_tests, fit_basis = excluded.fit_basis, scored_at = now(),
       -- faded below sales-ready since its handoff: it may be handed off again
       handed_off = s.handed_off AND (lead_scoring.lead_score(s.lead_id, now())).sales_ready,
       score_stamp = lead_scoring.stamp_score(excluded.fit_tests, excluded.fit_basis, s.engagement,
                                              (SELECT m.definition FROM lead_scoring.models m WHERE m.is_active),
                                              (SELECT t.min_scores FROM lead_scoring.grade_thresholds t), now())
    RETURNING s.lead_id)
  SELECT array_agg(lead_id) INTO lead_ids FROM scored;
  INSERT INTO lead_scoring.suppressions (lead_id, kind, reason)
  SELECT n.lead_id, 'opt_out', 'opted out (leads.opted_out)'
    FROM new_leads n JOIN old_leads o USING (lead_id) WHERE n.opted_out AND NOT o.opted_out
  ON CONFLICT DO NOTHING;
  -- the lead itself took its opt-out back
  UPDATE lead_scoring.suppressions s SET lifted_at = now(), lifted_by = lead_scoring.acting_role(),
         lift_reason = 'opted in (leads.opted_out set back to false)'
    FROM new_leads n JOIN old_leads o USING (lead_id)
   WHERE s.lead_id = n.lead_id AND s.kind = 'opt_out' AND s.lifted_at IS NULL
     AND o.opted_out AND NOT n.opted_out;
  lead_ids := lead_ids || ARRAY(SELECT n.lead_id FROM new_leads n JOIN old_leads o USING (lead_id)
                                 WHERE n.opted_out IS DISTINCT FROM o.opted_out);
  -- ids changed: the new ids get their activities, the old ones go as if deleted
  IF EXISTS (SELECT FROM new_leads n WHERE NOT EXISTS (SELECT FROM old_leads o WHERE o.lead_id = n.lead_id)) THEN
    PERFORM lead_scoring.recompute_engagement(ARRAY(
      SELECT n.lead_id FROM new_leads n WHERE NOT EXISTS (SELECT FROM old_leads o WHERE o.lead_id = n.lead_id)));
    PERFORM lead_scoring.forget_leads(ARRAY(
      SELECT o.lead_id FROM old_leads o WHERE NOT EXISTS (SELECT FROM new_leads n WHERE n.lead_id = o.lead_id)));
  END IF;
  IF cardinality(lead_ids) > 0 THEN
    PERFORM lead_scoring.find_bogus_leads(lead_ids);
    PERFORM lead_scoring.hand_off(lead_ids, 'fit');
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.score_changed_leads() IS
  'Trigger (AFTER UPDATE on leads, per statement): scores the fit of leads whose attributes changed, follows their opt-outs and opt-ins, suppresses bogus ones, and hands off those that became sales-ready';

-- Leads that left the leads table (deleted, or their id changed): a lead still
-- with activities in a tracked table stays, scored with fit 0, as rescore()
-- would score it; the others' states go.
CREATE FUNCTION lead_scoring.forget_leads(lead_ids bigint[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  UPDATE lead_scoring.lead_scores s SET fit_tests = '{}', fit_basis = NULL, score_stamp = NULL, scored_at = now()
   WHERE s.lead_id = ANY (lead_ids);
  PERFORM lead_scoring.recompute_engagement(lead_ids);
  DELETE FROM lead_scoring.lead_scores s
   WHERE s.lead_id = ANY (lead_ids) AND s.engagement IS NULL AND s.open_suppressions = 0;
END
$$;
COMMENT ON FUNCTION lead_scoring.forget_leads(bigint[]) IS
  'Scores leads that left the leads table with fit 0 if they have activities in a tracked table, and removes the others';

-- Activities that came or went in bulk, by DDL (a partition attached or
-- detached): the given leads scored again from every tracked table, as
-- rescore() would score them, opt-outs and bursts included. A lead new to
-- scoring has no state to lock, so live scoring waits, as for rescore().
CREATE FUNCTION lead_scoring.rescore_leads(lead_ids bigint[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  ids bigint[] := ARRAY(SELECT DISTINCT i FROM unnest(lead_ids) i WHERE i IS NOT NULL ORDER BY i);
BEGIN
  IF cardinality(ids) = 0 OR NOT EXISTS (SELECT FROM lead_scoring.models WHERE is_active) THEN
    RETURN;
  END IF;
  LOCK TABLE lead_scoring.lead_scores IN EXCLUSIVE MODE;
  INSERT INTO lead_scoring.lead_scores (lead_id, handed_off)
  SELECT i, EXISTS (SELECT FROM lead_scoring.handoffs h WHERE h.lead_id = i) FROM unnest(ids) i
  ON CONFLICT (lead_id) DO NOTHING;
  PERFORM lead_scoring.apply_opt_activities((SELECT jsonb_object_agg(i, true) FROM unnest(ids) i));
  PERFORM lead_scoring.find_activity_bursts(ids);
  PERFORM lead_scoring.recompute_engagement(ids);
END
$$;
COMMENT ON FUNCTION lead_scoring.rescore_leads(bigint[]) IS
  'Rescores the given leads from every tracked table, opt-outs and bursts included (after a partition is attached or detached): new leads get a state, leads left with no activities and not in leads lose theirs';

CREATE FUNCTION lead_scoring.forget_deleted_leads() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM lead_scoring.require_trigger_on(TG_RELID, 'lead_scoring.leads', 'forget_deleted_leads');
  PERFORM lead_scoring.forget_leads(ARRAY(SELECT o.lead_id FROM old_leads o));
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.forget_deleted_leads() IS
  'Trigger (AFTER DELETE on leads, per statement): scores deleted leads that still have activities in a tracked table with fit 0, and removes the others';

CREATE TRIGGER score_new_leads AFTER INSERT ON lead_scoring.leads
  REFERENCING NEW TABLE AS new_leads
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.score_new_leads();
CREATE TRIGGER score_changed_leads AFTER UPDATE ON lead_scoring.leads
  REFERENCING OLD TABLE AS old_leads NEW TABLE AS new_leads
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.score_changed_leads();
CREATE TRIGGER forget_deleted_leads AFTER DELETE ON lead_scoring.leads
  REFERENCING OLD TABLE AS old_leads
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.forget_deleted_leads();
