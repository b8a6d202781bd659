-- Engagement: exponential decay by half-life, per-rule caps, component caps,
-- negative points, late activities; all hand-computed at fixed instants.
\set SHOW_CONTEXT never
SET timezone = 'UTC';

-- web: capped at 30; rule 1 fades by half each day and is capped at 15;
-- rule 2 (pricing page) never fades; downloads fade in a week; unsubscribes cost 25.
CREATE TEMP TABLE m AS SELECT lead_scoring.check_model('{
  "model_id": 1,
  "components": [
    {"component": "web", "dimension": "engagement", "max_points": 30},
    {"component": "content", "dimension": "engagement"},
    {"component": "negative", "dimension": "engagement"}],
  "activity_rules": [
    {"rule_id": 1, "component": "web", "activity_type": "web_visit", "points": 10,
     "half_life_seconds": 86400, "max_points": 15},
    {"rule_id": 2, "component": "web", "activity_type": "web_visit", "properties": {"page": "pricing"},
     "points": 20},
    {"rule_id": 3, "component": "content", "activity_type": "download", "points": 8,
     "half_life_seconds": 604800},
    {"rule_id": 4, "component": "negative", "activity_type": "unsubscribe", "points": -25},
    {"rule_id": 5, "component": "content", "activity_type": "long_visit", "points": 1,
     "half_life_seconds": 31536000}]}') AS def;

CREATE TEMP TABLE acts (lead int, type text, at timestamptz, props jsonb);
INSERT INTO acts VALUES
  -- lead 1: one visit on Jan 10
  (1, 'web_visit', '2026-01-10', '{}'),
  -- lead 2: visits on Jan 8, 9 and 10: 1 + 1/2 + 1/4 = 1.75 visits left on Jan 10
  (2, 'web_visit', '2026-01-08', '{}'),
  (2, 'web_visit', '2026-01-09', '{}'),
  (2, 'web_visit', '2026-01-10', '{}'),
  -- lead 3: two plain visits and a pricing visit on Jan 10 (a pricing visit is also a visit)
  (3, 'web_visit', '2026-01-10', '{}'),
  (3, 'web_visit', '2026-01-10', '{"page": "home"}'),
  (3, 'web_visit', '2026-01-10', '{"page": "pricing", "utm": "ad"}'),
  -- lead 4: a download and an unsubscribe on Jan 10
  (4, 'download', '2026-01-10', '{}'),
  (4, 'unsubscribe', '2026-01-10', NULL),
  -- lead 5: only activity types no rule scores
  (5, 'tradeshow_badge_scan', '2026-01-10', '{}');

CREATE TEMP TABLE states AS
SELECT lead, lead_scoring.score_activities(m.def, type, at, props) AS st
  FROM acts, m GROUP BY lead;

-- Lead 1: 10 points fresh, 5 a day later, 2.5 two days later, 10/1024 after ten days.
-- Asked for an instant before its latest activity, a state is evaluated at that activity.
SELECT as_of, lead_scoring.engagement_score(st, m.def, as_of) AS score
  FROM states, m, unnest(ARRAY['2026-01-09', '2026-01-10', '2026-01-11', '2026-01-12', '2026-01-20']::timestamptz[]) AS as_of
 WHERE lead = 1 ORDER BY as_of;

-- Lead 2: 17.5 points capped to 15 by the rule cap on Jan 10; 8.75 on Jan 11 (cap no longer binds).
SELECT as_of, lead_scoring.engagement_score(st, m.def, as_of) AS score
  FROM states, m, unnest(ARRAY['2026-01-10', '2026-01-11']::timestamptz[]) AS as_of
 WHERE lead = 2 ORDER BY as_of;
-- Its total score with a fit of 12.5 is 12.5 + 8.75 on Jan 11; with no state, the fit alone.
SELECT lead_scoring.total_score(12.5, st, m.def, '2026-01-11') AS with_state,
       lead_scoring.total_score(12.5, NULL, m.def, '2026-01-11') AS without_state
  FROM states, m WHERE lead = 2;

