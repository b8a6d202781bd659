-- The active model's engagement score written in plain SQL: what a team
-- without the extension would write. The benchmark times it against the
-- aggregate and checks that both give every lead the same score.
--
-- Same semantics as lead_scoring.engagement_score(score_activities(...)):
--   * an activity counts under every rule of its type whose properties it contains;
--   * each rule's points decay by 2^(-age / half_life), measured from the
--     evaluation instant: as_of, or the lead's latest counted activity if later;
--   * the rule cap, then the component cap, both in either direction (LEAST/GREATEST,
--     which ignore a NULL cap);
--   * the score is the sum of the capped components.
-- The decay to the evaluation instant is done in two steps, to as_of per
-- activity and from as_of to the lead's instant per rule, so that one pass
-- over the activities suffices (2^-(a+b) = 2^-a * 2^-b).
--
-- A SQL function that the planner inlines, so it plans (and runs in
-- parallel) like the query written out.

CREATE SCHEMA IF NOT EXISTS bench;

CREATE OR REPLACE FUNCTION bench.plain_engagement_scores(as_of timestamptz)
RETURNS TABLE (lead_id bigint, engagement_score double precision)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH per_rule AS (
    SELECT a.lead_id, r.rule_id, r.model_id, r.component, r.points, r.max_points, r.half_life_seconds,
           max(a.occurred_at) AS latest,
           sum(CASE WHEN r.half_life_seconds IS NULL THEN 1
                    ELSE pg_catalog.power(2::float8, -pg_catalog.date_part('epoch', as_of - a.occurred_at)
                                                     / r.half_life_seconds) END) AS decayed_to_as_of
      FROM lead_scoring.activities a
      JOIN (SELECT r.rule_id, r.model_id, r.component, r.activity_type, r.properties, r.points, r.max_points,
                   pg_catalog.date_part('epoch', r.half_life) AS half_life_seconds
              FROM lead_scoring.activity_rules r
              JOIN lead_scoring.models m ON m.model_id = r.model_id AND m.is_active) r
        ON r.activity_type = a.activity_type
       AND (r.properties IS NULL OR a.properties OPERATOR(pg_catalog.@>) r.properties)
     GROUP BY a.lead_id, r.rule_id, r.model_id, r.component, r.points, r.max_points, r.half_life_seconds),
  rule_points AS (
    SELECT p.lead_id, p.model_id, p.component,
           GREATEST(-p.max_points, LEAST(p.max_points,
             p.points * p.decayed_to_as_of
             * CASE WHEN p.half_life_seconds IS NULL THEN 1
                    ELSE pg_catalog.power(2::float8,
                           -pg_catalog.date_part('epoch', GREATEST(as_of, max(p.latest) OVER (PARTITION BY p.lead_id)) - as_of)
                           / p.half_life_seconds) END)) AS points
      FROM per_rule p),
  component_points AS (
    SELECT p.lead_id, GREATEST(-c.max_points, LEAST(c.max_points, sum(p.points))) AS points
      FROM rule_points p
      JOIN lead_scoring.components c ON c.model_id = p.model_id AND c.component = p.component
     GROUP BY p.lead_id, c.model_id, c.component)
  SELECT c.lead_id, sum(c.points) FROM component_points c GROUP BY c.lead_id
$$;
COMMENT ON FUNCTION bench.plain_engagement_scores(timestamptz) IS
  'Every lead''s engagement score at as_of under the active model, in plain SQL (the benchmark''s comparison)';
