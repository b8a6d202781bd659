/*
 * live_trigger.c
 *		lead_scoring.score_inserted_activities(): the AFTER INSERT statement
 *		trigger of a tracked table, which merges the new activities into their
 *		leads' engagement, applies opt-outs, looks for bursts and hands off.
 *
 * It is C so that its statements keep their plans from one insert to the
 * next.  They name the tracked table's columns (the trigger's arguments), so
 * PL/pgSQL could only run them as dynamic SQL, planned again on every insert:
 * that planning was most of the cost of a single-row insert.  Statements over
 * many rows are planned for their size instead, as a kept plan made for one
 * row could be a poor one for a million.  What the statements need from the
 * extension's tables (the active model, the settings, the tracked tables)
 * is kept too, and each merge checks it against the row versions its
 * snapshot sees.
 */
#include "lead_scoring.h"

#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "parser/parse_func.h"
#include "parser/parse_relation.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

/* Inserts of at most this many rows run on kept plans. */
#define SMALL_INSERT_ROWS 100

/* Kept plans, most recent first; all are dropped past this many. */
#define MAX_KEPT_PLANS 32

typedef struct KeptPlan
{
	struct KeptPlan *next;
	Oid			relid;			/* the tracked table whose columns it reads, or
								 * InvalidOid */
	char	   *sql;
	SPIPlanPtr	plan;
} KeptPlan;

static KeptPlan *kept_plans = NULL;
static int	nkept_plans = 0;
static bool kept_plans_stale = false;
static bool relcache_callback_registered = false;

/* A tracked table, as tracked_tables records it. */
typedef struct TrackedTable
{
	Oid			relid;
	char	   *columns[TRACKED_COLUMNS];	/* lead, type, time, properties ('' if none) */
} TrackedTable;

/*
 * The settings and tracked tables, kept from one insert to the next: read
 * again when a merge finds live_settings_version at another version, or when
 * a tracked table changed (whether it may be read is decided when they are
 * read).  On 1.3's SQL, which has no live_settings_version, they are read for
 * every insert.
 */
typedef struct LiveSettings
{
	bool		valid;
	bool		versioned;		/* read with a version of live_settings_version */
	ItemPointerData ctid;		/* that version */
	TransactionId xmin;
	char	   *activity_sources;	/* activity_sources_sql() */
	ArrayType  *opt_types;		/* the opt-out and opt-in types, or NULL */
	int			nopt_types;		/* and as C strings */
	char	  **opt_type_names;
	int64		burst_max;
	Interval	burst_window;
	bool		sales_ready_from_null;	/* the lowest sales-ready total */
	double		sales_ready_from;
	ArrayType  *min_scores;		/* grade_thresholds.min_scores, or NULL */
	int			ntracked;
	TrackedTable *tracked;
	MemoryContext context;
} LiveSettings;

static LiveSettings live_settings = {false};

/* Whether the installed SQL is 1.4's (has merge_engagement(a, b, model)): -1 unknown. */
static int	sql_1_4_known = -1;

/*
 * A relation changed.  A plan over a transition table depends on the tracked
 * table's columns, which the plan cache does not watch: a column whose type
 * changed would be read with its old type.  So such plans are made again.
 */
static void
note_relation_change(Datum arg, Oid relid)
{
	for (KeptPlan *k = kept_plans; k != NULL; k = k->next)
		if (relid == InvalidOid || k->relid == relid)
			kept_plans_stale = true;
	for (int i = 0; i < live_settings.ntracked; i++)
		if (relid == InvalidOid || live_settings.tracked[i].relid == relid)
			live_settings.valid = false;
	/* ALTER EXTENSION UPDATE alters lead_scores: look again */
	sql_1_4_known = -1;
}

/*
 * Is the extension's SQL 1.4's, with merge_engagement(a, b, model) and
 * handoff_due()?  This library also serves a database still on 1.3 (the
 * package updated, ALTER EXTENSION UPDATE not yet run), whose states all have
 * the active model's fingerprint.
 */
static bool
have_sql_1_4(void)
{
	if (sql_1_4_known < 0)
	{
		Oid			schema = get_namespace_oid("lead_scoring", false);
		Oid			state = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
											CStringGetDatum("engagement_state"),
											ObjectIdGetDatum(schema));
		Oid			argtypes[3] = {state, state, JSONBOID};

		sql_1_4_known =
			OidIsValid(LookupFuncName(list_make2(makeString("lead_scoring"), makeString("merge_engagement")),
									  3, argtypes, true));
	}
	return sql_1_4_known == 1;
}

/* Free every kept plan (their tables changed, or there are too many). */
static void
drop_kept_plans(void)
{
	while (kept_plans != NULL)
	{
		KeptPlan   *k = kept_plans;

		kept_plans = k->next;
		SPI_freeplan(k->plan);
		pfree(k->sql);
		pfree(k);
	}
	nkept_plans = 0;
	kept_plans_stale = false;
}

