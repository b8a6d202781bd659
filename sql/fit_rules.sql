-- Fit: every test (equals, in, between, matches, present), negative points,
-- component caps, and the attributes derived from a lead's columns.
\set SHOW_CONTEXT never
CREATE TEMP TABLE fm AS SELECT lead_scoring.check_model('{
  "components": [
    {"component": "title", "dimension": "fit", "max_points": 30},
    {"component": "company", "dimension": "fit"},
    {"component": "quality", "dimension": "fit"}],
  "fit_rules": [
    {"rule_id": 1, "component": "title", "attribute": "title", "test": "matches", "pattern": "(vp|vice president|director)", "points": 20},
    {"rule_id": 2, "component": "title", "attribute": "title", "test": "matches", "pattern": "chief|ceo", "points": 25},
    {"rule_id": 3, "component": "quality", "attribute": "title", "test": "in", "value": ["Student", "Intern"], "points": -30},
    {"rule_id": 4, "component": "company", "attribute": "employees", "test": "between", "min_value": 50, "max_value": 999, "points": 15},
    {"rule_id": 5, "component": "company", "attribute": "employees", "test": "between", "min_value": 1000, "points": 25},
    {"rule_id": 6, "component": "company", "attribute": "industry", "test": "equals", "value": "software", "points": 10},
    {"rule_id": 7, "component": "quality", "attribute": "phone", "test": "present", "points": 5},
    {"rule_id": 8, "component": "quality", "attribute": "email_domain", "test": "in", "value": ["gmail.com", "yahoo.com"], "points": -10},
    {"rule_id": 9, "component": "company", "attribute": "partner", "test": "equals", "value": true, "points": 7}]}') AS def;

CREATE TEMP TABLE people (id int, email text, company text, attributes jsonb);
INSERT INTO people VALUES
  -- title rules 1 and 2 (45, capped to 30) + 50..999 employees (15) + software (10) + phone (5) = 60
  (1, 'ann@acme.com', 'Acme', '{"title": "VP & Chief Marketing Officer", "employees": 250, "industry": "software", "phone": "555-0100"}'),
  -- student (-30) + Gmail, matched case-insensitively through email_domain (-10); "12" is a number
  -- held as a string (between accepts it: not in range); an empty phone is not present = -40
  (2, 'bob@Gmail.com', NULL, '{"title": "Student", "employees": "12", "phone": ""}'),
  -- 1000+ employees (25) + partner (7); "Software" does not equal "software" = 32
  (3, 'cy@big.example', 'Big', '{"employees": 5000, "industry": "Software", "partner": true}'),
  -- nothing known = 0
  (4, NULL, NULL, '{}'),
  -- values of the wrong type pass no test: a number is not matched as text, "abc" is not a number = 0
  (5, 'e@x.org', NULL, '{"title": 42, "employees": "abc", "phone": null}'),
  -- a string holding a number in range: 15
  (6, NULL, NULL, '{"employees": " 75 "}');

SELECT id, lead_scoring.fit_attributes(email, NULL, NULL, company, attributes) ->> 'email_domain' AS email_domain,
       lead_scoring.fit_score(fm.def, lead_scoring.fit_attributes(email, NULL, NULL, company, attributes)) AS fit_score
  FROM people, fm ORDER BY id;

-- The breakdown lists each rule passed; a capped component shares its cap in proportion.
SELECT id, rule_id, component, points_before_caps, round(points::numeric, 6) AS points
  FROM people, fm, lead_scoring.fit_breakdown(fm.def, lead_scoring.fit_attributes(email, NULL, NULL, company, attributes))
 ORDER BY id, rule_id;

-- Attributes that are not a JSON object pass no test.
SELECT lead_scoring.fit_score(fm.def, '[1, 2]') AS array_attributes,
       lead_scoring.fit_score(fm.def, '"vp"') AS scalar_attributes FROM fm;

-- Attributes override the lead's columns of the same name.
SELECT lead_scoring.fit_attributes('a@B.com', 'Ann', NULL, 'Acme', '{"company": "Acme Corp"}');

-- lead_fit_tests reads the same from a lead's columns, building no jsonb, and
-- records the tests passed; tested_fit_score scores that record: the
-- scores above (60, -40, 32, 0, 0, 15), then email_domain's edge cases under
-- rule 8 (-10 for gmail.com or yahoo.com): upper case, two @ (the part
-- between them), none, an empty domain; an email_domain attribute wins over
-- the column's, a null one included; null attributes are none; attributes
-- that are not an object pass no test.
SELECT id, lead_scoring.tested_fit_score(lead_scoring.lead_fit_tests(fm.def, email, NULL, NULL, company, attributes),
                                         lead_scoring.fit_basis(fm.def), fm.def) AS tested_fit_score
  FROM people, fm ORDER BY id;
