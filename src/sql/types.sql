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

CREATE TYPE lead_scoring.score_stamp;

CREATE FUNCTION lead_scoring.score_stamp_in(cstring) RETURNS lead_scoring.score_stamp
  AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION lead_scoring.score_stamp_out(lead_scoring.score_stamp) RETURNS cstring
  AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE lead_scoring.score_stamp (
  INPUT = lead_scoring.score_stamp_in,
  OUTPUT = lead_scoring.score_stamp_out,
  INTERNALLENGTH = 40,
  ALIGNMENT = double,
  STORAGE = plain
);
COMMENT ON TYPE lead_scoring.score_stamp IS
  'Bounds of a lead''s total score from one instant to another, made from its row under a model (lead_scoring.stamp_score); it serves only that row under that model, so the views can grade the lead without evaluating it';
COMMENT ON FUNCTION lead_scoring.score_stamp_in(cstring) IS 'Text input of a score stamp: (low,high,"from","until",check)';
COMMENT ON FUNCTION lead_scoring.score_stamp_out(lead_scoring.score_stamp) IS 'Text output of a score stamp: (low,high,"from","until",check), the check a hash in hex';