/* The kept plan of a statement, prepared and kept on first use. */
static SPIPlanPtr
kept_plan(const char *sql, Oid relid, int nargs, Oid *argtypes)
{
	KeptPlan   *k;
	SPIPlanPtr	plan;

	if (kept_plans_stale || nkept_plans >= MAX_KEPT_PLANS)
		drop_kept_plans();
	for (k = kept_plans; k != NULL; k = k->next)
		if (k->relid == relid && strcmp(k->sql, sql) == 0)
			return k->plan;

	/*
	 * Generic: a custom plan for each insert's values would be planned again
	 * on every insert, and the values (a few leads, a narrow window) hardly
	 * change what the best plan is.
	 */
	plan = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);
	if (plan == NULL || SPI_keepplan(plan) != 0)
		elog(ERROR, "could not prepare a statement of score_inserted_activities: %s",
			 SPI_result_code_string(SPI_result));
	k = MemoryContextAlloc(TopMemoryContext, sizeof(KeptPlan));
	k->relid = relid;
	k->sql = MemoryContextStrdup(TopMemoryContext, sql);
	k->plan = plan;
	k->next = kept_plans;
	kept_plans = k;
	nkept_plans++;
	return plan;
}

/*
 * Run a SELECT that returns one row, on its kept plan if 'keep', else planned
 * for these values.
 */
static HeapTuple
select_one_row(const char *sql, Oid relid, bool keep, int nargs, Oid *argtypes,
			   Datum *values, const char *nulls)
{
	int			ret;

	if (keep)
		ret = SPI_execute_plan(kept_plan(sql, relid, nargs, argtypes), values, nulls,
							   false, 0);
	else
		ret = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, false, 0);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "a statement of score_inserted_activities returned %llu rows (%s)",
			 (unsigned long long) SPI_processed, SPI_result_code_string(ret));
	return SPI_tuptable->vals[0];
}

/*
 * Column 'n' of the row just selected, copied into the SPI procedure's memory
 * so that it outlives the next statement; *isnull says if it is null.
 */
static Datum
column(HeapTuple row, int n, bool *isnull)
{
	Form_pg_attribute attr = TupleDescAttr(SPI_tuptable->tupdesc, n - 1);
	Datum		value = SPI_getbinval(row, SPI_tuptable->tupdesc, n, isnull);

	return *isnull ? value : datumCopy(value, attr->attbyval, attr->attlen);
}


/*
 * The settings (the opt-out and opt-in types as one list, then the burst
 * ones), the tracked tables as one query and each of them, the lowest
 * sales-ready total and the grade thresholds, and the version of
 * live_settings_version (on 1.4's SQL; on 1.3's, nulls).
 */
static const char *const settings_sql =
"SELECT %s, lead_scoring.activity_sources_sql(), s.opt_types, s.burst_max, s.burst_window,"
"       t.tables, t.leads, t.types, t.times, t.properties, %s, %s"
"  FROM (SELECT max(s.value) FILTER (WHERE s.name = 'opt_out_activity_types') || ',' ||"
"               max(s.value) FILTER (WHERE s.name = 'opt_in_activity_types') AS opt_types,"
"               max(s.value) FILTER (WHERE s.name = 'burst_max_activities')::bigint AS burst_max,"
"               max(s.value) FILTER (WHERE s.name = 'burst_window')::interval AS burst_window"
"          FROM lead_scoring.settings s) s,"
"       (SELECT array_agg(t.activity_table::oid) AS tables, array_agg(t.lead_column::text) AS leads,"
"               array_agg(t.type_column::text) AS types, array_agg(t.time_column::text) AS times,"
"               array_agg(coalesce(t.properties_column::text, '')) AS properties"
"          FROM lead_scoring.tracked_tables t) t%s";

