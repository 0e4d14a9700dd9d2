/*
 * cmd-serve.c - `orchestra serve`: the HTTP API, its own process.
 */
#include <signal.h>

#include "cmd/cmd.h"
#include "web/web.h"

static int
cmd_serve_bad_idle(struct cmd_ctx *ctx, struct buf *err)
{
	int ret = cmd_usage_error(ctx,
	    "invalid --session-idle '%s': a positive duration (90s, 30m, 12h)",
	    cmd_optarg());

	buf_release(err);
	return ret;
}

static const struct cmd_opt cmd_serve_opts[] = {
	{ "listen", "ADDR:PORT", 'l',
	    "listen there (default $ORCHESTRA_LISTEN, else 127.0.0.1:8080)" },
	{ "tls-cert", "FILE", 'c', "serve HTTPS with this PEM certificate" },
	{ "tls-key", "FILE", 'k', "and this PEM private key" },
	{ "session-idle", "DURATION", 's',
	    "end a dashboard session unused this long (default 12h)" },
	CMD_OPT_END,
};

static int
cmd_serve_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct web_opts o = { ctx->cfg.listen, NULL, NULL, 0 };
	struct buf err = BUF_INIT;
	sigset_t set;
	int c, ret;

	while ((c = cmd_getopt(ctx, argc, argv)) != -1) {
		if (c == 'h')
			return cmd_help(ctx);
		if (c == 'l')
			o.listen = cmd_optarg();
		else if (c == 'c')
			o.tls_cert = cmd_optarg();
		else if (c == 'k')
			o.tls_key = cmd_optarg();
		else if (c != 's')
			return CMD_EXIT_USAGE;
		else if (time_parse_duration(cmd_optarg(), &o.session_idle_ms,
		             &err) < 0 ||
		    o.session_idle_ms <= 0)
			return cmd_serve_bad_idle(ctx, &err);
	}
	ret = cmd_args(ctx, argc, argv, 0, NULL);
	if (ret >= 0)
		return ret;
	if ((o.tls_cert == NULL) != (o.tls_key == NULL))
		return cmd_usage_error(ctx,
		    "--tls-cert and --tls-key go together");
	/*
	 * Blocked before libmicrohttpd starts its thread, which inherits
	 * the mask: only web_serve()'s sigwait() takes them.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* A client that hangs up mid-response is no reason to die. */
	signal(SIGPIPE, SIG_IGN);
	log_set_process("serve");
	ret = web_serve(&ctx->cfg, &o, &err);
	if (ret < 0)
		cmd_fail(ctx, &err);
	buf_release(&err);
	return ret < 0 ? CMD_EXIT_FAIL : CMD_EXIT_OK;
}

const struct cmd_entry cmd_serve_entry = {
	.name = "serve",
	.usage = "serve [--listen ADDR:PORT] [--tls-cert FILE --tls-key FILE] "
	         "[--session-idle DURATION]",
	.summary = "serve the HTTP API (its own process, beside the pilot)",
	.run = cmd_serve_run,
	.opts = cmd_serve_opts,
	.example = "orchestra serve --listen 0.0.0.0:8443 --tls-cert cert.pem "
	           "--tls-key key.pem",
};
