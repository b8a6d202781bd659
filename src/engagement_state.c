/*
 * engagement_state.c
 *		The lead_scoring.engagement_state type: per counter (what activity
 *		rules count), how many activities matched and their count decayed to
 *		the latest of them.
 *
 * Anchoring each rule's sum at its latest activity keeps every update O(1)
 * and every multiplication by a factor <= 1, so nothing overflows however
 * far apart the timestamps are, and late activities are simply added in.
 */
#include "lead_scoring.h"

#include <math.h>

#include "common/int.h"
#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"

/* 2^-((to - from) / half_life): how much of an activity at 'from' is left at 'to'. */
double
decay_factor(double half_life, TimestampTz from, TimestampTz to)
{
	if (half_life <= 0 || to <= from)
		return 1.0;
	return exp2(-(((double) to - (double) from) / USECS_PER_SEC) / half_life);
}

/* An empty growable state with room for 'capacity' counters (at least 3). */
void
accum_init(EngagementAccum *accum, uint64 fingerprint, int capacity)
{
	accum->fingerprint = fingerprint;
	accum->nentries = 0;
	accum->capacity = Max(capacity, 3);	/* 3 entries fill a 128-byte chunk */
	accum->entries = palloc(sizeof(EngagementEntry) * accum->capacity);
}

/* The entry for counter_id, inserted (empty) in counter_id order if missing. */
static EngagementEntry *
accum_entry(EngagementAccum *accum, uint64 counter_id, double half_life)
{
	int			lo = 0;
	int			hi = accum->nentries;
	EngagementEntry *e;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (accum->entries[mid].counter_id < counter_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < accum->nentries && accum->entries[lo].counter_id == counter_id)
		return &accum->entries[lo];

	if (accum->nentries == accum->capacity)
	{
		accum->capacity *= 2;
		accum->entries = repalloc(accum->entries,
								  sizeof(EngagementEntry) * accum->capacity);
	}
	memmove(&accum->entries[lo + 1], &accum->entries[lo],
			sizeof(EngagementEntry) * (accum->nentries - lo));
	accum->nentries++;
	e = &accum->entries[lo];
	memset(e, 0, sizeof(EngagementEntry));
	e->counter_id = counter_id;
	e->half_life = half_life;
	e->latest = DT_NOBEGIN;
	return e;
}

/* Fold 'amount' activities, decayed to 'latest', into an entry. */
static void
entry_add(EngagementEntry *e, int64 activities, TimestampTz latest, double amount)
{
	if (pg_add_s64_overflow(e->activities, activities, &e->activities))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("engagement state overflow: counter %016llx counts too many activities",
						(unsigned long long) e->counter_id)));
	if (latest > e->latest)
	{
		e->amount = e->amount * decay_factor(e->half_life, e->latest, latest) + amount;
		e->latest = latest;
	}
	else
		e->amount += amount * decay_factor(e->half_life, latest, e->latest);
	if (isinf(e->amount))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("engagement state overflow: counter %016llx's amount is out of range",
						(unsigned long long) e->counter_id)));
}

/* Count one activity at 'at' for a counter. */
void
accum_add_activity(EngagementAccum *accum, uint64 counter_id, double half_life,
				   TimestampTz at)
{
	if (TIMESTAMP_NOT_FINITE(at))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("an activity's time must be finite, not %s",
						TIMESTAMP_IS_NOBEGIN(at) ? "-infinity" : "infinity")));
	entry_add(accum_entry(accum, counter_id, half_life), 1, at, 1.0);
}

/* Fold one counter's entry of another state into an accumulating state. */
void
accum_merge_entry(EngagementAccum *accum, const EngagementEntry *entry)
{
	EngagementEntry *e = accum_entry(accum, entry->counter_id, entry->half_life);

	if (e->half_life != entry->half_life)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot merge engagement states: counter %016llx decays differently in each",
						(unsigned long long) entry->counter_id)));
	entry_add(e, entry->activities, entry->latest, entry->amount);
}

/* Fold a whole state into an accumulating state built with the same counters. */
void
accum_merge_state(EngagementAccum *accum, const EngagementState *state)
{
	if (state->fingerprint != accum->fingerprint)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot merge engagement states built with different activity counters"),
				 state_mismatch_hint()));
	for (int i = 0; i < state->nentries; i++)
		accum_merge_entry(accum, &state->entries[i]);
}

