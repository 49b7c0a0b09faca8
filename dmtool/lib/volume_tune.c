// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmt_tune: measure dm-crypt flag variants beside an open volume and record
 * the best in its header. In order:
 *
 *   1. read the header and find the volume's devices;
 *   2. set up a scratch device beside the stack (a thin device in the
 *      volume's pool, or a loop device over a temporary file next to the
 *      image) and write it once, so every read below reads real blocks;
 *   3. set up one dm-crypt device per variant over the scratch device,
 *      with a random throwaway key and the variant's flags;
 *   4. for each round and each profile, measure every variant in turn
 *      with O_DIRECT, through fio or dmtool's own Linux AIO loop.
 *      Compared measurements lie seconds apart, so a change in the
 *      machine's load affects all variants alike;
 *   5. remove the crypt devices and the scratch device (deleting the
 *      scratch thin device returns its blocks to the pool);
 *   6. score each variant against the header's flags by the median, over
 *      the rounds, of their paired ratios and, unless this is a dry run,
 *      write the chosen flags into the header under the image lock. The
 *      open stack keeps its flags until the next open.
 *
 * The image lock is not held while measuring, so the monitor can still
 * grow the pool in the meantime.
 */
#include "image.h"
#include "loop.h"
#include "mapper.h"
#include "stack.h"
#include "status_parse.h"
#include "table.h"
#include "tune.h"
#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define TUNE_RUNTIME_MS_DEFAULT 1000u
/* Each result is the median of three passes, so one pass disturbed by
 * other load does not decide it. */
#define TUNE_ROUNDS_DEFAULT 3u
#define TUNE_ROUNDS_MAX 20u
#define TUNE_SCRATCH_DEFAULT (64 * MIB)
#define TUNE_SCRATCH_MIN (16 * MIB)
#define TUNE_SCRATCH_MAX (4 * GIB)
/* Thin device id of the scratch device; dmtool's volumes use id 0. */
#define TUNE_THIN_ID 1
/* How long a leftover scratch device may stay open before it counts as
 * another tune's. */
#define LEFTOVER_WAIT_MS 3000
/* A variant must beat the header's flags by this much to replace them. */
#define TUNE_MIN_GAIN 1.03

const struct tune_profile tune_profiles[DMT_TUNE_PROFILE_COUNT] = {
	[DMT_TUNE_SEQ_WRITE] = { "seq-write", 1024 * 1024, 8, true, false },
	[DMT_TUNE_SEQ_READ] = { "seq-read", 1024 * 1024, 8, false, false },
	[DMT_TUNE_RAND_WRITE_QD1] = { "rand-write-qd1", 4096, 1, true, true },
	[DMT_TUNE_RAND_WRITE_QD32] = { "rand-write-qd32", 4096, 32, true, true },
	[DMT_TUNE_RAND_READ_QD1] = { "rand-read-qd1", 4096, 1, false, true },
	[DMT_TUNE_RAND_READ_QD32] = { "rand-read-qd32", 4096, 32, false, true },
};

enum scratch_kind {
	SCRATCH_THIN,	/* thin device TUNE_THIN_ID in the volume's pool */
	SCRATCH_FILE,	/* loop device over an unlinked temporary file */
};

struct tune {
	struct dmt_context *ctx;
	const struct dmt_tune_params *params;
	struct dmt_tune_result *result;
	uint32_t runtime_ms;
	uint32_t rounds;
	uint64_t size;			/* bytes of the scratch device */

	struct volume_devices volume;
	struct loop_state loop;		/* the volume's loop device */
	struct volume_header header;

	enum scratch_kind kind;
	const struct volume_device *pool;
	char thin_name[128];		/* SCRATCH_THIN */
	bool thin_created;		/* create_thin succeeded */
	bool thin_active;		/* its dm device exists */
	struct loop_device scratch_loop;	/* SCRATCH_FILE */
	bool loop_attached;
	char scratch_path[PATH_MAX];	/* the scratch device's node */
	char scratch_ref[32];		/* and its major:minor */

	/* One dm-crypt device per variant, all over the scratch device. Each
	 * stays open from creation to removal, so a second tune of the volume
	 * finds it in use and does not take it for a leftover. */
	char crypt_name[DMT_TUNE_MAX_VARIANTS][128];
	bool crypt_active[DMT_TUNE_MAX_VARIANTS];
	int crypt_fd[DMT_TUNE_MAX_VARIANTS];	/* O_DIRECT; -1: not open */
	struct dmt_secret *key;
	struct dmt_secret *table_buffer;

