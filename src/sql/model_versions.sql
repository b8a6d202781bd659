-- Model versions: draft, active, retired; copies to edit; going back.

CREATE FUNCTION lead_scoring.stamp_model_status() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  IF lead_scoring.loading_dump() THEN
    RETURN NEW;  -- restoring a dump: the row as dumped
  END IF;
  IF NEW.is_active AND NOT coalesce(OLD.is_active, false) THEN
    NEW.activated_at := now();
    NEW.retired_at := NULL;
  ELSIF OLD.is_active AND NOT NEW.is_active THEN
    NEW.retired_at := now();
  END IF;
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION lead_scoring.stamp_model_status() IS
  'Trigger (before insert or update on models): records when a model became active and when it was retired';
CREATE TRIGGER stamp_model_status BEFORE INSERT OR UPDATE OF is_active ON lead_scoring.models
  FOR EACH ROW EXECUTE FUNCTION lead_scoring.stamp_model_status();

CREATE FUNCTION lead_scoring.copy_model(source_name text, new_name text, description text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
  source_id integer;
  new_id integer;
BEGIN
  SELECT model_id INTO source_id FROM lead_scoring.models WHERE name = source_name;
  IF source_id IS NULL THEN
    RAISE EXCEPTION 'scoring model "%" does not exist', source_name USING ERRCODE = 'undefined_object';
  END IF;
  IF EXISTS (SELECT FROM lead_scoring.models WHERE name = new_name) THEN
    RAISE EXCEPTION 'a model named "%" already exists', new_name
      USING ERRCODE = 'duplicate_object', HINT = 'Choose another name for the copy.';
  END IF;
  INSERT INTO lead_scoring.models (name, description, based_on)
  VALUES (new_name, coalesce(copy_model.description, format('Copy of %s', source_name)), source_id)
  RETURNING model_id INTO new_id;
  INSERT INTO lead_scoring.components (model_id, component, dimension, max_points, description)
  SELECT new_id, component, dimension, max_points, c.description
    FROM lead_scoring.components c WHERE model_id = source_id;
  INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, properties, points,
                                           half_life, max_points, description)
  SELECT new_id, component, activity_type, properties, points, half_life, max_points, r.description
    FROM lead_scoring.activity_rules r WHERE model_id = source_id ORDER BY rule_id;
  INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, value, pattern,
                                      min_value, max_value, points, description)
  SELECT new_id, component, attribute, test, value, pattern, min_value, max_value, points, r.description
    FROM lead_scoring.fit_rules r WHERE model_id = source_id ORDER BY rule_id;
  RETURN new_id;
END
$$;
COMMENT ON FUNCTION lead_scoring.copy_model(text, text, text) IS
  'Copies a model, its components and rules into a new draft to edit safely, and returns the new model_id; activate it with activate_model(new_name)';

CREATE FUNCTION lead_scoring.reactivate_previous_model(
  OUT model_name text, OUT leads_rescored bigint, OUT leads_changed_grade bigint,
  OUT leads_now_sales_ready bigint, OUT leads_no_longer_sales_ready bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  SELECT name INTO model_name FROM lead_scoring.models
   WHERE status = 'retired' ORDER BY retired_at DESC, model_id DESC LIMIT 1;
  IF model_name IS NULL THEN
    RAISE EXCEPTION 'no model was active before this one'
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  SELECT * INTO leads_rescored, leads_changed_grade, leads_now_sales_ready, leads_no_longer_sales_ready
    FROM lead_scoring.activate_model(model_name);
END
$$;
COMMENT ON FUNCTION lead_scoring.reactivate_previous_model() IS
  'Goes back: activates the model retired most recently and rescores every lead, in one transaction';

CREATE VIEW lead_scoring.model_versions AS
SELECT m.model_id, m.name, m.status, b.name AS based_on, m.created_at, m.activated_at, m.retired_at,
       (SELECT count(*) FROM lead_scoring.activity_rules r WHERE r.model_id = m.model_id) AS activity_rules,
       (SELECT count(*) FROM lead_scoring.fit_rules r WHERE r.model_id = m.model_id) AS fit_rules,
       (SELECT count(*) FROM lead_scoring.handoffs h WHERE h.model_id = m.model_id) AS handoffs,
       (SELECT count(*) FROM lead_scoring.claims c WHERE c.model_id = m.model_id) AS claims,
       m.description
  FROM lead_scoring.models m
  LEFT JOIN lead_scoring.models b ON b.model_id = m.based_on
 ORDER BY m.model_id;
COMMENT ON VIEW lead_scoring.model_versions IS 'Every model version: draft, active or retired, what it came from, and the handoffs and claims made under it';
COMMENT ON COLUMN lead_scoring.model_versions.model_id IS 'Model identifier (the version number: claims and handoffs record it)';
COMMENT ON COLUMN lead_scoring.model_versions.name IS 'Model name';
COMMENT ON COLUMN lead_scoring.model_versions.status IS 'draft, active or retired';
COMMENT ON COLUMN lead_scoring.model_versions.based_on IS 'Name of the model it was copied or trained from';
COMMENT ON COLUMN lead_scoring.model_versions.created_at IS 'When created';
COMMENT ON COLUMN lead_scoring.model_versions.activated_at IS 'When it last became active';
COMMENT ON COLUMN lead_scoring.model_versions.retired_at IS 'When it was last retired';
COMMENT ON COLUMN lead_scoring.model_versions.activity_rules IS 'Its engagement rules';
COMMENT ON COLUMN lead_scoring.model_versions.fit_rules IS 'Its fit rules';
COMMENT ON COLUMN lead_scoring.model_versions.handoffs IS 'Handoffs made while it was active';
COMMENT ON COLUMN lead_scoring.model_versions.claims IS 'Claims made while it was active';
COMMENT ON COLUMN lead_scoring.model_versions.description IS 'Description';
