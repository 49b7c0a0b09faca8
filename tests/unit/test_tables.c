// SPDX-License-Identifier: LGPL-2.1-or-later
/* Table builders, stack plans and the status parsers: the strings must be
 * what the kernel takes and prints back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "resize.h"
#include "stack.h"
#include "status_parse.h"
#include "table.h"

static void linear_and_thin_lines(void **state)
{
	struct dmt_target_line line;

	(void)state;
	assert_int_equal(table_linear(&line, 8192, "7:0", 2048), 0);
	assert_string_equal(line.type, "linear");
	assert_int_equal(line.length, 8192);
	assert_string_equal(line.params, "7:0 2048");
	table_lines_free(&line, 1);

	assert_int_equal(table_thin(&line, 100, "253:2", 0), 0);
	assert_string_equal(line.params, "253:2 0");
	table_lines_free(&line, 1);
}

static void pool_line_features(void **state)
{
	struct pool_table pool = { "253:0", "253:1", 128, 204, false };
	struct dmt_target_line line;

	(void)state;
	assert_int_equal(table_thin_pool(&line, 131072, &pool), 0);
	assert_string_equal(line.params,
			    "253:0 253:1 128 204 2 skip_block_zeroing error_if_no_space");
	table_lines_free(&line, 1);

	pool.zero_new_blocks = true;
	assert_int_equal(table_thin_pool(&line, 131072, &pool), 0);
	assert_string_equal(line.params, "253:0 253:1 128 204 1 error_if_no_space");
	table_lines_free(&line, 1);
}

static void crypt_line_masks_key(void **state)
{
	unsigned char key[4] = { 0xde, 0xad, 0xbe, 0xef };
	struct crypt_table crypt = {
		.cipher = "aes-xts-plain64", .key = key, .key_size = 4,
		.device = "253:3", .offset = 32768, .sector_size = 4096,
		.flags = DMT_CRYPT_ALLOW_DISCARDS | DMT_CRYPT_NO_READ_WORKQUEUE,
	};
	struct dmt_target_line line;
	char buffer[512];

	(void)state;
	assert_int_equal(table_crypt(&line, 800, &crypt, buffer, sizeof(buffer)), 0);
	assert_string_equal(line.params,
			    "aes-xts-plain64 deadbeef 0 253:3 32768 3 allow_discards no_read_workqueue sector_size:4096");

	crypt.key = NULL;
	crypt.flags = 0;
	crypt.sector_size = 512;
	assert_int_equal(table_crypt(&line, 800, &crypt, buffer, sizeof(buffer)), 0);
	assert_string_equal(line.params, "aes-xts-plain64 00000000 0 253:3 32768");

	assert_int_equal(table_crypt(&line, 800, &crypt, buffer, 16), -EINVAL);
}

static struct volume_header header_for(enum dmt_layout layout)
{
	struct volume_header h;
	char why[256];

	memset(&h, 0, sizeof(h));
	h.layout = layout;
	h.loop_block_size = 4096;
	h.chunk_size = dmt_layout_has_thin(layout) ? 64 * 1024 : 0;
	if (dmt_layout_has_crypt(layout)) {
		strcpy(h.crypt.cipher, "aes-xts-plain64");
		h.crypt.key_bits = 512;
		h.crypt.sector_size = 4096;
	}
	h.growth.low_water_percent = 20;
	memset(h.uuid, 0x11, sizeof(h.uuid));
	assert_true(layout_compute(&h, 1ull << 30, 64ull << 20, 0, why, sizeof(why)));
	return h;
}

static void plan_names_and_order(void **state)
{
	struct volume_header h = header_for(DMT_LAYOUT_THIN_CRYPT);
	struct stack_plan plan;

	(void)state;
	stack_plan_init(&plan, &h, "vol", false);
	assert_int_equal(plan.count, 5);
	assert_string_equal(plan.layers[0].name, "vol-tmeta");
	assert_string_equal(plan.layers[1].name, "vol-tdata");
	assert_string_equal(plan.layers[2].name, "vol-pool");
	assert_string_equal(plan.layers[3].name, "vol-thin");
	assert_string_equal(plan.layers[4].name, "vol");
	assert_true(plan.layers[4].top);
	assert_string_equal(plan.layers[2].uuid,
			    "DMTOOL-11111111-1111-1111-1111-111111111111-pool");

	h = header_for(DMT_LAYOUT_CRYPT_THIN);
	stack_plan_init(&plan, &h, "v", false);
	assert_int_equal(plan.count, 5);
	assert_string_equal(plan.layers[0].name, "v-crypt");
	assert_string_equal(plan.layers[4].name, "v");
	assert_int_equal(plan.layers[4].role, ROLE_THIN);

	h = header_for(DMT_LAYOUT_CRYPT);
	stack_plan_init(&plan, &h, "v", false);
	assert_int_equal(plan.count, 1);
	stack_plan_init(&plan, &h, "v", true);
	assert_int_equal(plan.count, 2);
	assert_string_equal(plan.layers[0].name, "v-guard");
}

static void plan_lines_reference_lower_layers(void **state)
{
	struct volume_header h = header_for(DMT_LAYOUT_CRYPT_THIN);
	struct dmt_target_line line;
	struct stack_plan plan;
	char buffer[STACK_CRYPT_LINE_MAX];

	(void)state;
	stack_plan_init(&plan, &h, "v", false);
	strcpy(plan.loop_ref, "7:4");
	plan.layers[0].exists = true;
	plan.layers[0].major = 253;
	plan.layers[0].minor = 9;

	assert_int_equal(stack_plan_line(&plan, 0, NULL, buffer, sizeof(buffer), &line), 0);
	assert_non_null(strstr(line.params, " 0 7:4 32768 "));
	assert_int_equal(line.length, (h.data_offset + h.data_size) >> 9);

	assert_int_equal(stack_plan_line(&plan, 1, NULL, buffer, sizeof(buffer), &line), 0);
	assert_string_equal(line.params, "253:9 0");
	table_lines_free(&line, 1);

	assert_int_equal(stack_plan_line(&plan, 3, NULL, buffer, sizeof(buffer), &line), 0);
	assert_string_equal(line.type, "thin-pool");
	assert_non_null(strstr(line.params, "/dev/mapper/v-tmeta /dev/mapper/v-tdata 128 "));
	table_lines_free(&line, 1);
}

static void names_are_checked(void **state)
{
	char why[256];
	char long_name[DMT_NAME_MAX + 2];

	(void)state;
	assert_true(stack_name_valid("vol_1.a+b-c", why, sizeof(why)));
	assert_false(stack_name_valid("", why, sizeof(why)));
	assert_false(stack_name_valid("a/b", why, sizeof(why)));
	assert_non_null(strstr(why, "'/'"));
	assert_false(stack_name_valid("-x", why, sizeof(why)));
	assert_false(stack_name_valid(".", why, sizeof(why)));
	assert_false(stack_name_valid("a b", why, sizeof(why)));
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_false(stack_name_valid(long_name, why, sizeof(why)));
	long_name[DMT_NAME_MAX] = '\0';
	assert_true(stack_name_valid(long_name, why, sizeof(why)));
}

static void uuid_parsing(void **state)
{
	char volume[DMT_UUID_STRING_LEN + 1];
	enum stack_role role;

	(void)state;
	assert_true(stack_parse_uuid("DMTOOL-11111111-1111-1111-1111-111111111111-tdata",
				     volume, &role));
	assert_string_equal(volume, "11111111-1111-1111-1111-111111111111");
	assert_int_equal(role, ROLE_TDATA);
	assert_false(stack_parse_uuid("CRYPT-LUKS2-1111-x", volume, &role));
	assert_false(stack_parse_uuid("DMTOOL-short-pool", volume, &role));
	assert_false(stack_parse_uuid("DMTOOL-11111111-1111-1111-1111-111111111111-bogus",
				      volume, &role));
}

static void pool_status_lines(void **state)
{
	struct pool_status s;

	(void)state;
	assert_true(parse_pool_status("0 114/1024 256/1024 - rw discard_passdown error_if_no_space - 256 ", &s));
	assert_int_equal(s.metadata_used, 114);
	assert_int_equal(s.metadata_total, 1024);
	assert_int_equal(s.data_used, 256);
	assert_int_equal(s.data_total, 1024);
	assert_int_equal(s.mode, DMT_POOL_RW);
	assert_true(s.discard_passdown);
	assert_true(s.error_if_no_space);
	assert_false(s.needs_check);

	assert_true(parse_pool_status("3 10/20 1024/1024 - out_of_data_space no_discard_passdown queue_if_no_space needs_check 5", &s));
	assert_int_equal(s.mode, DMT_POOL_OUT_OF_DATA_SPACE);
	assert_false(s.discard_passdown);
	assert_false(s.error_if_no_space);
	assert_true(s.needs_check);

	assert_true(parse_pool_status("1 10/20 5/1024 - ro discard_passdown error_if_no_space - 5", &s));
	assert_int_equal(s.mode, DMT_POOL_READ_ONLY);
	assert_true(parse_pool_status("Fail", &s));
	assert_int_equal(s.mode, DMT_POOL_FAIL);
	assert_false(parse_pool_status("Error", &s));
	assert_false(parse_pool_status("0 5/4 1/2 - rw x y - 1", &s));
}

static void crypt_table_fields(void **state)
{
	struct crypt_table_fields f;

	(void)state;
	assert_true(parse_crypt_table("aes-xts-plain64 0000 0 253:3 32768 4 allow_discards no_write_workqueue sector_size:4096 iv_large_sectors", &f));
	assert_string_equal(f.cipher, "aes-xts-plain64");
	assert_int_equal(f.key_hex_length, 4);
	assert_string_equal(f.device, "253:3");
	assert_int_equal(f.offset, 32768);
	assert_int_equal(f.flags, DMT_CRYPT_ALLOW_DISCARDS | DMT_CRYPT_NO_WRITE_WORKQUEUE);
	assert_int_equal(f.sector_size, 4096);
	assert_true(f.iv_large_sectors);

	assert_true(parse_crypt_table("aes-cbc-essiv:sha256 :32:logon:key 0 7:0 0", &f));
	assert_int_equal(f.sector_size, 512);
	assert_int_equal(f.flags, 0);
	assert_false(parse_crypt_table("aes", &f));
}

static void guard_line_and_status(void **state)
{
	struct guard_table guard = {
		.device = "7:0", .offset = 8192, .backing_file = "/host/vol.img",
		.file_offset = 1048576 + 4194304, .reserve = 1 << 20,
		.low_water = 257 << 20,
	};
	struct dmt_target_line line;
	struct guard_status s;

	(void)state;
	assert_int_equal(table_space_guard(&line, 131072, &guard), 0);
	assert_string_equal(line.type, "space-guard");
	assert_string_equal(line.params, "7:0 8192 /host/vol.img 5242880 1048576 269484032");
	table_lines_free(&line, 1);

	assert_true(parse_guard_status("low 1000 500 2000 4096 3", &s));
	assert_string_equal(s.state, "low");
	assert_int_equal(s.free, 1000);
	assert_int_equal(s.reserve, 500);
	assert_int_equal(s.low_water, 2000);
	assert_int_equal(s.allocated, 4096);
	assert_int_equal(s.failed_writes, 3);
	assert_true(parse_guard_status("exhausted 0 500 2000 - 7", &s));
	assert_int_equal(s.allocated, -1);
	assert_false(parse_guard_status("full 0 500 2000 - 7", &s));
	assert_false(parse_guard_status("ok 1 2", &s));
}

static void pool_params_new_low_water(void **state)
{
	char *params;

	(void)state;
	params = resize_pool_params("253:0 253:1 128 204 2 skip_block_zeroing error_if_no_space", 4096);
	assert_non_null(params);
	assert_string_equal(params, "253:0 253:1 128 4096 2 skip_block_zeroing error_if_no_space");
	free(params);
	assert_null(resize_pool_params("253:0 253:1 128", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(linear_and_thin_lines),
		cmocka_unit_test(pool_line_features),
		cmocka_unit_test(crypt_line_masks_key),
		cmocka_unit_test(plan_names_and_order),
		cmocka_unit_test(plan_lines_reference_lower_layers),
		cmocka_unit_test(names_are_checked),
		cmocka_unit_test(uuid_parsing),
		cmocka_unit_test(pool_status_lines),
		cmocka_unit_test(crypt_table_fields),
		cmocka_unit_test(guard_line_and_status),
		cmocka_unit_test(pool_params_new_low_water),
	};

	return cmocka_run_group_tests_name("tables", tests, NULL, NULL);
}
