-- The aggregate runs in parallel plans (Partial Aggregate in workers, combined
-- in the leader) and gives the same states as a serial plan. The model is
-- passed as a scalar subquery: computed once, handed to every worker.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
CREATE TABLE public.bulk_activities AS
SELECT (i % 500) + 1 AS lead_id,
       (ARRAY['web_visit', 'webinar', 'unsubscribe', 'badge_scan'])[1 + i % 4] AS activity_type,
       '2025-06-01'::timestamptz + (i * 7919 % 240) * interval '1 day' + (i % 86400) * interval '1 second' AS occurred_at,
       CASE WHEN i % 5 = 0 THEN '{"page": "pricing"}'::jsonb ELSE '{}'::jsonb END AS properties
  FROM generate_series(1, 60000) AS i;
ANALYZE public.bulk_activities;

CREATE TEMP TABLE serial_states AS
SELECT a.lead_id, lead_scoring.score_activities(m.definition, a.activity_type, a.occurred_at, a.properties) AS state
  FROM public.bulk_activities a, lead_scoring.active_model m GROUP BY a.lead_id;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT a.lead_id, lead_scoring.score_activities((SELECT definition FROM lead_scoring.models WHERE name = 'live'),
                                                a.activity_type, a.occurred_at, a.properties)
  FROM public.bulk_activities a GROUP BY a.lead_id;
-- the comparison itself runs the same parallel plan inside its CTE
\set compare 'WITH parallel_states AS MATERIALIZED (SELECT a.lead_id, lead_scoring.score_activities((SELECT definition FROM lead_scoring.models WHERE name = ''live''), a.activity_type, a.occurred_at, a.properties) AS state FROM public.bulk_activities a GROUP BY a.lead_id) SELECT count(*) AS leads, count(*) FILTER (WHERE lead_scoring.activity_count(s.state) = lead_scoring.activity_count(p.state)) AS same_counts, count(*) FILTER (WHERE abs(lead_scoring.engagement_score(s.state, m.definition, ''2026-02-01'') - lead_scoring.engagement_score(p.state, m.definition, ''2026-02-01'')) <= 1e-9 * greatest(1, abs(lead_scoring.engagement_score(s.state, m.definition, ''2026-02-01'')))) AS same_scores FROM serial_states s JOIN parallel_states p USING (lead_id), lead_scoring.models m WHERE m.name = ''live'''
EXPLAIN (COSTS OFF) :compare;
:compare;
-- The report of a model change in parallel workers equals the same counts
-- written with grade_index (thresholds 0, 40, 70; the last sales-ready).
CREATE TABLE public.bulk_grades AS
SELECT i::bigint AS lead_id, i % 3 = 0 AS handed_off,
       CASE WHEN i % 11 = 0 THEN NULL ELSE (i % 100)::float8 END AS before, (i * 7 % 100)::float8 AS after
  FROM generate_series(1, 60000) AS i;
ANALYZE public.bulk_grades;
\set report 'SELECT (g.r).* FROM (SELECT lead_scoring.regrade(b.lead_id, b.handed_off, b.before, b.after, ''{0,40,70}'', ''{f,f,t}'') AS r FROM public.bulk_grades b) g'
EXPLAIN (COSTS OFF) :report;
WITH p AS MATERIALIZED (:report),
     g AS (SELECT b.lead_id, b.handed_off,
                  CASE WHEN b.before IS NOT NULL THEN lead_scoring.grade_index(b.before, '{0,40,70}') END AS before,
                  lead_scoring.grade_index(b.after, '{0,40,70}') AS after
             FROM public.bulk_grades b)
SELECT p.leads = (SELECT count(*) FROM g) AS same_leads,
       p.changed_grade = (SELECT count(*) FROM g WHERE g.before IS DISTINCT FROM g.after) AS same_changed,
       p.now_sales_ready = (SELECT count(*) FROM g WHERE g.after = 3 AND g.before IS DISTINCT FROM 3) AS same_now_ready,
       p.no_longer_sales_ready = (SELECT count(*) FROM g WHERE g.before = 3 AND g.after <> 3) AS same_no_longer,
       ARRAY(SELECT unnest(p.leads_to_hand_off) ORDER BY 1)
         = ARRAY(SELECT g.lead_id FROM g WHERE g.handed_off <> (g.after = 3) ORDER BY 1) AS same_to_hand_off
  FROM p;
RESET ALL;
-- The planner is told what a lead's state takes while aggregating (SSPACE):
-- 500 leads' states fit in 1MB of work_mem, and it plans no spill to disk
-- (told nothing, it would assume 8 kB a state, and plan 4 partitions).
SET max_parallel_workers_per_gather = 0;
SET work_mem = '1MB';
CREATE FUNCTION pg_temp.plan_of(query text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  plan jsonb;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
  RETURN plan->0->'Plan';
END
$$;
SELECT p->>'Node Type' AS node, p->>'Strategy' AS strategy, (p->>'Planned Partitions')::int AS planned_partitions
  FROM pg_temp.plan_of('SELECT a.lead_id, lead_scoring.score_activities((SELECT definition FROM lead_scoring.active_model), a.activity_type, a.occurred_at, a.properties) FROM public.bulk_activities a GROUP BY a.lead_id') p;
RESET ALL;
DROP TABLE public.bulk_activities, public.bulk_grades;