	/* Measured bytes per second per variant, profile and round. */
	double samples[DMT_TUNE_MAX_VARIANTS][DMT_TUNE_PROFILE_COUNT][TUNE_ROUNDS_MAX];
};

const char *dmt_tune_profile_name(enum dmt_tune_profile profile)
{
	if (profile >= DMT_TUNE_PROFILE_COUNT)
		return "unknown";
	return tune_profiles[profile].name;
}

const char *dmt_tune_engine_name(enum dmt_tune_engine engine)
{
	switch (engine) {
	case DMT_TUNE_ENGINE_AUTO:
		return "auto";
	case DMT_TUNE_ENGINE_AIO:
		return "aio";
	case DMT_TUNE_ENGINE_FIO:
		return "fio";
	}
	return "unknown";
}

/* Opens a scratch device for I/O that bypasses the page cache. */
static int open_direct(struct tune *t, const char *path, int *fd,
		       struct dmt_error *err)
{
	*fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (*fd < 0)
		return dmt_fail(t->ctx, err, DMT_ERR_FAILED, errno,
				"%s: cannot open the scratch device: %s", path,
				strerror(errno));
	return DMT_OK;
}

/* run_io on the device at path, opened with O_DIRECT. */
static int run_io_on(struct tune *t, const char *path,
		     const struct tune_profile *profile,
		     const struct tune_limits *limits, double *rate,
		     struct dmt_error *err)
{
	int fd;
	int r = open_direct(t, path, &fd, err);

	if (r)
		return r;
	r = tune_aio_run(t->ctx, fd, path, t->size, profile, limits, rate, err);
	close(fd);
	return r;
}

/* ---- The scratch device -------------------------------------------------- */

static void device_name(const struct tune *t, const char *role, char *name,
			size_t size)
{
	snprintf(name, size, "%s-tune-%s", t->volume.name, role);
}

static void device_uuid(const struct tune *t, const char *role, char *uuid,
			size_t size)
{
	/* The volume's UUID prefix, so 'dmtool close' also removes devices
	 * that an interrupted tune left behind. */
	snprintf(uuid, size, "%s%s-tune-%s", DMT_UUID_PREFIX, t->volume.uuid,
		 role);
}

/* Removes a scratch device left by an interrupted tune, and fails with
 * DMT_ERR_BUSY when it stays in use, which means a tune is running. A
 * killed tune's fio can hold the device open until its last I/O ends, so
 * an open device gets LEFTOVER_WAIT_MS to close. */
static int remove_leftover(struct tune *t, const char *name,
			   struct dmt_error *err)
{
	const struct timespec pause = { .tv_nsec = 100 * 1000000 };
	struct mapper_info info;
	int r = mapper_info(t->ctx, name, &info, err);

	for (int waited = 0; !r && info.exists && info.open_count > 0 &&
	     waited < LEFTOVER_WAIT_MS; waited += 100) {
		nanosleep(&pause, NULL);
		r = mapper_info(t->ctx, name, &info, err);
	}
	if (r || !info.exists)
		return r;
	if (info.open_count > 0)
		return dmt_fail(t->ctx, err, DMT_ERR_BUSY, EBUSY,
				"%s: the device is in use: another 'dmtool tune %s' is running",
				name, t->volume.name);
	log_info(t->ctx, "%s: removing a scratch device left by an interrupted tune",
		 name);
	return mapper_remove(t->ctx, name, err);
}

static int check_pool_room(struct tune *t, struct dmt_error *err)
{
	struct pool_status pool;
	struct dmt_target_line *lines;
	uint64_t free_bytes, needed;
	size_t count;
	int r;

	r = mapper_query(t->ctx, t->pool->info.name, MAPPER_STATUS, &lines,
			 &count, err);
	if (r)
		return r;
	if (count != 1 || !parse_pool_status(lines[0].params, &pool))
		r = dmt_fail(t->ctx, err, DMT_ERR_STATE, EINVAL,
			     "%s: cannot read the pool status", t->pool->info.name);
	mapper_lines_free(lines, count);
	if (r)
		return r;
	if (pool.mode != DMT_POOL_RW)
		return dmt_fail(t->ctx, err, DMT_ERR_STATE, EROFS,
				"%s: the pool is %s; tune needs a writable pool",
				t->pool->info.name, dmt_pool_mode_name(pool.mode));

	/* The scratch device takes at most half of the free space, so the
	 * volume's own writes keep the other half while tune runs. */
	free_bytes = (pool.data_total - pool.data_used) * t->header.chunk_size;
	needed = 2 * t->size;
	if (free_bytes < needed)
		return dmt_fail(t->ctx, err, DMT_ERR_NOSPACE, ENOSPC,
				"%s: the pool has %llu bytes free; a scratch device of %llu bytes needs twice that, %llu: grow the pool ('dmtool grow %s') or give a smaller --scratch-size",
				t->pool->info.name, (unsigned long long)free_bytes,
				(unsigned long long)t->size,
				(unsigned long long)needed, t->volume.name);
	return DMT_OK;
}

