-- track(): score a user's own activity table in place; untrack() detaches it.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
CREATE TABLE public.web_events (id serial, visitor bigint, kind varchar(40), at timestamptz, payload json);
INSERT INTO public.web_events (visitor, kind, at, payload) VALUES
  (103, 'web_visit', '2026-01-15', '{"page": "pricing"}'),
  (103, 'web_visit', '2026-01-16', '{"page": "docs"}'),
  (500, 'web_visit', '2026-01-16', NULL);
-- wrong column names or types are refused, and nothing is attached
SELECT * FROM lead_scoring.track('public.web_events', 'visitor', 'kind', 'nope');
SELECT * FROM lead_scoring.track('public.web_events', 'visitor', 'at', 'kind');
SELECT * FROM lead_scoring.track('public.web_events', 'kind', 'kind', 'at');
SELECT activity_table FROM lead_scoring.tracked_tables ORDER BY 1;

-- 103 has a visit (5) and a month-old webinar (4.9); its events add 2 visits (10) and a pricing visit (15).
SELECT (lead_scoring.lead_score(103, '2026-02-01')).engagement_score AS before_tracking;
-- (an insert first, rolled back, so that this session keeps the tracked tables
-- in memory before track() adds one: its next insert must read them anew)
BEGIN;
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at) VALUES (103, 'web_visit', '2026-01-01');
ROLLBACK;
SELECT * FROM lead_scoring.track('public.web_events', 'visitor', 'kind', 'at', 'payload');
SELECT (lead_scoring.lead_score(103, '2026-02-01')).engagement_score AS after_tracking;
-- a visitor with no lead row is scored too (fit 0)
SELECT lead_id, round(fit_score::numeric, 1) AS fit, round(engagement_score::numeric, 1) AS engagement
  FROM lead_scoring.lead_grades WHERE lead_id = 500;
-- new rows in the user's table are scored live, in bulk or one by one
INSERT INTO public.web_events (visitor, kind, at) SELECT 500, 'web_visit', '2026-01-20' FROM generate_series(1, 2);
SELECT (lead_scoring.lead_score(500, '2026-02-01')).engagement_score AS after_insert;
DELETE FROM public.web_events WHERE visitor = 500 AND at = '2026-01-20';
SELECT (lead_scoring.lead_score(500, '2026-02-01')).engagement_score AS after_delete;
-- rows without a lead (anonymous visitors) score nobody, one row or several
SELECT count(*) AS lead_scores_before FROM lead_scoring.lead_scores;
INSERT INTO public.web_events (visitor, kind, at) VALUES (NULL, 'web_visit', '2026-01-21');
INSERT INTO public.web_events (visitor, kind, at) VALUES (NULL, 'web_visit', '2026-01-21'), (NULL, 'webinar', '2026-01-21');
SELECT count(*) AS lead_scores_after FROM lead_scoring.lead_scores;
DELETE FROM public.web_events WHERE visitor IS NULL;
-- an insert of more than 100 rows is planned for its size, smaller ones reuse
-- kept plans: both score as a full recompute does (150 visits an hour apart
-- are counted for the burst check, and are no burst)
INSERT INTO public.web_events (visitor, kind, at, payload)
SELECT 501, 'web_visit', '2026-01-10'::timestamptz + i * interval '1 hour', '{"page": "pricing"}'
  FROM generate_series(1, 150) i;
