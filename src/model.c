/*
 * model.c
 *		Parse and validate a scoring model's jsonb definition, and cache the
 *		parsed form per calling function and per backend, so each row costs
 *		at most a memcmp, not a parse.
 */
#include "lead_scoring.h"

#include <math.h>

#include "catalog/pg_collation_d.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "nodes/primnodes.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

PG_MODULE_MAGIC;

/* Largest points, cap or bound a model may use, so that sums stay finite. */
#define MAX_MODEL_NUMBER 1e12
/* Longest half-life: 100 million years, in seconds (of 365.25 days). */
#define MAX_HALF_LIFE_SECONDS (1e8 * 365.25 * 86400)
/* Most components, activity rules or fit rules a model may have. */
#define MAX_MODEL_ITEMS 100000
/* Most older fingerprints (or fit bases) the stored states may carry. */
#define MAX_STORED_BASES 64

/* The cached model of one calling function (kept in fn_extra). */
typedef struct ModelCache
{
	MemoryContext context;
	bool		constant;		/* the argument is a constant of the query */
	Size		size;
	char	   *bytes;
	ScoringModel *model;
} ModelCache;

/* A JSON number as an int32 identifier, or an error naming it. */
static int32
get_id(JsonbValue *v, const char *what)
{
	int64		id;

	if (v == NULL || v->type != jbvNumeric || !numeric_to_int64(v->val.numeric, &id) ||
		id < PG_INT32_MIN || id > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a whole number in integer range", what)));
	return (int32) id;
}

/* Look up a key of a jsonb object; JSON null counts as absent. */
static JsonbValue *
get_key(JsonbContainer *object, const char *key)
{
	JsonbValue *v = getKeyJsonValueFromContainer(object, key, strlen(key), NULL);

	if (v != NULL && v->type == jbvNull)
		return NULL;
	return v;
}

/* The container of a jsonb object or array value, or NULL if it is neither. */
static JsonbContainer *
get_container(JsonbValue *v, bool want_array)
{
	if (v == NULL || v->type != jbvBinary)
		return NULL;
	if (want_array ? !JsonContainerIsArray(v->val.binary.data)
		: !JsonContainerIsObject(v->val.binary.data))
		return NULL;
	return v->val.binary.data;
}

/* The named list of the definition: absent is empty, anything but an array is an error. */
static JsonbContainer *
get_list(JsonbContainer *root, const char *key)
{
	JsonbValue *v = get_key(root, key);
	JsonbContainer *list = get_container(v, true);

	if (v != NULL && list == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s of a model definition must be a JSON array", key)));
	return list;
}

/*
 * A finite number from a jsonb value, or an error naming what it is for: its
 * key, or what the user calls it (the column the key comes from).
 */
static double
get_number(JsonbContainer *object, const char *key, const char *label,
		   bool required, bool *present)
{
	JsonbValue *v = get_key(object, key);
	double		d;
	const char *shown = strcmp(key, "half_life_seconds") == 0 ? "half_life" : key;

	if (present)
		*present = (v != NULL);
	if (v == NULL)
	{
		if (required)
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("%s: %s is required", label, shown)));
		return 0.0;
	}
	if (v->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: %s must be a finite number", label, shown),
				 errdetail("The value given is %s.",
						   v->type == jbvString
						   ? pnstrdup(v->val.string.val, v->val.string.len)
						   : "not a number")));
	if (shown != key)
	{
		/* any positive half-life decays exactly; an interval holds 178 million years */
		if (!numeric_to_double(v->val.numeric, &d) || fabs(d) > MAX_HALF_LIFE_SECONDS)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("%s: half_life must be at most 100 million years", label)));
		return d;
	}
	if (!numeric_to_double(v->val.numeric, &d) || fabs(d) > MAX_MODEL_NUMBER)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s: %s must be between -1e12 and 1e12", label, shown),
				 errdetail("Points, caps and bounds are limited so that no sum of them can overflow.")));
	return d;
}

