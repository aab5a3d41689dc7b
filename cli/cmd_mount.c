/* cmd_mount: `coffer mount` unlocks the vault, loads the cache, mounts, daemonizes and serves
 * FUSE requests until unmounted, then commits. Returns to the shell once the mount is usable.
 * Must never mount after a failed unlock, and never exit before the final commit. */
#include "cli/cli.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "cache/files.h"
#include "cache/lock.h"
#include "cache/nowait.h"
#include "format/format.h"
#include "fs/core.h"
#include "fs/fuse_ops.h"
#include "lib/log.h"
#include "lib/workers.h"
#include "sync/sync.h"

static const char usage[] =
	"usage: coffer mount [--passfile FILE | --passcmd CMD] [--cache DIR] [--snapshot GEN]\n"
	"                    [-f] [-o OPTIONS] VAULT MOUNTPOINT\n"
	"\n"
	"Mounts the vault at MOUNTPOINT and returns once it is usable.\n"
	"  --cache DIR        local cache (default $XDG_CACHE_HOME/coffer/<vault id>)\n"
	"  --snapshot GEN     mount retained generation GEN read-only (see coffer snapshots)\n"
	"  -f                 stay in the foreground and log to stderr\n"
	"  -o commit=S        commit every S seconds (default 5)\n"
	"  -o keep=N          retain the last N roots on the vault as snapshots (default 16)\n"
	"  -o cache_size=SIZE cap the cache (e.g. 2G); only uploaded objects are evicted\n"
	"  -o inode_cache=N   keep about N inodes in memory (default 65536); the others are\n"
	"                     read back from the cache when used\n"
	"  -o drain_timeout=S at unmount, stop waiting for uploads after S seconds without\n"
	"                     progress (default 60); the rest uploads at the next mount\n"
	"  -o logfile=F       append log lines (integrity errors name the file) to F\n"
	"  -o ro              mount read-only\n"
	"  -o OPT             other options are passed to FUSE (see mount.fuse3(8))\n" VAULT_HELP;

/* Whether the daemon that serves the coffer mount whose cache is `cache` still runs: it holds
 * the cache's lock for as long as it lives. */
static bool daemon_alive(const char *cache)
{
	struct store *c;
	if (store_open_existing(&c, cache))
		return false;
	bool busy = cache_lock_watch(c) == 0 && cache_lock_held(c);
	store_close(c);
	return busy;
}

static int detach(const char *mp)
{
	fprintf(stderr, "coffer: %s was left by a stopped coffer; detaching it\n", mp);
	if (umount2(mp, MNT_DETACH) < 0 && run_fusermount(mp, true, true) != 0)
		return -ENOTCONN;
	return 0;
}

/* A mount left by a killed daemon may still answer stat from cached attributes, or ENOTCONN;
 * detach it so the new mount can proceed. A live coffer on mp is refused (-EBUSY). */
static int clear_dead_mount(const char *mp, char *abs, size_t cap)
{
	struct stat st;
	char cache[4096];
	int serr = stat(mp, &st) < 0 ? -errno : 0;
	if (serr && serr != -ENOTCONN)
		return serr;
	if (!realpath(mp, abs)) {
		char cwd[2048] = "";
		if (mp[0] != '/' && !getcwd(cwd, sizeof(cwd)))
			return -errno;
		snprintf(abs, cap, "%s%s%s", cwd, cwd[0] ? "/" : "", mp);
	}
	if (mounted_cache(abs, cache, sizeof(cache)) == 0) {
		if (daemon_alive(cache))
			return -EBUSY;
		serr = detach(abs);
	} else if (serr == -ENOTCONN) {
		serr = detach(abs);
	}
	if (!serr && stat(abs, &st) < 0)
		return -errno;
	return serr ? serr : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* FUSE caps readahead at 128 KiB; requests that small cost more in round trips than in crypto.
 * As root, raise the mount's own readahead (its bdi) to 1 MiB; elsewhere keep the default. */
static void raise_readahead(const char *mp)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192], dev[64] = "", path[4096];
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %63s %*s %4095s", dev, path) == 2 &&
		    strcmp(path, mp) == 0)
			break;
		else
			dev[0] = 0;
	if (f)
		fclose(f);
	if (!dev[0] || strchr(mp, ' ') || strchr(mp, '\\'))
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", dev);
	FILE *ra = fopen(path, "we");
	if (ra) {
		fputs("1024\n", ra);
		fclose(ra);
	}
}

