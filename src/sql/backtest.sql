-- Backtests: replay a model (and thresholds) over a past period before it goes live.

-- One model and one set of thresholds over [period_start, period_end).
CREATE FUNCTION lead_scoring.replay(definition jsonb, grades text[], min_scores double precision[],
                                    sales_ready boolean[], period_start timestamptz, period_end timestamptz)
RETURNS TABLE (grade text, leads_at_end bigint, would_hand_off bigint, decided bigint, won bigint,
               revenue numeric, auc double precision)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  RETURN QUERY EXECUTE format($q$
    WITH acts AS (SELECT * FROM (%s) a WHERE a.lead_id IS NOT NULL AND a.occurred_at < $6),
    attrs AS (
      SELECT l.lead_id, lead_scoring.fit_attributes(l.email, l.first_name, l.last_name, l.company, l.attributes) AS attributes
        FROM lead_scoring.leads l),
    -- the leads known before the period's end, as model_scores sees them
    -- (states_at includes its instant; a microsecond before the end does not)
    end_grades AS (
      SELECT lead_scoring.grade_index(lead_scoring.total_score(coalesce(lead_scoring.fit_score($1, e.attributes), 0),
                                                               e.engagement, $1, $6), $3) AS g
        FROM lead_scoring.states_at($1, $6 - interval '1 microsecond') e),
    running AS (
      SELECT x.lead_id, x.occurred_at,
             lead_scoring.score_activities($1, x.activity_type, x.occurred_at, x.properties)
               OVER (PARTITION BY x.lead_id ORDER BY x.occurred_at ROWS UNBOUNDED PRECEDING) AS engagement
        FROM acts x WHERE x.lead_id IN (SELECT y.lead_id FROM acts y WHERE y.occurred_at >= $5)),
    reached AS (
      SELECT DISTINCT ON (r.lead_id) r.lead_id, g.g
        FROM running r LEFT JOIN attrs t USING (lead_id),
             LATERAL lead_scoring.grade_index(lead_scoring.total_score(coalesce(lead_scoring.fit_score($1, t.attributes), 0),
                                                                       r.engagement, $1, r.occurred_at), $3) g(g)
       WHERE r.occurred_at >= $5 AND $4[g.g]
       ORDER BY r.lead_id, r.occurred_at),
    decisions AS (
      SELECT s.won, s.amount,
             lead_scoring.total_score(coalesce(lead_scoring.fit_score($1, s.attributes), 0),
                                      s.engagement, $1, s.decided_at) AS score
        FROM lead_scoring.states_at_decision($1) s
       WHERE s.decided_at >= $5 AND s.decided_at < $6),
    decision_grades AS (SELECT d.*, lead_scoring.grade_index(d.score, $3) AS g FROM decisions d),
    model_auc AS (
      SELECT lead_scoring.roc_auc(array_agg(d.score), array_agg(d.won)) AS auc FROM decisions d)
    SELECT $2[i],
           (SELECT count(*) FROM end_grades e WHERE e.g = i),
           (SELECT count(*) FROM reached r WHERE r.g = i),
           (SELECT count(*) FROM decision_grades d WHERE d.g = i),
           (SELECT count(*) FROM decision_grades d WHERE d.g = i AND d.won),
           (SELECT coalesce(sum(d.amount), 0) FROM decision_grades d WHERE d.g = i AND d.won),
           (SELECT m.auc FROM model_auc m)
      FROM generate_subscripts($2, 1) i
     ORDER BY i DESC$q$, lead_scoring.activity_sources_sql())
  USING definition, grades, min_scores, sales_ready, period_start, period_end;
END
$$;
COMMENT ON FUNCTION lead_scoring.replay(jsonb, text[], double precision[], boolean[], timestamptz, timestamptz) IS
  'Replays one model definition with one set of thresholds over a period: grades at its end, leads that would have reached a sales-ready grade at an activity in it, and grades and outcomes of the leads sales took in it. Use lead_scoring.backtest';

CREATE FUNCTION lead_scoring.backtest(model_name text, period_start timestamptz, period_end timestamptz,
                                      thresholds jsonb DEFAULT NULL)
