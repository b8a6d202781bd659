#!/bin/sh
# Training on data that has what real lead data has and the learner's first
# drafts got wrong: categorical attributes with rare values (a fit rule for
# every lead source, a few matched by a handful of leads), skewed engagement
# (most leads visit once or twice, a few hundreds of times), caps that bind,
# and outcomes that depend on a few features and on an interaction (a VP who
# asked for a demo). Trained on the leads decided before the last quarter and
# judged on the others:
#   * the draft, as the extension scores it (rounded points, decay, caps),
#     ranks the held-out leads within 0.005 AUC of the unconstrained fit;
#   * the fit's held-out AUC is scikit-learn's LogisticRegression on the same
#     features, fitted on the same leads (1e-6);
#   * every rule fewer than min_support (10) training leads matched has 0
#     points, and the base model's caps bound on training leads (so the test
#     shows the problem it guards against); it prints the largest points with
#     neither the minimum support nor the bound on standard errors, and with
#     the bound alone.
#
# Run inside a cluster: pg_virtualenv -t sh test/train_realistic.sh
# LEADS=n changes the number of leads (default 20000); KEEP_DB=1 keeps the
# database ls_train_realistic and the exported files.
set -eu
cd "$(dirname "$0")/.."

NAME=train_realistic
DB=ls_train_realistic
LEADS=${LEADS:-20000}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ls_train_realistic.XXXXXX")
. test/lib.sh
sklearn_test_setup

step "$LEADS leads: rare sources, skewed engagement, an interaction"
start=$(now_ms)
dropdb --if-exists "$DB" >/dev/null 2>&1
createdb "$DB"
q -c "CREATE EXTENSION lead_scoring"
# the model first: components capped where the learnt points will go past them
q > /dev/null <<'SQL'
INSERT INTO lead_scoring.models (name, is_active) VALUES ('base', true);
INSERT INTO lead_scoring.components (model_id, component, dimension, max_points)
SELECT model_id, c, d::lead_scoring.score_dimension, m FROM lead_scoring.models,
       (VALUES ('web', 'engagement', 15), ('intent', 'engagement', 30), ('title', 'fit', 10), ('source', 'fit', 10)) v(c, d, m);
INSERT INTO lead_scoring.activity_rules (model_id, component, activity_type, points, half_life, max_points, description)
SELECT model_id, c, t, p, h::interval, cap, t FROM lead_scoring.models,
       (VALUES ('web', 'web_visit', 1, '30 days', 10), ('web', 'email_open', 1, '30 days', 5),
               ('intent', 'demo_request', 20, '60 days', 20), ('intent', 'pricing_visit', 5, '30 days', 10)) v(c, t, p, h, cap);
INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, value, points, description)
SELECT model_id, 'title', 'seniority', 'equals', to_jsonb(s), p, 'seniority ' || s FROM lead_scoring.models,
       (VALUES ('vp', 10), ('director', 5), ('manager', 2), ('student', -10)) v(s, p);
-- a rule per lead source: source_1 is common, source_40 nearly nobody's
INSERT INTO lead_scoring.fit_rules (model_id, component, attribute, test, value, points, description)
SELECT model_id, 'source', 'source', 'equals', to_jsonb('source_' || i), 1, 'source_' || i
  FROM lead_scoring.models, generate_series(1, 40) i;
SQL
q -v leads="$LEADS" > /dev/null <<'SQL'
SELECT setseed(0.31415);
CREATE TEMP TABLE draws AS
SELECT i AS lead_id, random() AS r_seniority, random() AS r_source, random() AS r_visits, random() AS r_opens,
       random() AS r_demo, random() AS r_pricing, random() AS r_close, random() AS r_won, random() AS intent
  FROM generate_series(1, :leads) i;
CREATE TEMP TABLE profiles AS
SELECT d.*,
       (ARRAY['vp', 'director', 'manager', 'staff', 'staff', 'student'])[1 + floor(r_seniority * 6)::int] AS seniority,
       -- Zipf over 40 sources: source_k with weight 1/k^2.2 (source_40 is about 1 in 5,000)
       'source_' || (SELECT min(k) FROM (SELECT k, sum(1 / k ^ 2.2) OVER (ORDER BY k) / sum(1 / k ^ 2.2) OVER () AS cdf
                                           FROM generate_series(1, 40) k) z WHERE z.cdf >= d.r_source) AS source,
       -- skewed engagement: a heavy tail of visits
       floor(exp(r_visits * 5 * intent))::int AS visits,
       floor(3 * r_opens)::int AS opens,
       r_demo < 0.25 * intent AS demo, floor(4 * r_pricing * intent)::int AS pricing,
       timestamptz '2025-01-01' + r_close * interval '360 days' AS closed_at
  FROM draws d;
INSERT INTO lead_scoring.leads (lead_id, email, attributes, created_at)
SELECT lead_id, 'lead' || lead_id || '@example.com', jsonb_build_object('seniority', seniority, 'source', source),
       closed_at - interval '120 days'
  FROM profiles;