INSERT INTO public.web_events (visitor, kind, at) VALUES (502, 'web_visit', '2026-01-20');
INSERT INTO public.web_events (visitor, kind, at) VALUES (502, 'web_visit', '2026-01-21');
SELECT * FROM public.live_mismatches();
SELECT count(*) AS suppressed FROM lead_scoring.suppressed_leads WHERE lead_id IN (501, 502);
-- kept plans follow the table's columns: a column before the tracked ones
-- dropped, one added, the lead column of another integer type
ALTER TABLE public.web_events DROP COLUMN id;
ALTER TABLE public.web_events ADD COLUMN source text;
ALTER TABLE public.web_events ALTER COLUMN visitor TYPE integer;
-- what would stop the table's scoring is refused: a tracked column renamed,
-- dropped, or given a type that does not fit
ALTER TABLE public.web_events RENAME COLUMN payload TO details;
ALTER TABLE public.web_events DROP COLUMN kind;
ALTER TABLE public.web_events ALTER COLUMN visitor TYPE text;
-- 502 had two visits (5 each); a pricing visit adds 5 for the visit and 15 for the page
INSERT INTO public.web_events (visitor, kind, at, payload) VALUES (502, 'web_visit', '2026-01-22', '{"page": "pricing"}');
SELECT (lead_scoring.lead_score(502, '2026-01-22')).engagement_score AS with_pricing_visit;
SELECT * FROM public.live_mismatches();
-- the same table cannot be tracked twice
SELECT * FROM lead_scoring.track('public.web_events', 'visitor', 'kind', 'at', 'payload');

-- A full recompute covers every tracked table and equals the live state.
SELECT * FROM public.live_mismatches();

-- untrack removes its triggers and its activities from the scores; its rows stay.
SELECT * FROM lead_scoring.untrack('public.web_events');
SELECT (lead_scoring.lead_score(103, '2026-02-01')).engagement_score AS after_untrack;
SELECT count(*) AS rows_kept FROM public.web_events;
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'public.web_events'::regclass;
SELECT * FROM lead_scoring.untrack('public.web_events');
DROP TABLE public.web_events;
-- leads 500 to 502 existed only in that table: untracked, they left the scores
SELECT count(*) AS left_behind FROM lead_scoring.lead_scores WHERE lead_id IN (500, 501, 502);

-- Dropping a tracked table untracks it: its activities leave the scores.
CREATE TABLE public.short_lived (visitor bigint, kind text, at timestamptz);
SELECT count(*) AS tracked FROM lead_scoring.track('public.short_lived', 'visitor', 'kind', 'at');
INSERT INTO public.short_lived VALUES (103, 'web_visit', '2026-01-30');
-- a visit (5, no decay) on top of the 9.886 above
SELECT (lead_scoring.lead_score(103, '2026-02-01')).engagement_score AS with_its_visit;
-- A deleted lead with activities in a tracked table is still scored, with
-- fit 0, as a rescore would score it: 700 is a VP (fit 25) with a visit (5).
INSERT INTO lead_scoring.leads (lead_id, email, attributes) VALUES (700, 'vp@gone.example', '{"title": "VP"}');
INSERT INTO public.short_lived VALUES (700, 'web_visit', '2026-01-30');
SELECT fit_score, engagement_score FROM lead_scoring.lead_score(700, '2026-02-01');
DELETE FROM lead_scoring.leads WHERE lead_id = 700;
SELECT fit_score, engagement_score FROM lead_scoring.lead_score(700, '2026-02-01');
SELECT * FROM public.live_mismatches();
-- A lead whose id changes is scored under its new id only: 710, a director
-- (fit 25) with no activity, becomes 1710.
INSERT INTO lead_scoring.leads (lead_id, email, attributes) VALUES (710, 'dir@moved.example', '{"title": "Director"}');
UPDATE lead_scoring.leads SET lead_id = 1710 WHERE lead_id = 710;
SELECT lead_id, lead_scoring.tested_fit_score(fit_tests, fit_basis, (SELECT definition FROM lead_scoring.active_model)) AS fit_score
  FROM lead_scoring.lead_scores WHERE lead_id IN (710, 1710) ORDER BY lead_id;
DELETE FROM lead_scoring.leads WHERE lead_id = 1710;
DROP TABLE public.short_lived;
SELECT count(*) AS tables_tracked FROM lead_scoring.tracked_tables;
SELECT (lead_scoring.lead_score(103, '2026-02-01')).engagement_score AS after_drop;
-- 700 existed only in that table: it is gone with it
SELECT count(*) AS left_behind FROM lead_scoring.lead_scores WHERE lead_id = 700;

