-- lead_scoring 1.3 -> 1.4: only what changed; each object's current definition
-- is in its concern's file under src/sql/.
\echo Use "ALTER EXTENSION lead_scoring UPDATE TO '1.4'" to load this file. \quit
