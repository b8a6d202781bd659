/*
 * no_nls.c
 *		Preloaded after the ASan runtime into the fuzzing server only: message
 *		catalogs are not bound.
 *
 * With the ASan runtime preloaded, the second bindtextdomain() call of a
 * process (Debian's libgnutls binds its catalog in a constructor, PostgreSQL
 * in main) blocks forever on glibc's gettext lock.  Messages stay in English.
 */
char	   *bindtextdomain(const char *domain, const char *dir);

char *
bindtextdomain(const char *domain, const char *dir)
{
	(void) domain;
	return (char *) dir;
}