/* The elements of text array column n of the row just read, as C strings. */
static char **
text_array_column(HeapTuple row, int n, int expected)
{
	bool		isnull;
	Datum		value = SPI_getbinval(row, SPI_tuptable->tupdesc, n, &isnull);
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	char	  **result;

	if (isnull)
		return NULL;
	deconstruct_array(DatumGetArrayTypeP(value), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	if (nelems != expected)
		elog(ERROR, "score_inserted_activities read %d tracked columns for %d tracked tables",
			 nelems, expected);
	result = palloc(sizeof(char *) * nelems);
	for (int i = 0; i < nelems; i++)
		result[i] = nulls[i] ? pstrdup("") : TextDatumGetCString(elems[i]);
	return result;
}

/*
 * Read the settings and tracked tables, as this statement's snapshot sees
 * them; whether that is another version than the one kept.
 */
static bool
reload_live_settings(void)
{
	bool		versioned = have_sql_1_4();
	HeapTuple	row;
	bool		isnull;
	Datum		value;
	MemoryContext old;
	int			ret;

	ret = SPI_execute_plan(kept_plan(psprintf(settings_sql,
											  versioned ? "v.ctid, v.xmin" : "NULL::tid, NULL::xid",
											  versioned ? "(SELECT g.sales_ready_from FROM lead_scoring.grade_thresholds g)" :
											  "NULL::float8",
											  versioned ? "(SELECT g.min_scores FROM lead_scoring.grade_thresholds g)" :
											  "NULL::float8[]",
											  versioned ? ", lead_scoring.live_settings_version v" : ""),
									 InvalidOid, 0, NULL),
						   NULL, NULL, false, 0);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the settings for score_inserted_activities: %s",
			 SPI_result_code_string(ret));
	row = SPI_tuptable->vals[0];
	if (versioned && live_settings.valid && live_settings.versioned)
	{
		ItemPointer ctid = (ItemPointer) DatumGetPointer(SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull));
		TransactionId xmin = DatumGetTransactionId(SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &isnull));

		if (ItemPointerEquals(ctid, &live_settings.ctid) && TransactionIdEquals(xmin, live_settings.xmin))
			return false;
	}

	live_settings.valid = false;
	if (live_settings.context == NULL)
		live_settings.context = AllocSetContextCreate(TopMemoryContext, "lead_scoring live settings",
													  ALLOCSET_SMALL_SIZES);
	MemoryContextReset(live_settings.context);
	old = MemoryContextSwitchTo(live_settings.context);

	live_settings.versioned = versioned;
	if (versioned)
	{
		ItemPointerCopy((ItemPointer) DatumGetPointer(SPI_getbinval(row, SPI_tuptable->tupdesc, 1, &isnull)),
						&live_settings.ctid);
		live_settings.xmin = DatumGetTransactionId(SPI_getbinval(row, SPI_tuptable->tupdesc, 2, &isnull));
	}
	value = SPI_getbinval(row, SPI_tuptable->tupdesc, 3, &isnull);
	if (isnull)
		elog(ERROR, "score_inserted_activities found no query of the tracked tables");
	live_settings.activity_sources = TextDatumGetCString(value);
	value = SPI_getbinval(row, SPI_tuptable->tupdesc, 4, &isnull);
	live_settings.opt_types = isnull ? NULL : type_list(DatumGetTextPP(value));
	live_settings.nopt_types = 0;
	if (live_settings.opt_types != NULL)
	{
		Datum	   *elems;
		bool	   *nulls;

		deconstruct_array(live_settings.opt_types, TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &nulls, &live_settings.nopt_types);
		live_settings.opt_type_names = palloc(sizeof(char *) * Max(live_settings.nopt_types, 1));
		for (int i = 0; i < live_settings.nopt_types; i++)
			live_settings.opt_type_names[i] = nulls[i] ? pstrdup("") : TextDatumGetCString(elems[i]);
	}
	value = SPI_getbinval(row, SPI_tuptable->tupdesc, 5, &isnull);
	if (isnull)
		elog(ERROR, "score_inserted_activities found no burst_max_activities setting");
	live_settings.burst_max = DatumGetInt64(value);
	value = SPI_getbinval(row, SPI_tuptable->tupdesc, 6, &isnull);
	if (isnull)
		elog(ERROR, "score_inserted_activities found no burst_window setting");
	live_settings.burst_window = *DatumGetIntervalP(value);

	value = SPI_getbinval(row, SPI_tuptable->tupdesc, 12, &isnull);
	live_settings.sales_ready_from_null = isnull;
	live_settings.sales_ready_from = isnull ? 0 : DatumGetFloat8(value);
	value = SPI_getbinval(row, SPI_tuptable->tupdesc, 13, &isnull);
	live_settings.min_scores = isnull ? NULL : DatumGetArrayTypePCopy(value);

	value = SPI_getbinval(row, SPI_tuptable->tupdesc, 7, &isnull);
	live_settings.ntracked = 0;
	live_settings.tracked = NULL;
	if (!isnull)
	{
		Datum	   *relids;
		bool	   *nulls;
		int			n;
		char	  **columns[TRACKED_COLUMNS];

		deconstruct_array(DatumGetArrayTypeP(value), OIDOID, sizeof(Oid), true, TYPALIGN_INT,
						  &relids, &nulls, &n);
		for (int c = 0; c < TRACKED_COLUMNS; c++)
			columns[c] = text_array_column(row, 8 + c, n);
		live_settings.tracked = palloc(sizeof(TrackedTable) * n);
		for (int i = 0; i < n; i++)
		{
			live_settings.tracked[i].relid = DatumGetObjectId(relids[i]);
			for (int c = 0; c < TRACKED_COLUMNS; c++)
				live_settings.tracked[i].columns[c] = columns[c][i];
		}
		live_settings.ntracked = n;
	}
	MemoryContextSwitchTo(old);
	live_settings.valid = true;
	return true;
}

/* Whether the table (or the table it is a partition of) is tracked with these columns. */
static bool
tracked_with(Oid relid, Oid root, char **columns)
{
	for (int i = 0; i < live_settings.ntracked; i++)
	{
		TrackedTable *t = &live_settings.tracked[i];
		int			c;

		if (t->relid != relid && t->relid != root)
			continue;
		for (c = 0; c < TRACKED_COLUMNS; c++)
			if (strcmp(t->columns[c], columns[c]) != 0)
				break;
		if (c == TRACKED_COLUMNS)
			return true;
	}
	return false;
}

/*
 * The table at the top of a partition's tree, or the table itself: a tracked
 * table is never a partition, so that is the one a partition is tracked as.
 */
static Oid
partition_root(Relation rel)
{
	if (!rel->rd_rel->relispartition)
		return RelationGetRelid(rel);
	return llast_oid(get_partition_ancestors(RelationGetRelid(rel)));
}

/*
 * The active model, as the last merge found it: the version of its row (a
 * row version's ctid and xmin never name another) and its definition.  A
 * merge passes the definition as a value, so that it is not read from TOAST
 * and decompressed by every function that takes it, and joins the row to
 * check that it is still the version its snapshot sees.
 */
