-- Calibration: does the model's grade predict revenue? Judged at the decision, not today.

-- Wilson score interval: sound for small counts and rates near 0 or 1.
CREATE FUNCTION lead_scoring.win_rate_interval(wins bigint, leads bigint,
  OUT low double precision, OUT high double precision)
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
  SELECT (p + z * z / (2 * n) - z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n),
         (p + z * z / (2 * n) + z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n)
    FROM (SELECT $1::float8 / $2 AS p, $2::float8 AS n, 1.959963984540054::float8 AS z) v
   WHERE $2 > 0
$$;
COMMENT ON FUNCTION lead_scoring.win_rate_interval(bigint, bigint) IS
  'The 95% confidence interval (Wilson score) of a win rate of wins out of leads; empty for no leads';

CREATE FUNCTION lead_scoring.conversion_by(dimension text, band_width double precision DEFAULT 10,
  OUT label text, OUT sort_key double precision, OUT leads bigint, OUT won bigint, OUT lost bigint,
  OUT disqualified bigint, OUT open bigint, OUT win_rate numeric, OUT win_rate_low numeric,
  OUT win_rate_high numeric, OUT revenue numeric, OUT revenue_per_closed_lead numeric)
RETURNS SETOF record
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  IF dimension IS NULL OR dimension NOT IN ('grade', 'taken as', 'score band') THEN
    RAISE EXCEPTION 'cannot tally conversion by "%"', dimension
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Use grade, taken as, or score band.';
  END IF;
  IF NOT (band_width > 0 AND band_width < 'infinity') THEN
    RAISE EXCEPTION 'band_width must be a positive number, not %', band_width
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN QUERY
  WITH labelled AS (
    SELECT d.*,
           CASE dimension
             WHEN 'grade' THEN d.grade
             WHEN 'taken as' THEN CASE WHEN d.cherry_picked THEN 'cherry-picked'
                                       WHEN d.taken_by = 'claimed' THEN 'claimed when sales-ready'
                                       WHEN d.taken_by = 'closed' THEN 'closed without handoff or claim'
                                       ELSE 'handed off' END
             ELSE format('%s to %s', floor(d.total_score / band_width) * band_width,
                         (floor(d.total_score / band_width) + 1) * band_width) END AS label,
           CASE dimension
             WHEN 'grade' THEN (SELECT g.rank FROM lead_scoring.grades g WHERE g.grade = d.grade)
             WHEN 'taken as' THEN CASE WHEN d.cherry_picked THEN 3 WHEN d.taken_by = 'claimed' THEN 2
                                       WHEN d.taken_by = 'closed' THEN 4 ELSE 1 END
             ELSE floor(d.total_score / band_width) END AS sort_key
      FROM lead_scoring.lead_decisions d),
  tallied AS (
    SELECT l.label, min(l.sort_key) AS sort_key, count(*) AS leads,
           count(*) FILTER (WHERE l.outcome = 'won') AS won,
           count(*) FILTER (WHERE l.outcome = 'lost') AS lost,
           count(*) FILTER (WHERE l.outcome = 'disqualified') AS disqualified,
           count(*) FILTER (WHERE l.outcome IS NULL) AS open,
           coalesce(sum(l.amount) FILTER (WHERE l.outcome = 'won'), 0) AS revenue
      FROM labelled l GROUP BY l.label)
  SELECT t.label, t.sort_key, t.leads, t.won, t.lost, t.disqualified, t.open,
         round(t.won::numeric / nullif(t.leads - t.open, 0), 4),
         round(i.low::numeric, 4), round(i.high::numeric, 4),
         t.revenue, round(t.revenue / nullif(t.leads - t.open, 0), 2)
    FROM tallied t
    LEFT JOIN LATERAL lead_scoring.win_rate_interval(t.won, t.leads - t.open) i ON true
   ORDER BY t.sort_key NULLS LAST, t.label;
END
$$;
COMMENT ON FUNCTION lead_scoring.conversion_by(text, double precision) IS
  'Leads sales took or closed, their outcomes, win rate with a 95% interval, and revenue, tallied by the grade they had when taken (for a lead closed without handoff or claim, the active model''s at its decision), by how they were taken (handed off, claimed when sales-ready, cherry-picked, closed without handoff or claim), or by score band of band_width points';

CREATE VIEW lead_scoring.conversion_by_grade AS
SELECT label AS grade, leads, won, lost, disqualified, open, win_rate, win_rate_low, win_rate_high,
       revenue, revenue_per_closed_lead
  FROM lead_scoring.conversion_by('grade');
COMMENT ON VIEW lead_scoring.conversion_by_grade IS
  'Conversion and revenue by the grade leads had when sales took them (first handoff or claim; for a lead closed with neither, the active model''s grade at its decision), not their grade today: a sound model wins more in its better grades';
