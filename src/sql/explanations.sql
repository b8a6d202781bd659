-- Explanations: a lead's score in words a sales rep understands.

CREATE FUNCTION lead_scoring.time_ago(elapsed interval) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE
    WHEN s < 3600 THEN 'within the hour'
    WHEN s < 86400 THEN format('%s hour%s ago', floor(s / 3600), CASE WHEN s < 7200 THEN '' ELSE 's' END)
    WHEN s < 86400 * 60 THEN format('%s day%s ago', floor(s / 86400), CASE WHEN s < 172800 THEN '' ELSE 's' END)
    ELSE format('%s months ago', floor(s / (86400 * 30.44)))
  END
  FROM (SELECT extract(epoch FROM $1) AS s) e
$$;
COMMENT ON FUNCTION lead_scoring.time_ago(interval) IS
  'How long ago, in words: within the hour, 5 hours ago, 3 days ago, 4 months ago';

-- The top factors of a state and attributes under a definition, in words.
CREATE FUNCTION lead_scoring.rank_factors(definition jsonb, engagement lead_scoring.engagement_state,
                                          attributes jsonb, as_of timestamptz, factors integer,
  OUT direction text, OUT rank integer, OUT points double precision, OUT factor text)
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  WITH parts AS (
    SELECT b.points, b.points_before_caps,
           format('%s: %s time%s, the latest %s', coalesce(r.description, r.activity_type),
                  b.activities, CASE WHEN b.activities = 1 THEN '' ELSE 's' END,
                  lead_scoring.time_ago(greatest($4 - b.latest_activity_at, interval '0'))) AS what
      FROM lead_scoring.engagement_breakdown($2, $1, $4) b
      LEFT JOIN lead_scoring.activity_rules r ON r.rule_id = b.rule_id
    UNION ALL
    SELECT b.points, b.points_before_caps,
           coalesce(r.description, format('%s %s', r.attribute, CASE r.test
             WHEN 'equals' THEN 'is ' || (r.value #>> '{}')
             WHEN 'in' THEN 'is one of ' || (SELECT string_agg(v #>> '{}', ', ') FROM jsonb_array_elements(r.value) v)
             WHEN 'matches' THEN 'matches ' || r.pattern
             WHEN 'present' THEN 'is given'
             ELSE 'is between ' || coalesce(r.min_value::text, 'any') || ' and ' || coalesce(r.max_value::text, 'any') END))
      FROM lead_scoring.fit_breakdown($1, $3) b
      LEFT JOIN lead_scoring.fit_rules r ON r.rule_id = b.rule_id),
  ranked AS (
    SELECT p.*, CASE WHEN p.points > 0 THEN 'raises' ELSE 'lowers' END AS direction,
           row_number() OVER (PARTITION BY p.points > 0 ORDER BY abs(p.points) DESC, p.what) AS rank
      FROM parts p WHERE p.points <> 0)
  SELECT r.direction, r.rank::integer, round(r.points::numeric, 1)::double precision,
         format('%s (%s%s points%s)', r.what, CASE WHEN r.points > 0 THEN '+' ELSE '' END,
                round(r.points::numeric, 1),
                CASE WHEN abs(r.points) < abs(r.points_before_caps) - 1e-9
                     THEN format(', capped from %s', round(r.points_before_caps::numeric, 1)) ELSE '' END)
    FROM ranked r
   WHERE r.rank <= $5
   ORDER BY r.direction DESC, r.rank
$$;
COMMENT ON FUNCTION lead_scoring.rank_factors(jsonb, lead_scoring.engagement_state, jsonb, timestamptz, integer) IS
  'The top factors raising and lowering the score of an engagement state and fit attributes under a model definition at as_of, in words (points to 0.1). Use score_factors or model_factors';

CREATE FUNCTION lead_scoring.score_factors(lead_id bigint, as_of timestamptz DEFAULT now(),
                                           factors integer DEFAULT 3,
  OUT direction text, OUT rank integer, OUT points double precision, OUT factor text)
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  SELECT f.*
    FROM (SELECT $1 AS lead_id) k
    LEFT JOIN lead_scoring.lead_scores s USING (lead_id)
    LEFT JOIN lead_scoring.leads l USING (lead_id)
   CROSS JOIN lead_scoring.active_model m
   CROSS JOIN LATERAL lead_scoring.rank_factors(m.definition, s.engagement,
                CASE WHEN l.lead_id IS NOT NULL
                     THEN lead_scoring.fit_attributes(l.email, l.first_name, l.last_name, l.company, l.attributes) END,
                $2, $3) f
$$;
COMMENT ON FUNCTION lead_scoring.score_factors(bigint, timestamptz, integer) IS
  'The top factors (default 3) raising and lowering a lead''s score at as_of, in words for a sales rep, from the exact breakdown under the active model (points to 0.1)';

CREATE FUNCTION lead_scoring.model_factors(model_name text, lead_id bigint, as_of timestamptz DEFAULT now(),
                                           factors integer DEFAULT 3,
  OUT direction text, OUT rank integer, OUT points double precision, OUT factor text)
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  SELECT f.*
    FROM (SELECT lead_scoring.model_definition($1) AS definition) d
   CROSS JOIN LATERAL lead_scoring.states_at(d.definition, $3, ARRAY[$2]) s
   CROSS JOIN LATERAL lead_scoring.rank_factors(d.definition, s.engagement, s.attributes, $3, $4) f
$$;
COMMENT ON FUNCTION lead_scoring.model_factors(text, bigint, timestamptz, integer) IS
  'score_factors under the model of that name, draft, retired or active, rebuilt from the activities up to as_of; nothing is activated';
