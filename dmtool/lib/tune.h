/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The workloads dmt_tune measures, and the two engines that run them: its
 * own Linux AIO loop, and fio, the tool the bench measures with. */
#ifndef DMTOOL_TUNE_H
#define DMTOOL_TUNE_H

#include "internal.h"

#include <signal.h>

struct tune_profile {
	const char *name;
	uint32_t block;		/* bytes per I/O */
	uint32_t depth;		/* I/Os in flight */
	bool write;
	bool random;
};

extern const struct tune_profile tune_profiles[DMT_TUNE_PROFILE_COUNT];

struct tune_limits {
	uint64_t ramp_ns;	/* completions before this are not counted */
	uint64_t runtime_ns;	/* measured time after the ramp; 0: none */
	uint64_t bytes;		/* stop after submitting this much; 0: none */
};

/* Runs the profile with Linux AIO on fd, opened O_DIRECT on device, over
 * its first size bytes until the limits end. Stores the bytes per second
 * completed in the measured time, or over the whole run when there is no
 * time limit. */
int tune_aio_run(struct dmt_context *ctx, int fd, const char *device,
		 uint64_t size, const struct tune_profile *profile,
		 const struct tune_limits *limits, double *rate,
		 struct dmt_error *err);

/* Returns whether an executable fio is in PATH. */
bool tune_fio_available(void);

/* Runs the profile with fio (libaio, O_DIRECT) on device over its first
 * size bytes: runtime_ms measured after a ramp of half of it. Stores the
 * bytes per second and fio's version ("fio-3.33"). fio gets SIGINT when a
 * signal arrives after *cancel is set (cancel may be NULL). */
int tune_fio_run(struct dmt_context *ctx, const char *device, uint64_t size,
		 const struct tune_profile *profile, uint32_t runtime_ms,
		 const volatile sig_atomic_t *cancel, double *rate,
		 char *version, size_t version_size, struct dmt_error *err);

/* Reads fio's terse output (version 3): finds the result line among the
 * other output, stores the read and write bandwidth together in bytes per
 * second, and fio's version. Returns 0, or ENOMSG when there is no result
 * line, or the job's error number when fio reports one. */
int tune_fio_parse(const char *output, double *rate, char *version,
		   size_t version_size);

#endif
