/* status: the status file codec (see status.h). One table names every field, its JSON key and
 * its type, in the order the text has always had; the encoder and the parser both walk it.
 * Must never do I/O, never read past the input, and never accept a string or a number longer
 * than its field. */
#include "format/status.h"
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { STR, U64, I64, DBL, INT };

struct field {
	const char *key;
	enum kind kind;
	size_t off, size;
};

#define FIELD(name, kind)                                                                          \
	{                                                                                          \
#name, kind, offsetof(struct status, name), sizeof(((struct status *)0)->name)     \
	}

static const struct field fields[] = {
	FIELD(state, STR),
	FIELD(remote, STR),
	FIELD(local_generation, U64),
	FIELD(remote_generation, U64),
	FIELD(remote_committed, I64),
	FIELD(objects_waiting, U64),
	FIELD(bytes_waiting, U64),
	FIELD(upload_rate, DBL),
	FIELD(objects_uploaded, U64),
	FIELD(bytes_uploaded, U64),
	FIELD(cache_bytes, U64),
	FIELD(last_error, STR),
	FIELD(last_error_time, I64),
	FIELD(pid, INT),
	FIELD(last_merge, STR),
	FIELD(remote_root, STR),
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))
/* last_merge and remote_root came later: the file of an older daemon lacks them */
#define NREQUIRED   14
#define ESCAPED_MAX 512	 /* an escaped string is cut before it reaches this many bytes */
#define DOUBLE_MAX  1e18 /* a double's magnitude stays below this: "%.0f" of it is 19 digits */

struct out {
	char *p;
	size_t cap, len;
	bool full;
};

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = o->full ? 0 : vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

