-- What an installed orchestrator looks like in the catalog, one line per fact, sorted: run on a
-- fresh install of a version and on an older version updated to it, the two outputs must be equal
-- (test/t/021_upgrade_paths.pl). Names, never OIDs; everything the extension owns or registered:
-- the extension and its pg_dump registrations, every member object, the schema, and in the schema
-- every function (signature, defaults, result, language, attributes, settings, grants, owner and a
-- digest of the body), aggregate, table, view and sequence (kind, persistence, row-level security,
-- options, grants, owner), column (position among the live ones, type, default, NOT NULL,
-- identity, generated, collation, grants), constraint, index, trigger, policy, type and comment.
-- Run it with psql -X -A -t -q.
WITH ext AS (
    SELECT e.oid, e.extname, e.extversion, e.extrelocatable, e.extnamespace, e.extconfig,
           e.extcondition
      FROM pg_catalog.pg_extension e WHERE e.extname = 'orchestrator'
), members AS (
    SELECT d.classid, d.objid, d.objsubid
      FROM pg_catalog.pg_depend d, ext
     WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
       AND d.refobjid = ext.oid AND d.deptype = 'e'
), rels AS (
    SELECT c.* FROM pg_catalog.pg_class c, ext WHERE c.relnamespace = ext.extnamespace
), procs AS (
    SELECT p.* FROM pg_catalog.pg_proc p, ext WHERE p.pronamespace = ext.extnamespace
), cons AS (
    SELECT k.* FROM pg_catalog.pg_constraint k, ext WHERE k.connamespace = ext.extnamespace
), trigs AS (
    SELECT g.* FROM pg_catalog.pg_trigger g JOIN rels r ON r.oid = g.tgrelid WHERE NOT g.tgisinternal
), types AS (
    SELECT t.* FROM pg_catalog.pg_type t, ext
     WHERE t.typnamespace = ext.extnamespace
       AND NOT (t.typtype = 'c' AND EXISTS (SELECT 1 FROM rels r WHERE r.oid = t.typrelid AND r.relkind <> 'c'))
       AND NOT (t.typcategory = 'A' AND t.typelem <> 0)   -- array types follow their element
), facts(line) AS (
    SELECT pg_catalog.concat_ws('|', 'extension', ext.extname, 'version=' || ext.extversion,
               'schema=' || ext.extnamespace::pg_catalog.regnamespace::text,
               'relocatable=' || ext.extrelocatable)
      FROM ext
    UNION ALL
    SELECT pg_catalog.concat_ws('|', 'dump', c.relid::pg_catalog.regclass::text, 'where=' || c.cond)
      FROM ext, unnest(ext.extconfig, ext.extcondition) AS c(relid, cond)
    UNION ALL
    SELECT 'member|' || pg_catalog.pg_describe_object(m.classid, m.objid, m.objsubid) FROM members m
    UNION ALL
    SELECT pg_catalog.concat_ws('|', 'schema', n.nspname, 'owner=' || pg_catalog.pg_get_userbyid(n.nspowner),
               'acl=' || coalesce(n.nspacl::text, 'default'))
      FROM pg_catalog.pg_namespace n, ext WHERE n.oid = ext.extnamespace
    UNION ALL
    SELECT pg_catalog.concat_ws('|', 'function', p.oid::pg_catalog.regprocedure::text,
               'kind=' || p.prokind::text, 'language=' || l.lanname,
               'arguments=' || pg_catalog.pg_get_function_arguments(p.oid),
               'result=' || coalesce(pg_catalog.pg_get_function_result(p.oid), ''),
               'volatility=' || p.provolatile::text, 'strict=' || p.proisstrict,
               'security_definer=' || p.prosecdef, 'leakproof=' || p.proleakproof,
               'parallel=' || p.proparallel::text, 'cost=' || p.procost, 'rows=' || p.prorows,
               'settings=' || coalesce(p.proconfig::text, ''),
               'acl=' || coalesce(p.proacl::text, 'default'),
               'owner=' || pg_catalog.pg_get_userbyid(p.proowner),
               'body=' || pg_catalog.md5(coalesce(p.prosrc, '')), 'bin=' || coalesce(p.probin, ''))
      FROM procs p JOIN pg_catalog.pg_language l ON l.oid = p.prolang
    UNION ALL
    SELECT pg_catalog.concat_ws('|', 'aggregate', a.aggfnoid::pg_catalog.regprocedure::text,
               'kind=' || a.aggkind::text, 'transition=' || a.aggtransfn::text,
               'final=' || a.aggfinalfn::text, 'combine=' || a.aggcombinefn::text,
               'state=' || pg_catalog.format_type(a.aggtranstype, NULL),
               'initial=' || coalesce(a.agginitval, ''))
      FROM pg_catalog.pg_aggregate a JOIN procs p ON p.oid = a.aggfnoid
    UNION ALL
    SELECT pg_catalog.concat_ws('|', 'relation', r.oid::pg_catalog.regclass::text,
               'kind=' || r.relkind::text, 'persistence=' || r.relpersistence::text,
               'row_security=' || r.relrowsecurity, 'force_row_security=' || r.relforcerowsecurity,
               'replica_identity=' || r.relreplident::text, 'options=' || coalesce(r.reloptions::text, ''),
               'acl=' || coalesce(r.relacl::text, 'default'),
               'owner=' || pg_catalog.pg_get_userbyid(r.relowner))
      FROM rels r WHERE r.relkind NOT IN ('i', 'I')   -- indexes: below
    UNION ALL
    SELECT pg_catalog.concat_ws('|', 'column', r.oid::pg_catalog.regclass::text,
               'position=' || pg_catalog.row_number() OVER (PARTITION BY r.oid ORDER BY a.attnum),
               a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
               'not_null=' || a.attnotnull,
               'default=' || coalesce(pg_catalog.pg_get_expr(d.adbin, d.adrelid), ''),
               'identity=' || a.attidentity::text, 'generated=' || a.attgenerated::text,
               'collation=' || coalesce(co.collname, ''),
               'acl=' || coalesce(a.attacl::text, 'default'))
      FROM rels r
      JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
     WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
    UNION ALL
    SELECT pg_catalog.concat_ws('|', 'constraint',
               coalesce(k.conrelid::pg_catalog.regclass::text, k.contypid::pg_catalog.regtype::text),
               k.conname, pg_catalog.pg_get_constraintdef(k.oid))
      FROM cons k
    UNION ALL
    SELECT pg_catalog.concat_ws('|', 'index', r.oid::pg_catalog.regclass::text,
               pg_catalog.pg_get_indexdef(r.oid))
      FROM rels r WHERE r.relkind IN ('i', 'I')
    UNION ALL
    SELECT pg_catalog.concat_ws('|', 'view', r.oid::pg_catalog.regclass::text,
               pg_catalog.regexp_replace(pg_catalog.pg_get_viewdef(r.oid), '\s+', ' ', 'g'))
      FROM rels r WHERE r.relkind IN ('v', 'm')
    UNION ALL
    SELECT pg_catalog.concat_ws('|', 'sequence', s.seqrelid::pg_catalog.regclass::text,
               pg_catalog.format_type(s.seqtypid, NULL), 'start=' || s.seqstart,
               'increment=' || s.seqincrement, 'min=' || s.seqmin, 'max=' || s.seqmax,
               'cache=' || s.seqcache, 'cycle=' || s.seqcycle,
               'owned_by=' || coalesce((SELECT d.refobjid::pg_catalog.regclass::text || '.' || a.attname
                                          FROM pg_catalog.pg_depend d
                                          JOIN pg_catalog.pg_attribute a
                                            ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                                         WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                           AND d.objid = s.seqrelid AND d.deptype IN ('a', 'i')
                                           AND d.refobjsubid > 0), ''))
      FROM pg_catalog.pg_sequence s JOIN rels r ON r.oid = s.seqrelid
    UNION ALL
    SELECT pg_catalog.concat_ws('|', 'trigger', g.tgrelid::pg_catalog.regclass::text, g.tgname,
               pg_catalog.pg_get_triggerdef(g.oid), 'enabled=' || g.tgenabled::text)
      FROM trigs g
    UNION ALL
    SELECT pg_catalog.concat_ws('|', 'policy', p.polrelid::pg_catalog.regclass::text, p.polname,
               'command=' || p.polcmd::text, 'permissive=' || p.polpermissive,
               'roles=' || (SELECT pg_catalog.string_agg(CASE WHEN x = 0 THEN 'public'
                                                              ELSE pg_catalog.pg_get_userbyid(x)::text END,
                                                         ',' ORDER BY 1)
                              FROM unnest(p.polroles) x),
               'using=' || coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), ''),
               'check=' || coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), ''))
      FROM pg_catalog.pg_policy p JOIN rels r ON r.oid = p.polrelid
    UNION ALL
    SELECT pg_catalog.concat_ws('|', 'type', t.oid::pg_catalog.regtype::text, 'kind=' || t.typtype::text,
               'base=' || pg_catalog.format_type(t.typbasetype, t.typtypmod),
               'not_null=' || t.typnotnull, 'default=' || coalesce(t.typdefault, ''),
               'labels=' || coalesce((SELECT pg_catalog.string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                                        FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid), ''),
               'acl=' || coalesce(t.typacl::text, 'default'),
               'owner=' || pg_catalog.pg_get_userbyid(t.typowner))
      FROM types t
    UNION ALL
    SELECT pg_catalog.concat_ws('|', 'default_acl', pg_catalog.pg_get_userbyid(a.defaclrole),
               'objects=' || a.defaclobjtype::text, 'acl=' || a.defaclacl::text)
      FROM pg_catalog.pg_default_acl a, ext WHERE a.defaclnamespace = ext.extnamespace
    UNION ALL
    SELECT pg_catalog.concat_ws('|', 'comment',
               pg_catalog.pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description)
      FROM pg_catalog.pg_description d
     WHERE (d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objoid IN (SELECT oid FROM rels))
        OR (d.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objoid IN (SELECT oid FROM procs))
        OR (d.classoid = 'pg_catalog.pg_type'::pg_catalog.regclass AND d.objoid IN (SELECT oid FROM types))
        OR (d.classoid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND d.objoid IN (SELECT oid FROM cons))
        OR (d.classoid = 'pg_catalog.pg_trigger'::pg_catalog.regclass AND d.objoid IN (SELECT oid FROM trigs))
        OR (d.classoid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.objoid IN (SELECT oid FROM ext))
        OR (d.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
            AND d.objoid IN (SELECT extnamespace FROM ext))
        OR (d.classoid, d.objoid, d.objsubid) IN (SELECT classid, objid, objsubid FROM members)
)
SELECT DISTINCT pg_catalog.regexp_replace(line, '\n', '\\n', 'g') FROM facts ORDER BY 1;
