/*
 * cmd-pilot.c - `orchestra pilot`: run the scheduler's cycle on this
 * database with the configured backend, until SIGTERM or SIGINT.
 */
#include "cmd/cmd.h"
#include "pilot/pilot.h"

static const struct cmd_opt cmd_pilot_opts[] = {
	{ "once", NULL, 'o', "run one cycle and exit" },
	{ "interval", "SECONDS", 'i',
	    "the longest sleep between cycles (default 10)" },
	{ "verbose", NULL, 'v', "log each cycle's work (debug level)" },
	CMD_OPT_END,
};

static int
cmd_pilot_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct pilot_opts o = { false, 10000 };
	struct pilot p = { 0 };
	struct buf err = BUF_INIT;
	const char *env;
	int64_t seconds;
	int c, ret;

	while ((c = cmd_getopt(ctx, argc, argv)) != -1) {
		switch (c) {
		case 'h':
			return cmd_help(ctx);
		case 'o':
			o.once = true;
			break;
		case 'i':
			if (cmd_parse_int(ctx, "--interval", cmd_optarg(),
			        &seconds) < 0)
				return CMD_EXIT_USAGE;
			if (seconds < 1 || seconds > 86400)
				return cmd_usage_error(ctx,
				    "invalid --interval %lld: between 1 and "
				    "86400 seconds",
				    (long long)seconds);
			o.interval_ms = seconds * 1000;
			break;
		case 'v':
			log_threshold = LOG_DEBUG;
			break;
		default:
			return CMD_EXIT_USAGE;
		}
	}
	ret = cmd_args(ctx, argc, argv, 0, NULL);
	if (ret >= 0)
		return ret;
	pilot_signals();
	log_set_process("pilot");
	p.cfg = &ctx->cfg;
	env = getenv("ORCHESTRA_USAGE_EVERY");
	if (env != NULL &&
	    (time_parse_duration(env, &p.usage_every_ms, &err) < 0 ||
	        p.usage_every_ms < 1000)) {
		err_set(&err, ERR_INVALID,
		    "invalid ORCHESTRA_USAGE_EVERY '%s': a duration of 1s or more",
		    env);
		goto fail;
	}
	p.rule = prio_rule_find(ctx->cfg.priority_rule);
	if (p.rule == NULL) {
		err_set(&err, ERR_INVALID, "unknown priority rule '%s'",
		    ctx->cfg.priority_rule);
		goto fail;
	}
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	p.st = ctx->svc.st;
	ret = backend_open(&p.be, &ctx->cfg, &err);
	if (ret < 0)
		goto fail;
	ret = pilot_run(&p, &o, &err);
	backend_close(p.be);
	if (ret < 0)
		goto fail;
	buf_release(&err);
	return CMD_EXIT_OK;
fail:
	ret = cmd_fail(ctx, &err);
	buf_release(&err);
	return ret;
}

const struct cmd_entry cmd_pilot_entry = {
	.name = "pilot",
	.usage = "pilot [--once] [--interval SECONDS] [--verbose]",
	.summary = "run the scheduler: queue, place, launch and watch jobs",
	.flags = CMD_NEEDS_STORE | CMD_LOCAL,
	.run = cmd_pilot_run,
	.opts = cmd_pilot_opts,
	.example = "orchestra pilot --interval 5",
};
