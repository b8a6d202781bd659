-- Any model, any lead, any instant: scores and breakdowns of a named model
-- (draft, retired or active) rebuilt from the activities, without activating it.

-- Each lead known at as_of (in leads by then, or with an activity by then) as
-- a model definition sees it: its engagement from the activities up to as_of,
-- and its fit attributes (as they are now: attributes keep no history).
CREATE FUNCTION lead_scoring.states_at(definition jsonb, as_of timestamptz, lead_ids bigint[] DEFAULT NULL)
RETURNS TABLE (lead_id bigint, engagement lead_scoring.engagement_state, attributes jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  RETURN QUERY EXECUTE format($q$
    WITH states AS (
      SELECT a.lead_id, lead_scoring.score_activities($1, a.activity_type, a.occurred_at, a.properties) AS engagement
        FROM (%s) a
       WHERE a.lead_id IS NOT NULL AND a.occurred_at <= $2 AND ($3 IS NULL OR a.lead_id = ANY ($3))
       GROUP BY a.lead_id),
    known AS (
      SELECT s.lead_id FROM states s
      UNION
      SELECT l.lead_id FROM lead_scoring.leads l WHERE l.created_at <= $2 AND ($3 IS NULL OR l.lead_id = ANY ($3)))
    SELECT k.lead_id, s.engagement,
           lead_scoring.fit_attributes(l.email, l.first_name, l.last_name, l.company, l.attributes)
      FROM known k
      LEFT JOIN states s USING (lead_id)
      LEFT JOIN lead_scoring.leads l USING (lead_id)
     ORDER BY k.lead_id$q$, lead_scoring.activity_sources_sql())
  USING definition, as_of, lead_ids;
END
$$;
COMMENT ON FUNCTION lead_scoring.states_at(jsonb, timestamptz, bigint[]) IS
  'Each lead known at as_of (all, or those of lead_ids) as a model definition sees it: engagement from its activities up to as_of, and its fit attributes. Use lead_scoring.model_scores';

-- The model of that name, or an error that says so.
CREATE FUNCTION lead_scoring.model_definition(model_name text) RETURNS jsonb
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  definition jsonb;
BEGIN
  SELECT m.definition INTO definition FROM lead_scoring.models m WHERE m.name = model_name;
  IF definition IS NULL THEN
    RAISE EXCEPTION 'scoring model "%" does not exist', model_name
      USING ERRCODE = 'undefined_object',
            HINT = 'The models are listed in lead_scoring.model_versions.';
  END IF;
  RETURN definition;
END
$$;
COMMENT ON FUNCTION lead_scoring.model_definition(text) IS
  'The compiled definition of the model of that name; an error if there is none';

CREATE FUNCTION lead_scoring.model_scores(model_name text, as_of timestamptz DEFAULT now(), lead_ids bigint[] DEFAULT NULL,
  OUT lead_id bigint, OUT fit_score double precision, OUT engagement_score double precision,
  OUT total_score double precision, OUT grade text, OUT sales_ready boolean)
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  SELECT s.lead_id, f.fit, coalesce(lead_scoring.engagement_score(s.engagement, d.definition, $2), 0),
         lead_scoring.total_score(f.fit, s.engagement, d.definition, $2), t.grades[g], coalesce(t.sales_ready[g], false)
    FROM (SELECT lead_scoring.model_definition($1) AS definition) d
   CROSS JOIN LATERAL lead_scoring.states_at(d.definition, $2, $3) s
   CROSS JOIN lead_scoring.grade_thresholds t
   CROSS JOIN LATERAL (SELECT coalesce(lead_scoring.fit_score(d.definition, s.attributes), 0) AS fit) f
   CROSS JOIN LATERAL lead_scoring.grade_index(lead_scoring.total_score(f.fit, s.engagement, d.definition, $2),
                                               t.min_scores) g
   ORDER BY s.lead_id
$$;
COMMENT ON FUNCTION lead_scoring.model_scores(text, timestamptz, bigint[]) IS
  'Fit, engagement and total score, grade and sales-readiness of every lead (or those of lead_ids) at as_of under the model of that name, draft, retired or active, rebuilt from the activities up to as_of and graded by today''s thresholds; nothing is activated or written';

CREATE FUNCTION lead_scoring.model_breakdown(model_name text, lead_id bigint, as_of timestamptz DEFAULT now(),
  OUT dimension lead_scoring.score_dimension, OUT component text, OUT rule_id integer,
  OUT activities bigint, OUT points_before_caps double precision, OUT points double precision)
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  WITH s AS (SELECT d.definition, x.* FROM (SELECT lead_scoring.model_definition($1) AS definition) d,
                    lead_scoring.states_at(d.definition, $3, ARRAY[$2]) x)
  SELECT 'engagement'::lead_scoring.score_dimension, b.component, b.rule_id, b.activities, b.points_before_caps, b.points
    FROM s, lead_scoring.engagement_breakdown(s.engagement, s.definition, $3) b
  UNION ALL
  SELECT 'fit', b.component, b.rule_id, NULL, b.points_before_caps, b.points
    FROM s, lead_scoring.fit_breakdown(s.definition, s.attributes) b
  ORDER BY 1, 2, 3
$$;
COMMENT ON FUNCTION lead_scoring.model_breakdown(text, bigint, timestamptz) IS
  'Breakdown of one lead''s score at as_of under the model of that name, draft, retired or active, as explain_score gives it for the active model: one row per contributing rule; points add up to model_scores.total_score';