/* A non-empty string from a jsonb value, or an error. */
static char *
get_string(JsonbContainer *object, const char *key, const char *what, int32 id,
		   int *len)
{
	JsonbValue *v = get_key(object, key);

	if (v == NULL || v->type != jbvString || v->val.string.len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s %d: %s must be a non-empty string", what, id, key)));
	if (len)
		*len = v->val.string.len;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* The rule's id; every rule must have one. */
static int32
get_rule_id(JsonbContainer *rule, const char *what)
{
	return get_id(get_key(rule, "rule_id"), psprintf("the rule_id of every %s", what));
}

/* Indexes 0..n-1, to be sorted. */
static int *
identity_permutation(int n)
{
	int		   *order = palloc(sizeof(int) * Max(n, 1));

	for (int i = 0; i < n; i++)
		order[i] = i;
	return order;
}

/* Order indexes of components by name (qsort_arg: arg is the components). */
static int
compare_component_names(const void *a, const void *b, void *arg)
{
	const ModelComponent *components = arg;

	return strcmp(components[*(const int *) a].name, components[*(const int *) b].name);
}

/* Index of the named component, checking that it is in the expected dimension. */
static int
find_component(ScoringModel *model, JsonbContainer *rule, const char *what,
			   int32 id, ScoreDimension dimension)
{
	char	   *name = get_string(rule, "component", what, id, NULL);
	int			lo = 0;
	int			hi = model->ncomponents - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			i = model->components_by_name[mid];
		int			cmp = strcmp(model->components[i].name, name);

		if (cmp < 0)
			lo = mid + 1;
		else if (cmp > 0)
			hi = mid - 1;
		else
		{
			if (model->components[i].dimension != dimension)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s %d: component \"%s\" is in the %s dimension", what, id,
								name, dimension == DIMENSION_FIT ? "engagement" : "fit"),
						 errhint("Activity rules belong to engagement components, fit rules to fit components.")));
			return i;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s %d: unknown component \"%s\"", what, id, name)));
	return -1;					/* keep compiler quiet */
}

/* An optional cap of what 'label' names: positive and finite when given. */
static bool
get_cap(JsonbContainer *object, const char *label, double *cap)
{
	bool		present;

	*cap = get_number(object, "max_points", label, false, &present);
	if (present && *cap <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: max_points must be positive", label),
				 errdetail("A cap limits the size of a contribution in either direction.")));
	return present;
}

/* Iterate the elements of an array member of the definition. */
#define FOREACH_ELEMENT(array, i, elem) \
	for (uint32 i = 0, n_##i = (array) ? JsonContainerSize(array) : 0; \
		 i < n_##i && ((elem) = getIthJsonbValueFromContainer((array), i)) != NULL; i++)

/* The length of a list of the definition, refused past MAX_MODEL_ITEMS. */
static int
definition_list_length(JsonbContainer *array, const char *key)
{
	int			n = array ? JsonContainerSize(array) : 0;

	if (n > MAX_MODEL_ITEMS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a model may have at most %d %s, not %d", MAX_MODEL_ITEMS, key, n)));
	return n;
}

/* Parse the components: names unique, each in a dimension, caps positive. */
static void
parse_components(ScoringModel *model, JsonbContainer *root)
{
	JsonbContainer *array = get_list(root, "components");
	JsonbValue *elem;
	int			n = definition_list_length(array, "components");

	model->components = palloc0(sizeof(ModelComponent) * Max(n, 1));
	FOREACH_ELEMENT(array, i, elem)
	{
		JsonbContainer *c = get_container(elem, false);
		ModelComponent *comp = &model->components[model->ncomponents];
		char	   *dimension;

		CHECK_FOR_INTERRUPTS();
		if (c == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("each component must be a JSON object")));
		comp->name = get_string(c, "component", "component", (int32) i + 1, NULL);
		dimension = get_string(c, "dimension", "component", (int32) i + 1, NULL);
		if (strcmp(dimension, "fit") == 0)
			comp->dimension = DIMENSION_FIT;
		else if (strcmp(dimension, "engagement") == 0)
			comp->dimension = DIMENSION_ENGAGEMENT;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("component \"%s\": unknown dimension \"%s\"", comp->name, dimension),
					 errhint("A component's dimension is \"fit\" or \"engagement\".")));
		comp->has_cap = get_cap(c, psprintf("component \"%s\"", comp->name), &comp->max_points);
		model->ncomponents++;
	}

	/* the order find_component searches, and a check for duplicates */
	model->components_by_name = identity_permutation(model->ncomponents);
	qsort_arg(model->components_by_name, model->ncomponents, sizeof(int), compare_component_names,
			  model->components);
	for (int i = 1; i < model->ncomponents; i++)
		if (strcmp(model->components[model->components_by_name[i]].name,
				   model->components[model->components_by_name[i - 1]].name) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("component \"%s\" is defined twice",
							model->components[model->components_by_name[i]].name)));
}

/* Order two activity types: bytewise, then by length. */
static int
compare_types(const char *a, int alen, const char *b, int blen)
{
	int			cmp = memcmp(a, b, Min(alen, blen));

	if (cmp != 0)
		return cmp;
	return (alen > blen) - (alen < blen);
}