-- Lead 3: rule 1 has 3 visits = 30, capped to 15; rule 2 gives 20; web = 35, capped to 30.
-- The capped component shares its 30 in proportion: 15*30/35 and 20*30/35.
SELECT rule_id, component, activities, points_before_caps, points_after_rule_cap, round(points::numeric, 9) AS points
  FROM states, m, lead_scoring.engagement_breakdown(st, m.def, '2026-01-10')
 WHERE lead = 3 ORDER BY rule_id;
-- Three days later rule 1 has faded to 30/8 = 3.75, under every cap: 3.75 + 20.
SELECT lead_scoring.engagement_score(st, m.def, '2026-01-13') AS score FROM states, m WHERE lead = 3;

-- Lead 4: 8 - 25 = -17 on Jan 10; a week later the download counts half: 4 - 25 = -21.
SELECT as_of, lead_scoring.engagement_score(st, m.def, as_of) AS score
  FROM states, m, unnest(ARRAY['2026-01-10', '2026-01-17']::timestamptz[]) AS as_of
 WHERE lead = 4 ORDER BY as_of;

-- Lead 5: no rule matched: an empty state scoring 0.
SELECT st::text, lead_scoring.engagement_score(st, m.def, '2026-01-10') AS score,
       lead_scoring.latest_activity_at(st), lead_scoring.activity_count(st)
  FROM states, m WHERE lead = 5;

-- The breakdown always adds up to the score.
SELECT lead, round(lead_scoring.engagement_score(st, m.def, '2026-01-11')::numeric, 9) AS score,
       round((SELECT sum(points) FROM lead_scoring.engagement_breakdown(st, m.def, '2026-01-11'))::numeric, 9) AS breakdown_sum
  FROM states, m ORDER BY lead;

-- Late activities: the order of arrival does not matter, nor does merging
-- separately built states (as live scoring does).
CREATE TEMP TABLE spread AS
SELECT 9 AS lead, t AS at, CASE WHEN i % 3 = 0 THEN 'download' ELSE 'long_visit' END AS type
  FROM generate_series(0, 949) AS i,
       LATERAL (SELECT '2000-01-01'::timestamptz + i * interval '10 days' + (i % 7) * interval '1 hour') AS x(t);
SELECT min(at), max(at), count(*) FROM spread;
WITH in_order AS (
  SELECT lead_scoring.score_activities(m.def, type, at, NULL ORDER BY at) AS st FROM spread, m),
reversed AS (
  SELECT lead_scoring.score_activities(m.def, type, at, NULL ORDER BY at DESC) AS st FROM spread, m),
shuffled AS (
  SELECT lead_scoring.score_activities(m.def, type, at, NULL ORDER BY md5(at::text)) AS st FROM spread, m),
merged AS (
  SELECT lead_scoring.merge_engagement(
           (SELECT lead_scoring.score_activities(m.def, type, at, NULL) FROM spread, m WHERE at >= '2015-01-01'),
           (SELECT lead_scoring.score_activities(m.def, type, at, NULL) FROM spread, m WHERE at < '2015-01-01')) AS st),
-- the same model in plain SQL: points * 2^-(age / half-life), summed
exact AS (
  SELECT as_of, sum(CASE type WHEN 'download' THEN 8 * power(2, -extract(epoch FROM as_of - at) / 604800)
                              ELSE power(2, -extract(epoch FROM as_of - at) / 31536000) END)::float8 AS score
    FROM spread, unnest(ARRAY['2026-01-01', '2026-06-01', '2046-01-01']::timestamptz[]) AS as_of
   GROUP BY as_of)
SELECT e.as_of,
       abs(lead_scoring.engagement_score(i.st, m.def, e.as_of) / e.score - 1) < 1e-9 AS in_order_exact,
       abs(lead_scoring.engagement_score(r.st, m.def, e.as_of) / e.score - 1) < 1e-9 AS reversed_exact,
       abs(lead_scoring.engagement_score(s.st, m.def, e.as_of) / e.score - 1) < 1e-9 AS shuffled_exact,
       abs(lead_scoring.engagement_score(g.st, m.def, e.as_of) / e.score - 1) < 1e-9 AS merged_exact,
       lead_scoring.activity_count(g.st) AS counted
  FROM exact e, in_order i, reversed r, shuffled s, merged g, m
 ORDER BY e.as_of;

