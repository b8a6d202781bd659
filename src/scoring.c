/*
 * scoring.c
 *		Evaluate a model: engagement from a state at an instant, fit from a
 *		lead's attributes, each capped per rule and per component, with a
 *		breakdown whose rows add up exactly to the score.
 */
#include "lead_scoring.h"

#include <math.h>

#include "catalog/pg_collation_d.h"
#include "catalog/pg_type_d.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/numeric.h"

/* One rule's part of a score. */
typedef struct Contribution
{
	int32		rule_id;
	int			component;
	int64		activities;
	TimestampTz latest;
	double		before_caps;
	double		after_rule_cap;
	double		points;			/* after the component cap */
} Contribution;

/* A value kept within -cap..+cap, if there is a cap. */
static double
clamp_to_cap(double value, bool has_cap, double cap)
{
	if (!has_cap)
		return value;
	return Max(-cap, Min(cap, value));
}

/* Up to this many components, rules or counters, an evaluation allocates nothing. */
#define LOCAL_ITEMS 64

/*
 * Apply component caps to the contributions and return the capped total.
 * When a component is capped, its rules share the cap in proportion to what
 * they brought, so the breakdown still adds up to the score.
 */
static double
apply_component_caps(const ScoringModel *model, Contribution *parts, int nparts)
{
	double		local[LOCAL_ITEMS];
	double	   *sums = model->ncomponents <= LOCAL_ITEMS ? local
		: palloc(sizeof(double) * model->ncomponents);
	double		total = 0;

	for (int c = 0; c < model->ncomponents; c++)
		sums[c] = 0;
	for (int i = 0; i < nparts; i++)
		sums[parts[i].component] += parts[i].after_rule_cap;
	for (int i = 0; i < nparts; i++)
	{
		const ModelComponent *c = &model->components[parts[i].component];
		double		sum = sums[parts[i].component];
		double		capped = clamp_to_cap(sum, c->has_cap, c->max_points);

		parts[i].points = (capped == sum) ? parts[i].after_rule_cap
			: parts[i].after_rule_cap * (capped / sum);
	}
	for (int c = 0; c < model->ncomponents; c++)
		total += clamp_to_cap(sums[c], model->components[c].has_cap,
							  model->components[c].max_points);
	if (sums != local)
		pfree(sums);
	return total;
}

/*
 * The instant a state is evaluated at: as_of, or its latest activity if that
 * is later, so an activity dated after as_of never makes older ones grow.
 */
TimestampTz
evaluation_instant(const EngagementState *state, TimestampTz as_of)
{
	TimestampTz at = as_of;

	for (int i = 0; i < state->nentries; i++)
		at = Max(at, state->entries[i].latest);
	return at;
}

/*
 * Whether this transaction edited the active model and its states are not
 * rebuilt yet (set by compile_models, cleared when they are).  A session
 * that sets it only changes a hint, or makes live scoring apply nothing.
 */
bool
model_change_pending(void)
{
	const char *value = GetConfigOption("lead_scoring.model_change_pending", true, false);

	return value != NULL && strcmp(value, "on") == 0;
}

/* The hint of an error about a state that does not fit a model. */
int
state_mismatch_hint(void)
{
	if (model_change_pending())
		return errhint("This transaction changed the active model's rules; the leads are rescored at its commit, or now with SELECT * FROM lead_scoring.apply_model_changes().");
	return errhint("Rescore with SELECT * FROM lead_scoring.rescore().");
}

/* An error unless the model can evaluate the state (state_fits_model). */
void
check_state_matches_model(const EngagementState *state, const ScoringModel *model)
{
	if (!state_fits_model(state, model))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("engagement state was built with other activity rules than the model given"),
				 errdetail("The state's fingerprint is %016llx, the model's %016llx.",
						   (unsigned long long) state->fingerprint,
						   (unsigned long long) model->fingerprint),
				 state_mismatch_hint()));
}

/*
 * Each model counter's entry in the state (NULL if it counted nothing) and
 * its amount decayed to at, by position in model->counter_ids: one walk, as
 * both are sorted by counter id, and one decay per counter however many
 * rules share it.
 */