/* The engagement_state datum of an accumulating state. */
EngagementState *
accum_to_state(const EngagementAccum *accum)
{
	Size		size = ENGAGEMENT_STATE_SIZE(accum->nentries);
	EngagementState *state = palloc0(size);

	SET_VARSIZE(state, size);
	state->nentries = accum->nentries;
	state->fingerprint = accum->fingerprint;
	memcpy(state->entries, accum->entries, sizeof(EngagementEntry) * accum->nentries);
	return state;
}

/*
 * Refuse a state that did not come from this code: sizes, order and ranges.
 * Each activity adds at most 1 to an amount, so an amount above the count of
 * activities is refused too: it could make a score overflow to infinity.
 */
void
validate_engagement_state(const EngagementState *state, Size size)
{
	if (size < offsetof(EngagementState, entries) || state->nentries < 0 ||
		(Size) state->nentries > (size - offsetof(EngagementState, entries)) / sizeof(EngagementEntry) ||
		ENGAGEMENT_STATE_SIZE(state->nentries) != size)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid engagement state: size does not match its entries")));
	for (int i = 0; i < state->nentries; i++)
	{
		const EngagementEntry *e = &state->entries[i];

		if ((i > 0 && e->counter_id <= state->entries[i - 1].counter_id) ||
			e->activities < 1 || TIMESTAMP_NOT_FINITE(e->latest) ||
			!IS_VALID_TIMESTAMP(e->latest) ||
			isnan(e->amount) || isinf(e->amount) || e->amount < 0 ||
			e->amount > (double) e->activities ||
			isnan(e->half_life) || isinf(e->half_life) || e->half_life < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid engagement state: entry %d is out of order or out of range",
							i + 1)));
	}
}

/* merge_engagement(a, b): the state of both sets of activities; NULL is empty. */
PG_FUNCTION_INFO_V1(lead_scoring_merge_engagement);
Datum
lead_scoring_merge_engagement(PG_FUNCTION_ARGS)
{
	EngagementState *a;
	EngagementState *b;
	EngagementAccum accum;

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(0))
		PG_RETURN_DATUM(PG_GETARG_DATUM(1));
	if (PG_ARGISNULL(1))
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	a = PG_GETARG_ENGAGEMENT_STATE(0);
	b = PG_GETARG_ENGAGEMENT_STATE(1);
	accum_init(&accum, a->fingerprint, a->nentries + b->nentries);
	accum_merge_state(&accum, a);
	accum_merge_state(&accum, b);
	PG_RETURN_POINTER(accum_to_state(&accum));
}

/* Fold in the entries of a state the model can evaluate that the model counts. */
static void
accum_merge_for_model(EngagementAccum *accum, const EngagementState *state, const ScoringModel *model)
{
	bool		all = state->fingerprint == model->fingerprint;

	check_state_matches_model(state, model);
	for (int i = 0; i < state->nentries; i++)
		if (all || model_has_counter(model, state->entries[i].counter_id))
			accum_merge_entry(accum, &state->entries[i]);
}

/*
 * merge_engagement(a, b, model): the state of both sets of activities under
 * the model, which must be able to evaluate each (one may carry an older
 * fingerprint the model accepts); NULL is empty.
 */
PG_FUNCTION_INFO_V1(lead_scoring_merge_engagement_for_model);
Datum
lead_scoring_merge_engagement_for_model(PG_FUNCTION_ARGS)
{
	ScoringModel *model;
	EngagementAccum accum;
	int			n = 0;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("merge_engagement needs a model definition")));
	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	model = scoring_model_arg(fcinfo, 2, fcinfo->flinfo);
	for (int arg = 0; arg < 2; arg++)
		if (!PG_ARGISNULL(arg))
			n += PG_GETARG_ENGAGEMENT_STATE(arg)->nentries;
	accum_init(&accum, model->fingerprint, n);
	for (int arg = 0; arg < 2; arg++)
		if (!PG_ARGISNULL(arg))
			accum_merge_for_model(&accum, PG_GETARG_ENGAGEMENT_STATE(arg), model);
	PG_RETURN_POINTER(accum_to_state(&accum));
}