/* Order indexes of activity rules by rule_id (qsort_arg: arg is the rules). */
static int
compare_activity_rule_ids(const void *a, const void *b, void *arg)
{
	const ActivityRule *rules = arg;
	int32		ia = rules[*(const int *) a].rule_id;
	int32		ib = rules[*(const int *) b].rule_id;

	return (ia > ib) - (ia < ib);
}

/* Order indexes of fit rules by rule_id (qsort_arg: arg is the rules). */
static int
compare_fit_rule_ids(const void *a, const void *b, void *arg)
{
	const FitRule *rules = arg;
	int32		ia = rules[*(const int *) a].rule_id;
	int32		ib = rules[*(const int *) b].rule_id;

	return (ia > ib) - (ia < ib);
}

/* Parse the activity rules, in the definition's order, with their rule_id order. */
static void
parse_activity_rules(ScoringModel *model, JsonbContainer *root)
{
	JsonbContainer *array = get_list(root, "activity_rules");
	JsonbValue *elem;
	int			n = definition_list_length(array, "activity rules");
	const char *what = "activity rule";

	model->activity_rules = palloc0(sizeof(ActivityRule) * Max(n, 1));
	FOREACH_ELEMENT(array, i, elem)
	{
		JsonbContainer *r = get_container(elem, false);
		ActivityRule *rule = &model->activity_rules[model->nactivity_rules];
		JsonbValue *props;
		bool		has_half_life;

		CHECK_FOR_INTERRUPTS();
		if (r == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("each activity rule must be a JSON object")));
		rule->rule_id = get_rule_id(r, what);
		rule->component = find_component(model, r, what, rule->rule_id,
										 DIMENSION_ENGAGEMENT);
		rule->activity_type = get_string(r, "activity_type", what, rule->rule_id,
										 &rule->activity_type_len);
		rule->points = get_number(r, "points", psprintf("%s %d", what, rule->rule_id), true, NULL);
		rule->half_life = get_number(r, "half_life_seconds", psprintf("%s %d", what, rule->rule_id),
									 false, &has_half_life);
		if (has_half_life && rule->half_life <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("activity rule %d: half-life must be positive", rule->rule_id),
					 errhint("Leave the half-life empty for points that never decay.")));
		rule->has_cap = get_cap(r, psprintf("%s %d", what, rule->rule_id), &rule->max_points);
		props = get_key(r, "properties");
		if (props != NULL)
		{
			if (get_container(props, false) == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("activity rule %d: properties must be a JSON object",
								rule->rule_id)));
			/* an empty object matches everything: treat it as no condition */
			if (JsonContainerSize(props->val.binary.data) > 0)
				rule->properties = JsonbValueToJsonb(props);
		}
		model->nactivity_rules++;
	}
	model->rules_by_id = identity_permutation(model->nactivity_rules);
	qsort_arg(model->rules_by_id, model->nactivity_rules, sizeof(int), compare_activity_rule_ids,
			  model->activity_rules);
	for (int i = 1; i < model->nactivity_rules; i++)
		if (model->activity_rules[model->rules_by_id[i]].rule_id ==
			model->activity_rules[model->rules_by_id[i - 1]].rule_id)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("activity rule %d is defined twice",
							model->activity_rules[model->rules_by_id[i]].rule_id)));
}