/* Sends create_thin for the scratch id. A thin device with that id exists
 * only when a tune was interrupted after creating it: it is deleted, which
 * returns its blocks, and created again. */
static int create_thin_id(struct tune *t, struct dmt_error *err)
{
	const char *pool = t->pool->info.name;
	char create[32], delete[32];
	struct dmt_error first;

	snprintf(create, sizeof(create), "create_thin %d", TUNE_THIN_ID);
	snprintf(delete, sizeof(delete), "delete %d", TUNE_THIN_ID);
	if (mapper_message(t->ctx, pool, 0, create, NULL, &first) == DMT_OK)
		return DMT_OK;
	if (first.sys_errno != EEXIST)
		return dmt_fail(t->ctx, err, first.code, first.sys_errno, "%s",
				first.message);

	log_info(t->ctx, "%s: deleting thin device %d, left by an interrupted tune",
		 pool, TUNE_THIN_ID);
	if (mapper_message(t->ctx, pool, 0, delete, NULL, err) != DMT_OK)
		return err ? (int)err->code : DMT_ERR_FAILED;
	return mapper_message(t->ctx, pool, 0, create, NULL, err);
}

static int create_scratch_thin(struct tune *t, struct dmt_error *err)
{
	char pool_ref[32], uuid[160];
	struct dmt_target_line line;
	struct mapper_info info;
	int r;

	t->kind = SCRATCH_THIN;
	t->pool = volume_device(&t->volume, ROLE_POOL);
	if (!t->pool)
		return dmt_fail(t->ctx, err, DMT_ERR_STATE, ENODEV,
				"%s: the volume has no pool device", t->volume.name);
	device_name(t, "thin", t->thin_name, sizeof(t->thin_name));
	r = remove_leftover(t, t->thin_name, err);
	if (!r)
		r = check_pool_room(t, err);
	if (r)
		return r;

	r = create_thin_id(t, err);
	if (r)
		return r;
	t->thin_created = true;

	table_device_number(pool_ref, sizeof(pool_ref), t->pool->info.major,
			    t->pool->info.minor);
	if (table_thin(&line, t->size >> SECTOR_SHIFT, pool_ref, TUNE_THIN_ID) != 0)
		return dmt_fail(t->ctx, err, DMT_ERR_FAILED, ENOMEM, "out of memory");
	device_uuid(t, "thin", uuid, sizeof(uuid));
	r = mapper_create(t->ctx, t->thin_name, uuid, &line, 1, 0, err);
	table_lines_free(&line, 1);
	if (r)
		return r;
	t->thin_active = true;

	r = mapper_info(t->ctx, t->thin_name, &info, err);
	if (r)
		return r;
	table_device_number(t->scratch_ref, sizeof(t->scratch_ref), info.major,
			    info.minor);
	mapper_device_path(t->thin_name, t->scratch_path, sizeof(t->scratch_path));
	snprintf(t->result->scratch, sizeof(t->result->scratch),
		 "thin device %d in pool %s", TUNE_THIN_ID, t->pool->info.name);
	return DMT_OK;
}

static int check_host_room(struct tune *t, const char *directory,
			   struct dmt_error *err)
{
	struct host_space host;
	uint64_t reserve;

	if (host_space_of_path(directory, &host) != 0)
		return dmt_fail(t->ctx, err, DMT_ERR_IMAGE, errno,
				"%s: cannot read the free space: %s", directory,
				strerror(errno));
	reserve = volume_reserve_bytes(&t->header.growth, host.total);
	if (host.free < t->size + reserve)
		return dmt_fail(t->ctx, err, DMT_ERR_NOSPACE, ENOSPC,
				"%s: the host filesystem has %llu bytes free; the scratch file needs %llu above the reserve of %llu: free space or give a smaller --scratch-size",
				directory, (unsigned long long)host.free,
				(unsigned long long)t->size,
				(unsigned long long)reserve);
	return DMT_OK;
}

/* Attaches a loop device, with the volume's loop settings, to a temporary
 * file in the image's directory, and unlinks the file at once. The loop
 * device keeps the file open, so it goes away with the loop device
 * (autoclear) even when the process is killed. */
