// SPDX-License-Identifier: GPL-2.0-or-later
/* dmtool status: human-readable text or JSON for scripts. */
#include "cli.h"

#include <getopt.h>
#include <json-c/json.h>
#include <string.h>

static const char *crypt_flag_names[] = {
	"allow_discards", "same_cpu_crypt", "submit_from_crypt_cpus",
	"no_read_workqueue", "no_write_workqueue",
};

static json_object *json_u64(uint64_t value)
{
	return json_object_new_uint64(value);
}

static json_object *crypt_json(const struct dmt_volume_status *s)
{
	json_object *crypt = json_object_new_object();
	json_object *flags = json_object_new_array();

	json_object_object_add(crypt, "cipher",
			       json_object_new_string(s->crypt.cipher));
	json_object_object_add(crypt, "key_bits", json_u64(s->crypt.key_bits));
	json_object_object_add(crypt, "sector_size",
			       json_u64(s->crypt.sector_size));
	for (unsigned int i = 0; i < 5; i++) {
		if (s->crypt.flags & (1u << i))
			json_object_array_add(flags,
					      json_object_new_string(crypt_flag_names[i]));
	}
	json_object_object_add(crypt, "flags", flags);
	return crypt;
}

static json_object *pool_json(const struct dmt_volume_status *s)
{
	json_object *pool = json_object_new_object();

	json_object_object_add(pool, "mode",
			       json_object_new_string(dmt_pool_mode_name(s->pool_mode)));
	json_object_object_add(pool, "needs_check",
			       json_object_new_boolean(s->needs_check));
	json_object_object_add(pool, "discard_passdown",
			       json_object_new_boolean(s->discard_passdown));
	json_object_object_add(pool, "error_if_no_space",
			       json_object_new_boolean(s->error_if_no_space));
	json_object_object_add(pool, "chunk_size", json_u64(s->chunk_size));
	json_object_object_add(pool, "data_used", json_u64(s->data_used));
	json_object_object_add(pool, "data_total", json_u64(s->data_total));
	json_object_object_add(pool, "data_max", json_u64(s->data_max));
	json_object_object_add(pool, "low_water_mark", json_u64(s->low_water_mark));
	json_object_object_add(pool, "metadata_used", json_u64(s->metadata_used));
	json_object_object_add(pool, "metadata_total",
			       json_u64(s->metadata_total));
	return pool;
}

static json_object *devices_json(const struct dmt_volume_status *s)
{
	json_object *devices = json_object_new_array();

	for (size_t i = 0; i < s->device_count; i++) {
		const struct dmt_device_info *d = &s->devices[i];
		json_object *device = json_object_new_object();
		char number[24];

		snprintf(number, sizeof(number), "%u:%u", d->major, d->minor);
		json_object_object_add(device, "role", json_object_new_string(d->role));
		json_object_object_add(device, "name", json_object_new_string(d->name));
		json_object_object_add(device, "uuid", json_object_new_string(d->uuid));
		json_object_object_add(device, "device", json_object_new_string(number));
		json_object_object_add(device, "open_count", json_u64(d->open_count));
		json_object_array_add(devices, device);
	}
	return devices;
}

static json_object *guard_json(const struct dmt_volume_status *s)
{
	json_object *guard = json_object_new_object();

	json_object_object_add(guard, "state", json_object_new_string(s->guard_state));
	json_object_object_add(guard, "free", json_u64(s->guard_free));
	json_object_object_add(guard, "reserve", json_u64(s->guard_reserve));
	json_object_object_add(guard, "low_water", json_u64(s->guard_low_water));
	json_object_object_add(guard, "allocated",
			       s->guard_allocated < 0 ? NULL :
			       json_object_new_int64(s->guard_allocated));
	json_object_object_add(guard, "failed_writes", json_u64(s->guard_failed_writes));
	return guard;
}

