/*
 * funnel.c
 *		The funnel in one pass over the leads: per grade, how many leads and
 *		their lowest and highest total score.  Each lead's total is an
 *		argument, evaluated once, where a GROUP BY on its grade with min()
 *		and max() of it evaluates it three times and sorts the rows it came
 *		from.  Its state is a float8[], which parallel workers hand back
 *		without a serial function.
 */
#include "lead_scoring.h"

#include "catalog/pg_type_d.h"
#include "utils/array.h"
#include "utils/float.h"

/* per grade position: leads, leads with a total, lowest total, highest */
#define FUNNEL_SLOTS 4

/* The elements of an array without nulls (ARR_DATA_PTR, for that case). */
static char *
funnel_array_data(ArrayType *array)
{
	return (char *) array + ARR_OVERHEAD_NONULLS(ARR_NDIM(array));
}

/* The min_scores array as doubles, checked: one-dimensional, no null, ascending. */
const double *
grade_thresholds_arg(ArrayType *min_scores, int *ngrades)
{
	const double *values;
	int			n;

	if (ARR_NDIM(min_scores) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("grade thresholds must be a one-dimensional array")));
	if (ARR_HASNULL(min_scores))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("grade thresholds must not hold a null min_score")));
	if (ARR_ELEMTYPE(min_scores) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("grade thresholds must be an array of double precision")));
	n = ArrayGetNItems(ARR_NDIM(min_scores), ARR_DIMS(min_scores));
	values = (const double *) funnel_array_data(min_scores);
	for (int i = 1; i < n; i++)
		if (float8_lt(values[i], values[i - 1]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("grade thresholds must be in ascending order of min_score")));
	*ngrades = n;
	return values;
}

/*
 * What a function that grades row after row keeps in its fn_extra: the cache
 * of its model argument (in model_owner's fn_extra) and the thresholds it was
 * last passed, as raw bytes and as the checked values.  A query passes the
 * same thresholds for every row, and as a column of a joined row they come
 * with a short header: unpacking and checking them again would cost a copy
 * per row.
 */
typedef struct GradingCache
{
	FmgrInfo	model_owner;
	Size		raw_size;
	char	   *raw;
	int			ngrades;
	double	   *min_scores;
	Size		ready_size;		/* the sales_ready flags, the same way */
	char	   *ready_raw;
	int			nready;
	bool	   *sales_ready;
} GradingCache;

/* The grading cache of the function being called, made on its first call. */
GradingCache *
grading_cache(FunctionCallInfo fcinfo)
{
	GradingCache *cache = (GradingCache *) fcinfo->flinfo->fn_extra;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(GradingCache));
		fmgr_info_copy(&cache->model_owner, fcinfo->flinfo, fcinfo->flinfo->fn_mcxt);
		cache->model_owner.fn_extra = NULL;
		fcinfo->flinfo->fn_extra = cache;
	}
	return cache;
}

/* Its model owner, for scoring_model_arg. */
FmgrInfo *
grading_model_owner(GradingCache *cache)
{
	return &cache->model_owner;
}

/* The thresholds of argument argno (not null) as grade_thresholds_arg gives them, checked once per value. */
const double *
cached_grade_thresholds(FunctionCallInfo fcinfo, GradingCache *cache, int argno, int *ngrades)
{
	struct varlena *raw = (struct varlena *) DatumGetPointer(PG_GETARG_DATUM(argno));
	Size		size = VARSIZE_ANY(raw);
	MemoryContext old;
	const double *values;

	if (cache->raw == NULL || cache->raw_size != size || memcmp(cache->raw, raw, size) != 0)
	{
		if (cache->raw != NULL)
		{
			pfree(cache->raw);
			pfree(cache->min_scores);
			cache->raw = NULL;
		}
		values = grade_thresholds_arg(PG_GETARG_ARRAYTYPE_P(argno), &cache->ngrades);
		old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		cache->min_scores = palloc(sizeof(double) * Max(cache->ngrades, 1));
		memcpy(cache->min_scores, values, sizeof(double) * cache->ngrades);
		cache->raw = palloc(size);
		memcpy(cache->raw, raw, size);
		cache->raw_size = size;
		MemoryContextSwitchTo(old);
	}
	*ngrades = cache->ngrades;
	return cache->min_scores;
}

