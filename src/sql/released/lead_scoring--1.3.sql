-- lead_scoring 1.3, the first released version: its full install script,
-- frozen as released (CREATE EXTENSION lead_scoring VERSION '1.3'). Never edit
-- it; later versions are reached through the deltas in src/sql/updates/.
\echo Use "CREATE EXTENSION lead_scoring VERSION '1.3'" to load this file. \quit
-- Types: the two score dimensions, the fit tests, and the engagement state.

CREATE TYPE lead_scoring.score_dimension AS ENUM ('fit', 'engagement');
COMMENT ON TYPE lead_scoring.score_dimension IS
  'fit: who the lead is (attributes); engagement: how interested (activities, decaying over time)';

CREATE TYPE lead_scoring.fit_test AS ENUM ('equals', 'in', 'between', 'matches', 'present');
COMMENT ON TYPE lead_scoring.fit_test IS
  'How a fit rule tests an attribute: equals a value, is in a list, is between min_value and max_value (inclusive), matches a case-insensitive regular expression, or is present (not null, not empty)';

CREATE TYPE lead_scoring.engagement_state;

CREATE FUNCTION lead_scoring.engagement_state_in(cstring) RETURNS lead_scoring.engagement_state
  AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lead_scoring.engagement_state_out(lead_scoring.engagement_state) RETURNS cstring
  AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lead_scoring.engagement_state_recv(internal) RETURNS lead_scoring.engagement_state
  AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lead_scoring.engagement_state_send(lead_scoring.engagement_state) RETURNS bytea
  AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE lead_scoring.engagement_state (
  INPUT = lead_scoring.engagement_state_in,
  OUTPUT = lead_scoring.engagement_state_out,
  RECEIVE = lead_scoring.engagement_state_recv,
  SEND = lead_scoring.engagement_state_send,
  INTERNALLENGTH = VARIABLE,
  ALIGNMENT = double,
  STORAGE = extended
);
COMMENT ON TYPE lead_scoring.engagement_state IS
  'A lead''s engagement in compact form: per activity rule, the number of matching activities and their count decayed to the latest one. Evaluated exactly at any instant by lead_scoring.engagement_score';

COMMENT ON FUNCTION lead_scoring.engagement_state_in(cstring) IS 'Text input of an engagement state (the JSON form its output prints)';
COMMENT ON FUNCTION lead_scoring.engagement_state_out(lead_scoring.engagement_state) IS 'Text output of an engagement state, as JSON with exact numbers';
COMMENT ON FUNCTION lead_scoring.engagement_state_recv(internal) IS 'Binary input of an engagement state';
COMMENT ON FUNCTION lead_scoring.engagement_state_send(lead_scoring.engagement_state) IS 'Binary output of an engagement state';

CREATE FUNCTION lead_scoring.loading_dump() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN pg_catalog.current_setting('check_function_bodies') = 'off';
COMMENT ON FUNCTION lead_scoring.loading_dump() IS
  'True while a pg_dump script or pg_restore loads data (they set check_function_bodies off): the triggers then leave the data as dumped; run lead_scoring.rescore() afterwards';
-- The scoring core (C): validate a model, count activities, evaluate scores.

CREATE FUNCTION lead_scoring.check_model(definition jsonb) RETURNS jsonb
  AS 'MODULE_PATHNAME', 'lead_scoring_check_model'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.check_model(jsonb) IS
  'Returns a model definition unchanged if it is valid; otherwise raises an error saying what is wrong';

CREATE FUNCTION lead_scoring.merge_engagement(a lead_scoring.engagement_state, b lead_scoring.engagement_state)
RETURNS lead_scoring.engagement_state
  AS 'MODULE_PATHNAME', 'lead_scoring_merge_engagement'
  LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.merge_engagement(lead_scoring.engagement_state, lead_scoring.engagement_state) IS
  'The engagement state of the activities of both states (null counts as no activity)';

CREATE FUNCTION lead_scoring.latest_activity_at(state lead_scoring.engagement_state) RETURNS timestamptz
  AS 'MODULE_PATHNAME', 'lead_scoring_latest_activity_at'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.latest_activity_at(lead_scoring.engagement_state) IS
  'Time of the latest activity counted by some rule, or null if none';

CREATE FUNCTION lead_scoring.activity_count(state lead_scoring.engagement_state) RETURNS bigint
  AS 'MODULE_PATHNAME', 'lead_scoring_activity_count'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.activity_count(lead_scoring.engagement_state) IS
  'Number of activity-rule matches counted in a state (an activity matching two rules counts twice)';

CREATE FUNCTION lead_scoring.score_activities_transfn(internal, jsonb, text, timestamptz, jsonb)
RETURNS internal AS 'MODULE_PATHNAME', 'score_activities_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION lead_scoring.score_activities_combinefn(internal, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'score_activities_combinefn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION lead_scoring.score_activities_serializefn(internal)
RETURNS bytea AS 'MODULE_PATHNAME', 'score_activities_serializefn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lead_scoring.score_activities_deserializefn(bytea, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'score_activities_deserializefn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lead_scoring.score_activities_finalfn(internal)
RETURNS lead_scoring.engagement_state AS 'MODULE_PATHNAME', 'score_activities_finalfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.score_activities_transfn(internal, jsonb, text, timestamptz, jsonb) IS 'Aggregate support: counts one activity';
COMMENT ON FUNCTION lead_scoring.score_activities_combinefn(internal, internal) IS 'Aggregate support: merges partial states (parallel plans)';
COMMENT ON FUNCTION lead_scoring.score_activities_serializefn(internal) IS 'Aggregate support: partial state to bytes';
COMMENT ON FUNCTION lead_scoring.score_activities_deserializefn(bytea, internal) IS 'Aggregate support: bytes to partial state';
COMMENT ON FUNCTION lead_scoring.score_activities_finalfn(internal) IS 'Aggregate support: partial state to engagement_state';

