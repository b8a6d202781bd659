#!/bin/sh
# Training against a reference implementation: on 100,000 synthetic leads whose
# outcomes follow a known logistic ground truth (demo/sample_model.sql's rules,
# and one no activity matches, give the 35 features), lead_scoring.train_model() must agree with scikit-learn's
# LogisticRegression(C = 1 / l2) on StandardScaler-ed features (Debian's
# python3-sklearn, run by /usr/bin/python3) on exactly the feature matrix and
# outcomes the trainer used:
#   * AUC within 0.01 (in practice they agree to far less);
#   * intercept and coefficients on the original scale within 1e-3 relative
#     (max(1, |coefficient|)), standard errors within 1e-3 relative, mean
#     log-loss within 1e-6;
#   * lead_scoring.roc_auc() equal to sklearn.metrics.roc_auc_score() to 1e-9,
#     on the fitted scores and on a score with many ties;
#   * trained on the leads decided before October 2020 and judged on the
#     others: the fit's held-out AUC equal to sklearn's (1e-6), and the draft's
#     own, as the extension scores it with its caps, within 0.005 of it.
# It prints how long training took (seconds, not minutes, for 100,000 leads)
# but asserts no time.
#
# Run inside a cluster: pg_virtualenv -t sh test/train_vs_sklearn.sh
# (PGHOST/PGPORT/PGUSER set, as a superuser). Creates and drops database
# ls_train_sklearn; KEEP_DB=1 keeps it and the exported files for inspection.
# LEADS=n changes the number of leads.
set -eu
cd "$(dirname "$0")/.."   # the checkout: demo/sample_model.sql and test/lib.sh

NAME=train_vs_sklearn
DB=ls_train_sklearn
LEADS=${LEADS:-100000}
L2=1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ls_train_sklearn.XXXXXX")
. test/lib.sh
sklearn_test_setup

step "$LEADS leads with activities and outcomes from a known logistic ground truth"
start=$(now_ms)
dropdb --if-exists "$DB" >/dev/null 2>&1
createdb "$DB"
q -c "CREATE EXTENSION lead_scoring"
# Leads and activities go in before any model exists, so live scoring has
# nothing to do; loading the model then scores them all once.
q -v leads="$LEADS" <<'SQL'
SELECT setseed(0.2718);
-- one row of draws per lead; intent is hidden, and drives activity and winning
CREATE TEMP TABLE draws AS
SELECT i AS lead_id, random() AS intent, random() AS r_title, random() AS r_employees, random() AS r_industry,
       random() AS r_country, random() AS r_phone, random() AS r_domain, random() AS r_close, random() AS r_n,
       random() AS r_demo, random() AS r_demo_t, random() AS r_trial, random() AS r_trial_t,
       random() AS r_contact, random() AS r_contact_t, random() AS r_unsub, random() AS r_unsub_t,
       random() AS r_bounce, random() AS r_late, random() AS r_won, random() AS r_dq
  FROM generate_series(1, :leads) i;

CREATE TEMP TABLE profiles AS
SELECT d.*,
       (ARRAY['CEO', 'Founder', 'VP Marketing', 'Director of IT', 'Head of Growth', 'Marketing Manager',
              'IT Manager', 'Software Engineer', 'Data Analyst', 'Consultant', 'Student', NULL])[1 + floor(r_title * 12)::int] AS title,
       (ARRAY['executive', 'executive', 'marketing', 'it', 'marketing', 'marketing',
              'it', 'engineering', 'it', 'consulting', 'education', NULL])[1 + floor(r_title * 12)::int] AS department,
       CASE WHEN r_employees < 0.05 THEN NULL
            ELSE round(exp(ln(2) + (r_employees - 0.05) / 0.95 * ln(25000)))::int END AS employees,
       (ARRAY['software', 'healthcare', 'retail', 'education', 'government', 'media'])[1 + floor(r_industry * 6)::int] AS industry,
       (ARRAY['US', 'US', 'US', 'GB', 'DE', 'CA', 'IN', 'BR'])[1 + floor(r_country * 8)::int] AS country,
       CASE WHEN r_domain < 0.12 THEN 'gmail.com' WHEN r_domain < 0.13 THEN 'mailinator.com'
            ELSE 'company' || lead_id || '.com' END AS domain,
       -- the decision: an outcome closed some time in 2020, long before any handoff the model's activation makes
       timestamptz '2020-01-01' + r_close * interval '360 days' AS closed_at,
       -- few activities per lead (2 on average), more with intent
       floor(4 * intent ^ 2 + 1.5 * r_n)::int AS n_activities
  FROM draws d;