/* A scalar to compare lead attributes with (equals, in). */
static JsonbValue
get_scalar(JsonbValue *v, int32 id)
{
	if (v == NULL || v->type == jbvBinary || v->type == jbvNull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fit rule %d: value must be a string, number or boolean", id)));
	return *v;
}

/* Parse the fit rules, in the definition's order, with their rule_id order. */
static void
parse_fit_rules(ScoringModel *model, JsonbContainer *root)
{
	JsonbContainer *array = get_list(root, "fit_rules");
	JsonbValue *elem;
	int			n = definition_list_length(array, "fit rules");
	const char *what = "fit rule";

	model->fit_rules = palloc0(sizeof(FitRule) * Max(n, 1));
	FOREACH_ELEMENT(array, i, elem)
	{
		JsonbContainer *r = get_container(elem, false);
		FitRule    *rule = &model->fit_rules[model->nfit_rules];
		char	   *test;

		CHECK_FOR_INTERRUPTS();
		if (r == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("each fit rule must be a JSON object")));
		rule->rule_id = get_rule_id(r, what);
		rule->component = find_component(model, r, what, rule->rule_id, DIMENSION_FIT);
		rule->attribute = get_string(r, "attribute", what, rule->rule_id,
									 &rule->attribute_len);
		rule->points = get_number(r, "points", psprintf("%s %d", what, rule->rule_id), true, NULL);
		test = get_string(r, "test", what, rule->rule_id, NULL);

		if (strcmp(test, "equals") == 0)
		{
			rule->test = FIT_EQUALS;
			rule->nvalues = 1;
			rule->values = palloc(sizeof(JsonbValue));
			rule->values[0] = get_scalar(get_key(r, "value"), rule->rule_id);
		}
		else if (strcmp(test, "in") == 0)
		{
			JsonbContainer *list = get_container(get_key(r, "value"), true);
			JsonbValue *item;

			if (list == NULL || JsonContainerSize(list) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("fit rule %d: test \"in\" needs a non-empty JSON array as value",
								rule->rule_id)));
			rule->test = FIT_IN;
			rule->values = palloc(sizeof(JsonbValue) * JsonContainerSize(list));
			FOREACH_ELEMENT(list, j, item)
				rule->values[rule->nvalues++] = get_scalar(item, rule->rule_id);
		}
		else if (strcmp(test, "between") == 0)
		{
			rule->test = FIT_BETWEEN;
			rule->min_value = get_number(r, "min_value", psprintf("%s %d", what, rule->rule_id), false,
										 &rule->has_min);
			rule->max_value = get_number(r, "max_value", psprintf("%s %d", what, rule->rule_id), false,
										 &rule->has_max);
			if (!rule->has_min && !rule->has_max)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("fit rule %d: test \"between\" needs min_value, max_value or both",
								rule->rule_id)));
			if (rule->has_min && rule->has_max && rule->min_value > rule->max_value)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("fit rule %d: min_value %g is above max_value %g",
								rule->rule_id, rule->min_value, rule->max_value)));
		}
		else if (strcmp(test, "matches") == 0)
		{
			char	   *pattern = get_string(r, "pattern", what, rule->rule_id, NULL);

			rule->test = FIT_MATCHES;
			rule->pattern = cstring_to_text(pattern);
			/* compile now, so an invalid pattern is refused when written */
			(void) DirectFunctionCall2Coll(texticregexeq, DEFAULT_COLLATION_OID,
										   PointerGetDatum(cstring_to_text("")),
										   PointerGetDatum(rule->pattern));
		}
		else if (strcmp(test, "present") == 0)
			rule->test = FIT_PRESENT;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("fit rule %d: unknown test \"%s\"", rule->rule_id, test),
					 errhint("The tests are equals, in, between, matches and present.")));
		model->nfit_rules++;
	}

	/* the order model_features reports them in, and a check for duplicates */
	model->fit_rules_by_id = identity_permutation(model->nfit_rules);
	qsort_arg(model->fit_rules_by_id, model->nfit_rules, sizeof(int), compare_fit_rule_ids,
			  model->fit_rules);
	for (int i = 1; i < model->nfit_rules; i++)
		if (model->fit_rules[model->fit_rules_by_id[i]].rule_id ==
			model->fit_rules[model->fit_rules_by_id[i - 1]].rule_id)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("fit rule %d is defined twice",
							model->fit_rules[model->fit_rules_by_id[i]].rule_id)));
}

/* Order 64-bit ids (counters, fingerprints, fit bases) as unsigned numbers. */
static int
compare_counter_ids(const void *a, const void *b)
{
	uint64		ia = *(const uint64 *) a;
	uint64		ib = *(const uint64 *) b;

	return (ia > ib) - (ia < ib);
}

/* The id of what a rule counts: a hash of its type, properties and half-life. */
static uint64
counter_id_of(const ActivityRule *rule)
{
	uint64		h = hash_bytes_extended((const unsigned char *) rule->activity_type,
										rule->activity_type_len, 1);

	h = hash_combine64(h, hash_bytes_extended((const unsigned char *) &rule->half_life,
											  sizeof(double), 2));
	if (rule->properties)
		h = hash_combine64(h, hash_bytes_extended((const unsigned char *) VARDATA(rule->properties),
												  VARSIZE(rule->properties) - VARHDRSZ, 3));
	return h;
}

/* Order counters by activity type, then id. */
static int
compare_counters(const void *a, const void *b)
{
	const ActivityCounter *ca = a;
	const ActivityCounter *cb = b;
	int			cmp = compare_types(ca->activity_type, ca->activity_type_len,
									cb->activity_type, cb->activity_type_len);

	if (cmp != 0)
		return cmp;
	return (ca->counter_id > cb->counter_id) - (ca->counter_id < cb->counter_id);
}

/*
 * The model's distinct counters, each rule given its counter's id.  Two
 * counters with one id would be the same hash of different rules: a 64-bit
 * collision, refused rather than mixed.
 */