-- A state's text form round-trips exactly.
SELECT bool_and(st::text::lead_scoring.engagement_state::text = st::text) AS text_round_trip FROM states;

-- An empty state is well-formed; malformed states are refused with a clear error.
SELECT '{"fingerprint": "0000000000000001", "counters": []}'::lead_scoring.engagement_state;
SELECT '{}'::lead_scoring.engagement_state;
SELECT 'not json'::lead_scoring.engagement_state;
SELECT '{"fingerprint": "xyz", "counters": []}'::lead_scoring.engagement_state;
SELECT '{"fingerprint": "0000000000000001", "counters": [{"counter": "0000000000000002", "activities": 1, "latest": "2026-01-01", "amount": 1, "half_life_seconds": 0}, {"counter": "0000000000000001", "activities": 1, "latest": "2026-01-01", "amount": 1, "half_life_seconds": 0}]}'::lead_scoring.engagement_state;
SELECT '{"fingerprint": "0000000000000001", "counters": [{"counter": "0000000000000001", "activities": 1, "latest": "infinity", "amount": 1, "half_life_seconds": 0}]}'::lead_scoring.engagement_state;
SELECT '{"fingerprint": "0000000000000001", "counters": [{"counter": "0000000000000001", "activities": 1, "latest": "2026-01-01", "amount": -1, "half_life_seconds": 0}]}'::lead_scoring.engagement_state;

-- A state evaluated with a model whose activity rules differ is refused, not misread.
SELECT lead_scoring.engagement_score(st, '{"components": [], "activity_rules": []}', '2026-01-10')
  FROM states WHERE lead = 1;
SELECT lead_scoring.state_matches_model(st, m.def) AS matches,
       lead_scoring.state_matches_model(st, '{"components": [], "activity_rules": []}') AS matches_other
  FROM states, m WHERE lead = 1;

-- Infinite activity times are refused; infinite "as of" instants are fine.
SELECT lead_scoring.score_activities(m.def, 'web_visit', 'infinity', NULL) FROM m;
SELECT lead_scoring.engagement_score(st, m.def, 'infinity') AS at_infinity,
       lead_scoring.engagement_score(st, m.def, '-infinity') AS at_minus_infinity
  FROM states, m WHERE lead = 2;

-- States are parsed strictly, and counts never overflow silently.
SELECT '{"fingerprint": "0x00000000000001", "counters": []}'::lead_scoring.engagement_state;
SELECT '{"fingerprint": " 000000000000001", "counters": []}'::lead_scoring.engagement_state;
SELECT '{"fingerprint": "0000000000000001", "counters": [{"counter": "1.6", "activities": 1, "latest": "2026-01-01", "amount": 1, "half_life_seconds": 0}]}'::lead_scoring.engagement_state;
SELECT '{"fingerprint": "0000000000000001", "counters": [{"counter": "0000000000000001", "activities": 1, "latest": "2026-01-01", "amount": 1e400, "half_life_seconds": 0}]}'::lead_scoring.engagement_state;
SELECT lead_scoring.merge_engagement(s, s) FROM (SELECT '{"fingerprint": "0000000000000001", "counters": [{"counter": "0000000000000001", "activities": 9223372036854775807, "latest": "2026-01-01", "amount": 1, "half_life_seconds": 0}]}'::lead_scoring.engagement_state AS s) x;
SELECT lead_scoring.merge_engagement(s, s) FROM (SELECT '{"fingerprint": "0000000000000001", "counters": [{"counter": "0000000000000001", "activities": 1, "latest": "2026-01-01", "amount": 1e308, "half_life_seconds": 0}]}'::lead_scoring.engagement_state AS s) x;
SELECT lead_scoring.activity_count(s) FROM (SELECT '{"fingerprint": "0000000000000001", "counters": [{"counter": "0000000000000001", "activities": 9223372036854775807, "latest": "2026-01-01", "amount": 1, "half_life_seconds": 0}, {"counter": "0000000000000002", "activities": 1, "latest": "2026-01-01", "amount": 1, "half_life_seconds": 0}]}'::lead_scoring.engagement_state AS s) x;
