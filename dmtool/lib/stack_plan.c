// SPDX-License-Identifier: LGPL-2.1-or-later
/* Names, UUIDs and tables of each layout's devices: no system calls. */
#include "policy.h"
#include "stack.h"
#include "table.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[] = {
	[ROLE_GUARD] = "guard", [ROLE_CRYPT] = "crypt",
	[ROLE_TMETA] = "tmeta", [ROLE_TDATA] = "tdata",
	[ROLE_POOL] = "pool",	[ROLE_THIN] = "thin",
};

/* Layers in creation order for each layout. */
static const enum stack_role thin_crypt_roles[] = {
	ROLE_TMETA, ROLE_TDATA, ROLE_POOL, ROLE_THIN, ROLE_CRYPT,
};
static const enum stack_role crypt_thin_roles[] = {
	ROLE_GUARD, ROLE_CRYPT, ROLE_TMETA, ROLE_TDATA, ROLE_POOL, ROLE_THIN,
};
static const enum stack_role crypt_roles[] = { ROLE_GUARD, ROLE_CRYPT };
static const enum stack_role thin_roles[] = {
	ROLE_TMETA, ROLE_TDATA, ROLE_POOL, ROLE_THIN,
};

const char *stack_role_name(enum stack_role role)
{
	return role_names[role];
}