static void
collect_counters(ScoringModel *model)
{
	model->counters = palloc0(sizeof(ActivityCounter) * Max(model->nactivity_rules, 1));
	for (int i = 0; i < model->nactivity_rules; i++)
	{
		ActivityRule *rule = &model->activity_rules[i];
		ActivityCounter *c = &model->counters[model->ncounters];

		rule->counter_id = counter_id_of(rule);
		c->counter_id = rule->counter_id;
		c->activity_type = rule->activity_type;
		c->activity_type_len = rule->activity_type_len;
		c->properties = rule->properties;
		c->half_life = rule->half_life;
		model->ncounters++;
	}
	qsort(model->counters, model->ncounters, sizeof(ActivityCounter), compare_counters);
	if (model->ncounters > 0)
	{
		int			kept = 1;

		for (int i = 1; i < model->ncounters; i++)
		{
			ActivityCounter *prev = &model->counters[kept - 1];
			ActivityCounter *c = &model->counters[i];

			if (c->counter_id != prev->counter_id || c->activity_type_len != prev->activity_type_len ||
				memcmp(c->activity_type, prev->activity_type, c->activity_type_len) != 0)
				model->counters[kept++] = *c;
			else if (c->half_life != prev->half_life ||
					 (c->properties == NULL) != (prev->properties == NULL) ||
					 (c->properties != NULL &&
					  (VARSIZE(c->properties) != VARSIZE(prev->properties) ||
					   memcmp(c->properties, prev->properties, VARSIZE(c->properties)) != 0)))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("two activity rules of type \"%s\" hash alike though they count differently",
								pnstrdup(c->activity_type, c->activity_type_len)),
						 errhint("Change one rule's properties, for example by adding a key that every activity has.")));
		}
		model->ncounters = kept;
	}
	/* the ids in order; the same id under two types is a collision too */
	model->counter_ids = palloc(sizeof(uint64) * Max(model->ncounters, 1));
	for (int i = 0; i < model->ncounters; i++)
		model->counter_ids[i] = model->counters[i].counter_id;
	qsort(model->counter_ids, model->ncounters, sizeof(uint64), compare_counter_ids);
	for (int i = 1; i < model->ncounters; i++)
		if (model->counter_ids[i] == model->counter_ids[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("two activity rules of different types hash alike"),
					 errhint("Change one rule's properties, for example by adding a key that every activity has.")));
	/* each rule's counter by its position among the ids, for evaluation */
	for (int i = 0; i < model->nactivity_rules; i++)
	{
		ActivityRule *rule = &model->activity_rules[i];
		uint64	   *found = bsearch(&rule->counter_id, model->counter_ids, model->ncounters,
									sizeof(uint64), compare_counter_ids);

		Assert(found != NULL);
		rule->counter_position = found - model->counter_ids;
	}
}

/* The id of what a fit rule tests: a hash of its attribute, test and values. */
static uint64
fit_test_id_of(const FitRule *rule)
{
	uint64		h = hash_bytes_extended((const unsigned char *) rule->attribute,
										rule->attribute_len, 11);

	h = hash_combine64(h, hash_bytes_uint32_extended((uint32) rule->test, 12));
	for (int i = 0; i < rule->nvalues; i++)
	{
		const JsonbValue *v = &rule->values[i];
		uint64		hv = hash_bytes_uint32_extended((uint32) v->type, 13);

		if (v->type == jbvString)
			hv = hash_combine64(hv, hash_bytes_extended((const unsigned char *) v->val.string.val,
														v->val.string.len, 14));
		else if (v->type == jbvNumeric)	/* 1.0 and 1 alike, as the test compares them */
			hv = hash_combine64(hv, DatumGetUInt64(DirectFunctionCall2(hash_numeric_extended,
																	   NumericGetDatum(v->val.numeric),
																	   Int64GetDatum(15))));
		else if (v->type == jbvBool)
			hv = hash_combine64(hv, hash_bytes_uint32_extended((uint32) v->val.boolean, 16));
		h = hash_combine64(h, hv);
	}
	if (rule->pattern != NULL)
		h = hash_combine64(h, hash_bytes_extended((const unsigned char *) VARDATA(rule->pattern),
												  VARSIZE(rule->pattern) - VARHDRSZ, 17));
	if (rule->has_min)
		h = hash_combine64(h, hash_bytes_extended((const unsigned char *) &rule->min_value,
												  sizeof(double), 18));
	if (rule->has_max)
		h = hash_combine64(h, hash_bytes_extended((const unsigned char *) &rule->max_value,
												  sizeof(double), 19));
	return h;
}

