/*
 * cmd-init.c - `orchestra init`: create the database, make the login user
 * an admin, register this machine as a node.
 */
#include "cmd/cmd.h"

static const struct cmd_opt cmd_init_opts[] = {
	{ "json", NULL, 'j', "print what was made as JSON" },
	CMD_OPT_END,
};

static int
cmd_init_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct init_result res;
	struct buf err = BUF_INIT, url = BUF_INIT;
	bool json = false;
	json_t *o;
	int c, ret;

	while ((c = cmd_getopt(ctx, argc, argv)) != -1) {
		if (c == 'h')
			return cmd_help(ctx);
		if (c == 'j')
			json = true;
		else
			return CMD_EXIT_USAGE;
	}
	ret = cmd_args(ctx, argc, argv, 0, NULL);
	if (ret >= 0)
		return ret;
	ret = service_init(&ctx->svc, &ctx->cfg, ctx->actor, &res, &err);
	if (ret < 0) {
		free(res.node_name);
		ret = cmd_fail(ctx, &err);
		buf_release(&err);
		return ret;
	}
	util_redact_url(&url, ctx->cfg.db_url);
	if (json) {
		o = json_pack("{s:s, s:b, s:s, s:b, s:b, s:s, s:b, s:I, s:I}",
		    "database", url.data, "created_database", res.created_db,
		    "admin", ctx->actor, "created_admin", res.created_user,
		    "made_admin", res.made_admin, "node", res.node_name,
		    "created_node", res.created_node, "cpu_slots",
		    (json_int_t)res.cpu_slots, "gpus", (json_int_t)res.gpus);
		cmd_print_json(o);
	} else {
		cmd_printf(stdout, "database %s%s\n", url.data,
		    res.created_db ? " created" : " ready");
		cmd_printf(stdout, "user '%s' is an admin%s\n", ctx->actor,
		    res.created_user     ? ""
		        : res.made_admin ? " (it was a user)"
		                         : " (already)");
		cmd_printf(stdout,
		    "node '%s' in queue 'default': %lld CPU slots, %lld "
		    "GPUs%s\n",
		    res.node_name, (long long)res.cpu_slots,
		    (long long)res.gpus, res.created_node ? "" : " (already)");
	}
	free(res.node_name);
	buf_release(&err);
	buf_release(&url);
	return CMD_EXIT_OK;
}

const struct cmd_entry cmd_init_entry = {
	.name = "init",
	.usage = "init [--json]",
	.summary = "create the database; register this machine as a node",
	.flags = CMD_LOCAL,
	.run = cmd_init_run,
	.opts = cmd_init_opts,
	.example = "ORCHESTRA_HOME=~/orchestra orchestra init",
};
