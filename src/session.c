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
 *
 * A history import is a transaction that begin_history_import() (granted to
 * administrators, and audited in history_imports) marked: no setting can
 * mark one.  The mark is backend memory naming the top transaction, so it
 * ends with that transaction, whatever way it ends.
 */
#include "lead_scoring.h"

#include "access/xact.h"
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

/* Whether a superuser's session is restoring a dump. */
bool
dump_loading(void)
{
	return !check_function_bodies && superuser_arg(GetOuterUserId());
}

/* loading_dump(): dump_loading() for SQL. */
PG_FUNCTION_INFO_V1(lead_scoring_loading_dump);
Datum
lead_scoring_loading_dump(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(dump_loading());
}

/*
 * The transaction importing history in this backend, whether it looks for
 * bursts, and the subtransaction that marked it: rolled back to before the
 * mark (and so before its record in history_imports), it is no import.
 */
static FullTransactionId history_import_xact = {0};
static bool history_import_finds_bursts = false;
static SubTransactionId history_import_subxact = InvalidSubTransactionId;
static bool history_import_callback_registered = false;

/* Follows the mark up on subcommit, and drops it when its subtransaction aborts. */
static void
history_import_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
								SubTransactionId parentSubid, void *arg)
{
	if (mySubid != history_import_subxact)
		return;
	if (event == SUBXACT_EVENT_COMMIT_SUB)
		history_import_subxact = parentSubid;
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		history_import_xact = InvalidFullTransactionId;
		history_import_subxact = InvalidSubTransactionId;
	}
}

/* Whether the current transaction imports history. */
bool
importing_history(void)
{
	FullTransactionId current = GetTopFullTransactionIdIfAny();

	return FullTransactionIdIsValid(history_import_xact) &&
		FullTransactionIdIsValid(current) &&
		FullTransactionIdEquals(history_import_xact, current);
}

/* Whether live scoring looks for bursts now: not while importing, unless asked. */
bool
live_bursts_wanted(void)
{
	return !importing_history() || history_import_finds_bursts;
}

/* mark_history_import(find_bursts): marks the current transaction as a history import. */
PG_FUNCTION_INFO_V1(lead_scoring_mark_history_import);
Datum
lead_scoring_mark_history_import(PG_FUNCTION_ARGS)
{
	if (!history_import_callback_registered)
	{
		RegisterSubXactCallback(history_import_subxact_callback, NULL);
		history_import_callback_registered = true;
	}
	history_import_xact = GetTopFullTransactionId();
	history_import_finds_bursts = PG_GETARG_BOOL(0);
	history_import_subxact = GetCurrentSubTransactionId();
	PG_RETURN_VOID();
}

/* importing_history(): whether the current transaction imports history. */
PG_FUNCTION_INFO_V1(lead_scoring_importing_history);
Datum
lead_scoring_importing_history(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(importing_history());
}
