// SPDX-License-Identifier: LGPL-2.1-or-later
/* Image header encoding, decoding and validation, including corrupt and
 * hostile headers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "header.h"
#include "layout.h"

static struct volume_header sample(enum dmt_layout layout)
{
	struct volume_header h;
	char why[256];

	memset(&h, 0, sizeof(h));
	h.format_version = HEADER_FORMAT_VERSION;
	h.layout = layout;
	h.loop_block_size = 4096;
	h.chunk_size = dmt_layout_has_thin(layout) ? 64 * 1024 : 0;
	memset(h.uuid, 0xab, sizeof(h.uuid));
	if (dmt_layout_has_crypt(layout)) {
		strcpy(h.crypt.cipher, "aes-xts-plain64");
		h.crypt.key_bits = 512;
		h.crypt.sector_size = 4096;
		h.crypt.flags = DMT_CRYPT_ALLOW_DISCARDS;
	}
	h.growth.step_percent = 50;
	h.growth.low_water_percent = 20;
	h.growth.reserve_percent = 5;
	if (!layout_compute(&h, 10ull << 30, 64ull << 20, 0, why, sizeof(why)))
		fail_msg("layout_compute: %s", why);
	return h;
}

static void encode_decode_roundtrip(void **state)
{
	unsigned char block[HEADER_SLOT_SIZE];
	struct volume_header decoded;
	char why[256];

	(void)state;
	for (int layout = DMT_LAYOUT_THIN_CRYPT; layout <= DMT_LAYOUT_THIN; layout++) {
		struct volume_header h = sample((enum dmt_layout)layout);

		h.sequence = 7;
		header_encode(&h, block);
		if (header_decode(block, sizeof(block), &decoded, why,
				  sizeof(why)) != HEADER_DECODED)
			fail_msg("layout %d: %s", layout, why);
		assert_int_equal(decoded.sequence, 7);
		assert_int_equal(decoded.layout, layout);
		assert_int_equal(decoded.virtual_size, h.virtual_size);
		assert_int_equal(decoded.data_size, h.data_size);
		assert_int_equal(decoded.data_max, h.data_max);
		assert_int_equal(decoded.metadata_size, h.metadata_size);
		assert_string_equal(decoded.crypt.cipher, h.crypt.cipher);
		assert_memory_equal(decoded.uuid, h.uuid, sizeof(h.uuid));
	}
}

static void decode_rejects_bad_checksum(void **state)
{
	unsigned char block[HEADER_SLOT_SIZE];
	struct volume_header h = sample(DMT_LAYOUT_THIN_CRYPT), decoded;
	char why[256];

	(void)state;
	header_encode(&h, block);
	block[100] ^= 1;
	assert_int_equal(header_decode(block, sizeof(block), &decoded, why,
				       sizeof(why)), HEADER_BAD_CHECKSUM);
	assert_non_null(strstr(why, "checksum"));
}

static void decode_rejects_missing_magic(void **state)
{
	unsigned char block[HEADER_SLOT_SIZE];
	struct volume_header decoded;
	char why[256];

	(void)state;
	memset(block, 0, sizeof(block));
	assert_int_equal(header_decode(block, sizeof(block), &decoded, why,
				       sizeof(why)), HEADER_NO_MAGIC);
	assert_int_equal(header_decode(block, 100, &decoded, why, sizeof(why)),
			 HEADER_NO_MAGIC);
}

/* Re-checksums a modified block, as a forger would. */
static void reseal(unsigned char *block)
{
	uint32_t crc = crc32c(0, block, HEADER_ENCODED_SIZE - 4);

	memcpy(block + HEADER_ENCODED_SIZE - 4, &crc, 4);
}

static void decode_rejects_newer_version(void **state)
{
	unsigned char block[HEADER_SLOT_SIZE];
	struct volume_header h = sample(DMT_LAYOUT_THIN), decoded;
	char why[256];

	(void)state;
	header_encode(&h, block);
	block[8] = 2;	/* format_version */
	reseal(block);
	assert_int_equal(header_decode(block, sizeof(block), &decoded, why,
				       sizeof(why)), HEADER_UNSUPPORTED);

	header_encode(&h, block);
	block[47] = 0x80;	/* a high feature flag */
	reseal(block);
	assert_int_equal(header_decode(block, sizeof(block), &decoded, why,
				       sizeof(why)), HEADER_UNSUPPORTED);
}

static void expect_invalid(struct volume_header h, const char *what)
{
	char why[256] = "";

	if (header_validate(&h, why, sizeof(why)))
		fail_msg("accepted a header with %s", what);
	assert_true(why[0] != '\0');
}

