/*
 * cmd-status.c - `orchestra status`: on one screen, whether a pilot runs
 * and since when, the backend, the database, the mail outbox, the nodes
 * by health and the jobs by state.  Exit 0 when a pilot runs, 3 when
 * none does (as `systemctl status` says "not running").
 */
#include "cmd/cmd.h"

#define CMD_STATUS_DOWN 3

static const struct cmd_opt cmd_status_opts[] = {
	{ "json", NULL, 'j', "print it as JSON" },
	CMD_OPT_END,
};

static const char *
cmd_status_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "-";
}

/* "2 (n2, n3)", or "0". */
static void
cmd_status_names(struct buf *out, json_t *names)
{
	size_t i;
	json_t *v;

	buf_addf(out, "%zu", json_array_size(names));
	json_array_foreach(names, i, v)
	{
		buf_adds(out, i == 0 ? " (" : ", ");
		buf_adds(out, json_string_value(v) ? json_string_value(v) : "");
	}
	if (json_array_size(names) > 0)
		buf_addch(out, ')');
}

static void
cmd_status_print(json_t *o)
{
	json_t *p = json_object_get(o, "pilot"),
	       *n = json_object_get(o, "nodes");
	json_t *db = json_object_get(o, "database"), *jobs, *v;
	struct buf line = BUF_INIT;
	const char *key;

	if (json_is_true(json_object_get(p, "running")))
		printf("pilot:     running on %s, pid %lld, since %s; last "
		       "cycle %s, every %lld s\n",
		    cmd_status_str(p, "host"),
		    (long long)json_integer_value(json_object_get(p, "pid")),
		    cmd_status_str(p, "started"),
		    cmd_status_str(p, "last_cycle"),
		    (long long)json_integer_value(
		        json_object_get(p, "interval_ms")) /
		        1000);
	else
		printf("pilot:     DOWN: %s\n", cmd_status_str(p, "why"));
	printf("backend:   %s\n", cmd_status_str(o, "backend"));
	printf("database:  %s%s%s\n", cmd_status_str(db, "kind"),
	    json_is_string(json_object_get(db, "file")) ? " " : "",
	    json_is_string(json_object_get(db, "file"))
	        ? cmd_status_str(db, "file")
	        : "");
	printf("mail:      %s\n",
	    json_is_true(json_object_get(json_object_get(o, "mail"), "waiting"))
	        ? "mails wait in the outbox"
	        : "the outbox is empty");
	buf_addf(&line, "%lld: %lld ready, ",
	    (long long)json_integer_value(json_object_get(n, "total")),
	    (long long)json_integer_value(json_object_get(n, "ready")));
	cmd_status_names(&line, json_object_get(n, "unhealthy"));
	buf_adds(&line, " unhealthy, ");
	cmd_status_names(&line, json_object_get(n, "unreachable"));
	buf_adds(&line, " unreachable, ");
	cmd_status_names(&line, json_object_get(n, "drained"));
	buf_adds(&line, " drained");
	printf("nodes:     %s\n", line.data);
	buf_reset(&line);
	jobs = json_object_get(o, "jobs");
	json_object_foreach(jobs, key, v)
	{
		if (json_integer_value(v) == 0)
			continue;
		buf_addf(&line, "%s%lld %s", line.len > 0 ? ", " : "",
		    (long long)json_integer_value(v), key);
	}
	printf("jobs:      %s\n", line.len > 0 ? line.data : "none");
	buf_release(&line);
}

static int
cmd_status_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct buf err = BUF_INIT;
	bool json = false, running;
	json_t *o = NULL;
	int c, ret;

	while ((c = cmd_getopt(ctx, argc, argv)) != -1) {
		switch (c) {
		case 'h':
			return cmd_help(ctx);
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
	if (cmd_open_store(ctx) != 0) {
		ret = CMD_EXIT_FAIL;
		goto out;
	}
	ret = service_status(&ctx->svc, &o, &err);
	if (ret < 0) {
		ret = cmd_fail(ctx, &err);
		goto out;
	}
	running = json_is_true(
	    json_object_get(json_object_get(o, "pilot"), "running"));
	if (json) {
		cmd_print_json(o);
		o = NULL;
	} else {
		cmd_status_print(o);
	}
	ret = running ? CMD_EXIT_OK : CMD_STATUS_DOWN;
out:
	json_decref(o);
	buf_release(&err);
	return ret;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.usage = "status [--json]",
	.summary = "is a pilot running; the backend, database, mail outbox, "
	           "nodes by health and jobs by state (exit 3: no pilot)",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_status_run,
	.opts = cmd_status_opts,
	.example = "orchestra status",
};
