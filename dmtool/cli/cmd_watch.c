// SPDX-License-Identifier: GPL-2.0-or-later
/* dmtool watch: the pool monitor, in the foreground or as a daemon. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum watch_option {
	OPT_STEP = 1000,
	OPT_RESERVE,
	OPT_LOW_WATER,
	OPT_MAX,
	OPT_INTERVAL,
	OPT_DAEMON,
	OPT_LOG,
};

static const struct option watch_options[] = {
	{ "step", required_argument, NULL, OPT_STEP },
	{ "reserve", required_argument, NULL, OPT_RESERVE },
	{ "low-water", required_argument, NULL, OPT_LOW_WATER },
	{ "max", required_argument, NULL, OPT_MAX },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "daemon", no_argument, NULL, OPT_DAEMON },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void log_line(enum dmt_log_level level, const char *message, void *data)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char stamp[32];
	struct timespec now;
	struct tm tm;

	(void)data;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ dmtool watch %s: %s\n", stamp,
		now.tv_nsec / 1000000, names[level], message);
	fflush(stderr);
}

static void notify_armed(void *data)
{
	int fd = *(int *)data;

	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			return;
		close(fd);
		*(int *)data = -1;
	}
}

/* Blocks the stop signals and returns a descriptor that reads them. */
static int stop_signals(void)
{
	sigset_t signals;

	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &signals, NULL) != 0)
		return -1;
	return signalfd(-1, &signals, SFD_CLOEXEC);
}

static int parse_policy_value(const char *option, const char *text,
			      uint64_t *bytes, uint32_t *percent)
{
	if (dmt_parse_size_or_percent(text, bytes, percent) != DMT_OK)
		return cli_error(DMT_ERR_USAGE,
				 "invalid value '%s' for %s: give a size such as 256M or a percentage such as 10%%",
				 text, option);
	return DMT_OK;
}

static int parse_watch(int argc, char **argv, struct dmt_watch_params *params,
		       bool *daemon, const char **log_file)
{
	uint64_t unused;
	int option, r = DMT_OK;

	while ((option = getopt_long(argc, argv, "h", watch_options, NULL)) != -1) {
		switch (option) {
		case OPT_STEP:
			r = parse_policy_value("--step", optarg,
					       &params->policy.step_bytes,
					       &params->policy.step_percent);
			break;
		case OPT_RESERVE:
			r = parse_policy_value("--reserve", optarg,
					       &params->policy.reserve_bytes,
					       &params->policy.reserve_percent);
			break;
		case OPT_LOW_WATER:
			r = parse_policy_value("--low-water", optarg, &unused,
					       &params->policy.low_water_percent);
			if (!r && !params->policy.low_water_percent)
				r = cli_error(DMT_ERR_USAGE, "--low-water takes a percentage such as 20%%");
			break;
		case OPT_MAX:
			r = cli_parse_size("--max", optarg, &params->max_bytes);
			break;
		case OPT_INTERVAL:
			r = cli_parse_u32("--interval", optarg, &params->recheck_seconds);
			if (!r && params->recheck_seconds == 0)
				r = cli_error(DMT_ERR_USAGE, "--interval must be at least 1 second");
			break;
		case OPT_DAEMON:
			*daemon = true;
			break;
		case OPT_LOG:
			*log_file = optarg;
			break;
		case 'h':
			cli_print_help(&command_watch, stdout);
			return -1;
		default:
			return cli_usage_error(&command_watch, "invalid option");
		}
		if (r)
			return r;
	}
	if (optind >= argc)
		return cli_usage_error(&command_watch, "expected at least one NAME");
	params->names = (const char *const *)(argv + optind);
	params->count = (size_t)(argc - optind);
	return DMT_OK;
}

static int redirect_output(const char *log_file)
{
	int fd = open(log_file ? log_file : "/dev/null",
		      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	return 0;
}

/* Forks the monitor into the background; the parent returns once the
 * monitor is armed, or with its error. */
static int daemonize(const char *log_file, int *armed_fd)
{
	int fds[2];
	char byte;
	pid_t pid;
	int status;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return cli_error(DMT_ERR_FAILED, "cannot create a pipe: %s", strerror(errno));

	pid = fork();
	if (pid < 0)
		return cli_error(DMT_ERR_FAILED, "cannot fork the monitor: %s", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		if (setsid() < 0 || fork() != 0)
			_exit(0);
		if (redirect_output(log_file) != 0)
			_exit(DMT_ERR_FAILED);
		*armed_fd = fds[1];
		return -1;	/* the caller continues as the monitor */
	}

	close(fds[1]);
	waitpid(pid, &status, 0);
	if (read(fds[0], &byte, 1) == 1) {
		close(fds[0]);
		return DMT_OK;
	}
	close(fds[0]);
	return cli_error(DMT_ERR_FAILED,
			 "the monitor did not start; see %s",
			 log_file ? log_file : "its log");
}

static int run_watch(struct cli *cli, int argc, char **argv)
{
	struct dmt_watch_params params = { .stop_fd = -1 };
	struct dmt_error err;
	const char *log_file = NULL;
	bool daemon = false;
	int armed_fd = -1;
	int r;

	r = parse_watch(argc, argv, &params, &daemon, &log_file);
	if (r)
		return r < 0 ? 0 : r;

	if (daemon) {
		r = daemonize(log_file, &armed_fd);
		if (r >= 0) {
			if (!r)
				printf("monitor armed for %s%s%s\n", params.names[0],
				       log_file ? ", logging to " : "",
				       log_file ? log_file : "");
			return r;
		}
	}

	params.stop_fd = stop_signals();
	if (params.stop_fd < 0)
		return cli_error(DMT_ERR_FAILED, "cannot set up signal handling: %s",
				 strerror(errno));
	params.armed = notify_armed;
	params.user_data = &armed_fd;
	dmt_context_set_log(cli->ctx, log_line,
			    cli->debug ? DMT_LOG_DEBUG : DMT_LOG_INFO, NULL);

	r = dmt_watch(cli->ctx, &params, &err);
	close(params.stop_fd);
	if (r)
		return cli_report(&err);
	return DMT_OK;
}

const struct command command_watch = {
	.name = "watch",
	.run = run_watch,
	.summary = "grow pools on demand (long-running monitor)",
	.help =
"usage: dmtool watch NAME... [options]\n"
"\n"
"Watch the named volumes, open or not, until SIGTERM or SIGINT. The\n"
"monitor sleeps on device-mapper events (a pool crossing its low water\n"
"mark) and checks each volume at start-up, after every event and growth,\n"
"and every --interval seconds. A pool whose free data space falls below\n"
"the low water mark grows by the step, never beyond its maximum and never\n"
"into the host filesystem's reserve. Every event, growth, refusal and\n"
"error is logged with the volume name and the numbers. Policy options\n"
"override the image header's for this run.\n"
"\n"
"      --step SIZE|PCT      grow by this much (header default: 50%; at\n"
"                           least 128 MiB)\n"
"      --low-water PCT      grow when free data space falls below this\n"
"                           share of the area (at least 256 MiB)\n"
"      --reserve SIZE|PCT   host free space never to grow into\n"
"      --max SIZE           never grow the data area beyond SIZE\n"
"      --interval SECONDS   time between checks without events (default 10)\n"
"      --daemon             run in the background; returns once armed\n"
"      --log FILE           append the log to FILE (with --daemon; the\n"
"                           default is standard error)\n"
"\n"
"Under systemd, use the dmtool-watch@NAME.service unit.\n",
};
