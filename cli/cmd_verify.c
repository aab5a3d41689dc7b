/* cmd_verify: `coffer verify VAULT [--repair] [--snapshots] [--json]` checks the vault itself:
 * every object its current root (and with --snapshots every retained root) names is fetched,
 * opened and discarded (sync/verify.c); prints each missing or damaged one with its paths, a
 * progress line on a terminal, and a summary or one JSON document.
 * Must never take the cache lock or change the cache: --repair only reads its objects. */
#include "cli/cli.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "sync/verify.h"

static const char usage[] =
	"usage: coffer verify [--passfile FILE | --passcmd CMD] [--cache DIR] [--repair]\n"
	"                     [--snapshots] [--json] [-o OPTIONS] VAULT\n"
	"\n"
	"Fetches every object the vault's current root names (with --snapshots, every retained\n"
	"root's too), opens it and reports each one that is missing or damaged, with the paths\n"
	"it belongs to. --repair uploads again this device's cached copy (the cache of --cache,\n"
	"or the default one) of each such object, when that copy opens. --json prints one JSON\n"
	"document. Exits 0 only when every object opens.\n" VAULT_HELP;

struct progress {
	bool tty, shown;
	struct timespec t0, last;
};

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static double mib(uint64_t bytes)
{
	return (double)bytes / 1048576.0;
}

static void show_progress(void *arg, uint64_t objects, uint64_t bytes)
{
	struct progress *p = arg;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (since(&p->last, &now) < 0.25)
		return;
	p->last = now;
	double secs = since(&p->t0, &now);
	fprintf(stderr, "\rcoffer verify: %" PRIu64 " objects, %.1f MiB, %.1f MiB/s   ", objects,
		mib(bytes), secs > 0 ? mib(bytes) / secs : 0.0);
	p->shown = true;
}

static const char *kind_name(enum verify_kind k)
{
	return k == VERIFY_ROOT		  ? "root"
	       : k == VERIFY_PAGE	  ? "inode page"
	       : k == VERIFY_TABLE	  ? "page table"
	       : k == VERIFY_BUCKET	  ? "directory bucket"
	       : k == VERIFY_BUCKET_TABLE ? "directory bucket table"
					  : "chunk";
}

static const char *state_name(int err)
{
	return err == -ENOENT ? "missing" : err == -EBADMSG ? "damaged" : "unreadable";
}

static void repair_note(const struct verify_problem *p, char *out, size_t cap)
{
	const char *why[] = {
		[REPAIR_NONE] = "",
		[REPAIR_DONE] = "repaired: uploaded again from the cache, and it opens now",
		[REPAIR_NOT_CACHED] = "not repaired: the cache does not hold it",
		[REPAIR_CACHE_DAMAGED] = "not repaired: the cache's copy does not open either",
		[REPAIR_UPLOAD_FAILED] = "not repaired: the upload failed",
		[REPAIR_RECHECK_FAILED] = "not repaired: the vault's copy still fails after upload",
	};
	if (p->repair >= REPAIR_UPLOAD_FAILED)
		snprintf(out, cap, "%s (%s)", why[p->repair], remote_strerror(p->repair_err));
	else
		snprintf(out, cap, "%s", why[p->repair]);
}

static void print_text(const struct verify_report *rep, double secs)
{
	char note[256];
	for (size_t k = 0; k < rep->n; k++) {
		const struct verify_problem *p = &rep->v[k];
		printf("%s %s %s (generation %" PRIu64 ")%s%s\n", state_name(p->err),
		       kind_name(p->kind), p->key, p->gen,
		       p->err == -ENOENT || p->err == -EBADMSG ? "" : ": ",
		       p->err == -ENOENT || p->err == -EBADMSG ? "" : remote_strerror(p->err));
		for (size_t i = 0; i < p->npaths; i++)
			printf("    %s\n", p->paths[i]);
		if (p->more)
			printf("    (and %zu more paths)\n", p->more);
		repair_note(p, note, sizeof(note));
		if (*note)
			printf("    %s\n", note);
	}
	printf("coffer verify: %" PRIu64 " roots, %" PRIu64 " objects, %" PRIu64
	       " bytes checked in %.1f s (%.1f MiB/s): %" PRIu64 " missing, %" PRIu64
	       " damaged, %" PRIu64 " unreadable, %" PRIu64 " repaired\n",
	       rep->roots, rep->objects, rep->bytes, secs, secs > 0 ? mib(rep->bytes) / secs : 0.0,
	       rep->missing, rep->damaged, rep->unreadable, rep->repaired);
}

