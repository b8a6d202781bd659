/*
 * lead_scoring.h
 *		Types shared by the scoring core: a parsed scoring model and the
 *		per-lead engagement state.
 */
#ifndef LEAD_SCORING_H
#define LEAD_SCORING_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

typedef enum ScoreDimension
{
	DIMENSION_FIT,
	DIMENSION_ENGAGEMENT
} ScoreDimension;

/* A component: a group of rules whose sum is capped. */
typedef struct ModelComponent
{
	char	   *name;
	ScoreDimension dimension;
	bool		has_cap;
	double		max_points;
} ModelComponent;

/*
 * What an activity rule counts: the activities of a type (with matching
 * properties), decayed at a half-life.  Its id is a hash of exactly that, so
 * rules of any model that match the same activities share one counter, and a
 * lead's state stays valid for every model with the same counters.
 */
typedef struct ActivityCounter
{
	uint64		counter_id;
	char	   *activity_type;
	int			activity_type_len;
	Jsonb	   *properties;		/* required properties, or NULL */
	double		half_life;		/* seconds; 0 means no decay */
} ActivityCounter;

/* Points for each activity a counter counts. */
typedef struct ActivityRule
{
	int32		rule_id;
	int			component;		/* index into ScoringModel.components */
	char	   *activity_type;
	int			activity_type_len;
	Jsonb	   *properties;		/* required properties, or NULL */
	double		points;
	double		half_life;		/* seconds; 0 means no decay */
	bool		has_cap;
	double		max_points;
	uint64		counter_id;		/* its counter's id */
	int			counter_position;	/* of that id in ScoringModel.counter_ids */
} ActivityRule;

typedef enum FitTest
{
	FIT_EQUALS,
	FIT_IN,
	FIT_BETWEEN,
	FIT_MATCHES,
	FIT_PRESENT
} FitTest;

/* Points for a lead attribute that passes a test. */
typedef struct FitRule
{
	int32		rule_id;
	int			component;
	char	   *attribute;
	int			attribute_len;
	FitTest		test;
	int			nvalues;		/* equals: 1, in: list length */
	JsonbValue *values;
	text	   *pattern;		/* matches */
	bool		has_min;
	bool		has_max;
	double		min_value;
	double		max_value;
	double		points;
	uint64		test_id;		/* a hash of what it tests (attribute, test, values) */
	int			test_position;	/* of that id in ScoringModel.fit_test_ids */
} FitRule;

/*
 * A model parsed from its jsonb definition.  Counters are sorted by activity
 * type, so that those of one activity are found by binary search.
 */
typedef struct ScoringModel
{
	int32		model_id;
	uint64		fingerprint;	/* identifies what the engagement state depends on */
	int			ncomponents;
	ModelComponent *components;
	int		   *components_by_name;	/* indexes of components, by name */
	int			nactivity_rules;
	ActivityRule *activity_rules;
	int		   *rules_by_id;	/* indexes of activity_rules, by rule_id */
	int			ncounters;
	ActivityCounter *counters;	/* distinct, by activity type then counter_id */
	uint64	   *counter_ids;	/* their ids, in order */
	int			nfit_rules;
	FitRule    *fit_rules;
	int		   *fit_rules_by_id;	/* indexes of fit_rules, by rule_id */
	int			nfit_tests;
	int64	   *fit_test_ids;	/* distinct tests of the fit rules, ascending */
	int		   *fit_test_rules;	/* for each, the index of a fit rule making it */
	uint64		fit_basis;		/* identifies the set of tests a lead's record covers */
	uint64		definition_hash;	/* of the whole definition: what a score stamp was made under */

	/*
	 * The older fingerprints and fit bases that stored states and records
	 * may still carry and are valid for this model (see stored_state_bases):
	 * ascending, only in the active model's definition.
	 */
	int			nstored_fingerprints;
	uint64	   *stored_fingerprints;
	int			nstored_fit_bases;
	uint64	   *stored_fit_bases;
} ScoringModel;

/*
 * One counter's share of a lead's engagement: the number of matching
 * activities, decayed by the counter's half-life to the latest of them.
 */
typedef struct EngagementEntry
{
	uint64		counter_id;
	int64		activities;
	TimestampTz latest;
	double		amount;			/* sum of 2^-((latest - t) / half_life) */
	double		half_life;		/* seconds; 0 means no decay */
} EngagementEntry;

/* The lead_scoring.engagement_state type: entries sorted by counter_id. */
typedef struct EngagementState
{
	int32		vl_len_;
	int32		nentries;
	uint64		fingerprint;
	EngagementEntry entries[FLEXIBLE_ARRAY_MEMBER];
} EngagementState;

