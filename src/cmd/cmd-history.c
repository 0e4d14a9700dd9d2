/*
 * cmd-history.c - `orchestra history`: accounting, like Slurm's sacct
 * and sreport.  The runs that ended in a time range one by one (user,
 * task, job, attempt, node, GPU, start, end, run time, state, exit
 * code), or with --totals the jobs, CPU hours and GPU hours per user,
 * queue or node; kept a year after their tasks are removed.
 */
#include "cmd/cmd.h"

static const struct cmd_opt cmd_history_opts[] = {
	{ "since", "TIME", 's',
	    "runs that ended at or after TIME (default: 30 days before --until)" },
	{ "until", "TIME", 'U', "runs that ended before TIME (default: now)" },
	{ "user", "U", 'u',
	    "only the runs of user U (who is not an admin sees only theirs)" },
	{ "task", "NAME", 'k',
	    "only the runs of task NAME (user.U.NAME for another's)" },
	{ "state", "S", 'S',
	    "only the runs that ended in S (done, failed, ...)" },
	{ "limit", "N", 'l',
	    "at most N runs, the first recorded (default: all)" },
	{ "totals", NULL, 't',
	    "jobs, CPU and GPU hours per user (or --by), not each run" },
	{ "by", "FIELD", 'b',
	    "with --totals, a line per FIELD: user (default), queue or node" },
	{ "csv", NULL, 'c', "print CSV (RFC 4180) with a header line" },
	{ "json", NULL, 'j', "print JSON (times in seconds, run time in ms)" },
	CMD_OPT_END,
};

/* H:MM:SS, to the nearest second. */
static void
cmd_history_run_time(struct cmd_table *t, int64_t ms)
{
	int64_t s = (ms + 500) / 1000;

	cmd_table_addf(t, "%lld:%02lld:%02lld", (long long)(s / 3600),
	    (long long)(s / 60 % 60), (long long)(s % 60));
}

static void
cmd_history_print_runs(const history_run_vec *rows)
{
	static const char *const hdr[] = { "USER", "TASK", "JOB", "ATTEMPT",
		"NODE", "GPU", "START", "END", "RUN", "STATE", "EXIT",
		"PEAK MEM / LIMIT", "CPU" };
	const struct history_run *h;
	struct buf cell = BUF_INIT;
	struct cmd_table t;

	cmd_table_init(&t, sizeof(hdr) / sizeof(hdr[0]), hdr);
	VEC_FOREACH (h, rows) {
		cmd_table_addf(&t, "%s", h->username);
		buf_reset(&cell);
		names_task_full(&cell, h->username, h->task);
		cmd_table_addf(&t, "%s", cell.data);
		if (h->idx < 0)
			cmd_table_addf(&t, "-");
		else
			cmd_table_addf(&t, "%lld", (long long)h->idx);
		cmd_table_addf(&t, "%lld", (long long)h->attempt);
		cmd_table_addf(&t, "%s", h->node);
		if (h->gpu_index < 0)
			cmd_table_addf(&t, "-");
		else
			cmd_table_addf(&t, "%lld", (long long)h->gpu_index);
		buf_reset(&cell);
		time_format_ms(&cell, h->started_ms);
		cmd_table_addf(&t, "%s", cell.data);
		buf_reset(&cell);
		time_format_ms(&cell, h->ended_ms);
		cmd_table_addf(&t, "%s", cell.data);
		cmd_history_run_time(&t, h->run_ms);
		cmd_table_addf(&t, "%s", job_status_name(h->status));
		cmd_table_add_exit(&t, h->exit_code, h->end_reason);
		cmd_table_add_memory(&t, h->peak_memory, h->memory);
		cmd_table_add_cpu(&t, h->cpu_ms);
	}
	cmd_table_print(&t, stdout);
	cmd_table_release(&t);
	buf_release(&cell);
}

static void
cmd_history_print_totals(const struct history_filter *f,
    const history_total_vec *rows)
{
	static const char *const hdr[] = { "USER", "JOBS", "CPU_HOURS",
		"GPU_HOURS" };
	static const char *const hdrs[][1] = { [HISTORY_BY_USER] = { "USER" },
		[HISTORY_BY_QUEUE] = { "QUEUE" },
		[HISTORY_BY_NODE] = { "NODE" } };
	const struct history_total *h;
	const char *head[4];
	struct cmd_table t;

	memcpy(head, hdr, sizeof(head));
	head[0] = hdrs[f->by][0];
	cmd_table_init(&t, 4, head);
	VEC_FOREACH (h, rows) {
		cmd_table_addf(&t, "%s", h->group);
		cmd_table_addf(&t, "%lld", (long long)h->jobs);
		cmd_table_addf(&t, "%.2f", (double)h->cpu_s / 3600);
		cmd_table_addf(&t, "%.2f", (double)h->gpu_s / 3600);
	}
	cmd_table_print(&t, stdout);
	cmd_table_release(&t);
}

/* The answer `o` (taken) as JSON, or its array `key` as CSV. */
static void
cmd_history_print(json_t *o, bool csv, const char *key,
    const struct service_field *fields)
{
	if (!csv) {
		cmd_print_json(o);
		return;
	}
	cmd_print_csv(fields, json_incref(json_object_get(o, key)));
	json_decref(o);
}

