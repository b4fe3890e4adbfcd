-- The clock every function uses: the transaction's start, or orchestrator.test_now when set.
CREATE FUNCTION orchestrator.now() RETURNS timestamptz
    LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'orchestrator_now';
