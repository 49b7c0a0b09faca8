# Shared setup, teardown and assertions of the integration tests.
# shellcheck shell=bash

DMTOOL=${DMTOOL:-$DMTOOL_TOP/build/bin/dmtool}
HELPERS=$DMTOOL_TOP/build/tests/helpers

# Names every resource of test NUMBER is created under.
test_names() {
	TEST_NUMBER=$1
	TEST_PREFIX="it$1-"
	TEST_DIR="$DMTOOL_TEST_SCRATCH/it$1"
}

test_setup() {
	TEST_AREA=$1
	TEST_NAME=$2
	test_names "$3"
	teardown_everything >/dev/null 2>&1
	mkdir -p "$TEST_DIR"
	cd "$TEST_DIR"
	kernel_log_time >"$TEST_DIR/.dmesg-start"
	trap 'exit 143' TERM
	trap 'test_exit $?' EXIT
}

test_exit() {
	local status=$1

	trap - EXIT
	if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
		print_diagnostics
	fi
	teardown_everything
	exit "$status"
}

print_diagnostics() {
	echo "--- dmsetup table"
	dmsetup table 2>&1 | grep -v '^No devices found' || true
	echo "--- dmsetup status"
	dmsetup status 2>&1 | grep -v '^No devices found' || true
	echo "--- loop devices"
	losetup -a 2>&1 || true
	echo "--- kernel log since the test started (last 60 lines)"
	kernel_log_since_start 2>&1 | tail -n 60 || true
}

# Prints the timestamp of the newest kernel log line, in seconds since boot.
kernel_log_time() {
	dmesg | tail -n 1 | sed -n 's/^\[ *\([0-9]*\.[0-9]*\)\].*/\1/p' | grep . || echo 0
}

# Prints the kernel log lines written since the test started. It compares
# timestamps, not line counts, because a full log buffer drops old lines.
kernel_log_since_start() {
	dmesg | awk -v start="$(cat "$TEST_DIR/.dmesg-start" 2>/dev/null || echo 0)" '
		match($0, /^\[ *[0-9]+\.[0-9]+\]/) { seen = (substr($0, RSTART + 1, RLENGTH - 2) + 0 > start + 0) }
		seen'
}

# Succeeds when CMD... succeeds and its output matches the extended regex
# PATTERN. The output is captured first: in "CMD | grep -q" under
# pipefail, grep exits at the first match, and CMD fails with SIGPIPE if it
# writes again after that.
output_matches() {
	local pattern=$1 out
	shift
	out=$("$@") || return
	grep -qE -- "$pattern" <<<"$out"
}

# Removes the dm devices named with TEST_PREFIX, top first: a device is
# removable once nothing holds it open, so repeat until none is left.
remove_test_devices() {
	local pass name open

	for pass in 1 2 3 4 5 6 7 8; do
		local left=0
		while read -r name; do
			[ -n "$name" ] || continue
			left=1
			open=$(dmsetup info -c --noheadings -o open "$name" 2>/dev/null | tr -d ' ')
			if [ "${open:-1}" = 0 ]; then
				dmsetup remove --noudevsync "$name" 2>/dev/null || true
				rm -f "/dev/mapper/$name"
			fi
		done < <(dmsetup ls 2>/dev/null | awk -v p="$TEST_PREFIX" 'index($1, p) == 1 { print $1 }')
		[ "$left" -eq 1 ] || return 0
	done
	echo "teardown: devices left: $(dmsetup ls | awk -v p="$TEST_PREFIX" 'index($1, p) == 1 { print $1 }' | tr '\n' ' ')" >&2
}

teardown_everything() {
	local pid mountpoint loop

	if [ -f "$TEST_DIR/.pids" ]; then
		while read -r pid; do
			kill "$pid" 2>/dev/null || true
		done <"$TEST_DIR/.pids"
		sleep 0.2
		while read -r pid; do
			kill -KILL "$pid" 2>/dev/null || true
		done <"$TEST_DIR/.pids"
	fi

	# Mounts of the test's volumes first, then mounts under its directory,
	# deepest first.
	awk -v p="/dev/mapper/$TEST_PREFIX" 'index($1, p) == 1 { print $2 }' /proc/mounts |
		while read -r mountpoint; do umount -l "$mountpoint" 2>/dev/null || true; done
	remove_test_devices
	# Loop devices over files inside a test's host filesystem keep it busy:
	# detach them before unmounting it, and its own loop device after.
	detach_test_loops
	awk -v d="$TEST_DIR/" 'index($2 "/", d) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r mountpoint; do
			umount "$mountpoint" 2>/dev/null || umount -l "$mountpoint" 2>/dev/null || true
		done
	remove_test_devices
	detach_test_loops
	rm -rf "$TEST_DIR"
}

