// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Encoding, decoding and validation of the image header. Everything read
 * from an image is untrusted: images travel between machines, so every
 * field is bounded and every relation between fields is checked before any
 * other module uses them.
 */
#include "header.h"
#include "crc32c.h"
#include "layout.h"

#include <assert.h>
#include <ctype.h>
#include <endian.h>
#include <stdio.h>
#include <string.h>

/* On-disk form: little-endian, 512 bytes, checksum in the last 4 bytes. */
struct disk_header {
	char magic[8];
	uint32_t format_version;
	uint32_t header_size;
	uint64_t sequence;
	uint8_t uuid[16];
	uint32_t layout;
	uint32_t flags;
	uint64_t virtual_size;
	uint64_t payload_offset;
	uint64_t luks_size;
	uint64_t metadata_offset;
	uint64_t metadata_size;
	uint64_t data_offset;
	uint64_t data_size;
	uint64_t data_max;
	uint32_t chunk_size;
	uint32_t loop_block_size;
	char cipher[48];
	uint32_t key_bits;
	uint32_t crypt_sector_size;
	uint32_t crypt_flags;
	uint32_t grow_step_percent;
	uint64_t grow_step_bytes;
	uint64_t reserve_bytes;
	uint32_t reserve_percent;
	uint32_t low_water_percent;
	uint64_t created;
	uint8_t reserved[292];
	uint32_t checksum;
} __attribute__((packed));

static_assert(sizeof(struct disk_header) == HEADER_ENCODED_SIZE,
	      "the on-disk header must stay 512 bytes");
static_assert(offsetof(struct disk_header, checksum) ==
	      HEADER_ENCODED_SIZE - 4, "the checksum ends the header");

void header_encode(const struct volume_header *h,
		   unsigned char block[HEADER_SLOT_SIZE])
{
	struct disk_header d;

	memset(&d, 0, sizeof(d));
	memcpy(d.magic, HEADER_MAGIC, sizeof(d.magic));
	d.format_version = htole32(h->format_version);
	d.header_size = htole32(HEADER_ENCODED_SIZE);
	d.sequence = htole64(h->sequence);
	memcpy(d.uuid, h->uuid, sizeof(d.uuid));
	d.layout = htole32((uint32_t)h->layout);
	d.flags = htole32(h->flags);
	d.virtual_size = htole64(h->virtual_size);
	d.payload_offset = htole64(h->payload_offset);
	d.luks_size = htole64(h->luks_size);
	d.metadata_offset = htole64(h->metadata_offset);
	d.metadata_size = htole64(h->metadata_size);
	d.data_offset = htole64(h->data_offset);
	d.data_size = htole64(h->data_size);
	d.data_max = htole64(h->data_max);
	d.chunk_size = htole32(h->chunk_size);
	d.loop_block_size = htole32(h->loop_block_size);
	snprintf(d.cipher, sizeof(d.cipher), "%s", h->crypt.cipher);
	d.key_bits = htole32(h->crypt.key_bits);
	d.crypt_sector_size = htole32(h->crypt.sector_size);
	d.crypt_flags = htole32(h->crypt.flags);
	d.grow_step_percent = htole32(h->growth.step_percent);
	d.grow_step_bytes = htole64(h->growth.step_bytes);
	d.reserve_bytes = htole64(h->growth.reserve_bytes);
	d.reserve_percent = htole32(h->growth.reserve_percent);
	d.low_water_percent = htole32(h->growth.low_water_percent);
	d.created = htole64(h->created);
	d.checksum = htole32(crc32c(0, &d, offsetof(struct disk_header,
						    checksum)));

	memset(block, 0, HEADER_SLOT_SIZE);
	memcpy(block, &d, sizeof(d));
}

static void decode_fields(const struct disk_header *d, struct volume_header *h)
{
	memset(h, 0, sizeof(*h));
	h->format_version = le32toh(d->format_version);
	h->sequence = le64toh(d->sequence);
	memcpy(h->uuid, d->uuid, sizeof(h->uuid));
	h->layout = (enum dmt_layout)le32toh(d->layout);
	h->flags = le32toh(d->flags);
	h->virtual_size = le64toh(d->virtual_size);
	h->payload_offset = le64toh(d->payload_offset);
	h->luks_size = le64toh(d->luks_size);
	h->metadata_offset = le64toh(d->metadata_offset);
	h->metadata_size = le64toh(d->metadata_size);
	h->data_offset = le64toh(d->data_offset);
	h->data_size = le64toh(d->data_size);
	h->data_max = le64toh(d->data_max);
	h->chunk_size = le32toh(d->chunk_size);
	h->loop_block_size = le32toh(d->loop_block_size);
	/* The copy is bounded; validation rejects a cipher that fills the
	 * field, so the string is always terminated. */
	memcpy(h->crypt.cipher, d->cipher, sizeof(h->crypt.cipher));
	h->crypt.cipher[sizeof(h->crypt.cipher) - 1] = '\0';
	h->crypt.key_bits = le32toh(d->key_bits);
	h->crypt.sector_size = le32toh(d->crypt_sector_size);
	h->crypt.flags = le32toh(d->crypt_flags);
	h->growth.step_percent = le32toh(d->grow_step_percent);
	h->growth.step_bytes = le64toh(d->grow_step_bytes);
	h->growth.reserve_bytes = le64toh(d->reserve_bytes);
	h->growth.reserve_percent = le32toh(d->reserve_percent);
	h->growth.low_water_percent = le32toh(d->low_water_percent);
	h->growth.grow_fs = h->flags & HEADER_FLAG_GROW_FS;
	h->created = le64toh(d->created);
}

