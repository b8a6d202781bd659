/*
 * model_change.c
 *		What a change of the active model costs: which counters it adds (and
 *		so which activity types must be read again), which leads it must
 *		write, and each lead's state carried over to the new model, with the
 *		recounted entries put in.
 */
#include "lead_scoring.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/xid8.h"

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

/*
 * rebase_engagement(state, previous, definition, recounted): a state that
 * previous can evaluate, as definition would have built it.  The entries of
 * counters both models have are kept; the others are dropped; those of
 * counters only definition has come from recounted, a state built with
 * definition from (at least) the activities of their types.  No recounted
 * state: the lead has no such activity.
 */
PG_FUNCTION_INFO_V1(lead_scoring_rebase_engagement);
Datum
lead_scoring_rebase_engagement(PG_FUNCTION_ARGS)
{
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
	two_model_args(fcinfo, 1, 2, &previous, &definition);
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
		if (model_has_counter(definition, state->entries[i].counter_id) &&
			model_has_counter(previous, state->entries[i].counter_id))
			accum_merge_entry(&accum, &state->entries[i]);
	if (recounted != NULL)
		for (int i = 0; i < recounted->nentries; i++)
			if (!model_has_counter(previous, recounted->entries[i].counter_id) &&
				model_has_counter(definition, recounted->entries[i].counter_id))
				accum_merge_entry(&accum, &recounted->entries[i]);
	PG_RETURN_POINTER(accum_to_state(&accum));
}

/*
 * counts_beyond_model(state, model): does the state count activities for a
 * counter the model lacks?  A recounted state that does not holds nothing
 * new; a stored state that does must drop them.  Otherwise a stored state
 * stays valid as it is, and is not written.
 */
PG_FUNCTION_INFO_V1(lead_scoring_counts_beyond_model);
Datum
lead_scoring_counts_beyond_model(PG_FUNCTION_ARGS)
{
	EngagementState *state = PG_GETARG_ENGAGEMENT_STATE(0);
	ScoringModel *model = scoring_model_arg(fcinfo, 1, fcinfo->flinfo);

	for (int i = 0; i < state->nentries; i++)
		if (!model_has_counter(model, state->entries[i].counter_id))
			PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(false);
}

/*
 * counted_anew(definition, previous, activity_type, properties): does the
 * activity match a counter definition has and previous has not?  Only those
 * activities are recounted.
 */
PG_FUNCTION_INFO_V1(lead_scoring_counted_anew);
Datum
lead_scoring_counted_anew(PG_FUNCTION_ARGS)
{
	ScoringModel *definition;
	ScoringModel *previous;
	text	   *type;
	Jsonb	   *properties = NULL;
	bool		properties_read = false;
	int			first;
	int			n;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("counted_anew needs both model definitions")));
	if (PG_ARGISNULL(2))
		PG_RETURN_BOOL(false);
	two_model_args(fcinfo, 0, 1, &definition, &previous);
	type = PG_GETARG_TEXT_PP(2);
	n = find_activity_counters(definition, VARDATA_ANY(type), VARSIZE_ANY_EXHDR(type), &first);
	for (int i = first; i < first + n; i++)
	{
		const ActivityCounter *c = &definition->counters[i];

		if (model_has_counter(previous, c->counter_id))
			continue;
		if (c->properties != NULL && !properties_read)
		{
			properties = PG_ARGISNULL(3) ? NULL : PG_GETARG_JSONB_P(3);
			properties_read = true;
		}
		if (properties_match(c, properties))
			PG_RETURN_BOOL(true);
	}
	PG_RETURN_BOOL(false);
}

/*
 * drops_counted(previous, definition): does previous count something, or
 * test something, that definition does not?  Then rows that counted or
 * passed it are found among all of lead_scores, and rewritten without it.
 */
PG_FUNCTION_INFO_V1(lead_scoring_drops_counted);
Datum
lead_scoring_drops_counted(PG_FUNCTION_ARGS)
{
	ScoringModel *previous;
	ScoringModel *definition;

	two_model_args(fcinfo, 0, 1, &previous, &definition);
	for (int i = 0; i < previous->ncounters; i++)
		if (!model_has_counter(definition, previous->counter_ids[i]))
			PG_RETURN_BOOL(true);
	for (int i = 0; i < previous->nfit_tests; i++)
		if (!model_has_fit_test(definition, previous->fit_test_ids[i]))
			PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(false);
}

/*
 * written_after(row_xmin, snapshot): was the row written by a transaction the
 * snapshot does not see (running then, or begun since)?  This transaction's
 * own rows were written before it, and frozen ones long before.
 */
PG_FUNCTION_INFO_V1(lead_scoring_written_after);
Datum
lead_scoring_written_after(PG_FUNCTION_ARGS)
{
	TransactionId xmin = DatumGetTransactionId(PG_GETARG_DATUM(0));
	FullTransactionId next = ReadNextFullTransactionId();
	uint32		epoch = EpochFromFullTransactionId(next);
	FullTransactionId full;

	if (!TransactionIdIsNormal(xmin) || TransactionIdIsCurrentTransactionId(xmin))
		PG_RETURN_BOOL(false);
	/* a row's xmin is at most 2^31 transactions old, or it would be frozen */
	if (xmin > XidFromFullTransactionId(next))
	{
		if (epoch == 0)
			PG_RETURN_BOOL(true);	/* not a past transaction: recompute its rows */
		epoch--;
	}
	full = FullTransactionIdFromEpochAndXid(epoch, xmin);
	PG_RETURN_BOOL(!DatumGetBool(DirectFunctionCall2(pg_visible_in_snapshot,
													 FullTransactionIdGetDatum(full),
													 PG_GETARG_DATUM(1))));
}
