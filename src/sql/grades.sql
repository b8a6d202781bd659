-- Grades: thresholds on the total score, edited with plain UPDATEs.

CREATE TABLE lead_scoring.grades (
  grade       text PRIMARY KEY,
  rank        integer NOT NULL CHECK (rank > 0),
  min_score   double precision NOT NULL,
  sales_ready boolean NOT NULL DEFAULT false,
  description text,
  follow_up_within interval CHECK (follow_up_within > interval '0'),
  UNIQUE (rank) DEFERRABLE INITIALLY IMMEDIATE
);
COMMENT ON TABLE lead_scoring.grades IS 'Grade thresholds: a lead gets the best-ranked grade whose min_score its total score reaches; the lowest grade also takes every score below it';
COMMENT ON COLUMN lead_scoring.grades.grade IS 'Grade name, e.g. A';
COMMENT ON COLUMN lead_scoring.grades.rank IS '1 for the best grade, 2 for the next, and so on; min_score must fall as rank rises';
COMMENT ON COLUMN lead_scoring.grades.min_score IS 'Lowest total score that earns this grade';
COMMENT ON COLUMN lead_scoring.grades.sales_ready IS 'Whether leads of this grade go to sales; sales-ready grades are the best-ranked ones';
COMMENT ON COLUMN lead_scoring.grades.description IS 'What the grade means for sales and marketing';
COMMENT ON COLUMN lead_scoring.grades.follow_up_within IS 'The follow-up SLA of a lead handed off with this grade: a rep accepts, rejects or claims it within this time (empty: no SLA)';

-- Refuse thresholds that are not finite, overlap, or are out of rank order.
CREATE FUNCTION lead_scoring.check_grades() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  g record;
BEGIN
  FOR g IN
    SELECT grade, rank, min_score, sales_ready,
           lag(grade) OVER w AS better_grade, lag(min_score) OVER w AS better_min,
           lag(sales_ready) OVER w AS better_ready
      FROM lead_scoring.grades WINDOW w AS (ORDER BY rank)
  LOOP
    IF g.min_score = 'NaN'::float8 OR g.min_score IN ('Infinity'::float8, '-Infinity'::float8) THEN
      RAISE EXCEPTION 'grade "%": min_score must be a finite number, not %', g.grade, g.min_score
        USING ERRCODE = 'check_violation';
    ELSIF g.better_min = g.min_score THEN
      RAISE EXCEPTION 'grade "%" overlaps grade "%": both start at %', g.better_grade, g.grade, g.min_score
        USING ERRCODE = 'check_violation',
              HINT = 'Each grade needs its own min_score.';
    ELSIF g.better_min < g.min_score THEN
      RAISE EXCEPTION 'grades out of order: grade "%" (rank %) starts at %, above grade "%" which ranks better and starts at %',
        g.grade, g.rank, g.min_score, g.better_grade, g.better_min
        USING ERRCODE = 'check_violation',
              HINT = 'A better-ranked grade must have a higher min_score.';
    ELSIF g.sales_ready AND NOT g.better_ready THEN
      RAISE EXCEPTION 'grade "%" is sales-ready but grade "%", which ranks better, is not', g.grade, g.better_grade
        USING ERRCODE = 'check_violation';
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.check_grades() IS 'Trigger: refuses grade thresholds that are not finite, overlap, or are out of rank order';

CREATE TRIGGER check_grades AFTER INSERT OR UPDATE OR DELETE ON lead_scoring.grades
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.check_grades();

CREATE VIEW lead_scoring.grade_ranges AS
SELECT grade, rank, min_score,
       lag(min_score) OVER (ORDER BY rank) AS below_score,
       sales_ready, description
  FROM lead_scoring.grades;
COMMENT ON VIEW lead_scoring.grade_ranges IS 'Each grade with the score range it covers: from min_score up to (not including) below_score';
COMMENT ON COLUMN lead_scoring.grade_ranges.grade IS 'Grade name';
COMMENT ON COLUMN lead_scoring.grade_ranges.rank IS '1 for the best grade';
COMMENT ON COLUMN lead_scoring.grade_ranges.min_score IS 'Lowest total score of the grade (the lowest grade also takes lower scores)';
COMMENT ON COLUMN lead_scoring.grade_ranges.below_score IS 'The grade covers scores below this; empty for the best grade';
COMMENT ON COLUMN lead_scoring.grade_ranges.sales_ready IS 'Whether leads of this grade go to sales';
COMMENT ON COLUMN lead_scoring.grade_ranges.description IS 'What the grade means';