typedef struct ActiveModel
{
	bool		exists;			/* whether there was an active model */
	ItemPointerData ctid;
	TransactionId xmin;
	Jsonb	   *definition;		/* in TopMemoryContext */
} ActiveModel;

static ActiveModel active_model = {false};
static bool active_model_read = false;

/*
 * Read the active model, as this statement's snapshot sees it; whether that
 * is another version than the one kept.
 */
static bool
reload_active_model(void)
{
	int			ret;
	bool		isnull;
	ItemPointer ctid;
	TransactionId xmin;

	ret = SPI_execute_plan(kept_plan("SELECT m.ctid, m.xmin, m.definition FROM lead_scoring.models m"
									 " WHERE m.is_active",
									 InvalidOid, 0, NULL),
						   NULL, NULL, false, 0);
	if (ret != SPI_OK_SELECT || SPI_processed > 1)
		elog(ERROR, "could not read the active model for score_inserted_activities: %s",
			 SPI_result_code_string(ret));
	if (SPI_processed == 0)
	{
		bool		changed = active_model.exists;

		active_model.exists = false;
		return changed;
	}
	ctid = (ItemPointer) DatumGetPointer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	xmin = DatumGetTransactionId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (active_model.exists && ItemPointerEquals(ctid, &active_model.ctid) &&
		TransactionIdEquals(xmin, active_model.xmin))
		return false;

	if (active_model.definition != NULL)
		pfree(active_model.definition);
	active_model.definition = NULL;
	active_model.exists = false;
	{
		Datum		definition = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		if (!isnull)
			active_model.definition = (Jsonb *) PG_DETOAST_DATUM_COPY(definition);
		MemoryContextSwitchTo(old);
	}
	ItemPointerCopy(ctid, &active_model.ctid);
	active_model.xmin = xmin;
	active_model.exists = true;
	return true;
}

/*
 * What a merge sets: the state merged with 'new_state' (a stored state with
 * an older fingerprint the model accepts is brought to the model's), and the
 * handoff flag cleared for a lead whose score (of the row as it was before
 * this statement) has faded below sales-ready by time alone, so that
 * hand_off hands it off again if the new rows lift it, and the row's score
 * stamp made anew.  The model is $2, the lowest sales-ready total $7, the
 * grade thresholds $11.
 */
static char *
merge_set_sql(const char *new_state)
{
	if (!have_sql_1_4())
		return psprintf("engagement = lead_scoring.merge_engagement(s.engagement, %s), scored_at = now(),"
						" handed_off = s.handed_off AND (lead_scoring.lead_score(s.lead_id, now())).sales_ready",
						new_state);
	return psprintf("engagement = lead_scoring.merge_engagement(s.engagement, %1$s, $2), scored_at = now(),"
					" handed_off = s.handed_off AND"
					" coalesce(lead_scoring.stored_total_score(s.fit_tests, s.fit_basis, s.engagement, $2, now())"
					" >= $7, false),"
					" score_stamp = lead_scoring.stamp_score(s.fit_tests, s.fit_basis,"
					" lead_scoring.merge_engagement(s.engagement, %1$s, $2), $2, $11, now())",
					new_state);
}

/*
 * What a merge returns: each lead merged, and whether hand_off must look at
 * it (handoff_due, from the merged row: on 1.3's SQL, always); with
 * burst_sources (the tracked tables as one query), also whether it has more
 * than $10 activities from $8 to $9 (a row past the first $10: no count),
 * and so may have a burst there.
 */
static char *
merge_returning_sql(const char *burst_sources)
{
	return psprintf(" RETURNING s.lead_id, %s AS due%s",
					have_sql_1_4() ?
					"lead_scoring.handoff_due(s.handed_off,"
					" lead_scoring.stored_total_score(s.fit_tests, s.fit_basis, s.engagement, $2, now()), $7,"
					" s.open_suppressions > 0)" : "true",
					burst_sources == NULL ? "" :
					psprintf(", EXISTS (SELECT FROM (%s) a"
							 "     WHERE a.lead_id = s.lead_id AND a.occurred_at >= $8 AND a.occurred_at <= $9 OFFSET $10)",
							 burst_sources));
}

/*
 * That the model merged with is the active one, at the version of its row
 * $3 and $4, and the settings kept are at the version of
 * live_settings_version $5 and $6: else the merge merges nothing.
 */
static const char *
merge_versions_sql(void)
{
	return have_sql_1_4() ?
		"EXISTS (SELECT FROM lead_scoring.models m WHERE m.ctid = $3 AND m.xmin = $4 AND m.is_active)"
		" AND EXISTS (SELECT FROM lead_scoring.live_settings_version v WHERE v.ctid = $5 AND v.xmin = $6)" :
		"EXISTS (SELECT FROM lead_scoring.models m WHERE m.ctid = $3 AND m.xmin = $4 AND m.is_active)";
}

/* The type, time and properties of a row of new_activities n, as the scoring functions take them. */
static char *
new_row_args(char **columns)
{
	return psprintf("n.%s::text, n.%s, %s", quote_identifier(columns[1]), quote_identifier(columns[2]),
					columns[3][0] == '\0' ? "NULL::jsonb" :
					psprintf("n.%s::jsonb", quote_identifier(columns[3])));
}

/*
 * Merge the new rows into lead_scores, in lead order, so that concurrent
 * inserts lock leads in one order.
 */