/* --totals: the totals of `f`, printed as asked. */
static int
cmd_history_totals(struct cmd_ctx *ctx, const struct history_filter *f,
    bool json, bool csv)
{
	history_total_vec rows = VEC_INIT;
	struct buf err = BUF_INIT;
	int ret;

	ret = service_history(&ctx->svc, f, &rows, &err);
	if (ret < 0) {
		ret = cmd_fail(ctx, &err);
		goto out;
	}
	if (json || csv)
		cmd_history_print(service_json_history(f, &rows), csv, "totals",
		    service_history_total_fields);
	else
		cmd_history_print_totals(f, &rows);
	ret = CMD_EXIT_OK;
out:
	history_total_vec_release(&rows);
	buf_release(&err);
	return ret;
}

/* The runs of `f`, the first `limit` (0: all), printed as asked. */
static int
cmd_history_runs(struct cmd_ctx *ctx, const struct history_filter *f,
    int64_t limit, bool json, bool csv)
{
	history_run_vec rows = VEC_INIT;
	struct buf err = BUF_INIT;
	int ret;

	ret = service_history_runs(&ctx->svc, f, 0, limit, &rows, &err);
	if (ret < 0) {
		ret = cmd_fail(ctx, &err);
		goto out;
	}
	if (json || csv)
		cmd_history_print(service_json_history_runs(f, &rows, rows.n),
		    csv, "runs", service_history_run_fields);
	else
		cmd_history_print_runs(&rows);
	ret = CMD_EXIT_OK;
out:
	history_run_vec_release(&rows);
	buf_release(&err);
	return ret;
}

static int
cmd_history_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	const char *since = NULL, *until = NULL, *by = NULL, *state = NULL;
	struct history_filter f = { 0 };
	struct buf err = BUF_INIT;
	bool json = false, csv = false, totals = false;
	int64_t limit = 0;
	int c, ret;

	while ((c = cmd_getopt(ctx, argc, argv)) != -1) {
		switch (c) {
		case 'h':
			return cmd_help(ctx);
		case 's':
			since = cmd_optarg();
			break;
		case 'U':
			until = cmd_optarg();
			break;
		case 'u':
			f.user = cmd_optarg();
			break;
		case 'k':
			f.task = cmd_optarg();
			break;
		case 'S':
			state = cmd_optarg();
			break;
		case 'l':
			if (cmd_parse_limit(ctx, 1, &limit) < 0)
				return CMD_EXIT_USAGE;
			break;
		case 't':
			totals = true;
			break;
		case 'b':
			by = cmd_optarg();
			break;
		case 'c':
			csv = true;
			break;
		case 'j':
			json = true;
			break;
		default:
			return CMD_EXIT_USAGE;
		}
	}
	ret = cmd_args(ctx, argc, argv, 0, NULL);
	if (ret >= 0)
		return ret;
	if (json && csv)
		return cmd_usage_error(ctx, "--json and --csv: pick one");
	/* --by alone asks for totals, as it always did. */
	if (by != NULL)
		totals = true;
	if (totals && limit > 0)
		return cmd_usage_error(ctx,
		    "--limit counts runs: not with --totals");
	if (by != NULL && history_by_parse(by, &f.by, &err) < 0) {
		ret = cmd_usage_error(ctx,
		    "invalid --by '%s': expected user, queue or node", by);
		goto out;
	}
	if (state != NULL && job_status_parse(state, &f.status, &err) < 0) {
		ret = cmd_usage_error(ctx, "invalid --state: %s", err.data);
		goto out;
	}
	f.has_status = state != NULL;
	f.until_ms = time_now_ms();
	if (until != NULL &&
	    service_history_when(until, &f.until_ms, &err) < 0) {
		ret = cmd_usage_error(ctx, "invalid --until: %s", err.data);
		goto out;
	}
	f.since_ms = f.until_ms - SERVICE_HISTORY_DEFAULT_MS;
	if (since != NULL &&
	    service_history_when(since, &f.since_ms, &err) < 0) {
		ret = cmd_usage_error(ctx, "invalid --since: %s", err.data);
		goto out;
	}
	if (cmd_open_store(ctx) != 0) {
		ret = CMD_EXIT_FAIL;
		goto out;
	}
	if (totals)
		ret = cmd_history_totals(ctx, &f, json, csv);
	else
		ret = cmd_history_runs(ctx, &f, limit, json, csv);
out:
	buf_release(&err);
	return ret;
}

const struct cmd_entry cmd_history_entry = {
	.name = "history",
	.usage = "history [--since TIME] [--until TIME] [--user U] "
	         "[--task NAME] [--state S] [--limit N] [--totals] "
	         "[--by FIELD] [--csv] [--json]",
	.summary = "accounting: the runs that ended in a time range, or with "
	           "--totals their jobs, CPU hours and GPU hours per user, "
	           "queue or node",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_history_run,
	.opts = cmd_history_opts,
	.example = "orchestra history --user alice --since 2026-11-01\n"
	           "orchestra history --totals --since 2026-11-01 --until "
	           "2026-12-01",
};
