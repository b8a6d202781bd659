# Builds an update script from its delta, so that no definition is written
# twice: the delta (src/sql/updates/lead_scoring--A--B.sql.in) says what
# changed, and takes the new definitions from the concern files.
#
#   awk -v delta=DELTA -f expand.awk CONCERN_FILES... DELTA > lead_scoring--A--B.sql
#
# The concern files are cut into statements, each with the comment lines just
# above it. In the delta, a line "--@ NAME" becomes every statement that
# creates NAME or comments on it (a function, procedure, view, table, type or aggregate,
# or the triggers and event triggers named NAME; a base type with the I/O
# functions between its shell and its definition) and every GRANT or REVOKE
# that names it, in the order of the concern files, each statement once, with
# CREATE FUNCTION, PROCEDURE, VIEW and AGGREGATE made CREATE OR REPLACE; the GRANTs and
# REVOKEs come at the end, when all the objects exist. "--@comments NAME"
# takes only the comments (of a table the delta alters, say); "--@rows NAME"
# only the INSERTs into it (a new table's built-in rows). Other lines are
# copied. A NAME that matches nothing is an error.

function flush_statement() {
	if (body != "") {
		n++
		statement[n] = comments body
		head[n] = first
	}
	comments = ""; body = ""; first = ""
}

# a statement ends with its file; a psql command (\echo) is a line of its own
FILENAME != delta && FNR == 1 { flush_statement(); dollar = 0; quoted = 0; atomic = 0 }
FILENAME != delta && /^\\/ { flush_statement(); next }

FILENAME != delta {
	line = $0
	if (body == "") {
		if (line ~ /^--/) { comments = comments line "\n"; next }
		if (line ~ /^[ \t]*$/) { comments = ""; next }
		first = line
	}
	body = body line "\n"
	# a semicolon inside $$ ... $$ or '...' ends nothing (function bodies
	# quote with $$; other quotes inside them do not count)
	if (index(line, "$$")) {
		if (gsub(/\$\$/, "&", line) % 2) dollar = !dollar
	} else if (!dollar && gsub(/'/, "&", line) % 2) {
		quoted = !quoted
	}
	# a SQL-standard body (BEGIN ATOMIC ... END) ends at its END
	if (!dollar && !quoted && line ~ /BEGIN ATOMIC/) atomic = 1
	if (atomic) {
		if (line ~ /^END;[ \t]*$/) { atomic = 0; flush_statement() }
	} else if (!dollar && !quoted && line ~ /;[ \t]*$/) {
		flush_statement()
	}
	next
}

/^--@(comments|rows)? / {
	only_comments = ($1 == "--@comments")
	only_rows = ($1 == "--@rows")
	name = $2
	pattern = name
	gsub(/\./, "\\.", pattern)
	# an index is named without its schema where it is created
	unqualified = pattern
	sub(/^.*\\\./, "", unqualified)
	found = 0
	for (i = 1; i <= n; i++) {
		if (only_rows ? head[i] ~ ("^INSERT INTO " pattern " ") \
		    : only_comments ? head[i] ~ ("^COMMENT ON [A-Z]+ " pattern "([ (.;]|$)") \
		    : (head[i] ~ ("^(CREATE (OR REPLACE )?(FUNCTION|PROCEDURE|VIEW|TABLE|TYPE|AGGREGATE)|COMMENT ON (FUNCTION|PROCEDURE|VIEW|TABLE|TYPE|AGGREGATE|COLUMN|INDEX)) " pattern "([ (.;]|$)") \
		       || head[i] ~ ("^CREATE (UNIQUE )?INDEX " unqualified " ") \
		       || head[i] ~ ("^CREATE (CONSTRAINT |EVENT )?TRIGGER " pattern " ") \
		       || (head[i] ~ /^(REVOKE|GRANT) / && statement[i] ~ (pattern "[(,; \n]")))) {
			found++
			# a statement (a REVOKE naming several objects) is pulled once
			if (printed[i]++)
				continue
			# grants come last, when every object they name exists
			if (head[i] ~ /^(REVOKE|GRANT) /) {
				grants = grants statement[i]
				continue
			}
			s = statement[i]
			sub(/\nCREATE FUNCTION /, "\nCREATE OR REPLACE FUNCTION ", s)
			sub(/^CREATE FUNCTION /, "CREATE OR REPLACE FUNCTION ", s)
			sub(/\nCREATE PROCEDURE /, "\nCREATE OR REPLACE PROCEDURE ", s)
			sub(/^CREATE PROCEDURE /, "CREATE OR REPLACE PROCEDURE ", s)
			sub(/\nCREATE VIEW /, "\nCREATE OR REPLACE VIEW ", s)
			sub(/^CREATE VIEW /, "CREATE OR REPLACE VIEW ", s)
			sub(/\nCREATE AGGREGATE /, "\nCREATE OR REPLACE AGGREGATE ", s)
			sub(/^CREATE AGGREGATE /, "CREATE OR REPLACE AGGREGATE ", s)
			printf "%s", s
			# a shell type is followed by its input and output functions,
			# up to the type's full definition
			if (head[i] ~ ("^CREATE TYPE " pattern ";"))
				for (j = i + 1; j <= n && head[j] !~ ("^CREATE TYPE " pattern " "); j++)
					if (!printed[j]++)
						printf "%s", statement[j]
		}
	}
	if (!found) {
		print "expand.awk: " FILENAME ":" FNR ": nothing in the concern files defines " name > "/dev/stderr"
		failed = 1
		exit 1
	}
	next
}

{ print }

END {
	if (failed)
		exit 1
	if (grants != "")
		printf "\n-- The grants and revokes of the objects above, as the concern files have them.\n%s", grants
}
