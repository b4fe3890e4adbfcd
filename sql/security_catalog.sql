-- The catalog audit: what the extension installs, read from pg_proc, pg_class, pg_namespace,
-- pg_depend and the ACLs. Every query lists violations and must return no row.
CREATE EXTENSION orchestrator;

-- Every function pins its search_path (aggregates cannot; their functions do).
SELECT p.oid::regprocedure AS unpinned
  FROM pg_proc p
 WHERE p.pronamespace = 'orchestrator'::regnamespace AND p.prokind <> 'a'
   AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false);

-- Nothing is executable by PUBLIC (a NULL ACL would mean the default: PUBLIC may execute).
SELECT p.oid::regprocedure AS public_may_execute, p.prosecdef
  FROM pg_proc p
 WHERE p.pronamespace = 'orchestrator'::regnamespace
   AND EXISTS (SELECT FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                WHERE a.grantee = 0);

-- Nothing else is open to PUBLIC either: the schema, tables, views, sequences.
SELECT 'schema' AS kind, n.nspname AS name
  FROM pg_namespace n
 WHERE n.nspname = 'orchestrator'
   AND EXISTS (SELECT FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
                WHERE a.grantee = 0)
UNION ALL
SELECT 'relation', c.relname
  FROM pg_class c
 WHERE c.relnamespace = 'orchestrator'::regnamespace AND c.relkind IN ('r', 'v', 'S')
   AND EXISTS (SELECT FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
                WHERE a.grantee = 0);

-- No role but the owner may write a table: readers get SELECT, nothing more.
SELECT c.relname, a.grantee::regrole, a.privilege_type
  FROM pg_class c, aclexplode(c.relacl) a
 WHERE c.relnamespace = 'orchestrator'::regnamespace AND c.relkind IN ('r', 'v', 'S')
   AND a.grantee <> c.relowner AND a.privilege_type <> 'SELECT';

-- Row-level security is on for every table.
SELECT c.relname AS without_rls
  FROM pg_class c
 WHERE c.relnamespace = 'orchestrator'::regnamespace AND c.relkind = 'r' AND NOT c.relrowsecurity;

-- Nothing of ours lands outside schema orchestrator.
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS outside
  FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'orchestrator')
   AND d.deptype = 'e'
   AND coalesce((SELECT pronamespace FROM pg_proc WHERE d.classid = 'pg_proc'::regclass AND oid = d.objid),
                (SELECT relnamespace FROM pg_class WHERE d.classid = 'pg_class'::regclass AND oid = d.objid),
                (SELECT typnamespace FROM pg_type WHERE d.classid = 'pg_type'::regclass AND oid = d.objid),
                (SELECT oprnamespace FROM pg_operator WHERE d.classid = 'pg_operator'::regclass AND oid = d.objid),
                0) <> 'orchestrator'::regnamespace;

-- Only the kinds of member counted above: a cast, an event trigger or another object kind would
-- escape the check and must be looked at.
SELECT DISTINCT d.classid::regclass AS member_kind
  FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'orchestrator')
   AND d.deptype = 'e'
 ORDER BY 1;

-- The callers' functions run as the owner; every function a role may call, by role.
SELECT a.grantee::regrole AS role,
       string_agg(p.proname || CASE WHEN p.prosecdef THEN '' ELSE ' (invoker)' END, ', '
                  ORDER BY p.proname) AS functions
  FROM pg_proc p, aclexplode(p.proacl) a
 WHERE p.pronamespace = 'orchestrator'::regnamespace AND a.grantee <> p.proowner
 GROUP BY a.grantee ORDER BY 1;

-- No SECURITY DEFINER function is callable by a role that is not one of ours.
SELECT p.oid::regprocedure, a.grantee::regrole
  FROM pg_proc p, aclexplode(p.proacl) a
 WHERE p.pronamespace = 'orchestrator'::regnamespace AND a.grantee <> p.proowner
   AND a.grantee::regrole::text NOT IN ('orchestrator_reader', 'orchestrator_worker',
                                        'orchestrator_admin');

-- The roles: not able to log in, each holding the one below.
SELECT r.rolname, r.rolcanlogin, r.rolsuper,
       array(SELECT m.roleid::regrole::text FROM pg_auth_members m WHERE m.member = r.oid) AS holds
  FROM pg_roles r WHERE r.rolname LIKE 'orchestrator\_%' AND r.rolname <> 'orchestrator_pulse'
 ORDER BY 1;

-- Every table has the readers' policy and no other.
SELECT c.relname, count(pol.*) AS policies,
       bool_and(pol.polcmd = 'r' AND pol.polroles = ARRAY['orchestrator_reader'::regrole::oid]) AS readers_only
  FROM pg_class c LEFT JOIN pg_policy pol ON pol.polrelid = c.oid
 WHERE c.relnamespace = 'orchestrator'::regnamespace AND c.relkind = 'r'
 GROUP BY c.relname HAVING count(pol.*) <> 1 OR NOT bool_and(pol.polcmd = 'r');

DROP EXTENSION orchestrator;
