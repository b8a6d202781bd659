-- lead_scoring 1.1 -> 1.2: the feedback loop (outcomes, calibration, training,
-- backtests, model versions, explanations).
\echo Use "ALTER EXTENSION lead_scoring UPDATE TO '1.2'" to load this file. \quit