-- All thresholds in one row, sorted by min_score, for fast grading with width_bucket.
-- sales_ready_from: check_grades keeps the sales-ready grades the
-- best-ranked, so a total is sales-ready from the lowest of their min_scores.
CREATE VIEW lead_scoring.grade_thresholds AS
SELECT array_agg(grade ORDER BY min_score) AS grades,
       array_agg(min_score ORDER BY min_score) AS min_scores,
       array_agg(sales_ready ORDER BY min_score) AS sales_ready,
       CASE WHEN bool_and(sales_ready) THEN '-Infinity'::float8
            ELSE min(min_score) FILTER (WHERE sales_ready) END AS sales_ready_from
  FROM lead_scoring.grades;
COMMENT ON VIEW lead_scoring.grade_thresholds IS 'The grades as three arrays sorted by min_score (grade_index(score, min_scores) is the position of the grade a score earns), and the lowest sales-ready total';
COMMENT ON COLUMN lead_scoring.grade_thresholds.grades IS 'Grade names, lowest first';
COMMENT ON COLUMN lead_scoring.grade_thresholds.min_scores IS 'Their min_score, ascending';
COMMENT ON COLUMN lead_scoring.grade_thresholds.sales_ready IS 'Whether each is sales-ready';
COMMENT ON COLUMN lead_scoring.grade_thresholds.sales_ready_from IS 'The lowest total score that is sales-ready: -Infinity if every grade is, empty if none is';

CREATE FUNCTION lead_scoring.grade_index(score double precision, min_scores double precision[])
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN GREATEST(pg_catalog.width_bucket(score, min_scores), 1);
COMMENT ON FUNCTION lead_scoring.grade_index(double precision, double precision[]) IS
  'Position in ascending min_scores of the grade a score earns (1, the lowest grade, for scores below every threshold)';

-- A lead's score stamp, written with its row by the live triggers and
-- rescores: bounds of its total until the instant its grade may change under
-- the thresholds given, for the row version the transaction writes (so
-- STABLE, and PARALLEL RESTRICTED: it reads the transaction's id).
CREATE FUNCTION lead_scoring.stamp_score(fit_tests bigint[], fit_basis bigint,
                                         engagement lead_scoring.engagement_state, model jsonb,
                                         min_scores double precision[], from_instant timestamptz)
RETURNS lead_scoring.score_stamp AS 'MODULE_PATHNAME', 'lead_scoring_stamp_score'
  LANGUAGE C STABLE PARALLEL RESTRICTED COST 10;
COMMENT ON FUNCTION lead_scoring.stamp_score(bigint[], bigint, lead_scoring.engagement_state, jsonb, double precision[], timestamptz) IS
  'The score stamp of a lead_scores row this transaction writes, under the model: bounds of its total from from_instant (or its latest activity, if later; null: every instant before too) until the last instant they fall within one grade of min_scores; null if the model cannot evaluate the row';

-- A write of lead_scores that keeps a lead's fit record and state (its
-- handoff flag or suppression count changed) keeps its stamp serving.
CREATE FUNCTION lead_scoring.carried_stamp(stamp lead_scoring.score_stamp, xmin xid)
RETURNS lead_scoring.score_stamp AS 'MODULE_PATHNAME', 'lead_scoring_carried_stamp'
  LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION lead_scoring.carried_stamp(lead_scoring.score_stamp, xid) IS
  'The stamp of the lead_scores row version with this xmin, for the version this transaction writes in its place with the same fit record and state: it serves the new version if it served the old one';

CREATE FUNCTION lead_scoring.stamped_grade_index(stamp lead_scoring.score_stamp, xmin xid, fit_tests bigint[],
                                                 fit_basis bigint, engagement lead_scoring.engagement_state,
                                                 model jsonb, as_of timestamptz, min_scores double precision[])
