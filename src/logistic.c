/*
 * logistic.c
 *		Learning from outcomes: an L2-regularised logistic regression fitted by
 *		Newton's method, and the area under the ROC curve of a set of scores.
 *
 * Features are standardised (mean 0, standard deviation 1) before fitting so
 * that one penalty weight suits features of any scale; the intercept is not
 * penalised.  Coefficients and standard errors are reported on the original
 * scale.  The objective is
 *		sum(log(1 + exp(eta)) - y * eta) + l2 / 2 * |beta|^2
 * which is scikit-learn's LogisticRegression(C = 1 / l2) on standardised
 * features.
 */
#include "lead_scoring.h"

#include <math.h>

#include "catalog/pg_type_d.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/float.h"
#include "utils/lsyscache.h"

#define MAX_FEATURES 1000
#define MAX_ITERATIONS 100
#define STEP_TOLERANCE 1e-10

/* log(1 + exp(eta)) without overflow */
static double
softplus(double eta)
{
	return eta > 0 ? eta + log1p(exp(-eta)) : log1p(exp(eta));
}

/* The logistic function: the probability of log-odds eta. */
static double
sigmoid(double eta)
{
	return 1.0 / (1.0 + exp(-eta));
}

typedef struct ScoreRank
{
	double		score;
	bool		positive;
} ScoreRank;

/* Order scored items by score, for the AUC's ranks. */
static int
compare_scores(const void *a, const void *b)
{
	double		x = ((const ScoreRank *) a)->score;
	double		y = ((const ScoreRank *) b)->score;

	return (x > y) - (x < y);
}

/*
 * Area under the ROC curve: the chance that a random positive scores above a
 * random negative, ties counting half (Mann-Whitney U over average ranks).
 * NaN when either class is empty.
 */
static double
area_under_curve(ScoreRank *items, int n)
{
	double		positive_ranks = 0;
	double		npositive = 0;
	double		nnegative;
	int			i = 0;

	qsort(items, n, sizeof(ScoreRank), compare_scores);
	while (i < n)
	{
		int			j = i;
		double		average_rank;

		while (j + 1 < n && items[j + 1].score == items[i].score)
			j++;
		average_rank = (i + j) / 2.0 + 1;	/* ranks start at 1 */
		for (int k = i; k <= j; k++)
			if (items[k].positive)
			{
				positive_ranks += average_rank;
				npositive++;
			}
		i = j + 1;
	}
	nnegative = n - npositive;
	if (npositive == 0 || nnegative == 0)
		return get_float8_nan();
	return (positive_ranks - npositive * (npositive + 1) / 2) / (npositive * nnegative);
}

/* The booleans of a 1-D array, refusing nulls. */
static bool *
boolean_array(ArrayType *array, const char *what, int *n)
{
	Datum	   *elements;
	bool	   *nulls;
	bool	   *result;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what)));
	deconstruct_array(array, BOOLOID, 1, true, TYPALIGN_CHAR, &elements, &nulls, n);
	result = palloc(sizeof(bool) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain nulls", what)));
		result[i] = DatumGetBool(elements[i]);
	}
	return result;
}

/* roc_auc(scores, won): area under the ROC curve of scores against outcomes. */
PG_FUNCTION_INFO_V1(lead_scoring_roc_auc);
Datum
lead_scoring_roc_auc(PG_FUNCTION_ARGS)
{
	ArrayType  *scores = PG_GETARG_ARRAYTYPE_P(0);
	int			nlabels;
	bool	   *labels = boolean_array(PG_GETARG_ARRAYTYPE_P(1), "outcomes", &nlabels);
	Datum	   *elements;
	bool	   *nulls;
	int			n;
	ScoreRank  *items;
	double		auc;

	if (ARR_NDIM(scores) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("scores must be a one-dimensional array")));
	deconstruct_array(scores, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elements, &nulls, &n);
	if (n != nlabels)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("scores and outcomes differ in length: %d and %d", n, nlabels)));
	items = palloc(sizeof(ScoreRank) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i] || isnan(DatumGetFloat8(elements[i])))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("scores must not contain nulls or NaN")));
		items[i].score = DatumGetFloat8(elements[i]);
		items[i].positive = labels[i];
	}
	auc = area_under_curve(items, n);
	if (isnan(auc))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(auc);
}

