// SPDX-License-Identifier: GPL-2.0-or-later
/* dmtool reclaim */
#include "cli.h"

#include <getopt.h>

static const struct option reclaim_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int run_reclaim(struct cli *cli, int argc, char **argv)
{
	struct dmt_reclaim_result result;
	struct dmt_error err;
	char a[32], b[32], c[32];
	uint64_t shrank;
	int option;

	while ((option = getopt_long(argc, argv, "h", reclaim_options, NULL)) != -1) {
		if (option == 'h') {
			cli_print_help(&command_reclaim, stdout);
			return 0;
		}
		return cli_usage_error(&command_reclaim, "invalid option");
	}
	if (optind + 1 != argc)
		return cli_usage_error(&command_reclaim, "expected NAME");

	if (dmt_reclaim(cli->ctx, argv[optind], &result, &err))
		return cli_report(&err);

	shrank = result.allocated_before > result.allocated_after ?
			 result.allocated_before - result.allocated_after : 0;
	printf("%s: trimmed %s at %s; the image shrank by %s on the host (%s allocated)\n",
	       argv[optind], dmt_format_size(result.trimmed, a, sizeof(a)),
	       result.mountpoint, dmt_format_size(shrank, b, sizeof(b)),
	       dmt_format_size(result.allocated_after, c, sizeof(c)));
	return DMT_OK;
}

const struct command command_reclaim = {
	.name = "reclaim",
	.run = run_reclaim,
	.summary = "give the space of deleted files back to the host",
	.help =
"usage: dmtool reclaim NAME\n"
"\n"
"Trim the free space of the filesystem mounted from the open volume NAME\n"
"(as fstrim does) and report how much the image shrank on the host. The\n"
"discards travel dm-crypt (allow_discards), the thin volume and the pool\n"
"(discard passdown) to the loop device, which punches holes in the image.\n"
"A layer that drops discards is named, and nothing is trimmed.\n"
"Mounting with -o discard gives space back continuously instead.\n",
};
