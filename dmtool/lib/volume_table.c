// SPDX-License-Identifier: LGPL-2.1-or-later
/* dmt_table_*: the tables a volume loads, with its key masked. */
#include "image.h"
#include "status_parse.h"
#include "table.h"
#include "volume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

void dmt_table_plan_free(struct dmt_table_plan *plan)
{
	if (!plan->devices)
		return;
	for (size_t i = 0; i < plan->device_count; i++) {
		table_lines_free(plan->devices[i].targets,
				 plan->devices[i].target_count);
		free(plan->devices[i].targets);
	}
	free(plan->devices);
	plan->devices = NULL;
	plan->device_count = 0;
}

static int copy_plan(struct dmt_context *ctx, const struct stack_plan *stack,
		     struct dmt_table_plan *plan, struct dmt_error *err)
{
	char crypt_buffer[STACK_CRYPT_LINE_MAX];

	plan->devices = calloc(stack->count, sizeof(*plan->devices));
	if (!plan->devices)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM, "out of memory");

	for (size_t i = 0; i < stack->count; i++) {
		struct dmt_table_device *device = &plan->devices[i];
		struct dmt_target_line *line = calloc(1, sizeof(*line));
		int r;

		if (!line)
			return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM,
					"out of memory");
		device->targets = line;
		plan->device_count++;
		snprintf(device->role, sizeof(device->role), "%s",
			 stack_role_name(stack->layers[i].role));
		snprintf(device->name, sizeof(device->name), "%s",
			 stack->layers[i].name);
		snprintf(device->uuid, sizeof(device->uuid), "%s",
			 stack->layers[i].uuid);

		r = stack_plan_line(stack, i, NULL, crypt_buffer,
				    sizeof(crypt_buffer), line);
		if (r < 0)
			return dmt_fail(ctx, err, DMT_ERR_FAILED, -r,
					"%s: cannot build the table: %s",
					device->name, strerror(-r));
		if (line->params == crypt_buffer)
			line->params = strdup(crypt_buffer);
		if (!line->params)
			return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM,
					"out of memory");
		device->target_count = 1;
	}
	return DMT_OK;
}

int dmt_table_for_image(struct dmt_context *ctx, const char *image_path,
			const char *name, struct dmt_table_plan *plan,
			struct dmt_error *err)
{
	struct stack_plan stack;
	struct image image;
	char why[160];
	int r;

	dmt_error_clear(err);
	memset(plan, 0, sizeof(*plan));
	if (!stack_name_valid(name, why, sizeof(why)))
		return dmt_fail(ctx, err, DMT_ERR_USAGE, EINVAL, "%s", why);

	r = image_open(ctx, image_path, IMAGE_READ_ONLY | IMAGE_NO_LOCK, &image,
		       err);
	if (r)
		return r;
	r = image_read_header(ctx, &image, err);
	if (!r) {
		stack_plan_init(&stack, &image.header, name,
				image.header.flags & HEADER_FLAG_GUARD);
		if (stack.guard)
			r = stack_plan_guard(ctx, &stack, image_path,
					     image.is_block_device, err);
		if (!r)
			r = copy_plan(ctx, &stack, plan, err);
	}
	image_close(&image);
	if (r)
		dmt_table_plan_free(plan);
	return r;
}

/* Takes the crypt flags from the live table: an open may override the
 * header's. */
static void use_live_crypt_flags(struct dmt_context *ctx,
				 const struct volume_devices *volume,
				 struct volume_header *h)
{
	const struct volume_device *crypt = volume_device(volume, ROLE_CRYPT);
	struct crypt_table_fields fields;
	struct dmt_target_line *lines;
	size_t count;

	if (!crypt || mapper_query(ctx, crypt->info.name, MAPPER_TABLE, &lines,
				   &count, NULL) != DMT_OK)
		return;
	if (count == 1 && parse_crypt_table(lines[0].params, &fields))
		h->crypt.flags = fields.flags;
	mapper_lines_free(lines, count);
}

/* The guard's path and thresholds come from its live table: messages may
 * have changed the thresholds since it was loaded. */
static void use_live_guard(struct dmt_context *ctx,
			   const struct volume_devices *volume,
			   struct stack_plan *stack)
{
	const struct volume_device *guard = volume_device(volume, ROLE_GUARD);
	struct dmt_target_line *lines;
	unsigned long long offset, file_offset, reserve, low_water;
	size_t count;

	if (!guard)
		guard = volume_device(volume, ROLE_TDATA);
	if (!guard || mapper_query(ctx, guard->info.name, MAPPER_TABLE, &lines,
				   &count, NULL) != DMT_OK)
		return;
	if (count == 1 &&
	    sscanf(lines[0].params, "%*s %llu %4095s %llu %llu %llu", &offset,
		   stack->backing_file, &file_offset, &reserve,
		   &low_water) == 5) {
		stack->guard_reserve = reserve;
		stack->guard_low_water = low_water;
	}
	mapper_lines_free(lines, count);
}

int dmt_table_for_volume(struct dmt_context *ctx, const char *name,
			 struct dmt_table_plan *plan, struct dmt_error *err)
{
	struct volume_devices volume;
	struct stack_plan stack;
	struct loop_state loop;
	struct image image;
	int r;

	dmt_error_clear(err);
	memset(plan, 0, sizeof(*plan));
	r = volume_find(ctx, name, &volume, err);
	if (!r)
		r = volume_find_loop(ctx, &volume, &loop, err);
	if (r)
		return r;

	r = image_open(ctx, loop.backing_file, IMAGE_READ_ONLY | IMAGE_NO_LOCK,
		       &image, err);
	if (r)
		return r;
	r = image_read_header(ctx, &image, err);
	if (r)
		goto close_image;

	use_live_crypt_flags(ctx, &volume, &image.header);
	stack_plan_init(&stack, &image.header, name,
			volume_has_guard(ctx, &volume));
	if (stack.guard)
		use_live_guard(ctx, &volume, &stack);
	snprintf(stack.loop_ref, sizeof(stack.loop_ref), "%u:%u",
		 major(loop.rdev), minor(loop.rdev));
	for (size_t i = 0; i < stack.count; i++) {
		const struct volume_device *live =
			volume_device(&volume, stack.layers[i].role);

		if (!live)
			continue;
		stack.layers[i].exists = true;
		stack.layers[i].major = live->info.major;
		stack.layers[i].minor = live->info.minor;
	}
	r = copy_plan(ctx, &stack, plan, err);
	if (r)
		dmt_table_plan_free(plan);

close_image:
	image_close(&image);
	return r;
}
