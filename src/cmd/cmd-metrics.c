/*
 * cmd-metrics.c - `orchestra metrics`: the Prometheus text exposition of
 * the database, on stdout or written atomically to a file (for
 * node_exporter's textfile collector, which must never read half a file).
 */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"

/* Write `text` to `path` through a temporary file beside it and rename. */
static int
cmd_metrics_write(const char *path, const struct buf *text, struct buf *err)
{
	struct buf tmp = BUF_INIT;
	ssize_t n;
	size_t off = 0;
	int fd, ret = -1;

	/* The collector reads only *.prom: the temporary name is ignored. */
	buf_addf(&tmp, "%s.XXXXXX", path);
	fd = mkstemp(tmp.data);
	if (fd < 0) {
		err_set(err, ERR_UNAVAILABLE, "cannot write '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	while (off < text->len) {
		n = write(fd, text->data + off, text->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (off < text->len || fchmod(fd, 0644) < 0 || fsync(fd) < 0) {
		err_set(err, ERR_UNAVAILABLE, "cannot write '%s': %s", tmp.data,
		    strerror(errno));
		close(fd);
		unlink(tmp.data);
		goto out;
	}
	if (close(fd) < 0 || rename(tmp.data, path) < 0) {
		err_set(err, ERR_UNAVAILABLE, "cannot write '%s': %s", path,
		    strerror(errno));
		unlink(tmp.data);
		goto out;
	}
	ret = 0;
out:
	buf_release(&tmp);
	return ret;
}

static const struct cmd_opt cmd_metrics_opts[] = {
	{ "output", "FILE", 'o',
	    "write FILE whole, by rename (node_exporter's textfile "
	    "collector), not stdout" },
	CMD_OPT_END,
};

static int
cmd_metrics_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct buf text = BUF_INIT, err = BUF_INIT;
	const char *output = NULL;
	int c, ret;

	while ((c = cmd_getopt(ctx, argc, argv)) != -1) {
		switch (c) {
		case 'h':
			return cmd_help(ctx);
		case 'o':
			output = cmd_optarg();
			break;
		default:
			return CMD_EXIT_USAGE;
		}
	}
	ret = cmd_args(ctx, argc, argv, 0, NULL);
	if (ret >= 0)
		return ret;
	if (output != NULL && *output == '\0')
		return cmd_usage_error(ctx, "empty --output");
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	ret = service_metrics(&ctx->svc, &text, &err);
	if (ret == 0 && output != NULL)
		ret = cmd_metrics_write(output, &text, &err);
	if (ret < 0) {
		ret = cmd_fail(ctx, &err);
		goto out;
	}
	if (output == NULL)
		fwrite(text.data, 1, text.len, stdout);
	ret = CMD_EXIT_OK;
out:
	buf_release(&text);
	buf_release(&err);
	return ret;
}

const struct cmd_entry cmd_metrics_entry = {
	.name = "metrics",
	.usage = "metrics [--output FILE]",
	.summary = "the state of jobs, nodes and the pilot in Prometheus text "
	           "format",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_metrics_run,
	.opts = cmd_metrics_opts,
	.example =
	    "orchestra metrics --output /var/lib/node_exporter/orchestra.prom",
};
