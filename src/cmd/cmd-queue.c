/*
 * cmd-queue.c - `orchestra queue`: like squeue, highest priority first,
 * each waiting job with its place and why it waits.
 */
#include "cmd/cmd.h"

static const struct cmd_opt cmd_queue_opts[] = {
	{ "queue", "Q", 'q', "only the jobs of queue Q" },
	{ "user", "U", 'u', "only the jobs of user U" },
	{ "limit", "N", 'l', "only the first N rows (default: all)" },
	{ "json", NULL, 'j', "print the rows as JSON" },
	CMD_OPT_END,
};

static int
cmd_queue_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const char *const hdr[] = { "PLACE", "PRIO", "USER", "TASK",
		"JOB", "STATE", "QUEUE", "WHERE", "WHY" };
	queue_row_vec rows = VEC_INIT;
	const char *queue = NULL, *user = NULL;
	int64_t limit = 0;
	struct buf err = BUF_INIT;
	struct cmd_table t;
	struct queue_row *r;
	bool json = false;
	json_t *arr;
	int c, ret;

	while ((c = cmd_getopt(ctx, argc, argv)) != -1) {
		switch (c) {
		case 'h':
			return cmd_help(ctx);
		case 'q':
			queue = cmd_optarg();
			break;
		case 'u':
			user = cmd_optarg();
			break;
		case 'l':
			if (cmd_parse_limit(ctx, 1, &limit) < 0)
				return CMD_EXIT_USAGE;
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
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	ret = service_queue_head(&ctx->svc, queue, user, limit, &rows, &err);
	if (ret < 0) {
		ret = cmd_fail(ctx, &err);
		goto out;
	}
	if (json) {
		arr = json_array();
		VEC_FOREACH (r, &rows)
			json_array_append_new(arr, service_json_queue_row(r));
		cmd_print_json(arr);
		ret = CMD_EXIT_OK;
		goto out;
	}
	cmd_table_init(&t, 9, hdr);
	VEC_FOREACH (r, &rows) {
		if (r->place > 0)
			cmd_table_addf(&t, "%lld", (long long)r->place);
		else
			cmd_table_addf(&t, "-");
		if (r->job_id != 0)
			cmd_table_addf(&t, "%.1f", r->priority);
		else
			cmd_table_addf(&t, "-");
		cmd_table_addf(&t, "%s", r->username);
		cmd_table_addf(&t, "%s", r->task);
		if (r->job_id != 0)
			cmd_table_addf(&t, "%lld", (long long)r->idx);
		else
			cmd_table_addf(&t, "(%lld jobs)", (long long)r->njobs);
		cmd_table_addf(&t, "%s", job_status_name(r->status));
		cmd_table_addf(&t, "%s%s", r->queue, r->gpu ? "/gpu" : "");
		if (r->node && r->gpu_index >= 0)
			cmd_table_addf(&t, "%s:gpu%lld", r->node,
			    (long long)r->gpu_index);
		else
			cmd_table_addf(&t, "%s", r->node ? r->node : "-");
		cmd_table_addf(&t, "%s", r->why ? r->why : "");
	}
	cmd_table_print(&t, stdout);
	cmd_table_release(&t);
	ret = CMD_EXIT_OK;
out:
	queue_row_vec_release(&rows);
	buf_release(&err);
	return ret;
}

const struct cmd_entry cmd_queue_entry = {
	.name = "queue",
	.usage = "queue [--queue Q] [--user U] [--limit N] [--json]",
	.summary = "waiting and running jobs, highest priority first, with why "
	           "each waits",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_queue_run,
	.opts = cmd_queue_opts,
	.example = "orchestra queue --user alice --limit 20",
};