#define ENGAGEMENT_STATE_SIZE(n) \
	(offsetof(EngagementState, entries) + (Size) (n) * sizeof(EngagementEntry))
#define DatumGetEngagementState(d) ((EngagementState *) PG_DETOAST_DATUM(d))
#define PG_GETARG_ENGAGEMENT_STATE(n) DatumGetEngagementState(PG_GETARG_DATUM(n))

/* A growable, unpacked engagement state (aggregates and merges). */
typedef struct EngagementAccum
{
	uint64		fingerprint;
	int			nentries;
	int			capacity;
	EngagementEntry *entries;
} EngagementAccum;

/* json_numbers.c */
extern bool numeric_to_double(Numeric num, double *result);
extern bool numeric_to_int64(Numeric num, int64 *result);

/* model.c */
extern ScoringModel *scoring_model_arg(FunctionCallInfo fcinfo, int argno, FmgrInfo *owner);
extern ScoringModel *parse_scoring_model(Jsonb *definition);
extern int	find_activity_counters(const ScoringModel *model, const char *type, int len,
								   int *first);
extern bool model_has_counter(const ScoringModel *model, uint64 counter_id);
extern bool model_has_fit_test(const ScoringModel *model, int64 test_id);
extern bool state_fits_model(const EngagementState *state, const ScoringModel *model);
extern bool fit_basis_fits_model(uint64 basis, const ScoringModel *model);


/* engagement_agg.c */
extern MemoryContext aggregate_context(FunctionCallInfo fcinfo, const char *name);
extern bool properties_match(const ActivityCounter *counter, Jsonb *properties);

/* engagement_state.c */
extern void accum_init(EngagementAccum *accum, uint64 fingerprint, int capacity);
extern void accum_add_activity(EngagementAccum *accum, uint64 counter_id,
							   double half_life, TimestampTz at);
extern void accum_merge_entry(EngagementAccum *accum, const EngagementEntry *entry);
extern void accum_merge_state(EngagementAccum *accum, const EngagementState *state);
extern EngagementState *accum_to_state(const EngagementAccum *accum);
extern void validate_engagement_state(const EngagementState *state, Size size);
extern double decay_factor(double half_life, TimestampTz from, TimestampTz to);

/* tracked_tables.c: the lead, type, time and properties columns */
#define TRACKED_COLUMNS 4
extern char *tracked_table_problem(Oid relid, const char *const columns[TRACKED_COLUMNS],
								   int *sqlstate);

/* settings.c */
extern ArrayType *type_list(text *setting_value);

/* session.c */
extern bool dump_loading(void);
extern bool importing_history(void);
extern bool live_bursts_wanted(void);

/* scoring.c */
extern bool scalar_equals(const JsonbValue *a, const JsonbValue *b);
extern TimestampTz evaluation_instant(const EngagementState *state, TimestampTz as_of);
extern bool model_change_pending(void);
extern int	state_mismatch_hint(void);
extern void check_state_matches_model(const EngagementState *state,
									  const ScoringModel *model);
extern void two_model_args(FunctionCallInfo fcinfo, int a, int b, ScoringModel **first,
						   ScoringModel **second);
extern double engagement_value(const EngagementState *state, const ScoringModel *model,
							   TimestampTz as_of);
extern void engagement_bounds(const EngagementState *state, const ScoringModel *model,
							  TimestampTz from, TimestampTz to, double *low, double *high);
extern double record_fit_score(const ScoringModel *model, ArrayType *tests);

/* funnel.c */
typedef struct GradingCache GradingCache;
extern int	grade_position(double total, const double *min_scores, int ngrades);
extern int	bounds_grade_position(double low, double high, const double *min_scores, int ngrades);
extern const double *grade_thresholds_arg(ArrayType *min_scores, int *ngrades);
extern GradingCache *grading_cache(FunctionCallInfo fcinfo);
extern FmgrInfo *grading_model_owner(GradingCache *cache);
extern const double *cached_grade_thresholds(FunctionCallInfo fcinfo, GradingCache *cache, int argno,
											 int *ngrades);
extern const bool *cached_sales_ready(FunctionCallInfo fcinfo, GradingCache *cache, int argno,
									  int ngrades);

/* score_stamp.c */
extern bool stamped_total_bounds(FunctionCallInfo fcinfo, FmgrInfo *model_owner, int first,
								 TimestampTz as_of, double *low, double *high);
extern double stamped_row_total(FunctionCallInfo fcinfo, FmgrInfo *model_owner, int first,
								TimestampTz as_of);

#endif							/* LEAD_SCORING_H */
