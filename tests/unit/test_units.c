// SPDX-License-Identifier: LGPL-2.1-or-later
/* Size parsing and formatting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "dmtool.h"

static uint64_t parse(const char *text)
{
	uint64_t bytes = 0;

	assert_int_equal(dmt_parse_size(text, &bytes), DMT_OK);
	return bytes;
}

static void parse_size_units(void **state)
{
	(void)state;
	assert_int_equal(parse("4096"), 4096);
	assert_int_equal(parse("512b"), 512);
	assert_int_equal(parse("64K"), 64 * 1024);
	assert_int_equal(parse("64k"), 64 * 1024);
	assert_int_equal(parse("64KiB"), 64 * 1024);
	assert_int_equal(parse("1KB"), 1000);
	assert_int_equal(parse("10G"), 10ull << 30);
	assert_int_equal(parse("10GiB"), 10ull << 30);
	assert_int_equal(parse("2GB"), 2000000000ull);
	assert_int_equal(parse("1T"), 1ull << 40);
	assert_int_equal(parse("1P"), 1ull << 50);
}

static void parse_size_fractions(void **state)
{
	(void)state;
	assert_int_equal(parse("1.5G"), 3ull << 29);
	assert_int_equal(parse("0.5M"), 512 * 1024);
	assert_int_equal(parse("1.25T"), 5ull << 38);
}

static void parse_size_rejects_garbage(void **state)
{
	static const char *const invalid[] = {
		"", "G", "-1", "1.", ".5G", "10X", "10 G", "1e9", "0x10",
		"1.5", "99999999999999999999", "16384P", "12GiBs", " 1G",
	};
	uint64_t bytes;

	(void)state;
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		if (dmt_parse_size(invalid[i], &bytes) == DMT_OK)
			fail_msg("'%s' parsed as %llu", invalid[i],
				 (unsigned long long)bytes);
	}
}

static void parse_percent(void **state)
{
	uint64_t bytes = 1;
	uint32_t percent = 0;

	(void)state;
	assert_int_equal(dmt_parse_size_or_percent("10%", &bytes, &percent), DMT_OK);
	assert_int_equal(percent, 10);
	assert_int_equal(bytes, 0);
	assert_int_equal(dmt_parse_size_or_percent("256M", &bytes, &percent), DMT_OK);
	assert_int_equal(percent, 0);
	assert_int_equal(bytes, 256ull << 20);
	assert_int_not_equal(dmt_parse_size_or_percent("0%", &bytes, &percent), DMT_OK);
	assert_int_not_equal(dmt_parse_size_or_percent("101%", &bytes, &percent), DMT_OK);
	assert_int_not_equal(dmt_parse_size_or_percent("%", &bytes, &percent), DMT_OK);
	assert_int_not_equal(dmt_parse_size_or_percent("5.5%", &bytes, &percent), DMT_OK);
}

static void format_size_units(void **state)
{
	char buffer[32];

	(void)state;
	assert_string_equal(dmt_format_size(512, buffer, sizeof(buffer)), "512 B");
	assert_string_equal(dmt_format_size(64 * 1024, buffer, sizeof(buffer)), "64.00 KiB");
	assert_string_equal(dmt_format_size(3ull << 29, buffer, sizeof(buffer)), "1.50 GiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_size_units),
		cmocka_unit_test(parse_size_fractions),
		cmocka_unit_test(parse_size_rejects_garbage),
		cmocka_unit_test(parse_percent),
		cmocka_unit_test(format_size_units),
	};

	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
