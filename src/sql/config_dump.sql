-- pg_dump keeps configuration and user data; lead_scores is derived (run rescore() after a restore).
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.models', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.components', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.activity_rules', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.fit_rules', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.grades', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.leads', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.activities', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.tracked_tables',
  'WHERE activity_table <> ''lead_scoring.activities''::regclass');
-- one call per statement: each call updates the same pg_extension row
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.models', 'model_id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.activity_rules', 'rule_id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.fit_rules', 'rule_id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.leads', 'lead_id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.activities', 'activity_id'), '');
