// SPDX-License-Identifier: GPL-2.0-or-later
/* Messages, argument parsing and confirmation shared by the commands. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_error(int code, const char *format, ...)
{
	va_list args;

	fputs("dmtool: ", stderr);
	va_start(args, format);
	vfprintf(stderr, format, args);
	va_end(args);
	fputc('\n', stderr);
	return code;
}

int cli_report(const struct dmt_error *err)
{
	return cli_error(err->code ? (int)err->code : DMT_ERR_FAILED, "%s",
			 err->message[0] ? err->message : "operation failed");
}

void cli_print_help(const struct command *command, FILE *stream)
{
	fprintf(stream, "%s", command->help);
}

int cli_usage_error(const struct command *command, const char *format, ...)
{
	va_list args;

	fputs("dmtool: ", stderr);
	va_start(args, format);
	vfprintf(stderr, format, args);
	va_end(args);
	fprintf(stderr, "\nTry 'dmtool %s --help'.\n", command->name);
	return DMT_ERR_USAGE;
}

int cli_parse_size(const char *option, const char *text, uint64_t *bytes)
{
	if (dmt_parse_size(text, bytes) != DMT_OK)
		return cli_error(DMT_ERR_USAGE,
				 "invalid size '%s' for %s: give bytes or a number with a unit, such as 512M, 10G or 1.5T",
				 text, option);
	return DMT_OK;
}

int cli_parse_u32(const char *option, const char *text, uint32_t *value)
{
	char *end;
	unsigned long parsed;

	errno = 0;
	parsed = strtoul(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' ||
	    parsed > UINT32_MAX)
		return cli_error(DMT_ERR_USAGE,
				 "invalid number '%s' for %s", text, option);
	*value = (uint32_t)parsed;
	return DMT_OK;
}

bool cli_confirm(const char *question)
{
	char answer[16];
	FILE *tty = fopen("/dev/tty", "r+");
	bool yes = false;

	if (!tty)
		return false;
	fprintf(tty, "%s [y/N] ", question);
	fflush(tty);
	if (fgets(answer, sizeof(answer), tty))
		yes = answer[0] == 'y' || answer[0] == 'Y';
	fclose(tty);
	return yes;
}
