-- Views for any SQL client, all as of now().

CREATE VIEW lead_scoring.active_model AS
SELECT model_id, name, definition FROM lead_scoring.models WHERE is_active;
COMMENT ON VIEW lead_scoring.active_model IS 'The model that scores leads now';
COMMENT ON COLUMN lead_scoring.active_model.model_id IS 'Model identifier';
COMMENT ON COLUMN lead_scoring.active_model.name IS 'Model name';
COMMENT ON COLUMN lead_scoring.active_model.definition IS 'Its validated definition, as the scoring functions take it';

-- The model and the thresholds are values computed once (initplans), not
-- joined rows, so that parallel workers can grade the leads (PostgreSQL 15
-- would rescan a joined row's plan for every lead in each worker), and
-- sales_ready is a function of its own, whose planner support gives the share
-- of sales-ready leads. Without an active model (before the first is
-- activated) every lead is listed with empty scores: a WHERE on the model's
-- presence would keep the join with leads even where no column of it is read.
CREATE VIEW lead_scoring.lead_grades AS
SELECT s.lead_id, l.email, l.company,
       x.fit_score, x.engagement_score,
       lead_scoring.total_score(x.fit_score, s.engagement, (SELECT m.definition FROM lead_scoring.active_model m), now())
         AS total_score,
       (SELECT t.grades FROM lead_scoring.grade_thresholds t)[
         lead_scoring.stamped_grade_index(s.score_stamp, s.xmin, s.fit_tests, s.fit_basis, s.engagement,
                                          (SELECT m.definition FROM lead_scoring.active_model m), now(),
                                          (SELECT t.min_scores FROM lead_scoring.grade_thresholds t))] AS grade,
       lead_scoring.stamped_sales_ready(s.score_stamp, s.xmin, s.fit_tests, s.fit_basis, s.engagement,
                                        (SELECT m.definition FROM lead_scoring.active_model m), now(),
                                        (SELECT t.min_scores FROM lead_scoring.grade_thresholds t),
                                        (SELECT t.sales_ready FROM lead_scoring.grade_thresholds t)) AS sales_ready,
       lead_scoring.latest_activity_at(s.engagement) AS last_activity_at,
       (SELECT m.name FROM lead_scoring.active_model m) AS model,
       s.open_suppressions > 0 AS suppressed,
       coalesce(st.stage, 'inquiry') AS stage
  FROM lead_scoring.lead_scores s
  LEFT JOIN lead_scoring.leads l ON l.lead_id = s.lead_id
  -- joined on its key, so left out of a query that reads no stage
  LEFT JOIN lead_scoring.lead_stages st ON st.lead_id = s.lead_id
 CROSS JOIN LATERAL (
   SELECT lead_scoring.tested_fit_score(s.fit_tests, s.fit_basis, (SELECT m.definition FROM lead_scoring.active_model m))
            AS fit_score,
          CASE WHEN (SELECT m.definition FROM lead_scoring.active_model m) IS NOT NULL
               THEN coalesce(lead_scoring.engagement_score(s.engagement, (SELECT m.definition FROM lead_scoring.active_model m), now()), 0)
          END AS engagement_score) x;
COMMENT ON VIEW lead_scoring.lead_grades IS 'Every lead''s scores and grade as of now, under the active model and current thresholds (empty scores and grade before a model is active)';
COMMENT ON COLUMN lead_scoring.lead_grades.lead_id IS 'Lead identifier';
COMMENT ON COLUMN lead_scoring.lead_grades.email IS 'Email address (empty for leads only seen in a tracked activity table)';
COMMENT ON COLUMN lead_scoring.lead_grades.company IS 'Company name';
COMMENT ON COLUMN lead_scoring.lead_grades.fit_score IS 'Fit: who the lead is';
COMMENT ON COLUMN lead_scoring.lead_grades.engagement_score IS 'Engagement: how interested, decayed to now';
COMMENT ON COLUMN lead_scoring.lead_grades.total_score IS 'fit_score + engagement_score, which the grade is based on';
COMMENT ON COLUMN lead_scoring.lead_grades.grade IS 'Grade from lead_scoring.grades; empty if no grades are defined';
COMMENT ON COLUMN lead_scoring.lead_grades.sales_ready IS 'Whether the grade is sales-ready';
COMMENT ON COLUMN lead_scoring.lead_grades.last_activity_at IS 'Latest activity that some rule scored';
COMMENT ON COLUMN lead_scoring.lead_grades.model IS 'Name of the active model';
COMMENT ON COLUMN lead_scoring.lead_grades.suppressed IS 'Suppressed (bogus, burst, opted out, or by hand): out of the funnel and the sales views';
COMMENT ON COLUMN lead_scoring.lead_grades.stage IS 'Lifecycle stage now (lead_scoring.lifecycle_stages): inquiry until handed off';

-- The funnel counts grade positions in one pass over lead_scores, with the
-- model and the thresholds as values computed once (so that parallel workers
-- can grade the leads), each lead graded from its stamp or evaluated once
-- (funnel_counts), and names the grades after counting.
CREATE VIEW lead_scoring.funnel AS
WITH counted AS (
  SELECT lead_scoring.funnel_counts(s.score_stamp, s.xmin, s.fit_tests, s.fit_basis, s.engagement,
           (SELECT m.definition FROM lead_scoring.active_model m), now(),
           (SELECT t.min_scores FROM lead_scoring.grade_thresholds t)) AS c
    FROM lead_scoring.lead_scores s
   WHERE EXISTS (SELECT FROM lead_scoring.active_model) AND s.open_suppressions = 0),
graded AS (
  SELECT p.position, c.c[4 * p.position - 3]::bigint AS leads,
         CASE WHEN c.c[4 * p.position - 2] > 0 THEN c.c[4 * p.position - 1] END AS lowest_score,
         CASE WHEN c.c[4 * p.position - 2] > 0 THEN c.c[4 * p.position] END AS highest_score
    FROM counted c CROSS JOIN LATERAL pg_catalog.generate_series(1, pg_catalog.cardinality(c.c) / 4) p(position)
   WHERE c.c[4 * p.position - 3] > 0)
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
COMMENT ON VIEW lead_scoring.funnel IS 'The graded funnel as of now: leads per grade, best grade first; suppressed leads are left out';
COMMENT ON COLUMN lead_scoring.funnel.grade IS 'Grade name';
COMMENT ON COLUMN lead_scoring.funnel.rank IS '1 for the best grade';
COMMENT ON COLUMN lead_scoring.funnel.leads IS 'Leads with this grade now';
COMMENT ON COLUMN lead_scoring.funnel.share IS 'Fraction of all leads with this grade (0 to 1)';
COMMENT ON COLUMN lead_scoring.funnel.min_score IS 'Lowest total score of the grade (the lowest grade also takes lower scores)';
COMMENT ON COLUMN lead_scoring.funnel.below_score IS 'The grade covers scores below this; empty for the best grade';
COMMENT ON COLUMN lead_scoring.funnel.lowest_score IS 'Lowest total score among its leads now';
COMMENT ON COLUMN lead_scoring.funnel.highest_score IS 'Highest total score among its leads now';
COMMENT ON COLUMN lead_scoring.funnel.sales_ready IS 'Whether leads of this grade go to sales';

CREATE VIEW lead_scoring.score_breakdown AS
SELECT s.lead_id, 'engagement'::lead_scoring.score_dimension AS dimension, b.component, b.rule_id,
       coalesce(r.description, r.activity_type || coalesce(' ' || r.properties::text, '')) AS rule,
       b.activities, b.latest_activity_at, b.points_before_caps, b.points
  FROM lead_scoring.lead_scores s
  JOIN lead_scoring.active_model m ON true
 CROSS JOIN LATERAL lead_scoring.engagement_breakdown(s.engagement, m.definition, now()) b
  LEFT JOIN lead_scoring.activity_rules r ON r.rule_id = b.rule_id
UNION ALL
SELECT l.lead_id, 'fit'::lead_scoring.score_dimension, b.component, b.rule_id,
       coalesce(r.description, r.attribute || ' ' || CASE
                  WHEN r.test = 'between' AND r.max_value IS NULL THEN '>= ' || r.min_value
                  WHEN r.test = 'between' AND r.min_value IS NULL THEN '<= ' || r.max_value
                  WHEN r.test = 'between' THEN 'between ' || r.min_value || ' and ' || r.max_value
                  WHEN r.test = 'equals' THEN '= ' || r.value::text
                  WHEN r.test = 'present' THEN 'present'
                  ELSE r.test::text || ' ' || coalesce(r.value::text, r.pattern) END),
       NULL, NULL, b.points_before_caps, b.points
  FROM lead_scoring.leads l
  JOIN lead_scoring.active_model m ON true
 CROSS JOIN LATERAL lead_scoring.fit_breakdown(m.definition,
         lead_scoring.fit_attributes(l.email, l.first_name, l.last_name, l.company, l.attributes)) b
  LEFT JOIN lead_scoring.fit_rules r ON r.rule_id = b.rule_id;
COMMENT ON VIEW lead_scoring.score_breakdown IS 'Why each lead scores what it does, as of now: one row per rule that contributes; points add up to the lead''s total_score';
COMMENT ON COLUMN lead_scoring.score_breakdown.lead_id IS 'Lead identifier';
COMMENT ON COLUMN lead_scoring.score_breakdown.dimension IS 'fit or engagement';
COMMENT ON COLUMN lead_scoring.score_breakdown.component IS 'Component the rule counts towards';
COMMENT ON COLUMN lead_scoring.score_breakdown.rule_id IS 'Rule identifier (in activity_rules or fit_rules, by dimension)';
COMMENT ON COLUMN lead_scoring.score_breakdown.rule IS 'The rule''s description, or what it tests';
COMMENT ON COLUMN lead_scoring.score_breakdown.activities IS 'Activities the rule counted (engagement only)';
COMMENT ON COLUMN lead_scoring.score_breakdown.latest_activity_at IS 'Latest of those activities';
COMMENT ON COLUMN lead_scoring.score_breakdown.points_before_caps IS 'Points after decay, before any cap';
COMMENT ON COLUMN lead_scoring.score_breakdown.points IS 'Points after the rule cap and the component cap (a capped component shares its cap in proportion)';

CREATE FUNCTION lead_scoring.explain_score(lead_id bigint, as_of timestamptz DEFAULT now(),
  OUT dimension lead_scoring.score_dimension, OUT component text, OUT rule_id integer,
  OUT activities bigint, OUT points_before_caps double precision, OUT points double precision)
RETURNS SETOF record LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  SELECT 'engagement'::lead_scoring.score_dimension, b.component, b.rule_id, b.activities,
         b.points_before_caps, b.points
    FROM lead_scoring.lead_scores s, lead_scoring.active_model m,
         lead_scoring.engagement_breakdown(s.engagement, m.definition, $2) b
   WHERE s.lead_id = $1
  UNION ALL
  SELECT 'fit', b.component, b.rule_id, NULL, b.points_before_caps, b.points
    FROM lead_scoring.leads l, lead_scoring.active_model m,
         lead_scoring.fit_breakdown(m.definition,
           lead_scoring.fit_attributes(l.email, l.first_name, l.last_name, l.company, l.attributes)) b
   WHERE l.lead_id = $1
  ORDER BY 1, 2, 3
$$;
COMMENT ON FUNCTION lead_scoring.explain_score(bigint, timestamptz) IS
  'Breakdown of one lead''s score at as_of (default now): one row per contributing rule; points add up to the score';

-- lead_grades at as_of, for one lead. (A function inlined into lead_grades
-- would have its tables read with the rights of the view's reader, not of the
-- view's owner: lead_grades writes its query out.)
CREATE FUNCTION lead_scoring.lead_score(lead_id bigint, as_of timestamptz DEFAULT now(),
  OUT fit_score double precision, OUT engagement_score double precision,
  OUT total_score double precision, OUT grade text, OUT sales_ready boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  SELECT lead_scoring.tested_fit_score(s.fit_tests, s.fit_basis, m.definition), e.score,
         lead_scoring.stored_total_score(s.fit_tests, s.fit_basis, s.engagement, m.definition, $2),
         t.grades[g], coalesce(t.sales_ready[g], false)
    FROM lead_scoring.lead_scores s
    JOIN lead_scoring.active_model m ON true
   CROSS JOIN lead_scoring.grade_thresholds t
   CROSS JOIN LATERAL (SELECT coalesce(lead_scoring.engagement_score(s.engagement, m.definition, $2), 0) AS score) e
   CROSS JOIN LATERAL lead_scoring.grade_index(lead_scoring.stored_total_score(s.fit_tests, s.fit_basis, s.engagement,
                                                                               m.definition, $2),
                                               t.min_scores) g
   WHERE s.lead_id = $1
$$;
COMMENT ON FUNCTION lead_scoring.lead_score(bigint, timestamptz) IS
  'One lead''s fit, engagement and total score, grade and sales-readiness at as_of (default now), from its live state';

CREATE FUNCTION lead_scoring.unmatched_activities(
  OUT activity_type text, OUT has_rules boolean, OUT activities bigint, OUT leads bigint,
  OUT first_seen timestamptz, OUT last_seen timestamptz)
RETURNS SETOF record LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  RETURN QUERY EXECUTE format($q$
    SELECT a.activity_type,
           EXISTS (SELECT FROM lead_scoring.activity_rules r JOIN lead_scoring.active_model m USING (model_id)
                    WHERE r.activity_type = a.activity_type),
           count(*), count(DISTINCT a.lead_id), min(a.occurred_at), max(a.occurred_at)
      FROM (%s) a
     WHERE NOT EXISTS (SELECT FROM lead_scoring.activity_rules r JOIN lead_scoring.active_model m USING (model_id)
                        WHERE r.activity_type = a.activity_type
                          AND (r.properties IS NULL OR a.properties @> r.properties))
     GROUP BY a.activity_type ORDER BY count(*) DESC, a.activity_type$q$,
    lead_scoring.activity_sources_sql());
END
$$;
COMMENT ON FUNCTION lead_scoring.unmatched_activities() IS
  'Activities in tracked tables that no rule of the active model scores, by type';

CREATE VIEW lead_scoring.unscored_activity_types AS
SELECT * FROM lead_scoring.unmatched_activities();
COMMENT ON VIEW lead_scoring.unscored_activity_types IS 'Activity types seen in tracked tables that no rule of the active model scores: candidates for new rules, or typos';
COMMENT ON COLUMN lead_scoring.unscored_activity_types.activity_type IS 'Activity type';
COMMENT ON COLUMN lead_scoring.unscored_activity_types.has_rules IS 'True if the type has rules but these activities lack the properties they require';
COMMENT ON COLUMN lead_scoring.unscored_activity_types.activities IS 'Activities no rule scores';
COMMENT ON COLUMN lead_scoring.unscored_activity_types.leads IS 'Leads with such activities';
COMMENT ON COLUMN lead_scoring.unscored_activity_types.first_seen IS 'Earliest such activity';
COMMENT ON COLUMN lead_scoring.unscored_activity_types.last_seen IS 'Latest such activity';