/*
 * The sales_ready flags of argument argno (not null), one per grade of the
 * thresholds just read (a null flag is false), checked once per value.
 */
const bool *
cached_sales_ready(FunctionCallInfo fcinfo, GradingCache *cache, int argno, int ngrades)
{
	struct varlena *raw = (struct varlena *) DatumGetPointer(PG_GETARG_DATUM(argno));
	Size		size = VARSIZE_ANY(raw);
	ArrayType  *flags;
	Datum	   *values;
	bool	   *nulls;
	int			n;
	MemoryContext old;

	if (cache->ready_raw != NULL && cache->nready == ngrades && cache->ready_size == size &&
		memcmp(cache->ready_raw, raw, size) == 0)
		return cache->sales_ready;
	if (cache->ready_raw != NULL)
	{
		pfree(cache->ready_raw);
		pfree(cache->sales_ready);
		cache->ready_raw = NULL;
	}
	flags = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_NDIM(flags) > 1 || ARR_ELEMTYPE(flags) != BOOLOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("sales_ready flags must be a one-dimensional array of boolean")));
	deconstruct_array(flags, BOOLOID, 1, true, TYPALIGN_CHAR, &values, &nulls, &n);
	if (n != ngrades)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("grade thresholds give %d min_scores and %d sales_ready flags", ngrades, n)));
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	cache->sales_ready = palloc(sizeof(bool) * Max(n, 1));
	for (int i = 0; i < n; i++)
		cache->sales_ready[i] = !nulls[i] && DatumGetBool(values[i]);
	cache->nready = n;
	cache->ready_raw = palloc(size);
	memcpy(cache->ready_raw, raw, size);
	cache->ready_size = size;
	MemoryContextSwitchTo(old);
	return cache->sales_ready;
}

/*
 * The position, from 1, of the grade a total earns among ascending
 * min_scores, as grade_index() gives it: the number of them at or below it,
 * at least 1 (NaN is above every number, as PostgreSQL orders it).
 */
int
grade_position(double total, const double *min_scores, int ngrades)
{
	int			lo = 0;
	int			hi = ngrades;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (float8_le(min_scores[mid], total))
			lo = mid + 1;
		else
			hi = mid;
	}
	return Max(lo, 1);
}

/*
 * The grade position of every total from low to high, if they share one; 0
 * if they do not (or low is above high).  Only the next threshold up from
 * low's position can part them.
 */
int
bounds_grade_position(double low, double high, const double *min_scores, int ngrades)
{
	int			position = grade_position(low, min_scores, ngrades);

	if (!float8_le(low, high) || (position < ngrades && float8_le(min_scores[position], high)))
		return 0;
	return position;
}

/* A state of ngrades positions with nothing counted, in the aggregate's context. */
static ArrayType *
new_funnel_state(MemoryContext aggcontext, int ngrades)
{
	MemoryContext old = MemoryContextSwitchTo(aggcontext);
	int			n = ngrades * FUNNEL_SLOTS;
	Datum	   *zeros = palloc(sizeof(Datum) * n);
	ArrayType  *state;

	for (int i = 0; i < n; i++)
		zeros[i] = Float8GetDatum(0.0);
	state = construct_array(zeros, n, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	pfree(zeros);
	MemoryContextSwitchTo(old);
	return state;
}

/* The counts of a state, checked to be one this aggregate made. */
static double *
funnel_slots(ArrayType *state, int *ngrades)
{
	int			n = ARR_NDIM(state) == 1 ? ARR_DIMS(state)[0] : -1;

	if (n < 0 || ARR_HASNULL(state) || ARR_ELEMTYPE(state) != FLOAT8OID ||
		n % FUNNEL_SLOTS != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("not a state of lead_scoring.funnel_counts")));
	*ngrades = n / FUNNEL_SLOTS;
	return (double *) funnel_array_data(state);
}

/* Count a lead at a position (from 0), with its total if it has one. */
static void
funnel_count(double *slots, int position, bool has_total, double total)
{
	slots = slots + position * FUNNEL_SLOTS;
	if (has_total)
	{
		if (slots[1] == 0 || float8_lt(total, slots[2]))
			slots[2] = total;
		if (slots[1] == 0 || float8_gt(total, slots[3]))
			slots[3] = total;
		slots[1] += 1;
	}
	slots[0] += 1;
}

