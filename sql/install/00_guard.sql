-- orchestrator install script, assembled by the Makefile from sql/install/*.sql in name order.
\echo Use "CREATE EXTENSION orchestrator" to load this file. \quit
