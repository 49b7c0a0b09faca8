/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LUKS2 headers through libcryptsetup: the only module that calls it. */
#ifndef DMTOOL_LUKS_H
#define DMTOOL_LUKS_H

#include "internal.h"

struct luks_volume {
	struct dmt_secret *key;	/* volume key; key->size bytes */
	char cipher[64];	/* cipher-chainmode-ivmode, as dm-crypt takes it */
	uint32_t sector_size;
	uint64_t data_offset;	/* bytes */
	char uuid[40];
};

/* Writes a LUKS2 header to device with a fresh random volume key, adds
 * one keyslot for passphrase, and returns the key in volume. */
int luks_format(struct dmt_context *ctx, const char *device,
		const struct dmt_crypt_options *crypt,
		const struct dmt_pbkdf_options *pbkdf,
		const struct dmt_secret *passphrase, uint64_t data_offset,
		struct luks_volume *volume, struct dmt_error *err);

/* Reads the LUKS2 header on device and unlocks the volume key. */
int luks_unlock(struct dmt_context *ctx, const char *device,
		const struct dmt_secret *passphrase,
		struct luks_volume *volume, struct dmt_error *err);

void luks_volume_clear(struct luks_volume *volume);

#endif
