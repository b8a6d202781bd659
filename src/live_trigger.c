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
 * row could be a poor one for a million.
 */
#include "lead_scoring.h"

#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "parser/parse_func.h"
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

	plan = SPI_prepare(sql, nargs, argtypes);
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
 * Whether a dump is loading, the tracked tables as one query, the settings
 * (the opt-out and opt-in types as one list, then the burst ones), and
 * whether the table ($1), or the partitioned table it is a partition of ($6),
 * is tracked with these columns ($2 to $5).
 * Only what every installed version of the SQL has, so that new binaries
 * score inserts until ALTER EXTENSION lead_scoring UPDATE is run.
 */
static const char *const settings_sql =
"SELECT lead_scoring.loading_dump(), lead_scoring.activity_sources_sql(),"
"       max(s.value) FILTER (WHERE s.name = 'opt_out_activity_types') || ',' ||"
"       max(s.value) FILTER (WHERE s.name = 'opt_in_activity_types'),"
"       max(s.value) FILTER (WHERE s.name = 'burst_max_activities')::bigint,"
"       max(s.value) FILTER (WHERE s.name = 'burst_window')::interval,"
"       EXISTS (SELECT FROM lead_scoring.tracked_tables t"
"                WHERE t.activity_table IN ($1, $6) AND t.lead_column = $2 AND t.type_column = $3"
"                  AND t.time_column = $4 AND coalesce(t.properties_column, '') = $5)"
"  FROM lead_scoring.settings s";

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
 * Merge the new rows into lead_scores, in lead order (so that concurrent
 * inserts lock leads in one order; a stored state with an older fingerprint
 * the model accepts is brought to the model's), and return the leads merged,
 * those of them hand_off must look at (handoff_due, from the merged row: on
 * 1.3's SQL, all), each lead's latest opt activity ($1: the opt-out and
 * opt-in types) and the time range.
 * A lead handed off whose score has since faded below sales-ready by time
 * alone (lead_score sees the row as it was before this statement) is marked
 * not handed off, so that hand_off hands it off again if these rows lift it.
 */
static char *
merge_sql(char **columns)
{
	const char *lead = quote_identifier(columns[0]);
	const char *type = quote_identifier(columns[1]);
	const char *at = quote_identifier(columns[2]);
	const char *properties = columns[3][0] == '\0' ? "NULL::jsonb" :
		psprintf("n.%s::jsonb", quote_identifier(columns[3]));

	return psprintf(
					"WITH merged AS ("
					"  INSERT INTO lead_scoring.lead_scores AS s (lead_id, engagement)"
					"  SELECT n.%1$s, lead_scoring.score_activities(m.definition, n.%2$s::text, n.%3$s, %4$s)"
					"    FROM new_activities n, lead_scoring.models m"
					"   WHERE m.is_active AND n.%1$s IS NOT NULL"
					"   GROUP BY n.%1$s"
					"   ORDER BY n.%1$s"
					"  ON CONFLICT (lead_id) DO UPDATE"
					"     SET engagement = lead_scoring.merge_engagement(s.engagement, excluded.engagement%5$s),"
					"         scored_at = now(),"
					"         handed_off = s.handed_off AND (lead_scoring.lead_score(s.lead_id, now())).sales_ready"
					"  RETURNING s.lead_id, %6$s AS due)"
					" SELECT (SELECT array_agg(merged.lead_id) FROM merged),"
					"        (SELECT array_agg(merged.lead_id) FILTER (WHERE merged.due) FROM merged),"
					"        (SELECT jsonb_object_agg(o.lead_id, o.activity_type) FROM ("
					"           SELECT DISTINCT ON (n.%1$s) n.%1$s::bigint AS lead_id, n.%2$s::text AS activity_type"
					"             FROM new_activities n"
					"            WHERE n.%2$s = ANY ($1)"
					"            ORDER BY n.%1$s, n.%3$s DESC) o),"
					"        t.first_at, t.last_at"
					"   FROM (SELECT min(n.%3$s) AS first_at, max(n.%3$s) AS last_at FROM new_activities n) t",
					lead, type, at, properties,
					have_sql_1_4() ?
					", (SELECT a.definition FROM lead_scoring.models a WHERE a.is_active)" : "",
					have_sql_1_4() ?
					"lead_scoring.handoff_due(s.handed_off,"
					" lead_scoring.stored_total_score(s.fit_tests, s.fit_basis, s.engagement,"
					"  (SELECT a.definition FROM lead_scoring.models a WHERE a.is_active), now()),"
					" (SELECT t.sales_ready_from FROM lead_scoring.grade_thresholds t),"
					" s.handed_off AND EXISTS (SELECT FROM lead_scoring.suppressions x"
					"                           WHERE x.lead_id = s.lead_id AND x.lifted_at IS NULL))" : "true");
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
	bool		tracked_null;
	bool		loading_null;
	bool		sources_null;
	char	   *activity_sources;
	Datum		opt_types;
	bool		opt_types_null;
	Datum		burst_max;
	bool		burst_max_null;
	Datum		burst_window;
	bool		burst_window_null;
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
	Datum		candidates;
	bool		candidates_null;

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
	{
		Oid			types[6] = {OIDOID, NAMEOID, NAMEOID, NAMEOID, NAMEOID, OIDOID};
		Datum		values[6];

		values[0] = ObjectIdGetDatum(relid);
		for (int i = 0; i < TRACKED_COLUMNS; i++)
			values[i + 1] = DirectFunctionCall1(namein, CStringGetDatum(trigger->tgargs[i]));
		values[5] = ObjectIdGetDatum(partition_root(trigdata->tg_relation));
		row = select_one_row(settings_sql, InvalidOid, true, 6, types, values, NULL);
	}
	if (!DatumGetBool(column(row, 6, &tracked_null)) || tracked_null)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("score_inserted_activities() fires only on tables tracked with lead_scoring.track(), not on %s",
						RelationGetRelationName(trigdata->tg_relation))));
	if (DatumGetBool(column(row, 1, &loading_null)) && !loading_null)
	{
		/* restoring a dump: data as dumped; rescore() follows */
		SPI_finish();
		return PointerGetDatum(NULL);
	}
	activity_sources = TextDatumGetCString(column(row, 2, &sources_null));
	opt_types = column(row, 3, &opt_types_null);
	if (!opt_types_null)
		opt_types = PointerGetDatum(type_list(DatumGetTextPP(opt_types)));
	burst_max = column(row, 4, &burst_max_null);
	burst_window = column(row, 5, &burst_window_null);
	if (sources_null || burst_max_null || burst_window_null)
		elog(ERROR, "score_inserted_activities found no tracked tables or burst settings");

	{
		Oid			types[1] = {TEXTARRAYOID};
		Datum		values[1] = {opt_types};
		char		nulls[1] = {opt_types_null ? 'n' : ' '};

		row = select_one_row(merge_sql(trigger->tgargs), relid, small, 1, types, values, nulls);
	}
	lead_ids = column(row, 1, &lead_ids_null);
	if (lead_ids_null)
	{
		/* no active model, or no row with a lead */
		SPI_finish();
		return PointerGetDatum(NULL);
	}
	due_ids = column(row, 2, &due_ids_null);
	latest_opt = column(row, 3, &latest_opt_null);
	first_at = column(row, 4, &first_at_null);
	last_at = column(row, 5, &last_at_null);

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
	if (!first_at_null && !last_at_null && live_bursts_wanted())
	{
		Interval   *window = DatumGetIntervalP(burst_window);
		TimestampTz from = moved_by(DatumGetTimestampTz(first_at), window, -1);
		TimestampTz to = moved_by(DatumGetTimestampTz(last_at), window, 1);
		Oid			types[4] = {INT8ARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID};
		Datum		values[4] = {lead_ids, TimestampTzGetDatum(from), TimestampTzGetDatum(to), burst_max};

		row = select_one_row(burst_candidates_sql(activity_sources), InvalidOid, small,
							 4, types, values, NULL);
		candidates = column(row, 1, &candidates_null);
		if (!candidates_null)
		{
			/* find_activity_bursts widens near_from and near_to by the window itself */
			Oid			search_types[3] = {INT8ARRAYOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
			Datum		search_values[3] = {candidates,
				TIMESTAMP_NOT_FINITE(from) ? TimestampTzGetDatum(from) : first_at,
			TIMESTAMP_NOT_FINITE(to) ? TimestampTzGetDatum(to) : last_at};

			(void) select_one_row("SELECT lead_scoring.find_activity_bursts($1, $2, $3)",
								  InvalidOid, true, 3, search_types, search_values, NULL);
			suppressions_changed = true;
		}
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
