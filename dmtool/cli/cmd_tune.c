// SPDX-License-Identifier: GPL-2.0-or-later
/* dmtool tune */
#include "cli.h"

#include <getopt.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

enum tune_option {
	OPT_DRY_RUN = 1000,
	OPT_RUNTIME,
	OPT_ROUNDS,
	OPT_SCRATCH_SIZE,
	OPT_JSON,
	OPT_ENGINE,
};

static const struct option tune_options[] = {
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "runtime", required_argument, NULL, OPT_RUNTIME },
	{ "rounds", required_argument, NULL, OPT_ROUNDS },
	{ "scratch-size", required_argument, NULL, OPT_SCRATCH_SIZE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "engine", required_argument, NULL, OPT_ENGINE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The names dm-crypt's table uses, by bit of DMT_CRYPT_*. */
static const char *const crypt_flag_names[] = {
	"allow_discards", "same_cpu_crypt", "submit_from_crypt_cpus",
	"no_read_workqueue", "no_write_workqueue",
};

static volatile sig_atomic_t interrupted;

static void on_signal(int signal_number)
{
	(void)signal_number;
	interrupted = 1;
}

/* Without SA_RESTART, so a waiting I/O call returns, dmt_tune stops at
 * once, and a running fio gets SIGINT. */
static void catch_signals(bool on)
{
	struct sigaction action;

	memset(&action, 0, sizeof(action));
	action.sa_handler = on ? on_signal : SIG_DFL;
	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
	sigaction(SIGHUP, &action, NULL);
}

static int parse_runtime(const char *text, uint32_t *milliseconds)
{
	char *end;
	double seconds = strtod(text, &end);

	if (end == text || *end || !(seconds >= 0.1 && seconds <= 600))
		return cli_error(DMT_ERR_USAGE,
				 "invalid --runtime '%s': give seconds from 0.1 to 600",
				 text);
	*milliseconds = (uint32_t)(seconds * 1000 + 0.5);
	return DMT_OK;
}

static int parse_engine(const char *text, enum dmt_tune_engine *engine)
{
	static const enum dmt_tune_engine engines[] = {
		DMT_TUNE_ENGINE_AUTO, DMT_TUNE_ENGINE_AIO, DMT_TUNE_ENGINE_FIO,
	};

	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
		if (strcmp(text, dmt_tune_engine_name(engines[i])) == 0) {
			*engine = engines[i];
			return DMT_OK;
		}
	}
	return cli_error(DMT_ERR_USAGE,
			 "invalid --engine '%s': give auto, aio or fio", text);
}

/* The flags dmt_tune varies, as a comma-separated list ("-" for none). */
static void format_tune_flags(uint32_t flags, char *buffer, size_t size)
{
	size_t used = 0;

	buffer[0] = '\0';
	for (unsigned int i = 0; i < 5; i++) {
		if (!(flags & DMT_TUNE_FLAGS & (1u << i)))
			continue;
		used += (size_t)snprintf(buffer + used, size - used, "%s%s",
					 used ? "," : "", crypt_flag_names[i]);
		if (used >= size)
			break;
	}
	if (!buffer[0])
		snprintf(buffer, size, "-");
}

static double shown_value(enum dmt_tune_profile profile, double bytes_per_second)
{
	if (profile == DMT_TUNE_SEQ_WRITE || profile == DMT_TUNE_SEQ_READ)
		return bytes_per_second / (1024.0 * 1024.0);
	return bytes_per_second / 4096.0;
}

