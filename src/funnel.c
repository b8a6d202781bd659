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
static const double *
funnel_thresholds(ArrayType *min_scores, int *ngrades)
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
	int			n = ArrayGetNItems(ARR_NDIM(state), ARR_DIMS(state));

	if (ARR_NDIM(state) != 1 || ARR_HASNULL(state) || ARR_ELEMTYPE(state) != FLOAT8OID ||
		n % FUNNEL_SLOTS != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("not a state of lead_scoring.funnel_counts")));
	*ngrades = n / FUNNEL_SLOTS;
	return (double *) funnel_array_data(state);
}

/*
 * funnel_counts_transfn(state, total, min_scores): count one lead whose total
 * is 'total' (null: no total, graded the lowest, as grade_index() grades it)
 * at the grade position grade_index() gives it.  No grades (min_scores null
 * or empty): nothing is counted.
 */
PG_FUNCTION_INFO_V1(lead_scoring_funnel_counts_transfn);
Datum
lead_scoring_funnel_counts_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "funnel_counts");
	ArrayType  *state = PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0);
	const double *min_scores;
	int			ngrades;
	int			state_grades;
	double	   *slots;
	int			position = 0;

	if (PG_ARGISNULL(2))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_ARRAYTYPE_P(state);
	}
	min_scores = funnel_thresholds(PG_GETARG_ARRAYTYPE_P(2), &ngrades);
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
	if (!PG_ARGISNULL(1))
	{
		double		total = PG_GETARG_FLOAT8(1);
		int			lo = 0;
		int			hi = ngrades;

		/* the min_scores at or below the total, at least one, less one */
		while (lo < hi)
		{
			int			mid = lo + (hi - lo) / 2;

			if (float8_le(min_scores[mid], total))
				lo = mid + 1;
			else
				hi = mid;
		}
		position = Max(lo, 1) - 1;
		slots = slots + position * FUNNEL_SLOTS;
		if (slots[1] == 0 || float8_lt(total, slots[2]))
			slots[2] = total;
		if (slots[1] == 0 || float8_gt(total, slots[3]))
			slots[3] = total;
		slots[1] += 1;
	}
	slots[0] += 1;
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
