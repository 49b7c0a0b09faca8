// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmt_open and dmt_close: rebuild a volume's stack from its image alone,
 * and tear it down again. */
#include "filesystem.h"
#include "image.h"
#include "loop.h"
#include "mapper.h"
#include "stack.h"
#include "volume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

int dmt_open(struct dmt_context *ctx, const char *image_path, const char *name,
	     const struct dmt_open_params *params,
	     const struct dmt_secret *passphrase, struct dmt_error *err)
{
	struct stack_build_options options = {
		.passphrase = passphrase,
		.read_only = params && params->read_only,
	};
	struct stack_plan plan;
	struct image image;
	char why[160];
	int r;

	dmt_error_clear(err);
	if (!stack_name_valid(name, why, sizeof(why)))
		return dmt_fail(ctx, err, DMT_ERR_USAGE, EINVAL, "%s", why);

	r = image_open(ctx, image_path, 0, &image, err);
	if (r)
		return r;
	r = image_read_header(ctx, &image, err);
	if (!r)
		r = image_check_unused(ctx, &image, err);
	if (r)
		goto close_image;

	if (dmt_layout_has_crypt(image.header.layout) && !passphrase) {
		r = dmt_fail(ctx, err, DMT_ERR_USAGE, EINVAL,
			     "%s: layout %s encrypts: a passphrase is required",
			     image_path, dmt_layout_name(image.header.layout));
		goto close_image;
	}
	if (params && params->crypt)
		image.header.crypt.flags = params->crypt->flags;

	options.guard = (params && params->guard) ||
			(image.header.flags & HEADER_FLAG_GUARD);
	stack_plan_init(&plan, &image.header, name, options.guard);
	r = stack_build(ctx, &plan, &image, &options, err);

close_image:
	image_close(&image);
	return r;
}

/* Finds the volume's top device, or when it is gone (a close or setup
 * interrupted halfway) any device named NAME-<role>, so that the rest of
 * the stack can still be found and closed. */
static int find_any_layer(struct dmt_context *ctx, const char *name,
			  struct mapper_info *info, struct dmt_error *err)
{
	static const enum stack_role roles[] = { ROLE_THIN, ROLE_CRYPT,
						 ROLE_POOL, ROLE_TDATA,
						 ROLE_TMETA, ROLE_GUARD };
	char layer[160];
	int r;

	r = mapper_info(ctx, name, info, err);
	if (r || info->exists)
		return r;

	for (size_t i = 0; i < ARRAY_SIZE(roles); i++) {
		snprintf(layer, sizeof(layer), "%s-%s", name,
			 stack_role_name(roles[i]));
		r = mapper_info(ctx, layer, info, err);
		if (r)
			return r;
		if (info->exists &&
		    strncmp(info->uuid, DMT_UUID_PREFIX,
			    strlen(DMT_UUID_PREFIX)) == 0)
			return DMT_OK;
	}
	return dmt_fail(ctx, err, DMT_ERR_NOT_FOUND, ENODEV,
			"no open volume named '%s'", name);
}

int volume_find(struct dmt_context *ctx, const char *name,
		struct volume_devices *volume, struct dmt_error *err)
{
	struct mapper_info top;
	struct mapper_info *devices;
	enum stack_role role;
	char prefix[80];
	size_t count;
	int r;

	memset(volume, 0, sizeof(*volume));
	r = find_any_layer(ctx, name, &top, err);
	if (r)
		return r;
	if (!stack_parse_uuid(top.uuid, volume->uuid, &role))
		return dmt_fail(ctx, err, DMT_ERR_NOT_FOUND, EINVAL,
				"'%s' is a device-mapper device but not a dmtool volume (UUID '%s')",
				name, top.uuid);
	snprintf(volume->name, sizeof(volume->name), "%s", name);

	stack_uuid_prefix(volume->uuid, prefix, sizeof(prefix));
	r = mapper_list(ctx, prefix, &devices, &count, err);
	if (r)
		return r;
	for (size_t i = 0; i < count && volume->count < DMT_MAX_DEVICES; i++) {
		struct volume_device *device = &volume->devices[volume->count];

		if (!stack_parse_uuid(devices[i].uuid, volume->uuid, &role))
			continue;
		device->role = role;
		device->info = devices[i];
		device->top = strcmp(devices[i].name, name) == 0;
		volume->count++;
	}
	free(devices);
	return DMT_OK;
}

bool volume_has_guard(struct dmt_context *ctx,
		      const struct volume_devices *volume)
{
	const struct volume_device *tdata = volume_device(volume, ROLE_TDATA);
	struct dmt_target_line *lines;
	size_t count;
	bool guarded;

	if (volume_device(volume, ROLE_GUARD))
		return true;
	if (!tdata || mapper_query(ctx, tdata->info.name, MAPPER_TABLE, &lines,
				   &count, NULL) != DMT_OK)
		return false;
	guarded = count == 1 && strcmp(lines[0].type, "space-guard") == 0;
	mapper_lines_free(lines, count);
	return guarded;
}

