/*
 * score_stamp.c
 *		A lead's score stamp: bounds of its total score from an instant (when
 *		it was written, or its latest activity if later) until another,
 *		written with its row, so that views grade it without evaluating its
 *		state.  Between activities a score only moves one way per rule
 *		(positive points fade, negative points fade towards 0), so bounds over
 *		an interval come from its two ends; the end is chosen, when the stamp
 *		is made, as the last instant at which the bounds still fall within
 *		one grade of the thresholds then.
 *
 *		A stamp holds a hash of the model's definition, of the state and of
 *		the fit record it was made from, and serves only a row that still
 *		has them: a row written without a new stamp, or read under another
 *		model, is evaluated as if it had none.  So no stamp can be stale,
 *		whoever writes lead_scores.
 */
#include "lead_scoring.h"

#include <math.h>

#include "catalog/pg_type_d.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/float.h"

/* The lead_scoring.score_stamp type (40 bytes, by reference). */
typedef struct ScoreStamp
{
	double		low;			/* lowest total from 'from' to 'until' */
	double		high;			/* highest */
	TimestampTz from;			/* first instant the bounds hold for */
	TimestampTz until;			/* last instant */
	uint64		check;			/* hash of the model, state and fit record */
} ScoreStamp;

/* Bounds are widened by this share of the scores, against rounding in exp2. */
#define STAMP_MARGIN 1e-9
/*
 * The first step of the search for the end, the longest interval, and how
 * close the search comes to the last instant that holds: within a 32nd of
 * the interval (a stamp that ends a little early only serves a little less;
 * every step is an evaluation, made at every insert).
 */
#define STAMP_FIRST_STEP USECS_PER_HOUR
#define STAMP_LONGEST ((int64) 1000 * 366 * USECS_PER_DAY)
#define STAMP_PRECISION 32

/*
 * The arguments a stamp is checked against, from argument 'first' on: as
 * stored (a short row's values unaligned, with a 1-byte header), which is
 * all the check hashes; unpacked only to evaluate the row.
 */
typedef struct StampedRow
{
	ScoringModel *model;		/* NULL: no model */
	struct varlena *raw_tests;	/* NULL: none */
	bool		has_basis;
	uint64		fit_basis;
	struct varlena *raw_state;	/* NULL: no activity */
	ArrayType  *fit_tests;		/* unpacked by stamped_row_unpack */
	EngagementState *state;
} StampedRow;

/*
 * Arguments first .. first + 3: fit_tests, fit_basis, engagement, model
 * (the stamp itself comes before them, the thresholds after).
 */
static void
stamped_row_args(FunctionCallInfo fcinfo, int first, StampedRow *row)
{
	memset(row, 0, sizeof(StampedRow));
	if (!PG_ARGISNULL(first + 3))
		row->model = scoring_model_arg(fcinfo, first + 3, fcinfo->flinfo);
	if (!PG_ARGISNULL(first))
		row->raw_tests = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(first));
	row->has_basis = !PG_ARGISNULL(first + 1);
	if (row->has_basis)
		row->fit_basis = (uint64) PG_GETARG_INT64(first + 1);
	if (!PG_ARGISNULL(first + 2))
		row->raw_state = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(first + 2));
}

/* The row's fit record and state, aligned, for evaluating it. */
static void
stamped_row_unpack(StampedRow *row)
{
	row->fit_tests = row->raw_tests != NULL ? DatumGetArrayTypeP(PointerGetDatum(row->raw_tests))
		: construct_empty_array(INT8OID);
	row->state = row->raw_state != NULL ? DatumGetEngagementState(PointerGetDatum(row->raw_state)) : NULL;
}

/*
 * A 64-bit hash of bytes, eight at a time (multiply, shift, xor: the mixing
 * of MurmurHash64A).  Every view reads it for every lead, where PostgreSQL's
 * hash_bytes_extended cost a fifth of a read of lead_grades; it needs to tell
 * a row's values from the ones it had, not to resist an attacker (who could
 * as well write the row).  Byte order is the machine's, as that of the data
 * files.
 */
