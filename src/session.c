/*
 * session.c
 *		Who a statement runs for, and whether it restores a dump: what code
 *		that runs with the owner's rights asks of the session.
 *
 * Inside a SECURITY DEFINER function current_user is the function's owner;
 * the audit, the history and the claims must name who asked: the session
 * user, or the role it took with SET ROLE (which a SECURITY DEFINER function
 * may not do).  A restore is a superuser's session with check_function_bodies
 * off (as pg_dump scripts and pg_restore set it): any session may turn that
 * setting off, so for any other role it means nothing.
 */
#include "lead_scoring.h"

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

/* acting_role(): the name of the role the session acts as. */
PG_FUNCTION_INFO_V1(lead_scoring_acting_role);
Datum
lead_scoring_acting_role(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(DirectFunctionCall1(namein,
										CStringGetDatum(GetUserNameFromId(GetOuterUserId(), false))));
}

/* loading_dump(): whether a superuser's session is restoring a dump. */
PG_FUNCTION_INFO_V1(lead_scoring_loading_dump);
Datum
lead_scoring_loading_dump(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(!check_function_bodies && superuser_arg(GetOuterUserId()));
}
