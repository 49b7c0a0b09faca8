// SPDX-License-Identifier: GPL-2.0-or-later
/* dmtool open and dmtool close */
#include "options.h"

#include <string.h>

enum open_option {
	OPT_WATCH = OPT_FIRST_COMMAND_OPTION,
};

static const struct option open_options[] = {
	{ "read-only", no_argument, NULL, 'r' },
	{ "watch", no_argument, NULL, OPT_WATCH },
	{ "guard", no_argument, NULL, OPT_GUARD },
	{ "help", no_argument, NULL, 'h' },
	SHARED_KEY_OPTIONS,
	SHARED_CRYPT_FLAG_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static int run_open(struct cli *cli, int argc, char **argv)
{
	struct dmt_open_params params = { 0 };
	struct key_source key = { 0 };
	struct dmt_crypt_options crypt;
	struct dmt_image_info info;
	struct dmt_secret *passphrase = NULL;
	struct dmt_error err;
	uint32_t flags = 0, flags_set = 0;
	bool watch = false;
	int option, r;

	while ((option = getopt_long(argc, argv, "rh", open_options, NULL)) != -1) {
		if (apply_crypt_flag_option(option, &flags, &flags_set))
			continue;
		switch (option) {
		case 'r':
			params.read_only = true;
			break;
		case OPT_GUARD:
			params.guard = true;
			break;
		case OPT_WATCH:
			watch = true;
			break;
		case OPT_KEY_FILE:
			key.key_file = optarg;
			break;
		case 'h':
			cli_print_help(&command_open, stdout);
			return 0;
		default:
			return cli_usage_error(&command_open, "invalid option");
		}
	}
	if (optind + 2 != argc)
		return cli_usage_error(&command_open, "expected IMAGE and NAME");

	r = dmt_image_info(cli->ctx, argv[optind], &info, &err);
	if (r)
		return cli_report(&err);

	/* Flags given here override the header's for this open only. */
	if (flags_set) {
		crypt = info.crypt;
		crypt.flags = (crypt.flags & ~flags_set) | (flags & flags_set);
		params.crypt = &crypt;
	}
	if (dmt_layout_has_crypt(info.layout)) {
		passphrase = cli_read_passphrase(&key, "Enter passphrase: ", &r);
		if (!passphrase)
			return r;
	}

	r = dmt_open(cli->ctx, argv[optind], argv[optind + 1], &params,
		     passphrase, &err);
	dmt_secret_free(passphrase);
	if (r)
		return cli_report(&err);
	printf("opened %s as /dev/mapper/%s\n", argv[optind], argv[optind + 1]);
	if (watch)
		return cli_start_monitor(argv[optind + 1]);
	cli_warn_unwatched(cli, argv[optind + 1]);
	return DMT_OK;
}

const struct command command_open = {
	.name = "open",
	.run = run_open,
	.summary = "open a volume as /dev/mapper/NAME",
	.help =
"usage: dmtool open IMAGE NAME [options]\n"
"\n"
"Rebuild the volume's stack from IMAGE's header and open it as\n"
"/dev/mapper/NAME. An image already open, or attached to any loop device,\n"
"is rejected.\n"
"\n"
"      --key-file FILE      read the passphrase from FILE, '-' for standard\n"
"                           input; without it, ask on the terminal\n"
"  -r, --read-only          open the loop device read-only\n"
"      --watch              start a monitor ('dmtool watch NAME --daemon')\n"
"                           that grows the pool on demand; its log goes to\n"
"                           /run/dmtool/watch/NAME.log\n"
"      --guard              insert the space-guard target (kernel module)\n"
"      --discards, --no-discards, --no-read-workqueue,\n"
"      --no-write-workqueue, --same-cpu-crypt, --submit-from-crypt-cpus\n"
"                           dm-crypt flags for this open, overriding the\n"
"                           ones stored in the header\n",
};

static const struct option close_options[] = {
	{ "force", no_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int run_close(struct cli *cli, int argc, char **argv)
{
	struct dmt_error err;
	unsigned int flags = 0;
	int option;

	while ((option = getopt_long(argc, argv, "fh", close_options, NULL)) != -1) {
		switch (option) {
		case 'f':
			flags |= DMT_CLOSE_FORCE;
			break;
		case 'h':
			cli_print_help(&command_close, stdout);
			return 0;
		default:
			return cli_usage_error(&command_close, "invalid option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(&command_close, "expected NAME");

	if (dmt_close(cli->ctx, argv[optind], flags, &err))
		return cli_report(&err);
	printf("closed %s\n", argv[optind]);
	return DMT_OK;
}

const struct command command_close = {
	.name = "close",
	.run = run_close,
	.summary = "close an open volume",
	.help =
"usage: dmtool close NAME [--force]\n"
"\n"
"Remove the volume's device-mapper devices, top first; the loop device\n"
"detaches itself. A mounted volume is rejected: unmount it first.\n"
"\n"
"  -f, --force              close even when the pool is out of data space\n"
"                           with writes waiting\n",
};