static json_object *status_json(const struct dmt_volume_status *s)
{
	json_object *root = json_object_new_object();
	json_object *image = json_object_new_object();
	json_object *host = json_object_new_object();
	json_object *loop = json_object_new_object();

	json_object_object_add(root, "name", json_object_new_string(s->name));
	json_object_object_add(root, "uuid", json_object_new_string(s->uuid));
	json_object_object_add(root, "layout",
			       json_object_new_string(dmt_layout_name(s->layout)));
	json_object_object_add(root, "virtual_size", json_u64(s->virtual_size));
	json_object_object_add(root, "capacity", json_u64(s->capacity));
	json_object_object_add(root, "overcommitted",
			       json_object_new_boolean(s->overcommitted));

	json_object_object_add(image, "path", json_object_new_string(s->image));
	json_object_object_add(image, "block_device",
			       json_object_new_boolean(s->image_is_block_device));
	json_object_object_add(image, "apparent_size", json_u64(s->image_apparent));
	json_object_object_add(image, "allocated", json_u64(s->image_allocated));
	json_object_object_add(root, "image", image);

	json_object_object_add(host, "free", json_u64(s->host_free));
	json_object_object_add(host, "total", json_u64(s->host_total));
	json_object_object_add(host, "reserve", json_u64(s->reserve));
	json_object_object_add(root, "host", host);

	json_object_object_add(loop, "device", json_object_new_string(s->loop_device));
	json_object_object_add(loop, "block_size", json_u64(s->loop_block_size));
	json_object_object_add(loop, "direct_io",
			       json_object_new_boolean(s->loop_direct_io));
	json_object_object_add(root, "loop", loop);

	json_object_object_add(root, "pool", dmt_layout_has_thin(s->layout) ?
						     pool_json(s) : NULL);
	json_object_object_add(root, "crypt", s->has_crypt ? crypt_json(s) : NULL);
	json_object_object_add(root, "monitor_armed",
			       json_object_new_boolean(s->monitor_armed));
	json_object_object_add(root, "monitor_pid",
			       s->monitor_armed ? json_object_new_int(s->monitor_pid) : NULL);
	json_object_object_add(root, "guard", s->has_guard ? guard_json(s) : NULL);
	json_object_object_add(root, "devices", devices_json(s));
	return root;
}

static unsigned int percent_of(uint64_t part, uint64_t whole)
{
	return whole ? (unsigned int)(part * 100 / whole) : 0;
}

static void print_pool(const struct dmt_volume_status *s)
{
	char used[32], total[32], max[32], chunk[32], low[32];

	printf("pool:          %s%s, %s, %s\n", dmt_pool_mode_name(s->pool_mode),
	       s->needs_check ? " (needs_check)" : "",
	       s->error_if_no_space ? "error_if_no_space" : "queue_if_no_space",
	       s->discard_passdown ? "discard_passdown" : "no_discard_passdown");
	printf("  data:        %s used of %s (%u%%), grows up to %s\n",
	       dmt_format_size(s->data_used, used, sizeof(used)),
	       dmt_format_size(s->data_total, total, sizeof(total)),
	       percent_of(s->data_used, s->data_total),
	       dmt_format_size(s->data_max, max, sizeof(max)));
	printf("               chunk %s, low water mark %s free\n",
	       dmt_format_size(s->chunk_size, chunk, sizeof(chunk)),
	       dmt_format_size(s->low_water_mark, low, sizeof(low)));
	printf("  metadata:    %s used of %s (%u%%)\n",
	       dmt_format_size(s->metadata_used, used, sizeof(used)),
	       dmt_format_size(s->metadata_total, total, sizeof(total)),
	       percent_of(s->metadata_used, s->metadata_total));
}

static void print_crypt(const struct dmt_volume_status *s)
{
	printf("crypt:         %s, %u-bit key, %u-byte sectors", s->crypt.cipher,
	       s->crypt.key_bits, s->crypt.sector_size);
	for (unsigned int i = 0; i < 5; i++) {
		if (s->crypt.flags & (1u << i))
			printf(", %s", crypt_flag_names[i]);
	}
	printf("\n");
}