int stack_role_parse(const char *name, enum stack_role *role)
{
	for (size_t i = 0; i < ARRAY_SIZE(role_names); i++) {
		if (strcmp(role_names[i], name) == 0) {
			*role = (enum stack_role)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool stack_name_valid(const char *name, char *why, size_t why_size)
{
	size_t length = strlen(name);

	if (length == 0) {
		snprintf(why, why_size, "volume name is empty");
		return false;
	}
	if (length > DMT_NAME_MAX) {
		snprintf(why, why_size,
			 "volume name is %zu bytes long; the limit is %d",
			 length, DMT_NAME_MAX);
		return false;
	}
	if (name[0] == '.' || name[0] == '-') {
		snprintf(why, why_size,
			 "volume name '%s' must not start with '%c'", name,
			 name[0]);
		return false;
	}
	for (const char *p = name; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("._+-", *p)) {
			snprintf(why, why_size,
				 "volume name '%s' contains '%c'; use letters, digits and . _ + -",
				 name, *p);
			return false;
		}
	}
	return true;
}

void stack_uuid_prefix(const char *volume_uuid, char *prefix, size_t size)
{
	snprintf(prefix, size, "%s%s-", DMT_UUID_PREFIX, volume_uuid);
}

bool stack_parse_uuid(const char *uuid,
		      char volume_uuid[DMT_UUID_STRING_LEN + 1],
		      enum stack_role *role)
{
	size_t prefix_length = strlen(DMT_UUID_PREFIX);
	const char *rest = uuid + prefix_length;

	if (strncmp(uuid, DMT_UUID_PREFIX, prefix_length) != 0 ||
	    strlen(rest) < DMT_UUID_STRING_LEN + 2 ||
	    rest[DMT_UUID_STRING_LEN] != '-')
		return false;

	memcpy(volume_uuid, rest, DMT_UUID_STRING_LEN);
	volume_uuid[DMT_UUID_STRING_LEN] = '\0';
	return stack_role_parse(rest + DMT_UUID_STRING_LEN + 1, role) == 0;
}

static void add_layer(struct stack_plan *plan, enum stack_role role, bool top)
{
	struct stack_layer *layer = &plan->layers[plan->count++];

	memset(layer, 0, sizeof(*layer));
	layer->role = role;
	layer->top = top;
	if (top)
		snprintf(layer->name, sizeof(layer->name), "%s",
			 plan->volume_name);
	else
		snprintf(layer->name, sizeof(layer->name), "%s-%s",
			 plan->volume_name, stack_role_name(role));
	snprintf(layer->uuid, sizeof(layer->uuid), "%s%s-%s", DMT_UUID_PREFIX,
		 plan->volume_uuid, stack_role_name(role));
}

void stack_plan_init(struct stack_plan *plan, const struct volume_header *h,
		     const char *name, bool guard)
{
	const enum stack_role *roles;
	size_t count;

	memset(plan, 0, sizeof(*plan));
	plan->header = h;
	plan->guard = guard;
	snprintf(plan->volume_name, sizeof(plan->volume_name), "%s", name);
	header_uuid_string(h->uuid, plan->volume_uuid);
	snprintf(plan->loop_ref, sizeof(plan->loop_ref), "/dev/loopX");

	switch (h->layout) {
	case DMT_LAYOUT_THIN_CRYPT:
		roles = thin_crypt_roles;
		count = ARRAY_SIZE(thin_crypt_roles);
		break;
	case DMT_LAYOUT_CRYPT_THIN:
		roles = crypt_thin_roles;
		count = ARRAY_SIZE(crypt_thin_roles);
		break;
	case DMT_LAYOUT_CRYPT:
		roles = crypt_roles;
		count = ARRAY_SIZE(crypt_roles);
		break;
	default:
		roles = thin_roles;
		count = ARRAY_SIZE(thin_roles);
		break;
	}

	for (size_t i = 0; i < count; i++) {
		/* The thin layouts guard the data area in place of its
		 * linear target; the crypt layouts get a layer of their own. */
		if (roles[i] == ROLE_GUARD && !guard)
			continue;
		add_layer(plan, roles[i], i == count - 1);
	}
}

struct stack_layer *stack_plan_find(struct stack_plan *plan,
				    enum stack_role role)
{
	for (size_t i = 0; i < plan->count; i++) {
		if (plan->layers[i].role == role)
			return &plan->layers[i];
	}
	return NULL;
}

/* The device a layer's table refers to for role: "major:minor" once the
 * device exists, else its path. */
static void layer_ref(const struct stack_plan *plan, enum stack_role role,
		      char *ref, size_t size)
{
	for (size_t i = 0; i < plan->count; i++) {
		const struct stack_layer *layer = &plan->layers[i];

		if (layer->role != role)
			continue;
		if (layer->exists)
			table_device_number(ref, size, layer->major,
					    layer->minor);
		else
			snprintf(ref, size, "/dev/mapper/%s", layer->name);
		return;
	}
	snprintf(ref, size, "%s", plan->loop_ref);
}

/* The device the thin areas are split from, and the device under crypt. */
static void base_ref(const struct stack_plan *plan, enum stack_role role,
		     char *ref, size_t size)
{
	const struct volume_header *h = plan->header;

	if (h->layout == DMT_LAYOUT_CRYPT_THIN && role != ROLE_CRYPT) {
		layer_ref(plan, ROLE_CRYPT, ref, size);
		return;
	}
	if (role == ROLE_CRYPT && h->layout == DMT_LAYOUT_THIN_CRYPT) {
		layer_ref(plan, ROLE_THIN, ref, size);
		return;
	}
	if (role == ROLE_CRYPT && plan->guard) {
		layer_ref(plan, ROLE_GUARD, ref, size);
		return;
	}
	snprintf(ref, size, "%s", plan->loop_ref);
}

uint64_t stack_low_water_blocks(const struct volume_header *h)
{
	uint64_t blocks = policy_low_water(&h->growth, h->data_size) /
			  h->chunk_size;

	return blocks ? blocks : 1;
}

uint64_t stack_crypt_length(const struct volume_header *h)
{
	if (h->layout == DMT_LAYOUT_CRYPT_THIN)
		return h->data_offset + h->data_size;
	if (h->layout == DMT_LAYOUT_THIN_CRYPT &&
	    (h->flags & HEADER_FLAG_GROW_FS))
		return h->data_size - h->luks_size;
	return h->virtual_size;
}

static int crypt_line(const struct stack_plan *plan,
		      const struct luks_volume *key, char *buffer, size_t size,
		      struct dmt_target_line *line)
{
	const struct volume_header *h = plan->header;
	char device[160];
	struct crypt_table crypt = {
		.cipher = key ? key->cipher : h->crypt.cipher,
		.key = key ? (const unsigned char *)key->key->data : NULL,
		.key_size = key ? key->key->size : h->crypt.key_bits / 8,
		.device = device,
		.offset = h->luks_size >> SECTOR_SHIFT,
		.sector_size = h->crypt.sector_size,
		.flags = h->crypt.flags,
	};

	base_ref(plan, ROLE_CRYPT, device, sizeof(device));
	return table_crypt(line, stack_crypt_length(h) >> SECTOR_SHIFT, &crypt,
			   buffer, size);
}

static int pool_line(const struct stack_plan *plan,
		     struct dmt_target_line *line)
{
	const struct volume_header *h = plan->header;
	char metadata[160], data[160];
	struct pool_table pool = {
		.metadata_device = metadata,
		.data_device = data,
		.chunk_sectors = h->chunk_size >> SECTOR_SHIFT,
		.low_water_blocks = stack_low_water_blocks(h),
		.zero_new_blocks = h->flags & HEADER_FLAG_ZERO_NEW_BLOCKS,
	};

	layer_ref(plan, ROLE_TMETA, metadata, sizeof(metadata));
	layer_ref(plan, ROLE_TDATA, data, sizeof(data));
	return table_thin_pool(line, h->data_size >> SECTOR_SHIFT, &pool);
}

uint64_t stack_thin_length(const struct volume_header *h)
{
	/* In grow-fs mode the thin volume is as large as the pool, so the
	 * filesystem never offers more than the pool holds. */
	if (h->flags & HEADER_FLAG_GROW_FS)
		return h->data_size;
	if (h->layout == DMT_LAYOUT_THIN_CRYPT)
		return h->virtual_size + h->luks_size;
	return h->virtual_size;
}

/* A space-guard over the loop device, from offset for length bytes; the
 * loop device starts at the payload, so file offsets add payload_offset. */
static int guard_line(const struct stack_plan *plan, const char *device,
		      uint64_t offset, uint64_t length,
		      struct dmt_target_line *line)
{
	struct guard_table guard = {
		.device = device,
		.offset = offset >> SECTOR_SHIFT,
		.backing_file = plan->backing_file,
		.file_offset = plan->header->payload_offset + offset,
		.reserve = plan->guard_reserve,
		.low_water = plan->guard_low_water,
	};

	return table_space_guard(line, length >> SECTOR_SHIFT, &guard);
}

int stack_plan_line(const struct stack_plan *plan, size_t index,
		    const struct luks_volume *key, char *crypt_buffer,
		    size_t crypt_buffer_size, struct dmt_target_line *line)
{
	const struct volume_header *h = plan->header;
	const struct stack_layer *layer = &plan->layers[index];
	char device[160];

	switch (layer->role) {
	case ROLE_CRYPT:
		return crypt_line(plan, key, crypt_buffer, crypt_buffer_size,
				  line);
	case ROLE_TMETA:
		base_ref(plan, layer->role, device, sizeof(device));
		return table_linear(line, h->metadata_size >> SECTOR_SHIFT,
				    device, h->metadata_offset >> SECTOR_SHIFT);
	case ROLE_TDATA:
		base_ref(plan, layer->role, device, sizeof(device));
		if (plan->guard)
			return guard_line(plan, device, h->data_offset,
					  h->data_size, line);
		return table_linear(line, h->data_size >> SECTOR_SHIFT, device,
				    h->data_offset >> SECTOR_SHIFT);
	case ROLE_POOL:
		return pool_line(plan, line);
	case ROLE_THIN:
		layer_ref(plan, ROLE_POOL, device, sizeof(device));
		return table_thin(line, stack_thin_length(h) >> SECTOR_SHIFT, device,
				  0);
	case ROLE_GUARD:
		return guard_line(plan, plan->loop_ref, 0,
				  stack_crypt_length(h) + h->luks_size, line);
	}
	return -EOPNOTSUPP;
}
