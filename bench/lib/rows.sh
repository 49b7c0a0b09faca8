# The rows of the benchmark: each is one stack, built fresh for every run,
# on which the profiles run. Sourced by bench/run.
# shellcheck shell=bash

# Layerings, bottom to top:
#   raw-loop     loop device on a sparse image (the device under every
#                stack, and the ceiling of the others)
#   cryptsetup   cryptsetup luksFormat and open with their defaults on a
#                loop device that losetup set up with its defaults. Its
#                dio-loop variant puts them on the loop device dmtool uses
#                (direct I/O, 4 KiB blocks). That row compares the crypt
#                choices alone.
#   crypt        dmtool's crypt layout: loop -> dm-crypt
#   thin         dmtool's thin layout: loop -> thin pool -> thin
#   thin-crypt   loop -> thin pool -> thin -> dm-crypt (dmtool's default)
#   crypt-thin   loop -> dm-crypt -> thin pool -> thin
BENCH_LAYERINGS=(raw-loop cryptsetup crypt thin thin-crypt crypt-thin)

# losetup's options for the cryptsetup.dio-loop row: the loop device
# dmtool sets up.
BENCH_DIO_LOOP_OPTIONS="--direct-io=on --sector-size 4096"

# dm-crypt flag variants, as 'dmtool create' options. With the defaults
# they are the four flag sets 'dmtool tune' chooses from, so the report can
# check its choice against them.
BENCH_FLAG_VARIANTS=(
	"no-read-wq|--no-read-workqueue"
	"no-wq|--no-read-workqueue --no-write-workqueue"
	"same-cpu|--same-cpu-crypt"
)

# Prints every row as tab-separated fields:
#   id  layering  variant  first-write  quick  dmtool-create-options
# id is unique and safe in file names. For the cryptsetup rows, the
# options are losetup's instead. first-write is 1 when the row also
# runs first-write-rand (provisioning and allocation cost); the dm-crypt
# variants leave it out because they do not change how space is
# allocated. quick is 1 for the rows of a --quick run: every layering with
# its defaults, and with the space-guard.
bench_all_rows() {
	local layering entry

	printf '%s\t%s\t%s\t%s\t%s\t%s\n' raw-loop raw-loop default 1 1 ""
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' cryptsetup cryptsetup stock 1 1 ""
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' cryptsetup.dio-loop cryptsetup dio-loop 1 0 \
		"$BENCH_DIO_LOOP_OPTIONS"
	for layering in crypt thin thin-crypt crypt-thin; do
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$layering" "$layering" default 1 1 ""
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$layering.guard" "$layering" guard 1 1 "--guard"
		[ "$layering" = thin ] && continue
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$layering.sector-512" "$layering" sector-512 0 0 "--sector-size 512"
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$layering.key-256" "$layering" key-256 0 0 "--key-size 256"
		for entry in "${BENCH_FLAG_VARIANTS[@]}"; do
			printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$layering.${entry%%|*}" "$layering" \
				"${entry%%|*}" 0 0 "${entry#*|}"
		done
	done
	# Thin variants on the default layering: chunk size and block zeroing
	# change what a first write costs, so these rows run first-write-rand.
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' thin-crypt.chunk-1m thin-crypt chunk-1m 1 0 "--chunk-size 1M"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' thin-crypt.zero thin-crypt zero 1 0 "--zero"
}

# bench_select_rows QUICK LAYERINGS: prints the rows to run. LAYERINGS is
# a comma-separated list, empty for all; raw-loop is always included,
# because it is the ceiling every other row is compared with.
bench_select_rows() {
	local quick=$1 wanted=",raw-loop,$2,"

	bench_all_rows | awk -F '\t' -v quick="$quick" -v wanted="$wanted" -v all="${2:-all}" '
		(quick == 0 || $5 == 1) && (all == "all" || index(wanted, "," $2 ",") > 0)'
}

# True when the layering encrypts.
bench_has_crypt() {
	case "$1" in
	cryptsetup | crypt | thin-crypt | crypt-thin) return 0 ;;
	*) return 1 ;;
	esac
}

# True when the layering has a thin pool.
bench_has_thin() {
	case "$1" in
	thin | thin-crypt | crypt-thin) return 0 ;;
	*) return 1 ;;
	esac
}