/* A JSON string; paths carry no control characters (sync/verify.c escapes them). */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if ((unsigned char)*s >= 0x20)
			putchar(*s);
	}
	putchar('"');
}

static void json_problem(const struct verify_problem *p)
{
	char note[256];
	repair_note(p, note, sizeof(note));
	printf("{\"key\":");
	json_str(p->key);
	printf(",\"name\":");
	json_str(strncmp(p->key, "objects/", 8) == 0 ? p->key + 8 : p->key);
	printf(",\"kind\":\"%s\",\"state\":\"%s\",\"generation\":%" PRIu64
	       ",\"repaired\":%s,\"repair\":",
	       p->kind == VERIFY_ROOT		? "root"
	       : p->kind == VERIFY_PAGE		? "page"
	       : p->kind == VERIFY_TABLE	? "table"
	       : p->kind == VERIFY_BUCKET	? "bucket"
	       : p->kind == VERIFY_BUCKET_TABLE ? "bucket_table"
						: "chunk",
	       state_name(p->err), p->gen, p->repair == REPAIR_DONE ? "true" : "false");
	json_str(note);
	printf(",\"paths\":[");
	for (size_t i = 0; i < p->npaths; i++) {
		if (i)
			putchar(',');
		json_str(p->paths[i]);
	}
	printf("],\"more_paths\":%zu}", p->more);
}

/* The problems in state (an errno, 1: unreadable, 0: repaired) as a JSON array. */
static void json_list(const struct verify_report *rep, const char *name, int state)
{
	printf(",\"%s\":[", name);
	bool first = true;
	for (size_t k = 0; k < rep->n; k++) {
		const struct verify_problem *p = &rep->v[k];
		bool in = state == 0   ? p->repair == REPAIR_DONE
			  : state == 1 ? p->err != -ENOENT && p->err != -EBADMSG
				       : p->err == state;
		if (!in)
			continue;
		if (!first)
			putchar(',');
		first = false;
		json_problem(p);
	}
	putchar(']');
}

static void print_json(const struct verify_report *rep, double secs)
{
	printf("{\"ok\":%s,\"roots\":%" PRIu64 ",\"objects\":%" PRIu64 ",\"bytes\":%" PRIu64
	       ",\"seconds\":%.3f",
	       verify_status(rep) ? "false" : "true", rep->roots, rep->objects, rep->bytes, secs);
	json_list(rep, "missing", -ENOENT);
	json_list(rep, "damaged", -EBADMSG);
	json_list(rep, "unreadable", 1);
	json_list(rep, "repaired", 0);
	printf("}\n");
}

/* The cache to repair from: an existing folder of this user's. NULL (said why) otherwise. */
static struct store *repair_cache(const struct opts *o, const struct vault *v)
{
	char path[4096];
	struct store *st = NULL;
	cache_path(o, v, path, sizeof(path));
	int err = store_open_existing(&st, path);
	if (!err && (err = store_check_owner(st))) {
		store_close(st);
		st = NULL;
	}
	if (err)
		fprintf(stderr,
			"coffer: --repair needs this device's cache of the vault; '%s': %s\n", path,
			err == -EPERM ? "not owned by you, or writable by others" : strerror(-err));
	return st;
}

static int verify(const struct opts *o, struct remote *r, const struct vault *v)
{
	struct progress pr = {.tty = isatty(STDERR_FILENO) == 1};
	struct verify_opts vo = {.snapshots = o->snapshots,
				 .progress = pr.tty ? show_progress : NULL,
				 .arg = &pr};
	if (o->repair && !(vo.repair_from = repair_cache(o, v)))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &pr.t0); /* pr.last zero: the first object shows at once */
	struct verify_report rep;
	int err = vault_verify(r, v->keys, v->id, &vo, &rep);
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (pr.shown)
		fprintf(stderr, "\r%-70s\r", "");
	int rc = err ? 1 : verify_status(&rep);
	if (err)
		fprintf(stderr, "coffer: cannot verify %s: %s\n", r->url, remote_strerror(err));
	else if (o->json)
		print_json(&rep, since(&pr.t0, &t1));
	else
		print_text(&rep, since(&pr.t0, &t1));
	verify_report_free(&rep);
	store_close(vo.repair_from);
	return rc;
}

int cmd_verify(int argc, char **argv)
{
	struct opts o;
	struct buf text;
	struct vault v;
	struct remote *r = vault_open_unlocked(argc, argv, usage, &o, &text, &v);
	if (!r)
		return 1;
	int rc = verify(&o, r, &v);
	vault_close(r, &text, &v);
	return rc;
}
