// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Every libcryptsetup call of the library lives here. dmtool reads and
 * writes LUKS2 headers with libcryptsetup but loads the dm-crypt tables
 * itself, so that every device carries dmtool's UUID and flags.
 */
#include "luks.h"

#include <errno.h>
#include <libcryptsetup.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static void route_log(int level, const char *message, void *data)
{
	struct dmt_context *ctx = data;
	char line[512];
	size_t length;

	(void)level;
	snprintf(line, sizeof(line), "%s", message);
	length = strlen(line);
	while (length > 0 && line[length - 1] == '\n')
		line[--length] = '\0';
	log_debug(ctx, "libcryptsetup: %s", line);
}

static int init_device(struct dmt_context *ctx, const char *device,
		       struct crypt_device **cd, struct dmt_error *err)
{
	int r = crypt_init(cd, device);

	if (r < 0)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, -r,
				"%s: libcryptsetup cannot open the device: %s",
				device, strerror(-r));
	crypt_set_log_callback(*cd, route_log, ctx);
	return DMT_OK;
}

/* Splits "aes-xts-plain64" into "aes" and "xts-plain64". */
static int split_cipher(const char *full, char *cipher, size_t cipher_size,
			char *mode, size_t mode_size)
{
	const char *dash = strchr(full, '-');
	size_t length;

	if (!dash || dash == full || !dash[1])
		return -EINVAL;

	length = (size_t)(dash - full);
	if (length >= cipher_size || strlen(dash + 1) >= mode_size)
		return -EINVAL;

	memcpy(cipher, full, length);
	cipher[length] = '\0';
	snprintf(mode, mode_size, "%s", dash + 1);
	return 0;
}

static int set_pbkdf(struct dmt_context *ctx, struct crypt_device *cd,
		     const struct dmt_pbkdf_options *options,
		     struct dmt_error *err)
{
	const struct crypt_pbkdf_type *defaults =
		crypt_get_pbkdf_default(CRYPT_LUKS2);
	struct crypt_pbkdf_type pbkdf = *defaults;
	int r;

	if (options->type[0])
		pbkdf.type = options->type;
	if (options->iter_time_ms)
		pbkdf.time_ms = options->iter_time_ms;
	if (options->memory_kib)
		pbkdf.max_memory_kb = options->memory_kib;
	if (options->parallel)
		pbkdf.parallel_threads = options->parallel;
	if (strcmp(pbkdf.type, CRYPT_KDF_PBKDF2) == 0) {
		pbkdf.max_memory_kb = 0;
		pbkdf.parallel_threads = 0;
	}
	if (options->iterations) {
		pbkdf.iterations = options->iterations;
		pbkdf.flags |= CRYPT_PBKDF_NO_BENCHMARK;
	}

	r = crypt_set_pbkdf_type(cd, &pbkdf);
	if (r < 0)
		return dmt_fail(ctx, err, DMT_ERR_USAGE, -r,
				"invalid key derivation settings (pbkdf %s, %u iterations, %u KiB): %s",
				pbkdf.type, options->iterations,
				options->memory_kib, strerror(-r));
	return DMT_OK;
}

static int format_header(struct dmt_context *ctx, struct crypt_device *cd,
			 const char *device,
			 const struct dmt_crypt_options *crypt,
			 const struct luks_volume *volume,
			 struct dmt_error *err)
{
	struct crypt_params_luks2 params;
	char cipher[32], mode[32];
	int r;

	if (split_cipher(crypt->cipher, cipher, sizeof(cipher), mode,
			 sizeof(mode)) < 0)
		return dmt_fail(ctx, err, DMT_ERR_USAGE, EINVAL,
				"invalid cipher '%s': expected cipher-mode-iv, for example aes-xts-plain64",
				crypt->cipher);

	r = crypt_set_data_offset(cd, volume->data_offset >> SECTOR_SHIFT);
	if (r < 0)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, -r,
				"%s: setting the LUKS2 data offset %llu failed: %s",
				device, (unsigned long long)volume->data_offset,
				strerror(-r));

	memset(&params, 0, sizeof(params));
	params.sector_size = crypt->sector_size;
	r = crypt_format(cd, CRYPT_LUKS2, cipher, mode, NULL,
			 volume->key->data, volume->key->size, &params);
	if (r < 0)
		return dmt_fail(ctx, err,
				r == -EINVAL ? DMT_ERR_USAGE : DMT_ERR_FAILED,
				-r,
				"%s: writing the LUKS2 header failed (cipher %s, %u-bit key, %u-byte sectors): %s",
				device, crypt->cipher, crypt->key_bits,
				crypt->sector_size, strerror(-r));
	return DMT_OK;
}