static void print_table(const char *name, const struct dmt_tune_result *result)
{
	char flags[128];

	printf("%s (%s): measured on %s, %.0f MiB, with %s; %.1f s per profile, median of %u round%s\n\n",
	       name, dmt_layout_name(result->layout), result->scratch,
	       result->scratch_size / (1024.0 * 1024.0),
	       result->engine == DMT_TUNE_ENGINE_FIO ? result->engine_version :
						       "Linux AIO",
	       result->runtime_ms / 1000.0, result->rounds,
	       result->rounds == 1 ? "" : "s");
	printf("%-38s", "flags");
	for (int p = 0; p < DMT_TUNE_PROFILE_COUNT; p++)
		printf(" %15s", dmt_tune_profile_name(p));
	printf("  score\n%-38s", "");
	for (int p = 0; p < DMT_TUNE_PROFILE_COUNT; p++)
		printf(" %15s", p <= DMT_TUNE_SEQ_READ ? "MiB/s" : "IOPS");
	printf("\n");

	for (size_t v = 0; v < result->variant_count; v++) {
		const struct dmt_tune_variant *variant = &result->variants[v];

		format_tune_flags(variant->flags, flags, sizeof(flags));
		printf("%-38s", flags);
		for (int p = 0; p < DMT_TUNE_PROFILE_COUNT; p++)
			printf(" %15.1f", shown_value(p, variant->throughput[p]));
		printf("  %.3f%s%s\n", variant->score,
		       variant->current ? "  current" : "",
		       v == result->chosen ? "  chosen" : "");
	}
	printf("\nthroughput: the median of the rounds. score: geometric mean over the\n"
	       "workloads of the median ratio to the current flags in the same round\n"
	       "and workload; another variant is chosen only when it scores at least\n"
	       "3%% higher.\n");
}

static void print_outcome(const char *name, const struct dmt_tune_result *result,
			  bool dry_run)
{
	char flags[128];

	format_tune_flags(result->new_flags, flags, sizeof(flags));
	if (result->new_flags == result->old_flags)
		printf("%s: keeping the current flags (%s)\n", name, flags);
	else if (dry_run)
		printf("%s: would record %s (dry run: the header is unchanged)\n",
		       name, flags);
	else
		printf("%s: recorded %s in the header; close and open the volume to use them\n",
		       name, flags);
}

static json_object *flags_json(uint32_t flags)
{
	json_object *array = json_object_new_array();

	for (unsigned int i = 0; i < 5; i++) {
		if (flags & (1u << i))
			json_object_array_add(array,
					      json_object_new_string(crypt_flag_names[i]));
	}
	return array;
}

static void print_json(const char *name, const struct dmt_tune_result *result)
{
	json_object *root = json_object_new_object();
	json_object *variants = json_object_new_array();

	json_object_object_add(root, "volume", json_object_new_string(name));
	json_object_object_add(root, "layout",
			       json_object_new_string(dmt_layout_name(result->layout)));
	json_object_object_add(root, "scratch", json_object_new_string(result->scratch));
	json_object_object_add(root, "scratch_size",
			       json_object_new_uint64(result->scratch_size));
	json_object_object_add(root, "runtime_ms",
			       json_object_new_int64(result->runtime_ms));
	json_object_object_add(root, "rounds", json_object_new_int64(result->rounds));
	json_object_object_add(root, "engine",
			       json_object_new_string(dmt_tune_engine_name(result->engine)));
	json_object_object_add(root, "engine_version",
			       json_object_new_string(result->engine_version));
	for (size_t v = 0; v < result->variant_count; v++) {
		const struct dmt_tune_variant *variant = &result->variants[v];
		json_object *entry = json_object_new_object();
		json_object *throughput = json_object_new_object();

		for (int p = 0; p < DMT_TUNE_PROFILE_COUNT; p++)
			json_object_object_add(throughput, dmt_tune_profile_name(p),
					       json_object_new_double(variant->throughput[p]));
		json_object_object_add(entry, "flags", flags_json(variant->flags));
		json_object_object_add(entry, "throughput", throughput);
		json_object_object_add(entry, "score",
				       json_object_new_double(variant->score));
		json_object_object_add(entry, "current",
				       json_object_new_boolean(variant->current));
		json_object_object_add(entry, "chosen",
				       json_object_new_boolean(v == result->chosen));
		json_object_array_add(variants, entry);
	}
	json_object_object_add(root, "variants", variants);
	json_object_object_add(root, "old_flags", flags_json(result->old_flags));
	json_object_object_add(root, "chosen_flags", flags_json(result->new_flags));
	json_object_object_add(root, "header_written",
			       json_object_new_boolean(result->header_written));
	printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY));
	json_object_put(root);
}