COMMENT ON COLUMN lead_scoring.conversion_by_grade.grade IS 'Grade when handed off or claimed, best first';

CREATE VIEW lead_scoring.cherry_pick_conversion AS
SELECT label AS taken_as, leads, won, lost, disqualified, open, win_rate, win_rate_low, win_rate_high,
       revenue, revenue_per_closed_lead
  FROM lead_scoring.conversion_by('taken as');
COMMENT ON VIEW lead_scoring.cherry_pick_conversion IS
  'Do cherry-picked leads convert? Leads handed off by scoring, claimed when sales-ready, and cherry-picked (claimed below the sales-ready grade): if cherry-picks win as often, the model misses what reps see';
COMMENT ON COLUMN lead_scoring.cherry_pick_conversion.taken_as IS 'handed off, claimed when sales-ready, or cherry-picked';

CREATE VIEW lead_scoring.win_rate_by_score_band AS
SELECT label AS score_band, sort_key * 10 AS band_start, leads, won, lost, disqualified, open,
       win_rate, win_rate_low, win_rate_high, revenue, revenue_per_closed_lead
  FROM lead_scoring.conversion_by('score band', 10);
COMMENT ON VIEW lead_scoring.win_rate_by_score_band IS
  'Observed win rate per band of 10 points of total score when sales took the lead: should rise with the score (other widths: lead_scoring.conversion_by(''score band'', width))';
COMMENT ON COLUMN lead_scoring.win_rate_by_score_band.score_band IS 'Range of total score, lower end included';
COMMENT ON COLUMN lead_scoring.win_rate_by_score_band.band_start IS 'Lower end of the band (for sorting and charts)';

DO $$
DECLARE
  v text;
BEGIN
  FOREACH v IN ARRAY ARRAY['conversion_by_grade', 'cherry_pick_conversion', 'win_rate_by_score_band'] LOOP
    EXECUTE format($c$
      COMMENT ON COLUMN lead_scoring.%1$I.leads IS 'Leads sales took';
      COMMENT ON COLUMN lead_scoring.%1$I.won IS 'Of them, won';
      COMMENT ON COLUMN lead_scoring.%1$I.lost IS 'Lost';
      COMMENT ON COLUMN lead_scoring.%1$I.disqualified IS 'Disqualified';
      COMMENT ON COLUMN lead_scoring.%1$I.open IS 'No outcome yet';
      COMMENT ON COLUMN lead_scoring.%1$I.win_rate IS 'won / (won + lost + disqualified)';
      COMMENT ON COLUMN lead_scoring.%1$I.win_rate_low IS 'Lower end of its 95%% confidence interval (Wilson)';
      COMMENT ON COLUMN lead_scoring.%1$I.win_rate_high IS 'Upper end of its 95%% confidence interval (Wilson)';
      COMMENT ON COLUMN lead_scoring.%1$I.revenue IS 'Revenue won';
      COMMENT ON COLUMN lead_scoring.%1$I.revenue_per_closed_lead IS 'Revenue per lead with an outcome'$c$, v);
  END LOOP;
END
$$;

-- Activities done before the decision, per lead with an outcome (all tracked tables).
CREATE FUNCTION lead_scoring.activity_lift(
  OUT activity_type text, OUT leads_with_outcome bigint,
  OUT did bigint, OUT did_won bigint, OUT did_win_rate numeric,
  OUT did_not bigint, OUT did_not_won bigint, OUT did_not_win_rate numeric,
  OUT lift numeric, OUT difference_low numeric, OUT difference_high numeric)
RETURNS SETOF record
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  RETURN QUERY EXECUTE format($q$
    WITH decided AS (
      SELECT d.lead_id, d.decided_at, d.outcome = 'won' AS won
        FROM lead_scoring.lead_decisions d WHERE d.outcome IS NOT NULL),
    done AS (
      SELECT DISTINCT a.activity_type, a.lead_id
        FROM (%s) a JOIN decided d ON d.lead_id = a.lead_id AND a.occurred_at < d.decided_at),
    totals AS (SELECT count(*) AS n, count(*) FILTER (WHERE won) AS wins FROM decided),
    counts AS (
      SELECT x.activity_type, count(*) AS did, count(*) FILTER (WHERE d.won) AS did_won
        FROM done x JOIN decided d USING (lead_id) GROUP BY x.activity_type)
    SELECT c.activity_type, t.n, c.did, c.did_won, round(p1::numeric, 4),
           t.n - c.did, t.wins - c.did_won, round(p2::numeric, 4),
           round((p1 / nullif(p2, 0))::numeric, 2),
           round((p1 - p2 - sqrt((p1 - i1.low) ^ 2 + (i2.high - p2) ^ 2))::numeric, 4),
           round((p1 - p2 + sqrt((i1.high - p1) ^ 2 + (p2 - i2.low) ^ 2))::numeric, 4)
      FROM counts c CROSS JOIN totals t
     CROSS JOIN LATERAL (SELECT c.did_won::float8 / c.did AS p1,
                                (t.wins - c.did_won)::float8 / nullif(t.n - c.did, 0) AS p2) r
      LEFT JOIN LATERAL lead_scoring.win_rate_interval(c.did_won, c.did) i1 ON true
      LEFT JOIN LATERAL lead_scoring.win_rate_interval(t.wins - c.did_won, t.n - c.did) i2 ON true
     ORDER BY 10 DESC NULLS LAST, c.activity_type$q$,
    lead_scoring.activity_sources_sql());