/*
 * The training data: n leads, each with an intercept column and the features
 * that vary (standardised), row-major in x.
 */
typedef struct TrainingData
{
	int			n;
	int			nfeatures;		/* features given */
	int			ncolumns;		/* 1 + features used */
	int		   *column_feature; /* feature of each column after the first */
	double	   *mean;
	double	   *sd;
	double	   *x;
	bool	   *y;
} TrainingData;

/* The labels and the standardised feature matrix, checked, from the arrays given. */
static TrainingData *
training_data(ArrayType *labels_array, ArrayType *features)
{
	TrainingData *data = palloc0(sizeof(TrainingData));
	int			nlabels;
	bool	   *labels = boolean_array(labels_array, "outcomes", &nlabels);
	Datum	   *elements;
	bool	   *nulls;
	int			nelements;
	int			n;
	int			p;

	if (ARR_NDIM(features) != 2)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("features must be a two-dimensional array: one row per lead"),
				 errhint("Aggregate the feature arrays with array_agg(features).")));
	n = ARR_DIMS(features)[0];
	p = ARR_DIMS(features)[1];
	if (n != nlabels)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("outcomes and features differ in length: %d and %d rows", nlabels, n)));
	if (p > MAX_FEATURES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many features: %d (at most %d)", p, MAX_FEATURES)));
	deconstruct_array(features, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elements, &nulls, &nelements);

	data->n = n;
	data->nfeatures = p;
	data->y = labels;
	data->mean = palloc0(sizeof(double) * Max(p, 1));
	data->sd = palloc0(sizeof(double) * Max(p, 1));
	data->column_feature = palloc(sizeof(int) * (p + 1));
	for (int i = 0; i < nelements; i++)
	{
		if (nulls[i] || !isfinite(DatumGetFloat8(elements[i])))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("features must be finite numbers, not null, NaN or infinity")));
		data->mean[i % p] += DatumGetFloat8(elements[i]) / n;
	}
	for (int i = 0; i < nelements; i++)
	{
		double		d = DatumGetFloat8(elements[i]) - data->mean[i % p];

		data->sd[i % p] += d * d / n;
	}
	data->ncolumns = 1;
	for (int j = 0; j < p; j++)
	{
		data->sd[j] = sqrt(data->sd[j]);
		/* a feature every lead shares says nothing: leave it out */
		if (data->sd[j] > 1e-12 * Max(1.0, fabs(data->mean[j])))
			data->column_feature[data->ncolumns++] = j;
	}

	data->x = MemoryContextAllocHuge(CurrentMemoryContext,
									 sizeof(double) * (Size) n * data->ncolumns);
	for (int i = 0; i < n; i++)
	{
		double	   *row = data->x + (Size) i * data->ncolumns;

		CHECK_FOR_INTERRUPTS();
		row[0] = 1.0;
		for (int c = 1; c < data->ncolumns; c++)
		{
			int			j = data->column_feature[c];

			row[c] = (DatumGetFloat8(elements[(Size) i * p + j]) - data->mean[j]) / data->sd[j];
		}
	}
	return data;
}

/* The penalised objective at beta. */
static double
objective(const TrainingData *data, const double *beta, double l2)
{
	double		total = 0;

	for (int i = 0; i < data->n; i++)
	{
		const double *row = data->x + (Size) i * data->ncolumns;
		double		eta = 0;

		for (int c = 0; c < data->ncolumns; c++)
			eta += row[c] * beta[c];
		total += softplus(eta) - (data->y[i] ? eta : 0);
	}
	for (int c = 1; c < data->ncolumns; c++)
		total += l2 / 2 * beta[c] * beta[c];
	return total;
}

