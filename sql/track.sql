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
SELECT lead_id, fit_score FROM lead_scoring.lead_scores WHERE lead_id IN (710, 1710) ORDER BY lead_id;
DELETE FROM lead_scoring.leads WHERE lead_id = 1710;
DROP TABLE public.short_lived;
SELECT count(*) AS tables_tracked FROM lead_scoring.tracked_tables;
SELECT (lead_scoring.lead_score(103, '2026-02-01')).engagement_score AS after_drop;
-- 700 existed only in that table: it is gone with it
SELECT count(*) AS left_behind FROM lead_scoring.lead_scores WHERE lead_id = 700;
