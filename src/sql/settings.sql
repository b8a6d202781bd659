-- Settings: built-in defaults, overridden with a plain UPDATE of the view.
-- Overrides live in setting_overrides, which pg_dump keeps; defaults are code.

CREATE TABLE lead_scoring.setting_overrides (
  name       text PRIMARY KEY,
  value      text NOT NULL,
  changed_at timestamptz NOT NULL DEFAULT now(),
  changed_by name NOT NULL DEFAULT lead_scoring.acting_role()
);
COMMENT ON TABLE lead_scoring.setting_overrides IS 'Settings changed from their defaults; change them through the lead_scoring.settings view';
COMMENT ON COLUMN lead_scoring.setting_overrides.name IS 'Setting name';
COMMENT ON COLUMN lead_scoring.setting_overrides.value IS 'Value in force';
COMMENT ON COLUMN lead_scoring.setting_overrides.changed_at IS 'When it was last changed';
COMMENT ON COLUMN lead_scoring.setting_overrides.changed_by IS 'Who changed it';

CREATE VIEW lead_scoring.settings AS
SELECT d.name, coalesce(o.value, d.default_value) AS value, d.default_value, d.description,
       o.changed_at, o.changed_by
  FROM (VALUES
    ('cherry_pick_policy', 'allow',
     'What a claim of a lead below the sales-ready grade does: allow (record it), warn (record it and warn the rep) or deny (refuse the claim, record the attempt)'),
    ('burst_max_activities', '50',
     'A lead with more than this many activities within burst_window is suppressed as a bot'),
    ('burst_window', '60 seconds',
     'The window burst_max_activities is counted in'),
    ('opt_out_activity_types', 'opt_out',
     'Comma-separated activity types that mean the lead opted out'),
    ('opt_in_activity_types', 'opt_in',
     'Comma-separated activity types with which a lead takes back its opt-out'),
    ('recycle_points', '10',
     'The recycle rule: a recycled or lost lead is handed off again once its activities since then add this many points to its score'),
    ('recycle_activity_types', '',
     'The recycle rule: comma-separated activity types that hand a recycled or lost lead off again at once (a sales signal, e.g. demo_request)'),
    ('max_rejection_share', '0.3',
     'scoring_health says the model hands over too many leads when sales rejects more than this share of the handoffs it answers')
  ) AS d(name, default_value, description)
  LEFT JOIN lead_scoring.setting_overrides o USING (name);
COMMENT ON VIEW lead_scoring.settings IS 'Settings, with their defaults; change one with UPDATE lead_scoring.settings SET value = ... WHERE name = ...';
COMMENT ON COLUMN lead_scoring.settings.name IS 'Setting name';
COMMENT ON COLUMN lead_scoring.settings.value IS 'Value in force';
COMMENT ON COLUMN lead_scoring.settings.default_value IS 'Value when not changed';
COMMENT ON COLUMN lead_scoring.settings.description IS 'What the setting does';
COMMENT ON COLUMN lead_scoring.settings.changed_at IS 'When it was last changed (empty: default)';
COMMENT ON COLUMN lead_scoring.settings.changed_by IS 'Who changed it';