/* Do two fit rules test the same thing? */
static bool
same_fit_test(const FitRule *a, const FitRule *b)
{
	if (a->test != b->test || a->attribute_len != b->attribute_len ||
		memcmp(a->attribute, b->attribute, a->attribute_len) != 0 ||
		a->nvalues != b->nvalues || a->has_min != b->has_min || a->has_max != b->has_max ||
		(a->has_min && a->min_value != b->min_value) ||
		(a->has_max && a->max_value != b->max_value) ||
		(a->pattern == NULL) != (b->pattern == NULL) ||
		(a->pattern != NULL && (VARSIZE(a->pattern) != VARSIZE(b->pattern) ||
								memcmp(a->pattern, b->pattern, VARSIZE(a->pattern)) != 0)))
		return false;
	for (int i = 0; i < a->nvalues; i++)
		if (!scalar_equals(&a->values[i], &b->values[i]))
			return false;
	return true;
}

/* Order the indexes of fit rules by their test ids (signed, as stored). */
static int
compare_fit_tests(const void *a, const void *b, void *arg)
{
	const FitRule *rules = arg;
	int64		ia = (int64) rules[*(const int *) a].test_id;
	int64		ib = (int64) rules[*(const int *) b].test_id;

	return (ia > ib) - (ia < ib);
}

/*
 * The model's distinct fit tests, each rule given its test's position.  A
 * lead's record of the tests it passed (lead_scores.fit_tests) then serves
 * every model with the same tests, whatever their points, caps or rule ids;
 * two different tests with one id would be a 64-bit collision, refused.
 */
static void
collect_fit_tests(ScoringModel *model)
{
	int		   *order = identity_permutation(model->nfit_rules);
	uint64		h = 0x6669742074657374;

	for (int i = 0; i < model->nfit_rules; i++)
		model->fit_rules[i].test_id = fit_test_id_of(&model->fit_rules[i]);
	qsort_arg(order, model->nfit_rules, sizeof(int), compare_fit_tests, model->fit_rules);
	model->fit_test_ids = palloc(sizeof(int64) * Max(model->nfit_rules, 1));
	model->fit_test_rules = palloc(sizeof(int) * Max(model->nfit_rules, 1));
	for (int i = 0; i < model->nfit_rules; i++)
	{
		FitRule    *rule = &model->fit_rules[order[i]];

		if (model->nfit_tests > 0 &&
			model->fit_test_ids[model->nfit_tests - 1] == (int64) rule->test_id)
		{
			if (!same_fit_test(rule, &model->fit_rules[model->fit_test_rules[model->nfit_tests - 1]]))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("fit rules %d and %d hash alike though they test differently", rule->rule_id,
								model->fit_rules[model->fit_test_rules[model->nfit_tests - 1]].rule_id),
						 errhint("Write one of the tests differently, for example as \"in\" with one value.")));
		}
		else
		{
			model->fit_test_ids[model->nfit_tests] = (int64) rule->test_id;
			model->fit_test_rules[model->nfit_tests] = order[i];
			model->nfit_tests++;
			h = hash_combine64(h, hash_bytes_uint32_extended((uint32) rule->test_id, rule->test_id >> 32));
		}
		rule->test_position = model->nfit_tests - 1;
	}
	model->fit_basis = h;
	pfree(order);
}

/*
 * The fingerprint covers what the engagement state depends on: which
 * counters it counts.  Rule ids, points, caps and components are applied when
 * a state is evaluated, so a model that differs only in them (a copy, a
 * trained draft, a point moved) needs no recount.
 */
static uint64
compute_fingerprint(const ScoringModel *model)
{
	uint64		h = 0x636f756e74657273;

	for (int i = 0; i < model->ncounters; i++)
		h = hash_combine64(h, hash_bytes_uint32_extended((uint32) model->counter_ids[i],
														 model->counter_ids[i] >> 32));
	return h;
}

/* The ids of the named list of stored_bases (bigint numbers), ascending and distinct. */
static uint64 *
get_bases(JsonbContainer *bases, const char *key, int *n)
{
	JsonbContainer *list = get_list(bases, key);
	int			count = list == NULL ? 0 : JsonContainerSize(list);
	uint64	   *ids = palloc(sizeof(uint64) * Max(count, 1));
	int			kept = 0;

	if (count > MAX_STORED_BASES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("stored_bases.%s of a model definition has %d entries, more than %d",
						key, count, MAX_STORED_BASES)));
	for (int i = 0; i < count; i++)
	{
		JsonbValue *v = getIthJsonbValueFromContainer(list, i);
		int64		id;

		if (v == NULL || v->type != jbvNumeric || !numeric_to_int64(v->val.numeric, &id))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("stored_bases.%s of a model definition must hold whole numbers in bigint range",
							key)));
		ids[i] = (uint64) id;
	}
	qsort(ids, count, sizeof(uint64), compare_counter_ids);
	for (int i = 0; i < count; i++)
		if (kept == 0 || ids[kept - 1] != ids[i])
			ids[kept++] = ids[i];
	*n = kept;
	return ids;
}

