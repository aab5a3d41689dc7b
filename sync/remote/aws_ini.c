/* aws_ini: the parser of the AWS CLI's shared files (see aws_ini.h). One pass over the lines with
 * pointers into the input: no copy, no allocation, nothing kept.
 * Must never read past len, nor take a nested (indented) setting for a top-level one. */
#include "sync/remote/aws_ini.h"
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

struct span {
	const char *p;
	size_t n;
};

struct scan {
	enum aws_file kind;
	const char *profile, *key;
	bool in;	   /* inside the profile's section */
	bool key_open;	   /* a key line was seen in this section: indented lines continue it */
	size_t key_indent; /* the indentation of that key line */
	bool found;
	struct span val; /* the last value of key in the profile */
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static struct span trim(struct span s)
{
	while (s.n && is_space(*s.p))
		s.p++, s.n--;
	while (s.n && is_space(s.p[s.n - 1]))
		s.n--;
	return s;
}

static bool span_is(struct span s, const char *word)
{
	return s.n == strlen(word) && memcmp(s.p, word, s.n) == 0;
}

/* "[default]" / "[profile NAME]" in config; "[NAME]" (or "[profile NAME]") in credentials. */
static bool section_matches(const struct scan *sc, struct span name)
{
	name = trim(name);
	if (name.n > 8 && memcmp(name.p, "profile", 7) == 0 && is_space(name.p[7]))
		return span_is(trim((struct span){name.p + 8, name.n - 8}), sc->profile);
	if (sc->kind == AWS_FILE_CONFIG && !span_is(name, "default"))
		return false; /* the AWS CLI knows other sections ([sso-session x]): not profiles */
	return span_is(name, sc->profile);
}

static void key_line(struct scan *sc, struct span s, size_t indent)
{
	size_t d = 0;
	while (d < s.n && s.p[d] != '=' && s.p[d] != ':')
		d++;
	struct span v = trim((struct span){s.p + d + (d < s.n), s.n - d - (d < s.n)});
	/* only a key with no value opens a nested block ("s3 =" and indented lines); an indented
	 * line under a key with a value is a key of its own, as coffer always read it */
	sc->key_open = d < s.n && v.n == 0;
	sc->key_indent = indent;
	if (d == s.n || !sc->in)
		return;
	struct span k = trim((struct span){s.p, d});
	if (k.n == strlen(sc->key) && strncasecmp(k.p, sc->key, k.n) == 0) {
		sc->found = true;
		sc->val = v;
	}
}

static void one_line(struct scan *sc, struct span line)
{
	size_t indent = 0;
	while (indent < line.n && (line.p[indent] == ' ' || line.p[indent] == '\t'))
		indent++;
	struct span s = trim(line);
	if (!s.n || s.p[0] == '#' || s.p[0] == ';')
		return;
	if (sc->key_open && indent > sc->key_indent)
		return; /* continues the value of the key above (nested settings) */
	if (s.p[0] == '[' && s.n >= 2 && s.p[s.n - 1] == ']') {
		sc->in = section_matches(sc, (struct span){s.p + 1, s.n - 2});
		sc->key_open = false;
		return;
	}
	key_line(sc, s, indent);
}

int aws_ini_get(const char *text, size_t len, enum aws_file kind, const char *profile,
		const char *key, char *out, size_t cap)
{
	if (len > AWS_FILE_MAX)
		return -EFBIG;
	struct scan sc = {.kind = kind, .profile = profile, .key = key};
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		one_line(&sc, (struct span){p, (size_t)(e - p)});
		p = nl ? nl + 1 : end;
	}
	if (!sc.found || !sc.val.n)
		return -ENOENT;
	if (memchr(sc.val.p, 0, sc.val.n))
		return -EINVAL;
	if (sc.val.n >= cap)
		return -ENAMETOOLONG;
	memcpy(out, sc.val.p, sc.val.n);
	out[sc.val.n] = 0;
	return 0;
}