static void
decay_counters(const EngagementState *state, const ScoringModel *model, TimestampTz at,
			   const EngagementEntry **entries, double *decayed)
{
	int			j = 0;

	for (int k = 0; k < model->ncounters; k++)
		entries[k] = NULL;
	for (int i = 0; i < state->nentries; i++)
	{
		const EngagementEntry *e = &state->entries[i];

		while (j < model->ncounters && model->counter_ids[j] < e->counter_id)
			j++;
		if (j == model->ncounters)
			break;
		if (model->counter_ids[j] == e->counter_id)
		{
			entries[j] = e;
			decayed[j] = e->amount * decay_factor(e->half_life, e->latest, at);
		}
	}
}

/*
 * The engagement contributions of a state at as_of, one per rule whose
 * counter counted activities, in rule_id order; returns the score.
 */
static double
evaluate_engagement(const EngagementState *state, const ScoringModel *model,
					TimestampTz as_of, Contribution *parts, int *nparts)
{
	const EngagementEntry *local_entries[LOCAL_ITEMS];
	double		local_decayed[LOCAL_ITEMS];
	const EngagementEntry **entries = local_entries;
	double	   *decayed = local_decayed;
	double		score;

	check_state_matches_model(state, model);
	*nparts = 0;
	if (state->nentries == 0)
		return 0;
	if (model->ncounters > LOCAL_ITEMS)
	{
		entries = palloc(sizeof(EngagementEntry *) * model->ncounters);
		decayed = palloc(sizeof(double) * model->ncounters);
	}
	decay_counters(state, model, evaluation_instant(state, as_of), entries, decayed);
	for (int i = 0; i < model->nactivity_rules; i++)
	{
		const ActivityRule *rule = &model->activity_rules[model->rules_by_id[i]];
		const EngagementEntry *e = entries[rule->counter_position];
		Contribution *p;

		if (e == NULL)
			continue;
		p = &parts[(*nparts)++];
		p->rule_id = rule->rule_id;
		p->component = rule->component;
		p->activities = e->activities;
		p->latest = e->latest;
		p->before_caps = decayed[rule->counter_position] * rule->points;
		p->after_rule_cap = clamp_to_cap(p->before_caps, rule->has_cap, rule->max_points);
	}
	score = apply_component_caps(model, parts, *nparts);
	if (entries != local_entries)
	{
		pfree(entries);
		pfree(decayed);
	}
	return score;
}

/* The capped, decayed engagement score of a state at as_of. */
double
engagement_value(const EngagementState *state, const ScoringModel *model, TimestampTz as_of)
{
	Contribution local[LOCAL_ITEMS];
	Contribution *parts = model->nactivity_rules <= LOCAL_ITEMS ? local
		: palloc(sizeof(Contribution) * model->nactivity_rules);
	int			nparts;
	double		score = evaluate_engagement(state, model, as_of, parts, &nparts);

	if (parts != local)
		pfree(parts);
	return score;
}

/* engagement_score(state, model, as_of): the capped, decayed engagement score. */
PG_FUNCTION_INFO_V1(lead_scoring_engagement_score);
Datum
lead_scoring_engagement_score(PG_FUNCTION_ARGS)
{
	EngagementState *state = PG_GETARG_ENGAGEMENT_STATE(0);
	ScoringModel *model = scoring_model_arg(fcinfo, 1, fcinfo->flinfo);

	PG_RETURN_FLOAT8(engagement_value(state, model, PG_GETARG_TIMESTAMPTZ(2)));
}

/*
 * Bounds of a state's engagement score at every instant from 'from' to 'to'
 * (from <= to): each rule's points are monotone in time (positive ones fall,
 * negative ones rise towards 0), and capping and summing keep the order, so
 * the lowest score takes the positive points at 'to' and the negative ones at
 * 'from', the highest the other way round.  The operations are those of
 * evaluate_engagement, in its order, so that its result lies within.
 */