static struct fuse_session *new_session(struct opts *o, struct fuse_ops_session *fo,
					const char *cache)
{
	char optstr[6144];
	snprintf(optstr, sizeof(optstr),
		 "default_permissions,fsname=coffer:%s,subtype=coffer%s%s%s", cache,
		 geteuid() == 0 ? ",allow_other" : "", o->fuse_opts[0] ? "," : "", o->fuse_opts);
	if (o->readonly && !strstr(optstr, ",ro"))
		strncat(optstr, ",ro", sizeof(optstr) - strlen(optstr) - 1);
	char *argv[] = {"coffer", "-o", optstr, NULL};
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct fuse_session *se =
		fuse_session_new(&args, &coffer_fuse_ops, sizeof(coffer_fuse_ops), fo);
	if (!se)
		fprintf(stderr, "coffer: FUSE rejected the mount options '%s'\n", o->fuse_opts);
	return se;
}

/* Forks the daemon; the parent waits until the child reports that the mount is ready (its
 * threads run and its first status is written) and exits with its verdict. Returns the write
 * end of the report pipe in the child, or -1 in the foreground. */
static int daemon_begin(bool foreground)
{
	int p[2];
	if (foreground || pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid > 0) {
		char ok = 1;
		close(p[1]);
		if (read(p[0], &ok, 1) != 1)
			ok = 1;
		_exit(ok ? 1 : 0);
	}
	close(p[0]);
	setsid();
	if (chdir("/") < 0)
		return p[1];
	int nul = open("/dev/null", O_RDWR);
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		if (nul > 2)
			close(nul);
	}
	return p[1];
}

static void daemon_ready(int fd, bool ok)
{
	char c = ok ? 0 : 1;
	if (fd >= 0 && write(fd, &c, 1) == 1)
		close(fd);
}

static int serve(struct opts *o, struct fs *fs, struct sync *sy, struct fuse_session *se,
		 struct fuse_ops_session *fo, const char *mp)
{
	if (fuse_set_signal_handlers(se) || fuse_session_mount(se, mp)) {
		fprintf(stderr, "coffer: cannot mount on '%s'\n", mp);
		return 1;
	}
	if (fuse_io_attach(fo, se)) /* the kernel then asks for an xattr before every write */
		fprintf(stderr, "coffer: out of memory for the FUSE channel; using libfuse's\n");
	char abs[4096];
	if (realpath(mp, abs)) {
		raise_readahead(abs);
		mp = abs;
	}
	int lerr = log_open(o->logfile, o->foreground);
	if (lerr) /* stderr is still the terminal: say it before daemonizing */
		fprintf(stderr,
			"coffer: cannot open the log file '%s': %s; logging to syslog only\n",
			o->logfile, strerror(-lerr));
	int ready = daemon_begin(o->foreground);
	prctl(PR_SET_DUMPABLE, 0);	   /* no core dumps with keys in them */
	struct workers *w = workers_new(); /* after the fork: threads do not survive it */
	fs_set_workers(fs, w);
	if (sync_start(sy, fs))
		log_msg(LOG_ERR, "cannot start the sync thread; changes stay in the cache");
	if (fs_start_committer(fs, o->commit_seconds))
		log_msg(LOG_ERR, "cannot start the commit thread; committing on fsync and unmount");
	log_msg(LOG_INFO, "mounted generation %llu on %s", (unsigned long long)fs_generation(fs),
		mp);
	daemon_ready(ready, true);
	struct fuse_loop_config cfg = {.clone_fd = 0, .max_idle_threads = 10};
	int rc = fuse_session_loop_mt(se, &cfg);
	fs_stop_committer(fs);
	int err = fs_commit(fs);
	fs_set_workers(fs, NULL);
	workers_free(w);
	log_msg(err ? LOG_ERR : LOG_INFO, "unmounted %s at generation %llu%s", mp,
		(unsigned long long)fs_generation(fs), err ? ": final commit FAILED" : "");
	if (sync_drain(sy))
		log_msg(LOG_WARNING, "unmounted before everything reached the vault; the rest "
				     "uploads at the next mount");
	fuse_remove_signal_handlers(se);
	fuse_session_unmount(se);
	return rc || err ? 1 : 0;
}

