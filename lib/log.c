/* log: syslog plus an optional append-only log file and stderr (see log.h).
 * Must never write into the cache folder (log lines name plaintext paths), never create the log
 * file readable by others, and never follow a symlink to it. */
#include "lib/log.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

static FILE *logf;
static int use_stderr = 1;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static FILE *open_file(const char *path)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		      0600);
	if (fd < 0)
		return NULL;
	FILE *f = NULL;
	if (fstat(fd, &st) < 0)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto out;
	}
	f = fdopen(fd, "ae");
out:
	if (!f) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return f;
}

int log_open(const char *logfile, int to_stderr)
{
	openlog("coffer", LOG_PID, LOG_DAEMON);
	use_stderr = to_stderr;
	if (logfile && !(logf = open_file(logfile)))
		return -errno;
	return 0;
}

void log_msg(int prio, const char *fmt, ...)
{
	char line[4608];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	syslog(prio, "%s", line);
	pthread_mutex_lock(&log_mu);
	if (logf) {
		time_t t = time(NULL);
		struct tm tm;
		char ts[32];
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", localtime_r(&t, &tm));
		fprintf(logf, "%s coffer: %s\n", ts, line);
		fflush(logf);
	}
	if (use_stderr)
		fprintf(stderr, "coffer: %s\n", line);
	pthread_mutex_unlock(&log_mu);
}

void log_close(void)
{
	if (logf)
		fclose(logf);
	logf = NULL;
	closelog();
}
