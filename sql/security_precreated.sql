-- Objects named like ours, made by another role before CREATE EXTENSION, make it fail, and
-- nothing of theirs is adopted into the extension.
-- (DROP EXTENSION leaves the schema CREATE EXTENSION made; an earlier test may have left it.)
DROP SCHEMA IF EXISTS orchestrator;
SELECT current_database() AS db \gset
CREATE ROLE orchestrator_test_intruder NOLOGIN;
GRANT CREATE ON DATABASE :"db" TO orchestrator_test_intruder;
\set VERBOSITY terse

-- An empty schema of the same name: whoever owns it could replace what we put there.
SET ROLE orchestrator_test_intruder;
CREATE SCHEMA orchestrator;
RESET ROLE;
CREATE EXTENSION orchestrator;

-- The same schema holding a function and a table named like ours.
SET ROLE orchestrator_test_intruder;
CREATE FUNCTION orchestrator.enqueue(workflow_type text, payload jsonb, priority integer DEFAULT 5)
    RETURNS bigint LANGUAGE sql AS 'SELECT -1::bigint';
CREATE TABLE orchestrator.task (id bigint);
RESET ROLE;
CREATE EXTENSION orchestrator;
\set VERBOSITY default
SELECT count(*) AS extensions FROM pg_extension WHERE extname = 'orchestrator';
SELECT p.oid::regprocedure::text AS object, p.proowner::regrole AS owner,
       EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                  AND d.objid = p.oid AND d.deptype = 'e') AS adopted
  FROM pg_proc p WHERE p.pronamespace = 'orchestrator'::regnamespace
UNION ALL
SELECT c.oid::regclass::text, c.relowner::regrole,
       EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
  FROM pg_class c WHERE c.relnamespace = 'orchestrator'::regnamespace;
SELECT orchestrator.enqueue('x', '{}') AS still_theirs;
\set VERBOSITY terse

-- A schema of that name made by this (super)user but already holding an object.
SET ROLE orchestrator_test_intruder;
DROP SCHEMA orchestrator CASCADE;
RESET ROLE;
CREATE SCHEMA orchestrator;
CREATE TABLE orchestrator.config (x integer);
CREATE EXTENSION orchestrator;
\set VERBOSITY default

-- Again nothing was installed, and the table is in no extension.
SELECT count(*) AS extensions FROM pg_extension WHERE extname = 'orchestrator';
SELECT c.relname, c.relowner::regrole,
       EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e') AS adopted
  FROM pg_class c WHERE c.relnamespace = 'orchestrator'::regnamespace;
DROP SCHEMA orchestrator CASCADE;

-- With no such objects it installs.
CREATE EXTENSION orchestrator;
SELECT n.nspowner::regrole = current_user::regrole AS schema_is_ours
  FROM pg_namespace n WHERE n.nspname = 'orchestrator';
DROP EXTENSION orchestrator;
DROP SCHEMA IF EXISTS orchestrator;
REVOKE CREATE ON DATABASE :"db" FROM orchestrator_test_intruder;
DROP ROLE orchestrator_test_intruder;