INSERT INTO lead_scoring.activities (lead_id, activity_type, occurred_at)
SELECT lead_id, 'web_visit', closed_at - (1 + (n * 7919) % 90) * interval '1 day' FROM profiles, generate_series(1, visits) n
UNION ALL
SELECT lead_id, 'email_open', closed_at - (2 + n * 13) * interval '1 day' FROM profiles, generate_series(1, opens) n
UNION ALL
SELECT lead_id, 'demo_request', closed_at - interval '5 days' FROM profiles WHERE demo
UNION ALL
SELECT lead_id, 'pricing_visit', closed_at - (3 + n) * interval '1 day' FROM profiles, generate_series(1, pricing) n;
-- the truth: a few features, a rare source that sells, and VP x demo
INSERT INTO lead_scoring.outcomes (lead_id, outcome, closed_at)
SELECT lead_id, CASE WHEN r_won < 1 / (1 + exp(-(
         -2.2 + 0.35 * ln(1 + visits) + 1.2 * demo::int + 0.3 * pricing
         + 0.6 * (seniority = 'vp')::int + 0.3 * (seniority = 'director')::int - 1.5 * (seniority = 'student')::int
         + 1.0 * (seniority = 'vp' AND demo)::int
         + 0.8 * (source = 'source_2')::int - 0.6 * (source = 'source_3')::int + 1.5 * (source = 'source_12')::int)))
       THEN 'won' ELSE 'lost' END, closed_at
  FROM profiles;
SQL
echo "   $(q -c "SELECT format('%s leads, %s activities (at most %s for one lead), %s won', (SELECT count(*) FROM lead_scoring.leads),
                         (SELECT count(*) FROM lead_scoring.activities),
                         (SELECT max(n) FROM (SELECT count(*) AS n FROM lead_scoring.activities GROUP BY lead_id) x),
                         (SELECT count(*) FILTER (WHERE outcome = 'won') FROM lead_scoring.outcomes))"), in $(since "$start") s"

TEST_FROM=2025-10-01
step "train_model('learnt', test_from => '$TEST_FROM'), min_support 10, l2 1"
q -F ' ' > "$WORK/run.txt" <<SQL
SELECT 'run', leads, held_out_leads, auc, draft_auc, held_out_auc, draft_held_out_auc
  FROM lead_scoring.train_model('learnt', test_from => '$TEST_FROM');
SELECT 'rare', count(*), count(*) FILTER (WHERE points <> 0), coalesce(min(leads_with_feature), 0)
  FROM lead_scoring.training_coefficients WHERE leads_with_feature < 10;
SELECT 'points', max(abs(points)), count(*) FROM lead_scoring.training_coefficients;
SELECT 'caps', count(*) FILTER (WHERE leads_over_base_cap > 0), coalesce(max(leads_over_base_cap), 0)
  FROM lead_scoring.training_caps;
-- per feature, in the fit's order: 1 if the run left it out for its support or its standard error
SELECT 'left_out', array_to_string(array_agg((left_out IS NOT NULL AND left_out NOT LIKE 'no training lead%')::int
                                            ORDER BY dimension DESC, base_rule_id), ' ')
  FROM lead_scoring.training_coefficients WHERE run_id = 1;
SQL
# what the draft would rank with the base model's caps (as 1.3 wrote it), and
# the largest points when every rule is learnt however few leads matched it
q -F " " >> "$WORK/run.txt" <<SQL
SELECT lead_scoring.copy_model('learnt', 'learnt with base caps') > 0;
UPDATE lead_scoring.components c SET max_points = b.max_points
  FROM lead_scoring.components b
 WHERE c.model_id = (SELECT model_id FROM lead_scoring.models WHERE name = 'learnt with base caps')
   AND b.model_id = (SELECT model_id FROM lead_scoring.models WHERE name = 'base') AND b.component = c.component;
UPDATE lead_scoring.activity_rules r SET max_points = b.max_points
  FROM lead_scoring.activity_rules b
 WHERE r.model_id = (SELECT model_id FROM lead_scoring.models WHERE name = 'learnt with base caps')
   AND b.model_id = (SELECT model_id FROM lead_scoring.models WHERE name = 'base') AND b.activity_type = r.activity_type;
SELECT 'base_caps', lead_scoring.roc_auc(array_agg(lead_scoring.total_score(coalesce(lead_scoring.fit_score(m.definition, s.attributes), 0),
                                                                     s.engagement, m.definition, s.decided_at)),
                                        array_agg(s.won))
  FROM lead_scoring.models m, lead_scoring.states_at_decision(m.definition) s
 WHERE m.name = 'learnt with base caps' AND s.decided_at >= '$TEST_FROM';