CREATE TEMP TABLE acts AS
WITH everyday AS (
  SELECT p.lead_id, p.intent, p.title, random() AS r_type, random() AS r_time, random() AS r_prop
    FROM profiles p, generate_series(1, p.n_activities)
)
SELECT lead_id,
       CASE WHEN r_type < 0.40 THEN 'web_visit' WHEN r_type < 0.62 THEN 'email_open'
            WHEN r_type < 0.72 THEN 'email_click' WHEN r_type < 0.78 THEN 'content_download'
            WHEN r_type < 0.83 THEN 'video_watched' WHEN r_type < 0.87 THEN 'webinar_registered'
            WHEN r_type < 0.90 THEN 'webinar_attended' WHEN r_type < 0.91 THEN 'event_visit'
            ELSE 'chat_started' END AS activity_type,
       0.01 + 120 * r_time ^ 1.5 AS days_before,
       r_prop, intent, title = 'Student' AS is_student, r_type
  FROM everyday;
ALTER TABLE acts ADD COLUMN properties jsonb;
UPDATE acts SET properties = CASE activity_type
    WHEN 'web_visit' THEN jsonb_build_object('page', CASE
           WHEN is_student AND r_prop < 0.4 THEN 'careers'
           WHEN r_prop < 0.05 + 0.25 * intent THEN 'pricing'
           WHEN r_prop < 0.07 + 0.25 * intent THEN 'careers'
           WHEN r_prop < 0.20 + 0.25 * intent THEN 'product'
           ELSE 'blog' END)
    WHEN 'content_download' THEN jsonb_build_object('asset', CASE WHEN r_prop < 0.4 * intent THEN 'case_study' ELSE 'whitepaper' END)
    ELSE '{}' END;
-- hand raisers (high intent, shortly before the decision) and bad news
INSERT INTO acts (lead_id, activity_type, days_before, properties)
SELECT lead_id, 'demo_request', 0.01 + 20 * r_demo_t, '{}'::jsonb FROM profiles WHERE r_demo < 0.6 * intent ^ 4
UNION ALL
SELECT lead_id, 'trial_signup', 0.01 + 30 * r_trial_t, '{}' FROM profiles WHERE r_trial < 0.4 * intent ^ 3
UNION ALL
SELECT lead_id, 'contact_sales', 0.01 + 15 * r_contact_t, '{}' FROM profiles WHERE r_contact < 0.2 * intent ^ 2
UNION ALL
SELECT lead_id, 'unsubscribe', 0.01 + 90 * r_unsub_t, '{}' FROM profiles WHERE intent < 0.5 AND r_unsub < 0.12
UNION ALL
SELECT lead_id, 'email_bounce', 0.01 + 60 * r_unsub_t, '{}' FROM profiles WHERE r_bounce < 0.02
UNION ALL
-- after the decision: must not count (a pricing visit by a won customer would leak the outcome)
SELECT lead_id, 'web_visit', -1 - 10 * r_late, '{"page": "pricing"}' FROM profiles WHERE r_late < 0.05;

