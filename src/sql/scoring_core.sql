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

-- Live scoring merges a lead's stored state, which may carry an older
-- fingerprint the active model accepts (see stored_state_bases), with the
-- state of its new activities under that model.
CREATE FUNCTION lead_scoring.merge_engagement(a lead_scoring.engagement_state, b lead_scoring.engagement_state,
                                              model jsonb)
RETURNS lead_scoring.engagement_state
  AS 'MODULE_PATHNAME', 'lead_scoring_merge_engagement_for_model'
  LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.merge_engagement(lead_scoring.engagement_state, lead_scoring.engagement_state, jsonb) IS
  'The engagement state of the activities of both states under the model, which must be able to evaluate each (null counts as no activity)';

CREATE FUNCTION lead_scoring.state_fingerprint(state lead_scoring.engagement_state) RETURNS bigint
  AS 'MODULE_PATHNAME', 'lead_scoring_state_fingerprint'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.state_fingerprint(lead_scoring.engagement_state) IS
  'Identifies the activity counters (types, properties, half-lives) a state was built with; model_fingerprint gives a model''s';

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

-- SSPACE: what a lead's state takes while aggregating, for the planner's
-- hash aggregates (it assumes 8 kB for an internal state it is not told of):
-- the accumulator and room for 3 counters (a 128-byte chunk), with their
-- allocation headers; a lead with more counters doubles the chunk.
CREATE AGGREGATE lead_scoring.score_activities(model jsonb, activity_type text, occurred_at timestamptz, properties jsonb) (
  SFUNC = lead_scoring.score_activities_transfn,
  STYPE = internal,
  SSPACE = 200,
  FINALFUNC = lead_scoring.score_activities_finalfn,
  COMBINEFUNC = lead_scoring.score_activities_combinefn,
  SERIALFUNC = lead_scoring.score_activities_serializefn,
  DESERIALFUNC = lead_scoring.score_activities_deserializefn,
  PARALLEL = SAFE
);
COMMENT ON AGGREGATE lead_scoring.score_activities(jsonb, text, timestamptz, jsonb) IS
  'Engagement state of a set of activities under a model definition (models.definition): a full rescore from raw activities';

-- One activity's state, without an aggregate: the insert trigger merges a
-- single new row with it, in an UPDATE.
CREATE FUNCTION lead_scoring.activity_state(model jsonb, activity_type text, occurred_at timestamptz,
                                            properties jsonb)
RETURNS lead_scoring.engagement_state AS 'MODULE_PATHNAME', 'lead_scoring_activity_state'
  LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.activity_state(jsonb, text, timestamptz, jsonb) IS
  'Engagement state of one activity under a model definition: what score_activities gives for a lead with this one activity';

-- COST 10: a decay per rule the lead has, about ten times a simple operator;
-- at the default of 1 no plan over many leads used parallel workers for it.
CREATE FUNCTION lead_scoring.engagement_score(state lead_scoring.engagement_state, model jsonb,
                                              as_of timestamptz DEFAULT now())
RETURNS double precision AS 'MODULE_PATHNAME', 'lead_scoring_engagement_score'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 10;
COMMENT ON FUNCTION lead_scoring.engagement_score(lead_scoring.engagement_state, jsonb, timestamptz) IS
  'Engagement score of a state at as_of (default now): points decayed by half-life, then capped per rule and per component. Evaluated at the latest counted activity if that is after as_of';

-- A lead's total score: the one formula every view, trigger, rescore and
-- backtest grades. SQL with a standard body and no SET clause, so that it is
-- inlined into the queries that call it, bound to its objects when created.
CREATE FUNCTION lead_scoring.total_score(fit_score double precision, engagement lead_scoring.engagement_state,
                                         model jsonb, as_of timestamptz)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN fit_score + coalesce(lead_scoring.engagement_score(engagement, model, as_of), 0);
COMMENT ON FUNCTION lead_scoring.total_score(double precision, lead_scoring.engagement_state, jsonb, timestamptz) IS
  'A lead''s total score at as_of: its fit score plus its engagement decayed to as_of under the model (none counts 0)';