static uint64
stamp_hash(const char *data, Size len, uint64 seed)
{
	const uint64 m = UINT64CONST(0xc6a4a7935bd1e995);
	uint64		h = seed ^ (len * m);
	uint64		k;

	for (; len >= sizeof(uint64); data += sizeof(uint64), len -= sizeof(uint64))
	{
		memcpy(&k, data, sizeof(uint64));
		k *= m;
		k ^= k >> 47;
		k *= m;
		h ^= k;
		h *= m;
	}
	if (len > 0)
	{
		k = 0;
		memcpy(&k, data, len);
		h ^= k;
		h *= m;
	}
	h ^= h >> 47;
	h *= m;
	h ^= h >> 47;
	return h;
}

/* The hash a stamp of this row under its model carries. */
static uint64
stamped_row_check(const StampedRow *row)
{
	uint64		h = row->model->definition_hash;

	if (row->raw_state != NULL)
		h = stamp_hash(VARDATA_ANY(row->raw_state), VARSIZE_ANY_EXHDR(row->raw_state), h);
	h = stamp_hash("", 0, h);	/* a state of none differs from a record of none */
	if (row->raw_tests != NULL)
		h = stamp_hash(VARDATA_ANY(row->raw_tests), VARSIZE_ANY_EXHDR(row->raw_tests), h);
	if (row->has_basis)
		h = stamp_hash((const char *) &row->fit_basis, sizeof(uint64), h);
	return h;
}

/* The row's fit score (0 without a basis), as tested_fit_score gives it. */
static double
stamped_row_fit(const StampedRow *row)
{
	if (!row->has_basis)
		return 0;
	if (!fit_basis_fits_model(row->fit_basis, row->model))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("fit tests were recorded with other fit rules than the model given"),
				 errdetail("The record's basis is %016llx, the model's %016llx.",
						   (unsigned long long) row->fit_basis,
						   (unsigned long long) row->model->fit_basis),
				 state_mismatch_hint()));
	return record_fit_score(row->model, row->fit_tests);
}

/* The row's total at as_of, as stored_total_score gives it. */
static double
stamped_row_exact(const StampedRow *row, TimestampTz as_of)
{
	double		fit = stamped_row_fit(row);

	return fit + (row->state != NULL ? engagement_value(row->state, row->model, as_of) : 0);
}

/* Bounds of the row's total from start to 'to', widened against rounding. */
static void
stamped_row_bounds(const StampedRow *row, double fit, TimestampTz start, TimestampTz to,
				   double *low, double *high)
{
	double		lo = 0;
	double		hi = 0;
	double		margin;

	if (row->state != NULL)
		engagement_bounds(row->state, row->model, start, to, &lo, &hi);
	lo = fit + lo;
	hi = fit + hi;
	margin = STAMP_MARGIN * (fabs(lo) + fabs(hi) + 1);
	*low = lo - margin;
	*high = hi + margin;
}

/* Whether both totals earn the same grade. */
static bool
same_grade(double low, double high, const double *min_scores, int ngrades)
{
	return grade_position(low, min_scores, ngrades) == grade_position(high, min_scores, ngrades);
}

/*
 * stamp_score(fit_tests, fit_basis, engagement, model, min_scores, from):
 * the stamp of a lead_scores row under the model from instant 'from' on, for
 * the thresholds given (null or none: one grade).  A score is evaluated at
 * its latest activity if as_of is earlier, so from a 'from' at or before it
 * (or null) the stamp holds for every earlier instant too.  Null when the
 * model cannot evaluate the row, or its score is at a threshold's edge.
 */