void
engagement_bounds(const EngagementState *state, const ScoringModel *model,
				  TimestampTz from, TimestampTz to, double *low, double *high)
{
	const EngagementEntry *local_entries[LOCAL_ITEMS];
	double		local_early[LOCAL_ITEMS];
	double		local_late[LOCAL_ITEMS];
	Contribution local_low[LOCAL_ITEMS];
	Contribution local_high[LOCAL_ITEMS];
	const EngagementEntry **entries = local_entries;
	double	   *early = local_early;
	double	   *late = local_late;
	Contribution *lows = local_low;
	Contribution *highs = local_high;
	int			nparts = 0;
	TimestampTz start = evaluation_instant(state, from);

	*low = *high = 0;
	if (state->nentries == 0)
		return;
	if (model->ncounters > LOCAL_ITEMS)
	{
		entries = palloc(sizeof(EngagementEntry *) * model->ncounters);
		early = palloc(sizeof(double) * model->ncounters);
		late = palloc(sizeof(double) * model->ncounters);
	}
	if (model->nactivity_rules > LOCAL_ITEMS)
	{
		lows = palloc(sizeof(Contribution) * model->nactivity_rules);
		highs = palloc(sizeof(Contribution) * model->nactivity_rules);
	}
	decay_counters(state, model, start, entries, early);
	decay_counters(state, model, Max(start, to), entries, late);
	for (int i = 0; i < model->nactivity_rules; i++)
	{
		const ActivityRule *rule = &model->activity_rules[model->rules_by_id[i]];
		int			k = rule->counter_position;
		double		at_start = early[k] * rule->points;
		double		at_end = late[k] * rule->points;

		if (entries[k] == NULL)
			continue;
		lows[nparts].component = highs[nparts].component = rule->component;
		lows[nparts].after_rule_cap = clamp_to_cap(Min(at_start, at_end), rule->has_cap, rule->max_points);
		highs[nparts].after_rule_cap = clamp_to_cap(Max(at_start, at_end), rule->has_cap, rule->max_points);
		nparts++;
	}
	*low = apply_component_caps(model, lows, nparts);
	*high = apply_component_caps(model, highs, nparts);
	if (entries != local_entries)
	{
		pfree(entries);
		pfree(early);
		pfree(late);
	}
	if (lows != local_low)
	{
		pfree(lows);
		pfree(highs);
	}
}