-- A table partitioned by month, the usual shape of a big activity table: its
-- rows are scored whichever table a statement names, the partitioned table
-- or one of its partitions (a statement fires only the triggers of the table
-- it names, so each partition carries the live triggers too).
CREATE TABLE public.events_by_month (visitor bigint, kind text, at timestamptz) PARTITION BY RANGE (at);
CREATE TABLE public.events_2026_01 PARTITION OF public.events_by_month FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
SELECT count(*) AS tracked FROM lead_scoring.track('public.events_by_month', 'visitor', 'kind', 'at');
SELECT tgrelid::regclass AS table_name, count(*) AS live_triggers FROM pg_trigger
 WHERE tgname LIKE 'lead\_scoring\_%' AND tgrelid IN (SELECT relid FROM pg_partition_tree('public.events_by_month'))
 GROUP BY 1 ORDER BY 1;
-- 800 (no lead row, fit 0): a visit through the partitioned table and one
-- into the partition, 5 each, counted once each
INSERT INTO public.events_by_month VALUES (800, 'web_visit', '2026-01-10');
INSERT INTO public.events_2026_01 VALUES (800, 'web_visit', '2026-01-11');
SELECT fit_score, engagement_score FROM lead_scoring.lead_score(800, '2026-03-01');
-- a partition created later carries the triggers too: a third visit, 15
CREATE TABLE public.events_2026_02 PARTITION OF public.events_by_month FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
INSERT INTO public.events_2026_02 VALUES (800, 'web_visit', '2026-02-02');
SELECT engagement_score FROM lead_scoring.lead_score(800, '2026-03-01');
-- A month loaded on the side and attached with its rows (a backfill) is
-- scored at once: a fourth visit for 800 (20); 801, new, has two visits (10)
-- and then opted out.
CREATE TABLE public.events_2025_12 (visitor bigint, kind text, at timestamptz);
INSERT INTO public.events_2025_12 VALUES (800, 'web_visit', '2025-12-20'), (801, 'web_visit', '2025-12-05'),
  (801, 'web_visit', '2025-12-06'), (801, 'opt_out', '2025-12-07');
ALTER TABLE public.events_by_month ATTACH PARTITION public.events_2025_12 FOR VALUES FROM ('2025-12-01') TO ('2026-01-01');
SELECT s.lead_id, l.fit_score, l.engagement_score, lead_scoring.activity_count(s.engagement) AS activities
  FROM lead_scoring.lead_scores s, LATERAL lead_scoring.lead_score(s.lead_id, '2026-03-01') l
 WHERE s.lead_id IN (800, 801) ORDER BY s.lead_id;
SELECT lead_id, kind FROM lead_scoring.suppressed_leads WHERE lead_id IN (800, 801);
-- a delete from the partition (801: 5), a row moved to another partition by
-- an update of the partitioned table (800: still 20)
DELETE FROM public.events_2025_12 WHERE visitor = 801 AND at = '2025-12-06';
UPDATE public.events_by_month SET at = '2026-02-10' WHERE visitor = 800 AND at = '2026-01-11';
SELECT tableoid::regclass AS now_in FROM public.events_by_month WHERE visitor = 800 AND at = '2026-02-10';
SELECT lead_id, engagement_score FROM lead_scoring.lead_scores s, LATERAL lead_scoring.lead_score(s.lead_id, '2026-03-01')
 WHERE s.lead_id IN (800, 801) ORDER BY s.lead_id;
SELECT * FROM public.live_mismatches();
-- A month detached leaves the scores, and loses the triggers: 800 keeps
-- three visits (15); 801 had only that month, and keeps a row without
-- activities only for its opt-out (the funnel leaves it out).
ALTER TABLE public.events_by_month DETACH PARTITION public.events_2025_12 CONCURRENTLY;
SELECT lead_id, engagement_score FROM lead_scoring.lead_scores s, LATERAL lead_scoring.lead_score(s.lead_id, '2026-03-01')
 WHERE s.lead_id IN (800, 801) ORDER BY s.lead_id;