PG_FUNCTION_INFO_V1(lead_scoring_stamp_score);
Datum
lead_scoring_stamp_score(PG_FUNCTION_ARGS)
{
	StampedRow	row;
	const double *min_scores = NULL;
	int			ngrades = 0;
	double		fit;
	TimestampTz from;
	TimestampTz start;
	TimestampTz good;
	TimestampTz bad;
	int64		step;
	double		low;
	double		high;
	ScoreStamp *stamp;

	stamped_row_args(fcinfo, 0, &row);
	if (row.model == NULL)
		PG_RETURN_NULL();
	stamped_row_unpack(&row);
	if ((row.state != NULL && !state_fits_model(row.state, row.model)) ||
		(row.has_basis && !fit_basis_fits_model(row.fit_basis, row.model)))
		PG_RETURN_NULL();
	if (!PG_ARGISNULL(4))
		min_scores = grade_thresholds_arg(PG_GETARG_ARRAYTYPE_P(4), &ngrades);
	fit = stamped_row_fit(&row);
	from = PG_ARGISNULL(5) ? DT_NOBEGIN : PG_GETARG_TIMESTAMPTZ(5);
	start = row.state != NULL ? evaluation_instant(row.state, from) : from;
	if (row.state == NULL || from <= evaluation_instant(row.state, DT_NOBEGIN))
		from = DT_NOBEGIN;

	stamped_row_bounds(&row, fit, start, start, &low, &high);
	if (isnan(low) || isnan(high) || !same_grade(low, high, min_scores, ngrades))
		PG_RETURN_NULL();
	if (row.state == NULL || row.state->nentries == 0 || TIMESTAMP_NOT_FINITE(start))
		good = DT_NOEND;
	else
	{
		stamped_row_bounds(&row, fit, start, DT_NOEND, &low, &high);
		if (same_grade(low, high, min_scores, ngrades))
			good = DT_NOEND;
		else
		{
			/* the interval doubles while the grade holds, then is halved */
			good = start;
			step = STAMP_FIRST_STEP;
			bad = DT_NOEND;
			while (step <= STAMP_LONGEST && start < END_TIMESTAMP - step)
			{
				stamped_row_bounds(&row, fit, start, start + step, &low, &high);
				if (!same_grade(low, high, min_scores, ngrades))
				{
					bad = start + step;
					break;
				}
				good = start + step;
				step *= 2;
			}
			while (bad != DT_NOEND && bad - good > Max(USECS_PER_SEC, (good - start) / STAMP_PRECISION))
			{
				TimestampTz mid = good + (bad - good) / 2;

				stamped_row_bounds(&row, fit, start, mid, &low, &high);
				if (same_grade(low, high, min_scores, ngrades))
					good = mid;
				else
					bad = mid;
			}
		}
	}
	stamped_row_bounds(&row, fit, start, good, &low, &high);
	stamp = palloc(sizeof(ScoreStamp));
	stamp->low = low;
	stamp->high = high;
	stamp->from = from;
	stamp->until = good;
	stamp->check = stamped_row_check(&row);
	PG_RETURN_POINTER(stamp);
}

/*
 * Bounds of the total at as_of of the row in arguments first + 1 .. first + 4
 * from its stamp in argument first: false if it has none that holds (made
 * from another row or model, or for an earlier instant).
 */
bool
stamped_total_bounds(FunctionCallInfo fcinfo, int first, TimestampTz as_of,
					 double *low, double *high)
{
	const ScoreStamp *stamp;
	StampedRow	row;

	if (PG_ARGISNULL(first) || PG_ARGISNULL(first + 4))
		return false;
	stamp = (const ScoreStamp *) PG_GETARG_POINTER(first);
	if (as_of < stamp->from || as_of > stamp->until)
		return false;
	stamped_row_args(fcinfo, first + 1, &row);
	if (stamp->check != stamped_row_check(&row))
		return false;
	*low = stamp->low;
	*high = stamp->high;
	return true;
}

/*
 * stamp_is_current(stamp, fit_tests, fit_basis, engagement, model): whether
 * the stamp was made from this row under this model (at any thresholds).
 */
PG_FUNCTION_INFO_V1(lead_scoring_stamp_is_current);
Datum
lead_scoring_stamp_is_current(PG_FUNCTION_ARGS)
{
	StampedRow	row;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(4))
		PG_RETURN_BOOL(false);
	stamped_row_args(fcinfo, 1, &row);
	PG_RETURN_BOOL(((const ScoreStamp *) PG_GETARG_POINTER(0))->check == stamped_row_check(&row));
}

/* The exact total at as_of of the row in arguments first .. first + 3 (null model: NaN). */
double
stamped_row_total(FunctionCallInfo fcinfo, int first, TimestampTz as_of)
{
	StampedRow	row;

	stamped_row_args(fcinfo, first, &row);
	if (row.model == NULL)
		return get_float8_nan();
	stamped_row_unpack(&row);
	return stamped_row_exact(&row, as_of);
}

/*
 * stamped_grade_index(stamp, fit_tests, fit_basis, engagement, model, as_of,
 * min_scores): grade_index(stored_total_score(...), min_scores), from the
 * stamp when it holds and tells.
 */
