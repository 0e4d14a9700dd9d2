/*
 * cmd-history.c - `orchestra history`: accounting, like Slurm's sacct
 * and sreport: jobs, CPU hours and GPU hours per user, queue or node of
 * the runs that ended in a time range, kept a year after their tasks are
 * removed.
 */
#include "cmd/cmd.h"

static const struct cmd_opt cmd_history_opts[] = {
	{ "since", "TIME", 's',
	    "runs that ended at or after TIME (default: 30 days before --until)" },
	{ "until", "TIME", 'U', "runs that ended before TIME (default: now)" },
	{ "user", "U", 'u', "only the runs of user U" },
	{ "by", "FIELD", 'b',
	    "one line per FIELD: user (default), queue or node" },
	{ "json", NULL, 'j', "print the totals as JSON, in seconds" },
	CMD_OPT_END,
};

static int
cmd_history_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const char *const hdr[] = { "USER", "JOBS", "CPU_HOURS",
		"GPU_HOURS" };
	static const char *const hdrs[][1] = { [HISTORY_BY_USER] = { "USER" },
		[HISTORY_BY_QUEUE] = { "QUEUE" },
		[HISTORY_BY_NODE] = { "NODE" } };
	const char *since = NULL, *until = NULL, *by = NULL, *head[4];
	history_total_vec rows = VEC_INIT;
	struct history_filter f = { 0 };
	struct buf err = BUF_INIT;
	struct history_total *h;
	struct cmd_table t;
	bool json = false;
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
		case 'b':
			by = cmd_optarg();
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
	if (by != NULL && history_by_parse(by, &f.by, &err) < 0) {
		ret = cmd_usage_error(ctx,
		    "invalid --by '%s': expected user, queue or node", by);
		goto out;
	}
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
	ret = service_history(&ctx->svc, &f, &rows, &err);
	if (ret < 0) {
		ret = cmd_fail(ctx, &err);
		goto out;
	}
	if (json) {
		cmd_print_json(service_json_history(&f, &rows));
		ret = CMD_EXIT_OK;
		goto out;
	}
	memcpy(head, hdr, sizeof(head));
	head[0] = hdrs[f.by][0];
	cmd_table_init(&t, 4, head);
	VEC_FOREACH (h, &rows) {
		cmd_table_addf(&t, "%s", h->group);
		cmd_table_addf(&t, "%lld", (long long)h->jobs);
		cmd_table_addf(&t, "%.2f", (double)h->cpu_s / 3600);
		cmd_table_addf(&t, "%.2f", (double)h->gpu_s / 3600);
	}
	cmd_table_print(&t, stdout);
	cmd_table_release(&t);
	ret = CMD_EXIT_OK;
out:
	history_total_vec_release(&rows);
	buf_release(&err);
	return ret;
}

const struct cmd_entry cmd_history_entry = {
	.name = "history",
	.usage = "history [--since TIME] [--until TIME] [--user U] "
	         "[--by FIELD] [--json]",
	.summary = "accounting: jobs, CPU hours and GPU hours per user, queue "
	           "or node of the runs that ended in a time range",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_history_run,
	.opts = cmd_history_opts,
	.example = "orchestra history --since 2026-11-01 --until 2026-12-01",
};
