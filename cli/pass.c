/* pass: reads a passphrase from a file, a command's output or the terminal with echo off, into
 * locked memory, after making the process undumpable (every command that reads one unlocks or
 * makes a key). Must never echo, log or keep a passphrase in unlocked memory. */
#include "cli/cli.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include "crypto/crypto.h"

#define PASS_MAX 1024

static size_t read_line_fd(int fd, char *out)
{
	size_t n = 0;
	char c;
	while (n < PASS_MAX - 1 && read(fd, &c, 1) == 1 && c != '\n')
		out[n++] = c;
	if (n && out[n - 1] == '\r')
		n--;
	out[n] = 0;
	return n;
}

static int from_tty(const char *prompt, char *out, size_t *len)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -ENXIO;
	struct termios old, quiet;
	if (tcgetattr(fd, &old) < 0) {
		close(fd);
		return -ENXIO;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(fd, prompt, strlen(prompt)) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) < 0) {
		close(fd);
		return -ENXIO;
	}
	*len = read_line_fd(fd, out);
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		*len = 0;
	close(fd);
	return 0;
}

/* As ssh does for keys, but accepting it: a passphrase file others can read is worth a word. */
static void warn_if_readable(int fd, const char *path)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & (S_IRGRP | S_IROTH)))
		fprintf(stderr,
			"coffer: warning: the passphrase file '%s' is readable by %s (mode %04o); "
			"chmod 600 it\n",
			path,
			(st.st_mode & S_IRGRP) && (st.st_mode & S_IROTH) ? "group and others"
			: st.st_mode & S_IRGRP				 ? "its group"
									 : "others",
			(unsigned)(st.st_mode & 07777));
}

/* From the file, else the command's first line of output. */
static int from_source(const char *file, const char *cmd, char *out, size_t *len)
{
	if (file) {
		int fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "coffer: cannot read passphrase file '%s': %s\n", file,
				strerror(errno));
			return -1;
		}
		warn_if_readable(fd, file);
		*len = read_line_fd(fd, out);
		close(fd);
		return 0;
	}
	FILE *p = popen(cmd, "r");
	if (!p) {
		fprintf(stderr, "coffer: cannot run passphrase command: %s\n", strerror(errno));
		return -1;
	}
	*len = read_line_fd(fileno(p), out);
	if (pclose(p) != 0) {
		fprintf(stderr, "coffer: the passphrase command failed\n");
		return -1;
	}
	return 0;
}

/* Asks "What: " (and with confirm "What again: ") on the terminal; opt names the options that
 * give it without one (--OPTfile, --OPTcmd). */
static int ask(const char *what, const char *opt, bool confirm, char *out, size_t *len)
{
	char prompt[64];
	snprintf(prompt, sizeof(prompt), "%c%s: ", toupper((unsigned char)what[0]), what + 1);
	if (from_tty(prompt, out, len)) {
		fprintf(stderr,
			"coffer: no terminal to ask for the %s: use --%sfile FILE or --%scmd CMD\n",
			what, opt, opt);
		return -1;
	}
	if (!confirm)
		return 0;
	char *again = secret_alloc(PASS_MAX);
	size_t alen = 0;
	snprintf(prompt, sizeof(prompt), "%c%s again: ", toupper((unsigned char)what[0]), what + 1);
	int err = again ? from_tty(prompt, again, &alen) : -1;
	if (!err && (alen != *len || memcmp(again, out, alen) != 0)) {
		fprintf(stderr, "coffer: the passphrases differ\n");
		err = -1;
	}
	secret_free(again);
	return err;
}

static char *read_one(const char *file, const char *cmd, const char *what, const char *opt,
		      bool confirm, size_t *len)
{
	/* a key follows the passphrase: from here on, no core dumps and no ptrace by this user */
	prctl(PR_SET_DUMPABLE, 0);
	char *p = secret_alloc(PASS_MAX);
	if (!p)
		return NULL;
	int err = file || cmd ? from_source(file, cmd, p, len) : ask(what, opt, confirm, p, len);
	if (!err && *len == 0) {
		fprintf(stderr, "coffer: the passphrase is empty\n");
		err = -1;
	}
	if (err) {
		secret_free(p);
		return NULL;
	}
	return p;
}

char *passphrase_read(const struct opts *o, bool confirm, size_t *len)
{
	return read_one(o->passfile, o->passcmd, "passphrase", "pass", confirm, len);
}

char *passphrase_read_new(const struct opts *o, size_t *len)
{
	return read_one(o->new_passfile, o->new_passcmd, "new passphrase", "new-pass", true, len);
}

void passphrase_free(char *p)
{
	secret_free(p);
}
