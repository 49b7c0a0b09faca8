// SPDX-License-Identifier: GPL-2.0-or-later
/* dmtool create */
#include "options.h"

#include <string.h>

enum create_option {
	OPT_INITIAL = OPT_FIRST_COMMAND_OPTION,
	OPT_MAX,
	OPT_CHUNK_SIZE,
	OPT_OPEN,
	OPT_LOOP_BLOCK_SIZE,
	OPT_NO_DIRECT_IO,
	OPT_ZERO,
	OPT_GROW_STEP,
	OPT_RESERVE,
	OPT_LOW_WATER,
	OPT_GROW_FS,
	OPT_FORCE,
	OPT_WATCH,
};

static const struct option create_options[] = {
	{ "size", required_argument, NULL, 's' },
	{ "layout", required_argument, NULL, 'l' },
	{ "initial", required_argument, NULL, OPT_INITIAL },
	{ "max", required_argument, NULL, OPT_MAX },
	{ "chunk-size", required_argument, NULL, OPT_CHUNK_SIZE },
	{ "open", required_argument, NULL, OPT_OPEN },
	{ "cipher", required_argument, NULL, OPT_CIPHER },
	{ "key-size", required_argument, NULL, OPT_KEY_SIZE },
	{ "sector-size", required_argument, NULL, OPT_SECTOR_SIZE },
	{ "loop-block-size", required_argument, NULL, OPT_LOOP_BLOCK_SIZE },
	{ "no-direct-io", no_argument, NULL, OPT_NO_DIRECT_IO },
	{ "zero", no_argument, NULL, OPT_ZERO },
	{ "pbkdf", required_argument, NULL, OPT_PBKDF },
	{ "pbkdf-memory", required_argument, NULL, OPT_PBKDF_MEMORY },
	{ "pbkdf-iterations", required_argument, NULL, OPT_PBKDF_ITERATIONS },
	{ "iter-time", required_argument, NULL, OPT_ITER_TIME },
	{ "grow-step", required_argument, NULL, OPT_GROW_STEP },
	{ "reserve", required_argument, NULL, OPT_RESERVE },
	{ "low-water", required_argument, NULL, OPT_LOW_WATER },
	{ "grow-fs", no_argument, NULL, OPT_GROW_FS },
	{ "guard", no_argument, NULL, OPT_GUARD },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "watch", no_argument, NULL, OPT_WATCH },
	{ "help", no_argument, NULL, 'h' },
	SHARED_KEY_OPTIONS,
	SHARED_CRYPT_FLAG_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

struct create_request {
	struct dmt_create_params params;
	struct key_source key;
	const char *open_name;
	const char *layout_name;
	uint32_t flags_set;
	bool size_given;
	bool watch;
};

static int parse_percent(const char *option, const char *text,
			 uint32_t *percent)
{
	uint64_t bytes;

	if (dmt_parse_size_or_percent(text, &bytes, percent) != DMT_OK ||
	    *percent == 0)
		return cli_error(DMT_ERR_USAGE,
				 "invalid percentage '%s' for %s: give 1%% to 100%%",
				 text, option);
	return DMT_OK;
}

static int parse_size_or_percent(const char *option, const char *text,
				 uint64_t *bytes, uint32_t *percent)
{
	if (dmt_parse_size_or_percent(text, bytes, percent) != DMT_OK)
		return cli_error(DMT_ERR_USAGE,
				 "invalid value '%s' for %s: give a size such as 256M or a percentage such as 10%%",
				 text, option);
	return DMT_OK;
}