SELECT e.email, e.attributes,
       lead_scoring.tested_fit_score(lead_scoring.lead_fit_tests(fm.def, e.email, NULL, NULL, NULL, e.attributes),
                                     lead_scoring.fit_basis(fm.def), fm.def) AS tested_fit_score,
       lead_scoring.fit_score(fm.def, lead_scoring.fit_attributes(e.email, NULL, NULL, NULL, e.attributes)) AS fit_score
  FROM fm, (VALUES ('x@GMAIL.com', '{}'::jsonb), ('x@gmail.com@yahoo.com', '{}'), ('gmail.com', '{}'), ('x@', '{}'),
                   ('x@gmail.com', '{"email_domain": "acme.com"}'), ('x@acme.com', '{"email_domain": "yahoo.com"}'),
                   ('x@gmail.com', '{"email_domain": null}'), ('x@gmail.com', NULL), ('x@gmail.com', '[1]')) e(email, attributes);

-- The record names tests, not rules: a model with other points, caps and
-- rule ids (rule 1 at 5 points, the title cap at 10, ids from 101) has the
-- same tests and basis, and scores the stored record under its points, as
-- it scores the lead: ann 10 (title 5 + 25, capped to 10) + 15 + 10 + 5 = 40
-- from 5 tests, bob -40 from 2, cy 32 from 2. A rule whose test changed (rule 6's value) makes another basis.
CREATE TEMP TABLE fm2 AS
SELECT jsonb_set(jsonb_set(fm.def, '{components,0,max_points}', '10'),
                 '{fit_rules}', (SELECT jsonb_agg(r || jsonb_build_object('rule_id', (r->>'rule_id')::int + 100))
                                   FROM jsonb_array_elements(fm.def->'fit_rules') r)) AS def,
       jsonb_set(fm.def, '{fit_rules,5,value}', '"hardware"') AS other_test
  FROM fm;
UPDATE fm2 SET def = jsonb_set(def, '{fit_rules,0,points}', '5');
SELECT lead_scoring.fit_basis(fm.def) = lead_scoring.fit_basis(fm2.def) AS same_basis,
       lead_scoring.fit_basis(fm.def) = lead_scoring.fit_basis(fm2.other_test) AS same_basis_after_test_change
  FROM fm, fm2;
SELECT p.id, cardinality(lead_scoring.lead_fit_tests(fm.def, p.email, NULL, NULL, p.company, p.attributes)) AS tests_passed,
       lead_scoring.tested_fit_score(lead_scoring.lead_fit_tests(fm.def, p.email, NULL, NULL, p.company, p.attributes),
                                     lead_scoring.fit_basis(fm.def), fm2.def) AS under_new_points,
       lead_scoring.fit_score(fm2.def, lead_scoring.fit_attributes(p.email, NULL, NULL, p.company, p.attributes)) AS scored_anew
  FROM people p, fm, fm2 WHERE p.id <= 3 ORDER BY p.id;
-- No basis: a lead without attributes scores 0 under any model.
SELECT lead_scoring.tested_fit_score('{}', NULL, fm.def) AS no_basis FROM fm;
-- A record made under other tests, or not made by lead_fit_tests, is refused.
SELECT lead_scoring.tested_fit_score('{}', lead_scoring.fit_basis(fm2.other_test), fm.def) FROM fm, fm2;
SELECT lead_scoring.tested_fit_score('{3, 2}', lead_scoring.fit_basis(fm.def), fm.def) FROM fm;
SELECT lead_scoring.tested_fit_score('{2, 2}', lead_scoring.fit_basis(fm.def), fm.def) FROM fm;
SELECT lead_scoring.tested_fit_score('{1, NULL}', lead_scoring.fit_basis(fm.def), fm.def) FROM fm;
SELECT lead_scoring.tested_fit_score('{{1}, {2}}', lead_scoring.fit_basis(fm.def), fm.def) FROM fm;
-- Ids of no test of the model count nothing.
SELECT lead_scoring.tested_fit_score('{-5, 7}', lead_scoring.fit_basis(fm.def), fm.def) AS unknown_ids FROM fm;

-- Out-of-range or oddly written numbers never fail a write: they pass no numeric test.
SELECT lead_scoring.fit_score(fm.def, '{"employees": 1e400}') AS huge,
       lead_scoring.fit_score(fm.def, '{"employees": 1e-400}') AS tiny,
       lead_scoring.fit_score(fm.def, '{"employees": "0x1F4"}') AS hex_string,
       lead_scoring.fit_score(fm.def, '{"employees": "Infinity"}') AS infinity_string,
       lead_scoring.fit_score(fm.def, '{"employees": "5e2"}') AS exponent_string
  FROM fm;