CREATE FUNCTION lead_scoring.state_matches_model(state lead_scoring.engagement_state, model jsonb)
RETURNS boolean AS 'MODULE_PATHNAME', 'lead_scoring_state_matches_model'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.state_matches_model(lead_scoring.engagement_state, jsonb) IS
  'Whether engagement_score can evaluate the state with this model: built with its activity rules (their types, properties and half-lives), or with an older set its definition accepts (stored_bases)';

CREATE FUNCTION lead_scoring.model_fingerprint(model jsonb) RETURNS bigint
  AS 'MODULE_PATHNAME', 'lead_scoring_model_fingerprint'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.model_fingerprint(jsonb) IS
  'Identifies the activity counters (types, properties, half-lives) of a model: the fingerprint of the states it builds';

CREATE FUNCTION lead_scoring.same_counters(previous jsonb, definition jsonb)
RETURNS boolean AS 'MODULE_PATHNAME', 'lead_scoring_same_counters'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.same_counters(jsonb, jsonb) IS
  'Whether two models count the same activities (types, properties and half-lives of their activity rules), so that states built with one are valid for the other';

CREATE FUNCTION lead_scoring.recount_types(previous jsonb, definition jsonb)
RETURNS text[] AS 'MODULE_PATHNAME', 'lead_scoring_recount_types'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.recount_types(jsonb, jsonb) IS
  'The activity types whose activities a change from previous to definition must count again: those of the activity rules definition has with a type, properties or half-life previous has not';

CREATE FUNCTION lead_scoring.rebase_engagement(state lead_scoring.engagement_state, previous jsonb,
                                               definition jsonb, recounted lead_scoring.engagement_state)
RETURNS lead_scoring.engagement_state AS 'MODULE_PATHNAME', 'lead_scoring_rebase_engagement'
  LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.rebase_engagement(lead_scoring.engagement_state, jsonb, jsonb, lead_scoring.engagement_state) IS
  'A state built with previous, carried over to definition: what both count is kept, what only previous counted is dropped, and what only definition counts is taken from recounted (a state built with definition from the activities of recount_types)';

CREATE FUNCTION lead_scoring.counts_beyond_model(state lead_scoring.engagement_state, model jsonb)
RETURNS boolean AS 'MODULE_PATHNAME', 'lead_scoring_counts_beyond_model'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.counts_beyond_model(lead_scoring.engagement_state, jsonb) IS
  'Whether a state counts activities for a counter (type, properties, half-life) the model lacks';

CREATE FUNCTION lead_scoring.counted_anew(definition jsonb, previous jsonb, activity_type text, properties jsonb)
RETURNS boolean AS 'MODULE_PATHNAME', 'lead_scoring_counted_anew'
  LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.counted_anew(jsonb, jsonb, text, jsonb) IS
  'Whether an activity matches a counter definition has and previous has not: the activities a change from previous recounts';

CREATE FUNCTION lead_scoring.drops_counted(previous jsonb, definition jsonb)
RETURNS boolean AS 'MODULE_PATHNAME', 'lead_scoring_drops_counted'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.drops_counted(jsonb, jsonb) IS
  'Whether previous has a counter or a fit test that definition has not: then the rows that counted or passed it are rewritten';

CREATE FUNCTION lead_scoring.engagement_breakdown(state lead_scoring.engagement_state, model jsonb,
                                                  as_of timestamptz DEFAULT now(),
  OUT rule_id integer, OUT component text, OUT activities bigint, OUT latest_activity_at timestamptz,
  OUT points_before_caps double precision, OUT points_after_rule_cap double precision,
  OUT points double precision)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'lead_scoring_engagement_breakdown'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION lead_scoring.engagement_breakdown(lead_scoring.engagement_state, jsonb, timestamptz) IS
  'One row per activity rule of a state at as_of: activities counted, points after decay, after the rule cap, and after the component cap (points, which add up to engagement_score)';

