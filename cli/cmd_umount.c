/* cmd_umount: `coffer umount` unmounts a coffer mount and waits until its daemon has made the
 * final commit and exited (it holds the cache lock until then).
 * Must never report success before the daemon has released the cache. */
#include "cli/cli.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] = "usage: coffer umount MOUNTPOINT\n"
			    "\n"
			    "Commits, unmounts, and waits for the coffer daemon to finish.\n";

/* Undoes the octal escapes (\040 for space) of /proc/self/mountinfo in place. */
static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++, o++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
			*o = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*o = *s;
		}
	}
	*o = 0;
}

/* Finds the cache folder of the coffer mounted at mp (from its fsname "coffer:CACHE"). */
static int find_cache(const char *mp, char *cache, size_t cap)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192];
	int found = -ENOENT;
	while (f && fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - "), *fields[6] = {0}, *save;
		if (!sep)
			continue;
		*sep = 0;
		strtok_r(line, " ", &save);
		for (int k = 0; k < 4; k++)
			fields[k] = strtok_r(NULL, " ", &save);
		char *type = strtok_r(sep + 3, " ", &save), *src = strtok_r(NULL, " ", &save);
		if (!fields[3] || !type || !src)
			continue;
		unescape(fields[3]);
		unescape(src);
		if (strcmp(fields[3], mp) == 0 && strcmp(type, "fuse.coffer") == 0 &&
		    strncmp(src, "coffer:", 7) == 0) {
			snprintf(cache, cap, "%s", src + 7);
			found = 0;
		}
	}
	if (f)
		fclose(f);
	return found;
}

static int run_fusermount(const char *mp)
{
	pid_t pid = fork();
	if (pid == 0) {
		execlp("fusermount3", "fusermount3", "-u", mp, (char *)NULL);
		_exit(127);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int cmd_umount(int argc, char **argv)
{
	struct opts o;
	char mp[PATH_MAX], cache[4096], lock[4200];
	if (parse_opts(argc, argv, &o, usage) || o.nargs != 1)
		die_usage(usage);
	if (!realpath(o.args[0], mp)) {
		fprintf(stderr, "coffer: '%s': %s\n", o.args[0], strerror(errno));
		return 1;
	}
	if (find_cache(mp, cache, sizeof(cache))) {
		fprintf(stderr, "coffer: nothing of coffer's is mounted on '%s'\n", mp);
		return 1;
	}
	snprintf(lock, sizeof(lock), "%s/lock", cache);
	int fd = open(lock, O_RDONLY | O_CLOEXEC);
	if (run_fusermount(mp) != 0) {
		fprintf(stderr, "coffer: could not unmount '%s' (is a file on it still open?)\n", mp);
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (fd >= 0 && flock(fd, LOCK_SH) == 0) /* the daemon holds it until its final commit */
		flock(fd, LOCK_UN);
	if (fd >= 0)
		close(fd);
	return 0;
}
