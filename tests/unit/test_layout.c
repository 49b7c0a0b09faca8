// SPDX-License-Identifier: LGPL-2.1-or-later
/* Area sizing: metadata for the maximum data size, rounding and bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "layout.h"

/* Bytes 'thin_metadata_size -b BLOCK -s SIZE -m 1 -u b -n' printed
 * (thin-provisioning-tools 0.9.0, Debian 12). */
static const struct {
	uint64_t data;
	uint32_t chunk;
	uint64_t tool_bytes;
} reference[] = {
	{ 64ull << 20, 64 << 10, 40960 },
	{ 1ull << 30, 64 << 10, 540672 },
	{ 10ull << 30, 64 << 10, 5332992 },
	{ 10ull << 30, 1 << 20, 339968 },
	{ 100ull << 30, 64 << 10, 53268480 },
	{ 1ull << 40, 64 << 10, 545398784 },
	{ 1ull << 40, 1 << 20, 34095104 },
	{ 16ull << 40, 64 << 10, 8726290432ull },
};

static void metadata_covers_thin_metadata_size(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(reference) / sizeof(reference[0]); i++) {
		uint64_t ours = layout_metadata_size(reference[i].data,
						     reference[i].chunk);

		if (ours < reference[i].tool_bytes)
			fail_msg("%llu bytes in %u-byte chunks: %llu < thin_metadata_size %llu",
				 (unsigned long long)reference[i].data,
				 reference[i].chunk, (unsigned long long)ours,
				 (unsigned long long)reference[i].tool_bytes);
		assert_int_equal(ours % AREA_ALIGN, 0);
		assert_true(ours >= THIN_METADATA_MIN);
	}
}

static struct volume_header base(enum dmt_layout layout)
{
	struct volume_header h;

	memset(&h, 0, sizeof(h));
	h.layout = layout;
	h.loop_block_size = 4096;
	h.chunk_size = dmt_layout_has_thin(layout) ? 64 * 1024 : 0;
	if (dmt_layout_has_crypt(layout))
		h.crypt.sector_size = 4096;
	return h;
}

static void compute_rounds_to_chunk(void **state)
{
	struct volume_header h = base(DMT_LAYOUT_THIN);
	char why[256];

	(void)state;
	assert_true(layout_compute(&h, 1000 * 1024, 100 * 1024, 0, why, sizeof(why)));
	assert_int_equal(h.virtual_size, 1024 * 1024);
	assert_int_equal(h.data_size, 128 * 1024);
	assert_int_equal(h.data_max, 1024 * 1024);
	assert_int_equal(h.data_offset, h.metadata_size);
}

static void compute_thin_crypt_adds_luks_area(void **state)
{
	struct volume_header h = base(DMT_LAYOUT_THIN_CRYPT);
	char why[256];

	(void)state;
	assert_true(layout_compute(&h, 1ull << 30, 0, 0, why, sizeof(why)));
	assert_int_equal(h.luks_size, LUKS_SIZE_DEFAULT);
	assert_int_equal(h.data_max, (1ull << 30) + LUKS_SIZE_DEFAULT);
	assert_int_equal(h.data_size, INITIAL_SIZE_DEFAULT);
}

static void compute_crypt_thin_has_luks_area(void **state)
{
	struct volume_header h = base(DMT_LAYOUT_CRYPT_THIN);
	char why[256];

	(void)state;
	assert_true(layout_compute(&h, 1ull << 30, 0, 0, why, sizeof(why)));
	assert_int_equal(h.luks_size, LUKS_SIZE_DEFAULT);
	assert_int_equal(h.data_max, 1ull << 30);
	assert_int_equal(header_pool_base(&h), HEADER_PAYLOAD_OFFSET + LUKS_SIZE_DEFAULT);
}

static void compute_crypt_layout(void **state)
{
	struct volume_header h = base(DMT_LAYOUT_CRYPT);
	char why[256];

	(void)state;
	assert_true(layout_compute(&h, 5000, 0, 0, why, sizeof(why)));
	assert_int_equal(h.virtual_size, 8192);
	assert_int_equal(h.data_size, 8192);
	assert_int_equal(h.data_offset, LUKS_SIZE_DEFAULT);
	assert_int_equal(header_image_end(&h), HEADER_PAYLOAD_OFFSET + LUKS_SIZE_DEFAULT + 8192);
}

static void compute_rejects_bad_requests(void **state)
{
	struct volume_header h = base(DMT_LAYOUT_THIN);
	char why[256];

	(void)state;
	assert_false(layout_compute(&h, 0, 0, 0, why, sizeof(why)));
	assert_non_null(strstr(why, "0"));
	h = base(DMT_LAYOUT_THIN);
	assert_false(layout_compute(&h, 1ull << 30, 2ull << 30, 0, why, sizeof(why)));
	assert_non_null(strstr(why, "exceeds"));
	h = base(DMT_LAYOUT_THIN);
	assert_false(layout_compute(&h, 1ull << 61, 0, 0, why, sizeof(why)));
	h = base(DMT_LAYOUT_THIN);
	/* 1 EiB in 64 KiB chunks needs far more metadata than dm-thin allows. */
	assert_false(layout_compute(&h, 1ull << 60, 0, 0, why, sizeof(why)));
	assert_non_null(strstr(why, "larger chunk size"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(metadata_covers_thin_metadata_size),
		cmocka_unit_test(compute_rounds_to_chunk),
		cmocka_unit_test(compute_thin_crypt_adds_luks_area),
		cmocka_unit_test(compute_crypt_thin_has_luks_area),
		cmocka_unit_test(compute_crypt_layout),
		cmocka_unit_test(compute_rejects_bad_requests),
	};

	return cmocka_run_group_tests_name("layout", tests, NULL, NULL);
}
