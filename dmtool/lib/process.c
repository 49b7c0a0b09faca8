// SPDX-License-Identifier: LGPL-2.1-or-later
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void read_all(int fd, char *output, size_t size)
{
	size_t used = 0;

	for (;;) {
		ssize_t got = read(fd, output + used, size - 1 - used);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		used += (size_t)got;
		if (used == size - 1) {
			/* Keep the second half: the end says what failed. */
			memmove(output, output + used / 2, used - used / 2);
			used -= used / 2;
		}
	}
	output[used] = '\0';
}

/* In the child: output to the pipe, input from /dev/null, and death with
 * the parent, so a killed dmtool leaves no tool running on its scratch
 * devices. Reports an exec failure's errno through report_fd. */
static void exec_child(char *const argv[], int output_fd, int report_fd,
		       pid_t parent)
{
	int null_fd, error;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	null_fd = open("/dev/null", O_RDONLY);
	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 ||
	    dup2(output_fd, STDOUT_FILENO) < 0 ||
	    dup2(output_fd, STDERR_FILENO) < 0) {
		error = errno;
	} else {
		execvp(argv[0], argv);
		error = errno;
	}
	if (write(report_fd, &error, sizeof(error)) < 0)
		_exit(127);
	_exit(127);
}

/* Returns the errno the child reported for a failed exec, or 0 when the
 * exec succeeded (the pipe closed on exec without a word). */
static int exec_error(int report_fd)
{
	int error = 0;
	ssize_t got;

	do
		got = read(report_fd, &error, sizeof(error));
	while (got < 0 && errno == EINTR);
	return got == (ssize_t)sizeof(error) ? error : 0;
}

int process_capture(struct dmt_context *ctx, char *const argv[], char *output,
		  size_t output_size, int *status, struct dmt_error *err)
{
	int output_fds[2], report_fds[2];
	pid_t parent = getpid(), pid;
	int wait_status, error;

	if (pipe2(output_fds, O_CLOEXEC) != 0)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, errno,
				"cannot create a pipe for %s", argv[0]);
	if (pipe2(report_fds, O_CLOEXEC) != 0) {
		error = errno;
		goto close_output;
	}

	log_debug(ctx, "running %s", argv[0]);
	pid = fork();
	if (pid == 0)
		exec_child(argv, output_fds[1], report_fds[1], parent);
	error = pid < 0 ? errno : 0;
	close(report_fds[1]);
	close(output_fds[1]);
	output_fds[1] = -1;
	if (!error)
		error = exec_error(report_fds[0]);
	close(report_fds[0]);
	if (error && pid > 0) {
		while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR)
			;
	}
	if (error)
		goto close_output;

	read_all(output_fds[0], output, output_size);
	close(output_fds[0]);
	while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) :
					   128 + WTERMSIG(wait_status);
	return DMT_OK;

close_output:
	close(output_fds[0]);
	if (output_fds[1] >= 0)
		close(output_fds[1]);
	return dmt_fail(ctx, err, DMT_ERR_FAILED, error, "cannot run %s: %s",
			argv[0], strerror(error));
}
