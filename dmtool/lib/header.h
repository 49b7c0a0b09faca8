/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The image header: a checksummed, versioned record at the start of the
 * backing that describes the volume, so that the stack can be rebuilt from
 * the image alone. Two slots hold alternate generations, so a torn write
 * leaves the previous one readable.
 */
#ifndef DMTOOL_HEADER_H
#define DMTOOL_HEADER_H

#include "internal.h"

#define HEADER_MAGIC "DMTOOLv1"
#define HEADER_FORMAT_VERSION 1
#define HEADER_ENCODED_SIZE 512u
#define HEADER_SLOT_SIZE 4096u
#define HEADER_SLOT_COUNT 2
/* The payload (everything the loop device shows) starts here. */
#define HEADER_PAYLOAD_OFFSET (1024u * 1024u)

#define HEADER_FLAG_LOOP_DIRECT_IO	(1u << 0)
#define HEADER_FLAG_ZERO_NEW_BLOCKS	(1u << 1)
#define HEADER_FLAG_GUARD		(1u << 2)
#define HEADER_FLAG_GROW_FS		(1u << 3)
#define HEADER_FLAGS_KNOWN		0xfu

/* Upper bounds that keep every computed offset far from overflow. */
#define HEADER_MAX_VIRTUAL_SIZE (1ull << 60)	/* 1 EiB */
#define HEADER_MAX_LUKS_SIZE (1ull << 30)

struct volume_header {
	uint32_t format_version;
	uint64_t sequence;
	uint8_t uuid[16];
	enum dmt_layout layout;
	uint32_t flags;			/* HEADER_FLAG_* */
	uint64_t virtual_size;		/* bytes users see */
	uint64_t payload_offset;	/* bytes from the image start */
	/* LUKS2 area at the start of the payload (crypt, crypt-thin) or of
	 * the thin volume (thin-crypt); the encrypted data follows it. */
	uint64_t luks_size;
	/* Thin areas, relative to the start of the device the pool is split
	 * from: the loop device, or the crypt device in crypt-thin. In the
	 * crypt layout, data_offset equals luks_size and data_size equals
	 * virtual_size. */
	uint64_t metadata_offset, metadata_size;
	uint64_t data_offset, data_size, data_max;
	uint32_t chunk_size;		/* thin data block, bytes */
	uint32_t loop_block_size;
	struct dmt_crypt_options crypt;
	struct dmt_growth_policy growth;
	uint64_t created;		/* seconds since the epoch */
};

/* Serializes h into one slot-sized block, with its checksum. */
void header_encode(const struct volume_header *h,
		   unsigned char block[HEADER_SLOT_SIZE]);

enum header_decode_result {
	HEADER_DECODED = 0,
	HEADER_NO_MAGIC,	/* not a dmtool header */
	HEADER_BAD_CHECKSUM,
	HEADER_UNSUPPORTED,	/* a newer format version or unknown flags */
	HEADER_INVALID,		/* checksummed but inconsistent */
};

/* Parses and validates one slot; on failure, why explains it. */
enum header_decode_result header_decode(const unsigned char *block,
					size_t size, struct volume_header *h,
					char *why, size_t why_size);

/* Checks every field and their relations; returns false and fills why. */
bool header_validate(const struct volume_header *h, char *why,
		     size_t why_size);

/* Bytes of the image that the header's layout covers today. */
uint64_t header_image_end(const struct volume_header *h);

/* Image offset of the device the thin areas are relative to. */
uint64_t header_pool_base(const struct volume_header *h);

void header_uuid_string(const uint8_t uuid[16],
			char out[DMT_UUID_STRING_LEN + 1]);

#endif