-- The ground truth: log-odds of winning from what happened before the decision and who the lead is
CREATE TEMP TABLE truth AS
SELECT p.lead_id, p.closed_at, p.r_won, p.r_dq,
       -2.6 + 1.5 * (count(*) FILTER (WHERE a.activity_type = 'demo_request') > 0)::int
            + 0.9 * (count(*) FILTER (WHERE a.activity_type = 'trial_signup') > 0)::int
            + 0.6 * (count(*) FILTER (WHERE a.activity_type = 'contact_sales') > 0)::int
            + 0.30 * least(count(*) FILTER (WHERE a.activity_type = 'web_visit' AND a.properties->>'page' = 'pricing'), 4)
            + 0.10 * least(count(*) FILTER (WHERE a.activity_type IN ('web_visit', 'email_click')), 6)
            + 0.50 * (count(*) FILTER (WHERE a.activity_type = 'webinar_attended') > 0)::int
            - 1.2 * (count(*) FILTER (WHERE a.activity_type = 'unsubscribe') > 0)::int
            + 0.8 * (p.title IN ('CEO', 'Founder'))::int + 0.5 * (p.title IN ('VP Marketing', 'Director of IT', 'Head of Growth'))::int
            - 2.0 * (p.title = 'Student')::int
            + 0.6 * coalesce(p.employees BETWEEN 200 AND 4999, false)::int - 0.5 * coalesce(p.employees < 10, false)::int
            + 0.4 * (p.country = 'US')::int + 0.3 * (p.industry = 'software')::int
            - 0.9 * (p.domain = 'gmail.com')::int - 2.5 * (p.domain = 'mailinator.com')::int
            + 1.0 * (p.intent - 0.5) AS log_odds
  FROM profiles p LEFT JOIN acts a ON a.lead_id = p.lead_id AND a.days_before > 0
 GROUP BY p.lead_id, p.closed_at, p.r_won, p.r_dq, p.title, p.employees, p.country, p.industry, p.domain, p.intent;

INSERT INTO lead_scoring.leads (lead_id, email, first_name, last_name, company, attributes, created_at)
SELECT lead_id, 'lead' || lead_id || '@' || domain, 'Lead', CASE WHEN lead_id % 700 = 0 THEN 'Mouse' ELSE 'Smith' END,
       'Company ' || lead_id,
       jsonb_strip_nulls(jsonb_build_object('title', title, 'department', department, 'employees', employees,
                                            'industry', industry, 'country', country,
                                            'phone', CASE WHEN r_phone < 0.5 THEN '+1 555 0100' END)),
       closed_at - interval '200 days'
  FROM profiles ORDER BY lead_id;
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at, properties)
SELECT a.lead_id, a.activity_type, p.closed_at - a.days_before * interval '1 day', a.properties
  FROM acts a JOIN profiles p USING (lead_id) ORDER BY a.lead_id, a.days_before DESC;
INSERT INTO lead_scoring.outcomes (lead_id, outcome, amount, closed_at)
SELECT lead_id, CASE WHEN r_won < 1 / (1 + exp(-log_odds)) THEN 'won' WHEN r_dq < 0.3 THEN 'disqualified' ELSE 'lost' END,
       CASE WHEN r_won < 1 / (1 + exp(-log_odds)) THEN 10000 END, closed_at
  FROM truth ORDER BY lead_id;
SQL
q -f demo/sample_model.sql > /dev/null
# the base model: a draft copy of 'demo' with one more rule, which no activity
# matches, so that one feature is constant (left out: coefficient 0, no standard error)
q > /dev/null <<'SQL'
SELECT lead_scoring.copy_model('demo', 'base');
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points, half_life, description)
SELECT model_id, 'events', 'fax_received', 5, '30 days', 'Nobody sends faxes' FROM lead_scoring.models WHERE name = 'base';
SQL
q -c "ANALYZE"
counts=$(q -c "SELECT format('%s leads, %s activities, %s won', (SELECT count(*) FROM lead_scoring.leads),
                             (SELECT count(*) FROM lead_scoring.activities),
                             (SELECT count(*) FILTER (WHERE outcome = 'won') FROM lead_scoring.outcomes))")
echo "   $counts, in $(since "$start") s"

step "train_model('trained', l2 => $L2)"
start=$(now_ms)
q -c "SELECT * FROM lead_scoring.train_model('trained', base_model => 'base', l2 => $L2)" > "$WORK/run.txt" \
	|| fail "train_model failed"
