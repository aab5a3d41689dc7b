/* log: syslog plus an optional append-only log file and stderr (see log.h).
 * Must never write into the cache folder (log lines name plaintext paths). */
#include "fs/log.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

static FILE *logf;
static int use_stderr = 1;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void log_open(const char *logfile, int to_stderr)
{
	openlog("coffer", LOG_PID, LOG_DAEMON);
	use_stderr = to_stderr;
	if (logfile)
		logf = fopen(logfile, "ae");
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
