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
 *		A stamp's check ties it to the model's definition and to the row
 *		version it was written with: the hash of the definition mixed with
 *		the id of the (sub)transaction that made it, which is the xmin of the
 *		row it is written into.  Whoever writes the row again in another
 *		transaction gives it another xmin, so a stamp serves only the row
 *		version it was made for, and only under that model; checking it reads
 *		neither the state nor the fit record.  Within its own transaction,
 *		every write of lead_scores that changes what scores a lead stamps it
 *		again (or clears the stamp), and one that changes only its other
 *		columns carries the stamp over to the new version (carried_stamp).
 */
#include "lead_scoring.h"

#include <math.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type_d.h"
#include "libpq/pqformat.h"
#include "nodes/makefuncs.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"

/* The lead_scoring.score_stamp type (40 bytes, by reference). */
typedef struct ScoreStamp
{
	double		low;			/* lowest total from 'from' to 'until' */
	double		high;			/* highest */
	TimestampTz from;			/* first instant the bounds hold for */
	TimestampTz until;			/* last instant */
	uint64		check;			/* model hash ^ stamp_version_key(row xmin) */
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
 * A row's fit record, state and model, from argument 'first' on: as stored
 * (a short row's values unaligned, with a 1-byte header); unpacked only to
 * evaluate the row.
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
 * (the stamp and the row's xmin come before them, the thresholds after).
 */
static void
stamped_row_args(FunctionCallInfo fcinfo, FmgrInfo *model_owner, int first, StampedRow *row)
{
	memset(row, 0, sizeof(StampedRow));
	if (!PG_ARGISNULL(first + 3))
		row->model = scoring_model_arg(fcinfo, first + 3, model_owner);
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
 * The part of a check that names a row version: its xmin, spread over 64
 * bits (the finaliser of MurmurHash3), so that a check made for one version
 * and model matches that of another version or model only by chance, one
 * in 2^64.
 */
static uint64
stamp_version_key(TransactionId xid)
{
	uint64		k = (uint64) xid + UINT64CONST(0x9e3779b97f4a7c15);

	k ^= k >> 33;
	k *= UINT64CONST(0xff51afd7ed558ccd);
	k ^= k >> 33;
	k *= UINT64CONST(0xc4ceb9fe1a85ec53);
	k ^= k >> 33;
	return k;
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
	return bounds_grade_position(low, high, min_scores, ngrades) > 0;
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

	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("a score stamp is made for a row being written, and a standby writes none"),
				 errhint("Read lead_grades or funnel on a standby; stamps come from the primary.")));
	stamped_row_args(fcinfo, fcinfo->flinfo, 0, &row);
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
	/* the version this transaction writes: its xmin will be this id */
	stamp->check = row.model->definition_hash ^ stamp_version_key(GetCurrentTransactionId());
	PG_RETURN_POINTER(stamp);
}

/* Whether the stamp was made for the row version with this xmin under this model. */
static bool
stamp_serves(const ScoreStamp *stamp, TransactionId xmin, const ScoringModel *model)
{
	return (stamp->check ^ stamp_version_key(xmin)) == model->definition_hash;
}

/*
 * Bounds of the total at as_of from the stamp in argument first, of the row
 * version whose xmin is argument first + 1, under the model in argument
 * first + 5: false if the stamp does not hold (made for another version or
 * model, or for other instants).
 */
bool
stamped_total_bounds(FunctionCallInfo fcinfo, FmgrInfo *model_owner, int first, TimestampTz as_of,
					 double *low, double *high)
{
	const ScoreStamp *stamp;

	if (PG_ARGISNULL(first) || PG_ARGISNULL(first + 1) || PG_ARGISNULL(first + 5))
		return false;
	stamp = (const ScoreStamp *) PG_GETARG_POINTER(first);
	if (as_of < stamp->from || as_of > stamp->until ||
		!stamp_serves(stamp, DatumGetTransactionId(PG_GETARG_DATUM(first + 1)),
					  scoring_model_arg(fcinfo, first + 5, model_owner)))
		return false;
	*low = stamp->low;
	*high = stamp->high;
	return true;
}

/*
 * stamp_is_current(stamp, xmin, model): whether the stamp was made for the
 * row version with this xmin under this model, and so serves it (until its
 * instant, at any thresholds).
 */
PG_FUNCTION_INFO_V1(lead_scoring_stamp_is_current);
Datum
lead_scoring_stamp_is_current(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(stamp_serves((const ScoreStamp *) PG_GETARG_POINTER(0),
								DatumGetTransactionId(PG_GETARG_DATUM(1)),
								scoring_model_arg(fcinfo, 2, fcinfo->flinfo)));
}

/*
 * carried_stamp(stamp, xmin): the stamp of the row version with this xmin,
 * for the version this transaction writes in its place with the same fit
 * record and state (other columns changed): it serves the new version if it
 * served the old one, under the same model, and nothing otherwise.
 */
PG_FUNCTION_INFO_V1(lead_scoring_carried_stamp);
Datum
lead_scoring_carried_stamp(PG_FUNCTION_ARGS)
{
	ScoreStamp *stamp = palloc(sizeof(ScoreStamp));

	memcpy(stamp, PG_GETARG_POINTER(0), sizeof(ScoreStamp));
	stamp->check ^= stamp_version_key(DatumGetTransactionId(PG_GETARG_DATUM(1))) ^
		stamp_version_key(GetCurrentTransactionId());
	PG_RETURN_POINTER(stamp);
}

/* The exact total at as_of of the row in arguments first .. first + 3 (null model: NaN). */
double
stamped_row_total(FunctionCallInfo fcinfo, FmgrInfo *model_owner, int first, TimestampTz as_of)
{
	StampedRow	row;

	stamped_row_args(fcinfo, model_owner, first, &row);
	if (row.model == NULL)
		return get_float8_nan();
	stamped_row_unpack(&row);
	return stamped_row_exact(&row, as_of);
}

/*
 * The grade position (from 1) at argument 6 of the row in arguments 0 .. 5
 * (stamp, xmin, fit_tests, fit_basis, engagement, model) among the
 * thresholds of argument 7, from the stamp when it holds and tells: what
 * stamped_grade_index and stamped_sales_ready share.  0 if the model,
 * instant or thresholds are null.
 */
static int
stamped_position(FunctionCallInfo fcinfo, GradingCache **cache, int *ngrades)
{
	const double *min_scores;
	TimestampTz as_of;
	double		low;
	double		high;
	int			position;

	if (PG_ARGISNULL(7) || PG_ARGISNULL(5) || PG_ARGISNULL(6))
		return 0;
	*cache = grading_cache(fcinfo);
	min_scores = cached_grade_thresholds(fcinfo, *cache, 7, ngrades);
	as_of = PG_GETARG_TIMESTAMPTZ(6);
	if (stamped_total_bounds(fcinfo, grading_model_owner(*cache), 0, as_of, &low, &high) &&
		(position = bounds_grade_position(low, high, min_scores, *ngrades)) > 0)
		return position;
	return grade_position(stamped_row_total(fcinfo, grading_model_owner(*cache), 2, as_of),
						  min_scores, *ngrades);
}

/*
 * stamped_grade_index(stamp, xmin, fit_tests, fit_basis, engagement, model,
 * as_of, min_scores): grade_index(stored_total_score(...), min_scores), from
 * the stamp when it holds and tells; null without a model, instant or
 * thresholds.
 */
PG_FUNCTION_INFO_V1(lead_scoring_stamped_grade_index);
Datum
lead_scoring_stamped_grade_index(PG_FUNCTION_ARGS)
{
	GradingCache *cache;
	int			ngrades;
	int			position = stamped_position(fcinfo, &cache, &ngrades);

	if (position == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(position);
}

/*
 * stamped_sales_ready(stamp, xmin, fit_tests, fit_basis, engagement, model,
 * as_of, min_scores, sales_ready): whether the grade stamped_grade_index
 * gives is sales-ready by the flags of grade_thresholds; false without a
 * model or flags.
 */
PG_FUNCTION_INFO_V1(lead_scoring_stamped_sales_ready);
Datum
lead_scoring_stamped_sales_ready(PG_FUNCTION_ARGS)
{
	GradingCache *cache;
	int			ngrades;
	int			position = stamped_position(fcinfo, &cache, &ngrades);

	if (position == 0 || PG_ARGISNULL(8) || ngrades == 0)
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(cached_sales_ready(fcinfo, cache, 8, ngrades)[position - 1]);
}

/*
 * Planner support of stamped_sales_ready: its selectivity over a
 * lead_scores row is the share of those rows whose handed_off flag is set,
 * from ANALYZE's statistics.  The flag is set when a lead turns sales-ready
 * and cleared when a write finds it no longer is, so it differs from the
 * share sales-ready now only by the leads that decayed since their last
 * write; without the statistics the planner's default (a third or more)
 * would cost the sales-ready leads' sort and transfer ten times over.
 */
PG_FUNCTION_INFO_V1(lead_scoring_sales_ready_support);
Datum
lead_scoring_sales_ready_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestSelectivity *req;
	Var		   *stamp;
	RangeTblEntry *rte;
	AttrNumber	attnum;
	Var		   *handed_off;
	VariableStatData vardata;
	bool		has_stats;

	if (!IsA(rawreq, SupportRequestSelectivity))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestSelectivity *) rawreq;
	if (req->is_join || list_length(req->args) != 9 || !IsA(linitial(req->args), Var))
		PG_RETURN_POINTER(NULL);
	stamp = (Var *) linitial(req->args);
	if (stamp->varlevelsup != 0 || stamp->varno < 1 ||
		stamp->varno >= req->root->simple_rel_array_size)
		PG_RETURN_POINTER(NULL);
	rte = planner_rt_fetch(stamp->varno, req->root);
	if (rte->rtekind != RTE_RELATION ||
		rte->relid != get_relname_relid("lead_scores", get_func_namespace(req->funcid)) ||
		(attnum = get_attnum(rte->relid, "handed_off")) == InvalidAttrNumber)
		PG_RETURN_POINTER(NULL);
	handed_off = makeVar(stamp->varno, attnum, BOOLOID, -1, InvalidOid, 0);
	examine_variable(req->root, (Node *) handed_off, req->varRelid, &vardata);
	has_stats = HeapTupleIsValid(vardata.statsTuple);
	ReleaseVariableStats(vardata);
	if (!has_stats)
		PG_RETURN_POINTER(NULL);
	req->selectivity = boolvarsel(req->root, (Node *) handed_off, req->varRelid);
	PG_RETURN_POINTER(req);
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
