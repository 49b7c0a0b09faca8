/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Growth policy: when to grow a pool's data area and by how much, and how
 * much of it the host can back. Pure arithmetic, unit tested.
 */
#ifndef DMTOOL_POLICY_H
#define DMTOOL_POLICY_H

#include "internal.h"

/* The pool's low water mark is at least this much free data space, so a
 * small pool grows before a fast writer can fill it: the monitor needs a
 * moment to react to the event. */
#define LOW_WATER_MIN (256ull * MIB)
/* A growth step is at least this much, so small pools do not grow in
 * steps so small that every few seconds bring another event. */
#define GROW_STEP_MIN (128ull * MIB)

struct pool_space {
	uint64_t total;		/* data area, bytes */
	uint64_t used;		/* provisioned data, bytes */
	uint64_t max;		/* largest data area the metadata covers */
	uint32_t chunk;		/* data block, bytes */
	uint64_t host_free;	/* free bytes on the host filesystem */
	uint64_t reserve;	/* host bytes never to grow into */
};

enum growth_verdict {
	GROWTH_NOT_NEEDED,
	GROWTH_GROW,
	GROWTH_AT_MAXIMUM,	/* the area reached its maximum */
	GROWTH_AT_RESERVE,	/* the host has nothing to give above the reserve */
};

struct growth_decision {
	enum growth_verdict verdict;
	uint64_t new_total;	/* with GROWTH_GROW */
	uint64_t low_water;	/* bytes of free data that trigger growth */
	uint64_t capacity;	/* the largest area the host can back now */
};

/* Low water mark in bytes for a data area of total bytes. */
uint64_t policy_low_water(const struct dmt_growth_policy *policy,
			  uint64_t total);

/* The largest data area the host can back: every byte not yet provisioned
 * may need new host space, and the reserve stays untouched. */
uint64_t policy_capacity(const struct pool_space *space);

/* Decides whether and how far to grow. */
void policy_decide(const struct dmt_growth_policy *policy,
		   const struct pool_space *space,
		   struct growth_decision *decision);

/* Caps a requested new size to what the host can back; returns false when
 * the request had to be cut. */
bool policy_cap_request(const struct pool_space *space, uint64_t *new_total);

const char *policy_verdict_name(enum growth_verdict verdict);

#endif