END
$$;
COMMENT ON FUNCTION lead_scoring.activity_lift() IS
  'For each activity type: win rate of leads with an outcome who did it before the decision, versus those who did not, with the 95% interval of the difference (Newcombe, from Wilson intervals)';

CREATE VIEW lead_scoring.activity_win_rates AS SELECT * FROM lead_scoring.activity_lift();
COMMENT ON VIEW lead_scoring.activity_win_rates IS
  'Which activities predict a win: win rate of leads who did each activity type before sales took them versus those who did not. An interval that excludes 0 is a real difference; one that spans 0 is not (yet)';
COMMENT ON COLUMN lead_scoring.activity_win_rates.activity_type IS 'Activity type';
COMMENT ON COLUMN lead_scoring.activity_win_rates.leads_with_outcome IS 'Leads with an outcome (won, lost or disqualified)';
COMMENT ON COLUMN lead_scoring.activity_win_rates.did IS 'Of them, leads who did this before the decision';
COMMENT ON COLUMN lead_scoring.activity_win_rates.did_won IS 'Of those, won';
COMMENT ON COLUMN lead_scoring.activity_win_rates.did_win_rate IS 'Win rate of those who did it';
COMMENT ON COLUMN lead_scoring.activity_win_rates.did_not IS 'Leads with an outcome who did not';
COMMENT ON COLUMN lead_scoring.activity_win_rates.did_not_won IS 'Of those, won';
COMMENT ON COLUMN lead_scoring.activity_win_rates.did_not_win_rate IS 'Win rate of those who did not; empty if everyone did it';
COMMENT ON COLUMN lead_scoring.activity_win_rates.lift IS 'did_win_rate / did_not_win_rate: 2 means twice as likely to win';
COMMENT ON COLUMN lead_scoring.activity_win_rates.difference_low IS 'Lower end of the 95% interval of did_win_rate - did_not_win_rate';
COMMENT ON COLUMN lead_scoring.activity_win_rates.difference_high IS 'Upper end of that interval';

CREATE VIEW lead_scoring.what_helped AS
SELECT o.helped_by,
       count(*) AS answers,
       count(*) FILTER (WHERE o.outcome = 'won') AS wins,
       coalesce(sum(o.amount) FILTER (WHERE o.outcome = 'won'), 0) AS revenue,
       round(count(*)::numeric / sum(count(*)) OVER (), 4) AS share,
       EXISTS (SELECT FROM lead_scoring.activity_rules r JOIN lead_scoring.active_model m USING (model_id)
                WHERE r.activity_type = o.helped_by
                   OR EXISTS (SELECT FROM jsonb_each_text(r.properties) p WHERE p.value = o.helped_by)) AS scored
  FROM lead_scoring.outcomes o
 WHERE o.helped_by IS NOT NULL
 GROUP BY o.helped_by
 ORDER BY count(*) DESC, o.helped_by;
COMMENT ON VIEW lead_scoring.what_helped IS
  'Tallies of the buyers'' answers to "what one thing helped you choose us?": what sales hears really sells, and whether the active model scores it';
COMMENT ON COLUMN lead_scoring.what_helped.helped_by IS 'The answer: an activity type or asset';
COMMENT ON COLUMN lead_scoring.what_helped.answers IS 'Leads who gave it';
COMMENT ON COLUMN lead_scoring.what_helped.wins IS 'Of them, won';
COMMENT ON COLUMN lead_scoring.what_helped.revenue IS 'Revenue from those wins';
COMMENT ON COLUMN lead_scoring.what_helped.share IS 'Share of all answers (0 to 1)';
COMMENT ON COLUMN lead_scoring.what_helped.scored IS 'Whether a rule of the active model scores this activity type, or activities with this property value (e.g. an asset)';