SELECT run_id AS every_rule_run FROM lead_scoring.train_model('every rule', test_from => '$TEST_FROM', min_support => 1,
                                                                max_standard_error => 'infinity') \\gset
SELECT 'unsupported', max(abs(points)) FROM lead_scoring.training_coefficients WHERE run_id = :every_rule_run;
SELECT run_id AS bounded_run FROM lead_scoring.train_model('every rule', test_from => '$TEST_FROM', min_support => 1) \\gset
SELECT 'bounded', max(abs(points)), count(*) FILTER (WHERE left_out LIKE 'its standard error%')
  FROM lead_scoring.training_coefficients WHERE run_id = :bounded_run;
SQL
sed -i '/^t$/d' "$WORK/run.txt"
q -c "\\copy (SELECT s.lead_id || ',' || s.won::int || ',' || (s.decided_at >= '$TEST_FROM')::int || ',' || array_to_string(lead_scoring.model_features(s.engagement, m.definition, s.attributes, s.decided_at), ',') FROM lead_scoring.models m, lead_scoring.states_at_decision(m.definition) s WHERE m.name = 'base' ORDER BY s.lead_id) TO '$WORK/features.csv'"

"$PYTHON" - "$WORK" <<'PY' || fail "the draft, the fit or scikit-learn disagree (see above)"
import sys
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

work = sys.argv[1]
runs = dict((line.split()[0], [float(v) for v in line.split()[1:]]) for line in open(f"{work}/run.txt").read().splitlines())
leads, held_out, fit_auc, draft_auc, fit_held, draft_held = runs["run"]
rare, rare_with_points, rare_min = runs["rare"]
max_points, rules = runs["points"]
caps_binding, most_capped = runs["caps"]
(base_caps_held,) = runs["base_caps"]
(unsupported_max,) = runs["unsupported"]
bounded_max, bounded_left_out = runs["bounded"]
data = np.loadtxt(f"{work}/features.csv", delimiter=",", dtype=np.float64, ndmin=2)
y, test, x = data[:, 1].astype(int), data[:, 2] == 1, data[:, 3:]
train = ~test
# what train_model fits: the features it left out (fewer than 10 training
# leads, or a standard error above 2.5) are not in it
support = (x[train] != 0).sum(axis=0)
kept = np.array(runs["left_out"]) == 0
xs = x[:, kept]
mean, sd = xs[train].mean(axis=0), xs[train].std(axis=0)
used = sd > 1e-12 * np.maximum(1.0, np.abs(mean))
scaler = StandardScaler().fit(xs[train][:, used])
model = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-12, max_iter=1000)
model.fit(scaler.transform(xs[train][:, used]), y[train])
sk_held = roc_auc_score(y[test], model.decision_function(scaler.transform(xs[test][:, used])))
failures = []
def check(ok, what):
    if not ok:
        failures.append(what)
check(int(leads) == train.sum() and int(held_out) == test.sum(),
      f"leads {leads:.0f}/{held_out:.0f}, exported {train.sum()}/{test.sum()}")
check(abs(fit_held - sk_held) <= 1e-6, f"held-out AUC: fit {fit_held:.6f}, sklearn {sk_held:.6f}")
check(abs(draft_held - fit_held) <= 0.005, f"the draft's held-out AUC {draft_held:.4f} is not within 0.005 of the fit's {fit_held:.4f}")
check(rare > 0, "no rule had fewer than 10 training leads: the data does not test minimum support")
check(rare_with_points == 0, f"{rare_with_points:.0f} rules fewer than 10 training leads matched got points")
check(int(rare) == int((support < 10).sum()), f"{rare:.0f} rules left out for their support, {(support < 10).sum()} have fewer than 10 training leads")
check(caps_binding > 0, "no cap of the base model bound: the data does not test the caps")
check(base_caps_held < fit_held - 0.005,
      f"with the base model's caps the draft ranks held-out leads at {base_caps_held:.4f}, within 0.005 of the fit: the data does not test the caps")
print(f"   {leads:.0f} leads trained on, {held_out:.0f} held out; {rare:.0f} of {rules:.0f} rules left out "
      f"(fewest {rare_min:.0f} leads), largest |points| {max_points:.1f}; {caps_binding:.0f} caps would have bound "
      f"(on up to {most_capped:.0f} training leads)")
print(f"   AUC in-sample: fit {fit_auc:.4f}, draft {draft_auc:.4f}; held out: fit {fit_held:.4f}, "
      f"sklearn {sk_held:.4f}, draft {draft_held:.4f}, the draft with the base model's caps {base_caps_held:.4f}")
print(f"   the largest |points| with every rule learnt (min_support 1, no bound on the standard error) would be "
      f"{unsupported_max:.1f}; with the bound alone {bounded_max:.1f} ({bounded_left_out:.0f} rules left out for it)")
for f in failures:
    print("   disagreement:", f, file=sys.stderr)
sys.exit(1 if failures else 0)
PY
echo "ok: $NAME"