static char *
upsert_sql(char **columns, const char *burst_sources)
{
	const char *lead = quote_identifier(columns[0]);

	return psprintf("INSERT INTO lead_scoring.lead_scores AS s (lead_id, engagement)"
					" SELECT n.%1$s, lead_scoring.score_activities($2, %2$s)"
					"   FROM new_activities n"
					"  WHERE %3$s AND n.%1$s IS NOT NULL"
					"  GROUP BY n.%1$s ORDER BY n.%1$s"
					" ON CONFLICT (lead_id) DO UPDATE SET %4$s%5$s",
					lead, new_row_args(columns), merge_versions_sql(),
					merge_set_sql("excluded.engagement"), merge_returning_sql(burst_sources));
}

/*
 * Merge one new row, its columns $12 to $15 (of their columns' types), into
 * the row its lead has: no aggregate, no speculative insertion.  Nothing is
 * merged for a lead without a row (upsert_sql then adds it).
 */
static char *
update_sql(const char *burst_sources)
{
	return psprintf("UPDATE lead_scoring.lead_scores s"
					"   SET %s"
					" WHERE s.lead_id = $12 AND %s%s",
					merge_set_sql("lead_scoring.activity_state($2, $13::text, $14, $15::jsonb)"),
					merge_versions_sql(), merge_returning_sql(burst_sources));
}

/* Each lead's latest new opt activity ($1: the opt-out and opt-in types), as jsonb. */
static char *
latest_opt_sql(char **columns)
{
	const char *lead = quote_identifier(columns[0]);
	const char *type = quote_identifier(columns[1]);
	const char *at = quote_identifier(columns[2]);

	return psprintf(
					"SELECT jsonb_object_agg(o.lead_id, o.activity_type) FROM ("
					"  SELECT DISTINCT ON (n.%1$s) n.%1$s::bigint AS lead_id, n.%2$s::text AS activity_type"
					"    FROM new_activities n"
					"   WHERE n.%2$s = ANY ($1)"
					"   ORDER BY n.%1$s, n.%3$s DESC) o",
					lead, type, at);
}

/*
 * For many rows, all in one statement: the merge (upsert_sql), then the leads
 * merged, those due, each lead's latest opt activity and the time range.
 */
static char *
merge_sql(char **columns)
{
	const char *at = quote_identifier(columns[2]);

	return psprintf(
					"WITH merged AS (%s)"
					" SELECT (SELECT array_agg(merged.lead_id) FROM merged),"
					"        (SELECT array_agg(merged.lead_id) FILTER (WHERE merged.due) FROM merged),"
					"        (%s),"
					"        t.first_at, t.last_at"
					"   FROM (SELECT min(n.%s) AS first_at, max(n.%s) AS last_at FROM new_activities n) t",
					upsert_sql(columns, NULL), latest_opt_sql(columns), at, at);
}

/* The tracked columns of a new row (lead, type, time, properties), with their types. */
typedef struct NewRow
{
	Datum		values[TRACKED_COLUMNS];
	bool		nulls[TRACKED_COLUMNS];
	Oid			types[TRACKED_COLUMNS];
} NewRow;

/*
 * What a few new rows hold, read here rather than by a query (whose start
 * would cost more than reading them): whether any has a lead, whether any is
 * of an opt type, their first and last time (*any_time false if none has
 * one), and the tracked columns of the last one.
 */
static void
scan_new_rows(TriggerData *trigdata, bool *any_lead, bool *any_opt, bool *any_time,
			  TimestampTz *first_at, TimestampTz *last_at, NewRow *last)
{
	Relation	rel = trigdata->tg_relation;
	TupleDesc	desc = RelationGetDescr(rel);
	AttrNumber	type_att = attnameAttNum(rel, trigdata->tg_trigger->tgargs[1], false);
	AttrNumber	time_att = attnameAttNum(rel, trigdata->tg_trigger->tgargs[2], false);
	bool		blank_padded;
	TupleTableSlot *slot;
	Tuplestorestate *rows = trigdata->tg_newtable;
	int			reader;
	int			previous = 0;
	AttrNumber	attnums[TRACKED_COLUMNS];

	if (type_att <= 0 || time_att <= 0)
		elog(ERROR, "score_inserted_activities found no column %s or %s",
			 trigdata->tg_trigger->tgargs[1], trigdata->tg_trigger->tgargs[2]);
	blank_padded = TupleDescAttr(desc, type_att - 1)->atttypid == BPCHAROID;
	*any_lead = false;
	*any_opt = false;
	*any_time = false;
	for (int c = 0; c < TRACKED_COLUMNS; c++)
	{
		const char *name = trigdata->tg_trigger->tgargs[c];

		attnums[c] = name[0] == '\0' ? InvalidAttrNumber : attnameAttNum(rel, name, false);
		last->types[c] = attnums[c] > 0 ? TupleDescAttr(desc, attnums[c] - 1)->atttypid : JSONBOID;
		last->nulls[c] = true;
	}
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	reader = tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND);
	tuplestore_select_read_pointer(rows, reader);
	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, slot))
	{
		bool		isnull;
		Datum		value = slot_getattr(slot, time_att, &isnull);

		if (!isnull)
		{
			TimestampTz at = DatumGetTimestampTz(value);

			if (!*any_time || at < *first_at)
				*first_at = at;
			if (!*any_time || at > *last_at)
				*last_at = at;
			*any_time = true;
		}
		value = slot_getattr(slot, type_att, &isnull);
		if (!isnull && !*any_opt && live_settings.nopt_types > 0)
		{
			text	   *type = DatumGetTextPP(value);
			const char *bytes = VARDATA_ANY(type);
			int			len = VARSIZE_ANY_EXHDR(type);

			/* as type::text sees it: bpchar without its trailing blanks */
			while (blank_padded && len > 0 && bytes[len - 1] == ' ')
				len--;
			for (int i = 0; i < live_settings.nopt_types; i++)
				if ((int) strlen(live_settings.opt_type_names[i]) == len &&
					memcmp(live_settings.opt_type_names[i], bytes, len) == 0)
					*any_opt = true;
		}
		for (int c = 0; c < TRACKED_COLUMNS; c++)
		{
			Form_pg_attribute attr;

			if (attnums[c] <= 0)
				continue;
			attr = TupleDescAttr(desc, attnums[c] - 1);
			value = slot_getattr(slot, attnums[c], &last->nulls[c]);
			last->values[c] = last->nulls[c] ? (Datum) 0 : datumCopy(value, attr->attbyval, attr->attlen);
		}
		*any_lead = *any_lead || !last->nulls[0];
	}
	tuplestore_select_read_pointer(rows, previous);
	ExecDropSingleTupleTableSlot(slot);
}

