// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dmtool: encrypted volumes that grow on demand on a sparse file or block
 * device, built through device-mapper. Each command is a thin layer over
 * one libdmtool call; see 'dmtool help'.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const struct command *const commands[] = {
	&command_create, &command_open,	 &command_close, &command_status,
	&command_grow,	 &command_watch, &command_reclaim, &command_remove,
	&command_table,	 &command_check, &command_info, &command_tune,
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *stream)
{
	fprintf(stream,
		"usage: dmtool [--debug] COMMAND [ARGS]\n"
		"\n"
		"Encrypted, thin-provisioned volumes on a sparse file or block device.\n"
		"\n"
		"commands:\n");
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		fprintf(stream, "  %-10s %s\n", commands[i]->name,
			commands[i]->summary);
	fprintf(stream,
		"\n"
		"'dmtool COMMAND --help' describes a command's options.\n"
		"\n"
		"exit status:\n"
		"  0  success\n"
		"  1  the operation failed\n"
		"  2  invalid arguments\n"
		"  3  image missing, unreadable, corrupt or not a dmtool image\n"
		"  4  wrong passphrase or unreadable key file\n"
		"  5  name, image or device already in use\n"
		"  6  not enough space on the host\n"
		"  7  the kernel lacks device-mapper or a needed target\n"
		"  8  no open volume of that name\n"
		"  9  the volume's state does not allow the operation\n");
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < COMMAND_COUNT; i++) {
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	}
	return NULL;
}

static void print_debug(enum dmt_log_level level, const char *message,
			void *data)
{
	static const char *const names[] = { "error", "warning", "info",
					     "debug" };

	(void)data;
	fprintf(stderr, "dmtool %s: %s\n", names[level], message);
}

int main(int argc, char **argv)
{
	const struct command *command;
	struct cli cli = { .program = argv[0] };
	int first = 1;
	int r;

	while (first < argc && argv[first][0] == '-') {
		if (strcmp(argv[first], "--debug") == 0 ||
		    strcmp(argv[first], "-d") == 0) {
			cli.debug = true;
		} else if (strcmp(argv[first], "--version") == 0) {
			printf("dmtool %s\n", DMT_VERSION);
			return 0;
		} else if (strcmp(argv[first], "--help") == 0 ||
			   strcmp(argv[first], "-h") == 0) {
			print_usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "dmtool: unknown option '%s'\n", argv[first]);
			print_usage(stderr);
			return DMT_ERR_USAGE;
		}
		first++;
	}
	if (first >= argc) {
		print_usage(stderr);
		return DMT_ERR_USAGE;
	}

	if (strcmp(argv[first], "help") == 0) {
		command = first + 1 < argc ? find_command(argv[first + 1]) : NULL;
		if (command)
			cli_print_help(command, stdout);
		else
			print_usage(stdout);
		return 0;
	}

	command = find_command(argv[first]);
	if (!command) {
		fprintf(stderr, "dmtool: unknown command '%s'\n", argv[first]);
		print_usage(stderr);
		return DMT_ERR_USAGE;
	}

	cli.ctx = dmt_context_new();
	if (!cli.ctx)
		return cli_error(DMT_ERR_FAILED, "out of memory");
	if (getenv("DMTOOL_DEBUG"))
		cli.debug = true;
	if (cli.debug)
		dmt_context_set_log(cli.ctx, print_debug, DMT_LOG_DEBUG, NULL);

	/* getopt_long in each command starts after the command name. */
	optind = 1;
	r = command->run(&cli, argc - first, argv + first);
	dmt_context_free(cli.ctx);
	return r;
}