/* Gradient and Hessian of the objective at beta (hessian is m x m, full). */
static void
gradient_and_hessian(const TrainingData *data, const double *beta, double l2,
					 double *gradient, double *hessian)
{
	int			m = data->ncolumns;

	memset(gradient, 0, sizeof(double) * m);
	memset(hessian, 0, sizeof(double) * m * m);
	for (int i = 0; i < data->n; i++)
	{
		const double *row = data->x + (Size) i * m;
		double		eta = 0;
		double		p;
		double		w;

		for (int c = 0; c < m; c++)
			eta += row[c] * beta[c];
		p = sigmoid(eta);
		w = p * (1 - p);
		for (int a = 0; a < m; a++)
		{
			gradient[a] += (p - (data->y[i] ? 1 : 0)) * row[a];
			for (int b = 0; b <= a; b++)
				hessian[a * m + b] += w * row[a] * row[b];
		}
		/* a row costs m * m: with a thousand features, check after each */
		CHECK_FOR_INTERRUPTS();
	}
	for (int a = 0; a < m; a++)
		for (int b = 0; b < a; b++)
			hessian[b * m + a] = hessian[a * m + b];
	for (int c = 1; c < m; c++)
	{
		gradient[c] += l2 * beta[c];
		hessian[c * m + c] += l2;
	}
}

/* Cholesky factor of a symmetric m x m matrix, in place (lower triangle). */
static void
cholesky(double *a, int m)
{
	for (int j = 0; j < m; j++)
	{
		double		d = a[j * m + j];

		CHECK_FOR_INTERRUPTS();
		for (int k = 0; k < j; k++)
			d -= a[j * m + k] * a[j * m + k];
		if (!(d > 1e-12 * Max(1.0, fabs(a[j * m + j]))))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the fit has no unique answer: features are linearly dependent, or separate won from other leads perfectly"),
					 errhint("Use a positive l2 penalty.")));
		a[j * m + j] = sqrt(d);
		for (int i = j + 1; i < m; i++)
		{
			double		s = a[i * m + j];

			for (int k = 0; k < j; k++)
				s -= a[i * m + k] * a[j * m + k];
			a[i * m + j] = s / a[j * m + j];
		}
	}
}

/* Solve L L' x = b for x, given the Cholesky factor L; b is overwritten. */
static void
cholesky_solve(const double *l, int m, double *b)
{
	for (int i = 0; i < m; i++)
	{
		for (int k = 0; k < i; k++)
			b[i] -= l[i * m + k] * b[k];
		b[i] /= l[i * m + i];
	}
	for (int i = m - 1; i >= 0; i--)
	{
		for (int k = i + 1; k < m; k++)
			b[i] -= l[k * m + i] * b[k];
		b[i] /= l[i * m + i];
	}
}

/*
 * logistic_regression(won, features, l2): the fitted model as the composite
 * lead_scoring.logistic_fit.
 */