-- COST 100: a test per fit rule, some of them regular expressions (about
-- 10 us a lead with the demo's rules); at 1, no plan over many leads used
-- parallel workers for it.
CREATE FUNCTION lead_scoring.fit_score(model jsonb, attributes jsonb) RETURNS double precision
  AS 'MODULE_PATHNAME', 'lead_scoring_fit_score'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;
COMMENT ON FUNCTION lead_scoring.fit_score(jsonb, jsonb) IS
  'Fit score of a lead''s attributes under a model definition: points of the fit rules passed, capped per component';

-- A lead's fit is stored as the tests it passed (lead_scores.fit_tests), not
-- as points, so that a change of fit points, caps or components reads no lead
-- and writes no row. Read from a lead's columns in place: fit_attributes
-- builds a jsonb per lead, which cost as much as the rules.
CREATE FUNCTION lead_scoring.lead_fit_tests(model jsonb, email text, first_name text, last_name text,
                                            company text, attributes jsonb) RETURNS bigint[]
  AS 'MODULE_PATHNAME', 'lead_scoring_lead_fit_tests'
  LANGUAGE C IMMUTABLE PARALLEL SAFE COST 100;
COMMENT ON FUNCTION lead_scoring.lead_fit_tests(jsonb, text, text, text, text, jsonb) IS
  'The ids of the model''s fit tests (what a fit rule tests, whatever its points) that a lead passes, from its columns as fit_attributes combines them; ascending';

CREATE FUNCTION lead_scoring.fit_basis(model jsonb) RETURNS bigint
  AS 'MODULE_PATHNAME', 'lead_scoring_fit_basis'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.fit_basis(jsonb) IS
  'Identifies the set of a model''s fit tests: a record of the tests a lead passed serves every model with the same basis';

CREATE FUNCTION lead_scoring.new_fit_tests(definition jsonb, previous jsonb, email text, first_name text,
                                           last_name text, company text, attributes jsonb) RETURNS bigint[]
  AS 'MODULE_PATHNAME', 'lead_scoring_new_fit_tests'
  LANGUAGE C IMMUTABLE PARALLEL SAFE COST 100;
COMMENT ON FUNCTION lead_scoring.new_fit_tests(jsonb, jsonb, text, text, text, text, jsonb) IS
  'The ids of the fit tests definition has and previous has not that a lead passes (lead_fit_tests of those tests only): all a change from previous evaluates';

CREATE FUNCTION lead_scoring.merge_fit_tests(fit_tests bigint[], new_tests bigint[], model jsonb) RETURNS bigint[]
  AS 'MODULE_PATHNAME', 'lead_scoring_merge_fit_tests'
  LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.merge_fit_tests(bigint[], bigint[], jsonb) IS
  'A lead''s record of fit tests passed under the model: the ids of fit_tests and new_tests that the model has, ascending';

CREATE FUNCTION lead_scoring.tested_fit_score(fit_tests bigint[], fit_basis bigint, model jsonb)
RETURNS double precision AS 'MODULE_PATHNAME', 'lead_scoring_tested_fit_score'
  LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.tested_fit_score(bigint[], bigint, jsonb) IS
  'Fit score of a lead''s record of the fit tests it passed (lead_fit_tests, recorded under fit_basis) under a model with the same tests (or one that accepts the basis: stored_bases); no basis (a lead without attributes) scores 0';

-- total_score for a lead's stored row (lead_scores): its fit from the tests
-- it passed. Inlined too; a model given as a subquery (referenced twice here)
-- would not be, so the funnel writes it out.
CREATE FUNCTION lead_scoring.stored_total_score(fit_tests bigint[], fit_basis bigint,
                                                engagement lead_scoring.engagement_state,
                                                model jsonb, as_of timestamptz)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN lead_scoring.total_score(lead_scoring.tested_fit_score(fit_tests, fit_basis, model), engagement, model, as_of);
COMMENT ON FUNCTION lead_scoring.stored_total_score(bigint[], bigint, lead_scoring.engagement_state, jsonb, timestamptz) IS
  'total_score of a lead_scores row: the fit of its recorded fit tests plus its engagement decayed to as_of, under the model';

CREATE FUNCTION lead_scoring.fit_breakdown(model jsonb, attributes jsonb,
  OUT rule_id integer, OUT component text, OUT points_before_caps double precision,
  OUT points double precision)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'lead_scoring_fit_breakdown'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 5;
COMMENT ON FUNCTION lead_scoring.fit_breakdown(jsonb, jsonb) IS
  'One row per fit rule the attributes pass: its points, and its points after the component cap (which add up to fit_score)';
