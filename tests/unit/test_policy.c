// SPDX-License-Identifier: LGPL-2.1-or-later
/* Growth decisions: low water mark, steps, the maximum and the reserve. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "policy.h"

static const struct dmt_growth_policy defaults = {
	.step_percent = 50, .low_water_percent = 20, .reserve_percent = 5,
};

static struct pool_space space(uint64_t total, uint64_t used)
{
	struct pool_space s = {
		.total = total, .used = used, .max = 100 * GIB,
		.chunk = 64 * 1024, .host_free = 50 * GIB, .reserve = GIB,
	};

	return s;
}

static void no_growth_above_low_water(void **state)
{
	struct pool_space s = space(10 * GIB, 5 * GIB);
	struct growth_decision d;

	(void)state;
	policy_decide(&defaults, &s, &d);
	assert_int_equal(d.verdict, GROWTH_NOT_NEEDED);
	assert_int_equal(d.low_water, 2 * GIB);
}

/* dm-thin raises its event when free space equals the mark. */
static void grows_at_low_water_mark(void **state)
{
	struct pool_space s = space(10 * GIB, 8 * GIB);
	struct growth_decision d;

	(void)state;
	policy_decide(&defaults, &s, &d);
	assert_int_equal(d.low_water, 2 * GIB);
	assert_int_equal(d.verdict, GROWTH_GROW);
	assert_true(d.new_total - s.used > d.low_water);
}

static void grows_by_step_below_low_water(void **state)
{
	struct pool_space s = space(10 * GIB, 9 * GIB);
	struct growth_decision d;

	(void)state;
	policy_decide(&defaults, &s, &d);
	assert_int_equal(d.verdict, GROWTH_GROW);
	assert_int_equal(d.new_total, 15 * GIB);
	assert_int_equal(d.new_total % s.chunk, 0);
}

static void small_pool_uses_minimums(void **state)
{
	struct pool_space s = space(64 * MIB, 10 * MIB);
	struct growth_decision d;

	(void)state;
	policy_decide(&defaults, &s, &d);
	assert_int_equal(d.low_water, LOW_WATER_MIN);
	assert_int_equal(d.verdict, GROWTH_GROW);
	/* Enough to clear the low water mark again after growing. */
	assert_true(d.new_total - s.used > policy_low_water(&defaults, d.new_total) ||
		    d.new_total - s.used >= LOW_WATER_MIN);
	assert_true(d.new_total >= s.total + GROW_STEP_MIN);
}

static void stops_at_maximum(void **state)
{
	struct pool_space s = space(100 * GIB, 99 * GIB);
	struct growth_decision d;

	(void)state;
	policy_decide(&defaults, &s, &d);
	assert_int_equal(d.verdict, GROWTH_AT_MAXIMUM);

	s = space(99 * GIB + 512 * MIB, 99 * GIB + 400 * MIB);
	policy_decide(&defaults, &s, &d);
	assert_int_equal(d.verdict, GROWTH_GROW);
	assert_int_equal(d.new_total, 100 * GIB);
}

static void never_grows_into_reserve(void **state)
{
	struct pool_space s = space(4 * GIB, 3900 * MIB);
	struct growth_decision d;

	(void)state;
	s.host_free = GIB + 300 * MIB;	/* 300 MiB above the 1 GiB reserve */
	policy_decide(&defaults, &s, &d);
	assert_int_equal(d.verdict, GROWTH_GROW);
	assert_int_equal(d.new_total, 3900 * MIB + 300 * MIB);
	assert_true(d.new_total - s.used <= s.host_free - s.reserve);

	s.host_free = GIB - 1;
	policy_decide(&defaults, &s, &d);
	assert_int_equal(d.verdict, GROWTH_AT_RESERVE);
	assert_int_equal(d.capacity, round_down_u64(s.used, s.chunk));
}

static void fixed_step_in_bytes(void **state)
{
	struct dmt_growth_policy policy = defaults;
	struct pool_space s = space(10 * GIB, 9500 * MIB);
	struct growth_decision d;

	(void)state;
	policy.step_bytes = 4 * GIB;
	policy.step_percent = 0;
	policy_decide(&policy, &s, &d);
	assert_int_equal(d.verdict, GROWTH_GROW);
	assert_int_equal(d.new_total, 14 * GIB);

	/* A step too small to clear the low water mark is stretched. */
	policy.step_bytes = GIB;
	policy_decide(&policy, &s, &d);
	assert_int_equal(d.new_total, 9500 * MIB + 2 * GIB + 64 * 1024);
}

static void request_capped_to_host(void **state)
{
	struct pool_space s = space(GIB, GIB / 2);
	uint64_t request = 10 * GIB;

	(void)state;
	s.host_free = 2 * GIB;
	assert_false(policy_cap_request(&s, &request));
	assert_int_equal(request, GIB / 2 + GIB);
	request = GIB + GIB / 4;
	assert_true(policy_cap_request(&s, &request));
	assert_int_equal(request, GIB + GIB / 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_growth_above_low_water),
		cmocka_unit_test(grows_at_low_water_mark),
		cmocka_unit_test(grows_by_step_below_low_water),
		cmocka_unit_test(small_pool_uses_minimums),
		cmocka_unit_test(stops_at_maximum),
		cmocka_unit_test(never_grows_into_reserve),
		cmocka_unit_test(fixed_step_in_bytes),
		cmocka_unit_test(request_capped_to_host),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
