// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * tune_aio_run: dmt_tune's own engine. It keeps a profile's queue depth of
 * O_DIRECT I/Os in flight with Linux AIO and resubmits each one as it
 * completes, at the next block in sequence or at a random block.
 */
#include "tune.h"

#include <errno.h>
#include <linux/aio_abi.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* An I/O that takes longer than this fails the measurement. */
#define TUNE_IO_TIMEOUT_S 60
#define NSEC_PER_SEC 1000000000ull

static uint64_t monotonic_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)now.tv_sec * NSEC_PER_SEC + (uint64_t)now.tv_nsec;
}

struct io_run {
	const struct tune_profile *profile;
	aio_context_t aio;
	struct iocb *iocbs;
	unsigned char *buffers;
	uint64_t blocks;		/* blocks of the profile's size */
	uint64_t next_block;		/* sequential profiles */
	uint64_t random_state;		/* xorshift64 state */
	uint64_t submitted;		/* bytes */
};

static uint64_t next_offset(struct io_run *run)
{
	uint64_t block;

	if (run->profile->random) {
		run->random_state ^= run->random_state << 13;
		run->random_state ^= run->random_state >> 7;
		run->random_state ^= run->random_state << 17;
		block = run->random_state % run->blocks;
	} else {
		block = run->next_block;
		run->next_block = (run->next_block + 1) % run->blocks;
	}
	return block * run->profile->block;
}

static int submit_one(struct io_run *run, struct iocb *iocb)
{
	struct iocb *list[1] = { iocb };

	iocb->aio_offset = (int64_t)next_offset(run);
	run->submitted += run->profile->block;
	if (syscall(SYS_io_submit, run->aio, 1, list) != 1)
		return errno ? errno : EIO;
	return 0;
}

static void io_run_free(struct io_run *run)
{
	if (run->aio)
		syscall(SYS_io_destroy, run->aio);
	free(run->iocbs);
	free(run->buffers);
}

static int io_run_init(struct io_run *run, const struct tune_profile *profile,
		       int fd, uint64_t size)
{
	size_t bytes = (size_t)profile->block * profile->depth;

	memset(run, 0, sizeof(*run));
	run->profile = profile;
	run->blocks = size / profile->block;
	run->random_state = 0x9e3779b97f4a7c15ull ^ monotonic_ns();
	run->iocbs = calloc(profile->depth, sizeof(*run->iocbs));
	if (!run->iocbs || posix_memalign((void **)&run->buffers, 4096, bytes))
		return ENOMEM;
	/* Data that is not all zeros, so nothing along the way can take a
	 * shortcut for it. */
	for (size_t i = 0; i < bytes; i++)
		run->buffers[i] = (unsigned char)(i * 131 + 7);
	if (syscall(SYS_io_setup, profile->depth, &run->aio) != 0)
		return errno;

	for (uint32_t i = 0; i < profile->depth; i++) {
		struct iocb *iocb = &run->iocbs[i];

		iocb->aio_fildes = (uint32_t)fd;
		iocb->aio_lio_opcode = profile->write ? IOCB_CMD_PWRITE :
							IOCB_CMD_PREAD;
		iocb->aio_buf = (uint64_t)(uintptr_t)(run->buffers +
						      (size_t)i * profile->block);
		iocb->aio_nbytes = profile->block;
	}
	return 0;
}

int tune_aio_run(struct dmt_context *ctx, int fd, const char *device,
		 uint64_t size, const struct tune_profile *profile,
		 const struct tune_limits *limits, double *rate,
		 struct dmt_error *err)
{
	struct io_event events[32];
	struct timespec timeout = { .tv_sec = TUNE_IO_TIMEOUT_S };
	struct io_run run;
	uint64_t start, measure_from, stop_at, counted = 0;
	uint32_t in_flight = 0;
	int failure;

	failure = io_run_init(&run, profile, fd, size);
	start = monotonic_ns();
	measure_from = start + limits->ramp_ns;
	stop_at = limits->runtime_ns ? measure_from + limits->runtime_ns : UINT64_MAX;
	for (uint32_t i = 0; !failure && i < profile->depth; i++) {
		failure = submit_one(&run, &run.iocbs[i]);
		if (!failure)
			in_flight++;
	}

	while (in_flight > 0) {
		long n = syscall(SYS_io_getevents, run.aio, 1L, (long)profile->depth,
				 events, &timeout);
		uint64_t now = monotonic_ns();

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			failure = n == 0 ? ETIMEDOUT : errno;
			break;
		}
		for (long i = 0; i < n; i++) {
			struct iocb *iocb = (struct iocb *)(uintptr_t)events[i].obj;

			in_flight--;
			if (events[i].res != (int64_t)profile->block) {
				failure = events[i].res < 0 ? (int)-events[i].res : EIO;
				continue;
			}
			if (now >= measure_from && now < stop_at)
				counted += profile->block;
			if (failure || now >= stop_at ||
			    (limits->bytes && run.submitted >= limits->bytes))
				continue;
			failure = submit_one(&run, iocb);
			if (!failure)
				in_flight++;
		}
	}
	/* An I/O stuck past the timeout still belongs to the context, which
	 * io_destroy waits for. */
	io_run_free(&run);

	if (failure)
		return dmt_fail(ctx, err, DMT_ERR_FAILED, failure,
				"%s: %s failed: %s", device, profile->name,
				strerror(failure));
	if (limits->runtime_ns)
		*rate = (double)counted * NSEC_PER_SEC / (double)limits->runtime_ns;
	else
		*rate = (double)counted * NSEC_PER_SEC /
			(double)(monotonic_ns() - start);
	return DMT_OK;
}
