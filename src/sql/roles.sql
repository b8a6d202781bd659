-- Roles: who may do what. The internal machinery that writes derived and audit
-- data runs as the extension's owner (SECURITY DEFINER, search_path pinned);
-- nobody else may call the parts of it that write.

-- Trigger functions run as the extension put them: nobody may attach them to
-- a table of their own (CREATE TRIGGER needs EXECUTE); firing needs no grant.
REVOKE EXECUTE ON FUNCTION
  lead_scoring.score_inserted_activities(),
  lead_scoring.rescore_changed_activities(),
  lead_scoring.score_new_leads(),
  lead_scoring.score_changed_leads(),
  lead_scoring.forget_deleted_leads(),
  lead_scoring.check_tracked_table_row(),
  lead_scoring.compile_models(),
  lead_scoring.compile_model_row(),
  lead_scoring.rescore_on_activation(),
  lead_scoring.apply_model_changes_at_commit(),
  lead_scoring.check_one_active_model(),
  lead_scoring.stamp_model_status(),
  lead_scoring.check_grades(),
  lead_scoring.record_claim(),
  lead_scoring.refuse_audit_change(),
  lead_scoring.protect_audit_ddl(),
  lead_scoring.guard_tracked_tables(),
  lead_scoring.record_grade_change(),
  lead_scoring.hand_off_after_threshold_change(),
  lead_scoring.check_setting(),
  lead_scoring.update_setting(),
  lead_scoring.note_live_settings_change(),
  lead_scoring.count_opened_suppressions(),
  lead_scoring.count_changed_suppressions(),
  lead_scoring.count_deleted_suppressions(),
  lead_scoring.count_truncated_suppressions(),
  lead_scoring.check_bogus_pattern(),
  lead_scoring.guard_lifecycle_stages(),
  lead_scoring.guard_stage_transitions(),
  lead_scoring.guard_rejection_reasons(),
  lead_scoring.stage_from_outcome()
FROM PUBLIC;

-- What runs with the owner's rights, and the operations granted to a role.
REVOKE EXECUTE ON FUNCTION
  lead_scoring.rescore(),
  lead_scoring.restamp_leads(bigint, integer),
  lead_scoring.recount_open_suppressions(),
  lead_scoring.count_suppressions(bigint[], bigint[]),
  lead_scoring.apply_model_changes(),
  lead_scoring.activate_model(text),
  lead_scoring.release_claim(bigint, text),
  lead_scoring.reassign_claim(bigint, name, text),
  lead_scoring.track(regclass, name, name, name, name),
  lead_scoring.untrack(regclass),
  lead_scoring.recompute_engagement(bigint[]),
  lead_scoring.forget_leads(bigint[]),
  lead_scoring.rescore_leads(bigint[]),
  lead_scoring.create_live_triggers(regclass, name, name, name, name),
  lead_scoring.drop_live_triggers(regclass),
  lead_scoring.follow_partitions(oid[]),
  lead_scoring.check_model_tables(integer, jsonb),
  lead_scoring.rescore_from(jsonb, boolean),
  lead_scoring.keep_stored_bases(jsonb),
  lead_scoring.hand_off(bigint[], text),
  lead_scoring.find_bogus_leads(bigint[]),
  lead_scoring.find_activity_bursts(bigint[], timestamptz, timestamptz),
  lead_scoring.apply_opt_activities(jsonb),
  lead_scoring.unmatched_activities(),
  lead_scoring.activity_lift(),
  lead_scoring.states_at_decision(jsonb),
  lead_scoring.states_at(jsonb, timestamptz, bigint[]),
  lead_scoring.score_before(bigint, timestamptz),
  lead_scoring.mark_history_import(boolean),
  lead_scoring.begin_history_import(boolean, text),
  lead_scoring.replay(jsonb, text[], double precision[], boolean[], timestamptz, timestamptz),
  lead_scoring.accept_lead(bigint, text),
  lead_scoring.reject_lead(bigint, text, text),
  lead_scoring.advance_lead(bigint, text, text),
  lead_scoring.override_stage(bigint, text, text),
  lead_scoring.import_stage_change(bigint, text, timestamptz, name, text),
  lead_scoring.recycle_rule_met(bigint, timestamptz),
  lead_scoring.rules_carrying(bigint, timestamptz),
  lead_scoring.lock_lead(bigint),
  lead_scoring.lock_known_lead(bigint),
  lead_scoring.move_lead(bigint, text, text, timestamptz, text, text, text[]),
  lead_scoring.refuse_move(bigint, text, text, text, text, text),
  lead_scoring.check_handed_off(bigint, text, text, text)
FROM PUBLIC;