/*
 * The leads ($1) with more than burst_max_activities ($4) activities in every
 * tracked table from $2 to $3 (the first and last new activity, widened by
 * burst_window): only they can have a burst there, so only they need the
 * window search of find_activity_bursts().
 */
static char *
burst_candidates_sql(const char *activity_sources)
{
	return psprintf(
					"SELECT array_agg(c.lead_id) FROM ("
					"  SELECT a.lead_id FROM (%s) a"
					"   WHERE a.lead_id = ANY ($1) AND a.occurred_at >= $2 AND a.occurred_at <= $3"
					"   GROUP BY a.lead_id HAVING count(*) > $4) c",
					activity_sources);
}

/*
 * 'at' moved 'span' earlier (direction -1) or later (+1), counting a month as
 * 31 days so as to move at least as far as the interval does; -infinity or
 * infinity when that leaves the range of timestamps.  Activities in 4714 BC
 * or the year 294276 are finite, and a window around them must not overflow.
 */
static TimestampTz
moved_by(TimestampTz at, const Interval *span, int direction)
{
	TimestampTz beyond = direction < 0 ? DT_NOBEGIN : DT_NOEND;
	int64		days;
	int64		usecs;
	TimestampTz result;

	if (TIMESTAMP_NOT_FINITE(at))
		return at;
	if (pg_mul_s64_overflow(Abs((int64) span->month), 31, &days) ||
		pg_add_s64_overflow(days, Abs((int64) span->day), &days) ||
		pg_mul_s64_overflow(days, USECS_PER_DAY, &usecs) ||
		pg_add_s64_overflow(usecs, span->time == PG_INT64_MIN ? PG_INT64_MAX : Abs(span->time), &usecs))
		return beyond;
	if (direction < 0 ? pg_sub_s64_overflow(at, usecs, &result) : pg_add_s64_overflow(at, usecs, &result))
		return beyond;
	return IS_VALID_TIMESTAMP(result) ? result : beyond;
}

/*
 * The leads (column 1) of the rows just returned, as bigint[], all of them
 * or (if 'flag' is not 0) those whose boolean column 'flag' is true; null if
 * none.
 */