/* state_fingerprint(state): the fingerprint of the counters it was built with. */
PG_FUNCTION_INFO_V1(lead_scoring_state_fingerprint);
Datum
lead_scoring_state_fingerprint(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64((int64) PG_GETARG_ENGAGEMENT_STATE(0)->fingerprint);
}

/* Latest activity counted in a state (NULL if none matched a counter). */
PG_FUNCTION_INFO_V1(lead_scoring_latest_activity_at);
Datum
lead_scoring_latest_activity_at(PG_FUNCTION_ARGS)
{
	EngagementState *state = PG_GETARG_ENGAGEMENT_STATE(0);
	TimestampTz latest = DT_NOBEGIN;

	for (int i = 0; i < state->nentries; i++)
		latest = Max(latest, state->entries[i].latest);
	if (state->nentries == 0)
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMPTZ(latest);
}

/* Number of activities counted in a state (an activity two counters count counts twice). */
PG_FUNCTION_INFO_V1(lead_scoring_activity_count);
Datum
lead_scoring_activity_count(PG_FUNCTION_ARGS)
{
	EngagementState *state = PG_GETARG_ENGAGEMENT_STATE(0);
	int64		total = 0;

	for (int i = 0; i < state->nentries; i++)
		if (pg_add_s64_overflow(total, state->entries[i].activities, &total))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("bigint out of range")));
	PG_RETURN_INT64(total);
}

/* Append a timestamp as ISO 8601 in UTC, whatever the session's settings. */
static void
append_utc_timestamp(StringInfo buf, TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;
	char		text[MAXDATELEN + 1];

	if (timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	EncodeDateTime(&tm, fsec, false, 0, NULL, USE_ISO_DATES, text);
	appendStringInfo(buf, "%s+00", text);
}

/*
 * Text form: a JSON object, so that it is readable and parsed by jsonb's own
 * parser.  Doubles are written in their shortest exact form, so text round
 * trips (pg_dump, COPY) are lossless.
 */
PG_FUNCTION_INFO_V1(engagement_state_out);
Datum
engagement_state_out(PG_FUNCTION_ARGS)
{
	EngagementState *state = PG_GETARG_ENGAGEMENT_STATE(0);
	StringInfoData buf;
	char		num[DOUBLE_SHORTEST_DECIMAL_LEN];

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"fingerprint\": \"%016llx\", \"counters\": [",
					 (unsigned long long) state->fingerprint);
	for (int i = 0; i < state->nentries; i++)
	{
		const EngagementEntry *e = &state->entries[i];

		appendStringInfo(&buf, "%s{\"counter\": \"%016llx\", \"activities\": " INT64_FORMAT
						 ", \"latest\": \"", i ? ", " : "", (unsigned long long) e->counter_id,
						 e->activities);
		append_utc_timestamp(&buf, e->latest);
		double_to_shortest_decimal_buf(e->amount, num);
		appendStringInfo(&buf, "\", \"amount\": %s", num);
		double_to_shortest_decimal_buf(e->half_life, num);
		appendStringInfo(&buf, ", \"half_life_seconds\": %s}", num);
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_CSTRING(buf.data);
}

/* A member of a state's text form, or an error naming it. */
static JsonbValue *
state_member(JsonbContainer *object, const char *key, enum jbvType type)
{
	JsonbValue *v = getKeyJsonValueFromContainer(object, key, strlen(key), NULL);

	if (v == NULL || v->type != type)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid engagement state: \"%s\" is missing or of the wrong type", key)));
	return v;
}

/* A finite number member of a state's text form, or an error naming it. */
static double
state_number(JsonbContainer *object, const char *key)
{
	double		d;

	if (!numeric_to_double(state_member(object, key, jbvNumeric)->val.numeric, &d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid engagement state: \"%s\" is out of range", key)));
	return d;
}

/* A whole number member of a state's text form within [min, max], or an error. */
static int64
state_integer(JsonbContainer *object, const char *key, int64 min, int64 max)
{
	int64		i;

	if (!numeric_to_int64(state_member(object, key, jbvNumeric)->val.numeric, &i) || i < min || i > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid engagement state: \"%s\" must be a whole number in range", key)));
	return i;
}

