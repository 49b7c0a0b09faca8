// SPDX-License-Identifier: GPL-2.0-or-later
/* dmtool grow */
#include "cli.h"

#include <getopt.h>

static const struct option grow_options[] = {
	{ "by", required_argument, NULL, 'b' },
	{ "to", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int run_grow(struct cli *cli, int argc, char **argv)
{
	struct dmt_grow_params params = { 0 };
	struct dmt_grow_result result;
	struct dmt_error err;
	char before[32], after[32];
	int option, r;

	while ((option = getopt_long(argc, argv, "b:t:h", grow_options, NULL)) != -1) {
		switch (option) {
		case 'b':
			r = cli_parse_size("--by", optarg, &params.by);
			if (r)
				return r;
			break;
		case 't':
			r = cli_parse_size("--to", optarg, &params.to);
			if (r)
				return r;
			break;
		case 'h':
			cli_print_help(&command_grow, stdout);
			return 0;
		default:
			return cli_usage_error(&command_grow, "invalid option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(&command_grow, "expected NAME");
	if ((params.by == 0) == (params.to == 0))
		return cli_usage_error(&command_grow, "give one of --by SIZE and --to SIZE");

	if (dmt_grow(cli->ctx, argv[optind], &params, &result, &err))
		return cli_report(&err);
	printf("%s: data area %s -> %s%s%s\n", argv[optind],
	       dmt_format_size(result.old_size, before, sizeof(before)),
	       dmt_format_size(result.new_size, after, sizeof(after)),
	       result.filesystem_grown ? ", grew the " : "",
	       result.filesystem_grown ? result.filesystem : "");
	return DMT_OK;
}

const struct command command_grow = {
	.name = "grow",
	.run = run_grow,
	.summary = "grow an open volume's data area",
	.help =
"usage: dmtool grow NAME (--by SIZE | --to SIZE)\n"
"\n"
"Grow the data area of the open volume NAME online, in this order: extend\n"
"the backing file, set the loop device's capacity, record the new size in\n"
"the header, reload the data area and the pool. In grow-fs mode the thin\n"
"volume, the crypt mapping and a mounted ext4 or xfs filesystem follow;\n"
"in the crypt layout, the crypt mapping does. Each layer's size is checked\n"
"before the next step. Sizes round up to the chunk and crypt sector.\n"
"\n"
"A size beyond what the host filesystem can back, less the reserve, is\n"
"rejected (exit status 6). Running grow again with the same --to size\n"
"finishes a growth that was interrupted.\n"
"\n"
"  -b, --by SIZE            grow by SIZE\n"
"  -t, --to SIZE            grow to a data area of SIZE\n",
};
