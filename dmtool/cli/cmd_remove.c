// SPDX-License-Identifier: GPL-2.0-or-later
/* dmtool remove and dmtool info */
#include "cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>

static const struct option remove_options[] = {
	{ "yes", no_argument, NULL, 'y' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int run_remove(struct cli *cli, int argc, char **argv)
{
	struct dmt_image_info info;
	struct dmt_error err;
	bool yes = false;
	char question[4200];
	int option;

	while ((option = getopt_long(argc, argv, "yh", remove_options, NULL)) != -1) {
		switch (option) {
		case 'y':
			yes = true;
			break;
		case 'h':
			cli_print_help(&command_remove, stdout);
			return 0;
		default:
			return cli_usage_error(&command_remove, "invalid option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(&command_remove, "expected IMAGE");

	if (dmt_image_info(cli->ctx, argv[optind], &info, &err))
		return cli_report(&err);
	snprintf(question, sizeof(question),
		 "Delete volume %s in %s and all data on it?", info.uuid,
		 argv[optind]);
	if (!yes && !cli_confirm(question))
		return cli_error(DMT_ERR_USAGE,
				 "not removing %s: confirm on the terminal or pass --yes",
				 argv[optind]);

	if (dmt_remove(cli->ctx, argv[optind], 0, &err))
		return cli_report(&err);
	printf("removed %s\n", argv[optind]);
	return DMT_OK;
}

const struct command command_remove = {
	.name = "remove",
	.run = run_remove,
	.summary = "close a volume and delete its image",
	.help =
"usage: dmtool remove IMAGE [--yes]\n"
"\n"
"Close the volume if it is open, wipe its header (and the LUKS2 area of the\n"
"crypt and crypt-thin layouts), and delete the image file. On a block\n"
"device, only the wipe happens. Asks for confirmation on the terminal.\n"
"\n"
"  -y, --yes                do not ask for confirmation\n",
};

static void print_info(const char *image, const struct dmt_image_info *info)
{
	char a[32], b[32], c[32];

	printf("image:          %s\n", image);
	printf("uuid:           %s\n", info->uuid);
	printf("layout:         %s\n", dmt_layout_name(info->layout));
	printf("format:         version %u, header generation %" PRIu64 "\n",
	       info->format_version, info->sequence);
	printf("virtual size:   %s\n", dmt_format_size(info->virtual_size, a, sizeof(a)));
	if (dmt_layout_has_thin(info->layout)) {
		printf("data area:      %s of at most %s, chunk %s%s\n",
		       dmt_format_size(info->data_size, a, sizeof(a)),
		       dmt_format_size(info->data_max, b, sizeof(b)),
		       dmt_format_size(info->chunk_size, c, sizeof(c)),
		       info->zero_new_blocks ? ", zeroing new blocks" : "");
		printf("metadata area:  %s\n",
		       dmt_format_size(info->metadata_size, a, sizeof(a)));
	}
	if (dmt_layout_has_crypt(info->layout))
		printf("crypt:          %s, %u-bit key, %u-byte sectors\n",
		       info->crypt.cipher, info->crypt.key_bits,
		       info->crypt.sector_size);
	printf("loop:           %u-byte blocks, %s\n", info->loop_block_size,
	       info->loop_direct_io ? "direct I/O" : "buffered I/O");
}

static json_object *info_json(const char *image,
			      const struct dmt_image_info *info)
{
	json_object *root = json_object_new_object();

	json_object_object_add(root, "image", json_object_new_string(image));
	json_object_object_add(root, "uuid", json_object_new_string(info->uuid));
	json_object_object_add(root, "layout",
			       json_object_new_string(dmt_layout_name(info->layout)));
	json_object_object_add(root, "format_version",
			       json_object_new_int((int)info->format_version));
	json_object_object_add(root, "generation",
			       json_object_new_uint64(info->sequence));
	json_object_object_add(root, "virtual_size",
			       json_object_new_uint64(info->virtual_size));
	json_object_object_add(root, "data_size",
			       json_object_new_uint64(info->data_size));
	json_object_object_add(root, "data_max",
			       json_object_new_uint64(info->data_max));
	json_object_object_add(root, "metadata_size",
			       json_object_new_uint64(info->metadata_size));
	json_object_object_add(root, "chunk_size",
			       json_object_new_uint64(info->chunk_size));
	json_object_object_add(root, "cipher",
			       json_object_new_string(info->crypt.cipher));
	json_object_object_add(root, "key_bits",
			       json_object_new_uint64(info->crypt.key_bits));
	json_object_object_add(root, "crypt_sector_size",
			       json_object_new_uint64(info->crypt.sector_size));
	json_object_object_add(root, "loop_block_size",
			       json_object_new_uint64(info->loop_block_size));
	return root;
}

static const struct option info_options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int run_info(struct cli *cli, int argc, char **argv)
{
	struct dmt_image_info info;
	struct dmt_error err;
	bool json = false;
	int option;

	while ((option = getopt_long(argc, argv, "jh", info_options, NULL)) != -1) {
		switch (option) {
		case 'j':
			json = true;
			break;
		case 'h':
			cli_print_help(&command_info, stdout);
			return 0;
		default:
			return cli_usage_error(&command_info, "invalid option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(&command_info, "expected IMAGE");

	if (dmt_image_info(cli->ctx, argv[optind], &info, &err))
		return cli_report(&err);
	if (json) {
		json_object *root = info_json(argv[optind], &info);

		printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY));
		json_object_put(root);
	} else {
		print_info(argv[optind], &info);
	}
	return DMT_OK;
}

const struct command command_info = {
	.name = "info",
	.run = run_info,
	.summary = "print an image's header",
	.help =
"usage: dmtool info IMAGE [--json]\n"
"\n"
"Print what IMAGE's header records: layout, sizes, chunk, crypt and loop\n"
"settings. Works whether or not the volume is open.\n"
"\n"
"  -j, --json               print JSON (sizes in bytes)\n",
};