train_seconds=$(since "$start")
echo "   trained in $train_seconds s: $(cat "$WORK/run.txt")"

step "export the trainer's features, outcomes and fit"
# exactly what train_model fits: the same function, in the same (lead_id) order
q <<SQL
\\copy (SELECT s.lead_id || ',' || s.won::int || ',' || array_to_string(lead_scoring.model_features(s.engagement, m.definition, s.attributes, s.decided_at), ',') FROM lead_scoring.states_at_decision((SELECT definition FROM lead_scoring.models WHERE name = 'base')) s, lead_scoring.models m WHERE m.name = 'base' ORDER BY s.lead_id) TO '$WORK/features.csv'
SQL
# the run's fit, coefficients in feature order (activity rules, then fit rules, each by rule_id)
q -F ' ' > "$WORK/db_fit.txt" <<'SQL'
SELECT 'leads', leads FROM lead_scoring.training_runs WHERE run_id = (SELECT max(run_id) FROM lead_scoring.training_runs);
SELECT 'wins', wins FROM lead_scoring.training_runs WHERE run_id = (SELECT max(run_id) FROM lead_scoring.training_runs);
SELECT 'intercept', intercept FROM lead_scoring.training_runs WHERE run_id = (SELECT max(run_id) FROM lead_scoring.training_runs);
SELECT 'intercept_se', intercept_standard_error FROM lead_scoring.training_runs WHERE run_id = (SELECT max(run_id) FROM lead_scoring.training_runs);
SELECT 'auc', auc FROM lead_scoring.training_runs WHERE run_id = (SELECT max(run_id) FROM lead_scoring.training_runs);
SELECT 'log_loss', log_loss FROM lead_scoring.training_runs WHERE run_id = (SELECT max(run_id) FROM lead_scoring.training_runs);
SELECT 'iterations', iterations FROM lead_scoring.training_runs WHERE run_id = (SELECT max(run_id) FROM lead_scoring.training_runs);
SELECT 'converged', converged::int FROM lead_scoring.training_runs WHERE run_id = (SELECT max(run_id) FROM lead_scoring.training_runs);
SELECT 'coefficients', array_to_string(array_agg(coefficient ORDER BY dimension DESC, base_rule_id), ',')
  FROM lead_scoring.training_coefficients WHERE run_id = (SELECT max(run_id) FROM lead_scoring.training_runs);
SELECT 'standard_errors', array_to_string(array_agg(coalesce(standard_error, 'NaN') ORDER BY dimension DESC, base_rule_id), ',')
  FROM lead_scoring.training_coefficients WHERE run_id = (SELECT max(run_id) FROM lead_scoring.training_runs);
SELECT 'points', array_to_string(array_agg(points ORDER BY dimension DESC, base_rule_id), ',')
  FROM lead_scoring.training_coefficients WHERE run_id = (SELECT max(run_id) FROM lead_scoring.training_runs);
SELECT 'draft_points', array_to_string(array_agg(points ORDER BY rule_id), ',')
  FROM (SELECT points, rule_id, 0 AS k FROM lead_scoring.activity_rules r JOIN lead_scoring.models m USING (model_id) WHERE m.name = 'trained'
        UNION ALL
        SELECT points, rule_id + 1000000000, 1 FROM lead_scoring.fit_rules r JOIN lead_scoring.models m USING (model_id) WHERE m.name = 'trained') x;
SQL

"$PYTHON" - "$WORK" "$L2" > "$WORK/scores.csv" <<'PY'
# sklearn's fit on the same matrix; writes lead_id, won, its linear predictor
# and a tie-heavy score for roc_auc, and keeps its results for the comparison
import json, sys
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

work, l2 = sys.argv[1], float(sys.argv[2])
data = np.loadtxt(f"{work}/features.csv", delimiter=",", dtype=np.float64, ndmin=2)
lead_id, y, x = data[:, 0].astype(np.int64), data[:, 1].astype(int), data[:, 2:]
n, p = x.shape
# a feature every lead shares is left out, as the C code does (coefficient 0)
mean, sd = x.mean(axis=0), x.std(axis=0)
used = sd > 1e-12 * np.maximum(1.0, np.abs(mean))
scaler = StandardScaler().fit(x[:, used])
z = scaler.transform(x[:, used])
try:
    model = LogisticRegression(C=1 / l2, solver="newton-cholesky", tol=1e-12, max_iter=1000)
    model.fit(z, y)
