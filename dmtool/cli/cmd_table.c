// SPDX-License-Identifier: GPL-2.0-or-later
/* dmtool table: the device-mapper tables of a volume, keys masked. */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <string.h>

static const struct option table_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void print_plan(const struct dmt_table_plan *plan)
{
	for (size_t i = 0; i < plan->device_count; i++) {
		const struct dmt_table_device *device = &plan->devices[i];

		for (size_t t = 0; t < device->target_count; t++) {
			const struct dmt_target_line *line = &device->targets[t];

			printf("%s: %" PRIu64 " %" PRIu64 " %s %s\n",
			       device->name, line->start, line->length,
			       line->type, line->params);
		}
	}
}

static int run_table(struct cli *cli, int argc, char **argv)
{
	struct dmt_table_plan plan;
	struct dmt_error err;
	int option, r;

	while ((option = getopt_long(argc, argv, "h", table_options, NULL)) != -1) {
		if (option == 'h') {
			cli_print_help(&command_table, stdout);
			return 0;
		}
		return cli_usage_error(&command_table, "invalid option");
	}

	if (optind + 1 == argc)
		r = dmt_table_for_volume(cli->ctx, argv[optind], &plan, &err);
	else if (optind + 2 == argc)
		r = dmt_table_for_image(cli->ctx, argv[optind], argv[optind + 1],
					&plan, &err);
	else
		return cli_usage_error(&command_table,
				       "expected NAME of an open volume, or IMAGE and NAME");
	if (r)
		return cli_report(&err);

	print_plan(&plan);
	dmt_table_plan_free(&plan);
	return DMT_OK;
}

const struct command command_table = {
	.name = "table",
	.run = run_table,
	.summary = "print the device-mapper tables of a volume",
	.help =
"usage: dmtool table NAME\n"
"       dmtool table IMAGE NAME\n"
"\n"
"Print one line per device, 'NAME: start length target arguments', in the\n"
"order the devices are created, with the volume key shown as zeros.\n"
"\n"
"With the NAME of an open volume, devices are given as major:minor, as\n"
"'dmsetup table' prints them, so the two can be compared. With IMAGE and\n"
"NAME, this is a dry run of 'dmtool open IMAGE NAME': devices are given by\n"
"path, and /dev/loopX stands for the loop device open would attach.\n",
};

static const struct option check_options[] = {
	{ "key-file", required_argument, NULL, 'k' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int run_check(struct cli *cli, int argc, char **argv)
{
	struct key_source key = { 0 };
	struct dmt_check_result result;
	struct dmt_secret *passphrase = NULL;
	struct dmt_image_info info;
	struct dmt_error err;
	int option, r;

	while ((option = getopt_long(argc, argv, "h", check_options, NULL)) != -1) {
		switch (option) {
		case 'k':
			key.key_file = optarg;
			break;
		case 'h':
			cli_print_help(&command_check, stdout);
			return 0;
		default:
			return cli_usage_error(&command_check, "invalid option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(&command_check, "expected IMAGE");

	if (dmt_image_info(cli->ctx, argv[optind], &info, &err))
		return cli_report(&err);
	printf("header: ok (%s volume %s, generation %" PRIu64 ")\n",
	       dmt_layout_name(info.layout), info.uuid, info.sequence);
	if (info.layout == DMT_LAYOUT_CRYPT_THIN) {
		passphrase = cli_read_passphrase(&key, "Enter passphrase: ", &r);
		if (!passphrase)
			return r;
	}

	r = dmt_check(cli->ctx, argv[optind], passphrase, &result, &err);
	dmt_secret_free(passphrase);
	if (r)
		return cli_report(&err);
	if (!result.thin_check_run) {
		printf("metadata: none (layout %s has no thin pool)\n",
		       dmt_layout_name(info.layout));
		return DMT_OK;
	}
	fputs(result.thin_check_output, stdout);
	if (result.thin_check_status != 0)
		return cli_error(DMT_ERR_IMAGE,
				 "%s: thin_check found errors in the pool metadata (exit status %d); see its output above",
				 argv[optind], result.thin_check_status);
	printf("metadata: ok (thin_check passed)\n");
	return DMT_OK;
}

const struct command command_check = {
	.name = "check",
	.run = run_check,
	.summary = "verify the header and the pool metadata",
	.help =
"usage: dmtool check IMAGE [--key-file FILE]\n"
"\n"
"Verify the image header's checksums and fields, then run thin_check on\n"
"the pool metadata through a read-only device. The volume must be closed.\n"
"The crypt-thin layout encrypts its metadata, so it needs the passphrase.\n"
"\n"
"      --key-file FILE      read the passphrase from FILE, '-' for standard\n"
"                           input; without it, ask on the terminal\n",
};
