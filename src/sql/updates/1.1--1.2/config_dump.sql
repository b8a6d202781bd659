-- pg_dump keeps the training history.
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.training_runs', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.training_coefficients', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.training_runs', 'run_id'), '');