RETURNS integer AS 'MODULE_PATHNAME', 'lead_scoring_stamped_grade_index'
  LANGUAGE C IMMUTABLE PARALLEL SAFE COST 2;
COMMENT ON FUNCTION lead_scoring.stamped_grade_index(lead_scoring.score_stamp, xid, bigint[], bigint, lead_scoring.engagement_state, jsonb, timestamptz, double precision[]) IS
  'grade_index(stored_total_score(fit_tests, fit_basis, engagement, model, as_of), min_scores) of the lead_scores row version with this xmin, read from its stamp when it was made for that version and model, holds at as_of and falls within one grade; evaluated otherwise; null without a model, instant or thresholds';

-- Whether a lead is sales-ready, graded as stamped_grade_index grades it: a
-- function of its own, so that the planner takes the share of sales-ready
-- leads from its support function rather than a default a third of the rows.
CREATE FUNCTION lead_scoring.sales_ready_support(internal)
RETURNS internal AS 'MODULE_PATHNAME', 'lead_scoring_sales_ready_support' LANGUAGE C STRICT;
COMMENT ON FUNCTION lead_scoring.sales_ready_support(internal) IS
  'Planner support of lead_scoring.stamped_sales_ready: its selectivity over lead_scores, the share of rows flagged handed_off in their statistics (takes the planner''s internal request: not callable from SQL)';

CREATE FUNCTION lead_scoring.stamped_sales_ready(stamp lead_scoring.score_stamp, xmin xid, fit_tests bigint[],
                                                 fit_basis bigint, engagement lead_scoring.engagement_state,
                                                 model jsonb, as_of timestamptz, min_scores double precision[],
                                                 sales_ready boolean[])
RETURNS boolean AS 'MODULE_PATHNAME', 'lead_scoring_stamped_sales_ready'
  LANGUAGE C IMMUTABLE PARALLEL SAFE COST 2 SUPPORT lead_scoring.sales_ready_support;
COMMENT ON FUNCTION lead_scoring.stamped_sales_ready(lead_scoring.score_stamp, xid, bigint[], bigint, lead_scoring.engagement_state, jsonb, timestamptz, double precision[], boolean[]) IS
  'Whether the grade stamped_grade_index(stamp, ..., min_scores) gives is sales-ready by the flags of grade_thresholds (sales_ready); false without a model or flags';

CREATE FUNCTION lead_scoring.stamp_is_current(stamp lead_scoring.score_stamp, xmin xid, model jsonb)
RETURNS boolean AS 'MODULE_PATHNAME', 'lead_scoring_stamp_is_current'
  LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.stamp_is_current(lead_scoring.score_stamp, xid, jsonb) IS
  'Whether the stamp was made for the lead_scores row version with this xmin under this model, and so serves it (until its instant, at any thresholds)';

-- The funnel's counts in one pass that parallel workers can share: each
-- lead graded from its stamp, or evaluated once, as an argument.
CREATE FUNCTION lead_scoring.funnel_counts_transfn(double precision[], lead_scoring.score_stamp, xid, bigint[], bigint,
                                                   lead_scoring.engagement_state, jsonb, timestamptz,
                                                   double precision[])
RETURNS double precision[] AS 'MODULE_PATHNAME', 'lead_scoring_funnel_counts_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.funnel_counts_transfn(double precision[], lead_scoring.score_stamp, xid, bigint[], bigint, lead_scoring.engagement_state, jsonb, timestamptz, double precision[]) IS
  'Transition function of lead_scoring.funnel_counts';
CREATE FUNCTION lead_scoring.funnel_counts_combinefn(double precision[], double precision[])
RETURNS double precision[] AS 'MODULE_PATHNAME', 'lead_scoring_funnel_counts_combinefn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.funnel_counts_combinefn(double precision[], double precision[]) IS
  'Combine function of lead_scoring.funnel_counts (parallel workers)';
CREATE AGGREGATE lead_scoring.funnel_counts(stamp lead_scoring.score_stamp, xmin xid, fit_tests bigint[],
                                            fit_basis bigint, engagement lead_scoring.engagement_state, model jsonb,
                                            as_of timestamptz, min_scores double precision[]) (
  SFUNC = lead_scoring.funnel_counts_transfn, STYPE = double precision[],
  COMBINEFUNC = lead_scoring.funnel_counts_combinefn, PARALLEL = SAFE);
