// SPDX-License-Identifier: LGPL-2.1-or-later
/* Reading fio's terse output for dmtool tune. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tune.h"

#define TERSE_FIELDS 130

/* A terse version 3 line as fio 3.33 prints it for a job without disk
 * statistics: 130 fields, the last empty, with the given error and read
 * and write bandwidth in KiB/s. */
static void terse_line(char *buffer, size_t size, const char *error,
		       const char *read_bw, const char *write_bw)
{
	size_t used = 0;

	for (int field = 1; field <= TERSE_FIELDS; field++) {
		const char *value = "0";

		if (field == 1)
			value = "3";
		else if (field == 2)
			value = "fio-3.33";
		else if (field == 3)
			value = "rand-read-qd32";
		else if (field == 5)
			value = error;
		else if (field == 7)
			value = read_bw;
		else if (field == 48)
			value = write_bw;
		else if (field == TERSE_FIELDS)
			value = "";
		used += (size_t)snprintf(buffer + used, size - used, "%s%s", value,
					 field < TERSE_FIELDS ? ";" : "\n");
	}
}

static void reads_read_bandwidth(void **state)
{
	char line[2048], version[32] = "";
	double rate = 0;

	(void)state;
	terse_line(line, sizeof(line), "0", "81554", "0");
	assert_int_equal(tune_fio_parse(line, &rate, version, sizeof(version)), 0);
	assert_true(rate == 81554.0 * 1024);
	assert_string_equal(version, "fio-3.33");
}

static void adds_write_bandwidth(void **state)
{
	char line[2048], version[32];
	double rate = 0;

	(void)state;
	terse_line(line, sizeof(line), "0", "100", "11291215");
	assert_int_equal(tune_fio_parse(line, &rate, version, sizeof(version)), 0);
	assert_true(rate == (100.0 + 11291215) * 1024);
}

static void skips_other_output(void **state)
{
	char output[4096], version[32];
	double rate = 0;
	int used;

	(void)state;
	used = snprintf(output, sizeof(output),
			"fio: this is a warning\n3;not;enough;fields\n");
	terse_line(output + used, sizeof(output) - (size_t)used, "0", "2048", "0");
	strcat(output, "trailing text\n");
	assert_int_equal(tune_fio_parse(output, &rate, version, sizeof(version)), 0);
	assert_true(rate == 2048.0 * 1024);
}

static void reports_job_error(void **state)
{
	char line[2048], version[32];
	double rate = -1;

	(void)state;
	terse_line(line, sizeof(line), "28", "0", "0");
	assert_int_equal(tune_fio_parse(line, &rate, version, sizeof(version)), ENOSPC);
	assert_true(rate == -1);
}

static void rejects_missing_or_bad_lines(void **state)
{
	char line[2048], version[32];
	double rate = -1;

	(void)state;
	assert_int_equal(tune_fio_parse("", &rate, version, sizeof(version)), ENOMSG);
	assert_int_equal(tune_fio_parse("fio: failed to open\n", &rate, version,
					sizeof(version)), ENOMSG);
	terse_line(line, sizeof(line), "0", "fast", "0");
	assert_int_equal(tune_fio_parse(line, &rate, version, sizeof(version)), ENOMSG);
	terse_line(line, sizeof(line), "0", "-5", "0");
	assert_int_equal(tune_fio_parse(line, &rate, version, sizeof(version)), ENOMSG);
	assert_true(rate == -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_read_bandwidth),
		cmocka_unit_test(adds_write_bandwidth),
		cmocka_unit_test(skips_other_output),
		cmocka_unit_test(reports_job_error),
		cmocka_unit_test(rejects_missing_or_bad_lines),
	};

	return cmocka_run_group_tests_name("tune_fio", tests, NULL, NULL);
}
