# Each layout end to end: create, mkfs, write, close, reopen, verify.

# Creates a volume with LAYOUT on a fresh image, writes real files through
# ext4, checks status and tables against the kernel's view, closes it,
# reopens it and verifies every file.
roundtrip_layout() {
	local layout=$1 image=$TEST_DIR/volume.img name
	name=$(volume_name)

	make_key_file
	"$DMTOOL" create "$image" --size 2G --initial 256M --layout "$layout" \
		--key-file "$KEY_FILE" "${FAST_KDF[@]}" --open "$name"
	[ -b "/dev/mapper/$name" ] || fail "/dev/mapper/$name missing after create --open"
	assert_eq "$(blockdev --getsize64 "/dev/mapper/$name")" $((2 << 30)) "size of /dev/mapper/$name"

	mkfs.ext4 -q "/dev/mapper/$name"
	mkdir -p "$TEST_DIR/mnt"
	mount "/dev/mapper/$name" "$TEST_DIR/mnt"
	fill_files "$TEST_DIR/mnt"
	checksum_tree "$TEST_DIR/mnt" >"$TEST_DIR/before.md5"
	umount "$TEST_DIR/mnt"

	check_status_matches_kernel "$name" "$image" "$layout"
	check_table_matches_kernel "$name"

	"$DMTOOL" close "$name"
	assert_no_leftovers "$image"

	"$DMTOOL" open "$image" "$name" --key-file "$KEY_FILE"
	mount "/dev/mapper/$name" "$TEST_DIR/mnt"
	checksum_tree "$TEST_DIR/mnt" >"$TEST_DIR/after.md5"
	umount "$TEST_DIR/mnt"
	cmp "$TEST_DIR/before.md5" "$TEST_DIR/after.md5" || fail "file checksums differ after close and reopen"
	assert_ge "$(wc -l <"$TEST_DIR/after.md5")" 100 "files verified"

	"$DMTOOL" close "$name"
	assert_no_leftovers "$image"
}

check_status_matches_kernel() {
	local name=$1 image=$2 layout=$3 json used total chunk

	json=$("$DMTOOL" status --json "$name")
	echo "$json"
	assert_eq "$(echo "$json" | jq -r .layout)" "$layout" "status layout"
	assert_eq "$(echo "$json" | jq -r .virtual_size)" $((2 << 30)) "status virtual_size"
	assert_eq "$(echo "$json" | jq -r .image.apparent_size)" "$(stat -c %s "$image")" "status apparent size"
	assert_eq "$(echo "$json" | jq -r .image.allocated)" "$(allocated_bytes "$image")" "status allocated size"
	assert_eq "$(echo "$json" | jq -r .loop.block_size)" 4096 "loop block size"

	case "$layout" in
	thin-crypt | crypt-thin | thin)
		read -r used total < <(dmsetup status "$name-pool" | awk '{ split($6, d, "/"); print d[1], d[2] }')
		chunk=$(echo "$json" | jq -r .pool.chunk_size)
		assert_eq "$(echo "$json" | jq -r .pool.data_used)" $((used * chunk)) "pool data used"
		assert_eq "$(echo "$json" | jq -r .pool.data_total)" $((total * chunk)) "pool data total"
		assert_eq "$(echo "$json" | jq -r .pool.mode)" rw "pool mode"
		assert_eq "$(echo "$json" | jq -r .pool.error_if_no_space)" true "error_if_no_space"
		;;
	esac
	case "$layout" in
	thin) [ "$(echo "$json" | jq -r .crypt)" = null ] || fail "crypt reported for the thin layout" ;;
	*)
		assert_eq "$(echo "$json" | jq -r .crypt.sector_size)" 4096 "crypt sector size"
		assert_eq "$(echo "$json" | jq -r .crypt.cipher)" aes-xts-plain64 "cipher"
		;;
	esac
}