COMMENT ON AGGREGATE lead_scoring.funnel_counts(lead_scoring.score_stamp, xid, bigint[], bigint, lead_scoring.engagement_state, jsonb, timestamptz, double precision[]) IS
  'Per grade position of stamped_grade_index(...) over lead_scores rows, lowest first, four numbers: the leads, those with a total, their lowest and their highest total at as_of (a lead is evaluated only if its stamp cannot tell); null if there are no grades';

-- The report of a model change in one pass that parallel workers can share:
-- each lead is graded before and after (each score evaluated once, as an
-- argument), and the leads whose handoff flag no longer fits are collected,
-- so that hand_off looks at those (and the suppressed ones flagged) only.
CREATE TYPE lead_scoring.regrade_report AS (
  leads bigint, changed_grade bigint, now_sales_ready bigint, no_longer_sales_ready bigint,
  leads_to_hand_off bigint[]);
COMMENT ON TYPE lead_scoring.regrade_report IS 'What lead_scoring.regrade counts over the leads of a model change';
COMMENT ON COLUMN lead_scoring.regrade_report.leads IS 'Leads graded';
COMMENT ON COLUMN lead_scoring.regrade_report.changed_grade IS 'Of them, those whose grade differs after (a lead without a score before counts)';
COMMENT ON COLUMN lead_scoring.regrade_report.now_sales_ready IS 'Those sales-ready after and not before';
COMMENT ON COLUMN lead_scoring.regrade_report.no_longer_sales_ready IS 'Those sales-ready before and not after';
COMMENT ON COLUMN lead_scoring.regrade_report.leads_to_hand_off IS 'Leads whose handed_off flag differs from their sales-readiness after: with the suppressed leads flagged, what hand_off must look at';

CREATE FUNCTION lead_scoring.regrade_transfn(internal, bigint, boolean, double precision, double precision,
                                                   double precision[], boolean[])
RETURNS internal AS 'MODULE_PATHNAME', 'lead_scoring_regrade_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.regrade_transfn(internal, bigint, boolean, double precision, double precision, double precision[], boolean[]) IS
  'Transition function of lead_scoring.regrade';
CREATE FUNCTION lead_scoring.regrade_combinefn(internal, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'lead_scoring_regrade_combinefn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.regrade_combinefn(internal, internal) IS
  'Combine function of lead_scoring.regrade (parallel workers)';
CREATE FUNCTION lead_scoring.regrade_serialfn(internal)
RETURNS bytea AS 'MODULE_PATHNAME', 'lead_scoring_regrade_serialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.regrade_serialfn(internal) IS
  'Serial function of lead_scoring.regrade (parallel workers)';
CREATE FUNCTION lead_scoring.regrade_deserialfn(bytea, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'lead_scoring_regrade_deserialfn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.regrade_deserialfn(bytea, internal) IS
  'Deserial function of lead_scoring.regrade (parallel workers)';
CREATE FUNCTION lead_scoring.regrade_finalfn(internal)
RETURNS lead_scoring.regrade_report AS 'MODULE_PATHNAME', 'lead_scoring_regrade_finalfn'
  LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.regrade_finalfn(internal) IS
  'Final function of lead_scoring.regrade';
CREATE AGGREGATE lead_scoring.regrade(lead_id bigint, handed_off boolean, score_before double precision, score_after double precision,
                                      min_scores double precision[], sales_ready boolean[]) (
  SFUNC = lead_scoring.regrade_transfn,
  STYPE = internal,
  FINALFUNC = lead_scoring.regrade_finalfn,
  COMBINEFUNC = lead_scoring.regrade_combinefn,
  SERIALFUNC = lead_scoring.regrade_serialfn,
  DESERIALFUNC = lead_scoring.regrade_deserialfn,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE lead_scoring.regrade(bigint, boolean, double precision, double precision, double precision[], boolean[]) IS
  'Grades each lead with its score before and after a model change (before null: no grade) under the thresholds given (grade_thresholds), and reports how many changed grade and sales-readiness, and which leads hand_off must look at';
