// SPDX-License-Identifier: LGPL-2.1-or-later
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

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

int process_capture(struct dmt_context *ctx, char *const argv[], char *output,
		  size_t output_size, int *status, struct dmt_error *err)
{
	posix_spawn_file_actions_t actions;
	int pipe_fds[2];
	int wait_status;
	pid_t pid;
	int r;

	if (pipe2(pipe_fds, O_CLOEXEC) != 0)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, errno,
				"cannot create a pipe for %s", argv[0]);

	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
					 O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
	log_debug(ctx, "running %s", argv[0]);
	r = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	close(pipe_fds[1]);
	if (r != 0) {
		close(pipe_fds[0]);
		return dmt_fail(ctx, err, DMT_ERR_FAILED, r,
				"cannot run %s: %s", argv[0], strerror(r));
	}

	read_all(pipe_fds[0], output, output_size);
	close(pipe_fds[0]);
	while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR)
		;
	*status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) :
					   128 + WTERMSIG(wait_status);
	return DMT_OK;
}