/*
 * funnel_counts_transfn(state, stamp, xmin, fit_tests, fit_basis,
 * engagement, model, as_of, min_scores): count one lead_scores row at the grade position
 * grade_index(stored_total_score(...)) gives it, with its total (none
 * without a model).  A stamp that holds and falls within one grade places it
 * without evaluating it; it is evaluated only if its bounds reach beyond the
 * lowest or highest total of its grade so far.  No grades (min_scores null
 * or empty): nothing is counted.
 */
PG_FUNCTION_INFO_V1(lead_scoring_funnel_counts_transfn);
Datum
lead_scoring_funnel_counts_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "funnel_counts");
	ArrayType  *state = PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0);
	GradingCache *cache = grading_cache(fcinfo);
	const double *min_scores;
	int			ngrades;
	int			state_grades;
	double	   *slots;
	TimestampTz as_of;
	double		low;
	double		high;
	double		total;
	int			position;

	if (PG_ARGISNULL(8))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_ARRAYTYPE_P(state);
	}
	min_scores = cached_grade_thresholds(fcinfo, cache, 8, &ngrades);
	if (ngrades == 0)
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_ARRAYTYPE_P(state);
	}
	if (state == NULL)
		state = new_funnel_state(aggcontext, ngrades);
	slots = funnel_slots(state, &state_grades);
	if (state_grades != ngrades)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the grade thresholds changed within one funnel (%d grades, then %d)",
						state_grades, ngrades)));
	if (PG_ARGISNULL(6) || PG_ARGISNULL(7))
	{
		funnel_count(slots, 0, false, 0);
		PG_RETURN_ARRAYTYPE_P(state);
	}
	as_of = PG_GETARG_TIMESTAMPTZ(7);
	if (stamped_total_bounds(fcinfo, &cache->model_owner, 1, as_of, &low, &high) &&
		(position = bounds_grade_position(low, high, min_scores, ngrades)) > 0)
	{
		double	   *known = slots + (position - 1) * FUNNEL_SLOTS;

		if (known[1] > 0 && float8_ge(low, known[2]) && float8_le(high, known[3]))
		{
			/* within the lowest and highest so far: neither moves */
			known[0] += 1;
			known[1] += 1;
			PG_RETURN_ARRAYTYPE_P(state);
		}
		total = stamped_row_total(fcinfo, &cache->model_owner, 3, as_of);
	}
	else
	{
		total = stamped_row_total(fcinfo, &cache->model_owner, 3, as_of);
		position = grade_position(total, min_scores, ngrades);
	}
	funnel_count(slots, position - 1, true, total);
	PG_RETURN_ARRAYTYPE_P(state);
}

/* funnel_counts_combinefn(a, b): the counts of both (parallel workers). */
PG_FUNCTION_INFO_V1(lead_scoring_funnel_counts_combinefn);
Datum
lead_scoring_funnel_counts_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "funnel_counts");
	ArrayType  *a;
	ArrayType  *b;
	double	   *into;
	const double *from;
	int			na;
	int			nb;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_ARRAYTYPE_P(PG_GETARG_ARRAYTYPE_P(0));
	}
	b = PG_GETARG_ARRAYTYPE_P(1);
	from = funnel_slots(b, &nb);
	if (PG_ARGISNULL(0))
	{
		MemoryContext old = MemoryContextSwitchTo(aggcontext);

		a = DatumGetArrayTypePCopy(PointerGetDatum(b));
		MemoryContextSwitchTo(old);
		PG_RETURN_ARRAYTYPE_P(a);
	}
	a = PG_GETARG_ARRAYTYPE_P(0);
	into = funnel_slots(a, &na);
	if (na != nb)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the grade thresholds changed within one funnel (%d grades, then %d)", na, nb)));
	for (int i = 0; i < na; i++)
	{
		double	   *x = into + i * FUNNEL_SLOTS;
		const double *y = from + i * FUNNEL_SLOTS;

		if (y[1] > 0)
		{
			if (x[1] == 0 || float8_lt(y[2], x[2]))
				x[2] = y[2];
			if (x[1] == 0 || float8_gt(y[3], x[3]))
				x[3] = y[3];
		}
		x[0] += y[0];
		x[1] += y[1];
	}
	PG_RETURN_ARRAYTYPE_P(a);
}