static int create_scratch_file(struct tune *t, struct dmt_error *err)
{
	struct loop_settings settings = {
		.block_size = t->header.loop_block_size,
		.direct_io = t->header.flags & HEADER_FLAG_LOOP_DIRECT_IO,
	};
	char copy[PATH_MAX], path[PATH_MAX + 32];
	const char *directory;
	struct stat st;
	int fd, r;

	t->kind = SCRATCH_FILE;
	if (stat(t->loop.backing_file, &st) != 0 || !S_ISREG(st.st_mode))
		return dmt_fail(t->ctx, err, DMT_ERR_STATE, ENOTSUP,
				"%s: the image %s is not a regular file, so there is no host filesystem for a scratch file; tune measures %s volumes on image files only",
				t->volume.name, t->loop.backing_file,
				dmt_layout_name(t->header.layout));
	snprintf(copy, sizeof(copy), "%s", t->loop.backing_file);
	directory = dirname(copy);
	r = check_host_room(t, directory, err);
	if (r)
		return r;

	snprintf(path, sizeof(path), "%s/.dmtool-tune-XXXXXX", directory);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return dmt_fail(t->ctx, err, DMT_ERR_FAILED, errno,
				"%s: cannot create a scratch file: %s", directory,
				strerror(errno));
	if (ftruncate(fd, (off_t)t->size) != 0)
		r = dmt_fail(t->ctx, err, DMT_ERR_FAILED, errno,
			     "%s: cannot size the scratch file: %s", path,
			     strerror(errno));
	if (!r)
		r = loop_attach(t->ctx, fd, path, &settings, &t->scratch_loop, err);
	unlink(path);
	close(fd);
	if (r)
		return r;
	t->loop_attached = true;

	table_device_number(t->scratch_ref, sizeof(t->scratch_ref),
			    major(t->scratch_loop.rdev), minor(t->scratch_loop.rdev));
	snprintf(t->scratch_path, sizeof(t->scratch_path), "%s",
		 t->scratch_loop.path);
	snprintf(t->result->scratch, sizeof(t->result->scratch),
		 "%s over a temporary file in %s", t->scratch_loop.path,
		 directory);
	return DMT_OK;
}

/* Writes the whole scratch device once, so that reads find real blocks.
 * A thin pool returns zeros for unprovisioned blocks without any I/O, and
 * a filesystem does the same for holes. */
static int fill_scratch(struct tune *t, struct dmt_error *err)
{
	struct tune_limits limits = { .bytes = t->size };
	double rate;

	log_info(t->ctx, "%s: writing the scratch device once (%llu bytes)",
		 t->scratch_path, (unsigned long long)t->size);
	return run_io_on(t, t->scratch_path, &tune_profiles[DMT_TUNE_SEQ_WRITE],
			 &limits, &rate, err);
}

/* Removes the variants' crypt devices. After a failure the others are
 * still removed, and the first failure is returned. */
static int remove_crypts(struct tune *t, struct dmt_error *err)
{
	int r = DMT_OK;

	for (size_t v = 0; v < DMT_TUNE_MAX_VARIANTS; v++) {
		int step;

		if (t->crypt_fd[v] >= 0) {
			close(t->crypt_fd[v]);
			t->crypt_fd[v] = -1;
		}
		if (!t->crypt_active[v])
			continue;
		step = mapper_remove(t->ctx, t->crypt_name[v], r ? NULL : err);
		if (!step)
			t->crypt_active[v] = false;
		r = r ? r : step;
	}
	return r;
}

/* Removes everything the scratch setup created; the first failure is
 * reported, and the later steps still run. */
static int remove_scratch(struct tune *t, struct dmt_error *err)
{
	char message[32];
	int r = remove_crypts(t, err);
	int step;

	if (t->thin_active) {
		step = mapper_remove(t->ctx, t->thin_name, r ? NULL : err);
		if (!step)
			t->thin_active = false;
		r = r ? r : step;
	}
	if (t->thin_created && !t->thin_active) {
		snprintf(message, sizeof(message), "delete %d", TUNE_THIN_ID);
		step = mapper_message(t->ctx, t->pool->info.name, 0, message,
				      NULL, r ? NULL : err);
		if (!step)
			t->thin_created = false;
		r = r ? r : step;
	}
	if (t->loop_attached) {
		loop_release(&t->scratch_loop);
		t->loop_attached = false;
	}
	return r;
}

/* ---- Variants ------------------------------------------------------------ */

