-- The C++/PostgreSQL boundary: C++ exceptions become clean errors with their SQLSTATE, and a
-- PostgreSQL error raised under C++ code unwinds the C++ stack (destructors run) and reaches
-- the client unchanged.
CREATE EXTENSION orchestrator;
CREATE FUNCTION pg_temp.throw_cpp(kind text) RETURNS boolean
    LANGUAGE c STRICT AS '$libdir/orchestrator', 'orchestrator_test_throw';
CREATE FUNCTION pg_temp.pg_error_under_cpp(sql text) RETURNS boolean
    LANGUAGE c STRICT AS '$libdir/orchestrator', 'orchestrator_test_pg_error_under_cpp';
CREATE FUNCTION pg_temp.destructors_run() RETURNS bigint
    LANGUAGE c AS '$libdir/orchestrator', 'orchestrator_test_destructor_count';

\i sql/helpers/error_of.sql

-- core::Error carries its SQLSTATE, detail and hint
SELECT pg_temp.throw_cpp('error');
SELECT pg_temp.error_of($$SELECT pg_temp.throw_cpp('error')$$);
-- std::bad_alloc is out of memory
SELECT pg_temp.error_of($$SELECT pg_temp.throw_cpp('bad_alloc')$$);
-- any other exception is an internal error with its message
SELECT pg_temp.error_of($$SELECT pg_temp.throw_cpp('std')$$);
SELECT pg_temp.error_of($$SELECT pg_temp.throw_cpp('unknown')$$);
-- the session goes on working, and every C++ destructor ran
SELECT pg_temp.throw_cpp('none') AS still_working, pg_temp.destructors_run() AS destructors_run;

-- PostgreSQL errors under C++ keep their own SQLSTATE and message
SELECT pg_temp.pg_error_under_cpp('SELECT 1/0');
SELECT pg_temp.error_of($$SELECT pg_temp.pg_error_under_cpp('SELECT 1/0')$$);
SELECT pg_temp.pg_error_under_cpp('SELECT * FROM no_such_table');
SELECT pg_temp.pg_error_under_cpp($$SELECT 'x'::int$$);
-- four more destructors ran on the way out
SELECT pg_temp.destructors_run() AS destructors_run;
-- and the error can be caught by PL/pgSQL like any other
DO $$
BEGIN
    PERFORM pg_temp.pg_error_under_cpp('SELECT 1/0');
EXCEPTION WHEN division_by_zero THEN
    RAISE NOTICE 'caught %', SQLSTATE;
END $$;
SELECT pg_temp.pg_error_under_cpp('SELECT 1') AS works_after_errors, pg_temp.destructors_run() AS destructors_run;

-- the test clock
SET orchestrator.test_now = '2026-01-01 12:00:00+00';
SELECT orchestrator.now() = '2026-01-01 12:00:00+00'::timestamptz AS frozen;
RESET orchestrator.test_now;
SELECT orchestrator.now() = now() AS follows_transaction;
SET orchestrator.test_now = 'not a time';
SELECT orchestrator.now();
RESET orchestrator.test_now;

-- A query the JIT compiles and inlines, calling our C functions: the library ships no bitcode,
-- so there is nothing to inline (PostgreSQL's inliner aborted the backend on C++ bitcode).
SET jit_above_cost = 0;
SET jit_inline_above_cost = 0;
SELECT count(orchestrator.budget_day_start('2026-01-01 00:00:00+00'::timestamptz + x * interval '1 hour')) AS days
  FROM generate_series(1, 3) x;
RESET jit_above_cost;
RESET jit_inline_above_cost;
DROP EXTENSION orchestrator;
