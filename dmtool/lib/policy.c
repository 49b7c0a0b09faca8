// SPDX-License-Identifier: LGPL-2.1-or-later
/* Growth decisions of the pool monitor. */
#include "policy.h"

/* percent of value, exact for values up to 2^57 without overflow. */
static uint64_t percent_of(uint64_t value, uint32_t percent)
{
	return value / 100 * percent + value % 100 * percent / 100;
}

uint64_t policy_low_water(const struct dmt_growth_policy *policy,
			  uint64_t total)
{
	uint64_t low_water = percent_of(total, policy->low_water_percent);

	return low_water < LOW_WATER_MIN ? LOW_WATER_MIN : low_water;
}

uint64_t policy_capacity(const struct pool_space *space)
{
	uint64_t spare = space->host_free > space->reserve ?
				 space->host_free - space->reserve : 0;
	uint64_t capacity = space->used + spare;

	if (capacity > space->max)
		capacity = space->max;
	return round_down_u64(capacity, space->chunk);
}

static uint64_t step_bytes(const struct dmt_growth_policy *policy,
			   uint64_t total)
{
	uint64_t step = policy->step_bytes;

	if (!step)
		step = percent_of(total, policy->step_percent);
	return step < GROW_STEP_MIN ? GROW_STEP_MIN : step;
}

void policy_decide(const struct dmt_growth_policy *policy,
		   const struct pool_space *space,
		   struct growth_decision *decision)
{
	uint64_t free = space->total - space->used;
	uint64_t target;

	decision->new_total = space->total;
	decision->low_water = policy_low_water(policy, space->total);
	decision->capacity = policy_capacity(space);
	decision->verdict = GROWTH_NOT_NEEDED;
	/* dm-thin raises its event at free <= low water: grow at the same
	 * point, or an event at the mark itself would be ignored. */
	if (free > decision->low_water)
		return;

	if (space->total >= space->max) {
		decision->verdict = GROWTH_AT_MAXIMUM;
		return;
	}
	if (decision->capacity <= space->total) {
		decision->verdict = GROWTH_AT_RESERVE;
		return;
	}

	/* Grow by the step, and at least far enough to clear the low water
	 * mark again, within what the host can back. */
	target = space->total + step_bytes(policy, space->total);
	if (target < space->used + decision->low_water + space->chunk)
		target = space->used + decision->low_water + space->chunk;
	target = round_up_u64(target, space->chunk);
	if (target > decision->capacity)
		target = decision->capacity;

	decision->verdict = GROWTH_GROW;
	decision->new_total = target;
}

bool policy_cap_request(const struct pool_space *space, uint64_t *new_total)
{
	uint64_t capacity = policy_capacity(space);

	if (*new_total <= capacity)
		return true;
	*new_total = capacity;
	return false;
}

const char *policy_verdict_name(enum growth_verdict verdict)
{
	switch (verdict) {
	case GROWTH_NOT_NEEDED:
		return "not needed";
	case GROWTH_GROW:
		return "grow";
	case GROWTH_AT_MAXIMUM:
		return "at maximum";
	case GROWTH_AT_RESERVE:
		return "at reserve";
	}
	return "unknown";
}