static void add_variant(struct dmt_tune_result *result, uint32_t flags,
			uint32_t current)
{
	for (size_t i = 0; i < result->variant_count; i++) {
		if (result->variants[i].flags == flags)
			return;
	}
	result->variants[result->variant_count].flags = flags;
	result->variants[result->variant_count].current = flags == current;
	result->variant_count++;
}

static void list_variants(struct tune *t)
{
	uint32_t current = t->header.crypt.flags;
	uint32_t base = current & ~DMT_TUNE_FLAGS;

	add_variant(t->result, base, current);
	add_variant(t->result, base | DMT_CRYPT_NO_READ_WORKQUEUE, current);
	add_variant(t->result, base | DMT_CRYPT_NO_READ_WORKQUEUE |
				       DMT_CRYPT_NO_WRITE_WORKQUEUE, current);
	add_variant(t->result, base | DMT_CRYPT_SAME_CPU, current);
	/* The header's own combination, when it is none of the above. */
	add_variant(t->result, current, current);
}

static int create_crypt(struct tune *t, size_t variant, struct dmt_error *err)
{
	struct crypt_table crypt = {
		.cipher = t->header.crypt.cipher,
		.key = (const unsigned char *)t->key->data,
		.key_size = t->key->size,
		.device = t->scratch_ref,
		.offset = 0,
		.sector_size = t->header.crypt.sector_size,
		.flags = t->result->variants[variant].flags,
	};
	struct dmt_target_line line;
	char role[16], uuid[160], path[PATH_MAX];
	int r;

	if (table_crypt(&line, t->size >> SECTOR_SHIFT, &crypt,
			t->table_buffer->data, t->table_buffer->capacity) != 0)
		return dmt_fail(t->ctx, err, DMT_ERR_FAILED, EINVAL,
				"%s: cannot build the crypt table",
				t->crypt_name[variant]);
	snprintf(role, sizeof(role), "crypt%zu", variant);
	device_uuid(t, role, uuid, sizeof(uuid));
	r = mapper_create(t->ctx, t->crypt_name[variant], uuid, &line, 1,
			  MAPPER_SECRET, err);
	explicit_bzero(t->table_buffer->data, t->table_buffer->capacity);
	if (r)
		return r;
	t->crypt_active[variant] = true;

	mapper_device_path(t->crypt_name[variant], path, sizeof(path));
	return open_direct(t, path, &t->crypt_fd[variant], err);
}

static int create_crypts(struct tune *t, struct dmt_error *err)
{
	int r = DMT_OK;

	for (size_t v = 0; v < t->result->variant_count && !r; v++)
		r = create_crypt(t, v, err);
	return r;
}

static bool cancelled(const struct tune *t)
{
	return t->params && t->params->cancel && *t->params->cancel;
}

static int measure_variant(struct tune *t, size_t variant, size_t profile,
			   uint32_t round, struct dmt_error *err)
{
	struct tune_limits limits = {
		/* Long enough for a queue of 1 MiB writes to fill under an
		 * emulated CPU, where 8 of them take about half a second. */
		.ramp_ns = (uint64_t)t->runtime_ms * 1000000 / 2,
		.runtime_ns = (uint64_t)t->runtime_ms * 1000000,
	};

	double *sample = &t->samples[variant][profile][round];
	char path[PATH_MAX];
	int r;

	if (cancelled(t))
		return dmt_fail(t->ctx, err, DMT_ERR_FAILED, EINTR,
				"%s: tune interrupted", t->volume.name);
	mapper_device_path(t->crypt_name[variant], path, sizeof(path));
	if (t->result->engine == DMT_TUNE_ENGINE_FIO)
		r = tune_fio_run(t->ctx, path, t->size, &tune_profiles[profile],
				 t->runtime_ms, t->params ? t->params->cancel : NULL,
				 sample, t->result->engine_version,
				 sizeof(t->result->engine_version), err);
	else
		r = tune_aio_run(t->ctx, t->crypt_fd[variant], path, t->size,
				 &tune_profiles[profile], &limits, sample, err);

	/* A signal that cancels the tune also stops fio or the AIO loop,
	 * which then fail for that reason. */
	if (r && cancelled(t))
		return dmt_fail(t->ctx, err, DMT_ERR_FAILED, EINTR,
				"%s: tune interrupted", t->volume.name);
	return r;
}

/* Returns the variant that runs i-th. The order turns by one for every
 * profile and round, so no variant always runs first. It runs backwards in
 * every other round, so no variant always follows the same one. */