/* The first mount on a new device fetches every inode page of the tree: on a terminal, a line
 * that shows how far (at most five times a second, and once at the end); nothing otherwise, and
 * nothing when every page was in the cache already. */
struct load_line {
	struct timespec start, last;
};

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void show_load(void *arg, const struct fs_load_progress *p)
{
	struct load_line *l = arg;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!p->fetched || (!p->done && since(&l->last, &now) < 0.2))
		return;
	l->last = now;
	double secs = since(&l->start, &now), mib = (double)p->fetched_bytes / 1048576;
	fprintf(stderr,
		"\rcoffer: fetching the tree: %zu/%zu inode pages, %.1f MiB, %.1f MiB/s   %s",
		p->pages_done, p->pages_total, mib, secs > 0 ? mib / secs : 0.0,
		p->done ? "\n" : "");
}

static int start(struct opts *o, struct remote *r, struct store *st, struct vault *v,
		 const char *cache, const char *mp)
{
	struct sync_opts so = {.keep = o->keep,
			       .uploaders = 8,
			       .cache_size = o->cache_size,
			       .lease_ttl = 120,
			       .drain_limit = o->drain_timeout,
			       .readonly = o->readonly,
			       .snapshot = o->snapshot};
	struct sync *sy = NULL;
	struct fs *fs = NULL;
	struct load_line line = {0};
	int err = sync_attach(&sy, r, st, v->keys, v->id, &so);
	if (!err)
		err = fs_open(&fs, st, v->keys, v->id, o->readonly);
	if (!err && isatty(2)) {
		clock_gettime(CLOCK_MONOTONIC, &line.start);
		fs_set_load_progress(fs, show_load, &line);
	}
	if (!err)
		fs_set_page_budget(fs, (o->inode_cache + PAGE_INODES - 1) / PAGE_INODES);
	if (!err && (err = fs_mount_load(fs, geteuid(), getegid())))
		fprintf(stderr, "coffer: cannot load the cache '%s': %s\n", cache,
			err == -EBADMSG		  ? "its root failed authentication"
			: err == -EPROTONOSUPPORT ? FORMAT_NEWER_MSG
						  : strerror(-err));
	struct fuse_ops_session fo;
	fuse_ops_session_init(&fo, fs, o->readonly && !o->snapshot);
	struct fuse_session *se = err ? NULL : new_session(o, &fo, cache);
	int rc = se ? serve(o, fs, sy, se, &fo, mp) : 1;
	if (se)
		fuse_session_destroy(se);
	sync_stop(sy);
	fs_close(fs);
	return rc;
}

int cmd_mount(int argc, char **argv)
{
	struct opts o;
	if (parse_opts(argc, argv, &o, usage) || o.nargs != 2)
		die_usage(usage);
	const char *mp = o.args[1];
	struct remote *r = remote_open(o.args[0], &o.ropts);
	struct buf text = {0};
	struct vault v;
	struct store *st;
	char cache[4096];
	if (!r || vault_read(&o, r, &text, &v))
		return 1;
	if (o.snapshot) /* a snapshot is always read-only, in a cache of its own */
		o.readonly = true;
	char absmp[4096];
	int err = clear_dead_mount(mp, absmp, sizeof(absmp));
	if (err == -EBUSY) {
		fprintf(stderr, "coffer: '%s' is already a mounted coffer; unmount it first\n", mp);
		return 1;
	}
	if (err) {
		fprintf(stderr, "coffer: mount point '%s': %s\n", mp, strerror(-err));
		return 1;
	}
	if (cache_open(&o, &v, &st, cache, sizeof(cache)))
		return 1;
	if (cache_lock_take(st)) {
		fprintf(stderr, "coffer: the cache '%s' is already in use by a mounted coffer\n",
			cache);
		return 1;
	}
	if (vault_unlock_interactive(&o, r->url, &text, &v))
		return 1;
	cache_config_replace(st, text.data, text.len);
	if (!o.snapshot)
		cache_url_replace(st, r->url, strlen(r->url));
	cache_nowait_clear(st);
	int rc = start(&o, r, st, &v, cache, mp);
	vault_release(&v);
	store_close(st);
	buf_free(&text);
	remote_free(r);
	return rc;
}