static void validate_rejects_inconsistent_fields(void **state)
{
	struct volume_header good = sample(DMT_LAYOUT_THIN_CRYPT), h;

	(void)state;
	h = good; h.layout = (enum dmt_layout)9; expect_invalid(h, "an unknown layout");
	h = good; h.payload_offset = 0; expect_invalid(h, "payload offset 0");
	h = good; h.chunk_size = 4096; expect_invalid(h, "a 4 KiB chunk");
	h = good; h.chunk_size = 96 * 1024; expect_invalid(h, "a chunk that is not a multiple of 64 KiB");
	h = good; h.metadata_size = 1 << 20; expect_invalid(h, "metadata below 2 MiB");
	h = good; h.metadata_size = THIN_METADATA_MAX + (1 << 20); expect_invalid(h, "metadata over the dm-thin limit");
	h = good; h.data_offset += 1 << 20; expect_invalid(h, "a gap after the metadata");
	h = good; h.data_size = h.data_max + h.chunk_size; expect_invalid(h, "data over its maximum");
	h = good; h.data_size = 0; expect_invalid(h, "an empty data area");
	h = good; h.data_size += 512; expect_invalid(h, "an unaligned data size");
	h = good; h.data_max = ~0ull - 65535; expect_invalid(h, "a huge maximum");
	h = good; h.data_max *= 1024; expect_invalid(h, "metadata too small for the maximum");
	h = good; h.virtual_size = 0; expect_invalid(h, "a zero volume size");
	h = good; h.virtual_size = 1ull << 62; expect_invalid(h, "a volume size over 1 EiB");
	h = good; h.virtual_size += 4096; expect_invalid(h, "a size that is not chunk aligned");
	h = good; h.loop_block_size = 8192; expect_invalid(h, "an 8 KiB loop block");
	h = good; h.crypt.key_bits = 0; expect_invalid(h, "a 0-bit key");
	h = good; h.crypt.sector_size = 3000; expect_invalid(h, "a crypt sector of 3000");
	h = good; h.crypt.flags = 0x100; expect_invalid(h, "unknown crypt flags");
	h = good; strcpy(h.crypt.cipher, "aes xts"); expect_invalid(h, "a cipher with a space");
	h = good; strcpy(h.crypt.cipher, "-aes"); expect_invalid(h, "a cipher starting with '-'");
	h = good; h.crypt.cipher[0] = '\0'; expect_invalid(h, "an empty cipher");
	h = good; h.luks_size = 0; expect_invalid(h, "no LUKS2 area");
	h = good; h.luks_size = 2ull << 30; expect_invalid(h, "a 2 GiB LUKS2 area");
	h = good; h.growth.step_percent = 101; expect_invalid(h, "a 101% growth step");
	h = good; h.growth.reserve_percent = 95; expect_invalid(h, "a 95% reserve");
}

static void validate_rejects_crypt_fields_without_crypt(void **state)
{
	struct volume_header h = sample(DMT_LAYOUT_THIN);

	(void)state;
	strcpy(h.crypt.cipher, "aes-xts-plain64");
	expect_invalid(h, "a cipher in the thin layout");
}

static void validate_crypt_layout_sizes(void **state)
{
	struct volume_header good = sample(DMT_LAYOUT_CRYPT), h;
	char why[256];

	(void)state;
	assert_true(header_validate(&good, why, sizeof(why)));
	assert_int_equal(good.data_offset, good.luks_size);
	assert_int_equal(good.data_size, good.virtual_size);
	h = good; h.chunk_size = 65536; expect_invalid(h, "a chunk in the crypt layout");
	h = good; h.data_size = good.virtual_size / 2; expect_invalid(h, "a data size unlike the volume size");
}

/* Random byte changes, re-checksummed, must never crash the decoder and
 * never yield a header that fails validation. */
static void decode_survives_mutations(void **state)
{
	unsigned char original[HEADER_SLOT_SIZE], block[HEADER_SLOT_SIZE];
	struct volume_header h = sample(DMT_LAYOUT_CRYPT_THIN), decoded;
	unsigned int decoded_count = 0;
	char why[256];

	(void)state;
	srand(12345);
	header_encode(&h, original);
	for (int round = 0; round < 200000; round++) {
		int changes = 1 + rand() % 4;

		memcpy(block, original, sizeof(block));
		for (int i = 0; i < changes; i++)
			block[rand() % (HEADER_ENCODED_SIZE - 4)] = (unsigned char)rand();
		if (rand() % 4)
			reseal(block);
		if (header_decode(block, sizeof(block), &decoded, why,
				  sizeof(why)) != HEADER_DECODED)
			continue;
		decoded_count++;
		assert_true(header_validate(&decoded, why, sizeof(why)));
		assert_true(header_image_end(&decoded) > decoded.payload_offset);
		assert_true(header_image_end(&decoded) < (1ull << 62));
	}
	/* Mutations in reserved bytes keep a header valid. */
	assert_true(decoded_count > 0);
}

static void crc32c_known_vector(void **state)
{
	(void)state;
	/* The CRC-32C check value from RFC 3720, appendix B.4. */
	assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283);
}

static void uuid_string_format(void **state)
{
	uint8_t uuid[16];
	char text[DMT_UUID_STRING_LEN + 1];

	(void)state;
	for (int i = 0; i < 16; i++)
		uuid[i] = (uint8_t)i;
	header_uuid_string(uuid, text);
	assert_string_equal(text, "00010203-0405-0607-0809-0a0b0c0d0e0f");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encode_decode_roundtrip),
		cmocka_unit_test(decode_rejects_bad_checksum),
		cmocka_unit_test(decode_rejects_missing_magic),
		cmocka_unit_test(decode_rejects_newer_version),
		cmocka_unit_test(validate_rejects_inconsistent_fields),
		cmocka_unit_test(validate_rejects_crypt_fields_without_crypt),
		cmocka_unit_test(validate_crypt_layout_sizes),
		cmocka_unit_test(decode_survives_mutations),
		cmocka_unit_test(crc32c_known_vector),
		cmocka_unit_test(uuid_string_format),
	};

	return cmocka_run_group_tests_name("header", tests, NULL, NULL);
}
