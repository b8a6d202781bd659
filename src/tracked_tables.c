/*
 * tracked_tables.c
 *		What a tracked activity table must be, checked before code that runs
 *		with the owner's rights reads it: a table (plain or partitioned, not
 *		temporary, not a view) whose lead, type, time and properties columns
 *		have built-in types.  A column of a type of the caller's own (a
 *		domain, or a type with a cast of its making) would have the owner run
 *		the caller's functions.
 */
#include "lead_scoring.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type_d.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

static const char *const column_roles[TRACKED_COLUMNS] = {"lead", "type", "time", "properties"};

/* Whether a column of type 'typid' may be the tracked column of this role. */
static bool
type_fits(int role, Oid typid)
{
	switch (role)
	{
		case 0:
			return typid == INT8OID || typid == INT4OID || typid == INT2OID;
		case 1:
			return typid == TEXTOID || typid == VARCHAROID || typid == BPCHAROID;
		case 2:
			return typid == TIMESTAMPTZOID;
		default:
			return typid == JSONBOID || typid == JSONOID;
	}
}

/*
 * What is wrong with tracking these columns of this relation, or NULL if
 * nothing is; *sqlstate is set to the error code to raise it with.  An empty
 * properties column is none.
 */
char *
tracked_table_problem(Oid relid, const char *const columns[TRACKED_COLUMNS], int *sqlstate)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class rel;
	char	   *name;

	if (!HeapTupleIsValid(tuple))
	{
		*sqlstate = ERRCODE_UNDEFINED_TABLE;
		return psprintf("relation with OID %u does not exist", relid);
	}
	rel = (Form_pg_class) GETSTRUCT(tuple);
	name = quote_qualified_identifier(get_namespace_name(rel->relnamespace), NameStr(rel->relname));
	if (rel->relkind != RELKIND_RELATION && rel->relkind != RELKIND_PARTITIONED_TABLE)
	{
		ReleaseSysCache(tuple);
		*sqlstate = ERRCODE_WRONG_OBJECT_TYPE;
		return psprintf("%s is not a table: only tables (plain or partitioned) can be tracked", name);
	}
	if (rel->relpersistence == RELPERSISTENCE_TEMP)
	{
		/* (its schema, pg_temp_N, is the session's: not worth naming) */
		char	   *relname = pstrdup(quote_identifier(NameStr(rel->relname)));

		ReleaseSysCache(tuple);
		*sqlstate = ERRCODE_WRONG_OBJECT_TYPE;
		return psprintf("%s is a temporary table: only permanent tables can be tracked", relname);
	}
	ReleaseSysCache(tuple);

	for (int role = 0; role < TRACKED_COLUMNS; role++)
	{
		AttrNumber	attnum;
		Oid			typid;

		if (columns[role] == NULL || columns[role][0] == '\0')
		{
			if (role == TRACKED_COLUMNS - 1)
				continue;		/* no properties column */
			*sqlstate = ERRCODE_NULL_VALUE_NOT_ALLOWED;
			return psprintf("the %s column of %s must be named", column_roles[role], name);
		}
		attnum = get_attnum(relid, columns[role]);
		if (attnum == InvalidAttrNumber || attnum < 0)
		{
			*sqlstate = ERRCODE_UNDEFINED_COLUMN;
			return psprintf("column \"%s\" of %s does not exist", columns[role], name);
		}
		typid = get_atttype(relid, attnum);
		if (!type_fits(role, typid))
		{
			*sqlstate = ERRCODE_DATATYPE_MISMATCH;
			return psprintf("column \"%s\" of %s has type %s, which cannot be the %s column",
							columns[role], name, format_type_be(typid), column_roles[role]);
		}
	}
	return NULL;
}

/* The column names of the SQL functions' arguments 1 to 4, as C strings. */
static void
columns_from_args(FunctionCallInfo fcinfo, const char *columns[TRACKED_COLUMNS])
{
	for (int i = 0; i < TRACKED_COLUMNS; i++)
		columns[i] = PG_ARGISNULL(i + 1) ? NULL : NameStr(*PG_GETARG_NAME(i + 1));
}

/* tracked_table_problem(table, lead, type, time, properties): what is wrong, or null. */
PG_FUNCTION_INFO_V1(lead_scoring_tracked_table_problem);
Datum
lead_scoring_tracked_table_problem(PG_FUNCTION_ARGS)
{
	const char *columns[TRACKED_COLUMNS];
	int			sqlstate;
	char	   *problem;

	if (PG_ARGISNULL(0))
		PG_RETURN_TEXT_P(cstring_to_text("no table given"));
	columns_from_args(fcinfo, columns);
	problem = tracked_table_problem(PG_GETARG_OID(0), columns, &sqlstate);
	if (problem == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(problem));
}

/* check_tracked_table(table, lead, type, time, properties): an error if it cannot be tracked. */
PG_FUNCTION_INFO_V1(lead_scoring_check_tracked_table);
Datum
lead_scoring_check_tracked_table(PG_FUNCTION_ARGS)
{
	const char *columns[TRACKED_COLUMNS];
	int			sqlstate;
	char	   *problem;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the table to track must be given")));
	columns_from_args(fcinfo, columns);
	problem = tracked_table_problem(PG_GETARG_OID(0), columns, &sqlstate);
	if (problem != NULL)
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("%s", problem),
				 errhint("The lead column is an integer type, the type column text, the time column timestamptz, the properties column jsonb or json, all of them built-in types.")));
	PG_RETURN_VOID();
}
