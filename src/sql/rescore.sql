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

-- A change of the active model writes only the states and fit records that
-- change; the others keep the fingerprint or fit basis of the model they were
-- built with, listed here, and the active model's definition carries the list
-- (stored_bases) so that it can evaluate them. Such a state is valid for the
-- model it was listed with: every counter it lacks was added by a recount that
-- found no activity of its lead, and every fit test its record lacks was
-- evaluated for its lead by the change that added it, and failed. A model
-- with other counters (an edit not yet applied) accepts none of them. Only
-- rescore_from writes it; derived, like lead_scores, so not dumped.
CREATE TABLE lead_scoring.stored_state_bases (
  dimension   lead_scoring.score_dimension NOT NULL,
  basis       bigint NOT NULL,
  model_basis bigint NOT NULL,
  PRIMARY KEY (dimension, basis)
);
COMMENT ON TABLE lead_scoring.stored_state_bases IS 'Fingerprints (engagement) and fit bases (fit) of older models that rows of lead_scores still carry, valid for the active model; written by rescores';
COMMENT ON COLUMN lead_scoring.stored_state_bases.dimension IS 'engagement: a state''s fingerprint (state_fingerprint); fit: a record''s fit_basis';
COMMENT ON COLUMN lead_scoring.stored_state_bases.basis IS 'The older fingerprint or fit basis';
COMMENT ON COLUMN lead_scoring.stored_state_bases.model_basis IS 'The fingerprint (model_fingerprint) or fit basis (fit_basis) of the model it is valid with';
-- whoever compiles the active model reads it; only the owner writes it
REVOKE ALL ON lead_scoring.stored_state_bases FROM PUBLIC;
GRANT SELECT ON lead_scoring.stored_state_bases TO PUBLIC;

CREATE FUNCTION lead_scoring.stored_bases(definition jsonb) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  SELECT CASE WHEN count(*) > 0 THEN
           jsonb_build_object('fingerprints', coalesce(jsonb_agg(b.basis ORDER BY b.basis)
                                                         FILTER (WHERE b.dimension = 'engagement'), '[]'),
                              'fit_bases', coalesce(jsonb_agg(b.basis ORDER BY b.basis)
                                                      FILTER (WHERE b.dimension = 'fit'), '[]'))
         END
    FROM lead_scoring.stored_state_bases b
   WHERE (b.dimension = 'engagement' AND b.model_basis = lead_scoring.model_fingerprint($1))
      OR (b.dimension = 'fit' AND b.model_basis = lead_scoring.fit_basis($1))
$$;
COMMENT ON FUNCTION lead_scoring.stored_bases(jsonb) IS
  'The older fingerprints and fit bases of stored states that a model definition (its counters, its fit tests) accepts, as models.definition holds them (null: none)';

-- What models.definition holds: the model's tables, validated, and for the
-- active model the bases of the stored states it accepts.
CREATE FUNCTION lead_scoring.compiled_definition(model_id integer, is_active boolean) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  SELECT CASE WHEN $2 AND b.bases IS NOT NULL THEN d.definition || jsonb_build_object('stored_bases', b.bases)
              ELSE d.definition END
    FROM (SELECT lead_scoring.check_model(lead_scoring.model_definition($1)) AS definition) d
   CROSS JOIN LATERAL (SELECT lead_scoring.stored_bases(d.definition) AS bases) b
$$;
COMMENT ON FUNCTION lead_scoring.compiled_definition(integer, boolean) IS
  'A model''s definition as models.definition holds it: its rules validated, and if active the bases of the stored states it accepts';

-- Was a row written by a transaction a snapshot does not see? (rescore_from)
CREATE FUNCTION lead_scoring.written_after(row_xmin xid, snapshot pg_snapshot) RETURNS boolean
  AS 'MODULE_PATHNAME', 'lead_scoring_written_after'
  LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION lead_scoring.written_after(xid, pg_snapshot) IS
  'Whether a row whose xmin is row_xmin was written by a transaction the snapshot does not see (running then or begun since); false for this transaction''s rows';

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

-- A definition that accepts those older fingerprints and fit bases (none: no stored_bases).
CREATE FUNCTION lead_scoring.with_stored_bases(definition jsonb, fingerprints bigint[], fit_bases bigint[])
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (definition - 'stored_bases')
       || CASE WHEN cardinality(fingerprints) + cardinality(fit_bases) > 0
               THEN jsonb_build_object('stored_bases', jsonb_build_object('fingerprints', to_jsonb(fingerprints),
                                                                          'fit_bases', to_jsonb(fit_bases)))
               ELSE '{}' END;
COMMENT ON FUNCTION lead_scoring.with_stored_bases(jsonb, bigint[], bigint[]) IS
  'The definition with its stored_bases replaced by these older fingerprints and fit bases, or removed if there are none';