static void print_text(const struct dmt_volume_status *s)
{
	char a[32], b[32], c[32];

	printf("volume:        %s\n", s->name);
	printf("uuid:          %s\n", s->uuid);
	printf("layout:        %s\n", dmt_layout_name(s->layout));
	printf("virtual size:  %s (%llu bytes)\n",
	       dmt_format_size(s->virtual_size, a, sizeof(a)),
	       (unsigned long long)s->virtual_size);
	printf("image:         %s (%s)\n", s->image,
	       s->image_is_block_device ? "block device" : "file");
	if (!s->image_is_block_device) {
		printf("  on host:     apparent %s, allocated %s\n",
		       dmt_format_size(s->image_apparent, a, sizeof(a)),
		       dmt_format_size(s->image_allocated, b, sizeof(b)));
		printf("host fs:       %s free of %s, reserve %s\n",
		       dmt_format_size(s->host_free, a, sizeof(a)),
		       dmt_format_size(s->host_total, b, sizeof(b)),
		       dmt_format_size(s->reserve, c, sizeof(c)));
	}
	printf("capacity:      %s%s\n", dmt_format_size(s->capacity, a, sizeof(a)),
	       s->overcommitted ? " (overcommitted: the virtual size exceeds what the host can hold)" : "");
	printf("loop:          %s, %u-byte blocks, %s\n", s->loop_device,
	       s->loop_block_size, s->loop_direct_io ? "direct I/O" : "buffered I/O");
	if (dmt_layout_has_thin(s->layout))
		print_pool(s);
	if (s->has_crypt)
		print_crypt(s);
	if (s->monitor_armed)
		printf("monitor:       armed (pid %d)\n", s->monitor_pid);
	else
		printf("monitor:       not armed\n");
	if (s->has_guard)
		printf("guard:         %s, %s free by its estimate, reserve %s, %llu writes failed\n",
		       s->guard_state, dmt_format_size(s->guard_free, a, sizeof(a)),
		       dmt_format_size(s->guard_reserve, b, sizeof(b)),
		       (unsigned long long)s->guard_failed_writes);
	printf("devices:      ");
	for (size_t i = 0; i < s->device_count; i++)
		printf(" %s (%s %u:%u)%s", s->devices[i].name, s->devices[i].role,
		       s->devices[i].major, s->devices[i].minor,
		       i + 1 < s->device_count ? "," : "");
	printf("\n");
}

static const struct option status_options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int show_one(struct cli *cli, const char *name, bool json,
		    json_object *array)
{
	struct dmt_volume_status status;
	struct dmt_error err;

	if (dmt_status(cli->ctx, name, &status, &err))
		return cli_report(&err);
	if (json)
		json_object_array_add(array, status_json(&status));
	else
		print_text(&status);
	return DMT_OK;
}

static int run_status(struct cli *cli, int argc, char **argv)
{
	json_object *array = json_object_new_array();
	struct dmt_error err;
	char **names = NULL;
	bool json = false;
	int option, r = DMT_OK;

	while ((option = getopt_long(argc, argv, "jh", status_options, NULL)) != -1) {
		switch (option) {
		case 'j':
			json = true;
			break;
		case 'h':
			cli_print_help(&command_status, stdout);
			json_object_put(array);
			return 0;
		default:
			json_object_put(array);
			return cli_usage_error(&command_status, "invalid option");
		}
	}
	if (optind + 1 < argc) {
		json_object_put(array);
		return cli_usage_error(&command_status, "too many arguments");
	}

	if (optind < argc) {
		r = show_one(cli, argv[optind], json, array);
		if (!r && json)
			printf("%s\n", json_object_to_json_string_ext(
					       json_object_array_get_idx(array, 0),
					       JSON_C_TO_STRING_PRETTY));
		json_object_put(array);
		return r;
	}

	if (dmt_list(cli->ctx, &names, &err)) {
		json_object_put(array);
		return cli_report(&err);
	}
	for (char **name = names; *name; name++) {
		if (!json && name != names)
			printf("\n");
		if (show_one(cli, *name, json, array))
			r = DMT_ERR_FAILED;
	}
	if (json)
		printf("%s\n", json_object_to_json_string_ext(array,
							      JSON_C_TO_STRING_PRETTY));
	else if (!names[0])
		printf("no dmtool volumes are open\n");
	dmt_free_names(names);
	json_object_put(array);
	return r;
}

const struct command command_status = {
	.name = "status",
	.run = run_status,
	.summary = "report an open volume, or all of them",
	.help =
"usage: dmtool status [NAME] [--json]\n"
"\n"
"Report the open volume NAME, or every open dmtool volume: virtual size,\n"
"pool data and metadata use, pool mode, the image's apparent and allocated\n"
"size, free space on the host filesystem, whether the volume is\n"
"overcommitted (its virtual size exceeds what the host can hold), crypt\n"
"and loop settings, and the device names.\n"
"\n"
"  -j, --json               print JSON (sizes in bytes); with no NAME, an\n"
"                           array of volumes\n",
};