static size_t variant_at(size_t i, size_t count, uint32_t round, size_t profile)
{
	size_t position = round % 2 ? count - 1 - i : i;

	return (position + round + profile) % count;
}

/* Measures every variant in every round, one profile at a time, so the
 * variants of one profile run back to back. */
static int measure_variants(struct tune *t, struct dmt_error *err)
{
	size_t count = t->result->variant_count;
	int r = DMT_OK;

	for (uint32_t round = 0; round < t->rounds && !r; round++) {
		log_info(t->ctx, "%s: round %u of %u", t->volume.name,
			 round + 1, t->rounds);
		for (size_t p = 0; p < DMT_TUNE_PROFILE_COUNT && !r; p++) {
			for (size_t i = 0; i < count && !r; i++) {
				size_t variant = variant_at(i, count, round, p);

				r = measure_variant(t, variant, p, round, err);
			}
		}
	}
	return r;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(const double *values, uint32_t count)
{
	double sorted[TUNE_ROUNDS_MAX];

	memcpy(sorted, values, count * sizeof(*values));
	qsort(sorted, count, sizeof(*sorted), compare_doubles);
	if (count % 2)
		return sorted[count / 2];
	return (sorted[count / 2 - 1] + sorted[count / 2]) / 2;
}

/* Returns the variant whose tuned flags DMTOOL_TUNE_CHOICE names (a
 * comma-separated list of dm-crypt flag names, empty for none), else
 * chosen. Only for the tests: the measured choice depends on the
 * machine's noise, and the tests must see a header change every time. */
static size_t forced_choice(struct tune *t, size_t chosen)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} names[] = {
		{ "same_cpu_crypt", DMT_CRYPT_SAME_CPU },
		{ "no_read_workqueue", DMT_CRYPT_NO_READ_WORKQUEUE },
		{ "no_write_workqueue", DMT_CRYPT_NO_WRITE_WORKQUEUE },
	};
	const char *choice = getenv("DMTOOL_TUNE_CHOICE");
	uint32_t flags = 0;

	if (!choice)
		return chosen;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (strstr(choice, names[i].name))
			flags |= names[i].flag;
	}
	for (size_t v = 0; v < t->result->variant_count; v++) {
		if ((t->result->variants[v].flags & DMT_TUNE_FLAGS) == flags) {
			log_warning(t->ctx, "%s: choosing flags 0x%x as DMTOOL_TUNE_CHOICE requests, not by the scores",
				    t->volume.name, t->result->variants[v].flags);
			return v;
		}
	}
	log_warning(t->ctx, "%s: no variant has the flags of DMTOOL_TUNE_CHOICE '%s'; ignoring it",
		    t->volume.name, choice);
	return chosen;
}

/* The n-th root of value > 0 by Newton's method: the library links
 * without libm. */
static double nth_root(double value, unsigned int n)
{
	double x = 1;

	for (int i = 0; i < 500; i++) {
		double power = 1, next;

		for (unsigned int k = 1; k < n; k++)
			power *= x;
		next = x - (power * x - value) / (n * power);
		if (next <= 0)
			next = x / 2;
		if (next == x)
			break;
		x = next;
	}
	return x;
}

/* Returns the median over the rounds of the variant's throughput divided
 * by the base variant's in the same round and profile. Rounds in which the
 * base moved nothing are skipped, and a stalled variant scores 0.001, so
 * one stalled round does not make the geometric mean zero. */
static double paired_ratio(const struct tune *t, size_t variant, size_t base,
			   size_t profile)
{
	double ratios[TUNE_ROUNDS_MAX];
	uint32_t count = 0;

	if (variant == base)
		return 1;
	for (uint32_t round = 0; round < t->rounds; round++) {
		double value = t->samples[variant][profile][round];
		double reference = t->samples[base][profile][round];

		if (reference > 0)
			ratios[count++] = value > 0 ? value / reference : 0.001;
	}
	return count ? median(ratios, count) : 1;
}

/* Scores every variant against the header's flags and picks the best;
 * the header's flags stay unless a variant beats them by TUNE_MIN_GAIN. */
static void choose_variant(struct tune *t)
{
	struct dmt_tune_result *result = t->result;
	size_t current = 0, best;

	for (size_t v = 0; v < result->variant_count; v++) {
		for (size_t p = 0; p < DMT_TUNE_PROFILE_COUNT; p++)
			result->variants[v].throughput[p] =
				median(t->samples[v][p], t->rounds);
		if (result->variants[v].current)
			current = v;
	}
	for (size_t v = 0; v < result->variant_count; v++) {
		double product = 1;

		for (size_t p = 0; p < DMT_TUNE_PROFILE_COUNT; p++)
			product *= paired_ratio(t, v, current, p);
		result->variants[v].score = nth_root(product, DMT_TUNE_PROFILE_COUNT);
	}

	best = current;
	for (size_t v = 0; v < result->variant_count; v++) {
		if (result->variants[v].score > result->variants[best].score)
			best = v;
	}
	if (result->variants[best].score < TUNE_MIN_GAIN)
		best = current;
	result->chosen = forced_choice(t, best);
	result->new_flags = result->variants[result->chosen].flags;
}

