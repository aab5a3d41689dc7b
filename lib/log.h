/* log: where the daemon's messages go: syslog, plus a log file and stderr when configured.
 * Must never be given a key or passphrase; paths are logged only to local, trusted sinks. */
#ifndef COFFER_LOG_H
#define COFFER_LOG_H

/* Opens syslog and, when given, the log file: appended to, created 0600 (its lines name plaintext
 * paths), never through a symlink, a regular file only. 0, or the negative errno of the log file
 * (syslog and stderr work all the same). */
int log_open(const char *logfile, int to_stderr);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_close(void);

#endif