/*
 * The fingerprints and fit bases the stored states may carry besides the
 * model's own (stored_state_bases, put in the active model's definition).
 */
static void
parse_stored_bases(ScoringModel *model, JsonbContainer *root)
{
	JsonbValue *v = get_key(root, "stored_bases");
	JsonbContainer *bases = get_container(v, false);

	if (v != NULL && bases == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("stored_bases of a model definition must be a JSON object")));
	if (bases == NULL)
		return;
	model->stored_fingerprints = get_bases(bases, "fingerprints", &model->nstored_fingerprints);
	model->stored_fit_bases = get_bases(bases, "fit_bases", &model->nstored_fit_bases);
}

/* Parse and validate a definition in the current memory context. */
ScoringModel *
parse_scoring_model(Jsonb *definition)
{
	ScoringModel *model = palloc0(sizeof(ScoringModel));
	JsonbContainer *root = &definition->root;
	JsonbValue *id;

	if (!JsonContainerIsObject(root))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a model definition must be a JSON object")));
	id = get_key(root, "model_id");
	if (id != NULL)
		model->model_id = get_id(id, "model_id");
	parse_components(model, root);
	parse_activity_rules(model, root);
	parse_fit_rules(model, root);
	collect_counters(model);
	model->fingerprint = compute_fingerprint(model);
	collect_fit_tests(model);
	parse_stored_bases(model, root);
	model->definition_hash = hash_bytes_extended((const unsigned char *) VARDATA_ANY(definition),
												 VARSIZE_ANY_EXHDR(definition), 0);
	return model;
}

/*
 * Models parsed in this backend, kept for its lifetime and keyed by their
 * detoasted definition: a statement run again (a trigger's, say) gets a fresh
 * fn_extra each time, and would otherwise parse the model on every run.
 * Entries are never freed, since fn_extra caches may point into them; past
 * MAX_BACKEND_MODELS distinct definitions, models are parsed per call site.
 */
#define MAX_BACKEND_MODELS 8

typedef struct BackendModel
{
	Jsonb	   *definition;
	ScoringModel *model;
} BackendModel;

static BackendModel backend_models[MAX_BACKEND_MODELS];
static int	nbackend_models = 0;

