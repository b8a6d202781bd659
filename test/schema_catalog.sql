-- What an install of lead_scoring consists of, one line per fact, sorted:
-- two databases whose extension is the same print the same lines. Used by
-- test/upgrade.sh to compare an updated database with a fresh install.
-- Names, not OIDs; the installing role is printed as "owner", other roles by name.
\pset format unaligned
\pset tuples_only on
WITH ext AS (SELECT oid, extowner FROM pg_extension WHERE extname = 'lead_scoring'),
members AS (
  SELECT d.classid, d.objid FROM pg_depend d, ext
   WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'),
role_name(oid, name) AS (
  SELECT r.oid, CASE WHEN r.oid = ext.extowner THEN 'owner' ELSE r.rolname END FROM pg_roles r, ext
  UNION ALL SELECT 0, 'PUBLIC'),
acl(objacl, text) AS (
  SELECT DISTINCT a.objacl, coalesce((
    SELECT string_agg(g.name || ':' || x.privilege_type || CASE WHEN x.is_grantable THEN '*' ELSE '' END
                      || '/' || o.name, ',' ORDER BY g.name, x.privilege_type, o.name)
      FROM aclexplode(a.objacl) x JOIN role_name g ON g.oid = x.grantee JOIN role_name o ON o.oid = x.grantor), 'default')
    FROM (SELECT relacl AS objacl FROM pg_class UNION SELECT proacl FROM pg_proc
          UNION SELECT typacl FROM pg_type UNION SELECT nspacl FROM pg_namespace) a),
lines(line) AS (
  SELECT 'extension ' || e.extversion || ' schema ' || e.extnamespace::regnamespace || ' relocatable ' || e.extrelocatable
    FROM pg_extension e WHERE e.extname = 'lead_scoring'
  UNION ALL
  SELECT 'config ' || c::regclass || ' ' || coalesce(w, '')
    FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(c, w) WHERE e.extname = 'lead_scoring'
  UNION ALL
  SELECT 'schema ' || n.nspname || ' owner ' || o.name || ' acl ' || coalesce(a.text, 'default')
         || ' comment ' || coalesce(obj_description(n.oid, 'pg_namespace'), '')
    FROM pg_namespace n JOIN role_name o ON o.oid = n.nspowner LEFT JOIN acl a ON a.objacl = n.nspacl
   WHERE n.nspname = 'lead_scoring'
  UNION ALL
  -- every member object, as the catalogs describe it
  SELECT 'member ' || pg_describe_object(m.classid, m.objid, 0) FROM members m
  UNION ALL
  SELECT 'relation ' || c.oid::regclass || ' kind ' || c.relkind::text || ' owner ' || o.name
         || ' acl ' || coalesce(a.text, 'default') || ' options ' || coalesce(c.reloptions::text, '')
         || ' persistence ' || c.relpersistence::text || ' comment ' || coalesce(obj_description(c.oid, 'pg_class'), '')
    FROM pg_class c JOIN role_name o ON o.oid = c.relowner LEFT JOIN acl a ON a.objacl = c.relacl
   WHERE c.relnamespace = 'lead_scoring'::regnamespace
  UNION ALL
  -- columns in their order (a dropped column's gap aside): an update that adds
  -- a column elsewhere shows here
  SELECT 'column ' || c.oid::regclass || ' ' || row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum) || ' ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
         || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
         || CASE a.attidentity::text WHEN 'a' THEN ' identity always' WHEN 'd' THEN ' identity by default' ELSE '' END
         || CASE a.attgenerated::text WHEN 's' THEN ' generated' ELSE '' END
         || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
         || ' collation ' || a.attcollation::regcollation
         || ' acl ' || coalesce(ac.text, 'default') || ' comment ' || coalesce(col_description(c.oid, a.attnum), '')
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
    LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
    LEFT JOIN acl ac ON ac.objacl = a.attacl
   WHERE c.relnamespace = 'lead_scoring'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'constraint ' || r.conrelid::regclass || ' ' || r.conname || ' ' || pg_get_constraintdef(r.oid)
         || CASE WHEN r.condeferrable THEN ' deferrable' ELSE '' END || CASE WHEN r.condeferred THEN ' deferred' ELSE '' END
    FROM pg_constraint r JOIN pg_class c ON c.oid = r.conrelid WHERE c.relnamespace = 'lead_scoring'::regnamespace
  UNION ALL
  SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
   WHERE c.relnamespace = 'lead_scoring'::regnamespace
  UNION ALL
  SELECT 'sequence ' || s.seqrelid::regclass || ' ' || format_type(s.seqtypid, NULL) || ' start ' || s.seqstart
         || ' increment ' || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache ' || s.seqcache
         || ' cycle ' || s.seqcycle
    FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = 'lead_scoring'::regnamespace
  UNION ALL
  SELECT 'view ' || c.oid::regclass || ' ' || pg_get_viewdef(c.oid)
    FROM pg_class c WHERE c.relnamespace = 'lead_scoring'::regnamespace AND c.relkind IN ('v', 'm')
  UNION ALL
  -- pg_get_functiondef carries volatility, strictness, parallel safety,
  -- SECURITY DEFINER, cost, rows, SET clauses and the body
  SELECT 'function ' || p.oid::regprocedure || ' owner ' || o.name || ' acl ' || coalesce(a.text, 'default')
         || ' leakproof ' || p.proleakproof || ' comment ' || coalesce(obj_description(p.oid, 'pg_proc'), '')
         || E'\n' || CASE WHEN p.prokind = 'a' THEN 'aggregate' ELSE pg_get_functiondef(p.oid) END
    FROM pg_proc p JOIN role_name o ON o.oid = p.proowner LEFT JOIN acl a ON a.objacl = p.proacl
   WHERE p.pronamespace = 'lead_scoring'::regnamespace
  UNION ALL
  SELECT 'aggregate ' || g.aggfnoid::regprocedure || ' kind ' || g.aggkind::text || ' transfn ' || g.aggtransfn::regprocedure
         || ' finalfn ' || g.aggfinalfn || ' combinefn ' || g.aggcombinefn || ' serialfn ' || g.aggserialfn
         || ' deserialfn ' || g.aggdeserialfn || ' stype ' || g.aggtranstype::regtype || ' space ' || g.aggtransspace
         || ' init ' || coalesce(g.agginitval, '') || ' finalmodify ' || g.aggfinalmodify::text
    FROM pg_aggregate g JOIN pg_proc p ON p.oid = g.aggfnoid WHERE p.pronamespace = 'lead_scoring'::regnamespace
  UNION ALL
  SELECT 'type ' || t.oid::regtype || ' kind ' || t.typtype::text || ' owner ' || o.name || ' acl ' || coalesce(a.text, 'default')
         || ' len ' || t.typlen || ' align ' || t.typalign::text || ' storage ' || t.typstorage::text
         || ' in ' || t.typinput || ' out ' || t.typoutput || ' recv ' || t.typreceive || ' send ' || t.typsend
         || ' comment ' || coalesce(obj_description(t.oid, 'pg_type'), '')
         || coalesce(' labels ' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e
                                     WHERE e.enumtypid = t.oid), '')
    FROM pg_type t JOIN role_name o ON o.oid = t.typowner LEFT JOIN acl a ON a.objacl = t.typacl
   WHERE t.typnamespace = 'lead_scoring'::regnamespace AND t.typtype IN ('b', 'c', 'e', 'd')
     AND NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
  UNION ALL
  SELECT 'trigger ' || t.tgrelid::regclass || ' ' || pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
         || ' comment ' || coalesce(obj_description(t.oid, 'pg_trigger'), '')
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
   WHERE c.relnamespace = 'lead_scoring'::regnamespace AND NOT t.tgisinternal
  UNION ALL
  SELECT 'event trigger ' || e.evtname || ' on ' || e.evtevent || ' function ' || e.evtfoid::regproc
         || ' tags ' || coalesce(e.evttags::text, '') || ' enabled ' || e.evtenabled::text || ' owner ' || o.name
    FROM pg_event_trigger e JOIN role_name o ON o.oid = e.evtowner
   WHERE EXISTS (SELECT FROM members m WHERE m.classid = 'pg_event_trigger'::regclass AND m.objid = e.oid)
  UNION ALL
  SELECT 'policy ' || p.polrelid::regclass || ' ' || p.polname || ' ' || p.polcmd::text || ' '
         || coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = 'lead_scoring'::regnamespace
  UNION ALL
  -- what the extension's roles were granted, and who is a member of them
  SELECT 'role ' || r.rolname || ' login ' || r.rolcanlogin || ' member of '
         || coalesce((SELECT string_agg(g.rolname, ',' ORDER BY g.rolname) FROM pg_auth_members m
                        JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid), '')
    FROM pg_roles r WHERE r.rolname LIKE 'lead\_scoring\_%')
SELECT line FROM lines ORDER BY line;
