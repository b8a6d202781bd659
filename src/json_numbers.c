/*
 * json_numbers.c
 *		JSON numbers (jsonb's numerics) as C numbers, for the parsers of model
 *		definitions, engagement states and lead attributes: out of range is
 *		an answer the caller turns into its own error, never an overflow.
 */
#include "lead_scoring.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

/* A JSON number as a finite double; false if it is out of double's range. */
bool
numeric_to_double(Numeric num, double *result)
{
	char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));
	char	   *end;

	/* strtod, unlike numeric_float8, reports overflow instead of raising it */
	*result = strtod(text, &end);
	return *end == '\0' && !isnan(*result) && !isinf(*result);
}

/* A JSON number as an int64; false if it is not a whole number in range. */
bool
numeric_to_int64(Numeric num, int64 *result)
{
	char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));
	char	   *end;
	long long	value;

	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0' || end == text)
		return false;
	*result = (int64) value;
	return true;
}
