// SPDX-License-Identifier: LGPL-2.1-or-later
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

bool process_find(const char *name, char *path, size_t size)
{
	const char *search = getenv("PATH");

	if (strchr(name, '/')) {
		snprintf(path, size, "%s", name);
		return access(path, X_OK) == 0;
	}
	if (!search)
		return false;
	while (*search) {
		size_t length = strcspn(search, ":");

		if (length > 0 && length + strlen(name) + 2 <= size) {
			snprintf(path, size, "%.*s/%s", (int)length, search, name);
			if (access(path, X_OK) == 0)
				return true;
		}
		search += length;
		if (*search == ':')
			search++;
	}
	return false;
}

/* Reads the pipe until the tool closes it. Once *cancel is set, the tool
 * gets SIGINT, so it stops early and still reports what it did. */
static void read_all(int fd, char *output, size_t size, pid_t pid,
		     const volatile sig_atomic_t *cancel)
{
	bool signalled = false;
	size_t used = 0;

	for (;;) {
		ssize_t got = read(fd, output + used, size - 1 - used);

		if (got < 0 && errno == EINTR) {
			if (cancel && *cancel && !signalled) {
				kill(pid, SIGINT);
				signalled = true;
			}
			continue;
		}
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

/* Moves fd above standard input, output and error, so the child's dup2
 * calls never overwrite it. */
static int above_stdio(int *fd)
{
	int moved;

	if (*fd > STDERR_FILENO)
		return 0;
	moved = fcntl(*fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
	if (moved < 0)
		return errno;
	close(*fd);
	*fd = moved;
	return 0;
}

static int make_pipe(int fds[2])
{
	int r;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return errno;
	r = above_stdio(&fds[0]);
	if (!r)
		r = above_stdio(&fds[1]);
	if (r) {
		close(fds[0]);
		close(fds[1]);
	}
	return r;
}

/* In the child, which calls only async-signal-safe functions: output to
 * the pipe, input from /dev/null, and death with the parent, so a killed
 * dmtool leaves no tool running on its devices. Reports an exec failure's
 * errno through report_fd. */
static void exec_child(const char *path, char *const argv[], int output_fd,
		       int report_fd, pid_t parent)
{
	int null_fd, error;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 ||
	    dup2(output_fd, STDOUT_FILENO) < 0 ||
	    dup2(output_fd, STDERR_FILENO) < 0) {
		error = errno;
	} else {
		execv(path, argv);
		error = errno;
	}
	if (write(report_fd, &error, sizeof(error)) < 0)
		_exit(127);
	_exit(127);
}

/* Returns the errno the child reported for a failed exec, or 0 when the
 * exec succeeded and closed the pipe without writing to it. */
static int exec_error(int report_fd)
{
	int error = 0;
	ssize_t got;

	do
		got = read(report_fd, &error, sizeof(error));
	while (got < 0 && errno == EINTR);
	return got == (ssize_t)sizeof(error) ? error : 0;
}

/* Waits for the child and returns 0 with its status, or the errno of
 * waitpid (ECHILD when the caller ignores SIGCHLD). */
static int wait_child(pid_t pid, int *wait_status)
{
	while (waitpid(pid, wait_status, 0) < 0) {
		if (errno != EINTR)
			return errno;
	}
	return 0;
}

int process_capture(struct dmt_context *ctx, char *const argv[], char *output,
		    size_t output_size, const volatile sig_atomic_t *cancel,
		    int *status, struct dmt_error *err)
{
	int output_fds[2], report_fds[2];
	pid_t parent = getpid(), pid;
	char path[PATH_MAX];
	int wait_status, error;

	if (!process_find(argv[0], path, sizeof(path)))
		return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOENT,
				"cannot run %s: not found in PATH", argv[0]);
	error = make_pipe(output_fds);
	if (error)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, error,
				"cannot create a pipe for %s: %s", argv[0],
				strerror(error));
	error = make_pipe(report_fds);
	if (error)
		goto close_output;

	log_debug(ctx, "running %s", path);
	pid = fork();
	if (pid == 0)
		exec_child(path, argv, output_fds[1], report_fds[1], parent);
	error = pid < 0 ? errno : 0;
	close(report_fds[1]);
	close(output_fds[1]);
	output_fds[1] = -1;
	if (!error)
		error = exec_error(report_fds[0]);
	close(report_fds[0]);
	if (error && pid > 0)
		wait_child(pid, &wait_status);
	if (error)
		goto close_output;

	read_all(output_fds[0], output, output_size, pid, cancel);
	close(output_fds[0]);
	error = wait_child(pid, &wait_status);
	if (error)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, error,
				"cannot wait for %s: %s", argv[0], strerror(error));
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