-- The older bases that rows of lead_scores keep (the stored_bases of the
-- definition rescore_from brought them to), from now on in
-- stored_state_bases and the active model's definition.
CREATE FUNCTION lead_scoring.keep_stored_bases(definition jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  kept text[];
BEGIN
  kept := ARRAY(
    SELECT format('%s %s %s', k.dimension, k.basis, k.model_basis) FROM (
      SELECT 'engagement' AS dimension, f::bigint AS basis, lead_scoring.model_fingerprint(definition) AS model_basis
        FROM jsonb_array_elements_text(definition->'stored_bases'->'fingerprints') f
      UNION ALL
      SELECT 'fit', b::bigint, lead_scoring.fit_basis(definition)
        FROM jsonb_array_elements_text(definition->'stored_bases'->'fit_bases') b) k ORDER BY 1);
  IF kept = ARRAY(SELECT format('%s %s %s', b.dimension, b.basis, b.model_basis)
                    FROM lead_scoring.stored_state_bases b ORDER BY 1) THEN
    RETURN;
  END IF;
  DELETE FROM lead_scoring.stored_state_bases;
  INSERT INTO lead_scoring.stored_state_bases (dimension, basis, model_basis)
  SELECT split_part(k, ' ', 1)::lead_scoring.score_dimension, split_part(k, ' ', 2)::bigint, split_part(k, ' ', 3)::bigint
    FROM unnest(kept) k;
  UPDATE lead_scoring.models m SET definition = lead_scoring.compiled_definition(m.model_id, true) WHERE m.is_active;
END
$$;
COMMENT ON FUNCTION lead_scoring.keep_stored_bases(jsonb) IS
  'Records the older fingerprints and fit bases (stored_bases) of the definition rescore_from brought the rows of lead_scores to, and puts them in the active model''s definition';

-- Bring every lead's stored state to the active model and report grade
-- changes; previous_definition is what the states were built with (to grade
-- "before"). A change costs what changed: points, caps and components need
-- nothing stored; new fit tests are evaluated from leads; activity rules that
-- count something new recount only the activities of their types. Only the
-- rows that change are written: a state whose lead has no activity for the
-- new counters, or a record that passes none of the new fit tests, keeps the
-- older basis it has (stored_state_bases). A full rescore (from_scratch, or
-- previous_definition null) reads every activity and writes every basis anew.
--
-- Live scoring goes on meanwhile: the new rows are built from one snapshot
-- without a lock, and those of the leads written since are built again, still
-- without a lock; then lead_scores is locked (waiting for the transactions
-- that write it), the leads written during that second pass are built once
-- more, and the rows are written before commit. Inserts wait for that last
-- step only.
CREATE FUNCTION lead_scoring.rescore_from(previous_definition jsonb, from_scratch boolean,
  OUT leads_rescored bigint, OUT leads_changed_grade bigint,
  OUT leads_now_sales_ready bigint, OUT leads_no_longer_sales_ready bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  definition jsonb;
  previous jsonb;
  same_engagement boolean;
  same_fit boolean;
  types text[];
  sources text := lead_scoring.activity_sources_sql();
  changed bigint[];
  written bigint;
  recompute text;
  recount text;
  locked boolean := false;
  next_snapshot pg_snapshot;
  caught_up bigint[] := '{}';  -- leads caught up in each pass, the last with the lock
  gone bigint[] := '{}';
  report lead_scoring.regrade_report;
  kept_report lead_scoring.regrade_report;
  pending jsonb;
  definition_sql text;
  previous_sql text;
  thresholds text;
  basis bigint;
  previous_basis bigint;
  previous_fit_bases bigint[];
  fingerprint bigint;
  snapshot pg_snapshot;
  -- older fingerprints and fit bases that states and records keep
  kept_fingerprints bigint[];
  kept_fit_bases bigint[];
  bring_all boolean;
BEGIN
  -- edits not yet applied: the states were built with the definition before them
  DELETE FROM lead_scoring.pending_model_changes p WHERE p.transaction_id = pg_catalog.pg_current_xact_id_if_assigned()
  RETURNING p.previous INTO pending;
  IF FOUND THEN
    PERFORM pg_catalog.set_config('lead_scoring.model_change_pending', '', true);
    previous_definition := pending;
  END IF;
  SELECT m.definition INTO definition FROM lead_scoring.models m WHERE m.is_active;
  -- the first rescore after a restore finds a restore that lost rules
  PERFORM lead_scoring.check_model_tables(m.model_id, m.definition) FROM lead_scoring.models m;
  IF definition IS NULL THEN
    RAISE EXCEPTION 'no scoring model is active'
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Activate one with SELECT * FROM lead_scoring.activate_model(''name'').';
  END IF;
  previous := coalesce(previous_definition, definition);
  from_scratch := from_scratch OR previous_definition IS NULL;
  basis := lead_scoring.fit_basis(definition);
  previous_basis := lead_scoring.fit_basis(previous);
  previous_fit_bases := previous_basis
    || ARRAY(SELECT jsonb_array_elements_text(previous->'stored_bases'->'fit_bases')::bigint);
  fingerprint := lead_scoring.model_fingerprint(definition);
  same_engagement := NOT from_scratch AND lead_scoring.same_counters(previous, definition);
  -- the fit tests the leads passed serve both models: only points, caps or components moved
  same_fit := NOT from_scratch AND previous_basis = basis;
  types := CASE WHEN from_scratch OR same_engagement THEN '{}' ELSE lead_scoring.recount_types(previous, definition) END;
  -- what the rows not written keep: the previous model's bases and those it
  -- accepted; past 16 of either, every row is brought to the model's own
  IF from_scratch THEN
    kept_fingerprints := '{}';
    kept_fit_bases := '{}';
  ELSE
    kept_fingerprints := ARRAY(
      SELECT DISTINCT f FROM (SELECT lead_scoring.model_fingerprint(previous)
                              UNION ALL SELECT jsonb_array_elements_text(previous->'stored_bases'->'fingerprints')::bigint) k(f)
       WHERE f <> fingerprint ORDER BY f);
    kept_fit_bases := ARRAY(
      SELECT DISTINCT b FROM (SELECT previous_basis
                              UNION ALL SELECT jsonb_array_elements_text(previous->'stored_bases'->'fit_bases')::bigint) k(b)
       WHERE b <> basis ORDER BY b);
  END IF;
  bring_all := cardinality(kept_fingerprints) > 16 OR cardinality(kept_fit_bases) > 16;
  IF bring_all THEN
    kept_fingerprints := '{}';
    kept_fit_bases := '{}';
  END IF;
  -- the model as it will be, accepting what the rows keep
  definition := lead_scoring.with_stored_bases(definition, kept_fingerprints, kept_fit_bases);
  -- the models and thresholds go into the passes over every lead as
  -- constants, which parallel workers share and nothing compares per row
  definition_sql := format('%L::jsonb', definition);
  previous_sql := format('%L::jsonb', previous);
  SELECT format('%L::double precision[], %L::boolean[]', t.min_scores, t.sales_ready) INTO thresholds
    FROM lead_scoring.grade_thresholds t;
  IF same_engagement AND same_fit AND NOT bring_all THEN
    -- nothing stored changes: one pass grades every lead under both models
    EXECUTE format($q$
      SELECT (g.r).* FROM (
        SELECT lead_scoring.regrade(s.lead_id, s.handed_off,
                 lead_scoring.stored_total_score(s.fit_tests, s.fit_basis, s.engagement, %1$s, now()),
                 lead_scoring.stored_total_score(s.fit_tests, s.fit_basis, s.engagement, %2$s, now()), %3$s) AS r
          FROM lead_scoring.lead_scores s) g$q$, previous_sql, definition_sql, thresholds)
      INTO report;
    leads_rescored := report.leads;
    leads_changed_grade := report.changed_grade;
    leads_now_sales_ready := report.now_sales_ready;
    leads_no_longer_sales_ready := report.no_longer_sales_ready;
    PERFORM lead_scoring.keep_stored_bases(definition);
    PERFORM lead_scoring.hand_off(report.leads_to_hand_off || lead_scoring.suppressed_handed_off(), 'model');
    RETURN;
  END IF;
  IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'rescoring needs READ COMMITTED, not %', pg_catalog.current_setting('transaction_isolation')
      USING ERRCODE = 'invalid_transaction_state',
            DETAIL = 'It recomputes the leads whose activities came in while it ran, which a transaction snapshot would not show.',
            HINT = 'Run the change in a READ COMMITTED transaction.';
  END IF;
  -- A lead's row of lead_scoring_rescore: its new fit tests and state; seen, the
  -- xmin of its lead_scores row (null: none); before, its total under the
  -- previous model; handed_off, as its row has it (a new row: whether it was
  -- ever handed off); differs, whether its row must be written.
  --
  -- Every lead's, from the raw data, or those of the leads in %4$s (planned
  -- with the value: "IS NULL OR" folds away); each side planned on its own,
  -- with parallel workers, then joined. %5$s: the fit basis of the model;
  -- %6$s: those the previous one scores (its own and the older it accepts).
  recompute := $q$
    WITH f AS MATERIALIZED (
      SELECT l.lead_id, lead_scoring.lead_fit_tests(%2$s, l.email, l.first_name, l.last_name, l.company,
                                                    l.attributes) AS fit_tests
        FROM lead_scoring.leads l WHERE %4$s IS NULL OR l.lead_id = ANY (%4$s)),
    a AS MATERIALIZED (
      SELECT a.lead_id, lead_scoring.score_activities(%2$s, a.activity_type, a.occurred_at, a.properties) AS engagement
        FROM (%1$s) a WHERE a.lead_id IS NOT NULL AND (%4$s IS NULL OR a.lead_id = ANY (%4$s))
       GROUP BY a.lead_id)
    SELECT lead_id, s.xmin AS seen, coalesce(f.fit_tests, '{}') AS fit_tests,
           CASE WHEN f.lead_id IS NOT NULL THEN %5$s::bigint END AS fit_basis, a.engagement,
           lead_scoring.total_score(
             CASE WHEN s.lead_id IS NULL THEN NULL  -- no row: no grade before
                  WHEN s.fit_basis IS NULL OR s.fit_basis = ANY (%6$L::bigint[])
                  THEN lead_scoring.tested_fit_score(s.fit_tests, s.fit_basis, %3$s) ELSE 0 END,
             CASE WHEN lead_scoring.state_matches_model(s.engagement, %3$s) THEN s.engagement END, %3$s, now()) AS before,
           coalesce(s.handed_off,
                    EXISTS (SELECT FROM lead_scoring.handoffs h WHERE h.lead_id = coalesce(f.lead_id, a.lead_id))) AS handed_off,
           s.lead_id IS NULL OR s.fit_tests IS DISTINCT FROM coalesce(f.fit_tests, '{}')
             OR s.fit_basis IS DISTINCT FROM CASE WHEN f.lead_id IS NOT NULL THEN %5$s::bigint END
             OR lead_scoring.engagement_state_send(s.engagement)
                IS DISTINCT FROM lead_scoring.engagement_state_send(a.engagement) AS differs
      FROM f FULL JOIN a USING (lead_id) LEFT JOIN lead_scoring.lead_scores s USING (lead_id)$q$;
  -- The rows a change (not from scratch) writes. r: the states of the leads
  -- with activities the new counters count; f: the new fit tests the leads
  -- pass, of those that pass one. A row is written if its lead is in r or f,
  -- or if its state counted or its record passed what the model dropped, or
  -- if it keeps an older basis (bring_all). %4$s: the test of an activity's
  -- type, which finds the activities of every lead through an index on the
  -- type, and those of a few leads through one on the lead; %10$s: the rows
  -- looked at (every row only in those last two cases); %11$s: the leads to
  -- look at, or null for all.
  recount := $q$
    WITH r AS MATERIALIZED (
      SELECT a.lead_id, lead_scoring.score_activities(%2$s, a.activity_type, a.occurred_at, a.properties) AS engagement
        FROM (%1$s) a
       WHERE %4$s AND a.lead_id IS NOT NULL AND (%11$s IS NULL OR a.lead_id = ANY (%11$s))
         AND lead_scoring.counted_anew(%2$s, %3$s, a.activity_type::text, a.properties)
       GROUP BY a.lead_id),
    f AS MATERIALIZED (
      SELECT l.lead_id, l.passed FROM (
        SELECT l.lead_id, lead_scoring.new_fit_tests(%2$s, %3$s, l.email, l.first_name, l.last_name, l.company,
                                                     l.attributes) AS passed
          FROM lead_scoring.leads l WHERE NOT %5$L AND (%11$s IS NULL OR l.lead_id = ANY (%11$s))) l
       WHERE cardinality(l.passed) > 0),
    n AS (
      SELECT s.lead_id, s.xmin AS seen, s.fit_tests, s.fit_basis, s.engagement, s.handed_off, f.passed,
             r.engagement AS recounted,
             lead_scoring.stored_total_score(s.fit_tests, s.fit_basis, s.engagement, %3$s, now()) AS before,
             s.fit_basis IS NOT NULL
               AND ((NOT %5$L AND (f.lead_id IS NOT NULL
                                   OR cardinality(lead_scoring.merge_fit_tests(s.fit_tests, NULL, %2$s))
                                      < cardinality(s.fit_tests)))
                    OR (%6$L AND s.fit_basis <> %7$s::bigint)) AS refit,
             s.engagement IS NOT NULL
               AND (lead_scoring.counts_beyond_model(r.engagement, %3$s)
                    OR (NOT %9$L AND lead_scoring.counts_beyond_model(s.engagement, %2$s))
                    OR (%6$L AND lead_scoring.state_fingerprint(s.engagement) <> %8$s::bigint)) AS recount
        FROM %10$s)
    SELECT n.lead_id, n.seen,
           CASE WHEN n.refit THEN lead_scoring.merge_fit_tests(n.fit_tests, n.passed, %2$s) ELSE n.fit_tests END AS fit_tests,
           CASE WHEN n.refit THEN %7$s::bigint ELSE n.fit_basis END AS fit_basis,
           CASE WHEN n.recount THEN lead_scoring.rebase_engagement(n.engagement, %3$s, %2$s, n.recounted)
                ELSE n.engagement END AS engagement,
           n.before, n.handed_off, true AS differs
      FROM n WHERE n.refit OR n.recount$q$;
  -- 1. the rows to write, from one snapshot, without a lock. CREATE TABLE AS,
  -- unlike INSERT, may read in parallel workers; it takes no parameters, so
  -- every value is written in.
  snapshot := pg_catalog.pg_current_snapshot();
  IF from_scratch THEN
    EXECUTE 'CREATE TEMP TABLE lead_scoring_rescore ON COMMIT DROP AS '
            || format(recompute, sources, definition_sql, previous_sql, 'NULL::bigint[]', basis, previous_fit_bases);
  ELSE
    EXECUTE 'CREATE TEMP TABLE lead_scoring_rescore ON COMMIT DROP AS '
            || format(recount, sources, definition_sql, previous_sql,
                      format('a.activity_type = ANY (%L::text[])', types), same_fit, bring_all, basis, fingerprint,
                      same_engagement,
                      CASE WHEN bring_all OR lead_scoring.drops_counted(previous, definition)
                           THEN 'lead_scoring.lead_scores s LEFT JOIN r USING (lead_id) LEFT JOIN f USING (lead_id)'
                           ELSE '(SELECT r.lead_id FROM r UNION SELECT f.lead_id FROM f) k
                                 JOIN lead_scoring.lead_scores s USING (lead_id)
                                 LEFT JOIN r USING (lead_id) LEFT JOIN f USING (lead_id)' END,
                      'NULL::bigint[]');
  END IF;
  -- for plpgsql_check, which cannot see a table created here (a constant at run time)
  PERFORM 'PRAGMA:TABLE: lead_scoring_rescore (lead_id bigint, seen xid, fit_tests bigint[], fit_basis bigint, engagement lead_scoring.engagement_state, before double precision, handed_off boolean, differs boolean)';
  -- 2. the leads whose rows came, went or changed since, brought to the model
  -- as their rows are now: without a lock, while inserts go on, pass after
  -- pass, each for the leads written during the one before, while that
  -- shrinks them to a few (at most 8 passes); then once more with lead_scores
  -- locked (waiting for the transactions that write it, and making later ones
  -- wait for this one): inserts wait for that last pass only.
  LOOP
    IF locked THEN
      LOCK TABLE lead_scoring.lead_scores IN EXCLUSIVE MODE;
    END IF;
    IF from_scratch THEN
      changed := ARRAY(
        SELECT lead_id FROM lead_scoring.lead_scores s FULL JOIN lead_scoring_rescore r USING (lead_id)
         WHERE r.lead_id IS NULL OR (s.lead_id IS NULL AND r.seen IS NOT NULL)
            OR (s.lead_id IS NOT NULL AND r.seen IS DISTINCT FROM s.xmin));
    ELSE
      -- a row gone since needs nothing: its lead is gone
      next_snapshot := pg_catalog.pg_current_snapshot();
      changed := ARRAY(SELECT s.lead_id FROM lead_scoring.lead_scores s WHERE lead_scoring.written_after(s.xmin, snapshot));
      snapshot := next_snapshot;
    END IF;
    caught_up := caught_up || cardinality(changed)::bigint;
    IF cardinality(changed) > 0 THEN
      DELETE FROM lead_scoring_rescore r WHERE r.lead_id = ANY (changed);
      IF from_scratch THEN
        -- from their own activities
        EXECUTE 'INSERT INTO lead_scoring_rescore '
                || format(recompute, sources, definition_sql, previous_sql, '$1', basis, previous_fit_bases)
          USING changed;
        gone := gone || changed;
      ELSE
        -- from their rows, and their activities of the recounted types
        EXECUTE 'INSERT INTO lead_scoring_rescore '
                || format(recount, sources, definition_sql, previous_sql,
                          format('(a.activity_type = ANY (%L::text[])) IS TRUE', types), same_fit, bring_all, basis,
                          fingerprint, same_engagement,
                          'unnest($1) k(lead_id) JOIN lead_scoring.lead_scores s USING (lead_id)
                           LEFT JOIN r USING (lead_id) LEFT JOIN f USING (lead_id)', '$1')
          USING changed;
      END IF;
    END IF;
    EXIT WHEN locked;
    -- the next pass is the last, with the lock, once few leads are left or
    -- catching up no longer halves them
    locked := cardinality(changed) <= 64 OR cardinality(caught_up) >= 8
              OR (cardinality(caught_up) > 1 AND 2 * cardinality(changed) > caught_up[cardinality(caught_up) - 1]);
  END LOOP;
  -- a row whose lead is gone (no lead, no activity), as rescore() leaves none;
  -- a suppressed one keeps its row, which keeps the count, and nothing else
  DELETE FROM lead_scoring.lead_scores s
   WHERE s.lead_id = ANY (gone) AND s.open_suppressions = 0
     AND NOT EXISTS (SELECT FROM lead_scoring_rescore r WHERE r.lead_id = s.lead_id);
  UPDATE lead_scoring.lead_scores s
     SET engagement = NULL, fit_tests = '{}', fit_basis = NULL, score_stamp = NULL, scored_at = now()
   WHERE s.lead_id = ANY (gone) AND (s.engagement IS NOT NULL OR s.fit_basis IS NOT NULL)
     AND NOT EXISTS (SELECT FROM lead_scoring_rescore r WHERE r.lead_id = s.lead_id);
  -- 3. the report: every lead, its total before (its row as it is) and after
  -- (its new row, or its row as it is under the model); first the rows of
  -- lead_scoring_rescore, then (not from scratch) those not written, in
  -- parallel workers: the temporary table is the leader's, so its leads are
  -- written in as a constant
  EXECUTE format($q$
    SELECT (g.r).* FROM (
      SELECT lead_scoring.regrade(r.lead_id, r.handed_off, r.before,
               lead_scoring.stored_total_score(r.fit_tests, r.fit_basis, r.engagement, %1$s, now()), %2$s) AS r
        FROM lead_scoring_rescore r) g$q$, definition_sql, thresholds)
    INTO report;
  IF NOT from_scratch THEN
    EXECUTE format($q$
      SELECT (g.r).* FROM (
        SELECT lead_scoring.regrade(s.lead_id, s.handed_off,
                 lead_scoring.stored_total_score(s.fit_tests, s.fit_basis, s.engagement, %1$s, now()),
                 lead_scoring.stored_total_score(s.fit_tests, s.fit_basis, s.engagement, %2$s, now()), %3$s) AS r
          FROM lead_scoring.lead_scores s WHERE %4$s) g$q$,
      previous_sql, definition_sql, thresholds,
      CASE WHEN report.leads = 0 THEN 'true'
           ELSE format('s.lead_id <> ALL (%L::bigint[])', ARRAY(SELECT r.lead_id FROM lead_scoring_rescore r)) END)
      INTO kept_report;
    report := ROW(report.leads + kept_report.leads, report.changed_grade + kept_report.changed_grade,
                  report.now_sales_ready + kept_report.now_sales_ready,
                  report.no_longer_sales_ready + kept_report.no_longer_sales_ready,
                  report.leads_to_hand_off || kept_report.leads_to_hand_off)::lead_scoring.regrade_report;
  END IF;
  leads_rescored := report.leads;
  leads_changed_grade := report.changed_grade;
  leads_now_sales_ready := report.now_sales_ready;
  leads_no_longer_sales_ready := report.no_longer_sales_ready;
  -- 4. only what differs is written: every row left is as seen; each row
  -- written, and each whose stamp was made for another row version or
  -- model, is stamped
  UPDATE lead_scoring.lead_scores s
     SET fit_tests = r.fit_tests, fit_basis = r.fit_basis, engagement = r.engagement, scored_at = now(),
         score_stamp = lead_scoring.stamp_score(r.fit_tests, r.fit_basis, r.engagement, definition,
                                                (SELECT t.min_scores FROM lead_scoring.grade_thresholds t), now())
    FROM lead_scoring_rescore r
   WHERE (r.differs OR NOT lead_scoring.stamp_is_current(s.score_stamp, s.xmin, definition))
     AND r.seen IS NOT NULL AND r.lead_id = s.lead_id;
  GET DIAGNOSTICS written = ROW_COUNT;
  INSERT INTO lead_scoring.lead_scores (lead_id, fit_tests, fit_basis, engagement, handed_off, score_stamp)
  SELECT r.lead_id, r.fit_tests, r.fit_basis, r.engagement, r.handed_off,
         lead_scoring.stamp_score(r.fit_tests, r.fit_basis, r.engagement, definition, t.min_scores, now())
    FROM lead_scoring_rescore r, lead_scoring.grade_thresholds t
   WHERE r.seen IS NULL ORDER BY r.lead_id;
  IF from_scratch THEN
    -- derived data too (a restored dump loads suppressions without counting)
    PERFORM lead_scoring.recount_open_suppressions();
  END IF;
  RAISE DEBUG 'rescore: from_scratch %, recounted types %, fit rescored %, leads written meanwhile caught up % without the lock and % with it, % rows rewritten',
    from_scratch, types, NOT same_fit, caught_up[1:cardinality(caught_up) - 1], caught_up[cardinality(caught_up)], written;
  DROP TABLE lead_scoring_rescore;
  -- 5. past 8 older bases, those no row has any more are dropped (a pass
  -- over lead_scores); fewer cost nothing to keep
  IF cardinality(kept_fingerprints) > 8 THEN
    kept_fingerprints := ARRAY(
      SELECT DISTINCT lead_scoring.state_fingerprint(s.engagement) FROM lead_scoring.lead_scores s
       WHERE s.engagement IS NOT NULL
      INTERSECT SELECT unnest(kept_fingerprints) ORDER BY 1);
  END IF;
  IF cardinality(kept_fit_bases) > 8 THEN
    kept_fit_bases := ARRAY(
      SELECT DISTINCT s.fit_basis FROM lead_scoring.lead_scores s WHERE s.fit_basis IS NOT NULL
      INTERSECT SELECT unnest(kept_fit_bases) ORDER BY 1);
  END IF;
  PERFORM lead_scoring.keep_stored_bases(lead_scoring.with_stored_bases(definition, kept_fingerprints, kept_fit_bases));
  IF from_scratch THEN
    -- opt-outs as the activities have them (the latest of each lead decides)
    PERFORM lead_scoring.apply_opt_activities(NULL);
  END IF;
  -- after the opt-outs: a lead they suppressed is among the flagged suppressed
  PERFORM lead_scoring.hand_off(report.leads_to_hand_off || lead_scoring.suppressed_handed_off(),
                                CASE WHEN previous_definition IS NULL OR previous_definition = definition THEN 'rescore'
                                     ELSE 'model' END);
END
$$;
COMMENT ON FUNCTION lead_scoring.rescore_from(jsonb, boolean) IS
  'Brings every lead''s state to the active model from the states built with previous_definition, reading only what changed (everything if from_scratch), and reports how many leads changed grade. Use lead_scoring.rescore()';

-- Owner's rights, so that only rescore() needs a grant (to marketing): it
-- reads the leads, the model and the tracked tables, which track() checked.
CREATE FUNCTION lead_scoring.rescore(
  OUT leads_rescored bigint, OUT leads_changed_grade bigint,
  OUT leads_now_sales_ready bigint, OUT leads_no_longer_sales_ready bigint)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  SELECT * FROM lead_scoring.rescore_from(NULL, true)
$$;
COMMENT ON FUNCTION lead_scoring.rescore() IS
  'Recomputes every lead''s fit and engagement from the leads and all tracked activity tables under the active model, and reports how many leads changed grade and sales-readiness';

-- A change of points (or anything else that rewrites no lead_scores row)
-- leaves every stamp made under the model before, and the views evaluate
-- those leads until they are written again. restamp() stamps them anew a
-- batch at a time, each batch a transaction of its own, so that no lead is
-- locked for longer than its batch takes; restamp_leads is one batch.
-- Owner's rights: it writes lead_scores, which only the owner may.
CREATE FUNCTION lead_scoring.restamp_leads(after_lead bigint, batch_size integer,
                                           OUT last_lead bigint, OUT restamped bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  IF batch_size IS NULL OR batch_size < 1 THEN
    RAISE EXCEPTION 'batch_size must be a positive number of leads, not %', coalesce(batch_size::text, 'null')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT max(b.lead_id) INTO last_lead
    FROM (SELECT s.lead_id FROM lead_scoring.lead_scores s
           WHERE after_lead IS NULL OR s.lead_id > after_lead ORDER BY s.lead_id LIMIT batch_size) b;
  restamped := 0;
  IF last_lead IS NULL OR NOT EXISTS (SELECT FROM lead_scoring.models m WHERE m.is_active) THEN
    last_lead := NULL;
    RETURN;
  END IF;
  IF pg_catalog.current_setting('lead_scoring.model_change_pending', true) = 'on' THEN
    PERFORM lead_scoring.apply_model_changes();  -- the states as the active model counts
  END IF;
  -- a row written meanwhile is checked again as it is then (and skipped if
  -- its writer stamped it); a row that gets no stamp (a state the model
  -- cannot evaluate, a total at a threshold's edge) is left as it is
  UPDATE lead_scoring.lead_scores s
     SET score_stamp = lead_scoring.stamp_score(s.fit_tests, s.fit_basis, s.engagement, m.definition,
                                                t.min_scores, now())
    FROM lead_scoring.models m, lead_scoring.grade_thresholds t
   WHERE m.is_active AND (after_lead IS NULL OR s.lead_id > after_lead) AND s.lead_id <= last_lead
     AND (s.engagement IS NOT NULL OR s.fit_basis IS NOT NULL)
     AND NOT lead_scoring.stamp_is_current(s.score_stamp, s.xmin, m.definition)
     AND lead_scoring.stamp_score(s.fit_tests, s.fit_basis, s.engagement, m.definition, t.min_scores, now()) IS NOT NULL;
  GET DIAGNOSTICS restamped = ROW_COUNT;
END
$$;
COMMENT ON FUNCTION lead_scoring.restamp_leads(bigint, integer) IS
  'One batch of restamp(): stamps the next batch_size leads after after_lead (null: from the first) whose score stamp does not serve under the active model; returns the last lead of the batch (null: none left) and how many were stamped';

-- Invoker's rights and no SET clause, as a procedure that commits must be
-- (so every name in it is qualified): the batches need EXECUTE on
-- restamp_leads (marketing has it).
CREATE PROCEDURE lead_scoring.restamp(batch_size integer DEFAULT 10000)
LANGUAGE plpgsql AS $$
DECLARE
  after_lead bigint;
  done bigint;
  stamped bigint := 0;
BEGIN
  LOOP
    SELECT r.last_lead, r.restamped INTO after_lead, done FROM lead_scoring.restamp_leads(after_lead, batch_size) r;
    EXIT WHEN after_lead IS NULL;
    stamped := stamped OPERATOR(pg_catalog.+) done;
    COMMIT;
  END LOOP;
  RAISE NOTICE 'restamp: % leads stamped under the active model', stamped;
END
$$;
COMMENT ON PROCEDURE lead_scoring.restamp(integer) IS
  'Stamps every lead whose score stamp does not serve under the active model (after a change of points, say), batch_size leads per transaction, so that the views grade them from their stamps again; CALL it outside a transaction block';

-- What the notice of a model change adds: the leads it did not write keep
-- stamps made under the model before.
CREATE FUNCTION lead_scoring.restamp_hint() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN 'The leads this change did not write are evaluated by the views until their next write; CALL lead_scoring.restamp() after the commit stamps them anew.';
COMMENT ON FUNCTION lead_scoring.restamp_hint() IS 'The hint of the notice a model change gives: what restamp() is for';

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
      FROM lead_scoring.rescore_from((SELECT m.definition FROM lead_scoring.models m WHERE m.is_active), true);
    RETURN;
  END IF;
  PERFORM pg_catalog.set_config('lead_scoring.last_activation', '', true);
  UPDATE lead_scoring.models SET is_active = (name = model_name) WHERE is_active OR name = model_name;
  report := pg_catalog.string_to_array(pg_catalog.current_setting('lead_scoring.last_activation'), ' ');
  leads_rescored := report[1]::bigint;
  leads_changed_grade := report[2]::bigint;
  leads_now_sales_ready := report[3]::bigint;
  leads_no_longer_sales_ready := report[4]::bigint;
END
$$;
COMMENT ON FUNCTION lead_scoring.activate_model(text) IS
  'Makes the named model the active one and rescores every lead, in one transaction; reports how many leads changed grade';

-- Edits of the active model's rules in one transaction are rescored once, at
-- commit: the first edit records the definition the states were built with
-- (a row of the transaction, which only the owner writes: a setting could be
-- forged), and a deferred constraint trigger applies it. What needs the
-- states before then (live scoring, hand_off, a switch of model) applies it
-- first; a read of scores in that transaction is refused until then.
CREATE TABLE lead_scoring.pending_model_changes (
  transaction_id xid8 PRIMARY KEY DEFAULT pg_catalog.pg_current_xact_id(),
  previous       jsonb NOT NULL,
  edits          integer NOT NULL DEFAULT 1
);
COMMENT ON TABLE lead_scoring.pending_model_changes IS 'Edits of the active model made in a transaction and not yet applied to the leads'' states (empty outside such a transaction)';
COMMENT ON COLUMN lead_scoring.pending_model_changes.transaction_id IS 'The transaction that made them';
COMMENT ON COLUMN lead_scoring.pending_model_changes.previous IS 'The definition the states were built with, before its first edit';
COMMENT ON COLUMN lead_scoring.pending_model_changes.edits IS 'Statements that changed the active model since';
REVOKE ALL ON lead_scoring.pending_model_changes FROM PUBLIC;

-- Owner's rights: the pending row is the owner's to read and delete.
CREATE FUNCTION lead_scoring.apply_model_changes(
  OUT leads_rescored bigint, OUT leads_changed_grade bigint,
  OUT leads_now_sales_ready bigint, OUT leads_no_longer_sales_ready bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  pending record;
  definition jsonb;
  recounted text[];
BEGIN
  SELECT p.previous, p.edits INTO pending FROM lead_scoring.pending_model_changes p
   WHERE p.transaction_id = pg_catalog.pg_current_xact_id_if_assigned();
  IF NOT FOUND THEN
    RETURN;
  END IF;
  SELECT m.definition INTO definition FROM lead_scoring.models m WHERE m.is_active;
  recounted := CASE WHEN lead_scoring.same_counters(pending.previous, definition) THEN '{}'
                    ELSE lead_scoring.recount_types(pending.previous, definition) END;
  -- rescore_from takes the pending row
  SELECT * INTO leads_rescored, leads_changed_grade, leads_now_sales_ready, leads_no_longer_sales_ready
    FROM lead_scoring.rescore_from(pending.previous, false);
  RAISE NOTICE 'active model changed: % leads rescored, % changed grade%', leads_rescored, leads_changed_grade,
    concat(CASE WHEN pending.edits > 1 THEN format(' (%s edits, rescored once)', pending.edits) END,
           CASE WHEN cardinality(recounted) > 0
                THEN format('; recounted: %s', array_to_string(recounted, ', ')) END)
    USING HINT = lead_scoring.restamp_hint();
END
$$;
COMMENT ON FUNCTION lead_scoring.apply_model_changes() IS
  'Rescores now what this transaction''s edits of the active model changed, instead of at commit; reports how many leads changed grade (nothing if no edit is pending)';

CREATE FUNCTION lead_scoring.apply_model_changes_at_commit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM lead_scoring.require_trigger_on(TG_RELID, 'lead_scoring.pending_model_changes', 'apply_model_changes_at_commit');
  PERFORM lead_scoring.apply_model_changes();
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.apply_model_changes_at_commit() IS
  'Constraint trigger (deferred to commit): rescores once for every edit of the active model the transaction made';
CREATE CONSTRAINT TRIGGER apply_model_changes_at_commit AFTER INSERT ON lead_scoring.pending_model_changes
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION lead_scoring.apply_model_changes_at_commit();

-- After rule or component changes: recompile definitions; rescore if the active one changed.
CREATE FUNCTION lead_scoring.compile_models() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  m record;
  compiled jsonb;
  previous jsonb;
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
    compiled := lead_scoring.compiled_definition(m.model_id, m.is_active);
    IF compiled IS DISTINCT FROM m.definition THEN
      UPDATE lead_scoring.models SET definition = compiled WHERE model_id = m.model_id;
      IF m.is_active THEN
        previous := m.definition;
      END IF;
    END IF;
  END LOOP;
  IF previous IS NOT NULL THEN
    -- rescored at commit, once for all the edits of the transaction
    INSERT INTO lead_scoring.pending_model_changes AS p (previous) VALUES (previous)
    ON CONFLICT (transaction_id) DO UPDATE SET edits = p.edits + 1;
    PERFORM pg_catalog.set_config('lead_scoring.model_change_pending', 'on', true);
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.compile_models() IS
  'Trigger (after changes to components or rules, per statement): validates and stores each model''s definition; if the active model changed, its leads are rescored at commit (lead_scoring.pending_model_changes)';

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
  NEW.definition := lead_scoring.compiled_definition(NEW.model_id, NEW.is_active);
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lead_scoring.compile_model_row() IS
  'Trigger (before insert or update on models): sets definition from the model''s tables (and, if active, the bases of the stored states)';
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
  SELECT * INTO report FROM lead_scoring.rescore_from(previous, false);
  RAISE NOTICE 'active model changed: % leads rescored, % changed grade', report.leads_rescored, report.leads_changed_grade
    USING HINT = lead_scoring.restamp_hint();
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

-- The live-scoring triggers of a tracked table, or of one of its partitions:
-- a statement fires only the statement triggers of the table it names, so a
-- partition written directly needs its own. Those it has already are kept.
CREATE FUNCTION lead_scoring.create_live_triggers(activity_table regclass, lead_column name, type_column name,
                                                  time_column name, properties_column name) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  existing name[] := ARRAY(SELECT g.tgname FROM pg_trigger g
                            WHERE g.tgrelid = activity_table
                              AND g.tgfoid IN ('lead_scoring.score_inserted_activities'::regproc,
                                               'lead_scoring.rescore_changed_activities'::regproc));
BEGIN
  IF NOT 'lead_scoring_score_inserts' = ANY (existing) THEN
    EXECUTE format('CREATE TRIGGER lead_scoring_score_inserts AFTER INSERT ON %s REFERENCING NEW TABLE AS new_activities '
                   'FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.score_inserted_activities(%L, %L, %L, %L)',
                   activity_table, lead_column, type_column, time_column, coalesce(properties_column, ''));
  END IF;
  IF NOT 'lead_scoring_rescore_updates' = ANY (existing) THEN
    EXECUTE format('CREATE TRIGGER lead_scoring_rescore_updates AFTER UPDATE ON %s '
                   'REFERENCING OLD TABLE AS old_activities NEW TABLE AS new_activities '
                   'FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.rescore_changed_activities(%L)',
                   activity_table, lead_column);
  END IF;
  IF NOT 'lead_scoring_rescore_deletes' = ANY (existing) THEN
    EXECUTE format('CREATE TRIGGER lead_scoring_rescore_deletes AFTER DELETE ON %s REFERENCING OLD TABLE AS old_activities '
                   'FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.rescore_changed_activities(%L)',
                   activity_table, lead_column);
  END IF;
  IF NOT 'lead_scoring_rescore_truncates' = ANY (existing) THEN
    EXECUTE format('CREATE TRIGGER lead_scoring_rescore_truncates AFTER TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.rescore_changed_activities(%L)',
                   activity_table, lead_column);
  END IF;
END
$$;
COMMENT ON FUNCTION lead_scoring.create_live_triggers(regclass, name, name, name, name) IS
  'Creates the live-scoring triggers (insert, update, delete, truncate) of a tracked table or of one of its partitions, those it lacks';

CREATE FUNCTION lead_scoring.drop_live_triggers(activity_table regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  trigger_name name;
BEGIN
  FOR trigger_name IN
    SELECT g.tgname FROM pg_trigger g
     WHERE g.tgrelid = activity_table
       AND g.tgfoid IN ('lead_scoring.score_inserted_activities'::regproc,
                        'lead_scoring.rescore_changed_activities'::regproc)
  LOOP
    EXECUTE format('DROP TRIGGER %I ON %s', trigger_name, activity_table);
  END LOOP;
END
$$;
COMMENT ON FUNCTION lead_scoring.drop_live_triggers(regclass) IS
  'Drops the live-scoring triggers of a table that is no longer tracked, or no longer a partition of a tracked one';

-- Owner's rights, so that only track() and untrack() need a grant (to admin)
-- and nobody writes tracked_tables or attaches the trigger functions but
-- they: the caller must be able to read the table and create its triggers,
-- and the table must fit (check_tracked_table).
CREATE FUNCTION lead_scoring.track(activity_table regclass, lead_column name, type_column name,
                                   time_column name, properties_column name DEFAULT NULL,
  OUT leads_rescored bigint, OUT leads_changed_grade bigint,
  OUT leads_now_sales_ready bigint, OUT leads_no_longer_sales_ready bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  member regclass;
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
  -- rows written through the partitioned table would fire none of its triggers
  IF (SELECT c.relispartition FROM pg_class c WHERE c.oid = activity_table) THEN
    RAISE EXCEPTION '% is a partition of %: rows written through % would not be scored', activity_table,
      pg_partition_root(activity_table), pg_partition_root(activity_table)
      USING ERRCODE = 'wrong_object_type',
            HINT = format('Track %s, which scores all of its partitions.', pg_partition_root(activity_table));
  END IF;
  PERFORM lead_scoring.check_partitions(activity_table);
  INSERT INTO lead_scoring.tracked_tables (activity_table, lead_column, type_column, time_column, properties_column)
  VALUES (activity_table, lead_column, type_column, time_column, properties_column);
  FOR member IN SELECT m.relid FROM lead_scoring.partition_tree(track.activity_table) m ORDER BY m.level, m.relid LOOP
    PERFORM lead_scoring.create_live_triggers(member, lead_column, type_column, time_column, properties_column);
  END LOOP;
  IF EXISTS (SELECT FROM lead_scoring.models WHERE is_active) THEN
    SELECT * INTO leads_rescored, leads_changed_grade, leads_now_sales_ready, leads_no_longer_sales_ready
      FROM lead_scoring.rescore();
  END IF;
END
$$;
COMMENT ON FUNCTION lead_scoring.track(regclass, name, name, name, name) IS
  'Scores an existing activity table live, in place, partitions included: adds triggers, scores its rows, and reports the rescore';

CREATE FUNCTION lead_scoring.untrack(activity_table regclass,
  OUT leads_rescored bigint, OUT leads_changed_grade bigint,
  OUT leads_now_sales_ready bigint, OUT leads_no_longer_sales_ready bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  member regclass;
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
  FOR member IN SELECT m.relid FROM lead_scoring.partition_tree(untrack.activity_table) m ORDER BY m.level, m.relid LOOP
    PERFORM lead_scoring.drop_live_triggers(member);
  END LOOP;
  IF EXISTS (SELECT FROM lead_scoring.models WHERE is_active) THEN
    SELECT * INTO leads_rescored, leads_changed_grade, leads_now_sales_ready, leads_no_longer_sales_ready
      FROM lead_scoring.rescore();
  END IF;
END
$$;
COMMENT ON FUNCTION lead_scoring.untrack(regclass) IS
  'Stops scoring an activity table, partitions included: drops its triggers, leaves its rows untouched, and rescores without them';

-- What the live triggers cannot follow, refused in a tracked table's tree: a
-- foreign partition (statement triggers with transition tables cannot
-- collect the rows routed to it, so every write through the table would
-- fail), and a child by plain inheritance (read with its parent, but its own
-- inserts fire none of the parent's triggers).
CREATE FUNCTION lead_scoring.check_partitions(activity_table regclass) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  child regclass;
  parent regclass;
BEGIN
  SELECT m.relid INTO child FROM lead_scoring.partition_tree(activity_table) m JOIN pg_class c ON c.oid = m.relid
   WHERE c.relkind = 'f' LIMIT 1;
  IF child IS NOT NULL THEN
    RAISE EXCEPTION '% is a foreign table, and % is tracked: a foreign table cannot be one of its partitions', child, activity_table
      USING ERRCODE = 'feature_not_supported',
            DETAIL = 'Statement triggers with transition tables cannot collect the rows routed to a foreign partition: every write through the table would fail.',
            HINT = 'Score a table with foreign partitions by a query instead (see Scaling Out in the README), or keep the foreign table out of the tracked one.';
  END IF;
  SELECT i.inhrelid, i.inhparent INTO child, parent FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent IN (SELECT m.relid FROM lead_scoring.partition_tree(activity_table) m) AND NOT c.relispartition LIMIT 1;
  IF child IS NOT NULL THEN
    RAISE EXCEPTION '% inherits from %, and % is tracked: only partitions can be followed', child, parent, activity_table
      USING ERRCODE = 'feature_not_supported',
            DETAIL = 'Rows inserted into a child table by inheritance (INHERITS) fire none of its parent''s triggers.',
            HINT = 'Make it a partition of a partitioned table, or keep it out of the tracked table.';
  END IF;
END
$$;
COMMENT ON FUNCTION lead_scoring.check_partitions(regclass) IS
  'Refuses a foreign partition or a child by plain inheritance under a tracked table: the live-scoring triggers could not follow it';

-- Partitions follow their tracked table. One created or attached (with its
-- rows: the usual backfill) gets the live-scoring triggers, and its leads are
-- scored; one detached loses them, and its leads are scored without it.
-- relations: what the DDL changed (all tracked tables if null).
CREATE FUNCTION lead_scoring.follow_partitions(relations oid[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  p record;
  found bigint[];
  ids bigint[] := ARRAY[]::bigint[];
BEGIN
  -- a tracked table attached to another (the DDL names the other)
  FOR p IN SELECT t.activity_table FROM lead_scoring.tracked_tables t JOIN pg_class c ON c.oid = t.activity_table
            WHERE c.relispartition LOOP
    RAISE EXCEPTION '% is tracked, and cannot be a partition of %: rows written through % would not be scored',
      p.activity_table, pg_partition_root(p.activity_table), pg_partition_root(p.activity_table)
      USING ERRCODE = 'wrong_object_type',
            HINT = format('Untrack %s first (lead_scoring.untrack), then track %s, which scores all of its partitions.',
                          p.activity_table, pg_partition_root(p.activity_table));
  END LOOP;
  -- only DDL on a table in a tracked tree, or on one inheriting from it
  IF relations IS NOT NULL AND NOT EXISTS (
       SELECT FROM unnest(relations) r
        WHERE EXISTS (SELECT FROM lead_scoring.tracked_tables t
                       WHERE t.activity_table IN (SELECT lead_scoring.partition_ancestors(r))
                          OR t.activity_table IN (SELECT lead_scoring.partition_ancestors(i.inhparent)
                                                    FROM pg_inherits i WHERE i.inhrelid = r))) THEN
    RETURN;
  END IF;
  FOR p IN SELECT t.* FROM lead_scoring.tracked_tables t ORDER BY t.activity_table::oid LOOP
    PERFORM lead_scoring.check_partitions(p.activity_table);
  END LOOP;
  -- partitions that joined
  FOR p IN
    SELECT m.relid, c.relkind, t.lead_column, t.type_column, t.time_column, t.properties_column
      FROM lead_scoring.tracked_tables t
     CROSS JOIN LATERAL lead_scoring.partition_tree(t.activity_table) m
      JOIN pg_class c ON c.oid = m.relid
     WHERE m.relid <> t.activity_table
       AND NOT EXISTS (SELECT FROM pg_trigger g
                        WHERE g.tgrelid = m.relid AND g.tgfoid = 'lead_scoring.score_inserted_activities'::regproc)
     ORDER BY m.level, m.relid
  LOOP
    PERFORM lead_scoring.check_tracked_table(p.relid, p.lead_column, p.type_column, p.time_column, p.properties_column);
    PERFORM lead_scoring.create_live_triggers(p.relid, p.lead_column, p.type_column, p.time_column, p.properties_column);
    IF p.relkind = 'r' THEN
      EXECUTE format('SELECT array_agg(DISTINCT %I::bigint) FROM %s', p.lead_column, p.relid) INTO found;
      ids := ids || found;
    END IF;
  END LOOP;
  -- tables that left: live triggers on a table neither tracked nor in a tracked tree
  FOR p IN
    SELECT g.tgrelid::regclass AS relid, c.relkind, a.atttypid, l.lead_column
      FROM pg_trigger g
      JOIN pg_class c ON c.oid = g.tgrelid
      -- the trigger's first argument (tgargs: each one ends in a zero byte)
     CROSS JOIN LATERAL (SELECT CASE WHEN g.tgnargs > 0 THEN
                                  convert_from(substring(g.tgargs FOR position('\x00'::bytea IN g.tgargs) - 1),
                                               pg_catalog.getdatabaseencoding())::name END AS lead_column) l
      LEFT JOIN pg_attribute a
        ON a.attrelid = g.tgrelid AND a.attname = l.lead_column AND a.attnum > 0 AND NOT a.attisdropped
     WHERE g.tgfoid = 'lead_scoring.score_inserted_activities'::regproc
       AND NOT EXISTS (SELECT FROM lead_scoring.tracked_tables t
                        WHERE t.activity_table IN (SELECT lead_scoring.partition_ancestors(g.tgrelid)))
     ORDER BY g.tgrelid
  LOOP
    IF p.relkind = 'r' AND p.atttypid IN ('int8'::regtype, 'int4'::regtype, 'int2'::regtype) THEN
      EXECUTE format('SELECT array_agg(DISTINCT %I::bigint) FROM %s', p.lead_column, p.relid) INTO found;
      ids := ids || found;
    ELSIF p.relkind = 'r' THEN
      RAISE WARNING 'the leads of %, which left a tracked table, were not rescored: its lead column is not an integer', p.relid
        USING HINT = 'Run SELECT * FROM lead_scoring.rescore().';
    END IF;
    PERFORM lead_scoring.drop_live_triggers(p.relid);
  END LOOP;
  PERFORM lead_scoring.rescore_leads(ids);
END
$$;
COMMENT ON FUNCTION lead_scoring.follow_partitions(oid[]) IS
  'Gives partitions created in or attached to a tracked table the live-scoring triggers and scores their rows; takes them from partitions detached, scoring their leads without them';

-- A tracked table stays what track() checked: DDL that renames, retypes or
-- drops one of its tracked columns is refused (it would break the scoring of
-- that table), its partitions follow it (follow_partitions), and a dropped
-- table is untracked, its activities leaving the scores. Owner's rights, to
-- read tracked_tables and create triggers for whoever runs the DDL.
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
    IF NOT lead_scoring.loading_dump() THEN  -- a dump brings the partitions' triggers itself
      PERFORM lead_scoring.follow_partitions(ARRAY(SELECT c.objid FROM pg_event_trigger_ddl_commands() c
                                                    WHERE c.classid = 'pg_class'::regclass));
    END IF;
  ELSE
    DELETE FROM lead_scoring.tracked_tables x
     USING pg_event_trigger_dropped_objects() d
     WHERE d.classid = 'pg_class'::regclass AND d.objid = x.activity_table::oid AND d.objsubid = 0;
    -- a tracked table or a partition of one (its live triggers went with it):
    -- its rows are gone, so whose they were is known only to a full rescore
    IF (FOUND OR EXISTS (SELECT FROM pg_event_trigger_dropped_objects() d
                          WHERE d.object_type = 'trigger' AND d.object_identity LIKE 'lead\_scoring\_score\_inserts on %'))
       AND EXISTS (SELECT FROM lead_scoring.models WHERE is_active) THEN
      PERFORM lead_scoring.rescore_from((SELECT m.definition FROM lead_scoring.models m WHERE m.is_active), true);
    END IF;
  END IF;
END
$$;
COMMENT ON FUNCTION lead_scoring.guard_tracked_tables() IS
  'Event trigger: refuses ALTER TABLE that renames, retypes or drops a tracked column, makes partitions of tracked tables follow them, and untracks a dropped table (rescoring without it or a dropped partition)';
CREATE EVENT TRIGGER lead_scoring_guard_tracked_ddl ON ddl_command_end
  WHEN TAG IN ('ALTER TABLE', 'CREATE TABLE', 'CREATE FOREIGN TABLE')
  EXECUTE FUNCTION lead_scoring.guard_tracked_tables();
CREATE EVENT TRIGGER lead_scoring_guard_tracked_drop ON sql_drop WHEN TAG IN ('DROP TABLE', 'DROP SCHEMA', 'DROP OWNED')
  EXECUTE FUNCTION lead_scoring.guard_tracked_tables();

SELECT lead_scoring.track('lead_scoring.activities', 'lead_id', 'activity_type', 'occurred_at', 'properties');
