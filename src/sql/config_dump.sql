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
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.training_caps', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.history_imports', '');
-- the defaults CREATE EXTENSION made are replaced by the rows as dumped
-- (guard_lifecycle_stages, guard_stage_transitions, guard_rejection_reasons)
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.lifecycle_stages', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.stage_transitions', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.rejection_reasons', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.lifecycle_events', '');
SELECT pg_catalog.pg_extension_config_dump('lead_scoring.lead_stages', '');
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
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.history_imports', 'import_id'), '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('lead_scoring.lifecycle_events', 'event_id'), '');
