-- CREATE EXTENSION lead_scoring for a test that makes a database of its own.
-- test/upgrade.sh runs the suite on installs of a released version updated to
-- the current one (PGOPTIONS -c lead_scoring_test.install_from=VERSION).
SET client_min_messages = warning;
SELECT coalesce(nullif(current_setting('lead_scoring_test.install_from', true), ''),
                (SELECT default_version FROM pg_available_extensions WHERE name = 'lead_scoring')) AS install_from \gset
CREATE EXTENSION lead_scoring VERSION :'install_from';
ALTER EXTENSION lead_scoring UPDATE;
RESET client_min_messages;
