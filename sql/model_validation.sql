-- Bad model definitions are refused when written, with a clear error, and nothing is stored.
\set SHOW_CONTEXT never
INSERT INTO lead_scoring.models (name, is_active) VALUES ('validation', true);
INSERT INTO lead_scoring.components (model_id, component, dimension, max_points)
SELECT model_id, c, d::lead_scoring.score_dimension, cap
  FROM lead_scoring.models, (VALUES ('web', 'engagement', 30), ('title', 'fit', NULL)) AS v(c, d, cap)
 WHERE name = 'validation';
\set model '(SELECT model_id FROM lead_scoring.models WHERE name = ''validation'')'

-- unknown dimension
INSERT INTO lead_scoring.components (model_id, component, dimension) VALUES (:model, 'x', 'figt');
-- non-positive component cap
INSERT INTO lead_scoring.components (model_id, component, dimension, max_points) VALUES (:model, 'x', 'fit', 0);
-- NaN and infinite points
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points) VALUES (:model, 'web', 'web_visit', 'NaN');
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points) VALUES (:model, 'web', 'web_visit', 'Infinity');
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points) VALUES (:model, 'web', 'web_visit', '-Infinity');
-- non-positive half-life
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points, half_life) VALUES (:model, 'web', 'web_visit', 1, '0 days');
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points, half_life) VALUES (:model, 'web', 'web_visit', 1, '-3 days');
-- non-positive rule cap, NaN cap
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points, max_points) VALUES (:model, 'web', 'web_visit', 1, -5);
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points, max_points) VALUES (:model, 'web', 'web_visit', 1, 'NaN');
-- properties that are not an object
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points, properties) VALUES (:model, 'web', 'web_visit', 1, '["pricing"]');
-- an activity rule in a fit component, a fit rule in an engagement component
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points) VALUES (:model, 'title', 'web_visit', 1);
INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, points) VALUES (:model, 'web', 'phone', 'present', 1);
-- unknown component (the foreign key), unknown test (the enum)
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points) VALUES (:model, 'nope', 'web_visit', 1);
INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, points) VALUES (:model, 'title', 'title', 'like', 1);
-- invalid pattern
INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, pattern, points) VALUES (:model, 'title', 'title', 'matches', '(vp|director', 10);
-- a test without what it needs
INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, points) VALUES (:model, 'title', 'title', 'matches', 10);
INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, value, points) VALUES (:model, 'title', 'title', 'in', '"vp"', 10);
INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, value, points) VALUES (:model, 'title', 'title', 'equals', '{"a": 1}', 10);
INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, points) VALUES (:model, 'title', 'employees', 'between', 10);
INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, min_value, max_value, points) VALUES (:model, 'title', 'employees', 'between', 500, 50, 10);
-- a bad row refuses the whole statement
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points, half_life)
VALUES (:model, 'web', 'web_visit', 1, '7 days'), (:model, 'web', 'download', 'NaN', NULL);
-- an update that would make a rule invalid is refused too
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points, half_life) VALUES (:model, 'web', 'web_visit', 1, '7 days');
UPDATE lead_scoring.activity_rules SET half_life = '0' WHERE model_id = :model;
UPDATE lead_scoring.components SET max_points = -1 WHERE model_id = :model AND component = 'web';

-- nothing bad was stored: one valid rule, caps unchanged, definition valid
SELECT component, dimension, max_points FROM lead_scoring.components WHERE model_id = :model ORDER BY component;
SELECT activity_type, points, half_life FROM lead_scoring.activity_rules WHERE model_id = :model;
SELECT count(*) AS fit_rules FROM lead_scoring.fit_rules WHERE model_id = :model;
SELECT jsonb_array_length(definition -> 'activity_rules') AS compiled_rules,
       definition -> 'activity_rules' -> 0 ->> 'half_life_seconds' AS half_life_seconds
  FROM lead_scoring.models WHERE model_id = :model;

