// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Secrets in locked memory. Each secret gets its own anonymous mapping, so
 * it can be locked, kept out of core dumps and unmapped after wiping.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct dmt_secret *dmt_secret_new(size_t capacity)
{
	struct dmt_secret *secret;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t mapped = (capacity + page - 1) / page * page;
	void *data;

	if (capacity == 0 || mapped < capacity)
		return NULL;

	secret = calloc(1, sizeof(*secret));
	if (!secret)
		return NULL;

	data = mmap(NULL, mapped, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (data == MAP_FAILED)
		goto free_secret;

	/* Locking can fail under RLIMIT_MEMLOCK; the secret is still wiped. */
	(void)mlock(data, mapped);
	(void)madvise(data, mapped, MADV_DONTDUMP);
	/* A tool that dmtool starts gets no copy of the key pages. */
	(void)madvise(data, mapped, MADV_DONTFORK);

	secret->data = data;
	secret->capacity = mapped;
	return secret;

free_secret:
	free(secret);
	return NULL;
}

void dmt_secret_free(struct dmt_secret *secret)
{
	if (!secret)
		return;

	explicit_bzero(secret->data, secret->capacity);
	munlock(secret->data, secret->capacity);
	munmap(secret->data, secret->capacity);
	free(secret);
}