int luks_format(struct dmt_context *ctx, const char *device,
		const struct dmt_crypt_options *crypt,
		const struct dmt_pbkdf_options *pbkdf,
		const struct dmt_secret *passphrase, uint64_t data_offset,
		struct luks_volume *volume, struct dmt_error *err)
{
	struct crypt_device *cd = NULL;
	size_t key_size = crypt->key_bits / 8;
	int r;

	memset(volume, 0, sizeof(*volume));
	volume->key = dmt_secret_new(key_size);
	if (!volume->key)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM,
				"cannot allocate locked memory for the volume key");
	volume->key->size = key_size;
	if (getrandom(volume->key->data, key_size, 0) != (ssize_t)key_size) {
		r = dmt_fail(ctx, err, DMT_ERR_FAILED, errno,
			     "cannot read %zu random bytes for the volume key",
			     key_size);
		goto clear_volume;
	}
	volume->data_offset = data_offset;
	volume->sector_size = crypt->sector_size;
	snprintf(volume->cipher, sizeof(volume->cipher), "%s", crypt->cipher);

	r = init_device(ctx, device, &cd, err);
	if (r)
		goto clear_volume;
	r = set_pbkdf(ctx, cd, pbkdf, err);
	if (r)
		goto free_device;
	r = format_header(ctx, cd, device, crypt, volume, err);
	if (r)
		goto free_device;

	log_debug(ctx, "%s: adding the first keyslot", device);
	r = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT,
					    volume->key->data, key_size,
					    passphrase->data, passphrase->size);
	if (r < 0) {
		r = dmt_fail(ctx, err, DMT_ERR_FAILED, -r,
			     "%s: adding the LUKS2 keyslot failed: %s", device,
			     strerror(-r));
		goto free_device;
	}

	snprintf(volume->uuid, sizeof(volume->uuid), "%s",
		 crypt_get_uuid(cd) ? crypt_get_uuid(cd) : "");
	crypt_free(cd);
	return DMT_OK;

free_device:
	crypt_free(cd);
clear_volume:
	luks_volume_clear(volume);
	return r;
}

int luks_unlock(struct dmt_context *ctx, const char *device,
		const struct dmt_secret *passphrase,
		struct luks_volume *volume, struct dmt_error *err)
{
	struct crypt_device *cd = NULL;
	size_t key_size;
	int r;

	memset(volume, 0, sizeof(*volume));
	r = init_device(ctx, device, &cd, err);
	if (r)
		return r;

	r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r < 0) {
		r = dmt_fail(ctx, err, DMT_ERR_IMAGE, -r,
			     "%s: no valid LUKS2 header found: %s", device,
			     strerror(-r));
		goto free_device;
	}

	key_size = (size_t)crypt_get_volume_key_size(cd);
	volume->key = dmt_secret_new(key_size ? key_size : 1);
	if (!volume->key) {
		r = dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM,
			     "cannot allocate locked memory for the volume key");
		goto free_device;
	}

	log_debug(ctx, "%s: unlocking the volume key", device);
	r = crypt_volume_key_get(cd, CRYPT_ANY_SLOT, volume->key->data,
				 &key_size, passphrase->data, passphrase->size);
	if (r < 0) {
		if (r == -EPERM)
			r = dmt_fail(ctx, err, DMT_ERR_KEY, EPERM,
				     "%s: wrong passphrase: no LUKS2 keyslot opens with it",
				     device);
		else
			r = dmt_fail(ctx, err, DMT_ERR_FAILED, -r,
				     "%s: unlocking the volume key failed: %s",
				     device, strerror(-r));
		goto clear_volume;
	}
	volume->key->size = key_size;
	snprintf(volume->cipher, sizeof(volume->cipher), "%s-%s",
		 crypt_get_cipher(cd), crypt_get_cipher_mode(cd));
	volume->sector_size = (uint32_t)crypt_get_sector_size(cd);
	volume->data_offset = crypt_get_data_offset(cd) << SECTOR_SHIFT;
	snprintf(volume->uuid, sizeof(volume->uuid), "%s",
		 crypt_get_uuid(cd) ? crypt_get_uuid(cd) : "");
	crypt_free(cd);
	return DMT_OK;

clear_volume:
	luks_volume_clear(volume);
free_device:
	crypt_free(cd);
	return r;
}

void luks_volume_clear(struct luks_volume *volume)
{
	dmt_secret_free(volume->key);
	memset(volume, 0, sizeof(*volume));
}
