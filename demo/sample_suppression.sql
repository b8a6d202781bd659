-- Suppression rules for the demo: junk leads are suppressed as they arrive.
-- Loaded after the model and before the data; any client can run it.
BEGIN;
DELETE FROM lead_scoring.bogus_patterns;
DELETE FROM lead_scoring.throwaway_domains;
INSERT INTO lead_scoring.bogus_patterns (field, pattern, description) VALUES
  ('name',  '^(mickey mouse|donald duck|test (test|user)|asdf asdf|qwerty qwerty|xxx xxx|n/a n/a)$', 'placeholder or cartoon name'),
  ('email', '^(test|asdf|qwerty|xxx|na)@', 'throwaway local part');
INSERT INTO lead_scoring.throwaway_domains (domain, description)
SELECT d, 'disposable email service'
  FROM unnest(ARRAY['mailinator.com', 'yopmail.com', 'guerrillamail.com', 'trashmail.com', '10minutemail.com']) d;
COMMIT;