/* 16 hex digits as a 64-bit id, or an error naming what it is. */
static uint64
parse_hex_id(JsonbValue *v, const char *what)
{
	char	   *hex = pnstrdup(v->val.string.val, v->val.string.len);
	char	   *end;
	uint64		id;

	errno = 0;
	id = strtoull(hex, &end, 16);
	if (errno != 0 || *end != '\0' || strlen(hex) != 16 || strspn(hex, "0123456789abcdefABCDEF") != 16)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid engagement state: %s must be 16 hex digits", what)));
	return id;
}

/* Text input: the JSON form engagement_state_out prints, validated. */
PG_FUNCTION_INFO_V1(engagement_state_in);
Datum
engagement_state_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	Jsonb	   *json = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(str)));
	JsonbValue *v;
	JsonbContainer *counters;
	EngagementState *state;
	uint64		fingerprint;
	int			n;

	if (!JsonContainerIsObject(&json->root))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid engagement state: not a JSON object")));
	fingerprint = parse_hex_id(state_member(&json->root, "fingerprint", jbvString), "fingerprint");
	v = state_member(&json->root, "counters", jbvBinary);
	counters = v->val.binary.data;
	if (!JsonContainerIsArray(counters))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid engagement state: \"counters\" must be an array")));
	n = JsonContainerSize(counters);
	state = palloc0(ENGAGEMENT_STATE_SIZE(n));
	SET_VARSIZE(state, ENGAGEMENT_STATE_SIZE(n));
	state->nentries = n;
	state->fingerprint = fingerprint;
	for (int i = 0; i < n; i++)
	{
		JsonbValue *c = getIthJsonbValueFromContainer(counters, i);
		EngagementEntry *e = &state->entries[i];
		JsonbValue *latest;

		if (c->type != jbvBinary || !JsonContainerIsObject(c->val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid engagement state: each counter must be an object")));
		e->counter_id = parse_hex_id(state_member(c->val.binary.data, "counter", jbvString), "counter");
		e->activities = state_integer(c->val.binary.data, "activities", 1, PG_INT64_MAX);
		latest = state_member(c->val.binary.data, "latest", jbvString);
		e->latest = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
															CStringGetDatum(pnstrdup(latest->val.string.val, latest->val.string.len)),
															ObjectIdGetDatum(InvalidOid),
															Int32GetDatum(-1)));
		e->amount = state_number(c->val.binary.data, "amount");
		e->half_life = state_number(c->val.binary.data, "half_life_seconds");
	}
	validate_engagement_state(state, VARSIZE(state));
	PG_RETURN_POINTER(state);
}

/* Binary output: the count, the fingerprint, then each entry's fields. */
PG_FUNCTION_INFO_V1(engagement_state_send);
Datum
engagement_state_send(PG_FUNCTION_ARGS)
{
	EngagementState *state = PG_GETARG_ENGAGEMENT_STATE(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, state->nentries);
	pq_sendint64(&buf, (int64) state->fingerprint);
	for (int i = 0; i < state->nentries; i++)
	{
		const EngagementEntry *e = &state->entries[i];

		pq_sendint64(&buf, (int64) e->counter_id);
		pq_sendint64(&buf, e->activities);
		pq_sendint64(&buf, e->latest);
		pq_sendfloat8(&buf, e->amount);
		pq_sendfloat8(&buf, e->half_life);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Binary input, validated as text input is. */
PG_FUNCTION_INFO_V1(engagement_state_recv);
Datum
engagement_state_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		n = pq_getmsgint(buf, 4);
	EngagementState *state;
	const int	wire_entry_size = 8 + 8 + 8 + 8 + 8;

	if (n < 0 || n > (buf->len - buf->cursor) / wire_entry_size)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid engagement state: %d entries in a message of %d bytes",
						n, buf->len)));
	state = palloc0(ENGAGEMENT_STATE_SIZE(n));
	SET_VARSIZE(state, ENGAGEMENT_STATE_SIZE(n));
	state->nentries = n;
	state->fingerprint = (uint64) pq_getmsgint64(buf);
	for (int i = 0; i < n; i++)
	{
		EngagementEntry *e = &state->entries[i];

		e->counter_id = (uint64) pq_getmsgint64(buf);
		e->activities = pq_getmsgint64(buf);
		e->latest = pq_getmsgint64(buf);
		e->amount = pq_getmsgfloat8(buf);
		e->half_life = pq_getmsgfloat8(buf);
	}
	validate_engagement_state(state, VARSIZE(state));
	PG_RETURN_POINTER(state);
}