RETURNS TABLE (scenario text, model text, grade text, min_score double precision, sales_ready boolean,
               leads_at_end bigint, would_hand_off bigint, decided bigint, won bigint,
               win_rate numeric, revenue numeric, auc double precision)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  candidate lead_scoring.models;
  active lead_scoring.models;
  unknown text;
  t record;
  c record;
BEGIN
  IF period_start IS NULL OR period_end IS NULL OR NOT period_start < period_end THEN
    RAISE EXCEPTION 'the period must run forwards: % to %', period_start, period_end
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT * INTO candidate FROM lead_scoring.models m WHERE m.name = model_name;
  IF candidate.model_id IS NULL THEN
    RAISE EXCEPTION 'scoring model "%" does not exist', model_name USING ERRCODE = 'undefined_object';
  END IF;
  SELECT * INTO active FROM lead_scoring.models m WHERE m.is_active;
  IF thresholds IS NOT NULL AND jsonb_typeof(thresholds) <> 'object' THEN
    RAISE EXCEPTION 'thresholds must be a JSON object of grade to min_score, like {"A": 60}'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT string_agg(k, ', ') INTO unknown FROM jsonb_object_keys(thresholds) k
   WHERE k NOT IN (SELECT g.grade FROM lead_scoring.grades g);
  IF unknown IS NOT NULL THEN
    RAISE EXCEPTION 'no such grade: %', unknown USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF EXISTS (SELECT FROM jsonb_each(thresholds) e WHERE jsonb_typeof(e.value) <> 'number') THEN
    RAISE EXCEPTION 'thresholds must be numbers' USING ERRCODE = 'invalid_parameter_value';
  END IF;

  -- the candidate's thresholds: those in force, with the what-if ones
  SELECT array_agg(g.grade ORDER BY s.min_score) AS grades,
         array_agg(s.min_score ORDER BY s.min_score) AS min_scores,
         array_agg(g.sales_ready ORDER BY s.min_score) AS sales_ready,
         bool_and(s.in_order) AS in_order
    INTO t
    FROM lead_scoring.grades g
   CROSS JOIN LATERAL (SELECT coalesce((thresholds->>g.grade)::float8, g.min_score) AS min_score) m
   CROSS JOIN LATERAL (SELECT m.min_score,
                              m.min_score > ALL (SELECT coalesce((thresholds->>w.grade)::float8, w.min_score)
                                                   FROM lead_scoring.grades w WHERE w.rank > g.rank) AS in_order) s;
  IF t.grades IS NULL THEN
    RAISE EXCEPTION 'no grades are defined' USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  IF NOT t.in_order THEN
    RAISE EXCEPTION 'what-if thresholds must fall as the grade rank rises: %', thresholds
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  FOR c IN
    SELECT 'candidate' AS scenario, candidate.name AS name, candidate.definition AS definition,
           t.grades AS grades, t.min_scores AS min_scores, t.sales_ready AS sales_ready
    UNION ALL
    SELECT 'in force', active.name, active.definition, f.grades, f.min_scores, f.sales_ready
      FROM lead_scoring.grade_thresholds f
     WHERE active.model_id IS NOT NULL
       AND (active.model_id <> candidate.model_id OR thresholds IS NOT NULL)
  LOOP
    RETURN QUERY
    SELECT c.scenario, c.name, r.grade, c.min_scores[array_position(c.grades, r.grade)],
           c.sales_ready[array_position(c.grades, r.grade)],
           r.leads_at_end, r.would_hand_off, r.decided, r.won,
           round(r.won::numeric / nullif(r.decided, 0), 4), r.revenue, r.auc
      FROM lead_scoring.replay(c.definition, c.grades, c.min_scores, c.sales_ready, period_start, period_end) r;
  END LOOP;
END
$$;
COMMENT ON FUNCTION lead_scoring.backtest(text, timestamptz, timestamptz, jsonb) IS
  'Replays a model, draft or active, over [period_start, period_end) with the thresholds in force or what-if ones ({"A": 60}), side by side with the active model as it is: grades at the end, leads it would have handed off, and conversion, revenue and AUC of the leads sales took in the period';
