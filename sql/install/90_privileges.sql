-- Nothing is open to PUBLIC; access is granted explicitly.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA orchestrator FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA orchestrator FROM PUBLIC;