/* Options that need more than a flag; returns -1 for unknown options. */
static int parse_value_option(struct create_request *request, int option,
			      const char *value)
{
	struct dmt_create_params *p = &request->params;
	uint64_t bytes;
	int r;

	switch (option) {
	case 's':
		request->size_given = true;
		return cli_parse_size("--size", value, &p->virtual_size);
	case 'l':
		request->layout_name = value;
		return DMT_OK;
	case OPT_INITIAL:
		return cli_parse_size("--initial", value, &p->initial_size);
	case OPT_MAX:
		return cli_parse_size("--max", value, &p->max_size);
	case OPT_CHUNK_SIZE:
		r = cli_parse_size("--chunk-size", value, &bytes);
		if (!r && bytes > UINT32_MAX)
			r = cli_error(DMT_ERR_USAGE, "invalid chunk size '%s': at most 1G", value);
		p->chunk_size = (uint32_t)bytes;
		return r;
	case OPT_CIPHER:
		if (strlen(value) >= sizeof(p->crypt.cipher))
			return cli_error(DMT_ERR_USAGE, "cipher name '%s' is too long", value);
		strcpy(p->crypt.cipher, value);
		return DMT_OK;
	case OPT_KEY_SIZE:
		return cli_parse_u32("--key-size", value, &p->crypt.key_bits);
	case OPT_SECTOR_SIZE:
		return cli_parse_u32("--sector-size", value, &p->crypt.sector_size);
	case OPT_LOOP_BLOCK_SIZE:
		return cli_parse_u32("--loop-block-size", value, &p->loop_block_size);
	case OPT_PBKDF:
		if (strlen(value) >= sizeof(p->pbkdf.type))
			return cli_error(DMT_ERR_USAGE, "invalid pbkdf '%s'", value);
		strcpy(p->pbkdf.type, value);
		return DMT_OK;
	case OPT_PBKDF_MEMORY:
		return cli_parse_u32("--pbkdf-memory", value, &p->pbkdf.memory_kib);
	case OPT_PBKDF_ITERATIONS:
		return cli_parse_u32("--pbkdf-iterations", value, &p->pbkdf.iterations);
	case OPT_ITER_TIME:
		return cli_parse_u32("--iter-time", value, &p->pbkdf.iter_time_ms);
	case OPT_GROW_STEP:
		return parse_size_or_percent("--grow-step", value,
					     &p->growth.step_bytes,
					     &p->growth.step_percent);
	case OPT_RESERVE:
		return parse_size_or_percent("--reserve", value,
					     &p->growth.reserve_bytes,
					     &p->growth.reserve_percent);
	case OPT_LOW_WATER:
		return parse_percent("--low-water", value,
				     &p->growth.low_water_percent);
	case OPT_OPEN:
		request->open_name = value;
		return DMT_OK;
	case OPT_KEY_FILE:
		request->key.key_file = value;
		return DMT_OK;
	}
	return -1;
}

static int parse_flag_option(struct create_request *request, int option)
{
	struct dmt_create_params *p = &request->params;

	if (apply_crypt_flag_option(option, &p->crypt.flags, &request->flags_set))
		return DMT_OK;

	switch (option) {
	case OPT_NO_DIRECT_IO:
		p->loop_direct_io = false;
		return DMT_OK;
	case OPT_ZERO:
		p->zero_new_blocks = true;
		return DMT_OK;
	case OPT_GROW_FS:
		p->growth.grow_fs = true;
		return DMT_OK;
	case OPT_GUARD:
		p->guard = true;
		return DMT_OK;
	case OPT_FORCE:
		p->force = true;
		return DMT_OK;
	case OPT_WATCH:
		request->watch = true;
		return DMT_OK;
	}
	return -1;
}

static int parse_create(int argc, char **argv, struct create_request *request,
			const char **image)
{
	enum dmt_layout layout = DMT_LAYOUT_THIN_CRYPT;
	int option, r;

	memset(request, 0, sizeof(*request));
	/* The defaults do not depend on the layout, which is applied after
	 * parsing so that option order does not matter. */
	dmt_create_params_init(&request->params, layout);
	request->key.confirm = true;

	while ((option = getopt_long(argc, argv, "s:l:h", create_options,
				     NULL)) != -1) {
		if (option == 'h') {
			cli_print_help(&command_create, stdout);
			return -1;
		}
		if (option == '?')
			return cli_usage_error(&command_create, "invalid option");
		r = optarg ? parse_value_option(request, option, optarg) :
			     parse_flag_option(request, option);
		if (r)
			return r > 0 ? r : cli_usage_error(&command_create, "invalid option");
	}

	if (request->layout_name &&
	    dmt_layout_parse(request->layout_name, &layout) != DMT_OK)
		return cli_usage_error(&command_create,
				       "unknown layout '%s': use thin-crypt, crypt-thin, crypt or thin",
				       request->layout_name);
	request->params.layout = layout;
	if (request->params.initial_size && !dmt_layout_has_thin(layout))
		fprintf(stderr,
			"dmtool: warning: --initial sizes a thin pool's data area; the %s layout has none, so its data area is --size and grows with 'dmtool grow'\n",
			dmt_layout_name(layout));

	if (optind + 1 != argc)
		return cli_usage_error(&command_create,
				       optind >= argc ? "missing IMAGE" :
							"too many arguments");
	if (request->watch && !request->open_name)
		return cli_usage_error(&command_create, "--watch needs --open NAME");
	if (!request->size_given)
		return cli_usage_error(&command_create,
				       "missing --size: give the volume size users see, such as 10G");
	*image = argv[optind];
	return DMT_OK;
}

static void print_created(const char *image, const char *open_name,
			  struct dmt_context *ctx)
{
	struct dmt_image_info info;
	struct dmt_error err;
	char size[32], data[32], max[32], metadata[32];