/* The inside of a JSON string for s, cut like the status text always was. */
static void escape(char out[ESCAPED_MAX], const char *s)
{
	size_t o = 0;
	for (; *s && o + 7 < ESCAPED_MAX; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, ESCAPED_MAX - o, "\\%c", c);
		else if (c < 0x20)
			o += (size_t)snprintf(out + o, ESCAPED_MAX - o, "\\u%04x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = 0;
}

static void put_value(struct out *o, const struct field *f, const struct status *st)
{
	const void *v = (const char *)st + f->off;
	char text[ESCAPED_MAX];
	double d;
	switch (f->kind) {
	case STR:
		escape(text, v);
		put(o, "\"%s\"", text);
		break;
	case U64:
		put(o, "%" PRIu64, *(const uint64_t *)v);
		break;
	case I64:
		put(o, "%" PRId64, *(const int64_t *)v);
		break;
	case DBL:
		d = *(const double *)v;
		put(o, "%.0f", fabs(d) < DOUBLE_MAX ? d : 0.0);
		break;
	case INT:
		put(o, "%d", *(const int *)v);
		break;
	}
}

int status_encode(const struct status *st, char *out, size_t cap)
{
	struct out o = {.p = out, .cap = cap, .full = cap == 0};
	put(&o, "{");
	for (size_t k = 0; k < NFIELDS; k++) {
		put(&o, "%s\"%s\":", k ? "," : "", fields[k].key);
		put_value(&o, &fields[k], st);
	}
	put(&o, "}\n");
	return o.full ? -ENOSPC : (int)o.len;
}

struct in {
	const char *p, *end;
};

static void skip_space(struct in *in)
{
	while (in->p < in->end && *in->p && strchr(" \t\r\n", *in->p))
		in->p++;
}

static bool eat(struct in *in, char c)
{
	skip_space(in);
	if (in->p == in->end || *in->p != c)
		return false;
	in->p++;
	return true;
}

static int hex4(struct in *in, unsigned *v)
{
	*v = 0;
	for (int k = 0; k < 4; k++, in->p++) {
		if (in->p == in->end)
			return -EINVAL;
		char c = *in->p;
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return -EINVAL;
		*v = *v << 4 | (unsigned)d;
	}
	return 0;
}

/* Appends the UTF-8 of a \uXXXX escape (no NUL, no surrogates) to out. */
static int put_code(unsigned v, char *out, size_t cap, size_t *n)
{
	unsigned char b[3];
	size_t len = v < 0x80 ? 1 : v < 0x800 ? 2 : 3;
	if (v == 0 || (v >= 0xd800 && v <= 0xdfff) || *n + len >= cap)
		return -EINVAL;
	if (len == 1)
		b[0] = (unsigned char)v;
	else if (len == 2)
		b[0] = (unsigned char)(0xc0 | v >> 6), b[1] = (unsigned char)(0x80 | (v & 0x3f));
	else
		b[0] = (unsigned char)(0xe0 | v >> 12),
		b[1] = (unsigned char)(0x80 | (v >> 6 & 0x3f)),
		b[2] = (unsigned char)(0x80 | (v & 0x3f));
	memcpy(out + *n, b, len);
	*n += len;
	return 0;
}

static int unescape(struct in *in, char *out, size_t cap, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	if (in->p == in->end)
		return -EINVAL;
	char c = *in->p++;
	if (c == 'u') {
		unsigned v;
		return hex4(in, &v) ? -EINVAL : put_code(v, out, cap, n);
	}
	const char *k = c ? strchr(from, c) : NULL;
	if (!k || *n + 1 >= cap)
		return -EINVAL;
	out[(*n)++] = to[k - from];
	return 0;
}

/* A JSON string into out (NUL-terminated, at most cap - 1 bytes). */
static int parse_string(struct in *in, char *out, size_t cap)
{
	if (!eat(in, '"'))
		return -EINVAL;
	size_t n = 0;
	for (;;) {
		if (in->p == in->end)
			return -EINVAL;
		unsigned char c = (unsigned char)*in->p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return -EINVAL;
		if (c == '\\') {
			if (unescape(in, out, cap, &n))
				return -EINVAL;
			continue;
		}
		if (n + 1 >= cap)
			return -EINVAL;
		out[n++] = (char)c;
	}
	out[n] = 0;
	return 0;
}

static size_t digits(struct in *in)
{
	const char *start = in->p;
	while (in->p < in->end && *in->p >= '0' && *in->p <= '9')
		in->p++;
	return (size_t)(in->p - start);
}

/* A JSON number's text into out; *integer says it has no fraction or exponent. */
static int number_text(struct in *in, char out[32], bool *integer)
{
	skip_space(in);
	const char *start = in->p;
	if (in->p < in->end && *in->p == '-')
		in->p++;
	const char *first = in->p;
	size_t whole = digits(in);
	if (whole == 0 || (whole > 1 && *first == '0'))
		return -EINVAL;
	*integer = true;
	if (in->p < in->end && *in->p == '.') {
		in->p++;
		*integer = false;
		if (!digits(in))
			return -EINVAL;
	}
	if (in->p < in->end && (*in->p == 'e' || *in->p == 'E')) {
		in->p++;
		*integer = false;
		if (in->p < in->end && (*in->p == '+' || *in->p == '-'))
			in->p++;
		if (!digits(in))
			return -EINVAL;
	}
	size_t len = (size_t)(in->p - start);
	if (len >= 32)
		return -EINVAL;
	memcpy(out, start, len);
	out[len] = 0;
	return 0;
}

static int parse_number(struct in *in, enum kind kind, void *v)
{
	char text[32], *end;
	bool integer;
	if (number_text(in, text, &integer) || (kind != DBL && !integer) ||
	    (kind == U64 && text[0] == '-'))
		return -EINVAL;
	errno = 0;
	if (kind == U64) {
		*(uint64_t *)v = strtoull(text, &end, 10);
	} else if (kind == DBL) {
		*(double *)v = strtod(text, &end);
		if (!(fabs(*(double *)v) < DOUBLE_MAX))
			return -EINVAL;
	} else {
		long long x = strtoll(text, &end, 10);
		if (kind == INT && (x < INT_MIN || x > INT_MAX))
			return -EINVAL;
		if (kind == INT)
			*(int *)v = (int)x;
		else
			*(int64_t *)v = x;
	}
	return errno || *end ? -EINVAL : 0;
}

static const struct field *find(const char *key)
{
	for (size_t k = 0; k < NFIELDS; k++)
		if (strcmp(fields[k].key, key) == 0)
			return &fields[k];
	return NULL;
}

/* One "key":value member into st; *seen records the fields met so far. */
static int parse_member(struct in *in, struct status *st, uint32_t *seen)
{
	char key[32];
	if (parse_string(in, key, sizeof(key)) || !eat(in, ':'))
		return -EINVAL;
	const struct field *f = find(key);
	uint32_t bit = f ? 1u << (f - fields) : 0;
	if (!f || (*seen & bit))
		return -EINVAL;
	*seen |= bit;
	void *v = (char *)st + f->off;
	return f->kind == STR ? parse_string(in, v, f->size) : parse_number(in, f->kind, v);
}

int status_parse(const char *text, size_t len, struct status *st)
{
	memset(st, 0, sizeof(*st));
	if (!text || len > 65536)
		return -EINVAL;
	struct in in = {.p = text, .end = text + len};
	uint32_t seen = 0;
	if (!eat(&in, '{'))
		return -EINVAL;
	do {
		if (parse_member(&in, st, &seen))
			return -EINVAL;
	} while (eat(&in, ','));
	if (!eat(&in, '}'))
		return -EINVAL;
	skip_space(&in);
	uint32_t required = (1u << NREQUIRED) - 1;
	return in.p == in.end && (seen & required) == required ? 0 : -EINVAL;
}