enum header_decode_result header_decode(const unsigned char *block,
					size_t size, struct volume_header *h,
					char *why, size_t why_size)
{
	struct disk_header d;
	uint32_t checksum;

	if (size < sizeof(d)) {
		snprintf(why, why_size, "header truncated to %zu bytes", size);
		return HEADER_NO_MAGIC;
	}

	memcpy(&d, block, sizeof(d));
	if (memcmp(d.magic, HEADER_MAGIC, sizeof(d.magic)) != 0) {
		snprintf(why, why_size, "no dmtool header magic");
		return HEADER_NO_MAGIC;
	}

	checksum = crc32c(0, &d, offsetof(struct disk_header, checksum));
	if (checksum != le32toh(d.checksum)) {
		snprintf(why, why_size,
			 "header checksum mismatch (stored %08x, computed %08x)",
			 le32toh(d.checksum), checksum);
		return HEADER_BAD_CHECKSUM;
	}

	if (le32toh(d.format_version) != HEADER_FORMAT_VERSION ||
	    le32toh(d.header_size) != HEADER_ENCODED_SIZE) {
		snprintf(why, why_size,
			 "header format version %u (size %u) is not supported; this dmtool reads version %u",
			 le32toh(d.format_version), le32toh(d.header_size),
			 HEADER_FORMAT_VERSION);
		return HEADER_UNSUPPORTED;
	}

	if (memchr(d.cipher, '\0', sizeof(d.cipher)) == NULL) {
		snprintf(why, why_size, "cipher name is not terminated");
		return HEADER_INVALID;
	}

	decode_fields(&d, h);
	if (h->flags & ~HEADER_FLAGS_KNOWN) {
		snprintf(why, why_size,
			 "header has unknown feature flags 0x%x; a newer dmtool made it",
			 h->flags & ~HEADER_FLAGS_KNOWN);
		return HEADER_UNSUPPORTED;
	}

	if (!header_validate(h, why, why_size))
		return HEADER_INVALID;
	return HEADER_DECODED;
}

static bool is_valid_cipher(const char *cipher)
{
	size_t length = strlen(cipher);

	if (length == 0 || length >= sizeof(((struct dmt_crypt_options *)0)->cipher))
		return false;
	if (cipher[0] == '-' || cipher[0] == ':')
		return false;

	for (const char *p = cipher; *p; p++) {
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) &&
		    !strchr("-:()_", *p))
			return false;
	}
	return true;
}

static bool is_block_size(uint32_t size)
{
	return size >= 512 && size <= 4096 && is_power_of_2(size);
}

#define REJECT(...)                                   \
	do {                                          \
		snprintf(why, why_size, __VA_ARGS__); \
		return false;                         \
	} while (0)

static bool validate_crypt(const struct volume_header *h, char *why,
			   size_t why_size)
{
	const struct dmt_crypt_options *c = &h->crypt;

	if (!dmt_layout_has_crypt(h->layout)) {
		if (c->cipher[0] || c->key_bits || c->sector_size || c->flags ||
		    h->luks_size)
			REJECT("crypt fields set in a layout without encryption");
		return true;
	}

	if (!is_valid_cipher(c->cipher))
		REJECT("invalid cipher name '%s'", c->cipher);
	if (c->key_bits == 0 || c->key_bits > 1024 || c->key_bits % 8)
		REJECT("invalid key size %u bits", c->key_bits);
	if (!is_block_size(c->sector_size))
		REJECT("invalid crypt sector size %u", c->sector_size);
	if (c->flags & ~DMT_CRYPT_FLAGS_ALL)
		REJECT("unknown crypt flags 0x%x", c->flags);
	if (h->luks_size < MIB || h->luks_size > HEADER_MAX_LUKS_SIZE ||
	    h->luks_size % MIB)
		REJECT("invalid LUKS2 area size %llu",
		       (unsigned long long)h->luks_size);
	return true;
}