	if (dmt_image_info(ctx, image, &info, &err) != DMT_OK) {
		printf("created %s\n", image);
		return;
	}
	dmt_format_size(info.virtual_size, size, sizeof(size));
	dmt_format_size(info.data_size, data, sizeof(data));
	dmt_format_size(info.data_max, max, sizeof(max));
	dmt_format_size(info.metadata_size, metadata, sizeof(metadata));
	printf("created %s: %s volume %s, %s\n", image,
	       dmt_layout_name(info.layout), info.uuid, size);
	if (dmt_layout_has_thin(info.layout))
		printf("  pool data area %s (grows up to %s), metadata %s preallocated\n",
		       data, max, metadata);
	if (open_name)
		printf("  open as /dev/mapper/%s\n", open_name);
}

static int run_create(struct cli *cli, int argc, char **argv)
{
	struct create_request request;
	struct dmt_secret *passphrase = NULL;
	struct dmt_error err;
	const char *image = NULL;
	int r;

	r = parse_create(argc, argv, &request, &image);
	if (r)
		return r < 0 ? 0 : r;

	if (dmt_layout_has_crypt(request.params.layout)) {
		passphrase = cli_read_passphrase(&request.key,
						 "Enter passphrase for the new volume: ",
						 &r);
		if (!passphrase)
			return r;
	}

	r = dmt_create(cli->ctx, image, &request.params, passphrase,
		       request.open_name, &err);
	dmt_secret_free(passphrase);
	if (r)
		return cli_report(&err);

	print_created(image, request.open_name, cli->ctx);
	if (!request.open_name)
		return DMT_OK;
	if (request.watch)
		return cli_start_monitor(request.open_name);
	cli_warn_unwatched(cli, request.open_name);
	return DMT_OK;
}

const struct command command_create = {
	.name = "create",
	.run = run_create,
	.summary = "create a volume on a file or block device",
	.help =
"usage: dmtool create IMAGE --size SIZE [options]\n"
"\n"
"Create a volume on IMAGE, a file (created sparse when missing; an existing\n"
"file must be empty) or a block device without a known signature. A header\n"
"at the start of IMAGE records the layout, so 'dmtool open' rebuilds the\n"
"stack from the image alone. Sizes take units: 512M, 10G, 1.5T (binary).\n"
"\n"
"  -s, --size SIZE          size of the volume users see; may exceed the\n"
"                           host's free space (required)\n"
"  -l, --layout LAYOUT      thin-crypt (default): loop, thin pool, thin\n"
"                           volume, dm-crypt; crypt-thin: dm-crypt under the\n"
"                           pool; crypt: dm-crypt on loop; thin: no crypt\n"
"      --initial SIZE       pool data area at creation (default 64M); the\n"
"                           thin layouts only\n"
"      --max SIZE           largest size the data area may grow to\n"
"                           (default: SIZE); sizes the thin metadata\n"
"      --chunk-size SIZE    thin data block, 64K to 1G in 64K steps\n"
"                           (default 64K)\n"
"      --zero               make the pool zero newly provisioned blocks\n"
"      --open NAME          leave the volume open as /dev/mapper/NAME\n"
"      --watch              with --open, start a monitor that grows the\n"
"                           pool on demand ('dmtool watch NAME --daemon')\n"
"      --force              overwrite an image that holds data\n"
"\n"
"Encryption (layouts with crypt):\n"
"      --key-file FILE      read the passphrase from FILE, '-' for standard\n"
"                           input; without it, ask on the terminal\n"
"      --cipher CIPHER      dm-crypt cipher (default aes-xts-plain64)\n"
"      --key-size BITS      volume key size (default 512)\n"
"      --sector-size BYTES  encryption sector, 512 to 4096 (default 4096)\n"
"      --no-discards        do not pass discards through dm-crypt; freed\n"
"                           space then stays allocated on the host, but\n"
"                           the host cannot see which blocks are unused\n"
"      --no-read-workqueue, --no-write-workqueue, --same-cpu-crypt,\n"
"      --submit-from-crypt-cpus\n"
"                           dm-crypt performance flags (default: off)\n"
"      --pbkdf TYPE         argon2id (default), argon2i or pbkdf2\n"
"      --pbkdf-memory KIB   argon2 memory cost\n"
"      --iter-time MS       key derivation time to aim for\n"
"      --pbkdf-iterations N fixed iteration count, skipping the benchmark\n"
"\n"
"Loop device:\n"
"      --loop-block-size BYTES  logical block size (default 4096)\n"
"      --no-direct-io       buffered loop I/O (default: direct I/O)\n"
"\n"
"Growth policy (stored in the header, used by 'dmtool watch'):\n"
"      --grow-step SIZE|PCT grow the data area by this much (default 50%)\n"
"      --low-water PCT      grow when free data space falls below this\n"
"                           share of the area (default 20%)\n"
"      --reserve SIZE|PCT   host free space never grown into (default 5%)\n"
"      --grow-fs            grow the thin volume, crypt mapping and\n"
"                           filesystem together with the pool\n"
"      --guard              insert the space-guard target (kernel module)\n",
};
