/*
 * cmd-pilot.c - `orchestra pilot`: run the scheduler's cycle on this
 * database with the configured backend, until SIGTERM or SIGINT.  The
 * pilot opens the database itself (pilot_main()): no store is opened
 * here.
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
	struct buf err = BUF_INIT;
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
	ret = pilot_main(&ctx->cfg, &o, &err);
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
	.flags = CMD_LOCAL,
	.run = cmd_pilot_run,
	.opts = cmd_pilot_opts,
	.example = "orchestra pilot --interval 5",
};
