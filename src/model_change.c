/*
 * model_change.c
 *		What a change of the active model costs: which counters it adds (and
 *		so which activity types must be read again), and each lead's state
 *		carried over to the new model, with the recounted entries put in.
 */
#include "lead_scoring.h"

#include "catalog/pg_type_d.h"
#include "utils/builtins.h"

/* same_counters(previous, definition): do states built with one fit the other? */
PG_FUNCTION_INFO_V1(lead_scoring_same_counters);
Datum
lead_scoring_same_counters(PG_FUNCTION_ARGS)
{
	ScoringModel *previous = parse_scoring_model(PG_GETARG_JSONB_P(0));
	ScoringModel *definition = parse_scoring_model(PG_GETARG_JSONB_P(1));

	PG_RETURN_BOOL(previous->fingerprint == definition->fingerprint);
}

/*
 * recount_types(previous, definition): the activity types of the counters
 * definition has and previous does not, in order: the only activities a
 * change from previous to definition must read.
 */
PG_FUNCTION_INFO_V1(lead_scoring_recount_types);
Datum
lead_scoring_recount_types(PG_FUNCTION_ARGS)
{
	ScoringModel *previous = parse_scoring_model(PG_GETARG_JSONB_P(0));
	ScoringModel *definition = parse_scoring_model(PG_GETARG_JSONB_P(1));
	Datum	   *types = palloc(sizeof(Datum) * Max(definition->ncounters, 1));
	int			ntypes = 0;
	const ActivityCounter *last = NULL;

	/* counters are in type order: one entry per type */
	for (int i = 0; i < definition->ncounters; i++)
	{
		const ActivityCounter *c = &definition->counters[i];

		if (model_has_counter(previous, c->counter_id))
			continue;
		if (last != NULL && last->activity_type_len == c->activity_type_len &&
			memcmp(last->activity_type, c->activity_type, c->activity_type_len) == 0)
			continue;
		types[ntypes++] = PointerGetDatum(cstring_to_text_with_len(c->activity_type,
																   c->activity_type_len));
		last = c;
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(types, ntypes, TEXTOID, -1, false, TYPALIGN_INT));
}

/* The cached parsed models of rebase_engagement, by argument. */
typedef struct RebaseCache
{
	FmgrInfo	previous;
	FmgrInfo	definition;
} RebaseCache;

/*
 * rebase_engagement(state, previous, definition, recounted): a state built
 * with previous, as definition would have built it.  The entries of counters
 * both models have are kept; those of counters only previous has are dropped;
 * those of counters only definition has come from recounted, a state built
 * with definition from (at least) the activities of their types.
 */
PG_FUNCTION_INFO_V1(lead_scoring_rebase_engagement);
Datum
lead_scoring_rebase_engagement(PG_FUNCTION_ARGS)
{
	RebaseCache *cache = (RebaseCache *) fcinfo->flinfo->fn_extra;
	ScoringModel *previous;
	ScoringModel *definition;
	EngagementState *state;
	EngagementState *recounted = NULL;
	EngagementAccum accum;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("rebase_engagement needs both model definitions")));
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();		/* no activities: none under any model */
	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(RebaseCache));
		fmgr_info_copy(&cache->previous, fcinfo->flinfo, fcinfo->flinfo->fn_mcxt);
		fmgr_info_copy(&cache->definition, fcinfo->flinfo, fcinfo->flinfo->fn_mcxt);
		cache->previous.fn_extra = NULL;
		cache->definition.fn_extra = NULL;
		fcinfo->flinfo->fn_extra = cache;
	}
	previous = scoring_model_arg(fcinfo, 1, &cache->previous);
	definition = scoring_model_arg(fcinfo, 2, &cache->definition);
	state = PG_GETARG_ENGAGEMENT_STATE(0);
	check_state_matches_model(state, previous);
	if (!PG_ARGISNULL(3))
	{
		recounted = PG_GETARG_ENGAGEMENT_STATE(3);
		check_state_matches_model(recounted, definition);
	}

	accum_init(&accum, definition->fingerprint,
			   state->nentries + (recounted ? recounted->nentries : 0));
	for (int i = 0; i < state->nentries; i++)
		if (model_has_counter(definition, state->entries[i].counter_id))
			accum_merge_entry(&accum, &state->entries[i]);
	if (recounted != NULL)
		for (int i = 0; i < recounted->nentries; i++)
			if (!model_has_counter(previous, recounted->entries[i].counter_id))
				accum_merge_entry(&accum, &recounted->entries[i]);
	PG_RETURN_POINTER(accum_to_state(&accum));
}
