/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A volume's device stack: the loop device over the image payload and the
 * device-mapper devices above it, in creation order. The plan names every
 * device and builds its table; the builder creates them and tears them
 * down in reverse on failure.
 */
#ifndef DMTOOL_STACK_H
#define DMTOOL_STACK_H

#include "header.h"
#include "image.h"
#include "loop.h"
#include "luks.h"

enum stack_role {
	ROLE_GUARD,	/* space-guard over the loop device (crypt layouts) */
	ROLE_CRYPT,
	ROLE_TMETA,	/* thin metadata area */
	ROLE_TDATA,	/* thin data area; space-guard when guarded */
	ROLE_POOL,
	ROLE_THIN,
};

struct stack_layer {
	enum stack_role role;
	bool top;		/* the device users see, named like the volume */
	char name[128];
	char uuid[129];
	bool exists;		/* created, or found live */
	uint32_t major, minor;
};

struct stack_plan {
	const struct volume_header *header;
	char volume_name[DMT_NAME_MAX + 1];
	char volume_uuid[DMT_UUID_STRING_LEN + 1];
	bool guard;
	char backing_file[PATH_MAX];	/* absolute, for the guard's table */
	uint64_t guard_reserve;		/* bytes */
	uint64_t guard_low_water;	/* bytes */
	char loop_ref[64];	/* "7:3" once attached, else a placeholder */
	size_t count;
	struct stack_layer layers[DMT_MAX_DEVICES];
};

const char *stack_role_name(enum stack_role role);
int stack_role_parse(const char *name, enum stack_role *role);

/* Checks a volume name: 1 to DMT_NAME_MAX bytes of letters, digits and
 * "._+-", not starting with '.' or '-'. */
bool stack_name_valid(const char *name, char *why, size_t why_size);

/* Builds the UUID prefix every device of a volume carries. */
void stack_uuid_prefix(const char *volume_uuid, char *prefix, size_t size);

/* Sets the guard's backing file (made absolute) and thresholds from the
 * header's policy and the filesystem holding image_path. Fails with
 * DMT_ERR_USAGE for an image the guard cannot watch. */
int stack_plan_guard(struct dmt_context *ctx, struct stack_plan *plan,
		     const char *image_path, bool is_block_device,
		     struct dmt_error *err);

/* Fills plan's layers for header's layout. */
void stack_plan_init(struct stack_plan *plan, const struct volume_header *h,
		     const char *name, bool guard);

/* Finds the layer of a role, or NULL. */
struct stack_layer *stack_plan_find(struct stack_plan *plan,
				    enum stack_role role);

/* Builds the table line of layer index. key is the volume key of a crypt
 * layer, or NULL to print zeros. A crypt line's params live in
 * crypt_buffer; other lines' params are malloc'ed (table_lines_free). */
int stack_plan_line(const struct stack_plan *plan, size_t index,
		    const struct luks_volume *key, char *crypt_buffer,
		    size_t crypt_buffer_size, struct dmt_target_line *line);

/* Size of the buffer stack_plan_line needs for a crypt layer: keys of up
 * to 1024 bits, device references and every optional argument. */
#define STACK_CRYPT_LINE_MAX 1536

/* Lengths in bytes of the thin volume and of the crypt mapping, which in
 * grow-fs mode follow the data area. */
uint64_t stack_thin_length(const struct volume_header *h);
uint64_t stack_crypt_length(const struct volume_header *h);

/* The pool's low water mark in data blocks for the header's policy. */
uint64_t stack_low_water_blocks(const struct volume_header *h);

struct stack_build_options {
	const struct dmt_secret *passphrase;
	const struct dmt_pbkdf_options *pbkdf;
	bool create;		/* new volume: format metadata, thin, LUKS2 */
	bool guard;
	bool read_only;		/* loop device and every layer read-only */
	bool stop_after_tmeta;	/* build only up to the metadata area */
};

/* Attaches the loop device and creates every layer of plan. On failure
 * everything created is removed again and the loop device detaches. */
int stack_build(struct dmt_context *ctx, struct stack_plan *plan,
		struct image *image, const struct stack_build_options *options,
		struct dmt_error *err);

/* Removes every device whose UUID carries the volume's prefix, top first.
 * Fails with DMT_ERR_BUSY, removing nothing, when the top device is open
 * (mounted or in use). */
int stack_teardown(struct dmt_context *ctx, const char *volume_uuid,
		   struct dmt_error *err);

/* Reads the volume UUID and role from a dmtool device UUID. */
bool stack_parse_uuid(const char *uuid, char volume_uuid[DMT_UUID_STRING_LEN + 1],
		      enum stack_role *role);

#endif
