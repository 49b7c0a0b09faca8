# Markdown tables of a benchmark summary (bench/lib/summarize.jq's output).
# Used by bench/lib/report-md as: jq -L bench/lib 'include "tables"; ...'.

# Profiles moving 1 MiB blocks are shown in MiB/s, the others in IOPS.
def in_mib: test("^(seq-|first-write-seq)");

def unit($profile): if $profile | in_mib then "MiB/s" else "IOPS" end;

def fixed($digits):
	if . == null then "–"
	else (. * pow(10; $digits) | round) / pow(10; $digits) | tostring end;

def number:
	if . == null then "–"
	elif . >= 100 then fixed(0)
	elif . >= 10 then fixed(1)
	else fixed(2) end;

def ratio: if . == null then "–" else fixed(2) end;

def percent: if . == null then "–" else "\(round)%" end;

def profiles: .results | map(.profile) | unique as $present |
	["first-write-seq", "seq-write", "seq-read", "rand-write-qd1", "rand-write-qd32",
	 "rand-read-qd1", "rand-read-qd32", "rand-rw", "fsync-write", "first-write-rand"] |
	map(select(. as $p | $present | index($p)));

def result($row; $profile): first(.results[] | select(.row == $row and .profile == $profile)) // null;

def row_ids: .rows | map(.id) as $ids | . as $rows | $ids;

def header($first; $columns):
	"| \($first) | \($columns | join(" | ")) |",
	"|---|\($columns | map("---:") | join("|"))|";

# table($rows; $profiles; cell): one line per row id, one column per
# profile; cell gets the result object (or null) as input.
def table($rows; $profiles; cell):
	. as $summary |
	header("row"; $profiles | map("\(.) (\(unit(.)))")),
	($rows[] as $row |
		"| \($row) | \([$profiles[] as $p | $summary | result($row; $p) | cell] | join(" | ")) |");

def throughput_cell($profile):
	if . == null then "–"
	elif ($profile | in_mib) then "\(.mib_s.median | number) ±\(.spread_percent | percent)"
	else "\(.iops | number) ±\(.spread_percent | percent)" end;

def throughput_table:
	. as $s | profiles as $profiles |
	header("row"; $profiles | map("\(.) (\(unit(.)))")),
	($s.rows[].id as $row |
		"| \($row) | \([$profiles[] as $p | $s | result($row; $p) | throughput_cell($p)] | join(" | ")) |");

def ceiling_cell:
	if . == null or .fraction_of_ceiling == null then "–"
	else "\(.fraction_of_ceiling | ratio) \(if .ceiling.bound == "cipher" then "c" else "d" end)" end;

def ceilings_table:
	. as $s | profiles as $profiles |
	"| ceiling | \($profiles | join(" | ")) |",
	"|---|\($profiles | map("---:") | join("|"))|",
	"| raw loop device (MiB/s) | \([$profiles[] as $p | $s | result("raw-loop"; $p).mib_s.median | number] | join(" | ")) |",
	("512", "256") as $bits |
	"| aes-xts \($bits)-bit cipher (MiB/s) | \([$profiles[] as $p |
		first($s.results[] | select(.profile == $p and .key_bits == ($bits | tonumber))) // null |
		.ceiling.cipher_mib_s | number] | join(" | ")) |";

def crypt_overhead_table:
	. as $s | profiles as $profiles |
	[$s.rows[] | select(.layering | test("crypt")) | .id] as $rows |
	header("row (versus)"; $profiles),
	($rows[] as $row |
		(first($s.results[] | select(.row == $row and .crypt_overhead != null)) // null) as $any |
		"| \($row) (\($any.crypt_overhead.versus // "–")) | \([$profiles[] as $p |
			$s | result($row; $p).crypt_overhead.ratio | ratio] | join(" | ")) |");

def variants_table($layering):
	. as $s | profiles as $profiles |
	[$s.rows[] | select(.layering == $layering and .variant != "default") | .id] as $rows |
	header("variant of \($layering)"; $profiles),
	($rows[] as $row |
		"| \($row) | \([$profiles[] as $p | $s | result($row; $p).relative_to_default | ratio] | join(" | ")) |");

