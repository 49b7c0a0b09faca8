/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libdmtool: build, open, report and grow encrypted, thin-provisioned
 * volumes on a backing file or block device through device-mapper.
 *
 * Every call takes a context and returns 0 on success or one of the
 * dmt_errc codes. When a struct dmt_error is passed, it receives a message
 * that names the device or value at fault and what to do next. The library
 * never prints; set a log callback to see its debug narration.
 */
#ifndef DMTOOL_H
#define DMTOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DMT_VERSION "0.1.0"

/* Longest volume name: device-mapper allows 127 bytes, and the internal
 * devices append a suffix such as "-tmeta" to the volume name. */
#define DMT_NAME_MAX 100
#define DMT_UUID_STRING_LEN 36
#define DMT_UUID_PREFIX "DMTOOL-"

/* Error codes. The CLI uses them as exit codes, so their values are fixed. */
enum dmt_errc {
	DMT_OK = 0,
	DMT_ERR_FAILED = 1,	/* an operation failed; see the message */
	DMT_ERR_USAGE = 2,	/* an argument or option is invalid */
	DMT_ERR_IMAGE = 3,	/* image missing, unreadable, corrupt or foreign */
	DMT_ERR_KEY = 4,	/* wrong passphrase or unreadable key file */
	DMT_ERR_BUSY = 5,	/* name, image or device already in use */
	DMT_ERR_NOSPACE = 6,	/* the host cannot supply the space */
	DMT_ERR_KERNEL = 7,	/* the kernel lacks device-mapper or a target */
	DMT_ERR_NOT_FOUND = 8,	/* no open volume of that name */
	DMT_ERR_STATE = 9,	/* the volume's state forbids the operation */
};

struct dmt_error {
	enum dmt_errc code;
	int sys_errno;		/* underlying errno, or 0 */
	char message[1024];
};

/* Log levels of the debug narration. */
enum dmt_log_level {
	DMT_LOG_ERROR = 0,
	DMT_LOG_WARNING = 1,
	DMT_LOG_INFO = 2,
	DMT_LOG_DEBUG = 3,
};

typedef void (*dmt_log_fn)(enum dmt_log_level level, const char *message,
			   void *user_data);

struct dmt_context;

struct dmt_context *dmt_context_new(void);
void dmt_context_free(struct dmt_context *ctx);
/* Sends messages up to max_level to log_fn; NULL turns logging off. */
void dmt_context_set_log(struct dmt_context *ctx, dmt_log_fn log_fn,
			 enum dmt_log_level max_level, void *user_data);
const char *dmt_errc_name(enum dmt_errc code);

/* Secrets (passphrases, volume keys) in locked memory, wiped on free. */
struct dmt_secret {
	char *data;
	size_t size;		/* bytes in use */
	size_t capacity;	/* bytes allocated */
};

struct dmt_secret *dmt_secret_new(size_t capacity);
void dmt_secret_free(struct dmt_secret *secret);

/* Sizes in bytes with binary or decimal units: "64M", "10GiB", "1.5T",
 * "512k", "4096". K, M, G, T, P alone are binary (1024-based), as in
 * dmsetup and losetup; "KB", "MB" are decimal. */
int dmt_parse_size(const char *text, uint64_t *bytes);
/* Accepts a size as above or a percentage "1%" to "100%": exactly one of
 * *bytes and *percent is non-zero afterwards. */
int dmt_parse_size_or_percent(const char *text, uint64_t *bytes,
			      uint32_t *percent);
/* Formats bytes as "1.50 GiB"; returns buffer. */
char *dmt_format_size(uint64_t bytes, char *buffer, size_t size);

enum dmt_layout {
	DMT_LAYOUT_THIN_CRYPT = 1,	/* loop -> thin pool -> thin -> crypt */
	DMT_LAYOUT_CRYPT_THIN = 2,	/* loop -> crypt -> thin pool -> thin */
	DMT_LAYOUT_CRYPT = 3,		/* loop -> crypt */
	DMT_LAYOUT_THIN = 4,		/* loop -> thin pool -> thin */
};

const char *dmt_layout_name(enum dmt_layout layout);
int dmt_layout_parse(const char *name, enum dmt_layout *layout);
bool dmt_layout_has_crypt(enum dmt_layout layout);
bool dmt_layout_has_thin(enum dmt_layout layout);

