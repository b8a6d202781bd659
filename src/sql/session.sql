-- Who a statement runs for, and whether it is restoring a dump: what the
-- code that runs with the owner's rights asks of the session, and nothing a
-- session can fake.

-- Inside a SECURITY DEFINER function current_user is its owner; this is who asked.
CREATE FUNCTION lead_scoring.acting_role() RETURNS name
  AS 'MODULE_PATHNAME', 'lead_scoring_acting_role'
  LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.acting_role() IS
  'The role the session acts as (its login, or the role taken with SET ROLE), also inside functions that run with their owner''s rights: who claims, changes grades or settings, suppresses and restores';

-- pg_dump scripts and pg_restore set check_function_bodies off; so may any
-- session, which is why only a superuser's counts as a restore. C, since
-- every trigger asks it on every statement.
CREATE FUNCTION lead_scoring.loading_dump() RETURNS boolean
  AS 'MODULE_PATHNAME', 'lead_scoring_loading_dump'
  LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION lead_scoring.loading_dump() IS
  'True while a superuser loads a dump (pg_dump scripts and pg_restore set check_function_bodies off): the triggers then leave the data as dumped; run lead_scoring.rescore() afterwards. For any other role it is false, whatever the session sets';

-- The owner-rights trigger functions fire only where the extension put them.
CREATE FUNCTION lead_scoring.require_trigger_on(fired_on oid, expected regclass, trigger_function text)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
  IF fired_on IS DISTINCT FROM expected THEN
    RAISE EXCEPTION '%() fires only on %, not on %', trigger_function, expected, fired_on::regclass
      USING ERRCODE = 'trigger_protocol_violated';
  END IF;
END
$$;
COMMENT ON FUNCTION lead_scoring.require_trigger_on(oid, regclass, text) IS
  'Refuses a trigger function fired on another table than its own: the functions that run with the owner''s rights check it first';
