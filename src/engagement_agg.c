/*
 * engagement_agg.c
 *		The aggregate lead_scoring.score_activities(model, type, time, properties):
 *		a lead's engagement state computed from its raw activities, in parallel
 *		when the planner wants (combine, serialize and deserialize functions).
 */
#include "lead_scoring.h"

#include "utils/fmgrprotos.h"

/* The aggregate's memory context, or an error if not called as an aggregate. */
MemoryContext
aggregate_context(FunctionCallInfo fcinfo, const char *name)
{
	MemoryContext context;

	if (!AggCheckCallContext(fcinfo, &context))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s called in non-aggregate context", name)));
	return context;
}

/* Does an activity's properties contain those the counter requires? */
bool
properties_match(const ActivityCounter *counter, Jsonb *properties)
{
	if (counter->properties == NULL)
		return true;
	if (properties == NULL)
		return false;
	return DatumGetBool(DirectFunctionCall2(jsonb_contains,
											JsonbPGetDatum(properties),
											JsonbPGetDatum(counter->properties)));
}

/*
 * Count one activity under every counter it matches, in 'context'; its
 * properties are argument 'properties_arg' of the call, read only if a
 * counter of its type requires some.
 */
static void
count_activity(EngagementAccum *accum, const ScoringModel *model, text *type, TimestampTz at,
			   FunctionCallInfo fcinfo, int properties_arg, MemoryContext context)
{
	Jsonb	   *properties = NULL;
	bool		properties_read = false;
	int			first;
	int			ncounters = find_activity_counters(model, VARDATA_ANY(type), VARSIZE_ANY_EXHDR(type), &first);

	for (int i = first; i < first + ncounters; i++)
	{
		const ActivityCounter *counter = &model->counters[i];
		MemoryContext old;

		if (counter->properties != NULL && !properties_read)
		{
			properties = PG_ARGISNULL(properties_arg) ? NULL : PG_GETARG_JSONB_P(properties_arg);
			properties_read = true;
		}
		if (!properties_match(counter, properties))
			continue;
		old = MemoryContextSwitchTo(context);
		accum_add_activity(accum, counter->counter_id, counter->half_life, at);
		MemoryContextSwitchTo(old);
	}
}

/* Count one activity under every counter it matches. */
PG_FUNCTION_INFO_V1(score_activities_transfn);
Datum
score_activities_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "score_activities_transfn");
	EngagementAccum *accum = PG_ARGISNULL(0) ? NULL : (EngagementAccum *) PG_GETARG_POINTER(0);
	ScoringModel *model;
	text	   *type;
	TimestampTz at;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the model definition given to score_activities must not be null")));
	model = scoring_model_arg(fcinfo, 1, fcinfo->flinfo);

	if (accum == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(aggcontext);

		/*
		 * Start small and let the entries grow: the average lead has
		 * activities for a few counters only, and a hash aggregate keeps one
		 * state per lead in work_mem.
		 */
		accum = palloc(sizeof(EngagementAccum));
		accum_init(accum, model->fingerprint, 0);
		MemoryContextSwitchTo(old);
	}
	else if (accum->fingerprint != model->fingerprint)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("score_activities was given different models in one group")));

	/* an activity without a type or time cannot match a counter */
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_POINTER(accum);
	type = PG_GETARG_TEXT_PP(2);
	at = PG_GETARG_TIMESTAMPTZ(3);

	count_activity(accum, model, type, at, fcinfo, 4, aggcontext);
	PG_RETURN_POINTER(accum);
}

/* Merge two partial states; the left one is reused when it exists. */
PG_FUNCTION_INFO_V1(score_activities_combinefn);
Datum
score_activities_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "score_activities_combinefn");
	EngagementAccum *left = PG_ARGISNULL(0) ? NULL : (EngagementAccum *) PG_GETARG_POINTER(0);
	EngagementAccum *right = PG_ARGISNULL(1) ? NULL : (EngagementAccum *) PG_GETARG_POINTER(1);
	MemoryContext old;

	if (right == NULL)
		PG_RETURN_POINTER(left);

	old = MemoryContextSwitchTo(aggcontext);
	if (left == NULL)
	{
		left = palloc(sizeof(EngagementAccum));
		accum_init(left, right->fingerprint, right->nentries);
	}
	else if (left->fingerprint != right->fingerprint)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("score_activities was given different models in one group")));
	for (int i = 0; i < right->nentries; i++)
		accum_merge_entry(left, &right->entries[i]);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(left);
}

/* The partial state as bytes: the same layout as engagement_state. */
PG_FUNCTION_INFO_V1(score_activities_serializefn);
Datum
score_activities_serializefn(PG_FUNCTION_ARGS)
{
	EngagementAccum *accum = (EngagementAccum *) PG_GETARG_POINTER(0);

	(void) aggregate_context(fcinfo, "score_activities_serializefn");
	PG_RETURN_BYTEA_P((bytea *) accum_to_state(accum));
}

/* The partial state from bytes, checked as an engagement_state is. */
PG_FUNCTION_INFO_V1(score_activities_deserializefn);
Datum
score_activities_deserializefn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "score_activities_deserializefn");
	bytea	   *bytes = PG_GETARG_BYTEA_P(0);
	EngagementState *state = (EngagementState *) bytes;
	EngagementAccum *accum;
	MemoryContext old;

	validate_engagement_state(state, VARSIZE(bytes));
	old = MemoryContextSwitchTo(aggcontext);
	accum = palloc(sizeof(EngagementAccum));
	accum_init(accum, state->fingerprint, state->nentries);
	memcpy(accum->entries, state->entries, sizeof(EngagementEntry) * state->nentries);
	accum->nentries = state->nentries;
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(accum);
}

/* The aggregate's result: the engagement_state of the group. */
PG_FUNCTION_INFO_V1(score_activities_finalfn);
Datum
score_activities_finalfn(PG_FUNCTION_ARGS)
{
	(void) aggregate_context(fcinfo, "score_activities_finalfn");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_POINTER(accum_to_state((EngagementAccum *) PG_GETARG_POINTER(0)));
}

/*
 * activity_state(model, type, time, properties): the engagement state of one
 * activity, as score_activities gives it for a lead with that one activity;
 * the insert trigger merges a single new row with it.
 */
PG_FUNCTION_INFO_V1(lead_scoring_activity_state);
Datum
lead_scoring_activity_state(PG_FUNCTION_ARGS)
{
	ScoringModel *model;
	EngagementAccum accum;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the model definition given to activity_state must not be null")));
	model = scoring_model_arg(fcinfo, 0, fcinfo->flinfo);
	accum_init(&accum, model->fingerprint, 0);
	/* an activity without a type or time matches no counter */
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
		count_activity(&accum, model, PG_GETARG_TEXT_PP(1), PG_GETARG_TIMESTAMPTZ(2), fcinfo, 3,
					   CurrentMemoryContext);
	PG_RETURN_POINTER(accum_to_state(&accum));
}