/* dm-crypt flags, as named in the kernel's dm-crypt table. */
#define DMT_CRYPT_ALLOW_DISCARDS	(1u << 0)
#define DMT_CRYPT_SAME_CPU		(1u << 1)
#define DMT_CRYPT_SUBMIT_FROM_CPUS	(1u << 2)
#define DMT_CRYPT_NO_READ_WORKQUEUE	(1u << 3)
#define DMT_CRYPT_NO_WRITE_WORKQUEUE	(1u << 4)
#define DMT_CRYPT_FLAGS_ALL		0x1fu

struct dmt_crypt_options {
	char cipher[48];	/* cipher-chainmode-ivmode: "aes-xts-plain64" */
	uint32_t key_bits;	/* 256 or 512 for XTS */
	uint32_t sector_size;	/* encryption sector: 512, 1024, 2048, 4096 */
	uint32_t flags;		/* DMT_CRYPT_* */
};

/* Key derivation of the LUKS2 keyslot. Zero fields take libcryptsetup's
 * defaults; iterations != 0 skips the benchmark (for tests). */
struct dmt_pbkdf_options {
	char type[16];		/* "argon2id", "argon2i" or "pbkdf2" */
	uint32_t memory_kib;
	uint32_t iter_time_ms;
	uint32_t iterations;
	uint32_t parallel;
};

/* Growth of the pool's data area; stored in the image header. */
struct dmt_growth_policy {
	uint64_t step_bytes;		/* grow by this much, or ... */
	uint32_t step_percent;		/* ... by this percent of the area */
	uint64_t reserve_bytes;		/* host free space never used, or ... */
	uint32_t reserve_percent;	/* ... this percent of the host fs */
	uint32_t low_water_percent;	/* grow when free data falls below */
	bool grow_fs;			/* grow thin, crypt and fs together */
};

struct dmt_create_params {
	enum dmt_layout layout;
	uint64_t virtual_size;	/* size users see, bytes */
	uint64_t initial_size;	/* data area at creation; 0: default */
	uint64_t max_size;	/* data area upper bound; 0: virtual_size */
	uint32_t chunk_size;	/* thin data block, bytes; 0: 64 KiB */
	uint32_t loop_block_size;	/* 0: 4096 */
	bool loop_direct_io;
	bool zero_new_blocks;	/* thin-pool block zeroing */
	bool force;		/* overwrite existing signatures */
	bool guard;		/* insert the space-guard target */
	struct dmt_crypt_options crypt;
	struct dmt_pbkdf_options pbkdf;
	struct dmt_growth_policy growth;
};

/* Fills params with the defaults for layout. */
void dmt_create_params_init(struct dmt_create_params *params,
			    enum dmt_layout layout);

struct dmt_open_params {
	const struct dmt_crypt_options *crypt;	/* NULL: from the header */
	bool read_only;
	bool guard;
};

int dmt_create(struct dmt_context *ctx, const char *image,
	       const struct dmt_create_params *params,
	       const struct dmt_secret *passphrase, const char *open_name,
	       struct dmt_error *err);

int dmt_open(struct dmt_context *ctx, const char *image, const char *name,
	     const struct dmt_open_params *params,
	     const struct dmt_secret *passphrase, struct dmt_error *err);

#define DMT_CLOSE_FORCE (1u << 0)
int dmt_close(struct dmt_context *ctx, const char *name, unsigned flags,
	      struct dmt_error *err);

/* Closes the volume if open, then deletes the image file (or wipes the
 * header of a block device). */
int dmt_remove(struct dmt_context *ctx, const char *image, unsigned flags,
	       struct dmt_error *err);

struct dmt_grow_params {
	uint64_t by;		/* grow by this many bytes, or ... */
	uint64_t to;		/* ... to this data size; exactly one is set */
	/* Grow only as far toward that size as the host filesystem can back,
	 * less the reserve, instead of failing. */
	bool up_to_host;
};

struct dmt_grow_result {
	uint64_t old_size;	/* data area before, bytes */
	uint64_t new_size;	/* data area after, bytes */
	bool filesystem_grown;
	char filesystem[32];
};

