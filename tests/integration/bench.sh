# The benchmark runner as a smoke test: bench/run --quick, natively on this
# kernel, must produce numbers for every layering, the summary, the report
# and its plots, and leave no device behind. How fast anything was is never
# checked: the test guest's figures are far too noisy for that.
# shellcheck shell=bash

BENCH_LAYERINGS=(raw-loop cryptsetup crypt thin thin-crypt crypt-thin)
# first-write-seq, the eight timed profiles and first-write-rand.
BENCH_PROFILE_COUNT=10

# Prints how many profiles of ROW have a median throughput above zero.
profiles_with_numbers() {
	jq --arg row "$2" '[.results[] | select(.row == $row and .mib_s.median > 0)] | length' "$1"
}

test_quick_run() {
	local out=$TEST_DIR/results layering row file status=0 plots

	export DMTOOL_GUARD_MODULE=${DMTOOL_GUARD_MODULE:-$DMTOOL_TOP/kmod/dm-space-guard.ko}
	"$DMTOOL_TOP/bench/run" --mode native --quick --dir "$TEST_DIR/images" \
		--output "$out" --prefix "$TEST_PREFIX" || status=$?
	assert_eq "$status" 0 "bench/run --quick exit status"

	for file in report.md summary.csv summary.json runs.jsonl commands.log run.json; do
		[ -s "$out/$file" ] || fail "$file is missing or empty in $out"
	done
	for layering in "${BENCH_LAYERINGS[@]}"; do
		assert_eq "$(profiles_with_numbers "$out/summary.json" "$layering")" \
			"$BENCH_PROFILE_COUNT" "profiles with numbers for $layering"
	done

	# The guard rows run when the module loads; otherwise the report says
	# that they were skipped.
	if [ -s "$out/guard-skipped.txt" ]; then
		grep -q 'guard rows skipped' "$out/report.md" || fail "the report does not say that the guard rows were skipped"
	else
		for row in crypt.guard thin.guard thin-crypt.guard crypt-thin.guard; do
			assert_eq "$(profiles_with_numbers "$out/summary.json" "$row")" \
				"$BENCH_PROFILE_COUNT" "profiles with numbers for $row"
		done
	fi

	# One CSV line per row and profile, after the header line.
	assert_eq "$(($(wc -l <"$out/summary.csv") - 1))" \
		"$(jq '.results | length' "$out/summary.json")" "summary.csv lines"
	for file in seq-write seq-read rand-read-qd1 latency-rand-read-qd1; do
		[ -s "$out/plots/$file.svg" ] || fail "plot $file.svg is missing"
		grep -q "plots/$file.svg" "$out/report.md" || fail "report.md does not show $file.svg"
	done
	plots=$(find "$out/plots" -name '*.svg' | wc -l)
	assert_ge "$plots" 10 "plots"

	# What a reader needs to tell machines apart.
	for field in kernel CPU AES-NI emulation; do
		grep -q "^| $field |" "$out/report.md" || fail "report.md has no '$field' line"
	done
	grep -q 'cryptsetup luksFormat' "$out/report.md" || fail "report.md does not show the cryptsetup commands"
	jq -e '.run.cipher["512"].encrypt > 0' "$out/summary.json" >/dev/null ||
		fail "no cipher throughput from cryptsetup benchmark in summary.json"

	assert_eq "$(dmsetup ls 2>/dev/null | grep -c "^$TEST_PREFIX")" 0 "device-mapper devices left"
	assert_eq "$(losetup -a | grep -c "$TEST_DIR/images")" 0 "loop devices left"
	assert_eq "$(find "$TEST_DIR/images" -name '*.img' | wc -l)" 0 "images left"
}

test_rejects_invalid_options() {
	expect_failure 2 "unknown layering 'nope'" "$DMTOOL_TOP/bench/run" --layering nope --list
	expect_failure 2 "unknown profile 'first-write-seq'" "$DMTOOL_TOP/bench/run" --profile first-write-seq --list
	expect_failure 2 "invalid --target 'disk'" "$DMTOOL_TOP/bench/run" --target disk --list
	expect_failure 2 "invalid --runs '0'" "$DMTOOL_TOP/bench/run" --runs 0 --list
	expect_failure 2 "invalid --flag-rounds 'x'" "$DMTOOL_TOP/bench/run" --flag-rounds x --list
	expect_failure 2 "unknown option '--fast'" "$DMTOOL_TOP/bench/run" --fast
}

test_lists_selected_rows() {
	local listing

	listing=$("$DMTOOL_TOP/bench/run" --layering thin-crypt --profile seq-read --list)
	echo "$listing"
	echo "$listing" | grep -q '^  raw-loop ' || fail "raw-loop, the ceiling, is not listed"
	echo "$listing" | grep -q '^  thin-crypt.no-wq ' || fail "thin-crypt's variants are not listed"
	echo "$listing" | grep -q '^  crypt-thin ' && fail "crypt-thin is listed though not selected"
	echo "$listing" | grep -q '^profiles: first-write-seq seq-read$' || fail "the profile list is wrong"
}