PG_FUNCTION_INFO_V1(lead_scoring_stamped_grade_index);
Datum
lead_scoring_stamped_grade_index(PG_FUNCTION_ARGS)
{
	const double *min_scores;
	int			ngrades;
	TimestampTz as_of;
	double		low;
	double		high;
	int			position;

	if (PG_ARGISNULL(6) || PG_ARGISNULL(4) || PG_ARGISNULL(5))
		PG_RETURN_INT32(1);
	min_scores = grade_thresholds_arg(PG_GETARG_ARRAYTYPE_P(6), &ngrades);
	as_of = PG_GETARG_TIMESTAMPTZ(5);
	if (stamped_total_bounds(fcinfo, 0, as_of, &low, &high) &&
		(position = grade_position(low, min_scores, ngrades)) ==
		grade_position(high, min_scores, ngrades))
		PG_RETURN_INT32(position);
	PG_RETURN_INT32(grade_position(stamped_row_total(fcinfo, 1, as_of), min_scores, ngrades));
}

static void stamp_syntax_error(const char *input) pg_attribute_noreturn();

/* The error for a text that is not a stamp. */
static void
stamp_syntax_error(const char *input)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type lead_scoring.score_stamp: \"%s\"", input),
			 errdetail("A stamp reads (low,high,\"from\",\"until\",check), the check in hex.")));
}

/* An instant as text, for the text form. */
static char *
stamp_instant_out(TimestampTz at)
{
	return DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(at)));
}

/* An instant of the text form. */
static TimestampTz
stamp_instant_in(const char *text)
{
	return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(text),
												   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

/* Text form: (low,high,"from","until",check), check in hex. */
PG_FUNCTION_INFO_V1(score_stamp_out);
Datum
score_stamp_out(PG_FUNCTION_ARGS)
{
	const ScoreStamp *stamp = (const ScoreStamp *) PG_GETARG_POINTER(0);

	PG_RETURN_CSTRING(psprintf("(%s,%s,\"%s\",\"%s\",%016llx)", float8out_internal(stamp->low),
							   float8out_internal(stamp->high), stamp_instant_out(stamp->from),
							   stamp_instant_out(stamp->until), (unsigned long long) stamp->check));
}

#define STAMP_FIELDS 5

/* The text form back (a stamp typed in serves only the row it hashes). */
PG_FUNCTION_INFO_V1(score_stamp_in);
Datum
score_stamp_in(PG_FUNCTION_ARGS)
{
	const char *input = PG_GETARG_CSTRING(0);
	char	   *buf = pstrdup(input);
	size_t		len = strlen(buf);
	char	   *fields[STAMP_FIELDS];
	char	   *p;
	const char *check;
	ScoreStamp *stamp = palloc(sizeof(ScoreStamp));

	if (len < 2 || buf[0] != '(' || buf[len - 1] != ')')
		stamp_syntax_error(input);
	buf[len - 1] = '\0';
	p = buf + 1;
	for (int i = 0; i < STAMP_FIELDS; i++)
	{
		fields[i] = p;
		if ((i == 2 || i == 3) && *p == '"')
		{
			fields[i] = ++p;
			p = strchr(p, '"');
			if (p == NULL)
				stamp_syntax_error(input);
			*p++ = '\0';
		}
		else
			p += strcspn(p, ",");
		if (*p != (i < STAMP_FIELDS - 1 ? ',' : '\0'))
			stamp_syntax_error(input);
		*p++ = '\0';
	}
	check = fields[STAMP_FIELDS - 1];
	if (strlen(check) == 0 || strlen(check) > 16 || strspn(check, "0123456789abcdefABCDEF") != strlen(check))
		stamp_syntax_error(input);
	stamp->low = DatumGetFloat8(DirectFunctionCall1(float8in, CStringGetDatum(fields[0])));
	stamp->high = DatumGetFloat8(DirectFunctionCall1(float8in, CStringGetDatum(fields[1])));
	stamp->from = stamp_instant_in(fields[2]);
	stamp->until = stamp_instant_in(fields[3]);
	stamp->check = strtoull(check, NULL, 16);
	PG_RETURN_POINTER(stamp);
}