bool volume_is_complete(const struct volume_devices *volume)
{
	bool top = false, pool = false, thin = false;

	for (size_t i = 0; i < volume->count; i++) {
		top |= volume->devices[i].top;
		pool |= volume->devices[i].role == ROLE_POOL;
		thin |= volume->devices[i].role == ROLE_THIN;
	}
	/* A thin layout without its pool or thin volume is being torn down
	 * or was left half-built. */
	return top && pool == thin;
}

const struct volume_device *volume_device(const struct volume_devices *volume,
					  enum stack_role role)
{
	for (size_t i = 0; i < volume->count; i++) {
		if (volume->devices[i].role == role)
			return &volume->devices[i];
	}
	return NULL;
}

/* The lowest dm device of every layout sits directly on the loop device:
 * the first one whose dependency is a loop device gives its number. */
int volume_find_loop(struct dmt_context *ctx,
		     const struct volume_devices *volume,
		     struct loop_state *loop, struct dmt_error *err)
{
	static const enum stack_role lowest[] = { ROLE_GUARD, ROLE_TMETA,
						  ROLE_CRYPT };

	for (size_t i = 0; i < ARRAY_SIZE(lowest); i++) {
		const struct volume_device *device =
			volume_device(volume, lowest[i]);
		dev_t deps[4];
		size_t count;

		if (!device)
			continue;
		if (mapper_deps(ctx, device->info.name, deps, ARRAY_SIZE(deps),
				&count, NULL) != DMT_OK)
			continue;
		for (size_t d = 0; d < count; d++) {
			if (loop_read_state(deps[d], loop) == 0)
				return DMT_OK;
		}
	}
	return dmt_fail(ctx, err, DMT_ERR_FAILED, ENODEV,
			"%s: cannot find the loop device under the volume",
			volume->name);
}

static uint64_t writes_in_flight(const struct volume_devices *volume)
{
	uint64_t total = 0;

	for (size_t i = 0; i < volume->count; i++) {
		unsigned long long reads = 0, writes = 0;
		char path[128];
		FILE *file;

		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/inflight",
			 volume->devices[i].info.major,
			 volume->devices[i].info.minor);
		file = fopen(path, "re");
		if (!file)
			continue;
		if (fscanf(file, "%llu %llu", &reads, &writes) == 2)
			total += writes;
		fclose(file);
	}
	return total;
}

/* A pool that can no longer write would lose what its users still hold:
 * dirty pages of a mounted filesystem, writes in flight. Closing then
 * needs --force, which removes the devices once their users let go. */
static int check_pool_writable(struct dmt_context *ctx,
			       const struct volume_devices *volume,
			       unsigned int flags, bool *deferred,
			       struct dmt_error *err)
{
	const struct volume_device *top = NULL;
	struct dmt_volume_status status;
	struct mount_info mount = { 0 };
	uint64_t in_flight;

	*deferred = false;
	if (dmt_status(ctx, volume->name, &status, NULL) != DMT_OK ||
	    status.pool_mode == DMT_POOL_RW || status.pool_mode == DMT_POOL_NONE)
		return DMT_OK;
	for (size_t i = 0; i < volume->count; i++) {
		if (volume->devices[i].top)
			top = &volume->devices[i];
	}
	in_flight = writes_in_flight(volume);
	if (!top || (top->info.open_count == 0 && in_flight == 0))
		return DMT_OK;

	if (flags & DMT_CLOSE_FORCE) {
		*deferred = true;
		return DMT_OK;
	}
	filesystem_find_mount(top->info.major, top->info.minor, &mount);
	return dmt_fail(ctx, err, DMT_ERR_STATE, EBUSY,
			"%s: the pool is %s while the volume is in use%s%s (%llu writes in flight): data its users have not written back yet is lost when they fail; grow the pool ('dmtool grow %s') or delete files and run 'dmtool reclaim %s', then unmount; --force removes the devices once their last user closes them",
			volume->name, dmt_pool_mode_name(status.pool_mode),
			mount.mounted ? ", mounted at " : "",
			mount.mounted ? mount.mountpoint : "",
			(unsigned long long)in_flight, volume->name,
			volume->name);
}

static int remove_deferred(struct dmt_context *ctx,
			   const struct volume_devices *volume,
			   struct dmt_error *err)
{
	for (size_t i = 0; i < volume->count; i++) {
		int r = mapper_remove_deferred(ctx, volume->devices[i].info.name,
					       err);

		if (r)
			return r;
	}
	return DMT_OK;
}

int dmt_close(struct dmt_context *ctx, const char *name, unsigned flags,
	      struct dmt_error *err)
{
	struct volume_devices volume;
	struct loop_state loop;
	struct image image;
	bool locked = false, deferred;
	int r;

	dmt_error_clear(err);
	r = volume_find(ctx, name, &volume, err);
	if (!r)
		r = check_pool_writable(ctx, &volume, flags, &deferred, err);
	if (r)
		return r;

	/* Hold the image lock, as every operation does, when the image is
	 * still reachable through the loop device. */
	if (volume_find_loop(ctx, &volume, &loop, NULL) == DMT_OK &&
	    image_open(ctx, loop.backing_file, IMAGE_READ_ONLY, &image,
		       NULL) == DMT_OK)
		locked = true;

	if (deferred)
		r = remove_deferred(ctx, &volume, err);
	else
		r = stack_teardown(ctx, volume.uuid, err);
	if (locked)
		image_close(&image);
	return r;
}