SELECT count(*) AS live_triggers FROM pg_trigger WHERE tgrelid = 'public.events_2025_12'::regclass;
-- A partition truncated: 800 keeps its January visit (5). The whole table
-- truncated (which truncates each partition too): its leads leave, but for
-- 801's row (its opt-out).
TRUNCATE public.events_2026_02;
SELECT engagement_score FROM lead_scoring.lead_score(800, '2026-03-01');
INSERT INTO public.events_by_month VALUES (802, 'web_visit', '2026-02-15');
TRUNCATE public.events_by_month;
SELECT count(*) AS left_behind FROM lead_scoring.lead_scores WHERE lead_id IN (800, 801, 802);
-- A partition dropped: its rows are gone before anyone can see whose they
-- were, so every lead is rescored; 803 leaves.
INSERT INTO public.events_2026_01 VALUES (803, 'web_visit', '2026-01-03');
SELECT engagement_score FROM lead_scoring.lead_score(803, '2026-03-01');
DROP TABLE public.events_2026_01;
SELECT count(*) AS left_behind FROM lead_scoring.lead_scores WHERE lead_id = 803;
-- What the triggers could not follow is refused: a foreign table as a
-- partition (its rows cannot be collected by the triggers), a tracked table
-- attached as a partition or a partition tracked (rows written through its
-- partitioned table would fire none of its triggers), and a child by plain
-- inheritance of a tracked table.
CREATE FOREIGN DATA WRAPPER no_handler;
CREATE SERVER nowhere FOREIGN DATA WRAPPER no_handler;
CREATE FOREIGN TABLE public.events_remote (visitor bigint, kind text, at timestamptz) SERVER nowhere;
ALTER TABLE public.events_by_month ATTACH PARTITION public.events_remote FOR VALUES FROM ('2027-01-01') TO ('2027-02-01');
CREATE FOREIGN TABLE public.events_remote_2 PARTITION OF public.events_by_month FOR VALUES FROM ('2027-02-01') TO ('2027-03-01') SERVER nowhere;
SELECT count(*) AS tracked FROM lead_scoring.track('public.events_2025_12', 'visitor', 'kind', 'at');
ALTER TABLE public.events_by_month ATTACH PARTITION public.events_2025_12 FOR VALUES FROM ('2025-12-01') TO ('2026-01-01');
SELECT count(*) AS untracked FROM lead_scoring.untrack('public.events_2025_12');
CREATE TABLE public.events_archive (visitor bigint, kind text, at timestamptz) PARTITION BY RANGE (at);
ALTER TABLE public.events_archive ATTACH PARTITION public.events_2025_12 FOR VALUES FROM ('2025-12-01') TO ('2026-01-01');
SELECT count(*) AS tracked FROM lead_scoring.track('public.events_2025_12', 'visitor', 'kind', 'at');
DROP TABLE public.events_archive;
CREATE TABLE public.plain_events (visitor bigint, kind text, at timestamptz);
SELECT count(*) AS tracked FROM lead_scoring.track('public.plain_events', 'visitor', 'kind', 'at');
CREATE TABLE public.plain_events_child () INHERITS (public.plain_events);
SELECT count(*) AS untracked FROM lead_scoring.untrack('public.plain_events');
CREATE TABLE public.plain_events_child () INHERITS (public.plain_events);
SELECT count(*) AS tracked FROM lead_scoring.track('public.plain_events', 'visitor', 'kind', 'at');
-- untrack takes the triggers off every table of the tree
SELECT count(*) AS untracked FROM lead_scoring.untrack('public.events_by_month');
SELECT count(*) AS live_triggers FROM pg_trigger
 WHERE tgrelid IN (SELECT relid FROM pg_partition_tree('public.events_by_month')) AND tgname LIKE 'lead\_scoring\_%';
DROP TABLE public.events_by_month, public.plain_events CASCADE;
DROP FOREIGN TABLE public.events_remote;
DROP SERVER nowhere;
DROP FOREIGN DATA WRAPPER no_handler;
DELETE FROM lead_scoring.suppressions WHERE lead_id = 801;  -- its opt-out: the later tests count suppressions
SELECT count(*) AS left_behind FROM lead_scoring.lead_scores WHERE lead_id = 801;   -- its row went with it
SELECT activity_table FROM lead_scoring.tracked_tables ORDER BY 1;