/* engagement_breakdown(state, model, as_of): one row per rule with activities. */
PG_FUNCTION_INFO_V1(lead_scoring_engagement_breakdown);
Datum
lead_scoring_engagement_breakdown(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	EngagementState *state = PG_GETARG_ENGAGEMENT_STATE(0);
	ScoringModel *model = scoring_model_arg(fcinfo, 1, fcinfo->flinfo);
	TimestampTz as_of = PG_GETARG_TIMESTAMPTZ(2);
	Contribution *parts = palloc(sizeof(Contribution) * Max(model->nactivity_rules, 1));
	int			nparts;

	InitMaterializedSRF(fcinfo, 0);
	(void) evaluate_engagement(state, model, as_of, parts, &nparts);
	for (int i = 0; i < nparts; i++)
	{
		Datum		values[7];
		bool		nulls[7] = {0};

		values[0] = Int32GetDatum(parts[i].rule_id);
		values[1] = CStringGetTextDatum(model->components[parts[i].component].name);
		values[2] = Int64GetDatum(parts[i].activities);
		values[3] = TimestampTzGetDatum(parts[i].latest);
		values[4] = Float8GetDatum(parts[i].before_caps);
		values[5] = Float8GetDatum(parts[i].after_rule_cap);
		values[6] = Float8GetDatum(parts[i].points);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* Equality of two jsonb scalars of the same type (strings bytewise). */
bool
scalar_equals(const JsonbValue *a, const JsonbValue *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type)
	{
		case jbvString:
			return a->val.string.len == b->val.string.len &&
				memcmp(a->val.string.val, b->val.string.val, a->val.string.len) == 0;
		case jbvNumeric:
			return DatumGetBool(DirectFunctionCall2(numeric_eq,
													NumericGetDatum(a->val.numeric),
													NumericGetDatum(b->val.numeric)));
		case jbvBool:
			return a->val.boolean == b->val.boolean;
		default:
			return false;
	}
}

/* A number from an attribute: a JSON number or a string holding one. */
static bool
attribute_number(const JsonbValue *v, double *result)
{
	if (v->type == jbvNumeric)
		return numeric_to_double(v->val.numeric, result);
	if (v->type == jbvString && v->val.string.len > 0 && v->val.string.len < 64)
	{
		char		buf[64];
		char	   *end;

		/*
		 * plain decimal notation only: no hex, no "inf" or "nan" (checked on
		 * the copy: a jsonb string is not terminated)
		 */
		memcpy(buf, v->val.string.val, v->val.string.len);
		buf[v->val.string.len] = '\0';
		if (strspn(buf, "0123456789+-.eE ") < (size_t) v->val.string.len)
			return false;
		*result = strtod(buf, &end);
		while (*end == ' ')
			end++;
		return end != buf && *end == '\0' && !isinf(*result);
	}
	return false;
}

/*
 * What fit rules test for a lead, as fit_attributes() builds it: the keys of
 * its attributes object, then email, email_domain, first_name, last_name and
 * company from its columns (each null if absent).  Read in place, so that
 * scoring a lead from its columns builds no jsonb.
 */
typedef struct LeadAttributes
{
	JsonbContainer *attributes;	/* an object, or NULL */
	text	   *email;
	text	   *first_name;
	text	   *last_name;
	text	   *company;
	bool		domain_known;
	text	   *email_domain;	/* lower(part after the first @ up to the next), or NULL */
} LeadAttributes;

/* A lead whose attributes are one jsonb value (fit_attributes' output). */
static LeadAttributes
attributes_of_jsonb(Jsonb *attributes)
{
	LeadAttributes lead = {0};

	if (attributes != NULL && JsonContainerIsObject(&attributes->root))
		lead.attributes = &attributes->root;
	lead.domain_known = true;
	return lead;
}

/* lower(NULLIF(split_part(email, '@', 2), '')), as fit_attributes() has it. */
static text *
email_domain(LeadAttributes *lead)
{
	if (!lead->domain_known)
	{
		lead->domain_known = true;
		if (lead->email != NULL)
		{
			const char *s = VARDATA_ANY(lead->email);
			int			len = VARSIZE_ANY_EXHDR(lead->email);
			const char *at = memchr(s, '@', len);

			if (at != NULL)
			{
				const char *start = at + 1;
				const char *end = memchr(start, '@', s + len - start);
				int			n = (end != NULL ? end : s + len) - start;

				if (n > 0)
					lead->email_domain = DatumGetTextPP(DirectFunctionCall1Coll(lower, DEFAULT_COLLATION_OID,
																				PointerGetDatum(cstring_to_text_with_len(start, n))));
			}
		}
	}
	return lead->email_domain;
}

/* A lead's attribute by name, or NULL if it has none. */
static JsonbValue *
lead_attribute(LeadAttributes *lead, const char *key, int len, JsonbValue *buf)
{
	JsonbValue *v;
	text	   *t = NULL;

	if (lead->attributes != NULL &&
		(v = getKeyJsonValueFromContainer(lead->attributes, key, len, buf)) != NULL)
		return v;
	if (len == 5 && memcmp(key, "email", 5) == 0)
		t = lead->email;
	else if (len == 12 && memcmp(key, "email_domain", 12) == 0)
		t = email_domain(lead);
	else if (len == 10 && memcmp(key, "first_name", 10) == 0)
		t = lead->first_name;
	else if (len == 9 && memcmp(key, "last_name", 9) == 0)
		t = lead->last_name;
	else if (len == 7 && memcmp(key, "company", 7) == 0)
		t = lead->company;
	if (t == NULL)
		return NULL;
	buf->type = jbvString;
	buf->val.string.val = VARDATA_ANY(t);
	buf->val.string.len = VARSIZE_ANY_EXHDR(t);
	return buf;
}

/* Does a lead pass a fit rule's test? */
static bool
fit_rule_matches(const FitRule *rule, LeadAttributes *lead)
{
	JsonbValue	buf;
	JsonbValue *v;
	double		number;

	v = lead_attribute(lead, rule->attribute, rule->attribute_len, &buf);
	if (v == NULL || v->type == jbvNull)
		return false;

	switch (rule->test)
	{
		case FIT_PRESENT:
			return !(v->type == jbvString && v->val.string.len == 0);
		case FIT_EQUALS:
		case FIT_IN:
			for (int i = 0; i < rule->nvalues; i++)
				if (scalar_equals(v, &rule->values[i]))
					return true;
			return false;
		case FIT_BETWEEN:
			if (!attribute_number(v, &number))
				return false;
			return (!rule->has_min || number >= rule->min_value) &&
				(!rule->has_max || number <= rule->max_value);
		case FIT_MATCHES:
			if (v->type != jbvString)
				return false;
			return DatumGetBool(DirectFunctionCall2Coll(texticregexeq, DEFAULT_COLLATION_OID,
														PointerGetDatum(cstring_to_text_with_len(v->val.string.val,
																								 v->val.string.len)),
														PointerGetDatum(rule->pattern)));
	}
	return false;
}

/* Which of the model's tests a lead passes, by position in fit_test_ids. */
static void
tests_passed_by_lead(const ScoringModel *model, LeadAttributes *lead, bool *passed)
{
	for (int k = 0; k < model->nfit_tests; k++)
		passed[k] = fit_rule_matches(&model->fit_rules[model->fit_test_rules[k]], lead);
}

/* The fit contributions of the rules whose tests passed; returns the score. */
static double
fit_of_tests_passed(const ScoringModel *model, const bool *passed, Contribution *parts, int *nparts)
{
	*nparts = 0;
	for (int i = 0; i < model->nfit_rules; i++)
	{
		const FitRule *rule = &model->fit_rules[i];
		Contribution *p;

		if (!passed[rule->test_position])
			continue;
		p = &parts[(*nparts)++];
		memset(p, 0, sizeof(Contribution));
		p->rule_id = rule->rule_id;
		p->component = rule->component;
		p->before_caps = rule->points;
		p->after_rule_cap = rule->points;
	}
	return apply_component_caps(model, parts, *nparts);
}

/* The fit contributions of a lead's attributes; returns the score. */
static double
evaluate_fit(const ScoringModel *model, LeadAttributes *lead, Contribution *parts, int *nparts)
{
	bool		local[LOCAL_ITEMS];
	bool	   *passed = model->nfit_tests <= LOCAL_ITEMS ? local : palloc(model->nfit_tests);
	double		score;

	tests_passed_by_lead(model, lead, passed);
	score = fit_of_tests_passed(model, passed, parts, nparts);
	if (passed != local)
		pfree(passed);
	return score;
}

/* fit_score(model, attributes): the capped fit score of a lead's attributes. */
PG_FUNCTION_INFO_V1(lead_scoring_fit_score);
Datum
lead_scoring_fit_score(PG_FUNCTION_ARGS)
{
	ScoringModel *model = scoring_model_arg(fcinfo, 0, fcinfo->flinfo);
	LeadAttributes lead = attributes_of_jsonb(PG_GETARG_JSONB_P(1));
	Contribution *parts = palloc(sizeof(Contribution) * Max(model->nfit_rules, 1));
	int			nparts;
	double		score = evaluate_fit(model, &lead, parts, &nparts);

	pfree(parts);
	PG_RETURN_FLOAT8(score);
}

/*
 * The ids of the model's fit tests that a lead passes, ascending, from its
 * columns (arguments first..first+4: email, first_name, last_name, company,
 * attributes), read in place; only the tests previous lacks if previous is
 * given.
 */
static ArrayType *
fit_tests_of_lead(FunctionCallInfo fcinfo, int first, const ScoringModel *model,
				  const ScoringModel *previous)
{
	LeadAttributes lead = {0};
	Datum	   *ids = palloc(sizeof(Datum) * Max(model->nfit_tests, 1));
	int			n = 0;

	lead.email = PG_ARGISNULL(first) ? NULL : PG_GETARG_TEXT_PP(first);
	lead.first_name = PG_ARGISNULL(first + 1) ? NULL : PG_GETARG_TEXT_PP(first + 1);
	lead.last_name = PG_ARGISNULL(first + 2) ? NULL : PG_GETARG_TEXT_PP(first + 2);
	lead.company = PG_ARGISNULL(first + 3) ? NULL : PG_GETARG_TEXT_PP(first + 3);
	if (!PG_ARGISNULL(first + 4))
	{
		Jsonb	   *attributes = PG_GETARG_JSONB_P(first + 4);

		/* fit_attributes() appends a non-object: nothing of it, nor of the columns, is an attribute */
		if (!JsonContainerIsObject(&attributes->root))
			return construct_empty_array(INT8OID);
		lead.attributes = &attributes->root;
	}
	for (int k = 0; k < model->nfit_tests; k++)
	{
		const FitRule *rule = &model->fit_rules[model->fit_test_rules[k]];

		if (previous != NULL && model_has_fit_test(previous, model->fit_test_ids[k]))
			continue;
		if (fit_rule_matches(rule, &lead))
			ids[n++] = Int64GetDatum(model->fit_test_ids[k]);
	}
	return construct_array(ids, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/*
 * lead_fit_tests(model, email, first_name, last_name, company, attributes):
 * the ids of the model's fit tests that fit_attributes(...) passes, ascending.
 */
PG_FUNCTION_INFO_V1(lead_scoring_lead_fit_tests);
Datum
lead_scoring_lead_fit_tests(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(fit_tests_of_lead(fcinfo, 1, scoring_model_arg(fcinfo, 0, fcinfo->flinfo), NULL));
}

/* The cached parsed models of a function of two models, by argument. */
typedef struct TwoModelCache
{
	FmgrInfo	first;
	FmgrInfo	second;
} TwoModelCache;

/* The two parsed models of arguments a and b, each cached on its own. */
void
two_model_args(FunctionCallInfo fcinfo, int a, int b, ScoringModel **first, ScoringModel **second)
{
	TwoModelCache *cache = (TwoModelCache *) fcinfo->flinfo->fn_extra;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(TwoModelCache));
		fmgr_info_copy(&cache->first, fcinfo->flinfo, fcinfo->flinfo->fn_mcxt);
		fmgr_info_copy(&cache->second, fcinfo->flinfo, fcinfo->flinfo->fn_mcxt);
		cache->first.fn_extra = NULL;
		cache->second.fn_extra = NULL;
		fcinfo->flinfo->fn_extra = cache;
	}
	*first = scoring_model_arg(fcinfo, a, &cache->first);
	*second = scoring_model_arg(fcinfo, b, &cache->second);
}

/*
 * new_fit_tests(definition, previous, email, first_name, last_name, company,
 * attributes): the ids of the tests definition has and previous has not that
 * the lead passes: all a change from previous must evaluate.
 */
PG_FUNCTION_INFO_V1(lead_scoring_new_fit_tests);
Datum
lead_scoring_new_fit_tests(PG_FUNCTION_ARGS)
{
	ScoringModel *definition;
	ScoringModel *previous;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("new_fit_tests needs both model definitions")));
	two_model_args(fcinfo, 0, 1, &definition, &previous);
	PG_RETURN_ARRAYTYPE_P(fit_tests_of_lead(fcinfo, 2, definition, previous));
}