CREATE AGGREGATE lead_scoring.score_activities(model jsonb, activity_type text, occurred_at timestamptz, properties jsonb) (
  SFUNC = lead_scoring.score_activities_transfn,
  STYPE = internal,
  FINALFUNC = lead_scoring.score_activities_finalfn,
  COMBINEFUNC = lead_scoring.score_activities_combinefn,
  SERIALFUNC = lead_scoring.score_activities_serializefn,
  DESERIALFUNC = lead_scoring.score_activities_deserializefn,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE lead_scoring.score_activities(jsonb, text, timestamptz, jsonb) IS
  'Engagement state of a set of activities under a model definition (models.definition): a full rescore from raw activities';

-- COST 10: a decay per rule the lead has, about ten times a simple operator;
-- at the default of 1 no plan over many leads used parallel workers for it.
CREATE FUNCTION lead_scoring.engagement_score(state lead_scoring.engagement_state, model jsonb,
                                              as_of timestamptz DEFAULT now())
RETURNS double precision AS 'MODULE_PATHNAME', 'lead_scoring_engagement_score'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 10;
COMMENT ON FUNCTION lead_scoring.engagement_score(lead_scoring.engagement_state, jsonb, timestamptz) IS
  'Engagement score of a state at as_of (default now): points decayed by half-life, then capped per rule and per component. Evaluated at the latest counted activity if that is after as_of';

CREATE FUNCTION lead_scoring.state_matches_model(state lead_scoring.engagement_state, model jsonb)
RETURNS boolean AS 'MODULE_PATHNAME', 'lead_scoring_state_matches_model'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.state_matches_model(lead_scoring.engagement_state, jsonb) IS
  'Whether a state was built with this model''s activity rules (their types, properties and half-lives), so engagement_score can evaluate it';

CREATE FUNCTION lead_scoring.engagement_breakdown(state lead_scoring.engagement_state, model jsonb,
                                                  as_of timestamptz DEFAULT now(),
  OUT rule_id integer, OUT component text, OUT activities bigint, OUT latest_activity_at timestamptz,
  OUT points_before_caps double precision, OUT points_after_rule_cap double precision,
  OUT points double precision)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'lead_scoring_engagement_breakdown'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION lead_scoring.engagement_breakdown(lead_scoring.engagement_state, jsonb, timestamptz) IS
  'One row per activity rule of a state at as_of: activities counted, points after decay, after the rule cap, and after the component cap (points, which add up to engagement_score)';

CREATE FUNCTION lead_scoring.fit_score(model jsonb, attributes jsonb) RETURNS double precision
  AS 'MODULE_PATHNAME', 'lead_scoring_fit_score'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.fit_score(jsonb, jsonb) IS
  'Fit score of a lead''s attributes under a model definition: points of the fit rules passed, capped per component';

CREATE FUNCTION lead_scoring.fit_breakdown(model jsonb, attributes jsonb,
  OUT rule_id integer, OUT component text, OUT points_before_caps double precision,
  OUT points double precision)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'lead_scoring_fit_breakdown'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 5;
COMMENT ON FUNCTION lead_scoring.fit_breakdown(jsonb, jsonb) IS
  'One row per fit rule the attributes pass: its points, and its points after the component cap (which add up to fit_score)';
-- The model: models, components (with caps), activity rules and fit rules.

CREATE TABLE lead_scoring.models (
  model_id    integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  description text,
  is_active   boolean NOT NULL DEFAULT false,
  definition  jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  activated_at timestamptz,
  based_on    integer REFERENCES lead_scoring.models ON DELETE SET NULL,
  retired_at  timestamptz,
  status      text GENERATED ALWAYS AS (
    CASE WHEN is_active THEN 'active' WHEN retired_at IS NOT NULL THEN 'retired' ELSE 'draft' END) STORED,
  -- checked at the end of each statement, so one UPDATE can switch models
  CONSTRAINT models_only_one_active EXCLUDE (is_active WITH =) WHERE (is_active)
    DEFERRABLE INITIALLY IMMEDIATE
);
COMMENT ON TABLE lead_scoring.models IS 'Scoring models; exactly one is active. Switch with lead_scoring.activate_model(name)';
COMMENT ON COLUMN lead_scoring.models.model_id IS 'Model identifier';
COMMENT ON COLUMN lead_scoring.models.name IS 'Model name, unique';
COMMENT ON COLUMN lead_scoring.models.description IS 'What this model is for';
COMMENT ON COLUMN lead_scoring.models.is_active IS 'True for the one model that scores leads now';
COMMENT ON COLUMN lead_scoring.models.definition IS 'The model''s components and rules as validated JSON, kept up to date by triggers; what the scoring functions take';
COMMENT ON COLUMN lead_scoring.models.created_at IS 'When the model was created';
COMMENT ON COLUMN lead_scoring.models.activated_at IS 'When the model was last activated';
COMMENT ON COLUMN lead_scoring.models.based_on IS 'The model this version was copied or trained from';
COMMENT ON COLUMN lead_scoring.models.retired_at IS 'When it last stopped being the active model';
COMMENT ON COLUMN lead_scoring.models.status IS 'draft (never active), active, or retired (was active)';

CREATE TABLE lead_scoring.components (
  model_id    integer NOT NULL REFERENCES lead_scoring.models ON DELETE CASCADE,
  component   text NOT NULL,
  dimension   lead_scoring.score_dimension NOT NULL,
  max_points  double precision,
  description text,
  PRIMARY KEY (model_id, component)
);
COMMENT ON TABLE lead_scoring.components IS 'Groups of rules in the fit or engagement dimension whose total is capped';
COMMENT ON COLUMN lead_scoring.components.model_id IS 'Model the component belongs to';
COMMENT ON COLUMN lead_scoring.components.component IS 'Component name, e.g. web, content, events, title, company';
COMMENT ON COLUMN lead_scoring.components.dimension IS 'fit or engagement';
COMMENT ON COLUMN lead_scoring.components.max_points IS 'Cap: the component''s total is kept between -max_points and +max_points; empty for no cap';
COMMENT ON COLUMN lead_scoring.components.description IS 'What the component measures';

CREATE TABLE lead_scoring.activity_rules (
  rule_id       integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  model_id      integer NOT NULL,
  component     text NOT NULL,
  activity_type text NOT NULL,
  properties    jsonb,
  points        double precision NOT NULL,
  half_life     interval,
  max_points    double precision,
  description   text,
  FOREIGN KEY (model_id, component) REFERENCES lead_scoring.components
    ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX ON lead_scoring.activity_rules (model_id);
COMMENT ON TABLE lead_scoring.activity_rules IS 'Engagement rules: points for each activity of a type, decaying with a half-life, capped per rule';
COMMENT ON COLUMN lead_scoring.activity_rules.rule_id IS 'Rule identifier';
COMMENT ON COLUMN lead_scoring.activity_rules.model_id IS 'Model the rule belongs to';
COMMENT ON COLUMN lead_scoring.activity_rules.component IS 'Engagement component the points count towards';
COMMENT ON COLUMN lead_scoring.activity_rules.activity_type IS 'Activity type the rule scores, e.g. web_visit, demo_request';
COMMENT ON COLUMN lead_scoring.activity_rules.properties IS 'Only activities whose properties contain this JSON object count (e.g. {"asset": "pricing"}); empty for all';
COMMENT ON COLUMN lead_scoring.activity_rules.points IS 'Points per activity when fresh; negative allowed';
COMMENT ON COLUMN lead_scoring.activity_rules.half_life IS 'Time after which an activity counts half; empty for points that never fade';
COMMENT ON COLUMN lead_scoring.activity_rules.max_points IS 'Cap on the rule''s total, in either direction; empty for no cap';
COMMENT ON COLUMN lead_scoring.activity_rules.description IS 'Label shown in score breakdowns';

CREATE TABLE lead_scoring.fit_rules (
  rule_id     integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  model_id    integer NOT NULL,
  component   text NOT NULL,
  attribute   text NOT NULL,
  test        lead_scoring.fit_test NOT NULL,
  value       jsonb,
  pattern     text,
  min_value   double precision,
  max_value   double precision,
  points      double precision NOT NULL,
  description text,
  FOREIGN KEY (model_id, component) REFERENCES lead_scoring.components
    ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX ON lead_scoring.fit_rules (model_id);
COMMENT ON TABLE lead_scoring.fit_rules IS 'Fit rules: points when a lead attribute passes a test';
COMMENT ON COLUMN lead_scoring.fit_rules.rule_id IS 'Rule identifier';
COMMENT ON COLUMN lead_scoring.fit_rules.model_id IS 'Model the rule belongs to';
COMMENT ON COLUMN lead_scoring.fit_rules.component IS 'Fit component the points count towards';
COMMENT ON COLUMN lead_scoring.fit_rules.attribute IS 'Lead attribute tested: a key of leads.attributes, or email, email_domain, first_name, last_name, company';
COMMENT ON COLUMN lead_scoring.fit_rules.test IS 'equals, in, between, matches or present';
COMMENT ON COLUMN lead_scoring.fit_rules.value IS 'For equals: a JSON value; for in: a JSON array of values';
COMMENT ON COLUMN lead_scoring.fit_rules.pattern IS 'For matches: a case-insensitive regular expression';
COMMENT ON COLUMN lead_scoring.fit_rules.min_value IS 'For between: lowest passing number (inclusive); empty for no minimum';
COMMENT ON COLUMN lead_scoring.fit_rules.max_value IS 'For between: highest passing number (inclusive); empty for no maximum';
COMMENT ON COLUMN lead_scoring.fit_rules.points IS 'Points when the test passes; negative allowed';
COMMENT ON COLUMN lead_scoring.fit_rules.description IS 'Label shown in score breakdowns';
-- Grades: thresholds on the total score, edited with plain UPDATEs.

CREATE TABLE lead_scoring.grades (
  grade       text PRIMARY KEY,
  rank        integer NOT NULL CHECK (rank > 0),
  min_score   double precision NOT NULL,
  sales_ready boolean NOT NULL DEFAULT false,
  description text,
  UNIQUE (rank) DEFERRABLE INITIALLY IMMEDIATE
);
COMMENT ON TABLE lead_scoring.grades IS 'Grade thresholds: a lead gets the best-ranked grade whose min_score its total score reaches; the lowest grade also takes every score below it';
COMMENT ON COLUMN lead_scoring.grades.grade IS 'Grade name, e.g. A';
COMMENT ON COLUMN lead_scoring.grades.rank IS '1 for the best grade, 2 for the next, and so on; min_score must fall as rank rises';
COMMENT ON COLUMN lead_scoring.grades.min_score IS 'Lowest total score that earns this grade';
COMMENT ON COLUMN lead_scoring.grades.sales_ready IS 'Whether leads of this grade go to sales; sales-ready grades are the best-ranked ones';
COMMENT ON COLUMN lead_scoring.grades.description IS 'What the grade means for sales and marketing';

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
CREATE VIEW lead_scoring.grade_thresholds AS
SELECT array_agg(grade ORDER BY min_score) AS grades,
       array_agg(min_score ORDER BY min_score) AS min_scores,
       array_agg(sales_ready ORDER BY min_score) AS sales_ready
  FROM lead_scoring.grades;
COMMENT ON VIEW lead_scoring.grade_thresholds IS 'The grades as three arrays sorted by min_score, as lead_scoring.grade_of takes them';
COMMENT ON COLUMN lead_scoring.grade_thresholds.grades IS 'Grade names, lowest first';
COMMENT ON COLUMN lead_scoring.grade_thresholds.min_scores IS 'Their min_score, ascending';
COMMENT ON COLUMN lead_scoring.grade_thresholds.sales_ready IS 'Whether each is sales-ready';

CREATE FUNCTION lead_scoring.grade_index(score double precision, min_scores double precision[])
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN GREATEST(pg_catalog.width_bucket(score, min_scores), 1);
COMMENT ON FUNCTION lead_scoring.grade_index(double precision, double precision[]) IS
  'Position in ascending min_scores of the grade a score earns (1, the lowest grade, for scores below every threshold)';
-- Leads, their activities, and each lead's live score state.

CREATE TABLE lead_scoring.leads (
  lead_id    bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  email      text,
  first_name text,
  last_name  text,
  company    text,
  attributes jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
  opted_out  boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE lead_scoring.leads IS 'Leads: who they are. Inserting or updating a lead re-scores its fit in the same transaction';
COMMENT ON COLUMN lead_scoring.leads.lead_id IS 'Lead identifier';
COMMENT ON COLUMN lead_scoring.leads.email IS 'Email address';
COMMENT ON COLUMN lead_scoring.leads.first_name IS 'First name';
COMMENT ON COLUMN lead_scoring.leads.last_name IS 'Last name';
COMMENT ON COLUMN lead_scoring.leads.company IS 'Company name';
COMMENT ON COLUMN lead_scoring.leads.attributes IS 'Other attributes fit rules test, as a JSON object, e.g. {"title": "VP Marketing", "employees": 250, "industry": "software"}';
COMMENT ON COLUMN lead_scoring.leads.opted_out IS 'The lead asked to hear no more: it is suppressed until it sets this back (or sends an opt-in activity)';
COMMENT ON COLUMN lead_scoring.leads.created_at IS 'When the lead was created';

CREATE TABLE lead_scoring.activities (
  activity_id   bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  lead_id       bigint NOT NULL REFERENCES lead_scoring.leads ON DELETE CASCADE,
  activity_type text NOT NULL,
  occurred_at   timestamptz NOT NULL DEFAULT now() CHECK (isfinite(occurred_at)),
  properties    jsonb NOT NULL DEFAULT '{}',
  recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON lead_scoring.activities (lead_id, occurred_at);
COMMENT ON TABLE lead_scoring.activities IS 'What leads did. Inserting activities updates their leads'' engagement in the same transaction';
COMMENT ON COLUMN lead_scoring.activities.activity_id IS 'Activity identifier';
COMMENT ON COLUMN lead_scoring.activities.lead_id IS 'Lead who did it';
COMMENT ON COLUMN lead_scoring.activities.activity_type IS 'What was done, e.g. web_visit, email_click, download, webinar, demo_request';
COMMENT ON COLUMN lead_scoring.activities.occurred_at IS 'When it happened (decay counts from here)';
COMMENT ON COLUMN lead_scoring.activities.properties IS 'Details rules can match, e.g. {"asset": "pricing"}';
COMMENT ON COLUMN lead_scoring.activities.recorded_at IS 'When it was recorded (late activities have recorded_at after occurred_at)';

CREATE TABLE lead_scoring.lead_scores (
  lead_id    bigint PRIMARY KEY,
  fit_score  double precision NOT NULL DEFAULT 0,
  engagement lead_scoring.engagement_state,
  handed_off boolean NOT NULL DEFAULT false,
  scored_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE lead_scoring.lead_scores IS 'Live scoring state of every lead, kept current by triggers; read it through lead_scoring.lead_grades. Derived data: rebuilt by lead_scoring.rescore()';
COMMENT ON COLUMN lead_scoring.lead_scores.lead_id IS 'Lead identifier';
COMMENT ON COLUMN lead_scoring.lead_scores.fit_score IS 'Fit score under the active model';
COMMENT ON COLUMN lead_scoring.lead_scores.engagement IS 'Engagement state: evaluate with lead_scoring.engagement_score(engagement, definition, as_of)';
COMMENT ON COLUMN lead_scoring.lead_scores.handed_off IS 'Handed off to sales and still sales-ready (see lead_scoring.handoffs)';
COMMENT ON COLUMN lead_scoring.lead_scores.scored_at IS 'When the state last changed';

-- STABLE, not IMMUTABLE, as jsonb_build_object is: an IMMUTABLE function
-- calling it could not be inlined into the queries that use it.
CREATE FUNCTION lead_scoring.fit_attributes(email text, first_name text, last_name text,
                                            company text, attributes jsonb)
RETURNS jsonb LANGUAGE sql STABLE PARALLEL SAFE
RETURN pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
         'email', email,
         'email_domain', pg_catalog.lower(NULLIF(pg_catalog.split_part(email, '@', 2), '')),
         'first_name', first_name, 'last_name', last_name, 'company', company))
       OPERATOR(pg_catalog.||) coalesce(attributes, '{}'::jsonb);
COMMENT ON FUNCTION lead_scoring.fit_attributes(text, text, text, text, jsonb) IS
  'What fit rules test for a lead: its attributes plus email, email_domain, first_name, last_name and company';
-- Live scoring: statement-level triggers with transition tables keep
-- lead_scores current in the same transaction as the change.

CREATE TABLE lead_scoring.tracked_tables (
  activity_table    regclass PRIMARY KEY,
  lead_column       name NOT NULL,
  type_column       name NOT NULL,
  time_column       name NOT NULL,
  properties_column name,
  tracked_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE lead_scoring.tracked_tables IS 'Activity tables whose rows are scored live; add one with lead_scoring.track()';
COMMENT ON COLUMN lead_scoring.tracked_tables.activity_table IS 'The table';
COMMENT ON COLUMN lead_scoring.tracked_tables.lead_column IS 'Its column holding the lead id';
COMMENT ON COLUMN lead_scoring.tracked_tables.type_column IS 'Its column holding the activity type';
COMMENT ON COLUMN lead_scoring.tracked_tables.time_column IS 'Its column holding when the activity happened';
COMMENT ON COLUMN lead_scoring.tracked_tables.properties_column IS 'Its jsonb column of properties rules can match; empty if none';
COMMENT ON COLUMN lead_scoring.tracked_tables.tracked_at IS 'When tracking started';

-- One SELECT over every tracked table, with the standard column names.
CREATE FUNCTION lead_scoring.activity_sources_sql() RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  RETURN (
    SELECT coalesce(string_agg(format(
             'SELECT %I::bigint AS lead_id, %I::text AS activity_type, %I AS occurred_at, %s AS properties FROM %s',
             lead_column, type_column, time_column,
             CASE WHEN properties_column IS NULL THEN 'NULL::jsonb' ELSE format('%I::jsonb', properties_column) END,
             activity_table), ' UNION ALL ' ORDER BY activity_table::oid),
           'SELECT NULL::bigint AS lead_id, NULL::text AS activity_type, NULL::timestamptz AS occurred_at, NULL::jsonb AS properties WHERE false')
      FROM lead_scoring.tracked_tables);
END
$$;
COMMENT ON FUNCTION lead_scoring.activity_sources_sql() IS
  'SQL text of a query over all tracked activity tables, with columns lead_id, activity_type, occurred_at, properties';

-- The insert trigger in C: its statements keep their plans between inserts
-- (as dynamic SQL in PL/pgSQL they were planned again on every insert), and
-- the burst search runs only for leads with enough activities to have one.
CREATE FUNCTION lead_scoring.score_inserted_activities() RETURNS trigger
AS 'MODULE_PATHNAME', 'lead_scoring_score_inserted_activities'
LANGUAGE C SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off;
COMMENT ON FUNCTION lead_scoring.score_inserted_activities() IS
  'Trigger (AFTER INSERT, per statement; arguments: the lead, type, time and properties columns): adds the inserted activities to their leads'' engagement, applies opt-outs, finds bursts and hands off leads that became sales-ready';

-- Recompute the engagement of some leads (all if lead_ids is null) from every tracked table.
CREATE FUNCTION lead_scoring.recompute_engagement(lead_ids bigint[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  -- Lock the states being replaced, in lead order: a concurrent insert's merge
  -- waits for this transaction, and this recompute (a new snapshot, taken after
  -- the lock) sees every activity committed before it. Row locks, not a table
  -- lock, so a transaction that already wrote scores never has to upgrade.
  PERFORM FROM lead_scoring.lead_scores s
   WHERE lead_ids IS NULL OR s.lead_id = ANY (lead_ids)
   ORDER BY s.lead_id FOR UPDATE;
  EXECUTE format($q$
    WITH fresh AS (
      SELECT a.lead_id, lead_scoring.score_activities(m.definition, a.activity_type, a.occurred_at, a.properties) AS engagement
        FROM (%s) a, lead_scoring.models m
       WHERE m.is_active AND ($1 IS NULL OR a.lead_id = ANY ($1))
       GROUP BY a.lead_id)
    UPDATE lead_scoring.lead_scores s
       SET engagement = fresh.engagement, scored_at = now()
      FROM lead_scoring.lead_scores t LEFT JOIN fresh USING (lead_id)
     WHERE s.lead_id = t.lead_id AND ($1 IS NULL OR t.lead_id = ANY ($1))$q$,
    lead_scoring.activity_sources_sql())
  USING lead_ids;
  PERFORM lead_scoring.hand_off(lead_ids, 'activity');
END
$$;
COMMENT ON FUNCTION lead_scoring.recompute_engagement(bigint[]) IS
  'Recomputes the engagement state of the given leads (all leads if null) from every tracked activity table';

-- AFTER UPDATE, DELETE or TRUNCATE: recompute the leads whose activities changed.
CREATE FUNCTION lead_scoring.rescore_changed_activities() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  ids bigint[];
BEGIN
  IF lead_scoring.loading_dump() THEN
    RETURN NULL;  -- restoring a dump: data as dumped; rescore() follows
  END IF;
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM lead_scoring.recompute_engagement(NULL);
    RETURN NULL;
  ELSIF TG_OP = 'UPDATE' THEN
    EXECUTE format('SELECT array_agg(DISTINCT l) FROM (SELECT %1$I::bigint FROM old_activities UNION ALL SELECT %1$I::bigint FROM new_activities) x(l)',
                   TG_ARGV[0]) INTO ids;
  ELSE
    EXECUTE format('SELECT array_agg(DISTINCT %1$I::bigint) FROM old_activities', TG_ARGV[0]) INTO ids;
  END IF;
  IF ids IS NOT NULL THEN
    PERFORM lead_scoring.recompute_engagement(ids);
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.rescore_changed_activities() IS
  'Trigger (AFTER UPDATE, DELETE or TRUNCATE, per statement): recomputes the engagement of the leads whose activities changed';

-- AFTER INSERT or UPDATE on leads: score the fit of new or changed leads.
CREATE FUNCTION lead_scoring.score_lead_fit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  lead_ids bigint[];
BEGIN
  IF lead_scoring.loading_dump() THEN
    RETURN NULL;  -- restoring a dump: data as dumped; rescore() follows
  END IF;
  IF TG_OP = 'INSERT' THEN
    WITH scored AS (
      INSERT INTO lead_scoring.lead_scores AS s (lead_id, fit_score)
      SELECT n.lead_id, coalesce(lead_scoring.fit_score(m.definition,
               lead_scoring.fit_attributes(n.email, n.first_name, n.last_name, n.company, n.attributes)), 0)
        FROM new_leads n LEFT JOIN lead_scoring.models m ON m.is_active
       ORDER BY n.lead_id
      ON CONFLICT (lead_id) DO UPDATE SET fit_score = excluded.fit_score, scored_at = now()
      RETURNING s.lead_id)
    SELECT array_agg(lead_id) INTO lead_ids FROM scored;
    INSERT INTO lead_scoring.suppressions (lead_id, kind, reason)
    SELECT n.lead_id, 'opt_out', 'opted out (leads.opted_out)' FROM new_leads n WHERE n.opted_out
    ON CONFLICT DO NOTHING;
  ELSE
    WITH scored AS (
      INSERT INTO lead_scoring.lead_scores AS s (lead_id, fit_score)
      SELECT n.lead_id, coalesce(lead_scoring.fit_score(m.definition,
               lead_scoring.fit_attributes(n.email, n.first_name, n.last_name, n.company, n.attributes)), 0)
        FROM new_leads n JOIN old_leads o USING (lead_id) LEFT JOIN lead_scoring.models m ON m.is_active
       WHERE (n.email, n.first_name, n.last_name, n.company, n.attributes)
             IS DISTINCT FROM (o.email, o.first_name, o.last_name, o.company, o.attributes)
       ORDER BY n.lead_id
      ON CONFLICT (lead_id) DO UPDATE SET fit_score = excluded.fit_score, scored_at = now()
      RETURNING s.lead_id)
    SELECT array_agg(lead_id) INTO lead_ids FROM scored;
    INSERT INTO lead_scoring.suppressions (lead_id, kind, reason)
    SELECT n.lead_id, 'opt_out', 'opted out (leads.opted_out)'
      FROM new_leads n JOIN old_leads o USING (lead_id) WHERE n.opted_out AND NOT o.opted_out
    ON CONFLICT DO NOTHING;
    -- the lead itself took its opt-out back
    UPDATE lead_scoring.suppressions s SET lifted_at = now(), lifted_by = current_user,
           lift_reason = 'opted in (leads.opted_out set back to false)'
      FROM new_leads n JOIN old_leads o USING (lead_id)
     WHERE s.lead_id = n.lead_id AND s.kind = 'opt_out' AND s.lifted_at IS NULL
       AND o.opted_out AND NOT n.opted_out;
    lead_ids := lead_ids || ARRAY(SELECT n.lead_id FROM new_leads n JOIN old_leads o USING (lead_id)
                                   WHERE n.opted_out IS DISTINCT FROM o.opted_out);
  END IF;
  IF lead_ids IS NOT NULL AND cardinality(lead_ids) > 0 THEN
    PERFORM lead_scoring.find_bogus_leads(lead_ids);
    PERFORM lead_scoring.hand_off(lead_ids, 'fit');
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.score_lead_fit() IS
  'Trigger (AFTER INSERT or UPDATE on leads, per statement): scores the fit of new and changed leads, suppresses bogus and opted-out ones, and hands off those that became sales-ready';

CREATE FUNCTION lead_scoring.forget_deleted_leads() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  DELETE FROM lead_scoring.lead_scores s USING old_leads o WHERE s.lead_id = o.lead_id;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.forget_deleted_leads() IS
  'Trigger (AFTER DELETE on leads, per statement): removes the scores of deleted leads';

CREATE TRIGGER score_new_leads AFTER INSERT ON lead_scoring.leads
  REFERENCING NEW TABLE AS new_leads
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.score_lead_fit();
CREATE TRIGGER score_changed_leads AFTER UPDATE ON lead_scoring.leads
  REFERENCING OLD TABLE AS old_leads NEW TABLE AS new_leads
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.score_lead_fit();
CREATE TRIGGER forget_deleted_leads AFTER DELETE ON lead_scoring.leads
  REFERENCING OLD TABLE AS old_leads
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.forget_deleted_leads();
-- Compile models from their tables, rescore, activate, and attach activity tables.

CREATE FUNCTION lead_scoring.model_definition(model_id integer) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  SELECT jsonb_build_object(
    'model_id', $1,
    'components', coalesce((
       SELECT jsonb_agg(jsonb_build_object('component', c.component, 'dimension', c.dimension,
                                           'max_points', c.max_points) ORDER BY c.component)
         FROM lead_scoring.components c WHERE c.model_id = $1), '[]'),
    'activity_rules', coalesce((
       SELECT jsonb_agg(jsonb_build_object('rule_id', r.rule_id, 'component', r.component,
                                           'activity_type', r.activity_type, 'properties', r.properties,
                                           'points', r.points,
                                           'half_life_seconds', extract(epoch FROM r.half_life),
                                           'max_points', r.max_points) ORDER BY r.rule_id)
         FROM lead_scoring.activity_rules r WHERE r.model_id = $1), '[]'),
    'fit_rules', coalesce((
       SELECT jsonb_agg(jsonb_build_object('rule_id', r.rule_id, 'component', r.component,
                                           'attribute', r.attribute, 'test', r.test,
                                           'value', r.value, 'pattern', r.pattern,
                                           'min_value', r.min_value, 'max_value', r.max_value,
                                           'points', r.points) ORDER BY r.rule_id)
         FROM lead_scoring.fit_rules r WHERE r.model_id = $1), '[]'))
$$;
COMMENT ON FUNCTION lead_scoring.model_definition(integer) IS
  'A model''s components and rules as JSON, read from the model tables (not validated; see check_model)';

-- Rebuild every lead's state under the active model and report grade changes.
-- previous_definition is what the states were built with, to grade "before".
CREATE FUNCTION lead_scoring.rescore_from(previous_definition jsonb,
  OUT leads_rescored bigint, OUT leads_changed_grade bigint,
  OUT leads_now_sales_ready bigint, OUT leads_no_longer_sales_ready bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  definition jsonb;
BEGIN
  -- block live-scoring writers so that no committed activity is missed or counted twice
  LOCK TABLE lead_scoring.lead_scores IN EXCLUSIVE MODE;
  SELECT m.definition INTO definition FROM lead_scoring.models m WHERE m.is_active;
  IF definition IS NULL THEN
    RAISE EXCEPTION 'no scoring model is active'
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Activate one with SELECT * FROM lead_scoring.activate_model(''name'').';
  END IF;
  EXECUTE format($q$
    WITH t AS (SELECT * FROM lead_scoring.grade_thresholds),
    before AS (
      SELECT s.lead_id, t.grades[g] AS grade, t.sales_ready[g] AS sales_ready
        FROM lead_scoring.lead_scores s, t,
             LATERAL lead_scoring.grade_index(s.fit_score + coalesce(
               CASE WHEN lead_scoring.state_matches_model(s.engagement, $2)
                    THEN lead_scoring.engagement_score(s.engagement, $2, now()) END, 0), t.min_scores) g),
    fresh AS (
      SELECT a.lead_id, lead_scoring.score_activities($1, a.activity_type, a.occurred_at, a.properties) AS engagement
        FROM (%s) a WHERE a.lead_id IS NOT NULL GROUP BY a.lead_id),
    fit AS (
      SELECT l.lead_id, lead_scoring.fit_score($1, lead_scoring.fit_attributes(l.email, l.first_name, l.last_name, l.company, l.attributes)) AS fit_score
        FROM lead_scoring.leads l),
    everyone AS (
      SELECT lead_id FROM lead_scoring.lead_scores UNION SELECT lead_id FROM fresh UNION SELECT lead_id FROM fit),
    written AS (
      INSERT INTO lead_scoring.lead_scores AS s (lead_id, fit_score, engagement, scored_at, handed_off)
      SELECT e.lead_id, coalesce(fit.fit_score, 0), fresh.engagement, now(),
             EXISTS (SELECT FROM lead_scoring.handoffs h WHERE h.lead_id = e.lead_id)
        FROM everyone e LEFT JOIN fresh USING (lead_id) LEFT JOIN fit USING (lead_id)
       ORDER BY e.lead_id
      ON CONFLICT (lead_id) DO UPDATE
         SET fit_score = excluded.fit_score, engagement = excluded.engagement, scored_at = excluded.scored_at
      RETURNING s.lead_id, s.fit_score + coalesce(lead_scoring.engagement_score(s.engagement, $1, now()), 0) AS total),
    after AS (
      SELECT w.lead_id, t.grades[g] AS grade, t.sales_ready[g] AS sales_ready
        FROM written w, t, LATERAL lead_scoring.grade_index(w.total, t.min_scores) g)
    SELECT count(*),
           count(*) FILTER (WHERE a.grade IS DISTINCT FROM b.grade),
           count(*) FILTER (WHERE a.sales_ready AND NOT coalesce(b.sales_ready, false)),
           count(*) FILTER (WHERE b.sales_ready AND NOT coalesce(a.sales_ready, false))
      FROM after a LEFT JOIN before b USING (lead_id)$q$,
    lead_scoring.activity_sources_sql())
  INTO leads_rescored, leads_changed_grade, leads_now_sales_ready, leads_no_longer_sales_ready
  USING definition, coalesce(previous_definition, definition);
  PERFORM lead_scoring.hand_off(NULL, CASE WHEN previous_definition IS DISTINCT FROM definition
                                           THEN 'model' ELSE 'rescore' END);
END
$$;
COMMENT ON FUNCTION lead_scoring.rescore_from(jsonb) IS
  'Rescores every lead under the active model; grades before are computed with previous_definition. Use lead_scoring.rescore()';

CREATE FUNCTION lead_scoring.rescore(
  OUT leads_rescored bigint, OUT leads_changed_grade bigint,
  OUT leads_now_sales_ready bigint, OUT leads_no_longer_sales_ready bigint)
LANGUAGE sql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  SELECT * FROM lead_scoring.rescore_from(NULL)
$$;
COMMENT ON FUNCTION lead_scoring.rescore() IS
  'Recomputes every lead''s fit and engagement from the leads and all tracked activity tables under the active model, and reports how many leads changed grade and sales-readiness';

CREATE FUNCTION lead_scoring.activate_model(model_name text,
  OUT leads_rescored bigint, OUT leads_changed_grade bigint,
  OUT leads_now_sales_ready bigint, OUT leads_no_longer_sales_ready bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  previous jsonb;
BEGIN
  IF NOT EXISTS (SELECT FROM lead_scoring.models WHERE name = model_name) THEN
    RAISE EXCEPTION 'scoring model "%" does not exist', model_name
      USING ERRCODE = 'undefined_object';
  END IF;
  SELECT definition INTO previous FROM lead_scoring.models WHERE is_active;
  -- the models trigger must not rescore too: this call does, and reports it
  PERFORM set_config('lead_scoring.activating', 'on', true);
  UPDATE lead_scoring.models SET is_active = false WHERE is_active AND name <> model_name;
  UPDATE lead_scoring.models SET is_active = true, activated_at = now() WHERE name = model_name;
  PERFORM set_config('lead_scoring.activating', 'off', true);
  SELECT * INTO leads_rescored, leads_changed_grade, leads_now_sales_ready, leads_no_longer_sales_ready
    FROM lead_scoring.rescore_from(previous);
END
$$;
COMMENT ON FUNCTION lead_scoring.activate_model(text) IS
  'Makes the named model the active one and rescores every lead, in one transaction; reports how many leads changed grade';

-- After rule or component changes: recompile definitions; rescore if the active one changed.
CREATE FUNCTION lead_scoring.compile_models() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  m record;
  compiled jsonb;
  previous jsonb;
  report record;
BEGIN
  IF lead_scoring.loading_dump() THEN
    RETURN NULL;  -- restoring a dump: data as dumped; rescore() follows
  END IF;
  FOR m IN SELECT model_id, is_active, definition FROM lead_scoring.models ORDER BY model_id LOOP
    compiled := lead_scoring.check_model(lead_scoring.model_definition(m.model_id));
    IF compiled IS DISTINCT FROM m.definition THEN
      UPDATE lead_scoring.models SET definition = compiled WHERE model_id = m.model_id;
      IF m.is_active THEN
        previous := m.definition;
      END IF;
    END IF;
  END LOOP;
  IF previous IS NOT NULL THEN
    SELECT * INTO report FROM lead_scoring.rescore_from(previous);
    RAISE NOTICE 'active model changed: % leads rescored, % changed grade', report.leads_rescored, report.leads_changed_grade;
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.compile_models() IS
  'Trigger (after changes to components or rules, per statement): validates and stores each model''s definition, and rescores if the active model changed';

CREATE TRIGGER compile_models AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lead_scoring.components
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.compile_models();
CREATE TRIGGER compile_models AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lead_scoring.activity_rules
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.compile_models();
CREATE TRIGGER compile_models AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lead_scoring.fit_rules
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.compile_models();

-- A model's definition is always derived from its tables.
CREATE FUNCTION lead_scoring.compile_model_row() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  IF lead_scoring.loading_dump() THEN
    RETURN NEW;  -- restoring a dump: the row as dumped
  END IF;
  NEW.definition := lead_scoring.check_model(lead_scoring.model_definition(NEW.model_id));
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lead_scoring.compile_model_row() IS
  'Trigger (before insert or update on models): sets definition from the model''s tables';
CREATE TRIGGER compile_model_row BEFORE INSERT OR UPDATE ON lead_scoring.models
  FOR EACH ROW EXECUTE FUNCTION lead_scoring.compile_model_row();

-- A direct UPDATE of is_active rescores like activate_model does.
CREATE FUNCTION lead_scoring.rescore_on_activation() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  previous jsonb;
  report record;
BEGIN
  IF lead_scoring.loading_dump() THEN
    RETURN NULL;  -- restoring a dump: data as dumped; rescore() follows
  END IF;
  IF current_setting('lead_scoring.activating', true) = 'on'
     OR NOT EXISTS (SELECT FROM lead_scoring.models WHERE is_active) THEN
    RETURN NULL;
  END IF;
  IF NOT EXISTS (SELECT FROM old_models o JOIN new_models n USING (model_id)
                  WHERE o.is_active IS DISTINCT FROM n.is_active) THEN
    RETURN NULL;
  END IF;
  SELECT o.definition INTO previous FROM old_models o WHERE o.is_active;
  SELECT * INTO report FROM lead_scoring.rescore_from(previous);
  RAISE NOTICE 'active model changed: % leads rescored, % changed grade', report.leads_rescored, report.leads_changed_grade;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.rescore_on_activation() IS
  'Trigger (after update on models, per statement): rescores when the active model was switched by a plain UPDATE';
CREATE TRIGGER rescore_on_activation AFTER UPDATE ON lead_scoring.models
  REFERENCING OLD TABLE AS old_models NEW TABLE AS new_models
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.rescore_on_activation();

-- At commit: if models exist, exactly one is active.
CREATE FUNCTION lead_scoring.check_one_active_model() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  IF EXISTS (SELECT FROM lead_scoring.models)
     AND NOT EXISTS (SELECT FROM lead_scoring.models WHERE is_active) THEN
    RAISE EXCEPTION 'no scoring model is active'
      USING ERRCODE = 'check_violation',
            HINT = 'Exactly one model must be active; switch with lead_scoring.activate_model(name).';
  END IF;
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.check_one_active_model() IS
  'Constraint trigger (deferred to commit): refuses to leave models without an active one';
CREATE CONSTRAINT TRIGGER check_one_active_model AFTER INSERT OR UPDATE OR DELETE ON lead_scoring.models
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION lead_scoring.check_one_active_model();

CREATE FUNCTION lead_scoring.track(activity_table regclass, lead_column name, type_column name,
                                   time_column name, properties_column name DEFAULT NULL,
  OUT leads_rescored bigint, OUT leads_changed_grade bigint,
  OUT leads_now_sales_ready bigint, OUT leads_no_longer_sales_ready bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  pair text[];
  col name;
  want text;
  typ regtype;
BEGIN
  FOREACH pair SLICE 1 IN ARRAY ARRAY[[lead_column, 'lead'], [type_column, 'type'], [time_column, 'time'],
                                      [coalesce(properties_column, ''), 'properties']]::text[] LOOP
    col := pair[1];
    want := pair[2];
    CONTINUE WHEN col = '';
    SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
     WHERE a.attrelid = activity_table AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
    IF typ IS NULL THEN
      RAISE EXCEPTION 'column "%" of % does not exist', col, activity_table USING ERRCODE = 'undefined_column';
    ELSIF NOT (want = 'lead' AND typ IN ('bigint'::regtype, 'integer', 'smallint')
            OR want = 'type' AND typ IN ('text'::regtype, 'character varying', 'character')
            OR want = 'time' AND typ = 'timestamp with time zone'::regtype
            OR want = 'properties' AND typ IN ('jsonb'::regtype, 'json')) THEN
      RAISE EXCEPTION 'column "%" of % has type %, which cannot be the % column', col, activity_table, typ, want
        USING ERRCODE = 'datatype_mismatch',
              HINT = 'The lead column is an integer type, the type column text, the time column timestamptz, the properties column jsonb or json.';
    END IF;
    typ := NULL;
  END LOOP;

  IF EXISTS (SELECT FROM lead_scoring.tracked_tables t WHERE t.activity_table = track.activity_table) THEN
    RAISE EXCEPTION '% is already tracked', activity_table USING ERRCODE = 'duplicate_object';
  END IF;
  INSERT INTO lead_scoring.tracked_tables (activity_table, lead_column, type_column, time_column, properties_column)
  VALUES (activity_table, lead_column, type_column, time_column, properties_column);
  EXECUTE format('CREATE TRIGGER lead_scoring_score_inserts AFTER INSERT ON %s REFERENCING NEW TABLE AS new_activities '
                 'FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.score_inserted_activities(%L, %L, %L, %L)',
                 activity_table, lead_column, type_column, time_column, coalesce(properties_column, ''));
  EXECUTE format('CREATE TRIGGER lead_scoring_rescore_updates AFTER UPDATE ON %s '
                 'REFERENCING OLD TABLE AS old_activities NEW TABLE AS new_activities '
                 'FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.rescore_changed_activities(%L)',
                 activity_table, lead_column);
  EXECUTE format('CREATE TRIGGER lead_scoring_rescore_deletes AFTER DELETE ON %s REFERENCING OLD TABLE AS old_activities '
                 'FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.rescore_changed_activities(%L)',
                 activity_table, lead_column);
  EXECUTE format('CREATE TRIGGER lead_scoring_rescore_truncates AFTER TRUNCATE ON %s '
                 'FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.rescore_changed_activities(%L)',
                 activity_table, lead_column);
  IF EXISTS (SELECT FROM lead_scoring.models WHERE is_active) THEN
    SELECT * INTO leads_rescored, leads_changed_grade, leads_now_sales_ready, leads_no_longer_sales_ready
      FROM lead_scoring.rescore();
  END IF;
END
$$;
COMMENT ON FUNCTION lead_scoring.track(regclass, name, name, name, name) IS
  'Scores an existing activity table live, in place: adds triggers, scores its rows, and reports the rescore';

CREATE FUNCTION lead_scoring.untrack(activity_table regclass,
  OUT leads_rescored bigint, OUT leads_changed_grade bigint,
  OUT leads_now_sales_ready bigint, OUT leads_no_longer_sales_ready bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  trigger_name text;
BEGIN
  DELETE FROM lead_scoring.tracked_tables t WHERE t.activity_table = untrack.activity_table;
  IF NOT FOUND THEN
    RAISE EXCEPTION '% is not tracked', activity_table USING ERRCODE = 'undefined_object';
  END IF;
  FOREACH trigger_name IN ARRAY ARRAY['lead_scoring_score_inserts', 'lead_scoring_rescore_updates',
                                      'lead_scoring_rescore_deletes', 'lead_scoring_rescore_truncates'] LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', trigger_name, activity_table);
  END LOOP;
  IF EXISTS (SELECT FROM lead_scoring.models WHERE is_active) THEN
    SELECT * INTO leads_rescored, leads_changed_grade, leads_now_sales_ready, leads_no_longer_sales_ready
      FROM lead_scoring.rescore();
  END IF;
END
$$;
COMMENT ON FUNCTION lead_scoring.untrack(regclass) IS
  'Stops scoring an activity table: drops its triggers, leaves its rows untouched, and rescores without them';

SELECT lead_scoring.track('lead_scoring.activities', 'lead_id', 'activity_type', 'occurred_at', 'properties');
-- Settings: built-in defaults, overridden with a plain UPDATE of the view.
-- Overrides live in setting_overrides, which pg_dump keeps; defaults are code.

CREATE TABLE lead_scoring.setting_overrides (
  name       text PRIMARY KEY,
  value      text NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now(),
  changed_by name NOT NULL DEFAULT current_user
);
COMMENT ON TABLE lead_scoring.setting_overrides IS 'Settings changed from their defaults; change them through the lead_scoring.settings view';
COMMENT ON COLUMN lead_scoring.setting_overrides.name IS 'Setting name';
COMMENT ON COLUMN lead_scoring.setting_overrides.value IS 'Value in force';
COMMENT ON COLUMN lead_scoring.setting_overrides.changed_at IS 'When it was last changed';
COMMENT ON COLUMN lead_scoring.setting_overrides.changed_by IS 'Who changed it';

CREATE VIEW lead_scoring.settings AS
SELECT d.name, coalesce(o.value, d.default_value) AS value, d.default_value, d.description,
       o.changed_at, o.changed_by
  FROM (VALUES
    ('cherry_pick_policy', 'allow',
     'What a claim of a lead below the sales-ready grade does: allow (record it), warn (record it and warn the rep) or deny (refuse the claim, record the attempt)'),
    ('burst_max_activities', '50',
     'A lead with more than this many activities within burst_window is suppressed as a bot'),
    ('burst_window', '60 seconds',
     'The window burst_max_activities is counted in'),
    ('opt_out_activity_types', 'opt_out',
     'Comma-separated activity types that mean the lead opted out'),
    ('opt_in_activity_types', 'opt_in',
     'Comma-separated activity types with which a lead takes back its opt-out')
  ) AS d(name, default_value, description)
  LEFT JOIN lead_scoring.setting_overrides o USING (name);
COMMENT ON VIEW lead_scoring.settings IS 'Settings, with their defaults; change one with UPDATE lead_scoring.settings SET value = ... WHERE name = ...';
COMMENT ON COLUMN lead_scoring.settings.name IS 'Setting name';
COMMENT ON COLUMN lead_scoring.settings.value IS 'Value in force';
COMMENT ON COLUMN lead_scoring.settings.default_value IS 'Value when not changed';
COMMENT ON COLUMN lead_scoring.settings.description IS 'What the setting does';
COMMENT ON COLUMN lead_scoring.settings.changed_at IS 'When it was last changed (empty: default)';
COMMENT ON COLUMN lead_scoring.settings.changed_by IS 'Who changed it';

CREATE FUNCTION lead_scoring.setting(setting_name text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  RETURN (SELECT s.value FROM lead_scoring.settings s WHERE s.name = setting_name);
END
$$;
COMMENT ON FUNCTION lead_scoring.setting(text) IS 'The value in force of a setting';

CREATE FUNCTION lead_scoring.update_setting() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  IF NEW.name IS DISTINCT FROM OLD.name THEN
    RAISE EXCEPTION 'settings cannot be renamed' USING ERRCODE = 'feature_not_supported';
  END IF;
  IF NEW.value IS NULL THEN
    NEW.value := OLD.default_value;
  END IF;
  IF NEW.name = 'cherry_pick_policy' AND NEW.value NOT IN ('allow', 'warn', 'deny') THEN
    RAISE EXCEPTION 'cherry_pick_policy must be allow, warn or deny, not "%"', NEW.value
      USING ERRCODE = 'invalid_parameter_value';
  ELSIF NEW.name = 'burst_max_activities' AND (NEW.value !~ '^\s*[0-9]+\s*$' OR NEW.value::bigint < 1) THEN
    RAISE EXCEPTION 'burst_max_activities must be a positive whole number, not "%"', NEW.value
      USING ERRCODE = 'invalid_parameter_value';
  ELSIF NEW.name = 'burst_window' AND NEW.value::interval <= interval '0' THEN
    RAISE EXCEPTION 'burst_window must be a positive interval, not "%"', NEW.value
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO lead_scoring.setting_overrides AS s (name, value) VALUES (NEW.name, NEW.value)
  ON CONFLICT (name) DO UPDATE SET value = excluded.value, changed_at = now(), changed_by = current_user;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lead_scoring.update_setting() IS
  'Trigger (INSTEAD OF UPDATE on settings): validates and stores a setting; setting value to NULL restores the default';
CREATE TRIGGER update_setting INSTEAD OF UPDATE ON lead_scoring.settings
  FOR EACH ROW EXECUTE FUNCTION lead_scoring.update_setting();
-- Suppression: bogus leads, bot-like bursts and opt-outs leave the funnel and
-- the sales views and are never handed off; nothing about them is deleted.

CREATE TABLE lead_scoring.bogus_patterns (
  pattern_id  integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  field       text NOT NULL CHECK (field IN ('email', 'name', 'company')),
  pattern     text NOT NULL,
  description text
);
COMMENT ON TABLE lead_scoring.bogus_patterns IS 'Patterns of bogus leads ("mickey mouse", "^test@"); a lead matching one is suppressed';
COMMENT ON COLUMN lead_scoring.bogus_patterns.pattern_id IS 'Pattern identifier';
COMMENT ON COLUMN lead_scoring.bogus_patterns.field IS 'What the pattern is tested on: email, name (first and last) or company';
COMMENT ON COLUMN lead_scoring.bogus_patterns.pattern IS 'Case-insensitive regular expression';
COMMENT ON COLUMN lead_scoring.bogus_patterns.description IS 'Why such leads are bogus';

CREATE FUNCTION lead_scoring.check_bogus_pattern() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  PERFORM '' ~* NEW.pattern;   -- refuses an invalid regular expression
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lead_scoring.check_bogus_pattern() IS 'Trigger: refuses bogus-lead patterns that are not valid regular expressions';
CREATE TRIGGER check_bogus_pattern BEFORE INSERT OR UPDATE ON lead_scoring.bogus_patterns
  FOR EACH ROW EXECUTE FUNCTION lead_scoring.check_bogus_pattern();

CREATE TABLE lead_scoring.throwaway_domains (
  domain      text PRIMARY KEY CHECK (domain = lower(domain) AND domain !~ '[@\s]' AND domain <> ''),
  description text
);
COMMENT ON TABLE lead_scoring.throwaway_domains IS 'Disposable email domains (mailinator.com, …); a lead with an address there is suppressed';
COMMENT ON COLUMN lead_scoring.throwaway_domains.domain IS 'Domain, lower case, without @';
COMMENT ON COLUMN lead_scoring.throwaway_domains.description IS 'Where it came from';

CREATE TABLE lead_scoring.suppressions (
  suppression_id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  lead_id        bigint NOT NULL,
  kind           text NOT NULL CHECK (kind IN ('bogus', 'burst', 'opt_out', 'manual')),
  reason         text NOT NULL,
  suppressed_at  timestamptz NOT NULL DEFAULT now(),
  suppressed_by  name NOT NULL DEFAULT current_user,
  lifted_at      timestamptz,
  lifted_by      name,
  lift_reason    text
);
CREATE UNIQUE INDEX suppressions_one_active_per_kind ON lead_scoring.suppressions (lead_id, kind) WHERE lifted_at IS NULL;
COMMENT ON TABLE lead_scoring.suppressions IS 'Why leads were suppressed and when they were restored; a lead is suppressed while it has a suppression not lifted';
COMMENT ON COLUMN lead_scoring.suppressions.suppression_id IS 'Suppression identifier';
COMMENT ON COLUMN lead_scoring.suppressions.lead_id IS 'Lead suppressed';
COMMENT ON COLUMN lead_scoring.suppressions.kind IS 'bogus (pattern or throwaway domain), burst (bot-like activity), opt_out, or manual';
COMMENT ON COLUMN lead_scoring.suppressions.reason IS 'What was found, in words';
COMMENT ON COLUMN lead_scoring.suppressions.suppressed_at IS 'When';
COMMENT ON COLUMN lead_scoring.suppressions.suppressed_by IS 'Role whose statement suppressed it';
COMMENT ON COLUMN lead_scoring.suppressions.lifted_at IS 'When the lead was restored (empty: still suppressed)';
COMMENT ON COLUMN lead_scoring.suppressions.lifted_by IS 'Who restored it';
COMMENT ON COLUMN lead_scoring.suppressions.lift_reason IS 'Why it was restored';

CREATE VIEW lead_scoring.suppressed_leads AS
SELECT s.lead_id, l.email, s.kind, s.reason, s.suppressed_at, s.suppressed_by
  FROM lead_scoring.suppressions s LEFT JOIN lead_scoring.leads l USING (lead_id)
 WHERE s.lifted_at IS NULL;
COMMENT ON VIEW lead_scoring.suppressed_leads IS 'Leads suppressed now, with why';
COMMENT ON COLUMN lead_scoring.suppressed_leads.lead_id IS 'Lead';
COMMENT ON COLUMN lead_scoring.suppressed_leads.email IS 'Its email';
COMMENT ON COLUMN lead_scoring.suppressed_leads.kind IS 'bogus, burst, opt_out or manual';
COMMENT ON COLUMN lead_scoring.suppressed_leads.reason IS 'What was found';
COMMENT ON COLUMN lead_scoring.suppressed_leads.suppressed_at IS 'When';
COMMENT ON COLUMN lead_scoring.suppressed_leads.suppressed_by IS 'Who';

-- Suppress leads that match a bogus pattern or a throwaway domain (all leads if
-- lead_ids is null). A lead someone restored from a bogus suppression stays restored.
CREATE FUNCTION lead_scoring.find_bogus_leads(lead_ids bigint[] DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  found bigint;
BEGIN
  -- EXECUTE: planned with lead_ids known, so a trigger's few leads use the index
  EXECUTE $q$
  WITH found AS (
    INSERT INTO lead_scoring.suppressions (lead_id, kind, reason)
    SELECT DISTINCT ON (l.lead_id) l.lead_id, 'bogus', r.reason
      FROM lead_scoring.leads l
     CROSS JOIN LATERAL (
       SELECT format('%s matches bogus pattern %s%s', p.field, quote_literal(p.pattern),
                     ': ' || p.description)
         FROM lead_scoring.bogus_patterns p
        WHERE CASE p.field WHEN 'email' THEN l.email
                           WHEN 'name' THEN concat_ws(' ', l.first_name, l.last_name)
                           ELSE l.company END ~* p.pattern
       UNION ALL
       SELECT format('email domain %s is a throwaway domain', d.domain)
         FROM lead_scoring.throwaway_domains d
        WHERE lower(split_part(l.email, '@', 2)) = d.domain) AS r(reason)
     WHERE ($1 IS NULL OR l.lead_id = ANY ($1))
       AND NOT EXISTS (SELECT FROM lead_scoring.suppressions s
                        WHERE s.lead_id = l.lead_id AND s.kind = 'bogus')
     ORDER BY l.lead_id
    ON CONFLICT DO NOTHING
    RETURNING lead_id)
  SELECT count(*) FROM found$q$
  INTO found USING lead_ids;
  RETURN found;
END
$$;
COMMENT ON FUNCTION lead_scoring.find_bogus_leads(bigint[]) IS
  'Suppresses leads (all, or the given ones) matching a bogus pattern or a throwaway domain; returns how many. Run it after adding patterns';

-- Suppress leads with more than burst_max_activities activities within burst_window,
-- in any tracked table (all leads if lead_ids is null).
CREATE FUNCTION lead_scoring.find_activity_bursts(lead_ids bigint[] DEFAULT NULL,
                                                  near_from timestamptz DEFAULT NULL,
                                                  near_to timestamptz DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  found bigint;
BEGIN
  EXECUTE format($q$
    WITH windows AS (
      SELECT a.lead_id, a.occurred_at,
             count(*) OVER (PARTITION BY a.lead_id ORDER BY a.occurred_at
                            RANGE BETWEEN $3 PRECEDING AND CURRENT ROW) AS n
        FROM (%s) a
       WHERE a.lead_id IS NOT NULL AND ($1 IS NULL OR a.lead_id = ANY ($1))
         -- only windows that can hold an activity between near_from and near_to
         AND ($5::timestamptz IS NULL OR a.occurred_at >= $5::timestamptz - $3)
         AND ($6::timestamptz IS NULL OR a.occurred_at <= $6::timestamptz + $3)),
    found AS (
      INSERT INTO lead_scoring.suppressions (lead_id, kind, reason)
      SELECT DISTINCT ON (w.lead_id) w.lead_id, 'burst',
             format('%%s activities within %%s, up to %%s', w.n, $4, w.occurred_at)
        FROM windows w
       WHERE w.n > $2
         AND NOT EXISTS (SELECT FROM lead_scoring.suppressions s WHERE s.lead_id = w.lead_id AND s.kind = 'burst')
       ORDER BY w.lead_id, w.n DESC
      ON CONFLICT DO NOTHING
      RETURNING lead_id)
    SELECT count(*) FROM found$q$, lead_scoring.activity_sources_sql())
  INTO found
  USING lead_ids, lead_scoring.setting('burst_max_activities')::bigint,
        lead_scoring.setting('burst_window')::interval, lead_scoring.setting('burst_window'),
        near_from, near_to;
  RETURN found;
END
$$;
COMMENT ON FUNCTION lead_scoring.find_activity_bursts(bigint[], timestamptz, timestamptz) IS
  'Suppresses leads (all, or the given ones) with more than burst_max_activities activities within burst_window (only windows near near_from..near_to if given); returns how many. Finds bursts after the fact too';

-- Apply opt-out and opt-in activities: {"lead_id": "activity_type", …}, the latest per lead.
CREATE FUNCTION lead_scoring.apply_opt_activities(latest_by_lead jsonb) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  INSERT INTO lead_scoring.suppressions (lead_id, kind, reason)
  SELECT key::bigint, 'opt_out', format('opted out (%s activity)', value)
    FROM jsonb_each_text($1)
   WHERE value = ANY (string_to_array(replace(lead_scoring.setting('opt_out_activity_types'), ' ', ''), ','))
  ON CONFLICT DO NOTHING;
  UPDATE lead_scoring.suppressions s
     SET lifted_at = now(), lifted_by = current_user, lift_reason = format('opted in (%s activity)', o.value)
    FROM jsonb_each_text($1) o
   WHERE s.lead_id = o.key::bigint AND s.kind = 'opt_out' AND s.lifted_at IS NULL
     AND o.value = ANY (string_to_array(replace(lead_scoring.setting('opt_in_activity_types'), ' ', ''), ','));
$$;
COMMENT ON FUNCTION lead_scoring.apply_opt_activities(jsonb) IS
  'Suppresses leads whose latest opt activity is an opt-out, and lifts the opt-out of those whose latest is an opt-in';

CREATE FUNCTION lead_scoring.suppress_lead(lead_id bigint, reason text) RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  INSERT INTO lead_scoring.suppressions (lead_id, kind, reason) VALUES ($1, 'manual', $2)
  ON CONFLICT DO NOTHING
  RETURNING suppression_id
$$;
COMMENT ON FUNCTION lead_scoring.suppress_lead(bigint, text) IS 'Suppresses a lead by hand, with a reason';

CREATE FUNCTION lead_scoring.restore_lead(lead_id bigint, reason text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  lifted bigint;
BEGIN
  IF EXISTS (SELECT FROM lead_scoring.suppressions s
              WHERE s.lead_id = restore_lead.lead_id AND s.kind = 'opt_out' AND s.lifted_at IS NULL) THEN
    RAISE EXCEPTION 'lead % opted out; only the lead can take that back', lead_id
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'An opt-in activity of the lead, or leads.opted_out = false when the lead asks, lifts it.';
  END IF;
  UPDATE lead_scoring.suppressions s
     SET lifted_at = now(), lifted_by = current_user, lift_reason = coalesce(restore_lead.reason, 'restored')
   WHERE s.lead_id = restore_lead.lead_id AND s.lifted_at IS NULL;
  GET DIAGNOSTICS lifted = ROW_COUNT;
  PERFORM lead_scoring.hand_off(ARRAY[lead_id], 'restored');
  RETURN lifted;
END
$$;
COMMENT ON FUNCTION lead_scoring.restore_lead(bigint, text) IS
  'Lifts a lead''s suppressions (not an opt-out) and returns how many; the lead is back in the funnel and sales views';
-- Views for any SQL client, all as of now().

CREATE VIEW lead_scoring.active_model AS
SELECT model_id, name, definition FROM lead_scoring.models WHERE is_active;
COMMENT ON VIEW lead_scoring.active_model IS 'The model that scores leads now';
COMMENT ON COLUMN lead_scoring.active_model.model_id IS 'Model identifier';
COMMENT ON COLUMN lead_scoring.active_model.name IS 'Model name';
COMMENT ON COLUMN lead_scoring.active_model.definition IS 'Its validated definition, as the scoring functions take it';

CREATE VIEW lead_scoring.lead_grades AS
SELECT s.lead_id, l.email, l.company,
       s.fit_score,
       e.engagement_score,
       s.fit_score + e.engagement_score AS total_score,
       t.grades[g] AS grade,
       coalesce(t.sales_ready[g], false) AS sales_ready,
       lead_scoring.latest_activity_at(s.engagement) AS last_activity_at,
       m.name AS model,
       EXISTS (SELECT FROM lead_scoring.suppressions x
                WHERE x.lead_id = s.lead_id AND x.lifted_at IS NULL) AS suppressed
  FROM lead_scoring.lead_scores s
  JOIN lead_scoring.active_model m ON true
  LEFT JOIN lead_scoring.leads l ON l.lead_id = s.lead_id
 CROSS JOIN lead_scoring.grade_thresholds t
 CROSS JOIN LATERAL (SELECT coalesce(lead_scoring.engagement_score(s.engagement, m.definition, now()), 0)
                              AS engagement_score) e
 CROSS JOIN LATERAL lead_scoring.grade_index(s.fit_score + e.engagement_score, t.min_scores) g;
COMMENT ON VIEW lead_scoring.lead_grades IS 'Every lead''s scores and grade as of now, under the active model and current thresholds';
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

-- The funnel counts grade positions in one pass over lead_scores, with the
-- model and the thresholds as values computed once (so that parallel workers
-- can score the leads), and names the grades after counting: grading each lead
-- through lead_grades would cost a function scan per lead, without workers.
CREATE VIEW lead_scoring.funnel AS
WITH graded AS (
  SELECT lead_scoring.grade_index(x.total_score, (SELECT t.min_scores FROM lead_scoring.grade_thresholds t))
           AS position,
         count(*) AS leads, min(x.total_score) AS lowest_score, max(x.total_score) AS highest_score
    FROM (SELECT s.fit_score + coalesce(lead_scoring.engagement_score(
                   s.engagement, (SELECT m.definition FROM lead_scoring.active_model m), now()), 0) AS total_score
            FROM lead_scoring.lead_scores s
           WHERE EXISTS (SELECT FROM lead_scoring.active_model)
             AND NOT EXISTS (SELECT FROM lead_scoring.suppressions x
                              WHERE x.lead_id = s.lead_id AND x.lifted_at IS NULL)) x
   GROUP BY 1)
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

CREATE FUNCTION lead_scoring.lead_score(lead_id bigint, as_of timestamptz DEFAULT now(),
  OUT fit_score double precision, OUT engagement_score double precision,
  OUT total_score double precision, OUT grade text, OUT sales_ready boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  SELECT s.fit_score, e.score, s.fit_score + e.score, t.grades[g], coalesce(t.sales_ready[g], false)
    FROM lead_scoring.lead_scores s
    JOIN lead_scoring.active_model m ON true
   CROSS JOIN lead_scoring.grade_thresholds t
   CROSS JOIN LATERAL (SELECT coalesce(lead_scoring.engagement_score(s.engagement, m.definition, $2), 0) AS score) e
   CROSS JOIN LATERAL lead_scoring.grade_index(s.fit_score + e.score, t.min_scores) g
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
-- Sales handoff: claims with a snapshot, the append-only cherry-pick audit,
-- handoff events (table + NOTIFY) and threshold history.

-- The thresholds in force, as claims and handoffs record them.
CREATE FUNCTION lead_scoring.thresholds_in_force() RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  SELECT jsonb_agg(jsonb_build_object('grade', grade, 'min_score', min_score, 'sales_ready', sales_ready)
                   ORDER BY rank)
    FROM lead_scoring.grades
$$;
COMMENT ON FUNCTION lead_scoring.thresholds_in_force() IS
  'The grade thresholds in force, best grade first, as JSON: what claims, the audit and handoffs record';

-- What scoring said about a lead at this instant, as stored with claims and handoffs.
CREATE FUNCTION lead_scoring.score_snapshot(lead_id bigint,
  OUT fit_score double precision, OUT engagement_score double precision,
  OUT total_score double precision, OUT grade text, OUT sales_ready boolean,
  OUT thresholds jsonb, OUT model_id integer, OUT model_name text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  SELECT g.fit_score, g.engagement_score, g.total_score, g.grade, g.sales_ready,
         lead_scoring.thresholds_in_force(), m.model_id, m.name
    FROM lead_scoring.lead_grades g, lead_scoring.active_model m
   WHERE g.lead_id = $1
$$;
COMMENT ON FUNCTION lead_scoring.score_snapshot(bigint) IS
  'A lead''s scores and grade now, with the thresholds and model in force: what claims and handoffs record';

CREATE TABLE lead_scoring.claims (
  claim_id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  lead_id          bigint NOT NULL,
  rep              name NOT NULL DEFAULT current_user,
  reason           text,
  claimed_at       timestamptz NOT NULL DEFAULT now(),
  cherry_pick      boolean,
  fit_score        double precision,
  engagement_score double precision,
  total_score      double precision,
  grade            text,
  sales_ready      boolean,
  thresholds       jsonb,
  model_id         integer,
  model_name       text
);
CREATE INDEX ON lead_scoring.claims (lead_id, claimed_at);
COMMENT ON TABLE lead_scoring.claims IS 'Leads claimed by sales reps, with a snapshot of their scores when claimed. Claim with lead_scoring.claim_lead(lead_id) or INSERT (lead_id[, reason])';
COMMENT ON COLUMN lead_scoring.claims.claim_id IS 'Claim identifier';
COMMENT ON COLUMN lead_scoring.claims.lead_id IS 'Lead claimed';
COMMENT ON COLUMN lead_scoring.claims.rep IS 'Sales rep (default: the current user)';
COMMENT ON COLUMN lead_scoring.claims.reason IS 'Why the rep took it';
COMMENT ON COLUMN lead_scoring.claims.claimed_at IS 'When';
COMMENT ON COLUMN lead_scoring.claims.cherry_pick IS 'True if the lead was below the sales-ready grade when claimed';
COMMENT ON COLUMN lead_scoring.claims.fit_score IS 'Fit score when claimed';
COMMENT ON COLUMN lead_scoring.claims.engagement_score IS 'Engagement score when claimed';
COMMENT ON COLUMN lead_scoring.claims.total_score IS 'Total score when claimed';
COMMENT ON COLUMN lead_scoring.claims.grade IS 'Grade when claimed';
COMMENT ON COLUMN lead_scoring.claims.sales_ready IS 'Whether that grade was sales-ready';
COMMENT ON COLUMN lead_scoring.claims.thresholds IS 'The grade thresholds in force, as JSON';
COMMENT ON COLUMN lead_scoring.claims.model_id IS 'Model in force';
COMMENT ON COLUMN lead_scoring.claims.model_name IS 'Its name';

CREATE TABLE lead_scoring.cherry_picks (
  cherry_pick_id   bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  claim_id         bigint,
  lead_id          bigint NOT NULL,
  rep              name NOT NULL,
  reason           text,
  attempted_at     timestamptz NOT NULL,
  policy           text NOT NULL,
  outcome          text NOT NULL CHECK (outcome IN ('claimed', 'claimed with warning', 'denied')),
  fit_score        double precision,
  engagement_score double precision,
  total_score      double precision,
  grade            text,
  thresholds       jsonb,
  model_id         integer,
  model_name       text
);
COMMENT ON TABLE lead_scoring.cherry_picks IS 'Append-only audit of claims of leads below the sales-ready grade, denied attempts included; only a superuser may change or delete a row';
COMMENT ON COLUMN lead_scoring.cherry_picks.cherry_pick_id IS 'Audit entry identifier';
COMMENT ON COLUMN lead_scoring.cherry_picks.claim_id IS 'The claim made (empty if denied)';
COMMENT ON COLUMN lead_scoring.cherry_picks.lead_id IS 'Lead';
COMMENT ON COLUMN lead_scoring.cherry_picks.rep IS 'Sales rep';
COMMENT ON COLUMN lead_scoring.cherry_picks.reason IS 'Reason the rep gave';
COMMENT ON COLUMN lead_scoring.cherry_picks.attempted_at IS 'When';
COMMENT ON COLUMN lead_scoring.cherry_picks.policy IS 'cherry_pick_policy in force: allow, warn or deny';
COMMENT ON COLUMN lead_scoring.cherry_picks.outcome IS 'claimed, claimed with warning, or denied';
COMMENT ON COLUMN lead_scoring.cherry_picks.fit_score IS 'Fit score then';
COMMENT ON COLUMN lead_scoring.cherry_picks.engagement_score IS 'Engagement score then';
COMMENT ON COLUMN lead_scoring.cherry_picks.total_score IS 'Total score then';
COMMENT ON COLUMN lead_scoring.cherry_picks.grade IS 'Grade then';
COMMENT ON COLUMN lead_scoring.cherry_picks.thresholds IS 'Grade thresholds in force';
COMMENT ON COLUMN lead_scoring.cherry_picks.model_id IS 'Model in force';
COMMENT ON COLUMN lead_scoring.cherry_picks.model_name IS 'Its name';

-- The audit is evidence between departments: no one but a superuser rewrites it.
CREATE FUNCTION lead_scoring.refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Only a superuser may change or remove audit entries.';
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
COMMENT ON FUNCTION lead_scoring.refuse_audit_change() IS 'Trigger: refuses UPDATE, DELETE and TRUNCATE of an audit table for every role but a superuser';
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON lead_scoring.cherry_picks
  FOR EACH ROW EXECUTE FUNCTION lead_scoring.refuse_audit_change();
CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON lead_scoring.cherry_picks
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.refuse_audit_change();

-- Nor may its owner switch those triggers off or drop them.
CREATE FUNCTION lead_scoring.protect_audit_ddl() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  audit regclass := to_regclass('lead_scoring.cherry_picks');
BEGIN
  IF audit IS NULL OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RETURN;
  END IF;
  IF TG_EVENT = 'ddl_command_end' THEN
    IF EXISTS (SELECT FROM pg_event_trigger_ddl_commands() c
                WHERE c.classid = 'pg_class'::regclass AND c.objid = audit) THEN
      RAISE EXCEPTION 'lead_scoring.cherry_picks is append-only: % refused', TG_TAG
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Only a superuser may alter the audit table.';
    END IF;
  ELSIF EXISTS (SELECT FROM pg_event_trigger_dropped_objects() d
                 WHERE d.object_type = 'trigger' AND d.address_names[1] = 'lead_scoring'
                   AND d.address_names[2] = 'cherry_picks') THEN
    RAISE EXCEPTION 'lead_scoring.cherry_picks is append-only: % refused', TG_TAG
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Only a superuser may drop the audit table''s triggers.';
  END IF;
END
$$;
COMMENT ON FUNCTION lead_scoring.protect_audit_ddl() IS
  'Event trigger: refuses ALTER TABLE of the cherry-pick audit (e.g. DISABLE TRIGGER) and dropping its triggers, for every role but a superuser';
CREATE EVENT TRIGGER lead_scoring_protect_audit_alter ON ddl_command_end WHEN TAG IN ('ALTER TABLE')
  EXECUTE FUNCTION lead_scoring.protect_audit_ddl();
CREATE EVENT TRIGGER lead_scoring_protect_audit_drop ON sql_drop WHEN TAG IN ('DROP TRIGGER')
  EXECUTE FUNCTION lead_scoring.protect_audit_ddl();

-- BEFORE INSERT on claims: snapshot, cherry-pick audit, policy.
CREATE FUNCTION lead_scoring.record_claim() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  snap record;
  policy text := lead_scoring.setting('cherry_pick_policy');
  outcome text;
  suppression text;
BEGIN
  IF lead_scoring.loading_dump() THEN
    RETURN NEW;  -- restoring a dump: the row as dumped
  END IF;
  IF NEW.lead_id IS NULL THEN
    RAISE EXCEPTION 'a claim needs a lead_id' USING ERRCODE = 'not_null_violation';
  END IF;
  IF NOT EXISTS (SELECT FROM lead_scoring.lead_scores s WHERE s.lead_id = NEW.lead_id) THEN
    RAISE EXCEPTION 'lead % does not exist', NEW.lead_id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  SELECT * INTO snap FROM lead_scoring.score_snapshot(NEW.lead_id);
  SELECT format('%s: %s', s.kind, s.reason) INTO suppression FROM lead_scoring.suppressions s
   WHERE s.lead_id = NEW.lead_id AND s.lifted_at IS NULL ORDER BY s.suppressed_at LIMIT 1;
  IF suppression IS NOT NULL THEN
    RAISE EXCEPTION 'lead % is suppressed (%)', NEW.lead_id, suppression
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  NEW.rep := coalesce(NEW.rep, current_user);
  NEW.claimed_at := now();
  NEW.fit_score := snap.fit_score;
  NEW.engagement_score := snap.engagement_score;
  NEW.total_score := snap.total_score;
  NEW.grade := snap.grade;
  NEW.sales_ready := snap.sales_ready;
  NEW.cherry_pick := NOT snap.sales_ready;
  NEW.thresholds := snap.thresholds;
  NEW.model_id := snap.model_id;
  NEW.model_name := snap.model_name;
  IF NEW.cherry_pick THEN
    outcome := CASE policy WHEN 'allow' THEN 'claimed' WHEN 'warn' THEN 'claimed with warning' ELSE 'denied' END;
    INSERT INTO lead_scoring.cherry_picks (claim_id, lead_id, rep, reason, attempted_at, policy, outcome,
                                           fit_score, engagement_score, total_score, grade, thresholds,
                                           model_id, model_name)
    VALUES (CASE WHEN outcome <> 'denied' THEN NEW.claim_id END, NEW.lead_id, NEW.rep, NEW.reason, NEW.claimed_at,
            policy, outcome, snap.fit_score, snap.engagement_score, snap.total_score, snap.grade,
            snap.thresholds, snap.model_id, snap.model_name);
    IF outcome = 'denied' THEN
      RAISE WARNING 'claim of lead % refused: grade % is not sales-ready (cherry_pick_policy is deny); the attempt is recorded',
        NEW.lead_id, coalesce(snap.grade, 'none');
      RETURN NULL;
    ELSIF outcome = 'claimed with warning' THEN
      RAISE WARNING 'lead % is a cherry-pick: grade % is not sales-ready; the claim is recorded in lead_scoring.cherry_picks',
        NEW.lead_id, coalesce(snap.grade, 'none');
    END IF;
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lead_scoring.record_claim() IS
  'Trigger (before insert on claims): records the score snapshot, audits cherry-picks and applies cherry_pick_policy';
CREATE TRIGGER record_claim BEFORE INSERT ON lead_scoring.claims
  FOR EACH ROW EXECUTE FUNCTION lead_scoring.record_claim();

CREATE FUNCTION lead_scoring.claim_lead(lead_id bigint, reason text DEFAULT NULL)
RETURNS SETOF lead_scoring.claims
LANGUAGE sql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  INSERT INTO lead_scoring.claims (lead_id, reason) VALUES ($1, $2) RETURNING *
$$;
COMMENT ON FUNCTION lead_scoring.claim_lead(bigint, text) IS
  'Claims a lead for the current user; returns the claim with its snapshot, or no row if cherry_pick_policy denied it';

CREATE TABLE lead_scoring.handoffs (
  handoff_id       bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  lead_id          bigint NOT NULL,
  handed_off_at    timestamptz NOT NULL DEFAULT now(),
  cause            text NOT NULL,
  fit_score        double precision,
  engagement_score double precision,
  total_score      double precision,
  grade            text,
  thresholds       jsonb,
  model_id         integer,
  model_name       text
);
CREATE INDEX ON lead_scoring.handoffs (lead_id, handed_off_at);
COMMENT ON TABLE lead_scoring.handoffs IS 'Each time a lead became sales-ready, with why and its snapshot; also sent with NOTIFY on channel lead_scoring_handoff at commit';
COMMENT ON COLUMN lead_scoring.handoffs.handoff_id IS 'Handoff identifier';
COMMENT ON COLUMN lead_scoring.handoffs.lead_id IS 'Lead';
COMMENT ON COLUMN lead_scoring.handoffs.handed_off_at IS 'When';
COMMENT ON COLUMN lead_scoring.handoffs.cause IS 'What made it sales-ready: activity, fit, thresholds, model, rescore or restored';
COMMENT ON COLUMN lead_scoring.handoffs.fit_score IS 'Fit score then';
COMMENT ON COLUMN lead_scoring.handoffs.engagement_score IS 'Engagement score then';
COMMENT ON COLUMN lead_scoring.handoffs.total_score IS 'Total score then';
COMMENT ON COLUMN lead_scoring.handoffs.grade IS 'Grade then';
COMMENT ON COLUMN lead_scoring.handoffs.thresholds IS 'Grade thresholds in force';
COMMENT ON COLUMN lead_scoring.handoffs.model_id IS 'Model in force';
COMMENT ON COLUMN lead_scoring.handoffs.model_name IS 'Its name';

-- Hand off the given leads (all if null) that are sales-ready now, not suppressed
-- and not already handed off; forget the handoff of those no longer sales-ready,
-- so that they are handed off again if they come back.
-- Only a lead whose score crossed the lowest sales-ready score one way or the
-- other since it was last handed off (or was suppressed since) can change
-- hands: those are found first, with a kept plan on lead_scores, and only they
-- are graded through lead_grades. Most activities change nothing.
CREATE FUNCTION lead_scoring.hand_off(lead_ids bigint[], cause text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  handed bigint;
BEGIN
  IF lead_ids IS NOT NULL THEN
    lead_ids := ARRAY(
      SELECT s.lead_id
        FROM lead_scoring.lead_scores s, lead_scoring.active_model m
       WHERE s.lead_id = ANY (lead_ids)
         AND (s.handed_off IS DISTINCT FROM coalesce(
                s.fit_score + coalesce(lead_scoring.engagement_score(s.engagement, m.definition, now()), 0)
                >= (SELECT CASE WHEN bool_and(g.sales_ready) THEN '-Infinity'::float8
                                ELSE min(g.min_score) FILTER (WHERE g.sales_ready) END
                      FROM lead_scoring.grades g), false)
              OR s.handed_off AND EXISTS (SELECT FROM lead_scoring.suppressions x
                                           WHERE x.lead_id = s.lead_id AND x.lifted_at IS NULL)));
    IF cardinality(lead_ids) = 0 THEN
      RETURN 0;
    END IF;
  END IF;
  -- EXECUTE plans with the values known, so "$1 IS NULL OR" folds away and
  -- a trigger's few leads are found by index, not by grading every lead
  EXECUTE $q$
  UPDATE lead_scoring.lead_scores s SET handed_off = false
    FROM lead_scoring.lead_grades g
   WHERE s.lead_id = g.lead_id AND s.handed_off AND ($1 IS NULL OR s.lead_id = ANY ($1))
     AND (NOT g.sales_ready OR g.suppressed)$q$ USING lead_ids;
  EXECUTE $q$
  WITH ready AS (
    SELECT g.lead_id, g.fit_score, g.engagement_score, g.total_score, g.grade, m.model_id, m.name
      FROM lead_scoring.lead_grades g
      JOIN lead_scoring.lead_scores s USING (lead_id)
     CROSS JOIN lead_scoring.active_model m
     WHERE ($1 IS NULL OR g.lead_id = ANY ($1)) AND g.sales_ready AND NOT g.suppressed AND NOT s.handed_off),
  -- NOT handed_off is checked again on the locked row: a concurrent writer that
  -- handed the lead off first wins, and this one records nothing for it
  marked AS (
    UPDATE lead_scoring.lead_scores s SET handed_off = true
      FROM ready r WHERE s.lead_id = r.lead_id AND NOT s.handed_off
    RETURNING s.lead_id),
  recorded AS (
    INSERT INTO lead_scoring.handoffs (lead_id, cause, fit_score, engagement_score, total_score, grade,
                                       thresholds, model_id, model_name)
    SELECT r.lead_id, $2, r.fit_score, r.engagement_score, r.total_score, r.grade,
           lead_scoring.thresholds_in_force(), r.model_id, r.name
      FROM ready r JOIN marked USING (lead_id) ORDER BY r.lead_id
    RETURNING *)
  SELECT count(pg_notify('lead_scoring_handoff', jsonb_build_object(
           'handoff_id', handoff_id, 'lead_id', lead_id, 'cause', cause, 'grade', grade,
           'total_score', total_score, 'fit_score', fit_score, 'engagement_score', engagement_score,
           'model', model_name, 'handed_off_at', handed_off_at)::text))
    FROM recorded$q$
  INTO handed USING lead_ids, cause;
  RETURN handed;
END
$$;
COMMENT ON FUNCTION lead_scoring.hand_off(bigint[], text) IS
  'Records and notifies a handoff for each given lead (all if null) that has become sales-ready; returns how many';

CREATE TABLE lead_scoring.grade_changes (
  change_id  bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  changed_at timestamptz NOT NULL DEFAULT now(),
  changed_by name NOT NULL DEFAULT current_user,
  operation  text NOT NULL,
  grade      text NOT NULL,
  old_values jsonb,
  new_values jsonb
);
COMMENT ON TABLE lead_scoring.grade_changes IS 'History of the grade thresholds: every insert, update and delete of lead_scoring.grades';
COMMENT ON COLUMN lead_scoring.grade_changes.change_id IS 'Change identifier';
COMMENT ON COLUMN lead_scoring.grade_changes.changed_at IS 'When';
COMMENT ON COLUMN lead_scoring.grade_changes.changed_by IS 'Who';
COMMENT ON COLUMN lead_scoring.grade_changes.operation IS 'INSERT, UPDATE or DELETE';
COMMENT ON COLUMN lead_scoring.grade_changes.grade IS 'Grade concerned';
COMMENT ON COLUMN lead_scoring.grade_changes.old_values IS 'The grade row before (empty for an insert)';
COMMENT ON COLUMN lead_scoring.grade_changes.new_values IS 'The grade row after (empty for a delete)';

CREATE FUNCTION lead_scoring.record_grade_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  IF lead_scoring.loading_dump() THEN
    RETURN NULL;  -- restoring a dump: data as dumped; rescore() follows
  END IF;
  INSERT INTO lead_scoring.grade_changes (operation, grade, old_values, new_values)
  VALUES (TG_OP, CASE WHEN TG_OP = 'DELETE' THEN OLD.grade ELSE NEW.grade END,
          CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
          CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END);
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.record_grade_change() IS 'Trigger (after each change of a grade): keeps its history';
CREATE TRIGGER record_grade_change AFTER INSERT OR UPDATE OR DELETE ON lead_scoring.grades
  FOR EACH ROW EXECUTE FUNCTION lead_scoring.record_grade_change();

CREATE FUNCTION lead_scoring.hand_off_after_threshold_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  IF lead_scoring.loading_dump() THEN
    RETURN NULL;  -- restoring a dump: data as dumped; rescore() follows
  END IF;
  PERFORM lead_scoring.hand_off(NULL, 'thresholds');
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.hand_off_after_threshold_change() IS
  'Trigger (after a change of the grades, per statement): hands off the leads the new thresholds make sales-ready';
CREATE TRIGGER hand_off_after_threshold_change AFTER INSERT OR UPDATE OR DELETE ON lead_scoring.grades
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.hand_off_after_threshold_change();
-- Outcomes: what became of the leads sales worked, what helped the buyer
-- choose, and the decision each outcome is judged at.

CREATE TABLE lead_scoring.outcomes (
  lead_id     bigint PRIMARY KEY,
  outcome     text NOT NULL CHECK (outcome IN ('won', 'lost', 'disqualified')),
  amount      numeric CHECK (amount >= 0),
  closed_at   timestamptz NOT NULL DEFAULT now(),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  notes       text,
  helped_by   text
);
COMMENT ON TABLE lead_scoring.outcomes IS 'What became of a lead sales worked: won, lost or disqualified';
COMMENT ON COLUMN lead_scoring.outcomes.lead_id IS 'Lead';
COMMENT ON COLUMN lead_scoring.outcomes.outcome IS 'won, lost or disqualified';
COMMENT ON COLUMN lead_scoring.outcomes.amount IS 'Revenue, for a win';
COMMENT ON COLUMN lead_scoring.outcomes.closed_at IS 'When the deal closed';
COMMENT ON COLUMN lead_scoring.outcomes.recorded_at IS 'When the outcome was recorded';
COMMENT ON COLUMN lead_scoring.outcomes.notes IS 'Anything sales wants to add';
COMMENT ON COLUMN lead_scoring.outcomes.helped_by IS
  'The buyer''s answer to "what one thing helped you choose us?": an activity type (e.g. webinar) or an asset (e.g. pricing)';

CREATE FUNCTION lead_scoring.record_outcome(lead_id bigint, outcome text, amount numeric DEFAULT NULL,
                                            closed_at timestamptz DEFAULT now(), helped_by text DEFAULT NULL,
                                            notes text DEFAULT NULL)
RETURNS lead_scoring.outcomes
LANGUAGE sql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  INSERT INTO lead_scoring.outcomes AS o (lead_id, outcome, amount, closed_at, helped_by, notes)
  VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (lead_id) DO UPDATE
     SET outcome = excluded.outcome, amount = excluded.amount, closed_at = excluded.closed_at,
         helped_by = excluded.helped_by, notes = excluded.notes, recorded_at = now()
  RETURNING o.*
$$;
COMMENT ON FUNCTION lead_scoring.record_outcome(bigint, text, numeric, timestamptz, text, text) IS
  'Records (or corrects) a lead''s outcome: won, lost or disqualified, with amount, close date, and what helped the buyer choose';

-- The moment sales took a lead (its first handoff or claim), or its close if
-- neither happened: what scoring knew then is what an outcome is judged on.
CREATE VIEW lead_scoring.lead_decisions AS
WITH first_handoff AS (
  SELECT DISTINCT ON (lead_id) lead_id, handed_off_at, grade, total_score, model_id, model_name
    FROM lead_scoring.handoffs ORDER BY lead_id, handed_off_at, handoff_id),
first_claim AS (
  SELECT DISTINCT ON (lead_id) lead_id, claimed_at, grade, total_score, cherry_pick, model_id, model_name
    FROM lead_scoring.claims ORDER BY lead_id, claimed_at, claim_id),
taken AS (
  SELECT lead_id FROM first_handoff UNION SELECT lead_id FROM first_claim
  UNION SELECT lead_id FROM lead_scoring.outcomes)
SELECT t.lead_id,
       CASE WHEN e.by_claim THEN 'claimed' WHEN e.by_handoff THEN 'handed off' ELSE 'closed' END AS taken_by,
       e.decided_at,
       coalesce(CASE WHEN e.by_claim THEN c.grade END, CASE WHEN e.by_handoff THEN h.grade END) AS grade,
       coalesce(CASE WHEN e.by_claim THEN c.total_score END, CASE WHEN e.by_handoff THEN h.total_score END) AS total_score,
       coalesce(e.by_claim AND c.cherry_pick, false) AS cherry_picked,
       coalesce(CASE WHEN e.by_claim THEN c.model_name END, CASE WHEN e.by_handoff THEN h.model_name END) AS model,
       o.outcome, o.amount, o.closed_at, o.helped_by
  FROM taken t
  LEFT JOIN first_handoff h USING (lead_id)
  LEFT JOIN first_claim c USING (lead_id)
  LEFT JOIN lead_scoring.outcomes o USING (lead_id)
 CROSS JOIN LATERAL (SELECT least(h.handed_off_at, c.claimed_at, o.closed_at) AS decided_at) d
 CROSS JOIN LATERAL (SELECT d.decided_at,
                            d.decided_at = c.claimed_at AND c.claimed_at < coalesce(h.handed_off_at, 'infinity') AS by_claim,
                            d.decided_at = h.handed_off_at AND NOT coalesce(c.claimed_at < h.handed_off_at, false) AS by_handoff) e;
COMMENT ON VIEW lead_scoring.lead_decisions IS
  'Each lead sales took (handed off or claimed) or closed: when, with what grade and score under which model, and the outcome so far. Activity after decided_at is not used to judge the model';
COMMENT ON COLUMN lead_scoring.lead_decisions.lead_id IS 'Lead';
COMMENT ON COLUMN lead_scoring.lead_decisions.taken_by IS 'How sales got it first: handed off (scoring said sales-ready), claimed (a rep took it first), or closed (an outcome with neither)';
COMMENT ON COLUMN lead_scoring.lead_decisions.decided_at IS 'Earliest of first handoff, first claim and close: the decision time';
COMMENT ON COLUMN lead_scoring.lead_decisions.grade IS 'Grade then (not today''s); empty if only closed';
COMMENT ON COLUMN lead_scoring.lead_decisions.total_score IS 'Total score then';
COMMENT ON COLUMN lead_scoring.lead_decisions.cherry_picked IS 'A rep claimed it below the sales-ready grade before any handoff';
COMMENT ON COLUMN lead_scoring.lead_decisions.model IS 'Model in force then';
COMMENT ON COLUMN lead_scoring.lead_decisions.outcome IS 'won, lost, disqualified, or empty while open';
COMMENT ON COLUMN lead_scoring.lead_decisions.amount IS 'Revenue, for a win';
COMMENT ON COLUMN lead_scoring.lead_decisions.closed_at IS 'When the deal closed';
COMMENT ON COLUMN lead_scoring.lead_decisions.helped_by IS 'What the buyer said helped them choose';
-- Views for sales and marketing: the queue, cherry-pick and handoff rates,
-- scoring health.

CREATE VIEW lead_scoring.sales_queue AS
SELECT g.lead_id, g.email, g.company, g.grade, g.sales_ready,
       g.fit_score, g.engagement_score, g.total_score,
       r.top_reasons, c.rep AS claimed_by, c.claimed_at, g.last_activity_at
  FROM lead_scoring.lead_grades g
  LEFT JOIN LATERAL (
    SELECT string_agg(format('%s (%s)', b.rule, round(b.points::numeric, 1)), ', ' ORDER BY b.points DESC) AS top_reasons
      FROM (SELECT rule, points FROM lead_scoring.score_breakdown sb
             WHERE sb.lead_id = g.lead_id AND sb.points > 0
             ORDER BY sb.points DESC LIMIT 3) b) r ON true
  LEFT JOIN LATERAL (
    SELECT cl.rep, cl.claimed_at FROM lead_scoring.claims cl
     WHERE cl.lead_id = g.lead_id ORDER BY cl.claimed_at DESC, cl.claim_id DESC LIMIT 1) c ON true
 WHERE NOT g.suppressed
 ORDER BY g.total_score DESC, g.lead_id;
COMMENT ON VIEW lead_scoring.sales_queue IS 'Every lead that is not suppressed, best first, with why and who claimed it; filter by grade or sales_ready to taste';
COMMENT ON COLUMN lead_scoring.sales_queue.lead_id IS 'Lead';
COMMENT ON COLUMN lead_scoring.sales_queue.email IS 'Email';
COMMENT ON COLUMN lead_scoring.sales_queue.company IS 'Company';
COMMENT ON COLUMN lead_scoring.sales_queue.grade IS 'Grade now';
COMMENT ON COLUMN lead_scoring.sales_queue.sales_ready IS 'Whether the grade is sales-ready (claiming one that is not is a cherry-pick)';
COMMENT ON COLUMN lead_scoring.sales_queue.fit_score IS 'Fit score now';
COMMENT ON COLUMN lead_scoring.sales_queue.engagement_score IS 'Engagement score now';
COMMENT ON COLUMN lead_scoring.sales_queue.total_score IS 'Total score now';
COMMENT ON COLUMN lead_scoring.sales_queue.top_reasons IS 'The three rules that bring the most points';
COMMENT ON COLUMN lead_scoring.sales_queue.claimed_by IS 'Rep with the latest claim (empty: unclaimed)';
COMMENT ON COLUMN lead_scoring.sales_queue.claimed_at IS 'When claimed';
COMMENT ON COLUMN lead_scoring.sales_queue.last_activity_at IS 'Latest scored activity';

CREATE VIEW lead_scoring.cherry_pick_rates AS
WITH attempts AS (
  SELECT rep, claimed_at AS at, cherry_pick, false AS denied FROM lead_scoring.claims
  UNION ALL
  SELECT rep, attempted_at, true, true FROM lead_scoring.cherry_picks WHERE outcome = 'denied')
SELECT rep, date_trunc('week', at) AS week,
       count(*) FILTER (WHERE NOT denied) AS claims,
       count(*) FILTER (WHERE cherry_pick) AS cherry_picks,
       count(*) FILTER (WHERE denied) AS denied,
       round(count(*) FILTER (WHERE cherry_pick)::numeric / count(*), 4) AS cherry_pick_share
  FROM attempts
 GROUP BY rep, date_trunc('week', at);
COMMENT ON VIEW lead_scoring.cherry_pick_rates IS 'Per rep and week: claims, cherry-picks (claims or attempts below the sales-ready grade) and their share';
COMMENT ON COLUMN lead_scoring.cherry_pick_rates.rep IS 'Sales rep';
COMMENT ON COLUMN lead_scoring.cherry_pick_rates.week IS 'Week (starting Monday)';
COMMENT ON COLUMN lead_scoring.cherry_pick_rates.claims IS 'Claims made';
COMMENT ON COLUMN lead_scoring.cherry_pick_rates.cherry_picks IS 'Cherry-picks, denied attempts included';
COMMENT ON COLUMN lead_scoring.cherry_pick_rates.denied IS 'Cherry-picks refused by the deny policy';
COMMENT ON COLUMN lead_scoring.cherry_pick_rates.cherry_pick_share IS 'cherry_picks / (claims + denied), 0 to 1';

CREATE VIEW lead_scoring.handoff_rates AS
SELECT date_trunc('week', handed_off_at) AS week, cause,
       count(*) AS handoffs, count(DISTINCT lead_id) AS leads,
       round(avg(total_score)::numeric, 1) AS average_score
  FROM lead_scoring.handoffs
 GROUP BY date_trunc('week', handed_off_at), cause;
COMMENT ON VIEW lead_scoring.handoff_rates IS 'Leads handed to sales per week and cause: how much marketing delivers, and what made the leads sales-ready';
COMMENT ON COLUMN lead_scoring.handoff_rates.week IS 'Week (starting Monday)';
COMMENT ON COLUMN lead_scoring.handoff_rates.cause IS 'What made the leads sales-ready: activity, fit, thresholds, model, rescore or restored';
COMMENT ON COLUMN lead_scoring.handoff_rates.handoffs IS 'Handoffs';
COMMENT ON COLUMN lead_scoring.handoff_rates.leads IS 'Distinct leads handed off';
COMMENT ON COLUMN lead_scoring.handoff_rates.average_score IS 'Their average total score when handed off';

CREATE VIEW lead_scoring.scoring_health AS
WITH first_claims AS (
  SELECT DISTINCT ON (lead_id) lead_id, cherry_pick FROM lead_scoring.claims ORDER BY lead_id, claimed_at, claim_id),
closed AS (
  SELECT c.cherry_pick, o.outcome FROM first_claims c JOIN lead_scoring.outcomes o USING (lead_id)),
rates AS (
  SELECT count(*) FILTER (WHERE NOT cherry_pick) AS ready_closed,
         count(*) FILTER (WHERE NOT cherry_pick AND outcome = 'won') AS ready_won,
         count(*) FILTER (WHERE cherry_pick) AS cherry_closed,
         count(*) FILTER (WHERE cherry_pick AND outcome = 'won') AS cherry_won
    FROM closed)
SELECT ready_closed AS sales_ready_closed,
       round(ready_won::numeric / nullif(ready_closed, 0), 4) AS sales_ready_win_rate,
       cherry_closed AS cherry_picked_closed,
       round(cherry_won::numeric / nullif(cherry_closed, 0), 4) AS cherry_picked_win_rate,
       CASE WHEN ready_closed = 0 OR cherry_closed = 0
              THEN 'not enough closed claims yet to compare sales-ready and cherry-picked leads'
            WHEN cherry_won::numeric / cherry_closed >= ready_won::numeric / ready_closed
              THEN format('cherry-picked leads convert at least as well as sales-ready ones (%s%% vs %s%%): the scoring model needs refinement',
                          round(100.0 * cherry_won / cherry_closed, 1), round(100.0 * ready_won / ready_closed, 1))
            ELSE format('sales-ready leads convert better than cherry-picked ones (%s%% vs %s%%): the model separates buyers',
                        round(100.0 * ready_won / ready_closed, 1), round(100.0 * cherry_won / cherry_closed, 1))
       END AS verdict
  FROM rates;
COMMENT ON VIEW lead_scoring.scoring_health IS 'Do cherry-picked leads convert as well as sales-ready ones? If so, the model needs refinement. From each lead''s first claim and its recorded outcome';
COMMENT ON COLUMN lead_scoring.scoring_health.sales_ready_closed IS 'Leads claimed when sales-ready that have an outcome';
COMMENT ON COLUMN lead_scoring.scoring_health.sales_ready_win_rate IS 'Share of them won';
COMMENT ON COLUMN lead_scoring.scoring_health.cherry_picked_closed IS 'Leads cherry-picked that have an outcome';
COMMENT ON COLUMN lead_scoring.scoring_health.cherry_picked_win_rate IS 'Share of them won';
COMMENT ON COLUMN lead_scoring.scoring_health.verdict IS 'What it means, in words';
-- Model versions: draft, active, retired; copies to edit; going back.

CREATE FUNCTION lead_scoring.stamp_model_status() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  IF lead_scoring.loading_dump() THEN
    RETURN NEW;  -- restoring a dump: the row as dumped
  END IF;
  IF NEW.is_active AND NOT coalesce(OLD.is_active, false) THEN
    NEW.activated_at := now();
    NEW.retired_at := NULL;
  ELSIF OLD.is_active AND NOT NEW.is_active THEN
    NEW.retired_at := now();
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lead_scoring.stamp_model_status() IS
  'Trigger (before insert or update on models): records when a model became active and when it was retired';
CREATE TRIGGER stamp_model_status BEFORE INSERT OR UPDATE OF is_active ON lead_scoring.models
  FOR EACH ROW EXECUTE FUNCTION lead_scoring.stamp_model_status();

CREATE FUNCTION lead_scoring.copy_model(source_name text, new_name text, description text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  source_id integer;
  new_id integer;
BEGIN
  SELECT model_id INTO source_id FROM lead_scoring.models WHERE name = source_name;
  IF source_id IS NULL THEN
    RAISE EXCEPTION 'scoring model "%" does not exist', source_name USING ERRCODE = 'undefined_object';
  END IF;
  INSERT INTO lead_scoring.models (name, description, based_on)
  VALUES (new_name, coalesce(copy_model.description, format('Copy of %s', source_name)), source_id)
  RETURNING model_id INTO new_id;
  INSERT INTO lead_scoring.components (model_id, component, dimension, max_points, description)
  SELECT new_id, component, dimension, max_points, c.description
    FROM lead_scoring.components c WHERE model_id = source_id;
  INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, properties, points,
                                           half_life, max_points, description)
  SELECT new_id, component, activity_type, properties, points, half_life, max_points, r.description
    FROM lead_scoring.activity_rules r WHERE model_id = source_id ORDER BY rule_id;
  INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, value, pattern,
                                      min_value, max_value, points, description)
  SELECT new_id, component, attribute, test, value, pattern, min_value, max_value, points, r.description
    FROM lead_scoring.fit_rules r WHERE model_id = source_id ORDER BY rule_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION lead_scoring.copy_model(text, text, text) IS
  'Copies a model, its components and rules into a new draft to edit safely, and returns the new model_id; activate it with activate_model(new_name)';

CREATE FUNCTION lead_scoring.reactivate_previous_model(
  OUT model_name text, OUT leads_rescored bigint, OUT leads_changed_grade bigint,
  OUT leads_now_sales_ready bigint, OUT leads_no_longer_sales_ready bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  SELECT name INTO model_name FROM lead_scoring.models
   WHERE status = 'retired' ORDER BY retired_at DESC, model_id DESC LIMIT 1;
  IF model_name IS NULL THEN
    RAISE EXCEPTION 'no model was active before this one'
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  SELECT * INTO leads_rescored, leads_changed_grade, leads_now_sales_ready, leads_no_longer_sales_ready
    FROM lead_scoring.activate_model(model_name);
END
$$;
COMMENT ON FUNCTION lead_scoring.reactivate_previous_model() IS
  'Goes back: activates the model retired most recently and rescores every lead, in one transaction';

CREATE VIEW lead_scoring.model_versions AS
SELECT m.model_id, m.name, m.status, b.name AS based_on, m.created_at, m.activated_at, m.retired_at,
       (SELECT count(*) FROM lead_scoring.activity_rules r WHERE r.model_id = m.model_id) AS activity_rules,
       (SELECT count(*) FROM lead_scoring.fit_rules r WHERE r.model_id = m.model_id) AS fit_rules,
       (SELECT count(*) FROM lead_scoring.handoffs h WHERE h.model_id = m.model_id) AS handoffs,
       (SELECT count(*) FROM lead_scoring.claims c WHERE c.model_id = m.model_id) AS claims,
       m.description
  FROM lead_scoring.models m
  LEFT JOIN lead_scoring.models b ON b.model_id = m.based_on
 ORDER BY m.model_id;
COMMENT ON VIEW lead_scoring.model_versions IS 'Every model version: draft, active or retired, what it came from, and the handoffs and claims made under it';
COMMENT ON COLUMN lead_scoring.model_versions.model_id IS 'Model identifier (the version number: claims and handoffs record it)';
COMMENT ON COLUMN lead_scoring.model_versions.name IS 'Model name';
COMMENT ON COLUMN lead_scoring.model_versions.status IS 'draft, active or retired';
COMMENT ON COLUMN lead_scoring.model_versions.based_on IS 'Name of the model it was copied or trained from';
COMMENT ON COLUMN lead_scoring.model_versions.created_at IS 'When created';
COMMENT ON COLUMN lead_scoring.model_versions.activated_at IS 'When it last became active';
COMMENT ON COLUMN lead_scoring.model_versions.retired_at IS 'When it was last retired';
COMMENT ON COLUMN lead_scoring.model_versions.activity_rules IS 'Its engagement rules';
COMMENT ON COLUMN lead_scoring.model_versions.fit_rules IS 'Its fit rules';
COMMENT ON COLUMN lead_scoring.model_versions.handoffs IS 'Handoffs made while it was active';
COMMENT ON COLUMN lead_scoring.model_versions.claims IS 'Claims made while it was active';
COMMENT ON COLUMN lead_scoring.model_versions.description IS 'Description';
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
                                       ELSE 'handed off' END
             ELSE format('%s to %s', floor(d.total_score / band_width) * band_width,
                         (floor(d.total_score / band_width) + 1) * band_width) END AS label,
           CASE dimension
             WHEN 'grade' THEN (SELECT g.rank FROM lead_scoring.grades g WHERE g.grade = d.grade)
             WHEN 'taken as' THEN CASE WHEN d.cherry_picked THEN 3 WHEN d.taken_by = 'claimed' THEN 2 ELSE 1 END
             ELSE floor(d.total_score / band_width) END AS sort_key
      FROM lead_scoring.lead_decisions d
     WHERE d.taken_by <> 'closed'),
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
  'Leads sales took, their outcomes, win rate with a 95% interval, and revenue, tallied by the grade they had when taken, by how they were taken (handed off, claimed when sales-ready, cherry-picked), or by score band of band_width points';

CREATE VIEW lead_scoring.conversion_by_grade AS
SELECT label AS grade, leads, won, lost, disqualified, open, win_rate, win_rate_low, win_rate_high,
       revenue, revenue_per_closed_lead
  FROM lead_scoring.conversion_by('grade');
COMMENT ON VIEW lead_scoring.conversion_by_grade IS
  'Conversion and revenue by the grade leads had when sales took them (first handoff or claim), not their grade today: a sound model wins more in its better grades';
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
-- Learning from outcomes: logistic regression in C, and draft models whose points follow it.

CREATE FUNCTION lead_scoring.model_features(state lead_scoring.engagement_state, model jsonb,
                                            attributes jsonb, as_of timestamptz)
RETURNS double precision[] AS 'MODULE_PATHNAME', 'lead_scoring_model_features'
  LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.model_features(lead_scoring.engagement_state, jsonb, jsonb, timestamptz) IS
  'What training learns from: per activity rule its decayed activity count at as_of (before points and caps), then per fit rule 1 if the attributes pass it, else 0; each in rule_id order. Null state or attributes count as nothing';

CREATE TYPE lead_scoring.logistic_fit AS (
  leads bigint,
  wins bigint,
  intercept double precision,
  intercept_standard_error double precision,
  coefficients double precision[],
  standard_errors double precision[],
  auc double precision,
  log_loss double precision,
  iterations integer,
  converged boolean
);
COMMENT ON TYPE lead_scoring.logistic_fit IS
  'A fitted logistic regression: log-odds of winning = intercept + sum(coefficients[i] * feature[i])';

CREATE FUNCTION lead_scoring.logistic_regression(won boolean[], features double precision[], l2 double precision)
RETURNS lead_scoring.logistic_fit AS 'MODULE_PATHNAME', 'lead_scoring_logistic_regression'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.logistic_regression(boolean[], double precision[], double precision) IS
  'Fits P(won) = 1 / (1 + exp(-(intercept + features . coefficients))) by Newton''s method, with an l2 penalty on the standardised coefficients (the intercept is not penalised); features is one row per lead. Reports standard errors, in-sample AUC and mean log-loss';

CREATE FUNCTION lead_scoring.roc_auc(scores double precision[], won boolean[])
RETURNS double precision AS 'MODULE_PATHNAME', 'lead_scoring_roc_auc'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.roc_auc(double precision[], boolean[]) IS
  'Area under the ROC curve: the chance a random won lead scores above a random not-won one (ties count half); empty if either kind is missing';

-- Each lead with an outcome, seen as a model saw it at the decision: its
-- engagement from activities strictly before decided_at, and its attributes.
CREATE FUNCTION lead_scoring.states_at_decision(definition jsonb)
RETURNS TABLE (lead_id bigint, decided_at timestamptz, won boolean, amount numeric,
               engagement lead_scoring.engagement_state, attributes jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  RETURN QUERY EXECUTE format($q$
    WITH decided AS (
      SELECT d.lead_id, d.decided_at, d.outcome = 'won' AS won, d.amount
        FROM lead_scoring.lead_decisions d WHERE d.outcome IS NOT NULL),
    states AS (
      SELECT a.lead_id, lead_scoring.score_activities($1, a.activity_type, a.occurred_at, a.properties) AS engagement
        FROM (%s) a JOIN decided d ON d.lead_id = a.lead_id AND a.occurred_at < d.decided_at
       GROUP BY a.lead_id)
    SELECT d.lead_id, d.decided_at, d.won, d.amount, s.engagement,
           lead_scoring.fit_attributes(l.email, l.first_name, l.last_name, l.company, l.attributes)
      FROM decided d
      LEFT JOIN states s USING (lead_id)
      LEFT JOIN lead_scoring.leads l USING (lead_id)
     ORDER BY d.lead_id$q$, lead_scoring.activity_sources_sql())
  USING definition;
END
$$;
COMMENT ON FUNCTION lead_scoring.states_at_decision(jsonb) IS
  'Each lead with an outcome as a model definition saw it when sales took it: engagement from activities strictly before decided_at (no later activity leaks in), and fit attributes';

CREATE TABLE lead_scoring.training_runs (
  run_id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  trained_at      timestamptz NOT NULL DEFAULT now(),
  trained_by      name NOT NULL DEFAULT current_user,
  base_model_id   integer REFERENCES lead_scoring.models ON DELETE SET NULL,
  draft_model_id  integer REFERENCES lead_scoring.models ON DELETE SET NULL,
  leads           bigint NOT NULL,
  wins            bigint NOT NULL,
  l2              double precision NOT NULL,
  points_to_double_odds double precision NOT NULL,
  intercept       double precision NOT NULL,
  intercept_standard_error double precision,
  auc             double precision,
  log_loss        double precision NOT NULL,
  iterations      integer NOT NULL,
  converged       boolean NOT NULL
);
COMMENT ON TABLE lead_scoring.training_runs IS 'Each training of a draft model on outcomes (lead_scoring.train_model), with its fit';
COMMENT ON COLUMN lead_scoring.training_runs.run_id IS 'Training run identifier';
COMMENT ON COLUMN lead_scoring.training_runs.trained_at IS 'When';
COMMENT ON COLUMN lead_scoring.training_runs.trained_by IS 'Who';
COMMENT ON COLUMN lead_scoring.training_runs.base_model_id IS 'Model whose rules gave the features';
COMMENT ON COLUMN lead_scoring.training_runs.draft_model_id IS 'Draft model written with the learnt points';
COMMENT ON COLUMN lead_scoring.training_runs.leads IS 'Leads with an outcome trained on';
COMMENT ON COLUMN lead_scoring.training_runs.wins IS 'Of them, won';
COMMENT ON COLUMN lead_scoring.training_runs.l2 IS 'Penalty on the standardised coefficients (larger: smaller, safer points)';
COMMENT ON COLUMN lead_scoring.training_runs.points_to_double_odds IS 'Scaling: this many points double the odds of winning';
COMMENT ON COLUMN lead_scoring.training_runs.intercept IS 'Log-odds of winning for a lead with no points';
COMMENT ON COLUMN lead_scoring.training_runs.intercept_standard_error IS 'Its standard error';
COMMENT ON COLUMN lead_scoring.training_runs.auc IS 'Area under the ROC curve on the training leads (0.5: no better than chance; 1: perfect)';
COMMENT ON COLUMN lead_scoring.training_runs.log_loss IS 'Mean log-loss on the training leads (lower is better; 0.693 is a coin toss)';
COMMENT ON COLUMN lead_scoring.training_runs.iterations IS 'Newton iterations';
COMMENT ON COLUMN lead_scoring.training_runs.converged IS 'Whether the fit converged';

CREATE TABLE lead_scoring.training_coefficients (
  run_id          bigint NOT NULL REFERENCES lead_scoring.training_runs ON DELETE CASCADE,
  dimension       lead_scoring.score_dimension NOT NULL,
  base_rule_id    integer NOT NULL,
  draft_rule_id   integer,
  feature         text NOT NULL,
  coefficient     double precision NOT NULL,
  standard_error  double precision,
  odds_ratio      double precision NOT NULL,
  odds_ratio_low  double precision,
  odds_ratio_high double precision,
  points          double precision NOT NULL,
  PRIMARY KEY (run_id, dimension, base_rule_id)
);
COMMENT ON TABLE lead_scoring.training_coefficients IS 'What each rule''s feature was learnt to be worth in a training run, and the points the draft gives it';
COMMENT ON COLUMN lead_scoring.training_coefficients.run_id IS 'Training run';
COMMENT ON COLUMN lead_scoring.training_coefficients.dimension IS 'fit (the rule passed: 1 or 0) or engagement (decayed activity count)';
COMMENT ON COLUMN lead_scoring.training_coefficients.base_rule_id IS 'Rule of the base model';
COMMENT ON COLUMN lead_scoring.training_coefficients.draft_rule_id IS 'The same rule in the draft model';
COMMENT ON COLUMN lead_scoring.training_coefficients.feature IS 'The rule''s description, or what it tests';
COMMENT ON COLUMN lead_scoring.training_coefficients.coefficient IS 'Change in log-odds of winning per unit of the feature';
COMMENT ON COLUMN lead_scoring.training_coefficients.standard_error IS 'Its standard error; empty if no lead differed on the feature (the draft gives the rule 0 points)';
COMMENT ON COLUMN lead_scoring.training_coefficients.odds_ratio IS 'exp(coefficient): how the odds of winning multiply per unit';
COMMENT ON COLUMN lead_scoring.training_coefficients.odds_ratio_low IS 'Lower end of its 95% confidence interval';
COMMENT ON COLUMN lead_scoring.training_coefficients.odds_ratio_high IS 'Upper end of its 95% confidence interval';
COMMENT ON COLUMN lead_scoring.training_coefficients.points IS 'Points per unit in the draft: coefficient * points_to_double_odds / ln 2, rounded to 0.1';

CREATE FUNCTION lead_scoring.train_model(draft_name text, base_model text DEFAULT NULL,
                                         l2 double precision DEFAULT 1,
                                         points_to_double_odds double precision DEFAULT 20)
RETURNS lead_scoring.training_runs
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  base lead_scoring.models;
  fit lead_scoring.logistic_fit;
  run lead_scoring.training_runs;
  draft_id integer;
  scale double precision;
BEGIN
  IF NOT (points_to_double_odds > 0 AND points_to_double_odds < 'infinity') THEN
    RAISE EXCEPTION 'points_to_double_odds must be a positive number, not %', points_to_double_odds
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT * INTO base FROM lead_scoring.models m
   WHERE CASE WHEN base_model IS NULL THEN m.is_active ELSE m.name = base_model END;
  IF base.model_id IS NULL THEN
    RAISE EXCEPTION 'scoring model "%" does not exist', coalesce(base_model, '(active)')
      USING ERRCODE = 'undefined_object';
  END IF;
  IF jsonb_array_length(base.definition->'activity_rules') + jsonb_array_length(base.definition->'fit_rules') = 0 THEN
    RAISE EXCEPTION 'model "%" has no rules to learn points for', base.name
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;

  -- (x.f).* expands a column: the fit runs once, not once per field
  SELECT (x.f).* INTO fit
    FROM (SELECT lead_scoring.logistic_regression(array_agg(s.won ORDER BY s.lead_id),
                   array_agg(lead_scoring.model_features(s.engagement, base.definition, s.attributes, s.decided_at)
                             ORDER BY s.lead_id), l2) AS f
            FROM lead_scoring.states_at_decision(base.definition) s) x;
  IF fit.leads IS NULL THEN
    RAISE EXCEPTION 'no lead has an outcome to learn from'
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = 'Record won, lost and disqualified leads with lead_scoring.record_outcome().';
  END IF;

  draft_id := lead_scoring.copy_model(base.name, draft_name,
    format('Trained on %s leads (%s won) from %s, l2 %s; %s points double the odds of winning',
           fit.leads, fit.wins, base.name, l2, points_to_double_odds));
  scale := points_to_double_odds / ln(2);

  INSERT INTO lead_scoring.training_runs (base_model_id, draft_model_id, leads, wins, l2, points_to_double_odds,
                                          intercept, intercept_standard_error, auc, log_loss, iterations, converged)
  VALUES (base.model_id, draft_id, fit.leads, fit.wins, l2, points_to_double_odds, fit.intercept,
          fit.intercept_standard_error, fit.auc, fit.log_loss, fit.iterations, fit.converged)
  RETURNING * INTO run;

  -- features come in rule_id order, activity rules first; copies keep that order
  INSERT INTO lead_scoring.training_coefficients
  SELECT run.run_id, f.dimension, f.base_rule_id, f.draft_rule_id, f.feature,
         fit.coefficients[f.i], fit.standard_errors[f.i], exp(fit.coefficients[f.i]),
         exp(fit.coefficients[f.i] - 1.959963984540054 * fit.standard_errors[f.i]),
         exp(fit.coefficients[f.i] + 1.959963984540054 * fit.standard_errors[f.i]),
         round((fit.coefficients[f.i] * scale)::numeric, 1)
    FROM (SELECT row_number() OVER (ORDER BY x.dimension DESC, x.base_rule_id) AS i, x.*
            FROM (SELECT 'engagement'::lead_scoring.score_dimension AS dimension, b.rule_id AS base_rule_id,
                         d.rule_id AS draft_rule_id,
                         coalesce(b.description, b.activity_type || coalesce(' ' || b.properties::text, '')) AS feature
                    FROM (SELECT r.*, row_number() OVER (ORDER BY r.rule_id) AS k
                            FROM lead_scoring.activity_rules r WHERE r.model_id = base.model_id) b
                    JOIN (SELECT r.rule_id, row_number() OVER (ORDER BY r.rule_id) AS k
                            FROM lead_scoring.activity_rules r WHERE r.model_id = draft_id) d USING (k)
                  UNION ALL
                  SELECT 'fit', b.rule_id, d.rule_id,
                         coalesce(b.description, b.attribute || ' ' || b.test || coalesce(' ' || b.value::text, '')
                                  || coalesce(' ' || b.pattern, ''))
                    FROM (SELECT r.*, row_number() OVER (ORDER BY r.rule_id) AS k
                            FROM lead_scoring.fit_rules r WHERE r.model_id = base.model_id) b
                    JOIN (SELECT r.rule_id, row_number() OVER (ORDER BY r.rule_id) AS k
                            FROM lead_scoring.fit_rules r WHERE r.model_id = draft_id) d USING (k)) x) f;

  UPDATE lead_scoring.activity_rules r SET points = c.points
    FROM lead_scoring.training_coefficients c
   WHERE c.run_id = run.run_id AND c.dimension = 'engagement' AND r.rule_id = c.draft_rule_id;
  UPDATE lead_scoring.fit_rules r SET points = c.points
    FROM lead_scoring.training_coefficients c
   WHERE c.run_id = run.run_id AND c.dimension = 'fit' AND r.rule_id = c.draft_rule_id;
  RETURN run;
END
$$;
COMMENT ON FUNCTION lead_scoring.train_model(text, text, double precision, double precision) IS
  'Learns each rule''s worth from won, lost and disqualified leads, using only what happened before sales took them, and writes a draft model draft_name with the base model''s rules, components and caps and points = coefficient * points_to_double_odds / ln 2. Backtest it, then activate it';
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
    at_end AS (
      SELECT x.lead_id, lead_scoring.score_activities($1, x.activity_type, x.occurred_at, x.properties) AS engagement
        FROM acts x GROUP BY x.lead_id),
    known AS (
      SELECT lead_id FROM at_end
      UNION SELECT l.lead_id FROM lead_scoring.leads l WHERE l.created_at < $6),
    end_grades AS (
      SELECT lead_scoring.grade_index(coalesce(lead_scoring.fit_score($1, t.attributes), 0)
               + coalesce(lead_scoring.engagement_score(e.engagement, $1, $6), 0), $3) AS g
        FROM known k LEFT JOIN at_end e USING (lead_id) LEFT JOIN attrs t USING (lead_id)),
    running AS (
      SELECT x.lead_id, x.occurred_at,
             lead_scoring.score_activities($1, x.activity_type, x.occurred_at, x.properties)
               OVER (PARTITION BY x.lead_id ORDER BY x.occurred_at ROWS UNBOUNDED PRECEDING) AS engagement
        FROM acts x WHERE x.lead_id IN (SELECT y.lead_id FROM acts y WHERE y.occurred_at >= $5)),
    reached AS (
      SELECT DISTINCT ON (r.lead_id) r.lead_id, g.g
        FROM running r LEFT JOIN attrs t USING (lead_id),
             LATERAL lead_scoring.grade_index(coalesce(lead_scoring.fit_score($1, t.attributes), 0)
               + coalesce(lead_scoring.engagement_score(r.engagement, $1, r.occurred_at), 0), $3) g(g)
       WHERE r.occurred_at >= $5 AND $4[g.g]
       ORDER BY r.lead_id, r.occurred_at),
    decisions AS (
      SELECT s.won, s.amount,
             coalesce(lead_scoring.fit_score($1, s.attributes), 0)
               + coalesce(lead_scoring.engagement_score(s.engagement, $1, s.decided_at), 0) AS score
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

CREATE FUNCTION lead_scoring.score_factors(lead_id bigint, as_of timestamptz DEFAULT now(),
                                           factors integer DEFAULT 3,
  OUT direction text, OUT rank integer, OUT points double precision, OUT factor text)
RETURNS SETOF record
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
  WITH parts AS (
    SELECT b.points, b.points_before_caps,
           format('%s: %s time%s, the latest %s', coalesce(r.description, r.activity_type),
                  b.activities, CASE WHEN b.activities = 1 THEN '' ELSE 's' END,
                  lead_scoring.time_ago(greatest($2 - b.latest_activity_at, interval '0'))) AS what
      FROM lead_scoring.lead_scores s
     CROSS JOIN lead_scoring.active_model m
     CROSS JOIN LATERAL lead_scoring.engagement_breakdown(s.engagement, m.definition, $2) b
      LEFT JOIN lead_scoring.activity_rules r ON r.rule_id = b.rule_id
     WHERE s.lead_id = $1
    UNION ALL
    SELECT b.points, b.points_before_caps,
           coalesce(r.description, format('%s %s', r.attribute, CASE r.test
             WHEN 'equals' THEN 'is ' || (r.value #>> '{}')
             WHEN 'in' THEN 'is one of ' || (SELECT string_agg(v #>> '{}', ', ') FROM jsonb_array_elements(r.value) v)
             WHEN 'matches' THEN 'matches ' || r.pattern
             WHEN 'present' THEN 'is given'
             ELSE 'is between ' || coalesce(r.min_value::text, 'any') || ' and ' || coalesce(r.max_value::text, 'any') END))
      FROM lead_scoring.leads l
     CROSS JOIN lead_scoring.active_model m
     CROSS JOIN LATERAL lead_scoring.fit_breakdown(m.definition,
             lead_scoring.fit_attributes(l.email, l.first_name, l.last_name, l.company, l.attributes)) b
      LEFT JOIN lead_scoring.fit_rules r ON r.rule_id = b.rule_id
     WHERE l.lead_id = $1),
  ranked AS (
    SELECT p.*, CASE WHEN p.points > 0 THEN 'raises' ELSE 'lowers' END AS direction,
           row_number() OVER (PARTITION BY p.points > 0 ORDER BY abs(p.points) DESC, p.what) AS rank
      FROM parts p WHERE p.points <> 0)
  SELECT r.direction, r.rank::integer, r.points,
         format('%s (%s%s points%s)', r.what, CASE WHEN r.points > 0 THEN '+' ELSE '' END,
                round(r.points::numeric, 1),
                CASE WHEN abs(r.points) < abs(r.points_before_caps) - 1e-9
                     THEN format(', capped from %s', round(r.points_before_caps::numeric, 1)) ELSE '' END)
    FROM ranked r
   WHERE r.rank <= $3
   ORDER BY r.direction DESC, r.rank
$$;
COMMENT ON FUNCTION lead_scoring.score_factors(bigint, timestamptz, integer) IS
  'The top factors (default 3) raising and lowering a lead''s score at as_of, in words for a sales rep, from the exact breakdown under the active model';
-- Roles: who may do what. The internal machinery that writes derived and audit
-- data runs as the extension's owner (SECURITY DEFINER, search_path pinned);
-- nobody else may call the parts of it that write.

REVOKE EXECUTE ON FUNCTION
  lead_scoring.recompute_engagement(bigint[]),
  lead_scoring.rescore_from(jsonb),
  lead_scoring.hand_off(bigint[], text),
  lead_scoring.find_bogus_leads(bigint[]),
  lead_scoring.find_activity_bursts(bigint[], timestamptz, timestamptz),
  lead_scoring.apply_opt_activities(jsonb),
  lead_scoring.unmatched_activities(),
  lead_scoring.activity_lift(),
  lead_scoring.states_at_decision(jsonb),
  lead_scoring.replay(jsonb, text[], double precision[], boolean[], timestamptz, timestamptz)
FROM PUBLIC;

CREATE FUNCTION lead_scoring.create_roles() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['lead_scoring_bi', 'lead_scoring_sales', 'lead_scoring_marketing', 'lead_scoring_admin'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;

  -- BI: the views, nothing else
  GRANT USAGE ON SCHEMA lead_scoring TO lead_scoring_bi;
  FOR r IN SELECT c.oid::regclass::text FROM pg_class c
            WHERE c.relnamespace = 'lead_scoring'::regnamespace AND c.relkind = 'v' LOOP
    EXECUTE format('GRANT SELECT ON %s TO lead_scoring_bi', r);
  END LOOP;
  GRANT EXECUTE ON FUNCTION lead_scoring.unmatched_activities(), lead_scoring.activity_lift() TO lead_scoring_bi;

  -- sales: BI, plus reading the data, claiming leads and recording outcomes
  GRANT lead_scoring_bi TO lead_scoring_sales;
  GRANT SELECT ON lead_scoring.leads, lead_scoring.activities, lead_scoring.lead_scores, lead_scoring.models,
                  lead_scoring.components, lead_scoring.activity_rules, lead_scoring.fit_rules, lead_scoring.grades,
                  lead_scoring.claims, lead_scoring.cherry_picks, lead_scoring.handoffs, lead_scoring.outcomes,
                  lead_scoring.suppressions, lead_scoring.grade_changes
     TO lead_scoring_sales;
  GRANT INSERT ON lead_scoring.claims TO lead_scoring_sales;
  GRANT INSERT, UPDATE ON lead_scoring.outcomes TO lead_scoring_sales;

  -- marketing operations: BI, plus the model, thresholds, settings, leads, activities and suppression
  GRANT lead_scoring_bi TO lead_scoring_marketing;
  GRANT SELECT ON ALL TABLES IN SCHEMA lead_scoring TO lead_scoring_marketing;
  GRANT INSERT, UPDATE, DELETE ON lead_scoring.models, lead_scoring.components, lead_scoring.activity_rules,
                                  lead_scoring.fit_rules, lead_scoring.grades, lead_scoring.leads,
                                  lead_scoring.activities, lead_scoring.bogus_patterns,
                                  lead_scoring.throwaway_domains, lead_scoring.outcomes
     TO lead_scoring_marketing;
  GRANT INSERT ON lead_scoring.training_runs, lead_scoring.training_coefficients TO lead_scoring_marketing;
  GRANT INSERT, UPDATE ON lead_scoring.suppressions, lead_scoring.setting_overrides TO lead_scoring_marketing;
  GRANT UPDATE ON lead_scoring.settings TO lead_scoring_marketing;
  GRANT EXECUTE ON FUNCTION lead_scoring.rescore_from(jsonb), lead_scoring.hand_off(bigint[], text),
                            lead_scoring.find_bogus_leads(bigint[]),
                            lead_scoring.find_activity_bursts(bigint[], timestamptz, timestamptz),
                            lead_scoring.states_at_decision(jsonb),
                            lead_scoring.replay(jsonb, text[], double precision[], boolean[], timestamptz, timestamptz)
     TO lead_scoring_marketing;

  -- administrators: everything marketing and sales do, plus which tables are tracked
  GRANT lead_scoring_marketing, lead_scoring_sales TO lead_scoring_admin;
  GRANT INSERT, UPDATE, DELETE ON lead_scoring.tracked_tables TO lead_scoring_admin;
  GRANT EXECUTE ON FUNCTION lead_scoring.recompute_engagement(bigint[]) TO lead_scoring_admin;
END
$$;
COMMENT ON FUNCTION lead_scoring.create_roles() IS
  'Creates (if missing) and grants the roles lead_scoring_bi (read the views), lead_scoring_sales (read, claim, record outcomes), lead_scoring_marketing (model, thresholds, settings, leads, activities, suppression) and lead_scoring_admin (all of those, and tracked tables). Grant them to login roles';
-- pg_dump keeps configuration and user data; lead_scores is derived (run rescore() after a restore).
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.models', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.components', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.activity_rules', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.fit_rules', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.grades', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.leads', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.activities', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.setting_overrides', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.bogus_patterns', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.throwaway_domains', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.suppressions', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.claims', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.cherry_picks', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.handoffs', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.grade_changes', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.outcomes', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.training_runs', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.training_coefficients', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.tracked_tables',
  'WHERE activity_table <> ''lead_scoring.activities''::regclass');
-- one call per statement: each call updates the same pg_extension row
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.models', 'model_id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.activity_rules', 'rule_id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.fit_rules', 'rule_id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.leads', 'lead_id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.activities', 'activity_id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.bogus_patterns', 'pattern_id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.suppressions', 'suppression_id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.claims', 'claim_id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.cherry_picks', 'cherry_pick_id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.handoffs', 'handoff_id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.grade_changes', 'change_id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.training_runs', 'run_id'), '');
