// SPDX-License-Identifier: LGPL-2.1-or-later
/* Defaults and validation of creation parameters. */
#include "params.h"
#include "layout.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

void dmt_create_params_init(struct dmt_create_params *params,
			    enum dmt_layout layout)
{
	memset(params, 0, sizeof(*params));
	params->layout = layout;
	params->chunk_size = THIN_CHUNK_DEFAULT;
	params->loop_block_size = 4096;
	params->loop_direct_io = true;
	params->zero_new_blocks = false;

	snprintf(params->crypt.cipher, sizeof(params->crypt.cipher),
		 "aes-xts-plain64");
	params->crypt.key_bits = 512;
	params->crypt.sector_size = 4096;
	/* Discards carry freed space back to the host through dm-crypt; the
	 * cost is that the host sees which blocks are free. */
	params->crypt.flags = DMT_CRYPT_ALLOW_DISCARDS;

	params->growth.step_percent = 50;
	params->growth.low_water_percent = 20;
	params->growth.reserve_percent = 5;
}

#define REJECT(...) dmt_fail(ctx, err, DMT_ERR_USAGE, EINVAL, __VA_ARGS__)

static bool is_sector_size(uint32_t size)
{
	return size >= 512 && size <= 4096 && is_power_of_2(size);
}

static int validate_crypt(struct dmt_context *ctx,
			  const struct dmt_crypt_options *crypt,
			  struct dmt_error *err)
{
	const char *dash = strchr(crypt->cipher, '-');

	if (!dash || dash == crypt->cipher || !strchr(dash + 1, '-'))
		return REJECT("invalid cipher '%s': give cipher-chainmode-ivmode, for example aes-xts-plain64",
			      crypt->cipher);
	for (const char *p = crypt->cipher; *p; p++) {
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    !strchr("-:()_", *p))
			return REJECT("invalid cipher '%s': '%c' is not allowed",
				      crypt->cipher, *p);
	}
	if (crypt->key_bits != 128 && crypt->key_bits != 256 &&
	    crypt->key_bits != 384 && crypt->key_bits != 512)
		return REJECT("invalid key size %u bits: use 256 or 512 for aes-xts",
			      crypt->key_bits);
	if (!is_sector_size(crypt->sector_size))
		return REJECT("invalid crypt sector size %u: use 512, 1024, 2048 or 4096",
			      crypt->sector_size);
	if (crypt->flags & ~DMT_CRYPT_FLAGS_ALL)
		return REJECT("unknown crypt flags 0x%x",
			      crypt->flags & ~DMT_CRYPT_FLAGS_ALL);
	return DMT_OK;
}

static int validate_pbkdf(struct dmt_context *ctx,
			  const struct dmt_pbkdf_options *pbkdf,
			  struct dmt_error *err)
{
	if (pbkdf->type[0] && strcmp(pbkdf->type, "argon2id") != 0 &&
	    strcmp(pbkdf->type, "argon2i") != 0 &&
	    strcmp(pbkdf->type, "pbkdf2") != 0)
		return REJECT("invalid pbkdf '%s': use argon2id, argon2i or pbkdf2",
			      pbkdf->type);
	if (strcmp(pbkdf->type, "pbkdf2") == 0 && pbkdf->iterations &&
	    pbkdf->iterations < 1000)
		return REJECT("invalid pbkdf2 iteration count %u: use at least 1000",
			      pbkdf->iterations);
	if (pbkdf->memory_kib && (pbkdf->memory_kib < 32 ||
				  pbkdf->memory_kib > 4 * 1024 * 1024))
		return REJECT("invalid pbkdf memory %u KiB: use 32 to 4194304",
			      pbkdf->memory_kib);
	return DMT_OK;
}

static int validate_sizes(struct dmt_context *ctx,
			  const struct dmt_create_params *p,
			  struct dmt_error *err)
{
	if (p->virtual_size == 0)
		return REJECT("volume size 0 is invalid: give a positive --size");
	if (p->virtual_size % SECTOR_SIZE || p->initial_size % SECTOR_SIZE ||
	    p->max_size % SECTOR_SIZE)
		return REJECT("sizes must be multiples of 512 bytes (size %llu, initial %llu, max %llu)",
			      (unsigned long long)p->virtual_size,
			      (unsigned long long)p->initial_size,
			      (unsigned long long)p->max_size);
	if (!is_sector_size(p->loop_block_size))
		return REJECT("invalid loop block size %u: use 512, 1024, 2048 or 4096",
			      p->loop_block_size);
	if (!dmt_layout_has_thin(p->layout))
		return DMT_OK;

	if (p->chunk_size < THIN_CHUNK_MIN || p->chunk_size > THIN_CHUNK_MAX ||
	    p->chunk_size % THIN_CHUNK_MIN)
		return REJECT("invalid chunk size %u: use a multiple of 64 KiB from 64 KiB to 1 GiB",
			      p->chunk_size);
	return DMT_OK;
}

static int validate_growth(struct dmt_context *ctx,
			   const struct dmt_growth_policy *g,
			   struct dmt_error *err)
{
	if (g->step_percent > 100)
		return REJECT("invalid growth step %u%%: use 1%% to 100%%",
			      g->step_percent);
	if (g->reserve_percent > 90)
		return REJECT("invalid reserve %u%%: use at most 90%%",
			      g->reserve_percent);
	if (g->low_water_percent > 90)
		return REJECT("invalid low water mark %u%%: use at most 90%%",
			      g->low_water_percent);
	return DMT_OK;
}

int params_validate(struct dmt_context *ctx, const struct dmt_create_params *p,
		    struct dmt_error *err)
{
	int r;

	if (p->layout < DMT_LAYOUT_THIN_CRYPT || p->layout > DMT_LAYOUT_THIN)
		return REJECT("unknown layout %d", (int)p->layout);

	r = validate_sizes(ctx, p, err);
	if (!r && dmt_layout_has_crypt(p->layout))
		r = validate_crypt(ctx, &p->crypt, err);
	if (!r && dmt_layout_has_crypt(p->layout))
		r = validate_pbkdf(ctx, &p->pbkdf, err);
	if (!r)
		r = validate_growth(ctx, &p->growth, err);
	return r;
}