# 'dmtool table NAME' must print what 'dmsetup table' prints, device by
# device, with the key masked the same way.
check_table_matches_kernel() {
	local name=$1 device line ours theirs

	"$DMTOOL" table "$name" >"$TEST_DIR/dmtool.table"
	assert_ge "$(wc -l <"$TEST_DIR/dmtool.table")" 1 "table lines"
	while IFS= read -r line; do
		device=${line%%: *}
		ours=${line#*: }
		theirs=$(dmsetup table "$device" | sed 's/ *$//')
		assert_eq "$ours" "$theirs" "table of $device"
	done <"$TEST_DIR/dmtool.table"
	if grep -Eq '[1-9a-f]{16}' "$TEST_DIR/dmtool.table"; then
		fail "dmtool table printed something that looks like a key"
	fi
}

test_thin_crypt_roundtrip() {
	roundtrip_layout thin-crypt
}

test_crypt_thin_roundtrip() {
	roundtrip_layout crypt-thin
}

test_crypt_roundtrip() {
	roundtrip_layout crypt
}

test_thin_roundtrip() {
	roundtrip_layout thin
}

# The LUKS2 header dmtool writes is plain LUKS2: cryptsetup opens it on the
# right device and decrypts the same bytes.
test_thin_crypt_opens_with_cryptsetup() {
	local image=$TEST_DIR/volume.img name
	name=$(volume_name)

	make_key_file
	"$DMTOOL" create "$image" --size 1G --initial 128M --key-file "$KEY_FILE" "${FAST_KDF[@]}" --open "$name"
	head -c 4M /dev/urandom >"$TEST_DIR/data"
	dd if="$TEST_DIR/data" of="/dev/mapper/$name" bs=1M oflag=direct status=none
	output_matches '^Version:.*2' cryptsetup luksDump "/dev/mapper/$name-thin" || fail "luksDump found no LUKS2 header on $name-thin"

	# Take dmtool's crypt layer away, so cryptsetup can claim the thin
	# volume; close must still find and remove the rest of the stack.
	dmsetup remove "$name"
	cryptsetup open --key-file "$KEY_FILE" "/dev/mapper/$name-thin" "${TEST_PREFIX}cs"
	cmp -n $((4 << 20)) "$TEST_DIR/data" "/dev/mapper/${TEST_PREFIX}cs" || fail "cryptsetup decrypts different data"
	cryptsetup close "${TEST_PREFIX}cs"
	"$DMTOOL" close "$name"
	assert_no_leftovers "$image"
}

test_crypt_opens_with_cryptsetup() {
	local image=$TEST_DIR/volume.img name loop
	name=$(volume_name)

	make_key_file
	"$DMTOOL" create "$image" --size 256M --layout crypt --key-file "$KEY_FILE" "${FAST_KDF[@]}" --open "$name"
	head -c 4M /dev/urandom >"$TEST_DIR/data"
	dd if="$TEST_DIR/data" of="/dev/mapper/$name" bs=1M oflag=direct status=none
	"$DMTOOL" close "$name"

	# The payload starts after dmtool's 1 MiB header area.
	loop=$(losetup -f --show -o 1048576 "$image")
	cryptsetup open --key-file "$KEY_FILE" "$loop" "${TEST_PREFIX}cs"
	cmp -n $((4 << 20)) "$TEST_DIR/data" "/dev/mapper/${TEST_PREFIX}cs" || fail "cryptsetup decrypts different data"
	cryptsetup close "${TEST_PREFIX}cs"
	losetup -d "$loop"
}

test_dry_run_table_names_devices() {
	local image=$TEST_DIR/volume.img

	"$DMTOOL" create "$image" --size 1G --layout thin
	"$DMTOOL" table "$image" vol | tee "$TEST_DIR/plan"
	assert_eq "$(wc -l <"$TEST_DIR/plan")" 4 "devices in the thin plan"
	grep -q '^vol-pool: 0 131072 thin-pool /dev/mapper/vol-tmeta /dev/mapper/vol-tdata 128 ' "$TEST_DIR/plan" ||
		fail "pool line not as expected"
	grep -q '^vol-tmeta: 0 [0-9]* linear /dev/loopX 0$' "$TEST_DIR/plan" || fail "metadata line not as expected"
	assert_no_leftovers "$image"
}

test_info_and_check() {
	local image=$TEST_DIR/volume.img

	make_key_file
	"$DMTOOL" create "$image" --size 1G --layout crypt-thin --key-file "$KEY_FILE" "${FAST_KDF[@]}"
	"$DMTOOL" info --json "$image" | jq -e '.layout == "crypt-thin" and .virtual_size == 1073741824' >/dev/null ||
		fail "info does not describe the image"
	"$DMTOOL" check "$image" --key-file "$KEY_FILE" | tee "$TEST_DIR/check"
	grep -q 'metadata: ok' "$TEST_DIR/check" || fail "check did not pass the metadata"
	assert_no_leftovers "$image"

	"$DMTOOL" create "$TEST_DIR/thin.img" --size 1G --layout thin
	output_matches 'metadata: ok' "$DMTOOL" check "$TEST_DIR/thin.img" || fail "check failed on a thin image"
	assert_no_leftovers "$TEST_DIR/thin.img"
}

test_remove_deletes_image() {
	local image=$TEST_DIR/volume.img name
	name=$(volume_name)

	"$DMTOOL" create "$image" --size 1G --layout thin --open "$name"
	expect_failure 2 'confirm' "$DMTOOL" remove "$image" </dev/null
	[ -b "/dev/mapper/$name" ] || fail "remove without --yes closed the volume"
	"$DMTOOL" remove --yes "$image"
	[ ! -e "$image" ] || fail "image still exists after remove"
	assert_no_leftovers "$image"
}

test_status_lists_all_volumes() {
	"$DMTOOL" create "$TEST_DIR/a.img" --size 1G --layout thin --open "$(volume_name a)"
	"$DMTOOL" create "$TEST_DIR/b.img" --size 1G --layout thin --open "$(volume_name b)"
	"$DMTOOL" status --json | jq -r '.[].name' | sort >"$TEST_DIR/names"
	grep -qx "$(volume_name a)" "$TEST_DIR/names" || fail "volume a not listed"
	grep -qx "$(volume_name b)" "$TEST_DIR/names" || fail "volume b not listed"
	"$DMTOOL" close "$(volume_name a)"
	"$DMTOOL" close "$(volume_name b)"
}
