-- orchestrator install script, assembled by the Makefile from sql/install/*.sql in name order.
\echo Use "CREATE EXTENSION orchestrator" to load this file. \quit

-- CREATE EXTENSION makes schema orchestrator itself. One that already exists belongs to whoever
-- made it, who could change or replace what we put in it: refused, as is one holding anything.
DO $guard$
BEGIN
    IF (SELECT n.nspowner FROM pg_catalog.pg_namespace n WHERE n.nspname = 'orchestrator')
       IS DISTINCT FROM (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER)
    THEN
        RAISE EXCEPTION 'schema orchestrator already exists and belongs to another role'
            USING ERRCODE = '42P06',
                  HINT = 'Drop it; CREATE EXTENSION orchestrator creates the schema itself.';
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_class WHERE relnamespace = 'orchestrator'::regnamespace)
       OR EXISTS (SELECT FROM pg_catalog.pg_proc WHERE pronamespace = 'orchestrator'::regnamespace)
       OR EXISTS (SELECT FROM pg_catalog.pg_type WHERE typnamespace = 'orchestrator'::regnamespace)
       OR EXISTS (SELECT FROM pg_catalog.pg_operator
                   WHERE oprnamespace = 'orchestrator'::regnamespace)
    THEN
        RAISE EXCEPTION 'schema orchestrator already holds objects'
            USING ERRCODE = '42P06',
                  HINT = 'Drop the schema; CREATE EXTENSION orchestrator creates it itself.';
    END IF;
END
$guard$;