# Detaches the loop devices over files under TEST_DIR; a mounted one fails
# and stays until its filesystem is unmounted.
detach_test_loops() {
	local loop

	losetup -a -n -O NAME,BACK-FILE 2>/dev/null | awk -v d="$TEST_DIR/" 'index($2, d) == 1 { print $1 }' |
		while read -r loop; do losetup -d "$loop" 2>/dev/null || true; done
}

# Records a background process to be killed at teardown.
track_pid() {
	echo "$1" >>"$TEST_DIR/.pids"
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

assert_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: got '$1', expected '$2'"
}

assert_ge() {
	[ "$1" -ge "$2" ] || fail "${3:-value}: got $1, expected at least $2"
}

assert_le() {
	[ "$1" -le "$2" ] || fail "${3:-value}: got $1, expected at most $2"
}

# expect_failure STATUS PATTERN COMMAND...: COMMAND must exit with STATUS
# and print an error matching the extended regular expression PATTERN.
expect_failure() {
	local expected=$1 pattern=$2 status=0 output
	shift 2

	output=$("$@" 2>&1) || status=$?
	echo "$ $* -> exit $status"
	echo "$output" | sed 's/^/  /'
	[ "$status" -eq "$expected" ] || fail "'$*' exited with $status, expected $expected"
	grep -Eq -- "$pattern" <<<"$output" || fail "'$*' printed no message matching '$pattern'"
}

# make_host_fs SIZE [ext4|xfs]: a filesystem of SIZE mounted at
# $TEST_DIR/host, standing in for the host filesystem that holds images.
make_host_fs() {
	local size=$1 type=${2:-ext4} loop

	truncate -s "$size" "$TEST_DIR/hostfs.img"
	loop=$(losetup -f --show "$TEST_DIR/hostfs.img")
	case "$type" in
	ext4) mkfs.ext4 -q -F "$loop" ;;
	xfs) mkfs.xfs -q -f "$loop" ;;
	*) fail "make_host_fs: unknown filesystem type '$type'" ;;
	esac
	mkdir -p "$TEST_DIR/host"
	mount "$loop" "$TEST_DIR/host"
	HOST_DIR=$TEST_DIR/host
}

# A key file and options that keep LUKS2 key derivation cheap in tests.
make_key_file() {
	printf 'correct horse battery staple' >"$TEST_DIR/key"
	KEY_FILE=$TEST_DIR/key
	FAST_KDF=(--pbkdf pbkdf2 --pbkdf-iterations 1000)
}

# Bytes allocated to a file on its filesystem.
allocated_bytes() {
	echo $(($(stat -c %b "$1") * $(stat -c %B "$1")))
}

# The name the test's volume is opened under.
volume_name() {
	echo "${TEST_PREFIX}${1:-vol}"
}

# Fills DIR with real files (3000 small files of /usr/share/doc, packed by
# scripts/make-test-data) and one random 16 MiB file.
fill_files() {
	local dir=$1

	tar -C "$dir" -xf "$DMTOOL_TOP/build/data/doc-small.tar"
	head -c 16M /dev/urandom >"$dir/large.bin"
}

# Prints sorted checksums of every file under DIR, relative to DIR.
checksum_tree() {
	(cd "$1" && find . -type f ! -path './lost+found/*' -print0 | sort -z | xargs -0 md5sum)
}

# Fails when a dm device of the test or a loop device on IMAGE is left.
assert_no_leftovers() {
	local image=$1 devices loops

	devices=$(dmsetup ls 2>/dev/null | awk -v p="$TEST_PREFIX" 'index($1, p) == 1 { print $1 }' | tr '\n' ' ')
	[ -z "$devices" ] || fail "device-mapper devices left behind: $devices"
	if [ -e "$image" ]; then
		loops=$(losetup -j "$image" 2>/dev/null)
		[ -z "$loops" ] || fail "loop device left on $image: $loops"
	fi
}

# Reads a field of 'dmtool status --json NAME' with a jq filter.
status_field() {
	"$DMTOOL" status --json "$1" | jq -r "$2"
}