/* Grows the data area of the open volume name online: the backing file,
 * the loop device, the pool (and the crypt layer under it), and in grow-fs
 * mode the thin volume, crypt mapping and filesystem. Sizes round up to the
 * chunk and crypt sector; a size the host cannot back beyond its reserve
 * fails with DMT_ERR_NOSPACE. Running it again with the same size finishes
 * a growth that was interrupted. */
int dmt_grow(struct dmt_context *ctx, const char *name,
	     const struct dmt_grow_params *params,
	     struct dmt_grow_result *result, struct dmt_error *err);

struct dmt_watch_params {
	const char *const *names;	/* volumes to watch, open or not */
	size_t count;
	int stop_fd;		/* stop when it polls readable; -1: never */
	unsigned int recheck_seconds;	/* timer between events; 0: 10 */
	/* Overrides of each header's policy; zero fields keep the header's. */
	struct dmt_growth_policy policy;
	uint64_t max_bytes;	/* cap below the header's maximum; 0: none */
	/* Called once every volume is claimed and checked the first time. */
	void (*armed)(void *user_data);
	void *user_data;
};

/* Watches volumes until stop_fd polls readable: waits on device-mapper
 * events, grows pools below their low water mark by their policy, never
 * into the host's reserve, and logs every event, growth, refusal and
 * error through the context's log at DMT_LOG_INFO and DMT_LOG_WARNING.
 * Volumes may be closed and opened while it runs. Fails with DMT_ERR_BUSY
 * when another monitor watches one of the volumes. */
int dmt_watch(struct dmt_context *ctx, const struct dmt_watch_params *params,
	      struct dmt_error *err);

struct dmt_reclaim_result {
	char mountpoint[4096];
	uint64_t trimmed;		/* bytes the filesystem discarded */
	uint64_t allocated_before;	/* image bytes on the host */
	uint64_t allocated_after;
	uint64_t host_free_before;
	uint64_t host_free_after;
};

/* Trims the mounted filesystem of the open volume name so that freed
 * blocks become holes in the image. Fails with DMT_ERR_STATE naming the
 * layer that drops discards, or when the volume is not mounted. */
int dmt_reclaim(struct dmt_context *ctx, const char *name,
		struct dmt_reclaim_result *result, struct dmt_error *err);

/* Directory of monitor pid files and logs: $DMTOOL_RUN_DIR or
 * /run/dmtool. */
const char *dmt_run_dir(void);

/* Pool modes, as the thin-pool target reports them. */
enum dmt_pool_mode {
	DMT_POOL_NONE = 0,	/* layout without a pool */
	DMT_POOL_RW,
	DMT_POOL_OUT_OF_DATA_SPACE,
	DMT_POOL_READ_ONLY,
	DMT_POOL_FAIL,
};

const char *dmt_pool_mode_name(enum dmt_pool_mode mode);

#define DMT_MAX_DEVICES 8

struct dmt_device_info {
	char role[16];		/* "crypt", "thin", "pool", "tdata", ... */
	char name[128];
	char uuid[129];
	uint32_t major, minor;
	uint32_t open_count;
};

struct dmt_volume_status {
	char name[DMT_NAME_MAX + 1];
	char uuid[DMT_UUID_STRING_LEN + 1];
	char image[4096];
	char loop_device[32];
	enum dmt_layout layout;
	uint64_t virtual_size;

	/* Thin pool; zero when the layout has none. */
	uint32_t chunk_size;
	uint64_t data_used, data_total, data_max;
	uint64_t metadata_used, metadata_total;
	uint64_t low_water_mark;	/* bytes of free data space */
	enum dmt_pool_mode pool_mode;
	bool needs_check;
	bool discard_passdown;
	bool error_if_no_space;

	/* Backing file and the filesystem that holds it. */
	bool image_is_block_device;
	uint64_t image_apparent;
	uint64_t image_allocated;
	uint64_t host_free;
	uint64_t host_total;
	uint64_t reserve;
	/* The most the pool's data area can still hold: used data plus
	 * host_free less reserve, capped at data_max. */
	uint64_t capacity;
	bool overcommitted;	/* virtual_size > capacity */

	uint32_t loop_block_size;
	bool loop_direct_io;

	bool has_crypt;
	struct dmt_crypt_options crypt;

	struct dmt_growth_policy growth;
	bool monitor_armed;
	int monitor_pid;

