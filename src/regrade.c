/*
 * regrade.c
 *		The report of a model change in one pass over the leads: how many
 *		changed grade, became or stopped being sales-ready, and which leads'
 *		handoff flag no longer fits their new grade (with the suppressed
 *		leads still flagged, the only ones hand_off must look at).  An
 *		aggregate with a combine function, so the pass can run in parallel
 *		workers.
 */
#include "lead_scoring.h"

#include "catalog/pg_type_d.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/array.h"

/* The running report. */
typedef struct RegradeReport
{
	int64		leads;
	int64		changed_grade;
	int64		now_sales_ready;
	int64		no_longer_sales_ready;
	int			nleads_to_check;
	int			capacity;
	int64	   *leads_to_check;
} RegradeReport;

/* A report with nothing counted yet. */
static RegradeReport *
new_report(void)
{
	RegradeReport *report = palloc0(sizeof(RegradeReport));

	report->capacity = 16;
	report->leads_to_check = palloc(sizeof(int64) * report->capacity);
	return report;
}

/* Note a lead whose handoff flag hand_off must look at. */
static void
add_lead_to_check(RegradeReport *report, int64 lead_id)
{
	if (report->nleads_to_check == report->capacity)
	{
		if (report->capacity >= (int) (MaxAllocSize / sizeof(int64) / 2))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many leads change sales-readiness in one model change")));
		report->capacity *= 2;
		report->leads_to_check = repalloc(report->leads_to_check,
										  sizeof(int64) * report->capacity);
	}
	report->leads_to_check[report->nleads_to_check++] = lead_id;
}

/*
 * regrade_transfn(report, lead_id, handed_off, before, after,
 * min_scores, sales_ready): count one lead graded with score 'before' (null:
 * it had no grade) and 'after'.
 */
PG_FUNCTION_INFO_V1(lead_scoring_regrade_transfn);
Datum
lead_scoring_regrade_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "regrade");
	RegradeReport *report = PG_ARGISNULL(0) ? NULL : (RegradeReport *) PG_GETARG_POINTER(0);
	const double *min_scores = NULL;
	const bool *sales_ready = NULL;
	int			ngrades = 0;
	MemoryContext old;
	bool		ready_before = false;
	bool		ready_after = false;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("regrade needs a lead_id, its handed_off flag and its score after the change")));
	if (!PG_ARGISNULL(5) && !PG_ARGISNULL(6))
	{
		GradingCache *cache = grading_cache(fcinfo);

		min_scores = cached_grade_thresholds(fcinfo, cache, 5, &ngrades);
		sales_ready = cached_sales_ready(fcinfo, cache, 6, ngrades);
	}
	old = MemoryContextSwitchTo(aggcontext);
	if (report == NULL)
		report = new_report();
	report->leads++;
	if (ngrades > 0)
	{
		int			after = grade_position(PG_GETARG_FLOAT8(4), min_scores, ngrades) - 1;

		ready_after = sales_ready[after];
		if (PG_ARGISNULL(3))
			report->changed_grade++;	/* a lead new to scoring had no grade */
		else
		{
			int			before = grade_position(PG_GETARG_FLOAT8(3), min_scores, ngrades) - 1;

			ready_before = sales_ready[before];
			if (before != after)
				report->changed_grade++;
		}
		if (ready_after && !ready_before)
			report->now_sales_ready++;
		if (ready_before && !ready_after)
			report->no_longer_sales_ready++;
	}
	/* ready and not flagged, or flagged and not ready */
	if (PG_GETARG_BOOL(2) != ready_after)
		add_lead_to_check(report, PG_GETARG_INT64(1));
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(report);
}

/* Add one partial report to another (the left one is reused when it exists). */
PG_FUNCTION_INFO_V1(lead_scoring_regrade_combinefn);
Datum
lead_scoring_regrade_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "regrade");
	RegradeReport *left = PG_ARGISNULL(0) ? NULL : (RegradeReport *) PG_GETARG_POINTER(0);
	RegradeReport *right = PG_ARGISNULL(1) ? NULL : (RegradeReport *) PG_GETARG_POINTER(1);
	MemoryContext old;

	if (right == NULL)
		PG_RETURN_POINTER(left);
	old = MemoryContextSwitchTo(aggcontext);
	if (left == NULL)
		left = new_report();
	left->leads += right->leads;
	left->changed_grade += right->changed_grade;
	left->now_sales_ready += right->now_sales_ready;
	left->no_longer_sales_ready += right->no_longer_sales_ready;
	for (int i = 0; i < right->nleads_to_check; i++)
		add_lead_to_check(left, right->leads_to_check[i]);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(left);
}

/* A partial report as bytes, for a parallel worker to hand to the leader. */
PG_FUNCTION_INFO_V1(lead_scoring_regrade_serialfn);
Datum
lead_scoring_regrade_serialfn(PG_FUNCTION_ARGS)
{
	RegradeReport *report = (RegradeReport *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	(void) aggregate_context(fcinfo, "regrade");
	pq_begintypsend(&buf);
	pq_sendint64(&buf, report->leads);
	pq_sendint64(&buf, report->changed_grade);
	pq_sendint64(&buf, report->now_sales_ready);
	pq_sendint64(&buf, report->no_longer_sales_ready);
	pq_sendint32(&buf, report->nleads_to_check);
	for (int i = 0; i < report->nleads_to_check; i++)
		pq_sendint64(&buf, report->leads_to_check[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* The partial report serialfn wrote. */
PG_FUNCTION_INFO_V1(lead_scoring_regrade_deserialfn);
Datum
lead_scoring_regrade_deserialfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "regrade");
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	MemoryContext old = MemoryContextSwitchTo(aggcontext);
	RegradeReport *report = new_report();
	int			n;

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
	report->leads = pq_getmsgint64(&buf);
	report->changed_grade = pq_getmsgint64(&buf);
	report->now_sales_ready = pq_getmsgint64(&buf);
	report->no_longer_sales_ready = pq_getmsgint64(&buf);
	n = pq_getmsgint(&buf, 4);
	if (n < 0 || (Size) n > (Size) (buf.len - buf.cursor) / sizeof(int64))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid partial regrade report")));
	for (int i = 0; i < n; i++)
		add_lead_to_check(report, pq_getmsgint64(&buf));
	pq_getmsgend(&buf);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(report);
}

/* The report: (leads, changed_grade, now_sales_ready, no_longer_sales_ready, leads_to_check). */
PG_FUNCTION_INFO_V1(lead_scoring_regrade_finalfn);
Datum
lead_scoring_regrade_finalfn(PG_FUNCTION_ARGS)
{
	RegradeReport *report = PG_ARGISNULL(0) ? NULL : (RegradeReport *) PG_GETARG_POINTER(0);
	TupleDesc	desc;
	Datum		values[5];
	bool		nulls[5] = {0};
	Datum	   *ids;

	(void) aggregate_context(fcinfo, "regrade");
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("regrade must return a composite type")));
	if (report == NULL)
		report = new_report();
	ids = palloc(sizeof(Datum) * Max(report->nleads_to_check, 1));
	for (int i = 0; i < report->nleads_to_check; i++)
		ids[i] = Int64GetDatum(report->leads_to_check[i]);
	values[0] = Int64GetDatum(report->leads);
	values[1] = Int64GetDatum(report->changed_grade);
	values[2] = Int64GetDatum(report->now_sales_ready);
	values[3] = Int64GetDatum(report->no_longer_sales_ready);
	values[4] = PointerGetDatum(construct_array(ids, report->nleads_to_check, INT8OID,
												sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