except ValueError:  # scikit-learn before 1.2
    model = LogisticRegression(C=1 / l2, solver="lbfgs", tol=1e-12, max_iter=100000)
    model.fit(z, y)
beta = model.coef_[0]
coefficients = np.zeros(p)
coefficients[used] = beta / scaler.scale_
intercept = model.intercept_[0] - np.sum(beta * scaler.mean_ / scaler.scale_)
# standard errors: the inverse Hessian of the penalised objective (intercept unpenalised)
zz = np.hstack([np.ones((n, 1)), z])
prob = model.predict_proba(z)[:, 1]
hessian = zz.T @ (zz * (prob * (1 - prob))[:, None]) + l2 * np.diag([0.0] + [1.0] * z.shape[1])
cov = np.linalg.inv(hessian)
se = np.full(p, np.nan)
se[used] = np.sqrt(np.diag(cov)[1:]) / scaler.scale_
a = np.concatenate([[1.0], -scaler.mean_ / scaler.scale_])
json.dump({"n": int(n), "p": int(p), "used": int(used.sum()), "wins": int(y.sum()),
           "solver": model.solver, "n_iter": int(model.n_iter_[0]),
           "intercept": float(intercept), "coefficients": coefficients.tolist(),
           "intercept_se": float(np.sqrt(a @ cov @ a)), "standard_errors": se.tolist()},
          open(f"{work}/sklearn_fit.json", "w"))
eta = model.decision_function(z)
nonzero = (x != 0).sum(axis=1)  # features a lead has: a small integer, so many ties
for i in range(n):
    print(f"{lead_id[i]},{y[i]},{eta[i]!r},{nonzero[i]}")
PY

step "lead_scoring.roc_auc on sklearn's scores and on a score with ties"
q -F ' ' <<SQL
CREATE TEMP TABLE scores (lead_id bigint, won int, eta float8, ties float8);
\\copy scores FROM '$WORK/scores.csv' WITH (FORMAT csv)
\\o $WORK/db_auc.txt
SELECT 'roc_auc_eta', lead_scoring.roc_auc(array_agg(eta ORDER BY lead_id), array_agg(won = 1 ORDER BY lead_id)) FROM scores;
SELECT 'roc_auc_ties', lead_scoring.roc_auc(array_agg(ties ORDER BY lead_id), array_agg(won = 1 ORDER BY lead_id)) FROM scores;
SQL

step "compare with scikit-learn"
"$PYTHON" - "$WORK" "$train_seconds" <<'PY' || fail "lead_scoring and scikit-learn disagree (see above)"
import json, sys
import numpy as np
from sklearn.metrics import log_loss, roc_auc_score

work, train_seconds = sys.argv[1], sys.argv[2]
db = dict(line.split(" ", 1) for line in open(f"{work}/db_fit.txt").read().splitlines())
db.update(dict(line.split(" ", 1) for line in open(f"{work}/db_auc.txt").read().splitlines() if line))
sk = json.load(open(f"{work}/sklearn_fit.json"))
scores = np.loadtxt(f"{work}/scores.csv", delimiter=",", ndmin=2)
y, eta, ties = scores[:, 1].astype(int), scores[:, 2], scores[:, 3]
floats = lambda s: np.array([float(v) for v in s.split(",")])
coef_db, se_db = floats(db["coefficients"]), floats(db["standard_errors"])
coef_sk, se_sk = np.array(sk["coefficients"]), np.array(sk["standard_errors"])
failures = []
def check(ok, what):
    if not ok:
        failures.append(what)

check(int(db["leads"]) == sk["n"] and int(db["wins"]) == sk["wins"],
      f"leads/wins: db {db['leads']}/{db['wins']}, exported {sk['n']}/{sk['wins']}")