	/* The space-guard target, when the volume has one. */
	bool has_guard;
	char guard_state[16];		/* "ok", "low" or "exhausted" */
	uint64_t guard_free;		/* the guard's estimate, bytes */
	uint64_t guard_reserve;
	uint64_t guard_low_water;
	int64_t guard_allocated;	/* bytes of its range; -1 unknown */
	uint64_t guard_failed_writes;

	size_t device_count;
	struct dmt_device_info devices[DMT_MAX_DEVICES];
};

int dmt_status(struct dmt_context *ctx, const char *name,
	       struct dmt_volume_status *status, struct dmt_error *err);

/* Lists the names of open dmtool volumes; *names is NULL-terminated and
 * freed with dmt_free_names. */
int dmt_list(struct dmt_context *ctx, char ***names, struct dmt_error *err);
void dmt_free_names(char **names);

/* One device-mapper device of a stack, in the order it is created. */
struct dmt_target_line {
	uint64_t start;		/* sectors */
	uint64_t length;	/* sectors */
	char type[32];
	char *params;		/* key masked as zeros */
};

struct dmt_table_device {
	char role[16];
	char name[128];
	char uuid[129];
	size_t target_count;
	struct dmt_target_line *targets;
};

struct dmt_table_plan {
	size_t device_count;
	struct dmt_table_device *devices;
};

void dmt_table_plan_free(struct dmt_table_plan *plan);

/* Builds the tables that opening image as name would load; devices that
 * do not exist yet are named by path. */
int dmt_table_for_image(struct dmt_context *ctx, const char *image,
			const char *name, struct dmt_table_plan *plan,
			struct dmt_error *err);
/* Builds the tables of an open volume with devices as major:minor, as
 * 'dmsetup table' prints them. */
int dmt_table_for_volume(struct dmt_context *ctx, const char *name,
			 struct dmt_table_plan *plan, struct dmt_error *err);

struct dmt_check_result {
	bool header_ok;
	bool thin_check_run;
	int thin_check_status;	/* exit status of thin_check */
	char thin_check_output[2048];
};

/* Verifies the header and runs thin_check read-only on the metadata. */
int dmt_check(struct dmt_context *ctx, const char *image,
	      const struct dmt_secret *passphrase,
	      struct dmt_check_result *result, struct dmt_error *err);

/* Header contents, for 'dmtool check' and tools. */
struct dmt_image_info {
	char uuid[DMT_UUID_STRING_LEN + 1];
	enum dmt_layout layout;
	uint32_t format_version;
	uint64_t sequence;
	uint64_t virtual_size;
	uint64_t payload_offset;
	uint64_t metadata_offset, metadata_size;
	uint64_t data_offset, data_size, data_max;
	uint32_t chunk_size;
	uint32_t loop_block_size;
	bool loop_direct_io;
	bool zero_new_blocks;
	bool guard;
	struct dmt_crypt_options crypt;
	struct dmt_growth_policy growth;
};

int dmt_image_info(struct dmt_context *ctx, const char *image,
		   struct dmt_image_info *info, struct dmt_error *err);

/* ------------------------------------------------------------------------
 * Tuning: choosing dm-crypt flags by measurement (dmt_tune)
 * ------------------------------------------------------------------------ */

#include <signal.h>

/* The workloads dmt_tune measures, as the fio profiles of the same names
 * in bench/profiles do: 1 MiB blocks in sequence at queue depth 8, and
 * 4 KiB blocks at random offsets at queue depths 1 and 32, all O_DIRECT. */
enum dmt_tune_profile {
	DMT_TUNE_SEQ_WRITE = 0,
	DMT_TUNE_SEQ_READ,
	DMT_TUNE_RAND_WRITE_QD1,
	DMT_TUNE_RAND_WRITE_QD32,
	DMT_TUNE_RAND_READ_QD1,
	DMT_TUNE_RAND_READ_QD32,
	DMT_TUNE_PROFILE_COUNT,
};

/* Returns the profile's name: "seq-write", "rand-read-qd32", ... */
const char *dmt_tune_profile_name(enum dmt_tune_profile profile);

/* The flags dmt_tune varies; the others (allow_discards,
 * submit_from_crypt_cpus) keep the header's value. */
#define DMT_TUNE_FLAGS (DMT_CRYPT_SAME_CPU | DMT_CRYPT_NO_READ_WORKQUEUE | \
			DMT_CRYPT_NO_WRITE_WORKQUEUE)