static bool validate_thin(const struct volume_header *h, char *why,
			  size_t why_size)
{
	uint64_t needed;

	if (h->chunk_size < THIN_CHUNK_MIN || h->chunk_size > THIN_CHUNK_MAX ||
	    h->chunk_size % THIN_CHUNK_MIN)
		REJECT("invalid thin chunk size %u", h->chunk_size);
	if (h->metadata_offset != 0)
		REJECT("metadata offset %llu is not 0",
		       (unsigned long long)h->metadata_offset);
	if (h->metadata_size < THIN_METADATA_MIN ||
	    h->metadata_size > THIN_METADATA_MAX ||
	    h->metadata_size % AREA_ALIGN)
		REJECT("invalid metadata area size %llu",
		       (unsigned long long)h->metadata_size);
	if (h->data_offset != h->metadata_size)
		REJECT("data area offset %llu does not follow the metadata area",
		       (unsigned long long)h->data_offset);
	if (h->data_max == 0 || h->data_max > HEADER_MAX_VIRTUAL_SIZE ||
	    h->data_max % h->chunk_size)
		REJECT("invalid maximum data size %llu",
		       (unsigned long long)h->data_max);
	if (h->data_size < h->chunk_size || h->data_size > h->data_max ||
	    h->data_size % h->chunk_size)
		REJECT("invalid data area size %llu (maximum %llu)",
		       (unsigned long long)h->data_size,
		       (unsigned long long)h->data_max);

	needed = layout_metadata_size(h->data_max, h->chunk_size);
	if (h->metadata_size < needed)
		REJECT("metadata area %llu is smaller than the %llu its maximum data size needs",
		       (unsigned long long)h->metadata_size,
		       (unsigned long long)needed);
	return true;
}

static bool validate_plain_data(const struct volume_header *h, char *why,
				size_t why_size)
{
	if (h->chunk_size || h->metadata_offset || h->metadata_size)
		REJECT("thin fields set in the crypt layout");
	if (h->data_offset != h->luks_size)
		REJECT("data offset %llu does not follow the LUKS2 area",
		       (unsigned long long)h->data_offset);
	if (h->data_size != h->virtual_size)
		REJECT("data size %llu differs from the volume size %llu",
		       (unsigned long long)h->data_size,
		       (unsigned long long)h->virtual_size);
	if (h->data_max < h->data_size || h->data_max > HEADER_MAX_VIRTUAL_SIZE)
		REJECT("invalid maximum data size %llu",
		       (unsigned long long)h->data_max);
	return true;
}

static bool validate_growth(const struct dmt_growth_policy *g, char *why,
			    size_t why_size)
{
	if (g->step_percent > 100)
		REJECT("growth step %u%% is over 100%%", g->step_percent);
	if (g->reserve_percent > 90)
		REJECT("reserve %u%% is over 90%%", g->reserve_percent);
	if (g->low_water_percent > 90)
		REJECT("low water mark %u%% is over 90%%", g->low_water_percent);
	if (g->step_bytes > HEADER_MAX_VIRTUAL_SIZE ||
	    g->reserve_bytes > HEADER_MAX_VIRTUAL_SIZE)
		REJECT("growth step or reserve beyond 1 EiB");
	return true;
}

bool header_validate(const struct volume_header *h, char *why,
		     size_t why_size)
{
	uint64_t alignment;

	if (h->layout < DMT_LAYOUT_THIN_CRYPT || h->layout > DMT_LAYOUT_THIN)
		REJECT("unknown layout %u", (unsigned int)h->layout);
	if (h->payload_offset != HEADER_PAYLOAD_OFFSET)
		REJECT("payload offset %llu is not %u",
		       (unsigned long long)h->payload_offset,
		       HEADER_PAYLOAD_OFFSET);
	if (!is_block_size(h->loop_block_size))
		REJECT("invalid loop block size %u", h->loop_block_size);
	if (!validate_crypt(h, why, why_size))
		return false;
	if (dmt_layout_has_thin(h->layout)) {
		if (!validate_thin(h, why, why_size))
			return false;
	} else if (!validate_plain_data(h, why, why_size)) {
		return false;
	}
	if (!validate_growth(&h->growth, why, why_size))
		return false;

	alignment = layout_size_alignment(h);
	if (h->virtual_size == 0 || h->virtual_size > HEADER_MAX_VIRTUAL_SIZE ||
	    h->virtual_size % alignment)
		REJECT("invalid volume size %llu (must be a multiple of %llu)",
		       (unsigned long long)h->virtual_size,
		       (unsigned long long)alignment);
	if (h->data_max % alignment || h->data_size % alignment)
		REJECT("data sizes are not multiples of %llu",
		       (unsigned long long)alignment);
	return true;
}

uint64_t header_pool_base(const struct volume_header *h)
{
	if (h->layout == DMT_LAYOUT_CRYPT_THIN)
		return h->payload_offset + h->luks_size;
	return h->payload_offset;
}

uint64_t header_image_end(const struct volume_header *h)
{
	if (h->layout == DMT_LAYOUT_CRYPT)
		return h->payload_offset + h->data_offset + h->data_size;
	return header_pool_base(h) + h->data_offset + h->data_size;
}

void header_uuid_string(const uint8_t uuid[16],
			char out[DMT_UUID_STRING_LEN + 1])
{
	snprintf(out, DMT_UUID_STRING_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6],
		 uuid[7], uuid[8], uuid[9], uuid[10], uuid[11], uuid[12],
		 uuid[13], uuid[14], uuid[15]);
}