/* ---- The header ---------------------------------------------------------- */

static int read_header(struct tune *t, struct dmt_error *err)
{
	struct image image;
	int r;

	r = image_open(t->ctx, t->loop.backing_file,
		       IMAGE_READ_ONLY | IMAGE_NO_LOCK, &image, err);
	if (r)
		return r;
	r = image_read_header(t->ctx, &image, err);
	if (!r)
		t->header = image.header;
	image_close(&image);
	return r;
}

/* Rewrites the header with the chosen flags under the image lock, after
 * checking that the image still belongs to the volume. */
static int write_flags(struct tune *t, struct dmt_error *err)
{
	struct volume_header next;
	struct image image;
	char uuid[DMT_UUID_STRING_LEN + 1];
	int r;

	r = image_open(t->ctx, t->loop.backing_file, 0, &image, err);
	if (r)
		return r;
	r = image_read_header(t->ctx, &image, err);
	if (r)
		goto close_image;
	header_uuid_string(image.header.uuid, uuid);
	if (strcmp(uuid, t->volume.uuid) != 0) {
		r = dmt_fail(t->ctx, err, DMT_ERR_STATE, ESTALE,
			     "%s: the image now holds volume %s, not %s; the header is left as it is",
			     t->loop.backing_file, uuid, t->volume.uuid);
		goto close_image;
	}

	next = image.header;
	next.crypt.flags = t->result->new_flags;
	r = image_write_header(t->ctx, &image, &next, err);
	if (!r)
		log_info(t->ctx, "%s: recorded crypt flags 0x%x for the next open",
			 t->loop.backing_file, t->result->new_flags);

close_image:
	image_close(&image);
	return r;
}

/* ---- dmt_tune ------------------------------------------------------------ */

static int check_params(struct tune *t, const struct dmt_tune_params *params,
			struct dmt_error *err)
{
	t->runtime_ms = params && params->runtime_ms ? params->runtime_ms :
						       TUNE_RUNTIME_MS_DEFAULT;
	t->rounds = params && params->rounds ? params->rounds :
					       TUNE_ROUNDS_DEFAULT;
	t->size = params && params->scratch_size ? params->scratch_size :
						   TUNE_SCRATCH_DEFAULT;
	bool fio = tune_fio_available();

	t->result->engine = params ? params->engine : DMT_TUNE_ENGINE_AUTO;
	if (t->result->engine == DMT_TUNE_ENGINE_AUTO)
		t->result->engine = fio ? DMT_TUNE_ENGINE_FIO : DMT_TUNE_ENGINE_AIO;
	if (t->result->engine != DMT_TUNE_ENGINE_AIO &&
	    t->result->engine != DMT_TUNE_ENGINE_FIO)
		return dmt_fail(t->ctx, err, DMT_ERR_USAGE, EINVAL,
				"invalid tune engine %d", (int)t->result->engine);
	if (t->result->engine == DMT_TUNE_ENGINE_FIO && !fio)
		return dmt_fail(t->ctx, err, DMT_ERR_USAGE, ENOENT,
				"fio is not in PATH: install fio, or measure with the aio engine");
	if (t->runtime_ms < 100 || t->runtime_ms > 600000)
		return dmt_fail(t->ctx, err, DMT_ERR_USAGE, EINVAL,
				"invalid runtime %u ms per profile: give 100 ms to 600 s",
				t->runtime_ms);
	if (t->rounds > TUNE_ROUNDS_MAX)
		return dmt_fail(t->ctx, err, DMT_ERR_USAGE, EINVAL,
				"invalid round count %u: give 1 to %u", t->rounds,
				TUNE_ROUNDS_MAX);
	if (t->size < TUNE_SCRATCH_MIN || t->size > TUNE_SCRATCH_MAX ||
	    t->size % MIB)
		return dmt_fail(t->ctx, err, DMT_ERR_USAGE, EINVAL,
				"invalid scratch size %llu bytes: give whole MiB from 16 MiB to 4 GiB",
				(unsigned long long)t->size);
	return DMT_OK;
}

