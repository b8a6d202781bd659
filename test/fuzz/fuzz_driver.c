/*
 * fuzz_driver.c
 *		libFuzzer inside a PostgreSQL backend: lead_scoring_fuzz(target,
 *		log_file, libfuzzer_args) runs one fuzz target over the extension's
 *		parsers with the server's real jsonb, numeric, timestamp and regex code.
 *
 * Each input runs in a subtransaction and a memory context of its own, so an
 * ereport(ERROR) is an expected outcome (the input is refused) and what it
 * leaves behind is cleaned up as in a real query.  A crash, a sanitizer
 * report, an internal error (SQLSTATE XX000), a failed check (a round trip
 * that changes a state, a score that is not finite) or a slow input ends the
 * run: libFuzzer writes the input to its artifact prefix.  libFuzzer ends
 * the process with exit() when done; an atexit handler then reports whether
 * the backend's memory grew.
 */
#include "lead_scoring.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <unistd.h>

#include "access/xact.h"
#include "catalog/pg_type_d.h"
#include "lib/stringinfo.h"
#include "nodes/execnodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

PG_FUNCTION_INFO_V1(lead_scoring_fuzz);

/* libFuzzer's entry point when the program has its own main() */
extern int	LLVMFuzzerRunDriver(int *argc, char ***argv,
								int (*callback) (const uint8_t *data, size_t size));

/* the extension's SQL-callable functions under test */
extern Datum engagement_state_in(PG_FUNCTION_ARGS);
extern Datum engagement_state_out(PG_FUNCTION_ARGS);
extern Datum engagement_state_recv(PG_FUNCTION_ARGS);
extern Datum engagement_state_send(PG_FUNCTION_ARGS);
extern Datum lead_scoring_merge_engagement(PG_FUNCTION_ARGS);
extern Datum lead_scoring_check_model(PG_FUNCTION_ARGS);
extern Datum lead_scoring_fit_score(PG_FUNCTION_ARGS);
extern Datum lead_scoring_engagement_score(PG_FUNCTION_ARGS);
extern Datum score_activities_transfn(PG_FUNCTION_ARGS);
extern Datum score_activities_serializefn(PG_FUNCTION_ARGS);
extern Datum score_activities_deserializefn(PG_FUNCTION_ARGS);
extern Datum score_activities_finalfn(PG_FUNCTION_ARGS);

typedef void (*FuzzTarget) (const uint8_t *data, size_t size);

static const char *target_name;
static FuzzTarget target;
static MemoryContext input_context;
static int64 executions;
static int64 refused;
static int64 warmup_executions;
static Size memory_after_warmup;

/*
 * Inputs are copied to malloc'd buffers of their exact size (plus the
 * terminating zero a C string or StringInfo has), so that AddressSanitizer
 * sees any read past them; palloc'd chunks have no red zones.  'header'
 * bytes are left in front for a varlena header.
 */
#define MAX_COPIES 4
static void *copies[MAX_COPIES];
static int	ncopies;

static char *
exact_copy(const uint8_t *data, size_t size, size_t header)
{
	char	   *copy;

	if (ncopies == MAX_COPIES || (copy = malloc(header + size + 1)) == NULL)
		abort();
	memcpy(copy + header, data, size);
	copy[header + size] = '\0';
	copies[ncopies++] = copy;
	return copy;
}

static void
fuzz_failure(const char *fmt,...)
pg_attribute_printf(1, 2) pg_attribute_noreturn();