#define DMT_TUNE_MAX_VARIANTS 5

/* The engine that runs dmt_tune's workloads. */
enum dmt_tune_engine {
	DMT_TUNE_ENGINE_AUTO = 0,	/* fio when it is in PATH, else aio */
	DMT_TUNE_ENGINE_AIO,		/* dmtool's own Linux AIO loop */
	DMT_TUNE_ENGINE_FIO,		/* fio, as the bench runs it */
};

/* Returns "auto", "aio" or "fio". */
const char *dmt_tune_engine_name(enum dmt_tune_engine engine);

struct dmt_tune_params {
	/* Measured time per profile and round, after a ramp of half of it;
	 * 0: 1000. */
	uint32_t runtime_ms;
	uint32_t rounds;	/* passes over all variants; 0: 3 */
	uint64_t scratch_size;	/* bytes of the scratch device; 0: 64 MiB */
	bool dry_run;		/* choose, but leave the header as it is */
	/* DMT_TUNE_ENGINE_FIO fails with DMT_ERR_USAGE when fio is not in
	 * PATH. fio costs more CPU time per I/O than the AIO loop, as an
	 * application does, and that changes which flags win when the CPUs
	 * are few. */
	enum dmt_tune_engine engine;
	/* Checked between measurements; once it is non-zero, dmt_tune
	 * removes its scratch devices and fails with DMT_ERR_FAILED and
	 * sys_errno EINTR. May be NULL. */
	const volatile sig_atomic_t *cancel;
};

struct dmt_tune_variant {
	uint32_t flags;		/* DMT_CRYPT_* */
	/* Bytes per second, the median of the rounds. */
	double throughput[DMT_TUNE_PROFILE_COUNT];
	/* Geometric mean over the profiles of the throughput relative to the
	 * variant with the header's flags (whose score is 1): per profile,
	 * the median over the rounds of the ratio of the two measurements in
	 * the same round, taken within one pass over the variants. */
	double score;
	bool current;		/* the header's flags */
};

struct dmt_tune_result {
	enum dmt_layout layout;
	char scratch[256];	/* where the variants were measured */
	uint64_t scratch_size;
	uint32_t runtime_ms;
	uint32_t rounds;
	enum dmt_tune_engine engine;	/* DMT_TUNE_ENGINE_AIO or _FIO */
	char engine_version[32];	/* fio's, as "fio-3.33"; "" for aio */
	uint32_t old_flags;	/* the header's flags before */
	uint32_t new_flags;	/* the chosen variant's flags */
	size_t variant_count;
	struct dmt_tune_variant variants[DMT_TUNE_MAX_VARIANTS];
	size_t chosen;		/* index into variants */
	bool header_written;
};

/* Measures the dm-crypt flag variants (the header's flags, and the header's
 * flags with none of, only no_read_workqueue of, both workqueue flags of,
 * or only same_cpu_crypt of DMT_TUNE_FLAGS) on temporary dm-crypt devices
 * with a random throwaway key, beside the open volume name, and records
 * the best in the image header for the next open. The volume's own devices
 * and data are never written:
 *   - thin-crypt: the scratch device is thin device 1 of the volume's own
 *     pool, which dmtool reserves for this and deletes again afterwards
 *     (deleting one left by an interrupted tune first). The pool needs
 *     twice scratch_size free.
 *   - crypt and crypt-thin: the scratch device is a loop device, with the
 *     volume's loop settings, over a temporary sparse file beside the
 *     image, unlinked at once. crypt-thin's pool is not rebuilt above it.
 * A variant replaces the header's flags only when its score is at least
 * 3% higher, so noise alone does not flip the choice. Fails with
 * DMT_ERR_STATE for a layout without dm-crypt, DMT_ERR_NOSPACE when the
 * pool or the host filesystem cannot hold the scratch device, and
 * DMT_ERR_BUSY when another tune of the volume runs or another dmtool
 * operation holds the image lock when the header is written. */
int dmt_tune(struct dmt_context *ctx, const char *name,
	     const struct dmt_tune_params *params,
	     struct dmt_tune_result *result, struct dmt_error *err);

#ifdef __cplusplus
}
#endif

#endif /* DMTOOL_H */
