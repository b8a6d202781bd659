-- lead_scoring extension script, built from src/sql/*.sql by the Makefile.
\echo Use "CREATE EXTENSION lead_scoring" to load this file. \quit