check(db["converged"] == "1", "the database's fit did not converge")
check(len(coef_db) == sk["p"], f"{len(coef_db)} coefficients in the database, {sk['p']} features exported")
auc_db, auc_sk = float(db["auc"]), roc_auc_score(y, eta)
check(abs(auc_db - auc_sk) < 0.01, f"AUC: db {auc_db:.6f}, sklearn {auc_sk:.6f}")
scale = np.maximum(1.0, np.abs(coef_sk))
coef_diff = np.abs(coef_db - coef_sk) if len(coef_db) == sk["p"] else np.array([np.inf])
check(np.all(coef_diff <= 1e-3 * scale),
      f"coefficients differ by up to {coef_diff.max():.3g} (feature {int(np.argmax(coef_diff / scale)) + 1})"
      f": db {coef_db.tolist()} sklearn {coef_sk.tolist()}")
intercept_diff = abs(float(db["intercept"]) - sk["intercept"])
check(intercept_diff <= 1e-3 * max(1.0, abs(sk["intercept"])),
      f"intercept: db {db['intercept']}, sklearn {sk['intercept']!r}")
if len(se_db) == sk["p"]:
    both = ~np.isnan(se_sk)
    check(np.array_equal(np.isnan(se_db), np.isnan(se_sk)), "standard errors missing for different features")
    se_rel = np.max(np.abs(se_db[both] - se_sk[both]) / se_sk[both])
    check(se_rel <= 1e-3, f"standard errors differ by up to {se_rel:.3g} relative")
else:
    se_rel = np.inf
se0_rel = abs(float(db["intercept_se"]) - sk["intercept_se"]) / sk["intercept_se"]
check(se0_rel <= 1e-3, f"intercept standard error: db {db['intercept_se']}, numpy {sk['intercept_se']!r}")
ll_sk = log_loss(y, 1 / (1 + np.exp(-eta)))
check(abs(float(db["log_loss"]) - ll_sk) <= 1e-6, f"log-loss: db {db['log_loss']}, sklearn {ll_sk!r}")
points = floats(db["points"])
check(np.allclose(points, np.round(coef_db * 20 / np.log(2), 1), atol=0.051),
      "points are not coefficient * 20 / ln 2 rounded to 0.1")
check(np.array_equal(floats(db["draft_points"]), points), "the draft model's points are not the run's")
# lead_scoring.roc_auc against roc_auc_score on the same scores
roc_eta_diff = abs(float(db["roc_auc_eta"]) - auc_sk)
roc_ties_sk = roc_auc_score(y, ties)
roc_ties_diff = abs(float(db["roc_auc_ties"]) - roc_ties_sk)
check(roc_eta_diff <= 1e-9, f"roc_auc on sklearn's scores: db {db['roc_auc_eta']}, sklearn {auc_sk!r}")
check(roc_ties_diff <= 1e-9, f"roc_auc on a tied score: db {db['roc_auc_ties']}, sklearn {roc_ties_sk!r}")

print(f"   sklearn {sk['solver']} ({sk['n_iter']} iterations) on {sk['used']} of {sk['p']} features; "
      f"database Newton: {db['iterations']} iterations")
print(f"   intercept db {float(db['intercept']):.6f} sklearn {sk['intercept']:.6f}; "
      f"max |coefficient difference| {coef_diff.max():.2e}, intercept {intercept_diff:.2e}, "
      f"standard errors {se_rel:.2e} relative; log-loss db {float(db['log_loss']):.6f} sklearn {ll_sk:.6f}")
print(f"   roc_auc vs roc_auc_score: {roc_eta_diff:.1e} on the fitted scores, {roc_ties_diff:.1e} on a tied score "
      f"({float(db['roc_auc_ties']):.6f})")
print(f"train_vs_sklearn: leads={sk['n']} features={sk['p']} auc_db={auc_db:.4f} auc_sklearn={auc_sk:.4f} "
      f"max_coef_diff={coef_diff.max():.2e} train_seconds={train_seconds}")
