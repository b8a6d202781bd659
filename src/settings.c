/*
 * settings.c
 *		The activity types of a list setting (opt_out_activity_types,
 *		opt_in_activity_types): lead_scoring.type_list() for SQL, and the
 *		same reading for the insert trigger, which gets the settings' text
 *		from a query that every installed version of the SQL answers.
 */
#include "lead_scoring.h"

#include "catalog/pg_type_d.h"
#include "utils/array.h"
#include "utils/builtins.h"

/*
 * The types in a comma-separated list, spaces ignored: "opt_out, unsubscribe"
 * is {opt_out,unsubscribe}; an empty list has none; an empty item stays.
 */
ArrayType *
type_list(text *setting_value)
{
	char	   *value = text_to_cstring(setting_value);
	char	   *squeezed = palloc(strlen(value) + 1);
	char	   *to = squeezed;
	int			nitems = 0;
	Datum	   *items;
	char	   *item;

	for (const char *from = value; *from != '\0'; from++)
		if (*from != ' ')
			*to++ = *from;
	*to = '\0';
	if (*squeezed == '\0')
		return construct_empty_array(TEXTOID);

	items = palloc(sizeof(Datum) * (strlen(squeezed) + 1));
	item = squeezed;
	for (;;)
	{
		char	   *comma = strchr(item, ',');

		if (comma != NULL)
			*comma = '\0';
		items[nitems++] = CStringGetTextDatum(item);
		if (comma == NULL)
			break;
		item = comma + 1;
	}
	return construct_array(items, nitems, TEXTOID, -1, false, TYPALIGN_INT);
}

/* type_list(setting_value): the activity types of a list setting. */
PG_FUNCTION_INFO_V1(lead_scoring_type_list);
Datum
lead_scoring_type_list(PG_FUNCTION_ARGS)
{
	PG_RETURN_ARRAYTYPE_P(type_list(PG_GETARG_TEXT_PP(0)));
}