/* fit_basis(model): the id of the set of fit tests a lead's record covers. */
PG_FUNCTION_INFO_V1(lead_scoring_fit_basis);
Datum
lead_scoring_fit_basis(PG_FUNCTION_ARGS)
{
	ScoringModel *model = scoring_model_arg(fcinfo, 0, fcinfo->flinfo);

	PG_RETURN_INT64((int64) model->fit_basis);
}

/*
 * Which of the model's tests a lead's record says it passed.  The record is
 * what lead_fit_tests returned: checked here, as lead_scores is a table a
 * superuser may write by hand.
 */
static void
tests_passed_by_record(const ScoringModel *model, ArrayType *tests, bool *passed)
{
	int64	   *ids;
	int			n;
	int			k = 0;

	if (ARR_NDIM(tests) > 1 || ARR_ELEMTYPE(tests) != INT8OID || array_contains_nulls(tests))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("fit tests must be a one-dimensional array of test ids without nulls")));
	n = ArrayGetNItems(ARR_NDIM(tests), ARR_DIMS(tests));
	ids = (int64 *) ((char *) tests + ARR_OVERHEAD_NONULLS(ARR_NDIM(tests)));	/* no nulls */
	for (int i = 0; i < model->nfit_tests; i++)
		passed[i] = false;
	for (int i = 0; i < n; i++)
	{
		if (i > 0 && ids[i] <= ids[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("fit tests must be ascending test ids, each once"),
					 errhint("Rescore with SELECT * FROM lead_scoring.rescore().")));
		while (k < model->nfit_tests && model->fit_test_ids[k] < ids[i])
			k++;
		if (k < model->nfit_tests && model->fit_test_ids[k] == ids[i])
			passed[k] = true;
	}
}

