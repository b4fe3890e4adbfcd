-- pg_temp.error_of(sql): runs sql and reports its error as SQLSTATE: message | detail | hint
-- (or 'no error'). Shared by the regression tests, which load it with \i from the repository root.
CREATE FUNCTION pg_temp.error_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; detail text; hint text;
BEGIN
    EXECUTE sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
        detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || message || coalesce(' | ' || nullif(detail, ''), '')
        || coalesce(' | ' || nullif(hint, ''), '');
END $$;
