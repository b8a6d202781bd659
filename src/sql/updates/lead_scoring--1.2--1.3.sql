-- lead_scoring 1.2 -> 1.3: faster live scoring and funnel (issue 5's profiles).
\echo Use "ALTER EXTENSION lead_scoring UPDATE TO '1.3'" to load this file. \quit

-- The insert trigger in C: its statements keep their plans between inserts
-- (as dynamic SQL in PL/pgSQL they were planned again on every insert), and
-- the burst search runs only for leads with enough activities to have one.
CREATE OR REPLACE FUNCTION lead_scoring.score_inserted_activities() RETURNS trigger
AS 'MODULE_PATHNAME', 'lead_scoring_score_inserted_activities'
LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off;
COMMENT ON FUNCTION lead_scoring.score_inserted_activities() IS
  'Trigger (AFTER INSERT, per statement; arguments: the lead, type, time and properties columns): adds the inserted activities to their leads'' engagement, applies opt-outs, finds bursts and hands off leads that became sales-ready';

-- PL/pgSQL keeps the plans of these two between calls; as SQL functions with
-- SET clauses they were planned on every call.
CREATE OR REPLACE FUNCTION lead_scoring.activity_sources_sql() RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  RETURN (
    SELECT coalesce(string_agg(format(
             'SELECT %I::bigint AS lead_id, %I::text AS activity_type, %I AS occurred_at, %s AS properties FROM %s',
             lead_column, type_column, time_column,
             CASE WHEN properties_column IS NULL THEN 'NULL::jsonb' ELSE format('%I::jsonb', properties_column) END,
             activity_table), ' UNION ALL ' ORDER BY activity_table::oid),
           'SELECT NULL::bigint AS lead_id, NULL::text AS activity_type, NULL::timestamptz AS occurred_at, NULL::jsonb AS properties WHERE false')
      FROM lead_scoring.tracked_tables);
END
$$;

CREATE OR REPLACE FUNCTION lead_scoring.setting(setting_name text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  RETURN (SELECT s.value FROM lead_scoring.settings s WHERE s.name = setting_name);
END
$$;

-- Only a lead whose score crossed the lowest sales-ready score one way or the
-- other since it was last handed off (or suppressed since) can change hands:
-- find those first, with a kept plan on lead_scores, and grade only them
-- through lead_grades. Most activities change nothing.
CREATE OR REPLACE FUNCTION lead_scoring.hand_off(lead_ids bigint[], cause text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  handed bigint;
BEGIN
  IF lead_ids IS NOT NULL THEN
    lead_ids := ARRAY(
      SELECT s.lead_id
        FROM lead_scoring.lead_scores s, lead_scoring.active_model m
       WHERE s.lead_id = ANY (lead_ids)
         AND (s.handed_off IS DISTINCT FROM coalesce(
                s.fit_score + coalesce(lead_scoring.engagement_score(s.engagement, m.definition, now()), 0)
                >= (SELECT CASE WHEN bool_and(g.sales_ready) THEN '-Infinity'::float8
                                ELSE min(g.min_score) FILTER (WHERE g.sales_ready) END
                      FROM lead_scoring.grades g), false)
              OR s.handed_off AND EXISTS (SELECT FROM lead_scoring.suppressions x
                                           WHERE x.lead_id = s.lead_id AND x.lifted_at IS NULL)));
    IF cardinality(lead_ids) = 0 THEN
      RETURN 0;
    END IF;
  END IF;
  -- EXECUTE plans with the values known, so "$1 IS NULL OR" folds away and
  -- a trigger's few leads are found by index, not by grading every lead
  EXECUTE $q$
  UPDATE lead_scoring.lead_scores s SET handed_off = false
    FROM lead_scoring.lead_grades g
   WHERE s.lead_id = g.lead_id AND s.handed_off AND ($1 IS NULL OR s.lead_id = ANY ($1))
     AND (NOT g.sales_ready OR g.suppressed)$q$ USING lead_ids;
  EXECUTE $q$
  WITH ready AS (
    SELECT g.lead_id, g.fit_score, g.engagement_score, g.total_score, g.grade, m.model_id, m.name
      FROM lead_scoring.lead_grades g
      JOIN lead_scoring.lead_scores s USING (lead_id)
     CROSS JOIN lead_scoring.active_model m
     WHERE ($1 IS NULL OR g.lead_id = ANY ($1)) AND g.sales_ready AND NOT g.suppressed AND NOT s.handed_off),
  -- NOT handed_off is checked again on the locked row: a concurrent writer that
  -- handed the lead off first wins, and this one records nothing for it
  marked AS (
    UPDATE lead_scoring.lead_scores s SET handed_off = true
      FROM ready r WHERE s.lead_id = r.lead_id AND NOT s.handed_off
    RETURNING s.lead_id),
  recorded AS (
    INSERT INTO lead_scoring.handoffs (lead_id, cause, fit_score, engagement_score, total_score, grade,
                                       thresholds, model_id, model_name)
    SELECT r.lead_id, $2, r.fit_score, r.engagement_score, r.total_score, r.grade,
           lead_scoring.thresholds_in_force(), r.model_id, r.name
      FROM ready r JOIN marked USING (lead_id) ORDER BY r.lead_id
    RETURNING *)
  SELECT count(pg_notify('lead_scoring_handoff', jsonb_build_object(
           'handoff_id', handoff_id, 'lead_id', lead_id, 'cause', cause, 'grade', grade,
           'total_score', total_score, 'fit_score', fit_score, 'engagement_score', engagement_score,
           'model', model_name, 'handed_off_at', handed_off_at)::text))
    FROM recorded$q$
  INTO handed USING lead_ids, cause;
  RETURN handed;
END
$$;

-- It calls jsonb_build_object, which is STABLE: declared IMMUTABLE it could
-- not be inlined, and ran as a separate function call for every lead.
ALTER FUNCTION lead_scoring.fit_attributes(text, text, text, text, jsonb) STABLE;

-- Its cost in the planner's units: a decay per rule the lead has, about ten
-- times a simple operator. At the default of 1 no plan over many leads used
-- parallel workers to evaluate it.
ALTER FUNCTION lead_scoring.engagement_score(lead_scoring.engagement_state, jsonb, timestamptz) COST 10;

-- The funnel counts grade positions in one pass over lead_scores, with the
-- model and the thresholds as values computed once (so that parallel workers
-- can score the leads), and names the grades after counting; before, it graded
-- every lead through lead_grades, one function scan per lead, without workers.
CREATE OR REPLACE VIEW lead_scoring.funnel AS
WITH graded AS (
  SELECT lead_scoring.grade_index(x.total_score, (SELECT t.min_scores FROM lead_scoring.grade_thresholds t))
           AS position,
         count(*) AS leads, min(x.total_score) AS lowest_score, max(x.total_score) AS highest_score
    FROM (SELECT s.fit_score + coalesce(lead_scoring.engagement_score(
                   s.engagement, (SELECT m.definition FROM lead_scoring.active_model m), now()), 0) AS total_score
            FROM lead_scoring.lead_scores s
           WHERE EXISTS (SELECT FROM lead_scoring.active_model)
             AND NOT EXISTS (SELECT FROM lead_scoring.suppressions x
                              WHERE x.lead_id = s.lead_id AND x.lifted_at IS NULL)) x
   GROUP BY 1)
SELECT r.grade, r.rank,
       coalesce(c.leads, 0) AS leads,
       round(coalesce(c.leads, 0)::numeric / nullif(sum(c.leads) OVER (), 0), 4) AS share,
       r.min_score, r.below_score,
       c.lowest_score, c.highest_score,
       r.sales_ready
  FROM lead_scoring.grade_ranges r
 CROSS JOIN lead_scoring.grade_thresholds t
  LEFT JOIN graded c ON t.grades[c.position] = r.grade
 ORDER BY r.rank;