static int find_volume(struct tune *t, const char *name, struct dmt_error *err)
{
	int r = volume_find(t->ctx, name, &t->volume, err);

	if (!r && !volume_is_complete(&t->volume))
		r = dmt_fail(t->ctx, err, DMT_ERR_STATE, ENODEV,
			     "%s: the volume is only partly open; close it and open it again",
			     name);
	if (!r)
		r = volume_find_loop(t->ctx, &t->volume, &t->loop, err);
	if (!r)
		r = read_header(t, err);
	if (!r && !dmt_layout_has_crypt(t->header.layout))
		r = dmt_fail(t->ctx, err, DMT_ERR_STATE, EINVAL,
			     "%s: layout %s has no dm-crypt layer to tune",
			     name, dmt_layout_name(t->header.layout));
	return r;
}

/* Names the variants' crypt devices and removes any that an interrupted
 * tune left behind. */
static int name_crypts(struct tune *t, struct dmt_error *err)
{
	char old_name[128];
	int r;

	/* Earlier builds named their single crypt device NAME-tune-crypt. */
	device_name(t, "crypt", old_name, sizeof(old_name));
	r = remove_leftover(t, old_name, err);

	for (size_t v = 0; v < DMT_TUNE_MAX_VARIANTS && !r; v++) {
		char role[16];

		snprintf(role, sizeof(role), "crypt%zu", v);
		device_name(t, role, t->crypt_name[v], sizeof(t->crypt_name[v]));
		r = remove_leftover(t, t->crypt_name[v], err);
	}
	return r;
}

static int make_key(struct tune *t, struct dmt_error *err)
{
	size_t bytes = t->header.crypt.key_bits / 8;

	t->key = dmt_secret_new(bytes);
	t->table_buffer = dmt_secret_new(STACK_CRYPT_LINE_MAX);
	if (!t->key || !t->table_buffer)
		return dmt_fail(t->ctx, err, DMT_ERR_FAILED, ENOMEM,
				"cannot allocate locked memory for the scratch key");
	if (getrandom(t->key->data, bytes, 0) != (ssize_t)bytes)
		return dmt_fail(t->ctx, err, DMT_ERR_FAILED, errno,
				"cannot read random bytes for the scratch key: %s",
				strerror(errno));
	t->key->size = bytes;
	return DMT_OK;
}

static void fill_result_header(struct tune *t)
{
	struct dmt_tune_result *result = t->result;

	result->layout = t->header.layout;
	result->scratch_size = t->size;
	result->runtime_ms = t->runtime_ms;
	result->rounds = t->rounds;
	result->old_flags = t->header.crypt.flags;
	result->new_flags = t->header.crypt.flags;
}

int dmt_tune(struct dmt_context *ctx, const char *name,
	     const struct dmt_tune_params *params,
	     struct dmt_tune_result *result, struct dmt_error *err)
{
	struct tune *t;
	int r, cleanup;

	dmt_error_clear(err);
	memset(result, 0, sizeof(*result));
	t = calloc(1, sizeof(*t));
	if (!t)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, ENOMEM, "out of memory");
	t->ctx = ctx;
	t->params = params;
	t->result = result;
	for (size_t v = 0; v < DMT_TUNE_MAX_VARIANTS; v++)
		t->crypt_fd[v] = -1;

	r = check_params(t, params, err);
	if (!r)
		r = find_volume(t, name, err);
	if (r)
		goto free_tune;
	fill_result_header(t);
	list_variants(t);

	r = name_crypts(t, err);
	if (!r)
		r = make_key(t, err);
	if (!r && t->header.layout == DMT_LAYOUT_THIN_CRYPT)
		r = create_scratch_thin(t, err);
	else if (!r)
		r = create_scratch_file(t, err);
	if (!r)
		r = fill_scratch(t, err);
	if (!r)
		r = create_crypts(t, err);
	if (!r)
		r = measure_variants(t, err);

	cleanup = remove_scratch(t, r ? NULL : err);
	if (r && cleanup)
		log_warning(ctx, "%s: some scratch devices of the tune were not removed; run 'dmtool close %s', or the next tune removes them",
			    name, name);
	if (!r)
		r = cleanup;
	if (r)
		goto free_key;

	choose_variant(t);
	if (!(params && params->dry_run) && result->new_flags != result->old_flags) {
		r = write_flags(t, err);
		result->header_written = !r;
	}

free_key:
	dmt_secret_free(t->table_buffer);
	dmt_secret_free(t->key);
free_tune:
	free(t);
	return r;
}