/* The fit score of a record of tests passed, under a model whose basis it fits. */
double
record_fit_score(const ScoringModel *model, ArrayType *tests)
{
	bool		local_passed[LOCAL_ITEMS];
	Contribution local[LOCAL_ITEMS];
	bool	   *passed = model->nfit_tests <= LOCAL_ITEMS ? local_passed : palloc(model->nfit_tests);
	Contribution *parts = model->nfit_rules <= LOCAL_ITEMS ? local
		: palloc(sizeof(Contribution) * model->nfit_rules);
	int			nparts;
	double		score;

	tests_passed_by_record(model, tests, passed);
	score = fit_of_tests_passed(model, passed, parts, &nparts);
	if (parts != local)
		pfree(parts);
	if (passed != local_passed)
		pfree(passed);
	return score;
}

/*
 * tested_fit_score(fit_tests, fit_basis, model): the fit score of a lead's
 * record of the tests it passed, under a model with the same tests (any
 * points, caps and components).  No basis: the lead has no attributes, and
 * scores 0 under every model.
 */
PG_FUNCTION_INFO_V1(lead_scoring_tested_fit_score);
Datum
lead_scoring_tested_fit_score(PG_FUNCTION_ARGS)
{
	ScoringModel *model;
	ArrayType  *tests;

	if (PG_ARGISNULL(2))
		PG_RETURN_NULL();
	model = scoring_model_arg(fcinfo, 2, fcinfo->flinfo);
	if (PG_ARGISNULL(1))
		PG_RETURN_FLOAT8(0);
	if (!fit_basis_fits_model((uint64) PG_GETARG_INT64(1), model))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("fit tests were recorded with other fit rules than the model given"),
				 errdetail("The record's basis is %016llx, the model's %016llx.",
						   (unsigned long long) PG_GETARG_INT64(1),
						   (unsigned long long) model->fit_basis),
				 state_mismatch_hint()));
	tests = PG_ARGISNULL(0) ? construct_empty_array(INT8OID) : PG_GETARG_ARRAYTYPE_P(0);
	PG_RETURN_FLOAT8(record_fit_score(model, tests));
}