CREATE FUNCTION lead_scoring.create_roles() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['lead_scoring_bi', 'lead_scoring_sales', 'lead_scoring_marketing', 'lead_scoring_admin'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    END IF;
  END LOOP;

  -- BI: the views, nothing else
  GRANT USAGE ON SCHEMA lead_scoring TO lead_scoring_bi;
  FOR r IN SELECT c.oid::regclass::text FROM pg_class c
            WHERE c.relnamespace = 'lead_scoring'::regnamespace AND c.relkind = 'v' LOOP
    EXECUTE format('GRANT SELECT ON %s TO lead_scoring_bi', r);
  END LOOP;
  -- lead_decisions judges a lead closed without handoff or claim with it
  GRANT EXECUTE ON FUNCTION lead_scoring.unmatched_activities(), lead_scoring.activity_lift(),
                            lead_scoring.score_before(bigint, timestamptz) TO lead_scoring_bi;

  -- sales: BI, plus reading the data, claiming leads and recording outcomes
  GRANT lead_scoring_bi TO lead_scoring_sales;
  GRANT SELECT ON lead_scoring.leads, lead_scoring.activities, lead_scoring.lead_scores, lead_scoring.models,
                  lead_scoring.components, lead_scoring.activity_rules, lead_scoring.fit_rules, lead_scoring.grades,
                  lead_scoring.claims, lead_scoring.cherry_picks, lead_scoring.handoffs, lead_scoring.outcomes,
                  lead_scoring.suppressions, lead_scoring.grade_changes, lead_scoring.lifecycle_stages,
                  lead_scoring.stage_transitions, lead_scoring.rejection_reasons, lead_scoring.lead_stages,
                  lead_scoring.lifecycle_events
     TO lead_scoring_sales;
  GRANT INSERT ON lead_scoring.claims TO lead_scoring_sales;
  GRANT EXECUTE ON FUNCTION lead_scoring.release_claim(bigint, text),
                            lead_scoring.accept_lead(bigint, text),
                            lead_scoring.reject_lead(bigint, text, text),
                            lead_scoring.advance_lead(bigint, text, text) TO lead_scoring_sales;
  GRANT INSERT, UPDATE ON lead_scoring.outcomes TO lead_scoring_sales;

  -- marketing operations: BI, plus the model, thresholds, settings, leads, activities and suppression
  GRANT lead_scoring_bi TO lead_scoring_marketing;
  GRANT SELECT ON ALL TABLES IN SCHEMA lead_scoring TO lead_scoring_marketing;
  GRANT INSERT, UPDATE, DELETE ON lead_scoring.models, lead_scoring.components, lead_scoring.activity_rules,
                                  lead_scoring.fit_rules, lead_scoring.grades, lead_scoring.leads,
                                  lead_scoring.activities, lead_scoring.bogus_patterns,
                                  lead_scoring.throwaway_domains, lead_scoring.outcomes,
                                  lead_scoring.lifecycle_stages, lead_scoring.stage_transitions,
                                  lead_scoring.rejection_reasons
     TO lead_scoring_marketing;
  GRANT INSERT ON lead_scoring.training_runs, lead_scoring.training_coefficients, lead_scoring.training_caps
     TO lead_scoring_marketing;
  GRANT UPDATE (held_out_leads, held_out_wins, held_out_auc, held_out_log_loss, draft_auc, draft_log_loss,
                draft_held_out_auc, draft_held_out_log_loss) ON lead_scoring.training_runs TO lead_scoring_marketing;
  GRANT INSERT, UPDATE ON lead_scoring.suppressions, lead_scoring.setting_overrides TO lead_scoring_marketing;
  GRANT UPDATE ON lead_scoring.settings TO lead_scoring_marketing;
  GRANT EXECUTE ON FUNCTION lead_scoring.rescore(), lead_scoring.restamp_leads(bigint, integer),
                            lead_scoring.activate_model(text),
                            lead_scoring.apply_model_changes(),
                            lead_scoring.hand_off(bigint[], text),
                            lead_scoring.find_bogus_leads(bigint[]),
                            lead_scoring.find_activity_bursts(bigint[], timestamptz, timestamptz),
                            lead_scoring.states_at_decision(jsonb),
                            lead_scoring.states_at(jsonb, timestamptz, bigint[]),
                            lead_scoring.rules_carrying(bigint, timestamptz),
                            lead_scoring.recycle_rule_met(bigint, timestamptz),
                            lead_scoring.replay(jsonb, text[], double precision[], boolean[], timestamptz, timestamptz)
     TO lead_scoring_marketing;

  -- administrators: everything marketing and sales do, plus which tables are tracked
  GRANT lead_scoring_marketing, lead_scoring_sales TO lead_scoring_admin;
  GRANT EXECUTE ON FUNCTION lead_scoring.track(regclass, name, name, name, name),
                            lead_scoring.untrack(regclass),
                            lead_scoring.reassign_claim(bigint, name, text),
                            lead_scoring.override_stage(bigint, text, text),
                            lead_scoring.import_stage_change(bigint, text, timestamptz, name, text),
                            lead_scoring.begin_history_import(boolean, text) TO lead_scoring_admin;

  -- what earlier versions granted and this one does not: the owner's-rights
  -- functions that do these things check their callers themselves
  REVOKE INSERT, UPDATE, DELETE ON lead_scoring.tracked_tables FROM lead_scoring_admin;
  REVOKE EXECUTE ON FUNCTION lead_scoring.recompute_engagement(bigint[]) FROM lead_scoring_admin;
  REVOKE EXECUTE ON FUNCTION lead_scoring.rescore_from(jsonb, boolean) FROM lead_scoring_marketing;
END
$$;
COMMENT ON FUNCTION lead_scoring.create_roles() IS
  'Creates (if missing) and grants the roles lead_scoring_bi (read the views), lead_scoring_sales (read, claim, accept, reject and advance leads, record outcomes), lead_scoring_marketing (model, thresholds, settings, leads, activities, suppression) and lead_scoring_admin (all of those, and tracked tables). Grant them to login roles';