/* The backend's parsed model for a definition, parsing and keeping it if new; NULL when full. */
static ScoringModel *
backend_model(Jsonb *definition)
{
	Size		size = VARSIZE(definition);
	MemoryContext context;
	MemoryContext old;
	BackendModel *entry;

	for (int i = 0; i < nbackend_models; i++)
		if (VARSIZE(backend_models[i].definition) == size &&
			memcmp(backend_models[i].definition, definition, size) == 0)
			return backend_models[i].model;
	if (nbackend_models == MAX_BACKEND_MODELS)
		return NULL;

	/* parsed under the current context first, so an invalid model leaks nothing */
	context = AllocSetContextCreate(CurrentMemoryContext, "lead_scoring backend model",
									ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(context);
	entry = &backend_models[nbackend_models];
	entry->definition = palloc(size);
	memcpy(entry->definition, definition, size);
	entry->model = parse_scoring_model(entry->definition);
	MemoryContextSwitchTo(old);
	MemoryContextSetParent(context, TopMemoryContext);
	nbackend_models++;
	return entry->model;
}

/*
 * Whether argument argno of the call is a constant of the query: of the
 * function's call, or, for an aggregate's transition function (whose
 * argument 0 is the state), of the aggregate's call.  Only a Const is: a
 * PL/pgSQL "simple expression" keeps its fn_extra while its parameters take
 * new values, maybe at the same address.
 */
static bool
argument_is_constant(FunctionCallInfo fcinfo, int argno)
{
	Node	   *expr = fcinfo->flinfo->fn_expr;
	Aggref	   *aggref;
	List	   *args;

	if (fcinfo->context != NULL && IsA(fcinfo->context, AggState) &&
		(aggref = AggGetAggref(fcinfo)) != NULL)
	{
		if (argno < 1 || argno > list_length(aggref->args))
			return false;
		return IsA(((TargetEntry *) list_nth(aggref->args, argno - 1))->expr, Const);
	}
	if (expr == NULL || !IsA(expr, FuncExpr))
		return false;
	args = ((FuncExpr *) expr)->args;
	return argno >= 0 && argno < list_length(args) && IsA(list_nth(args, argno), Const);
}

/*
 * The parsed model for argument argno, cached in the fn_extra of 'owner'
 * (the call's own flinfo, or a copy for a second model argument): a query
 * passes the same definition for every row, so it is detoasted and parsed
 * once.  A constant is never compared again; any other value is compared by
 * its raw bytes (compressed or a TOAST pointer as they come), which costs a
 * memcmp and no decompression.  A miss looks in the backend's models before
 * parsing.
 */
ScoringModel *
scoring_model_arg(FunctionCallInfo fcinfo, int argno, FmgrInfo *owner)
{
	ModelCache *cache = (ModelCache *) owner->fn_extra;
	Datum		datum = PG_GETARG_DATUM(argno);
	struct varlena *raw = (struct varlena *) DatumGetPointer(datum);
	Size		size;
	MemoryContext old;
	Jsonb	   *definition;
	ScoringModel *model;

	if (cache != NULL && cache->constant && cache->model != NULL)
		return cache->model;
	size = VARSIZE_ANY(raw);
	if (cache != NULL && cache->size == size && memcmp(cache->bytes, raw, size) == 0)
		return cache->model;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(owner->fn_mcxt, sizeof(ModelCache));
		cache->constant = argument_is_constant(fcinfo, argno);
		owner->fn_extra = cache;
	}
	if (cache->context != NULL)
		MemoryContextDelete(cache->context);
	cache->model = NULL;
	cache->size = 0;
	cache->context = AllocSetContextCreate(owner->fn_mcxt, "lead_scoring model",
										   ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cache->context);
	/* a fresh copy: the parsed rules point into it, unless the backend keeps it */
	definition = (Jsonb *) PG_DETOAST_DATUM_COPY(datum);
	model = backend_model(definition);
	model = model != NULL ? model : parse_scoring_model(definition);
	cache->bytes = palloc(size);
	memcpy(cache->bytes, raw, size);
	cache->size = size;
	cache->model = model;
	MemoryContextSwitchTo(old);
	return cache->model;
}

/* Number of counters of an activity type; *first is the index of the first. */
int
find_activity_counters(const ScoringModel *model, const char *type, int len, int *first)
{
	int			lo = 0;
	int			hi = model->ncounters;
	int			count = 0;

	/* lower bound of (type) in the sorted counters */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		const ActivityCounter *c = &model->counters[mid];

		if (compare_types(c->activity_type, c->activity_type_len, type, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (lo + count < model->ncounters &&
		   model->counters[lo + count].activity_type_len == len &&
		   memcmp(model->counters[lo + count].activity_type, type, len) == 0)
		count++;
	return count;
}

/* Does the model count this counter? */
bool
model_has_counter(const ScoringModel *model, uint64 counter_id)
{
	return bsearch(&counter_id, model->counter_ids, model->ncounters, sizeof(uint64),
				   compare_counter_ids) != NULL;
}

/* Does the model have this fit test? */
bool
model_has_fit_test(const ScoringModel *model, int64 test_id)
{
	int			lo = 0;
	int			hi = model->nfit_tests;

	/* fit_test_ids ascend as signed numbers */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (model->fit_test_ids[mid] < test_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < model->nfit_tests && model->fit_test_ids[lo] == test_id;
}

/*
 * Can the model evaluate the state?  Its own fingerprint, or one the stored
 * states may still carry: a state built with fewer counters, whose lead has
 * no activity for the counters it lacks (the recount that added them found
 * none), and whose entries of counters the model does not have are ignored.
 */
bool
state_fits_model(const EngagementState *state, const ScoringModel *model)
{
	return state->fingerprint == model->fingerprint ||
		bsearch(&state->fingerprint, model->stored_fingerprints, model->nstored_fingerprints,
				sizeof(uint64), compare_counter_ids) != NULL;
}

/* Can the model score a fit record of that basis?  (As state_fits_model, for fit tests.) */
bool
fit_basis_fits_model(uint64 basis, const ScoringModel *model)
{
	return basis == model->fit_basis ||
		bsearch(&basis, model->stored_fit_bases, model->nstored_fit_bases,
				sizeof(uint64), compare_counter_ids) != NULL;
}

/* check_model(jsonb): the definition itself if valid, else an error. */
PG_FUNCTION_INFO_V1(lead_scoring_check_model);
Datum
lead_scoring_check_model(PG_FUNCTION_ARGS)
{
	Jsonb	   *definition = PG_GETARG_JSONB_P(0);

	(void) parse_scoring_model(definition);
	PG_RETURN_JSONB_P(definition);
}