static int run_tune(struct cli *cli, int argc, char **argv)
{
	struct dmt_tune_params params = { .cancel = &interrupted };
	struct dmt_tune_result result;
	struct dmt_error err;
	bool json = false;
	int option, r;

	while ((option = getopt_long(argc, argv, "h", tune_options, NULL)) != -1) {
		switch (option) {
		case OPT_DRY_RUN:
			params.dry_run = true;
			break;
		case OPT_RUNTIME:
			r = parse_runtime(optarg, &params.runtime_ms);
			if (r)
				return r;
			break;
		case OPT_ROUNDS:
			r = cli_parse_u32("--rounds", optarg, &params.rounds);
			if (r)
				return r;
			if (params.rounds == 0)
				return cli_error(DMT_ERR_USAGE,
						 "invalid --rounds 0: give at least 1");
			break;
		case OPT_SCRATCH_SIZE:
			r = cli_parse_size("--scratch-size", optarg,
					   &params.scratch_size);
			if (r)
				return r;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_ENGINE:
			r = parse_engine(optarg, &params.engine);
			if (r)
				return r;
			break;
		case 'h':
			cli_print_help(&command_tune, stdout);
			return 0;
		default:
			return cli_usage_error(&command_tune, "invalid option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(&command_tune, "expected NAME");

	if (!json)
		fprintf(stderr, "dmtool: measuring dm-crypt flag variants beside %s; this takes a minute or two\n",
			argv[optind]);
	catch_signals(true);
	r = dmt_tune(cli->ctx, argv[optind], &params, &result, &err);
	catch_signals(false);
	if (r)
		return cli_report(&err);

	if (json) {
		print_json(argv[optind], &result);
		return DMT_OK;
	}
	print_table(argv[optind], &result);
	printf("\n");
	print_outcome(argv[optind], &result, params.dry_run);
	return DMT_OK;
}

const struct command command_tune = {
	.name = "tune",
	.run = run_tune,
	.summary = "choose dm-crypt flags by measuring them",
	.help =
"usage: dmtool tune NAME [options]\n"
"\n"
"Measure dm-crypt flag variants beside the open volume NAME and record the\n"
"best in its header, so that the next 'dmtool open' uses them. The\n"
"variants are the current flags, and the current flags with none of,\n"
"only no_read_workqueue of, both no_read_workqueue and no_write_workqueue\n"
"of, or only same_cpu_crypt of the performance flags; other flags\n"
"(allow_discards) stay as they are. Each has a temporary dm-crypt device\n"
"with a random throwaway key and the volume's cipher, key size and sector\n"
"size, and runs six workloads (1 MiB in sequence at queue depth 8, 4 KiB\n"
"at random at queue depths 1 and 32, writes and reads, O_DIRECT) with fio\n"
"when it is installed, as the bench does, or else with dmtool's own Linux\n"
"AIO loop. fio spends more CPU time per I/O, as an application does; with\n"
"few CPUs that decides whether dm-crypt's workqueues pay off. The\n"
"variants take turns on each workload, so their measurements lie seconds\n"
"apart. A variant's score is the geometric mean over the workloads of\n"
"the median ratio of its throughput to the current flags' in the same\n"
"round; another variant is chosen only when it scores at least 3%\n"
"higher. The table of every variant is printed.\n"
"\n"
"The volume's data is never written. thin-crypt volumes are measured on\n"
"thin device 1 of their own pool, which dmtool reserves for this and\n"
"deletes afterwards, so its blocks return to the pool (the image file\n"
"keeps the host space they took); the pool needs twice the scratch size\n"
"free. crypt and crypt-thin volumes are measured on a loop device with\n"
"the volume's loop settings over a temporary file next to the image,\n"
"without the space-guard or crypt-thin's pool. The open volume keeps its\n"
"flags until it is closed and opened again. Needs root.\n"
"\n"
"      --runtime SECONDS    measured time per workload and round (default 1),\n"
"                           after a ramp of half of it\n"
"      --rounds N           passes over all variants (default 3); each\n"
"                           result is the median of the rounds\n"
"      --scratch-size SIZE  scratch device, 16M to 4G in whole MiB\n"
"                           (default 64M)\n"
"      --dry-run            measure and choose, leave the header as it is\n"
"      --engine ENGINE      what runs the workloads: fio, aio (dmtool's own\n"
"                           loop) or auto (default: fio when it is in PATH)\n"
"      --json               print the measurements as JSON\n",
};