CREATE FUNCTION lead_scoring.setting(setting_name text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  RETURN (SELECT s.value FROM lead_scoring.settings s WHERE s.name = setting_name);
END
$$;
COMMENT ON FUNCTION lead_scoring.setting(text) IS 'The value in force of a setting';

-- The one reading of a list setting (opt_out_activity_types, opt_in_activity_types),
-- in C, where the insert trigger reads the lists too.
CREATE FUNCTION lead_scoring.type_list(setting_value text) RETURNS text[]
  AS 'MODULE_PATHNAME', 'lead_scoring_type_list'
  LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.type_list(text) IS
  'The activity types of a comma-separated setting such as opt_out_activity_types, spaces ignored';

-- Settings are validated and stamped where they are stored, so that a direct
-- write of setting_overrides cannot store what the settings view refuses.
CREATE FUNCTION lead_scoring.check_setting() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  window_length interval;
BEGIN
  IF lead_scoring.loading_dump() THEN
    RETURN NEW;  -- restoring a dump: the row as dumped
  END IF;
  IF NOT EXISTS (SELECT FROM lead_scoring.settings s WHERE s.name = NEW.name) THEN
    RAISE EXCEPTION 'there is no setting "%"', NEW.name
      USING ERRCODE = 'undefined_object',
            HINT = 'The settings are listed in lead_scoring.settings.';
  END IF;
  IF NEW.name = 'cherry_pick_policy' AND NEW.value NOT IN ('allow', 'warn', 'deny') THEN
    RAISE EXCEPTION 'cherry_pick_policy must be allow, warn or deny, not "%"', NEW.value
      USING ERRCODE = 'invalid_parameter_value';
  ELSIF NEW.name = 'burst_max_activities'
        AND (NEW.value !~ '^\s*[0-9]{1,9}\s*$' OR NEW.value::integer < 1) THEN
    RAISE EXCEPTION 'burst_max_activities must be a whole number from 1 to 999999999, not "%"', NEW.value
      USING ERRCODE = 'invalid_parameter_value';
  ELSIF NEW.name = 'burst_window' THEN
    BEGIN
      window_length := NEW.value::interval;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
      window_length := NULL;
    END;
    IF window_length IS NULL OR window_length <= interval '0' OR window_length > interval '1 year' THEN
      RAISE EXCEPTION 'burst_window must be a positive interval of at most 1 year, not "%"', NEW.value
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
  ELSIF NEW.name = 'recycle_points'
        AND (NEW.value !~ '^\s*[0-9]{1,6}(\.[0-9]{1,6})?\s*$' OR NEW.value::numeric <= 0) THEN
    RAISE EXCEPTION 'recycle_points must be a positive number of points below 1000000, not "%"', NEW.value
      USING ERRCODE = 'invalid_parameter_value';
  ELSIF NEW.name = 'max_rejection_share' AND NOT (NEW.value ~ '^\s*(0(\.[0-9]{1,6})?|1(\.0{1,6})?)\s*$') THEN
    RAISE EXCEPTION 'max_rejection_share must be a share from 0 to 1, such as 0.3, not "%"', NEW.value
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  NEW.changed_at := pg_catalog.now();
  NEW.changed_by := lead_scoring.acting_role();
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lead_scoring.check_setting() IS
  'Trigger (before insert or update on setting_overrides): refuses an unknown setting or a value of the wrong kind, and records who changed it and when';
CREATE TRIGGER check_setting BEFORE INSERT OR UPDATE ON lead_scoring.setting_overrides
  FOR EACH ROW EXECUTE FUNCTION lead_scoring.check_setting();

CREATE FUNCTION lead_scoring.update_setting() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  IF NEW.name IS DISTINCT FROM OLD.name THEN
    RAISE EXCEPTION 'settings cannot be renamed' USING ERRCODE = 'feature_not_supported';
  END IF;
  IF NEW.value IS NULL THEN
    NEW.value := OLD.default_value;
  END IF;
  -- check_setting validates it and records who and when
  INSERT INTO lead_scoring.setting_overrides AS s (name, value) VALUES (NEW.name, NEW.value)
  ON CONFLICT (name) DO UPDATE SET value = excluded.value;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lead_scoring.update_setting() IS
  'Trigger (INSTEAD OF UPDATE on settings): stores a setting (check_setting validates it); setting value to NULL restores the default';
CREATE TRIGGER update_setting INSTEAD OF UPDATE ON lead_scoring.settings
  FOR EACH ROW EXECUTE FUNCTION lead_scoring.update_setting();

-- The insert trigger keeps the settings, the tracked tables and the lowest
-- sales-ready total in memory from one insert to the next, and checks in its
-- merge, with the merge's snapshot, that this row is still the version it
-- read them with: each change of any of them writes the row again (a row
-- version's ctid and xmin never name another).
CREATE TABLE lead_scoring.live_settings_version (
  only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO lead_scoring.live_settings_version DEFAULT VALUES;
COMMENT ON TABLE lead_scoring.live_settings_version IS 'One row, written again whenever the settings, the tracked tables or the grades change: inserts keep them in memory while this row is the version they read them with';
COMMENT ON COLUMN lead_scoring.live_settings_version.only_row IS 'Always true: the table has one row';
COMMENT ON COLUMN lead_scoring.live_settings_version.changed_at IS 'When the settings, the tracked tables or the grades last changed';

CREATE FUNCTION lead_scoring.note_live_settings_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  IF TG_RELID NOT IN ('lead_scoring.setting_overrides'::regclass, 'lead_scoring.tracked_tables'::regclass) THEN
    PERFORM lead_scoring.require_trigger_on(TG_RELID, 'lead_scoring.grades', 'note_live_settings_change');
  END IF;
  UPDATE lead_scoring.live_settings_version SET changed_at = pg_catalog.now();
  RETURN NULL;
END
$$;
COMMENT ON FUNCTION lead_scoring.note_live_settings_change() IS
  'Trigger (after each statement writing setting_overrides, tracked_tables or grades): writes live_settings_version again, so that inserts read them anew';
CREATE TRIGGER note_live_settings_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lead_scoring.setting_overrides
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.note_live_settings_change();
CREATE TRIGGER note_live_settings_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lead_scoring.tracked_tables
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.note_live_settings_change();
CREATE TRIGGER note_live_settings_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON lead_scoring.grades
  FOR EACH STATEMENT EXECUTE FUNCTION lead_scoring.note_live_settings_change();