/* A finding that is not a crash: say what, and let libFuzzer save the input. */
static void
fuzz_failure(const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "lead_scoring_fuzz: %s: FAILURE: ", target_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* Call a function as the executor would, with its own FmgrInfo and context. */
static Datum
call_function(FmgrInfo *flinfo, Node *context, int nargs, const Datum *args,
			  const bool *nulls, bool *isnull)
{
	LOCAL_FCINFO(fcinfo, 5);
	Datum		result;

	Assert(nargs <= 5);
	InitFunctionCallInfoData(*fcinfo, flinfo, nargs, InvalidOid, context, NULL);
	for (int i = 0; i < nargs; i++)
	{
		fcinfo->args[i].value = args[i];
		fcinfo->args[i].isnull = nulls != NULL && nulls[i];
	}
	result = flinfo->fn_addr(fcinfo);
	*isnull = fcinfo->isnull;
	return result;
}

static void
init_flinfo(FmgrInfo *flinfo, PGFunction fn, int nargs)
{
	memset(flinfo, 0, sizeof(FmgrInfo));
	flinfo->fn_addr = fn;
	flinfo->fn_nargs = nargs;
	flinfo->fn_mcxt = CurrentMemoryContext;
}

/* The aggregate support functions check that an aggregate calls them. */
static Node *
fake_aggregate(void)
{
	AggState   *agg = makeNode(AggState);

	agg->curaggcontext = makeNode(ExprContext);
	agg->curaggcontext->ecxt_per_tuple_memory = CurrentMemoryContext;
	return (Node *) agg;
}

/*
 * Two inputs in one: split at the first zero byte (the second may be empty).
 * Returns the length of the second.
 */
static size_t
split_input(const uint8_t *data, size_t size, char **first, char **second)
{
	const uint8_t *zero = memchr(data, 0, size);
	size_t		len = zero ? (size_t) (zero - data) : size;
	size_t		second_len = zero ? size - len - 1 : 0;

	*first = exact_copy(data, len, 0);
	*second = exact_copy(zero ? zero + 1 : data, second_len, 0);
	return second_len;
}

/* Equal states (amounts compared as numbers: -0 and 0 are the same amount). */
static void
check_same_state(Datum a_datum, Datum b_datum, const char *what)
{
	EngagementState *a = DatumGetEngagementState(a_datum);
	EngagementState *b = DatumGetEngagementState(b_datum);
	bool		same = VARSIZE(a) == VARSIZE(b) && a->nentries == b->nentries &&
		a->fingerprint == b->fingerprint;

	for (int i = 0; same && i < a->nentries; i++)
	{
		const EngagementEntry *x = &a->entries[i];
		const EngagementEntry *y = &b->entries[i];

		same = x->counter_id == y->counter_id &&
			x->activities == y->activities && x->latest == y->latest &&
			x->amount == y->amount && x->half_life == y->half_life;
	}
	if (!same)
		fuzz_failure("%s changed the state", what);
}

/* What every valid state must survive: text and binary round trips, a merge. */
static void
check_valid_state(Datum state)
{
	char	   *text = DatumGetCString(DirectFunctionCall1(engagement_state_out, state));
	bytea	   *wire = DatumGetByteaPP(DirectFunctionCall1(engagement_state_send, state));
	StringInfoData buf;

	check_same_state(state, DirectFunctionCall1(engagement_state_in, CStringGetDatum(text)),
					 "output then input");
	buf.data = exact_copy((const uint8_t *) VARDATA_ANY(wire), VARSIZE_ANY_EXHDR(wire), 0);
	buf.len = VARSIZE_ANY_EXHDR(wire);
	buf.maxlen = buf.len + 1;
	buf.cursor = 0;
	check_same_state(state, DirectFunctionCall1(engagement_state_recv, PointerGetDatum(&buf)),
					 "send then receive");
	if (buf.cursor != buf.len)
		fuzz_failure("receive left %d of the %d bytes sent", buf.len - buf.cursor, buf.len);
	/* may refuse with an overflow error, never crash */
	(void) DirectFunctionCall2(lead_scoring_merge_engagement, state, state);
}

/* state_in: the text form of engagement_state (COPY, pg_dump, casts). */
static void
fuzz_state_in(const uint8_t *data, size_t size)
{
	char	   *text = exact_copy(data, size, 0);

	check_valid_state(DirectFunctionCall1(engagement_state_in, CStringGetDatum(text)));
}

/* state_recv: the binary form (COPY BINARY, binary protocol parameters). */
static void
fuzz_state_recv(const uint8_t *data, size_t size)
{
	StringInfoData buf;
	Datum		state;
	bytea	   *wire;

	buf.data = exact_copy(data, size, 0);
	buf.len = size;
	buf.maxlen = size + 1;
	buf.cursor = 0;
	state = DirectFunctionCall1(engagement_state_recv, PointerGetDatum(&buf));
	/* what was read must be sent back byte for byte */
	wire = DatumGetByteaPP(DirectFunctionCall1(engagement_state_send, state));
	if (VARSIZE_ANY_EXHDR(wire) != buf.cursor ||
		memcmp(VARDATA_ANY(wire), data, buf.cursor) != 0)
		fuzz_failure("send does not give back the %d bytes received", buf.cursor);
	check_valid_state(state);
}

/* agg_deserial: the aggregate's partial state as bytes (parallel plans). */
static void
fuzz_agg_deserial(const uint8_t *data, size_t size)
{
	bytea	   *bytes = (bytea *) exact_copy(data, size, VARHDRSZ);
	Node	   *agg = fake_aggregate();
	FmgrInfo	flinfo;
	Datum		args[2];
	bool		isnull;
	Datum		accum;
	bytea	   *again;

	SET_VARSIZE(bytes, VARHDRSZ + size);
	init_flinfo(&flinfo, score_activities_deserializefn, 2);
	args[0] = PointerGetDatum(bytes);
	args[1] = (Datum) 0;
	accum = call_function(&flinfo, agg, 2, args, NULL, &isnull);
	init_flinfo(&flinfo, score_activities_serializefn, 1);
	again = DatumGetByteaP(call_function(&flinfo, agg, 1, &accum, NULL, &isnull));
	if (VARSIZE(again) != VARSIZE(bytes) || memcmp(again, bytes, VARSIZE(bytes)) != 0)
		fuzz_failure("serialize does not give back the bytes deserialized");
	init_flinfo(&flinfo, score_activities_finalfn, 1);
	check_valid_state(call_function(&flinfo, agg, 1, &accum, NULL, &isnull));
}

/* model: a model definition, compiled and validated as check_model does. */
static void
fuzz_model(const uint8_t *data, size_t size)
{
	char	   *text = exact_copy(data, size, 0);
	Datum		definition = DirectFunctionCall1(jsonb_in, CStringGetDatum(text));

	(void) DirectFunctionCall1(lead_scoring_check_model, definition);
}

/* fit_score(model, attributes), as a query calls it. */
static double
fit_score(Datum model, Datum attributes)
{
	FmgrInfo	flinfo;
	Datum		args[2] = {model, attributes};
	bool		isnull;

	init_flinfo(&flinfo, lead_scoring_fit_score, 2);
	return DatumGetFloat8(call_function(&flinfo, NULL, 2, args, NULL, &isnull));
}

/*
 * pattern: a fit rule's regular expression and a value to test (split at the
 * first zero byte), put into a model and a lead's attributes.
 */
static void
fuzz_pattern(const uint8_t *data, size_t size)
{
	char	   *pattern;
	char	   *value;
	StringInfoData model;
	StringInfoData attributes;
	double		score;

	split_input(data, size, &pattern, &value);
	initStringInfo(&model);
	appendStringInfoString(&model,
						   "{\"components\": [{\"component\": \"c\", \"dimension\": \"fit\"}], "
						   "\"fit_rules\": [{\"rule_id\": 1, \"component\": \"c\", \"attribute\": \"a\", "
						   "\"test\": \"matches\", \"points\": 1, \"pattern\": ");
	escape_json(&model, pattern);
	appendStringInfoString(&model, "}]}");
	initStringInfo(&attributes);
	appendStringInfoString(&attributes, "{\"a\": ");
	escape_json(&attributes, value);
	appendStringInfoChar(&attributes, '}');
	score = fit_score(DirectFunctionCall1(jsonb_in, CStringGetDatum(model.data)),
					  DirectFunctionCall1(jsonb_in, CStringGetDatum(attributes.data)));
	if (score != 0 && score != 1)
		fuzz_failure("one rule of 1 point scored %g", score);
}

/*
 * match: a model and a JSON value (split at the first zero byte).  The value
 * is the properties of one activity of each type the model scores (and of
 * one type it does not), aggregated and scored, and a lead's attributes.
 */
static void
fuzz_match(const uint8_t *data, size_t size)
{
	char	   *model_text;
	char	   *value_text;
	Datum		model;
	Datum		value;
	ScoringModel *parsed;
	Node	   *agg = fake_aggregate();
	FmgrInfo	transfn;
	FmgrInfo	flinfo;
	Datum		args[5];
	bool		nulls[5] = {true, false, false, false, false};
	Datum		accum = (Datum) 0;
	Datum		state;
	bool		isnull;

	split_input(data, size, &model_text, &value_text);
	model = DirectFunctionCall1(jsonb_in, CStringGetDatum(model_text));
	value = DirectFunctionCall1(jsonb_in, CStringGetDatum(value_text));
	parsed = parse_scoring_model(DatumGetJsonbP(model));

	init_flinfo(&transfn, score_activities_transfn, 5);
	args[1] = model;
	args[4] = value;
	for (int i = 0; i <= parsed->nactivity_rules; i++)
	{
		const ActivityRule *rule = &parsed->activity_rules[i];

		if (i == parsed->nactivity_rules)
			args[2] = CStringGetTextDatum("no rule scores this");
		else if (i > 0 && rule->activity_type_len == rule[-1].activity_type_len &&
				 memcmp(rule->activity_type, rule[-1].activity_type, rule->activity_type_len) == 0)
			continue;
		else
			args[2] = PointerGetDatum(cstring_to_text_with_len(rule->activity_type,
															   rule->activity_type_len));
		args[0] = accum;
		args[3] = TimestampTzGetDatum((TimestampTz) i * USECS_PER_DAY);
		accum = call_function(&transfn, agg, 5, args, nulls, &isnull);
		nulls[0] = false;
	}
	init_flinfo(&flinfo, score_activities_finalfn, 1);
	state = call_function(&flinfo, agg, 1, &accum, nulls, &isnull);
	if (!isnull)
	{
		Datum		score_args[3] = {state, model, TimestampTzGetDatum(30 * USECS_PER_DAY)};

		check_valid_state(state);
		init_flinfo(&flinfo, lead_scoring_engagement_score, 3);
		(void) call_function(&flinfo, NULL, 3, score_args, NULL, &isnull);
	}
	(void) fit_score(model, value);
}

/*
 * score: a model and a state in binary form (split at the first zero byte),
 * evaluated together.  The state is given the model's fingerprint, which only
 * guards against mixing models, so that the fuzzer reaches the evaluation.
 */
static void
fuzz_score(const uint8_t *data, size_t size)
{
	char	   *model_text;
	Datum		model;
	StringInfoData buf;
	EngagementState *state;
	FmgrInfo	flinfo;
	Datum		args[3];
	bool		isnull;
	double		score;

	buf.len = split_input(data, size, &model_text, &buf.data);
	buf.maxlen = buf.len + 1;
	buf.cursor = 0;
	model = DirectFunctionCall1(jsonb_in, CStringGetDatum(model_text));
	state = DatumGetEngagementState(DirectFunctionCall1(engagement_state_recv,
														PointerGetDatum(&buf)));
	state->fingerprint = parse_scoring_model(DatumGetJsonbP(model))->fingerprint;
	args[0] = PointerGetDatum(state);
	args[1] = model;
	args[2] = TimestampTzGetDatum(0);
	init_flinfo(&flinfo, lead_scoring_engagement_score, 3);
	score = DatumGetFloat8(call_function(&flinfo, NULL, 3, args, NULL, &isnull));
	/* points are within 1e12, so a valid state must give a finite score */
	if (isnan(score) || isinf(score))
		fuzz_failure("engagement score %g", score);
}

static const struct
{
	const char *name;
	FuzzTarget	fn;
}			targets[] =
{
	{"state_in", fuzz_state_in},
	{"state_recv", fuzz_state_recv},
	{"agg_deserial", fuzz_agg_deserial},
	{"model", fuzz_model},
	{"pattern", fuzz_pattern},
	{"match", fuzz_match},
	{"score", fuzz_score},
};

/*
 * Bytes allocated by the backend's memory contexts, but for the cache of
 * time zones that timestamptz_in loads by name: it is bounded by the time
 * zone database, and a fuzzer keeps finding new zone names.
 */
static Size
backend_memory(MemoryContext context)
{
	Size		total;

	if (context->ident != NULL && strcmp(context->ident, "Timezones") == 0)
		return 0;
	total = MemoryContextMemAllocated(context, false);

	for (MemoryContext child = context->firstchild; child != NULL; child = child->nextchild)
		total += backend_memory(child);
	return total;
}

/* Run one input; errors are refusals, rolled back like a failed statement. */
static int
fuzz_one(const uint8_t *data, size_t size)
{
	MemoryContext caller_context = CurrentMemoryContext;
	ResourceOwner caller_owner = CurrentResourceOwner;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(input_context);
	PG_TRY();
	{
		target(data, size);
		MemoryContextSwitchTo(input_context);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(input_context);
		error = CopyErrorData();
		FlushErrorState();
		/* XX000 is elog(ERROR): a "can't happen" the input made happen */
		if (error->sqlerrcode == ERRCODE_INTERNAL_ERROR)
			fuzz_failure("internal error: %s", error->message);
		RollbackAndReleaseCurrentSubTransaction();
		refused++;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller_context);
	CurrentResourceOwner = caller_owner;
	MemoryContextReset(input_context);
	while (ncopies > 0)
		free(copies[--ncopies]);

	/* caches fill up during the warm-up; after it, memory must not grow */
	if (++executions == warmup_executions)
		memory_after_warmup = backend_memory(TopMemoryContext);
	return 0;
}

/* Runs when libFuzzer exits after its last input. */
static void
report_memory(void)
{
	Size		memory;

	if (executions <= warmup_executions)
	{
		fprintf(stderr, "lead_scoring_fuzz: %s: %lld executions, %lld refused; too few to check memory\n",
				target_name, (long long) executions, (long long) refused);
		return;
	}
	memory = backend_memory(TopMemoryContext);
	fprintf(stderr, "lead_scoring_fuzz: %s: %lld executions, %lld refused; "
			"memory contexts %zu bytes after %lld executions, %zu at the end: %s\n",
			target_name, (long long) executions, (long long) refused,
			memory_after_warmup, (long long) warmup_executions, memory,
			memory > memory_after_warmup ? "GREW" : "ok");
	if (memory > memory_after_warmup)
		MemoryContextStats(TopMemoryContext);
}

/*
 * lead_scoring_fuzz(target text, log_file text, libfuzzer_args text[]):
 * never returns after a run, as libFuzzer exits the backend.
 */
Datum
lead_scoring_fuzz(PG_FUNCTION_ARGS)
{
	char	   *log_file = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Datum	   *elems;
	int			nelems;
	int			argc;
	char	  **argv;
	int64		runs = 0;
	int			fd;

	target_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	for (int i = 0; i < (int) lengthof(targets); i++)
		if (strcmp(targets[i].name, target_name) == 0)
			target = targets[i].fn;
	if (target == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown fuzz target \"%s\"", target_name)));

	deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, NULL, &nelems);
	argv = MemoryContextAlloc(TopMemoryContext, sizeof(char *) * (nelems + 2));
	argv[0] = "lead_scoring_fuzz";
	for (int i = 0; i < nelems; i++)
	{
		argv[i + 1] = MemoryContextStrdup(TopMemoryContext, TextDatumGetCString(elems[i]));
		if (strncmp(argv[i + 1], "-runs=", 6) == 0)
			runs = strtoll(argv[i + 1] + 6, NULL, 10);
	}
	argc = nelems + 1;
	argv[argc] = NULL;
	warmup_executions = Max(Max(runs / 10, Min(runs / 2, 1000)), 1);

	fd = open(log_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write to \"%s\": %m", log_file)));
	close(fd);

	input_context = AllocSetContextCreate(TopMemoryContext, "lead_scoring fuzz input",
										  ALLOCSET_DEFAULT_SIZES);
	/*
	 * libFuzzer's per-input timeout needs SIGALRM and leaves a handler that
	 * is already set alone; nothing here uses the server's timeouts.
	 */
	pqsignal(SIGALRM, SIG_DFL);
	atexit(report_memory);
	PG_RETURN_INT32(LLVMFuzzerRunDriver(&argc, &argv, fuzz_one));
}
