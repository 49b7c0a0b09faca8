// SPDX-License-Identifier: GPL-2.0-or-later
/* Starting a background monitor for 'open --watch' and 'create --watch'. */
#include "cli.h"

#include <errno.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

extern char **environ;

int cli_start_monitor(const char *name)
{
	char log_file[4200];
	char *argv[] = { "dmtool", "watch", (char *)name, "--daemon", "--log",
			 log_file, NULL };
	pid_t pid;
	int status, r;

	snprintf(log_file, sizeof(log_file), "%s", dmt_run_dir());
	(void)mkdir(log_file, 0755);
	snprintf(log_file, sizeof(log_file), "%s/watch", dmt_run_dir());
	(void)mkdir(log_file, 0755);
	snprintf(log_file, sizeof(log_file), "%s/watch/%s.log", dmt_run_dir(),
		 name);

	r = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ);
	if (r != 0)
		return cli_error(DMT_ERR_FAILED, "cannot start the monitor for %s: %s",
				 name, strerror(r));
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return cli_error(DMT_ERR_FAILED,
				 "the monitor for %s did not start; see %s", name,
				 log_file);
	return DMT_OK;
}

void cli_warn_unwatched(struct cli *cli, const char *name)
{
	struct dmt_volume_status status;
	struct dmt_error err;
	char size[32];

	if (dmt_status(cli->ctx, name, &status, &err) != DMT_OK ||
	    status.monitor_armed)
		return;
	if (dmt_layout_has_thin(status.layout) ||
	    status.growth.grow_fs)
		fprintf(stderr,
			"dmtool: warning: no monitor watches %s: its data area stays at %s and writes fail with ENOSPC once it is full; run 'dmtool watch %s' or open with --watch\n",
			name, dmt_format_size(status.data_total, size, sizeof(size)),
			name);
}
