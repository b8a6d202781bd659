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

-- lead_fit_score reads the same from a lead's columns, building no jsonb: the
-- scores above (60, -40, 32, 0, 0, 15), then email_domain's edge cases under
-- rule 8 (-10 for gmail.com or yahoo.com): upper case, two @ (the part
-- between them), none, an empty domain; an email_domain attribute wins over
-- the column's, a null one included; null attributes are none; attributes
-- that are not an object pass no test.
SELECT id, lead_scoring.lead_fit_score(fm.def, email, NULL, NULL, company, attributes) AS lead_fit_score
  FROM people, fm ORDER BY id;
SELECT e.email, e.attributes,
       lead_scoring.lead_fit_score(fm.def, e.email, NULL, NULL, NULL, e.attributes) AS lead_fit_score,
       lead_scoring.fit_score(fm.def, lead_scoring.fit_attributes(e.email, NULL, NULL, NULL, e.attributes)) AS fit_score
  FROM fm, (VALUES ('x@GMAIL.com', '{}'::jsonb), ('x@gmail.com@yahoo.com', '{}'), ('gmail.com', '{}'), ('x@', '{}'),
                   ('x@gmail.com', '{"email_domain": "acme.com"}'), ('x@acme.com', '{"email_domain": "yahoo.com"}'),
                   ('x@gmail.com', '{"email_domain": null}'), ('x@gmail.com', NULL), ('x@gmail.com', '[1]')) e(email, attributes);

-- Out-of-range or oddly written numbers never fail a write: they pass no numeric test.
SELECT lead_scoring.fit_score(fm.def, '{"employees": 1e400}') AS huge,
       lead_scoring.fit_score(fm.def, '{"employees": 1e-400}') AS tiny,
       lead_scoring.fit_score(fm.def, '{"employees": "0x1F4"}') AS hex_string,
       lead_scoring.fit_score(fm.def, '{"employees": "Infinity"}') AS infinity_string,
       lead_scoring.fit_score(fm.def, '{"employees": "5e2"}') AS exponent_string
  FROM fm;
