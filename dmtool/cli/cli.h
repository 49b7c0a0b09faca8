/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The dmtool command: a thin layer over libdmtool. */
#ifndef DMTOOL_CLI_H
#define DMTOOL_CLI_H

#include "dmtool.h"

#include <stdbool.h>
#include <stdio.h>

struct cli {
	struct dmt_context *ctx;
	bool debug;
	const char *program;
};

struct command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *summary;
	const char *help;	/* usage and options, printed by --help */
};

extern const struct command command_create, command_open, command_close,
	command_status, command_remove, command_table, command_check,
	command_info, command_grow, command_watch, command_reclaim,
	command_tune;

/* Prints "dmtool: <message>" to stderr and returns code. */
int cli_error(int code, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
/* Prints the library's error and returns its code. */
int cli_report(const struct dmt_error *err);
/* Prints the command's help to stream. */
void cli_print_help(const struct command *command, FILE *stream);
/* Reports a usage error with a hint to --help. */
int cli_usage_error(const struct command *command, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

int cli_parse_size(const char *option, const char *text, uint64_t *bytes);
int cli_parse_u32(const char *option, const char *text, uint32_t *value);

/* Where the passphrase comes from: a key file, standard input ("-") or,
 * when key_file is NULL, the terminal. */
struct key_source {
	const char *key_file;
	bool confirm;		/* ask twice on a terminal (create) */
};

/* Reads the passphrase into locked memory; returns NULL after printing an
 * error. */
struct dmt_secret *cli_read_passphrase(const struct key_source *source,
				       const char *prompt, int *code);

/* Starts 'dmtool watch NAME --daemon' and waits until it is armed. */
int cli_start_monitor(const char *name);

/* Warns on standard error when no monitor watches the open volume name. */
void cli_warn_unwatched(struct cli *cli, const char *name);

/* Asks "question [y/N]" on the terminal; false without a terminal. */
bool cli_confirm(const char *question);

#endif
