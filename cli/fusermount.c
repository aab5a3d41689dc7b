/* fusermount: running fusermount3 on a mount point, by fork and exec with the path as one
 * argument, so that no path (a mount point's name is the user's) ever reaches a shell.
 * Must never build a command line from a path. */
#include "cli/cli.h"
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

int run_fusermount(const char *mp, bool lazy, bool quiet)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (quiet) {
			int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
			if (nul >= 0)
				dup2(nul, 2);
		}
		execlp("fusermount3", "fusermount3", lazy ? "-uz" : "-u", "--", mp, (char *)NULL);
		_exit(127);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