/*
 * merge_fit_tests(fit_tests, new_tests, model): a record of the tests passed
 * under model: those of fit_tests and new_tests that the model has.
 */
PG_FUNCTION_INFO_V1(lead_scoring_merge_fit_tests);
Datum
lead_scoring_merge_fit_tests(PG_FUNCTION_ARGS)
{
	ScoringModel *model;
	bool	   *passed;
	bool	   *also;
	Datum	   *ids;
	int			n = 0;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("merge_fit_tests needs a model definition")));
	model = scoring_model_arg(fcinfo, 2, fcinfo->flinfo);
	passed = palloc(Max(model->nfit_tests, 1));
	also = palloc(Max(model->nfit_tests, 1));
	ids = palloc(sizeof(Datum) * Max(model->nfit_tests, 1));
	tests_passed_by_record(model, PG_ARGISNULL(0) ? construct_empty_array(INT8OID) : PG_GETARG_ARRAYTYPE_P(0),
						   passed);
	tests_passed_by_record(model, PG_ARGISNULL(1) ? construct_empty_array(INT8OID) : PG_GETARG_ARRAYTYPE_P(1),
						   also);
	for (int k = 0; k < model->nfit_tests; k++)
		if (passed[k] || also[k])
			ids[n++] = Int64GetDatum(model->fit_test_ids[k]);
	PG_RETURN_ARRAYTYPE_P(construct_array(ids, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL,
										  TYPALIGN_DOUBLE));
}

/* model_fingerprint(model): the fingerprint of the states the model builds. */
PG_FUNCTION_INFO_V1(lead_scoring_model_fingerprint);
Datum
lead_scoring_model_fingerprint(PG_FUNCTION_ARGS)
{
	ScoringModel *model = scoring_model_arg(fcinfo, 0, fcinfo->flinfo);

	PG_RETURN_INT64((int64) model->fingerprint);
}

