/*
 * acting_role.c
 *		lead_scoring.acting_role(): the role the session acts as, which a
 *		SECURITY DEFINER function does not change.  Inside such a function
 *		current_user is the function's owner; the audit, the history and the
 *		claims must name who asked, and this is that role: the session user,
 *		or the role it took with SET ROLE (which a SECURITY DEFINER function
 *		may not do).
 */
#include "lead_scoring.h"

#include "miscadmin.h"
#include "utils/builtins.h"

/* acting_role(): the name of the role the session acts as. */
PG_FUNCTION_INFO_V1(lead_scoring_acting_role);
Datum
lead_scoring_acting_role(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(DirectFunctionCall1(namein,
										CStringGetDatum(GetUserNameFromId(GetOuterUserId(), false))));
}