static Datum
returned_leads(int flag, bool *isnull)
{
	Datum	   *leads = palloc(sizeof(Datum) * Max(SPI_processed, 1));
	int			count = 0;

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		null;
		Datum		lead = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &null);
		bool		flag_null = false;
		Datum		flagged = flag == 0 ? BoolGetDatum(true) :
			SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, flag, &flag_null);

		if (!null && !flag_null && DatumGetBool(flagged))
			leads[count++] = lead;
	}
	*isnull = count == 0;
	return count == 0 ? (Datum) 0 :
		PointerGetDatum(construct_array(leads, count, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * The merge of a few rows, on kept plans (one row: an UPDATE, if its lead
 * has a row), returning the leads merged, those due, and those that may have
 * a burst.
 */
static void
merge_few(char **columns, Oid relid, const NewRow *one_row, Oid *types, Datum *values, char *nulls,
		  Datum *lead_ids, bool *lead_ids_null, Datum *due_ids, bool *due_ids_null,
		  Datum *candidates, bool *candidates_null)
{
	int			ret = -1;

	if (one_row != NULL && !one_row->nulls[0] && have_sql_1_4())
	{
		for (int c = 0; c < TRACKED_COLUMNS; c++)
		{
			types[11 + c] = one_row->types[c];
			values[11 + c] = one_row->values[c];
			nulls[11 + c] = one_row->nulls[c] ? 'n' : ' ';
		}
		ret = SPI_execute_plan(kept_plan(update_sql(live_settings.activity_sources), relid, 15, types),
							   values, nulls, false, 0);
	}
	if (ret == -1 || (ret == SPI_OK_UPDATE_RETURNING && SPI_processed == 0))
		ret = SPI_execute_plan(kept_plan(upsert_sql(columns, live_settings.activity_sources), relid, 11, types),
							   values, nulls, false, 0);
	if (ret != SPI_OK_INSERT_RETURNING && ret != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "the merge of score_inserted_activities failed: %s", SPI_result_code_string(ret));
	*lead_ids = returned_leads(0, lead_ids_null);
	*due_ids = returned_leads(2, due_ids_null);
	*candidates = returned_leads(3, candidates_null);
}

/* The trigger: merge, opt-outs, bursts and handoffs for the inserted rows. */
PG_FUNCTION_INFO_V1(lead_scoring_score_inserted_activities);
Datum
lead_scoring_score_inserted_activities(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Trigger    *trigger;
	Oid			relid;
	bool		small;
	HeapTuple	row;
	char	   *problem;
	int			sqlstate;
	Datum		lead_ids;
	bool		lead_ids_null;
	Datum		due_ids;
	bool		due_ids_null;
	bool		suppressions_changed = false;
	Datum		latest_opt;
	bool		latest_opt_null;
	Datum		first_at;
	bool		first_at_null;
	Datum		last_at;
	bool		last_at_null;
	Datum		candidates = (Datum) 0;
	bool		candidates_null = true;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("score_inserted_activities() was not called by a trigger")));
	trigger = trigdata->tg_trigger;
	if (!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		trigdata->tg_newtable == NULL || trigger->tgnargs != 4)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("score_inserted_activities() must be an AFTER INSERT statement trigger"
						" with a NEW TABLE and four arguments"),
				 errhint("Track a table with lead_scoring.track(), which creates the trigger.")));

	relid = RelationGetRelid(trigdata->tg_relation);
	small = tuplestore_tuple_count(trigdata->tg_newtable) <= SMALL_INSERT_ROWS;
	if (!relcache_callback_registered)
	{
		CacheRegisterRelcacheCallback(note_relation_change, (Datum) 0);
		relcache_callback_registered = true;
	}

	SPI_connect();
	if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
		elog(ERROR, "could not register the transition table of score_inserted_activities");

	/*
	 * The trigger runs with the owner's rights: it reads the new rows only of
	 * a table track() checked and recorded with these columns, and only while
	 * their types are still built-in ones (a type of the caller's making
	 * would have the owner run the caller's casts).
	 */
	problem = tracked_table_problem(relid, (const char *const *) trigger->tgargs, &sqlstate);
	if (problem != NULL)
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("cannot score the rows inserted into %s: %s",
						RelationGetRelationName(trigdata->tg_relation), problem),
				 errhint("Give the column its type back, or track the table again with lead_scoring.track().")));
	/* edits of the active model in this transaction: its states first */
	if (model_change_pending())
		(void) select_one_row("SELECT lead_scoring.apply_model_changes()", InvalidOid, true,
							  0, NULL, NULL, NULL);
	/*
	 * Merge with the settings and the model kept from the last insert.
	 * Nothing merged may mean that either is no longer the version this
	 * snapshot sees: then read them again, and merge again, until what was
	 * read is what was merged with.
	 */
	if (!live_settings.valid || !live_settings.versioned)
		(void) reload_live_settings();
	if (!active_model_read)
	{
		(void) reload_active_model();
		active_model_read = true;
	}
	for (int tries = 0;; tries++)
	{
		Oid			types[15] = {TEXTARRAYOID, JSONBOID, TIDOID, XIDOID, TIDOID, XIDOID,
		FLOAT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID, FLOAT8ARRAYOID};
		Datum		values[15];
		char		nulls[15];
		NewRow		last_row;
		bool		any_lead = false;
		bool		any_opt = false;
		bool		any_time = false;
		TimestampTz first = 0;
		TimestampTz last = 0;

		if (tries >= 10)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not score the rows inserted into %s: the active model or the settings changed %d times while they were merged",
							RelationGetRelationName(trigdata->tg_relation), tries),
					 errhint("Insert them again.")));
		if (!tracked_with(relid, partition_root(trigdata->tg_relation), trigger->tgargs))
		{
			/* tracked since they were read? */
			if (live_settings.versioned && reload_live_settings())
				continue;
			ereport(ERROR,
					(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
					 errmsg("score_inserted_activities() fires only on tables tracked with lead_scoring.track(), not on %s",
							RelationGetRelationName(trigdata->tg_relation))));
		}
		if (dump_loading())
		{
			/* restoring a dump: data as dumped; rescore() follows */
			SPI_finish();
			return PointerGetDatum(NULL);
		}

		memset(nulls, ' ', sizeof(nulls));
		values[0] = PointerGetDatum(live_settings.opt_types);
		nulls[0] = live_settings.opt_types != NULL ? ' ' : 'n';
		values[1] = PointerGetDatum(active_model.definition);
		nulls[1] = active_model.exists && active_model.definition != NULL ? ' ' : 'n';
		values[2] = PointerGetDatum(&active_model.ctid);
		values[3] = TransactionIdGetDatum(active_model.xmin);
		nulls[2] = nulls[3] = active_model.exists ? ' ' : 'n';
		values[4] = PointerGetDatum(&live_settings.ctid);
		values[5] = TransactionIdGetDatum(live_settings.xmin);
		nulls[4] = nulls[5] = live_settings.versioned ? ' ' : 'n';
		values[6] = Float8GetDatum(live_settings.sales_ready_from);
		nulls[6] = live_settings.sales_ready_from_null ? 'n' : ' ';
		nulls[7] = nulls[8] = 'n';
		values[9] = Int64GetDatum(live_settings.burst_max);
		values[10] = PointerGetDatum(live_settings.min_scores);
		nulls[10] = live_settings.min_scores != NULL ? ' ' : 'n';

		if (small)
		{
			/*
			 * A few rows are read here, and each lead merged says whether it
			 * may have a burst around them: the statement of many rows
			 * returns the same with its merge, and looks for bursts next.
			 */
			scan_new_rows(trigdata, &any_lead, &any_opt, &any_time, &first, &last, &last_row);
			if (!any_lead)
			{
				/* rows without a lead (anonymous visitors): nothing to score */
				SPI_finish();
				return PointerGetDatum(NULL);
			}
			first_at_null = last_at_null = !any_time;
			first_at = TimestampTzGetDatum(first);
			last_at = TimestampTzGetDatum(last);
			if (any_time && live_bursts_wanted())
			{
				values[7] = TimestampTzGetDatum(moved_by(first, &live_settings.burst_window, -1));
				values[8] = TimestampTzGetDatum(moved_by(last, &live_settings.burst_window, 1));
				nulls[7] = nulls[8] = ' ';
			}
			merge_few(trigger->tgargs, relid,
					  tuplestore_tuple_count(trigdata->tg_newtable) == 1 ? &last_row : NULL,
					  types, values, nulls, &lead_ids, &lead_ids_null, &due_ids, &due_ids_null,
					  &candidates, &candidates_null);
		}
		else
		{
			row = select_one_row(merge_sql(trigger->tgargs), relid, false, 11, types, values, nulls);
			lead_ids = column(row, 1, &lead_ids_null);
			due_ids = column(row, 2, &due_ids_null);
			latest_opt = column(row, 3, &latest_opt_null);
			first_at = column(row, 4, &first_at_null);
			last_at = column(row, 5, &last_at_null);
		}
		if (!lead_ids_null)
		{
			if (small && any_opt)
			{
				row = select_one_row(latest_opt_sql(trigger->tgargs), relid, true, 1, types, values, nulls);
				latest_opt = column(row, 1, &latest_opt_null);
			}
			else if (small)
				latest_opt_null = true;
			break;
		}
		if (!(reload_active_model() | (live_settings.versioned && reload_live_settings())))
		{
			/* no active model, or no row with a lead */
			SPI_finish();
			return PointerGetDatum(NULL);
		}
	}

	if (!latest_opt_null)
	{
		Oid			types[1] = {JSONBOID};

		(void) select_one_row("SELECT lead_scoring.apply_opt_activities($1)", InvalidOid, true,
							  1, types, &latest_opt, NULL);
		suppressions_changed = true;
	}

	/*
	 * bursts are looked for around the new rows: not if none has a time, nor
	 * in a history import that did not ask for them
	 */
	if (!small && !first_at_null && !last_at_null && live_bursts_wanted())
	{
		Interval   *window = &live_settings.burst_window;
		TimestampTz from = moved_by(DatumGetTimestampTz(first_at), window, -1);
		TimestampTz to = moved_by(DatumGetTimestampTz(last_at), window, 1);
		Oid			types[4] = {INT8ARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID};
		Datum		values[4] = {lead_ids, TimestampTzGetDatum(from), TimestampTzGetDatum(to),
		Int64GetDatum(live_settings.burst_max)};

		row = select_one_row(burst_candidates_sql(live_settings.activity_sources), InvalidOid, false,
							 4, types, values, NULL);
		candidates = column(row, 1, &candidates_null);
	}
	if (!candidates_null)
	{
		/* find_activity_bursts widens near_from and near_to by the window itself */
		Interval   *window = &live_settings.burst_window;
		TimestampTz from = moved_by(DatumGetTimestampTz(first_at), window, -1);
		TimestampTz to = moved_by(DatumGetTimestampTz(last_at), window, 1);
		Oid			search_types[3] = {INT8ARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
		Datum		search_values[3] = {candidates,
			TIMESTAMP_NOT_FINITE(from) ? TimestampTzGetDatum(from) : first_at,
		TIMESTAMP_NOT_FINITE(to) ? TimestampTzGetDatum(to) : last_at};

		(void) select_one_row("SELECT lead_scoring.find_activity_bursts($1, $2, $3)",
							  InvalidOid, true, 3, search_types, search_values, NULL);
		suppressions_changed = true;
	}

	/*
	 * handoffs: of the leads the merge found due, unless opt activities or a
	 * burst may have suppressed or restored some since (then of all of them,
	 * which hand_off sorts out); usually none is due, and hand_off is not
	 * called at all
	 */
	if (suppressions_changed || !due_ids_null)
	{
		Oid			types[1] = {INT8ARRAYOID};

		(void) select_one_row("SELECT lead_scoring.hand_off($1, 'activity')", InvalidOid, true,
							  1, types, suppressions_changed ? &lead_ids : &due_ids, NULL);
	}

	SPI_finish();
	return PointerGetDatum(NULL);
}