/* fit_breakdown(model, attributes): one row per fit rule the lead passes. */
PG_FUNCTION_INFO_V1(lead_scoring_fit_breakdown);
Datum
lead_scoring_fit_breakdown(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ScoringModel *model = scoring_model_arg(fcinfo, 0, fcinfo->flinfo);
	LeadAttributes lead = attributes_of_jsonb(PG_GETARG_JSONB_P(1));
	Contribution *parts = palloc(sizeof(Contribution) * Max(model->nfit_rules, 1));
	int			nparts;

	InitMaterializedSRF(fcinfo, 0);
	(void) evaluate_fit(model, &lead, parts, &nparts);
	for (int i = 0; i < nparts; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {0};

		values[0] = Int32GetDatum(parts[i].rule_id);
		values[1] = CStringGetTextDatum(model->components[parts[i].component].name);
		values[2] = Float8GetDatum(parts[i].before_caps);
		values[3] = Float8GetDatum(parts[i].points);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* state_matches_model(state, model): can the state be evaluated with the model? */
PG_FUNCTION_INFO_V1(lead_scoring_state_matches_model);
Datum
lead_scoring_state_matches_model(PG_FUNCTION_ARGS)
{
	EngagementState *state = PG_GETARG_ENGAGEMENT_STATE(0);
	ScoringModel *model = scoring_model_arg(fcinfo, 1, fcinfo->flinfo);

	PG_RETURN_BOOL(state_fits_model(state, model));
}

/*
 * model_features(state, model, attributes, as_of): what training learns from.
 * One number per activity rule (its decayed activity count at as_of, before
 * points and caps) then one per fit rule (1 if the attributes pass, else 0),
 * each in rule_id order.  A null state or null attributes count as nothing.
 */
PG_FUNCTION_INFO_V1(lead_scoring_model_features);
Datum
lead_scoring_model_features(PG_FUNCTION_ARGS)
{
	ScoringModel *model;
	TimestampTz as_of;
	EngagementState *state = NULL;
	Jsonb	   *attributes = NULL;
	LeadAttributes lead;
	int			nfeatures;
	Datum	   *values;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(3))
		PG_RETURN_NULL();
	model = scoring_model_arg(fcinfo, 1, fcinfo->flinfo);
	as_of = PG_GETARG_TIMESTAMPTZ(3);
	if (!PG_ARGISNULL(0))
	{
		state = PG_GETARG_ENGAGEMENT_STATE(0);
		check_state_matches_model(state, model);
	}
	if (!PG_ARGISNULL(2))
		attributes = PG_GETARG_JSONB_P(2);

	nfeatures = model->nactivity_rules + model->nfit_rules;
	values = palloc0(sizeof(Datum) * Max(nfeatures, 1));
	for (int i = 0; i < model->nactivity_rules; i++)
		values[i] = Float8GetDatum(0.0);
	if (state != NULL)
	{
		const EngagementEntry **entries = palloc(sizeof(EngagementEntry *) * Max(model->ncounters, 1));
		double	   *decayed = palloc(sizeof(double) * Max(model->ncounters, 1));

		decay_counters(state, model, evaluation_instant(state, as_of), entries, decayed);
		for (int i = 0; i < model->nactivity_rules; i++)
		{
			int			k = model->activity_rules[model->rules_by_id[i]].counter_position;

			if (entries[k] != NULL)
				values[i] = Float8GetDatum(decayed[k]);
		}
	}

	lead = attributes_of_jsonb(attributes);
	for (int i = 0; i < model->nfit_rules; i++)
	{
		bool		passed = attributes != NULL &&
			fit_rule_matches(&model->fit_rules[model->fit_rules_by_id[i]], &lead);

		values[model->nactivity_rules + i] = Float8GetDatum(passed ? 1.0 : 0.0);
	}

	PG_RETURN_ARRAYTYPE_P(construct_array(values, nfeatures, FLOAT8OID,
										  sizeof(float8), FLOAT8PASSBYVAL,
										  TYPALIGN_DOUBLE));
}
