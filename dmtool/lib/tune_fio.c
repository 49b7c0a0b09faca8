// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * tune_fio_run: runs one of dmt_tune's workloads with fio, the tool the
 * bench measures with, and reads its terse output. fio spends more CPU
 * time per I/O than dmt_tune's own AIO loop, as an application does. On a
 * machine with few CPUs, that decides whether dm-crypt's workqueues pay.
 */
#include "process.h"
#include "tune.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Terse version 3, 1-based fields: fio's version, the job's error, and
 * the read and write bandwidth in KiB/s. A result line starts with the
 * terse version and fio's version, "3;fio-". */
#define TERSE_FIO_VERSION_FIELD 2
#define TERSE_ERROR_FIELD 5
#define TERSE_READ_BW_FIELD 7
#define TERSE_WRITE_BW_FIELD 48
#define TERSE_FIELDS_NEEDED 48
#define FIO_OUTPUT_MAX 16384

bool tune_fio_available(void)
{
	char path[PATH_MAX];

	return process_find("fio", path, sizeof(path));
}

/* Splits one line at ';' into fields[1..] and returns the number of
 * fields. */
static size_t split_fields(char *line, char **fields, size_t max)
{
	size_t count = 0;
	char *next = line;

	while (next && count + 1 < max) {
		fields[++count] = next;
		next = strchr(next, ';');
		if (next)
			*next++ = '\0';
	}
	return count;
}

static bool parse_number(const char *text, double *value)
{
	char *end;

	*value = strtod(text, &end);
	return end != text && *end == '\0' && *value >= 0;
}

int tune_fio_parse(const char *output, double *rate, char *version,
		   size_t version_size)
{
	char *copy = strdup(output), *line, *save = NULL;
	int r = ENOMSG;

	if (!copy)
		return ENOMEM;
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *fields[TERSE_FIELDS_NEEDED + 2];
		double read_bw, write_bw, error;

		if (strncmp(line, "3;fio-", 6) != 0)
			continue;
		if (split_fields(line, fields, ARRAY_SIZE(fields)) < TERSE_FIELDS_NEEDED)
			continue;
		if (!parse_number(fields[TERSE_ERROR_FIELD], &error) ||
		    !parse_number(fields[TERSE_READ_BW_FIELD], &read_bw) ||
		    !parse_number(fields[TERSE_WRITE_BW_FIELD], &write_bw))
			continue;
		snprintf(version, version_size, "%s", fields[TERSE_FIO_VERSION_FIELD]);
		if (error != 0) {
			r = error < INT_MAX ? (int)error : EIO;
			break;
		}
		*rate = (read_bw + write_bw) * 1024;
		r = 0;
		break;
	}
	free(copy);
	return r;
}

/* Writes fio's --filename option. fio reads ':' in a file name as a
 * separator between names, so the option escapes it. */
static void filename_option(const char *device, char *buffer, size_t size)
{
	size_t used = (size_t)snprintf(buffer, size, "--filename=");

	for (const char *c = device; *c && used + 3 < size; c++) {
		if (*c == ':')
			buffer[used++] = '\\';
		buffer[used++] = *c;
	}
	buffer[used] = '\0';
}

/* Returns fio's last own message ("fio: ..."), for an error message, or
 * "" when it printed none. Cuts output at that line's end. */
static const char *fio_message(char *output)
{
	char *found = NULL, *line = output;

	while (line && *line) {
		if (strncmp(line, "fio: ", 5) == 0)
			found = line;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (!found)
		return "";
	found[strcspn(found, "\n")] = '\0';
	return found;
}

int tune_fio_run(struct dmt_context *ctx, const char *device, uint64_t size,
		 const struct tune_profile *profile, uint32_t runtime_ms,
		 const volatile sig_atomic_t *cancel, double *rate,
		 char *version, size_t version_size, struct dmt_error *err)
{
	char name[64], filename[2 * PATH_MAX], size_arg[48], rw[32], bs[32];
	char depth[32], runtime[48], ramp[48];
	char *argv[] = {
		/* With --thread, the job dies with fio, which dies with dmtool. */
		"fio", "--eta=never", "--minimal", "--terse-version=3", "--thread",
		name, filename, "--allow_file_create=0", size_arg, "--direct=1",
		"--ioengine=libaio", rw, bs, depth, "--time_based", runtime, ramp,
		NULL,
	};
	char *output;
	int status, r;

	filename_option(device, filename, sizeof(filename));
	snprintf(name, sizeof(name), "--name=%s", profile->name);
	snprintf(size_arg, sizeof(size_arg), "--size=%llu", (unsigned long long)size);
	snprintf(rw, sizeof(rw), "--rw=%s%s", profile->random ? "rand" : "",
		 profile->write ? "write" : "read");
	snprintf(bs, sizeof(bs), "--bs=%u", profile->block);
	snprintf(depth, sizeof(depth), "--iodepth=%u", profile->depth);
	snprintf(runtime, sizeof(runtime), "--runtime=%ums", runtime_ms);
	snprintf(ramp, sizeof(ramp), "--ramp_time=%ums", runtime_ms / 2);

	output = malloc(FIO_OUTPUT_MAX);
	if (!output)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM, "out of memory");
	r = process_capture(ctx, argv, output, FIO_OUTPUT_MAX, cancel, &status, err);
	if (r)
		goto free_output;

	/* A failed job still prints its result line, with its error. */
	r = tune_fio_parse(output, rate, version, version_size);
	if (r == ENOMSG)
		r = dmt_fail(ctx, err, DMT_ERR_FAILED, EIO,
			     "%s: fio printed no result for %s (exit status %d) %s",
			     device, profile->name, status, fio_message(output));
	else if (r)
		r = dmt_fail(ctx, err, DMT_ERR_FAILED, r,
			     "%s: %s failed under fio: %s %s", device,
			     profile->name, strerror(r), fio_message(output));
	else if (status != 0)
		r = dmt_fail(ctx, err, DMT_ERR_FAILED, EIO,
			     "%s: fio failed on %s (exit status %d) %s", device,
			     profile->name, status, fio_message(output));

free_output:
	free(output);
	return r;
}