def provisioning_table:
	. as $s |
	[$s.rows[] | select(.first_write) | .id] as $rows |
	"| row | first write, sequential (MiB/s) | overwrite, seq-write (MiB/s) | ratio | first write, random (IOPS) | overwrite, rand-write-qd32 (IOPS) | ratio |",
	"|---|---:|---:|---:|---:|---:|---:|",
	($rows[] as $row |
		($s | result($row; "first-write-seq")) as $fs |
		($s | result($row; "seq-write")) as $sw |
		($s | result($row; "first-write-rand")) as $fr |
		($s | result($row; "rand-write-qd32")) as $rw |
		"| \($row) | \($fs.mib_s.median | number) | \($sw.mib_s.median | number) | \(if $fs and $sw then $fs.mib_s.median / $sw.mib_s.median else null end | ratio) | \($fr.iops | number) | \($rw.iops | number) | \(if $fr and $rw then $fr.iops / $rw.iops else null end | ratio) |");

def latency_table:
	. as $s |
	[("rand-read-qd1", "rand-write-qd1", "fsync-write") as $p |
		select(any($s.results[]; .profile == $p)) | $p] as $profiles |
	"| row | \([$profiles[] | "\(.) p50", "p99", "p99.9"] | join(" | ")) |",
	"|---|\([$profiles[] | "---:", "---:", "---:"] | join("|"))|",
	($s.rows[].id as $row |
		"| \($row) | \([$profiles[] as $p | ($s | result($row; $p).latency_us) as $l |
			($l.p50, $l.p99, $l.p999) | number] | join(" | ")) |");

def defaults_table:
	"| profile | stock row | stock | dmtool crypt | crypt / stock | verdict | dmtool thin-crypt | thin-crypt / stock | verdict |",
	"|---|---|---:|---:|---:|---|---:|---:|---|",
	(.defaults_versus_cryptsetup | sort_by(.stock_row) | .[] |
		"| \(.profile) (MiB/s) | \(.stock_row) | \(.cryptsetup.median | number) | \(.crypt.mib_s.median | number) | \(.crypt.ratio | ratio) | \(.crypt.verdict // "–") | \(.["thin-crypt"].mib_s.median | number) | \(.["thin-crypt"].ratio | ratio) | \(.["thin-crypt"].verdict // "–") |");

# A ratio with the range of the rounds' own ratios.
def side_cell: if . == null then "–"
	elif .range[0] != .range[1] then "\(.ratio | ratio) (\(.range[0] | ratio)–\(.range[1] | ratio))"
	else .ratio | ratio end;

def defaults_side_by_side_table:
	"| profile | crypt | verdict | thin-crypt | verdict |",
	"|---|---:|---|---:|---|",
	(.defaults_side_by_side[] |
		"| \(.profile) | \(.crypt | side_cell) | \(.crypt.verdict // "–") | \(.["thin-crypt"] | side_cell) | \(.["thin-crypt"].verdict // "–") |");

def tune_table:
	"| layering | tune measured with | tune chose | its score in this run | best variant in this run | best score | within 5% | scores from |",
	"|---|---|---|---:|---|---:|---|---|",
	(.tune[] |
		"| \(.layering) | \(.engine // "Linux AIO") | \(.chosen) | \(.chosen_score | ratio) | \(.best // "–") | \(.best_score | ratio) | \(if .within_5_percent == null then "–" elif .within_5_percent then "yes" else "no" end) | \(.check_basis // "rows") |");

# A score with the range of the rounds' own scores, when there is one.
def score_cell: if . == null or .score == null then "–"
	elif .range and .range[0] != .range[1] then "\(.score | ratio) (\(.range[0] | ratio)–\(.range[1] | ratio))"
	else .score | ratio end;

def tune_scores_table:
	"| layering | \(["default", "no-read-wq", "no-write-wq", "no-wq", "same-cpu"] | join(" | ")) |",
	"|---|---:|---:|---:|---:|---:|",
	(.tune[] | . as $t |
		(if .paired_scores then
			"| \(.layering), flag comparison | \([.paired_scores[] | score_cell] | join(" | ")) |"
		else empty end),
		"| \(.layering), rows | \([.bench_scores[].score | ratio] | join(" | ")) |",
		"| \(.layering), tune | \([["default", "no-read-wq", "no-write-wq", "no-wq", "same-cpu"][] as $v |
			(first($t.tune_measured[] | select(.variant == $v)) // null).score | ratio] | join(" | ")) |");