for f in failures:
    print("   disagreement:", f, file=sys.stderr)
sys.exit(1 if failures else 0)
PY

# Held out by decision date: trained on the leads decided before October 2020,
# judged on those after. The draft, as the extension scores it (rounded
# points, decay, and the base model's caps, which the learnt points go past),
# must rank the held-out leads within 0.005 AUC of the unconstrained fit, and
# the fit's held-out AUC must be sklearn's, fitted on the same training rows.
TEST_FROM=2020-10-01
step "train_model('held out', test_from => '$TEST_FROM')"
q -F ' ' > "$WORK/held.txt" <<SQL
SELECT 'leads', leads, held_out_leads, held_out_auc, draft_held_out_auc, auc, draft_auc
  FROM lead_scoring.train_model('held out', base_model => 'base', l2 => $L2, test_from => '$TEST_FROM');
SELECT 'caps_raised', count(*) FILTER (WHERE draft_cap > base_cap), coalesce(max(leads_over_base_cap), 0)
  FROM lead_scoring.training_caps WHERE run_id = (SELECT max(run_id) FROM lead_scoring.training_runs);
SQL
q -c "\\copy (SELECT lead_id FROM lead_scoring.lead_decisions WHERE outcome IS NOT NULL AND decided_at >= '$TEST_FROM' ORDER BY lead_id) TO '$WORK/held_out_ids.csv'"
"$PYTHON" - "$WORK" "$L2" <<'PY' || fail "the draft or the fit disagrees on the held-out leads (see above)"
import sys
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

work, l2 = sys.argv[1], float(sys.argv[2])
held = dict((line.split()[0], line.split()[1:]) for line in open(f"{work}/held.txt").read().splitlines())
leads, held_out, fit_held_auc, draft_held_auc, fit_auc, draft_auc = (float(v) for v in held["leads"])
caps_raised, most_capped = (int(v) for v in held["caps_raised"])
data = np.loadtxt(f"{work}/features.csv", delimiter=",", dtype=np.float64, ndmin=2)
test_ids = set(np.loadtxt(f"{work}/held_out_ids.csv", dtype=np.int64, ndmin=1).tolist())
is_test = np.array([int(i) in test_ids for i in data[:, 0]])
y, x = data[:, 1].astype(int), data[:, 2:]
train, test = ~is_test, is_test
mean, sd = x[train].mean(axis=0), x[train].std(axis=0)
used = sd > 1e-12 * np.maximum(1.0, np.abs(mean))
scaler = StandardScaler().fit(x[train][:, used])
model = LogisticRegression(C=1 / l2, solver="newton-cholesky", tol=1e-12, max_iter=1000)
model.fit(scaler.transform(x[train][:, used]), y[train])
sk_held_auc = roc_auc_score(y[test], model.decision_function(scaler.transform(x[test][:, used])))
failures = []
if int(leads) != train.sum() or int(held_out) != test.sum():
    failures.append(f"leads {leads:.0f}/{held_out:.0f} trained/held out, {train.sum()}/{test.sum()} exported")
if abs(fit_held_auc - sk_held_auc) > 1e-6:
    failures.append(f"held-out AUC of the fit {fit_held_auc:.6f}, sklearn's {sk_held_auc:.6f}")
if abs(draft_held_auc - fit_held_auc) > 0.005:
    failures.append(f"the draft's held-out AUC {draft_held_auc:.4f} is not within 0.005 of the fit's {fit_held_auc:.4f}")
print(f"   {leads:.0f} leads trained on, {held_out:.0f} held out; {caps_raised} caps raised "
      f"(the most binding would have capped {most_capped} training leads)")
print(f"   AUC in-sample: fit {fit_auc:.4f}, draft {draft_auc:.4f}; held out: fit {fit_held_auc:.4f}, "
      f"sklearn {sk_held_auc:.4f}, draft {draft_held_auc:.4f}")
for f in failures:
    print("   disagreement:", f, file=sys.stderr)
sys.exit(1 if failures else 0)
PY
echo "ok: $NAME"
