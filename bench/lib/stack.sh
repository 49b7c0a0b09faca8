# Building and tearing down the stack of one benchmark row. Sourced by
# bench/run, which sets:
#   BENCH_TOP        the checkout
#   BENCH_IMAGES     directory of the sparse images (on the host filesystem
#                    under test)
#   BENCH_PREFIX     prefix of every device-mapper name created here
#   BENCH_VOLUME_SIZE  bytes of each stack's top device
#   BENCH_KEY_FILE   passphrase file of the crypt layerings
#   BENCH_COMMANDS   file that records every command that changes the stack
# shellcheck shell=bash

DMTOOL=${DMTOOL:-$BENCH_TOP/build/bin/dmtool}
# Cheap key derivation: it only slows down opening, never the data path.
BENCH_DMTOOL_KDF=(--pbkdf pbkdf2 --pbkdf-iterations 1000)
BENCH_CRYPTSETUP_KDF=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)

# The stack that is up now.
STACK_KIND=
STACK_NAME=
STACK_IMAGE=
STACK_LOOP=
STACK_DEVICE=
STACK_MOUNT=

# Runs a command and records it in BENCH_COMMANDS.
run_logged() {
	printf '%s\n' "$*" >>"$BENCH_COMMANDS"
	"$@"
}

# stack_build ID LAYERING OPTIONS: builds the row's stack on a new sparse
# image and sets STACK_DEVICE to its top device. OPTIONS are extra
# 'dmtool create' options, or losetup options for the cryptsetup rows.
# Returns dmtool's exit status on failure.
stack_build() {
	local id=$1 layering=$2 options=$3

	STACK_NAME="$BENCH_PREFIX${id//./-}"
	STACK_IMAGE="$BENCH_IMAGES/$id.img"
	rm -f "$STACK_IMAGE"
	case "$layering" in
	raw-loop) build_raw_loop ;;
	cryptsetup) build_cryptsetup "$options" ;;
	*) build_dmtool "$layering" "$options" ;;
	esac
}

# The loop device settings match dmtool's defaults: direct I/O and 4 KiB
# logical blocks.
build_raw_loop() {
	run_logged truncate -s "$BENCH_VOLUME_SIZE" "$STACK_IMAGE" || return
	STACK_LOOP=$(run_logged losetup --find --show --direct-io=on --sector-size 4096 "$STACK_IMAGE") ||
		return
	STACK_KIND=raw
	STACK_DEVICE=$STACK_LOOP
}

# build_cryptsetup LOSETUP_OPTIONS: builds the classic recipe with
# losetup's and cryptsetup's own defaults. losetup gives buffered I/O and
# 512-byte blocks, and cryptsetup picks the cipher, key size, sector size
# and flags. LOSETUP_OPTIONS change the loop device only.
build_cryptsetup() {
	local loop_options=()

	# shellcheck disable=SC2206
	loop_options=($1)
	run_logged truncate -s "$BENCH_VOLUME_SIZE" "$STACK_IMAGE" || return
	STACK_LOOP=$(run_logged losetup --find --show "${loop_options[@]}" "$STACK_IMAGE") || return
	# From here on, stack_teardown closes what exists.
	STACK_KIND=cryptsetup
	run_logged cryptsetup luksFormat --batch-mode --type luks2 --key-file "$BENCH_KEY_FILE" \
		"${BENCH_CRYPTSETUP_KDF[@]}" "$STACK_LOOP" || return
	run_logged cryptsetup open --key-file "$BENCH_KEY_FILE" "$STACK_LOOP" "$STACK_NAME" || return
	STACK_DEVICE=/dev/mapper/$STACK_NAME
}

build_dmtool() {
	local layering=$1 options=$2 arguments=()

	# shellcheck disable=SC2206
	arguments=(--size "$BENCH_VOLUME_SIZE" --layout "$layering" --open "$STACK_NAME" $options)
	if bench_has_thin "$layering"; then
		arguments+=(--initial "$BENCH_VOLUME_SIZE")
	fi
	if bench_has_crypt "$layering"; then
		arguments+=(--key-file "$BENCH_KEY_FILE" "${BENCH_DMTOOL_KDF[@]}")
	fi
	# dmtool create removes what it built when it fails.
	run_logged "$DMTOOL" create "$STACK_IMAGE" "${arguments[@]}" >/dev/null 2>"$BENCH_IMAGES/create.err" ||
		return
	STACK_KIND=dmtool
	STACK_DEVICE=/dev/mapper/$STACK_NAME
}

# Prints the tables of the stack that is up, keys masked, so the report
# shows exactly what was measured.
stack_describe() {
	case "$STACK_KIND" in
	raw) losetup --list --output NAME,DIO,LOG-SEC,BACK-FILE "$STACK_LOOP" ;;
	cryptsetup)
		losetup --list --output NAME,DIO,LOG-SEC,BACK-FILE "$STACK_LOOP"
		cryptsetup status "$STACK_NAME"
		dmsetup table "$STACK_NAME"
		;;
	dmtool) "$DMTOOL" table "$STACK_NAME" ;;
	esac
}

# stack_mount DIR: puts ext4 on the top device and mounts it at DIR. All
# of ext4's initialisation happens here, so that no lazy initialisation
# writes in the background while the profiles run.
stack_mount() {
	local dir=$1

	run_logged mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0,nodiscard "$STACK_DEVICE" ||
		return
	mkdir -p "$dir" || return
	run_logged mount "$STACK_DEVICE" "$dir" || return
	STACK_MOUNT=$dir
}

# Removes the stack that stack_build made, and its image. Returns non-zero
# when a step fails; stack_cleanup_all then removes what is left.
stack_teardown() {
	local status=0

	if [ -n "$STACK_MOUNT" ]; then
		umount "$STACK_MOUNT" || return
		STACK_MOUNT=
	fi
	case "$STACK_KIND" in
	raw) losetup -d "$STACK_LOOP" || status=$? ;;
	cryptsetup)
		if [ -e "/dev/mapper/$STACK_NAME" ]; then
			cryptsetup close "$STACK_NAME" || status=$?
		fi
		losetup -d "$STACK_LOOP" || status=$?
		;;
	dmtool) "$DMTOOL" close "$STACK_NAME" >/dev/null || status=$? ;;
	esac
	[ "$status" -eq 0 ] || return "$status"
	STACK_KIND=
	rm -f "$STACK_IMAGE"
}

# stack_cleanup_all DIR: removes whatever a failed or interrupted run left:
# mounts at or under DIR, device-mapper devices named with BENCH_PREFIX
# (top first) and loop devices over images in BENCH_IMAGES.
stack_cleanup_all() {
	local dir=$1 mountpoint names name pass loop open

	awk -v d="$dir/" 'index($2 "/", d) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r mountpoint; do umount -l "$mountpoint" 2>/dev/null || true; done
	for pass in 1 2 3 4 5 6 7 8; do
		names=$(dmsetup ls 2>/dev/null | awk -v p="$BENCH_PREFIX" 'index($1, p) == 1 { print $1 }')
		[ -n "$names" ] || break
		for name in $names; do
			open=$(dmsetup info -c --noheadings -o open "$name" 2>/dev/null | tr -d ' ')
			[ "${open:-1}" != 0 ] || dmsetup remove "$name" 2>/dev/null || true
		done
	done
	losetup -a -n -O NAME,BACK-FILE 2>/dev/null |
		awk -v d="$BENCH_IMAGES/" 'index($2, d) == 1 { print $1 }' |
		while read -r loop; do losetup -d "$loop" 2>/dev/null || true; done
	STACK_KIND=
	STACK_MOUNT=
}