PG_FUNCTION_INFO_V1(lead_scoring_logistic_regression);
Datum
lead_scoring_logistic_regression(PG_FUNCTION_ARGS)
{
	double		l2 = PG_GETARG_FLOAT8(2);
	TrainingData *data;
	int			m;
	int			p;
	double	   *beta;
	double	   *gradient;
	double	   *hessian;
	double	   *trial;
	double		current;
	double		wins = 0;
	int			iterations = 0;
	bool		converged = false;
	ScoreRank  *items;
	double		log_loss = 0;
	Datum	   *coefficients;
	Datum	   *standard_errors;
	bool	   *se_nulls;
	double		intercept;
	double		intercept_variance;
	double	   *a;
	int			dims[1];
	int			lbs[1] = {1};
	TupleDesc	tupdesc;
	Datum		values[10];
	bool		nulls[10] = {0};

	if (!(l2 >= 0) || isinf(l2))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("l2 penalty must be a finite number, zero or more")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("logistic_regression must return a composite type")));

	data = training_data(PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_ARRAYTYPE_P(1));
	m = data->ncolumns;
	p = data->nfeatures;
	for (int i = 0; i < data->n; i++)
		wins += data->y[i] ? 1 : 0;
	if (wins == 0 || wins == data->n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("training needs both won and not-won leads: %.0f of %d were won",
						wins, data->n)));

	beta = palloc0(sizeof(double) * m);
	gradient = palloc(sizeof(double) * m);
	hessian = palloc(sizeof(double) * m * m);
	trial = palloc(sizeof(double) * m);
	beta[0] = log(wins / (data->n - wins));
	current = objective(data, beta, l2);

	/* Newton's method, halving the step until the objective goes down */
	while (iterations < MAX_ITERATIONS && !converged)
	{
		double		step = 1.0;
		double		largest = 0;
		double		next;

		CHECK_FOR_INTERRUPTS();
		iterations++;
		gradient_and_hessian(data, beta, l2, gradient, hessian);
		cholesky(hessian, m);
		cholesky_solve(hessian, m, gradient);
		for (;;)
		{
			for (int c = 0; c < m; c++)
				trial[c] = beta[c] - step * gradient[c];
			next = objective(data, trial, l2);
			if (next <= current || step < 1e-10)
				break;
			step /= 2;
		}
		if (next > current)
		{
			/* no step lowers the objective: rounding, at the optimum */
			converged = true;
			break;
		}
		for (int c = 0; c < m; c++)
		{
			largest = Max(largest, fabs(trial[c] - beta[c]));
			beta[c] = trial[c];
		}
		converged = largest < STEP_TOLERANCE * Max(1.0, fabs(beta[0])) ||
			current - next <= 1e-14 * Max(1.0, fabs(current));
		current = next;
	}
	if (!converged)
		ereport(WARNING,
				(errmsg("logistic regression did not converge in %d iterations", MAX_ITERATIONS),
				 errhint("The classes may be separable: use a larger l2 penalty.")));

	/* covariance: the inverse Hessian at the optimum, column by column */
	gradient_and_hessian(data, beta, l2, gradient, hessian);
	cholesky(hessian, m);

	/* original scale: beta_j / sd_j; intercept shifted by the means */
	coefficients = palloc(sizeof(Datum) * Max(p, 1));
	standard_errors = palloc(sizeof(Datum) * Max(p, 1));
	se_nulls = palloc(sizeof(bool) * Max(p, 1));
	for (int j = 0; j < p; j++)
	{
		coefficients[j] = Float8GetDatum(0.0);
		standard_errors[j] = (Datum) 0;
		se_nulls[j] = true;
	}
	a = palloc0(sizeof(double) * m);
	intercept = beta[0];
	a[0] = 1;
	for (int c = 1; c < m; c++)
	{
		int			j = data->column_feature[c];
		double	   *unit = palloc0(sizeof(double) * m);

		unit[c] = 1;
		cholesky_solve(hessian, m, unit);	/* column c of the inverse */
		coefficients[j] = Float8GetDatum(beta[c] / data->sd[j]);
		standard_errors[j] = Float8GetDatum(sqrt(unit[c]) / data->sd[j]);
		se_nulls[j] = false;
		intercept -= beta[c] * data->mean[j] / data->sd[j];
		a[c] = -data->mean[j] / data->sd[j];
		pfree(unit);
	}
	/* var(a' beta) = a' H^-1 a = |L^-1 a|^2 */
	for (int i = 0; i < m; i++)
	{
		for (int k = 0; k < i; k++)
			a[i] -= hessian[i * m + k] * a[k];
		a[i] /= hessian[i * m + i];
	}
	intercept_variance = 0;
	for (int i = 0; i < m; i++)
		intercept_variance += a[i] * a[i];

	items = palloc(sizeof(ScoreRank) * data->n);
	for (int i = 0; i < data->n; i++)
	{
		const double *row = data->x + (Size) i * m;
		double		eta = 0;

		for (int c = 0; c < m; c++)
			eta += row[c] * beta[c];
		log_loss += softplus(eta) - (data->y[i] ? eta : 0);
		items[i].score = eta;
		items[i].positive = data->y[i];
	}

	dims[0] = p;
	values[0] = Int64GetDatum(data->n);
	values[1] = Int64GetDatum((int64) wins);
	values[2] = Float8GetDatum(intercept);
	values[3] = Float8GetDatum(sqrt(intercept_variance));
	values[4] = PointerGetDatum(construct_md_array(coefficients, NULL, 1, dims, lbs, FLOAT8OID,
												   sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[5] = PointerGetDatum(construct_md_array(standard_errors, se_nulls, 1, dims, lbs, FLOAT8OID,
												   sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[6] = Float8GetDatum(area_under_curve(items, data->n));
	values[7] = Float8GetDatum(log_loss / data->n);
	values[8] = Int32GetDatum(iterations);
	values[9] = BoolGetDatum(converged);
	tupdesc = BlessTupleDesc(tupdesc);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
