/* netrc: a reader of netrc text that only answers whether a host has an entry (see netrc.h).
 * Must never copy, return or log a token other than a machine name, nor read past len. */
#include "sync/remote/netrc.h"
#include <stdbool.h>
#include <string.h>
#include <strings.h>

struct tok {
	const char *s; /* the token (a quoted one without its quotes, escapes kept) */
	size_t n;
};

static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* The next token from *p (before end), skipping white space and comments; false at the end. */
static bool next_tok(const char **p, const char *end, struct tok *t)
{
	const char *s = *p;
	for (;;) {
		while (s < end && space(*s))
			s++;
		if (s < end && *s == '#') {
			while (s < end && *s != '\n')
				s++;
			continue;
		}
		break;
	}
	if (s >= end)
		return false;
	bool quoted = *s == '"';
	t->s = s += quoted;
	while (s < end && (quoted ? *s != '"' : !space(*s)))
		s += quoted && *s == '\\' && s + 1 < end ? 2 : 1;
	t->n = (size_t)(s - t->s);
	*p = s + (quoted && s < end);
	return true;
}

static bool tok_is(const struct tok *t, const char *w)
{
	return t->n == strlen(w) && memcmp(t->s, w, t->n) == 0;
}

/* A macdef body ends at the first empty line. */
static const char *skip_macro(const char *p, const char *end)
{
	const char *blank = p < end ? memmem(p, (size_t)(end - p), "\n\n", 2) : NULL;
	return blank ? blank + 2 : end;
}

static bool host_is(const struct tok *t, const char *host)
{
	size_t n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
		host++, n -= 2;
	return t->n == n && strncasecmp(t->s, host, n) == 0;
}

bool netrc_has_host(const char *text, size_t len, const char *host)
{
	const char *p = text, *end = text + len;
	struct tok t, name;
	while (next_tok(&p, end, &t)) {
		if (tok_is(&t, "default"))
			return true;
		if (tok_is(&t, "machine") && next_tok(&p, end, &name) && host_is(&name, host))
			return true;
		if (tok_is(&t, "macdef") && next_tok(&p, end, &name)) {
			while (p < end && *p != '\n')
				p++;
			p = skip_macro(p, end);
		}
	}
	return false;
}
