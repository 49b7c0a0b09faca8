# Facts about the machine a run measured, and the kernel's own cipher
# throughput. Sourced by bench/run.
# shellcheck shell=bash

# Prints one word: "tcg" when QEMU emulates the CPU (its TCG model names
# itself), "vm" for another virtual machine, "none" on bare metal.
machine_emulation() {
	if grep -q '^model name.*TCG' /proc/cpuinfo; then
		echo tcg
	elif grep -qw hypervisor /proc/cpuinfo; then
		echo vm
	else
		echo none
	fi
}

# machine_facts: prints a JSON object with the kernel, CPU, AES-NI and
# emulation, and the versions of the tools that shaped the numbers.
machine_facts() {
	local model aes=false

	model=$(awk -F ': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	grep -qw aes /proc/cpuinfo && aes=true
	jq -n --arg kernel "$(uname -r)" --arg kernel_version "$(uname -v)" \
		--arg cpu "${model:-unknown}" --argjson cpus "$(nproc)" \
		--argjson aes_ni "$aes" --arg emulation "$(machine_emulation)" \
		--arg memory "$(awk '/^MemTotal/ { printf "%d MiB", $2 / 1024 }' /proc/meminfo)" \
		--arg xts_driver "$(awk '/^name/ { n = $3 } /^driver/ && n == "xts(aes)" { print $3; exit }' /proc/crypto)" \
		--arg fio "$(fio --version)" \
		--arg cryptsetup "$(cryptsetup --version | awk '{ print $2; exit }')" \
		--arg dmtool "$("$DMTOOL" --version | awk '{ print $2 }')" \
		--arg hostname "$(hostname)" \
		'{kernel: $kernel, kernel_build: $kernel_version, cpu: $cpu, cpus: $cpus,
		  aes_ni: $aes_ni, emulation: $emulation, memory: $memory,
		  xts_driver: $xts_driver, fio: $fio, cryptsetup: $cryptsetup,
		  dmtool: $dmtool, hostname: $hostname}'
}

# cipher_ceiling BITS RUNS: prints '{"encrypt": MiB/s, "decrypt": MiB/s}',
# the medians of RUNS runs of 'cryptsetup benchmark' for aes-xts-plain64
# with a key of BITS bits. It measures the kernel's cipher through the
# userspace crypto API, in memory, without any device. One run before them
# is discarded: it pays for loading the cipher's modules (seen under QEMU
# as an encryption rate near 0.1 MiB/s).
cipher_ceiling() {
	local bits=$1 runs=$2 run lines=""

	cryptsetup benchmark --cipher aes-xts-plain64 --key-size "$bits" >/dev/null 2>&1 || true
	for run in $(seq 1 "$runs"); do
		printf '%s\n' "cryptsetup benchmark --cipher aes-xts-plain64 --key-size $bits" >>"$BENCH_COMMANDS"
		lines+=$(cryptsetup benchmark --cipher aes-xts-plain64 --key-size "$bits" 2>/dev/null |
			awk '$1 == "aes-xts" { print $3, $5 }')$'\n'
	done
	printf '%s' "$lines" | awk 'NF == 2 { e[++n] = $1; d[n] = $2 }
		function median(v, n,   i, j, t) {
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
			return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		}
		END {
			if (n == 0) { print "null"; exit }
			printf "{\"encrypt\": %s, \"decrypt\": %s}\n", median(e, n), median(d, n)
		}'
}