-- The definition is derived from the tables: writing it directly changes nothing.
UPDATE lead_scoring.models SET definition = '{"junk": true}' WHERE model_id = :model;
SELECT definition ? 'junk' AS junk_stored, jsonb_array_length(definition -> 'activity_rules') AS compiled_rules
  FROM lead_scoring.models WHERE model_id = :model;

-- check_model refuses bad JSON definitions given directly.
SELECT lead_scoring.check_model('[]');
SELECT lead_scoring.check_model('{"components": [{"component": "a", "dimension": "engagement"}], "activity_rules": [{"rule_id": 1, "component": "a", "activity_type": "x", "points": "ten"}]}');
SELECT lead_scoring.check_model('{"components": [{"component": "a", "dimension": "engagement"}, {"component": "a", "dimension": "fit"}]}');
SELECT lead_scoring.check_model('{"components": [{"component": "a", "dimension": "engagement"}], "activity_rules": [{"rule_id": 1, "component": "a", "activity_type": "x", "points": 1}, {"rule_id": 1, "component": "a", "activity_type": "y", "points": 1}]}');
SELECT lead_scoring.check_model('{"components": [{"component": "a", "dimension": "engagement"}], "activity_rules": [{"component": "a", "activity_type": "x", "points": 1}]}');

-- Exactly one model is active: a second active model is refused at once,
-- and no active model at all is refused at commit.
INSERT INTO lead_scoring.models (name, is_active) VALUES ('second', true);
BEGIN;
UPDATE lead_scoring.models SET is_active = false;
COMMIT;
SELECT name, is_active FROM lead_scoring.models ORDER BY model_id;

-- Grades: overlapping, out of order, non-finite, or sales-ready below a non-ready grade.
INSERT INTO lead_scoring.grades VALUES ('A', 1, 80, true), ('B', 2, 60, false), ('C', 3, 30, false), ('D', 4, 0, false);
UPDATE lead_scoring.grades SET min_score = 60 WHERE grade = 'A';
UPDATE lead_scoring.grades SET min_score = 50 WHERE grade = 'A';
UPDATE lead_scoring.grades SET min_score = 'NaN' WHERE grade = 'C';
UPDATE lead_scoring.grades SET min_score = '-Infinity' WHERE grade = 'D';
UPDATE lead_scoring.grades SET sales_ready = true WHERE grade = 'C';
INSERT INTO lead_scoring.grades VALUES ('A+', 1, 95, true);
-- several thresholds may move in one statement if the result is in order
UPDATE lead_scoring.grades SET min_score = min_score - 10 WHERE grade IN ('A', 'B');
SELECT * FROM lead_scoring.grade_ranges ORDER BY rank;
UPDATE lead_scoring.grades SET min_score = min_score + 10 WHERE grade IN ('A', 'B');

-- Numbers a model cannot use, lists that are not lists, identifiers that are not whole numbers.
SELECT lead_scoring.check_model('{"components": [{"component": "a", "dimension": "engagement"}], "activity_rules": [{"rule_id": 1, "component": "a", "activity_type": "x", "points": 1e400}]}');
SELECT lead_scoring.check_model('{"components": [{"component": "a", "dimension": "engagement"}], "activity_rules": [{"rule_id": 1, "component": "a", "activity_type": "x", "points": 1e13}]}');
SELECT lead_scoring.check_model('{"components": {"a": 1}}');
SELECT lead_scoring.check_model('{"components": [{"component": "a", "dimension": "engagement"}], "activity_rules": [{"rule_id": 1.5, "component": "a", "activity_type": "x", "points": 1}]}');
SELECT lead_scoring.check_model('{"components": [{"component": "a", "dimension": "engagement"}], "activity_rules": [{"rule_id": 3000000000, "component": "a", "activity_type": "x", "points": 1}]}');
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points) VALUES (:model, 'web', 'web_visit', 1e300);
