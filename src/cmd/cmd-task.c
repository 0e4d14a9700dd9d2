/*
 * cmd-task.c - `orchestra task submit|list|show|kill|retry|delete`.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"

static const struct cmd_opt cmd_task_submit_opts[] = {
	{ "exec", "CMD", 'e',
	    "each job's command: %IN %OUT %DATA %JOB %KEY are replaced" },
	{ "inputs", "DIR|GLOB|@LISTFILE", 'i',
	    "one job per file of DIR, match of GLOB or line of LISTFILE" },
	{ "data", "PATH", 'd', "the value of %DATA" },
	{ "secondary", "KEY=PATH", 's', "the value of %KEY (repeatable)" },
	{ "image", "IMG", 'I', "the container image (Kubernetes backend)" },
	{ "queue", "Q", 'q', "the queue to run in (default: default)" },
	{ "gpu", NULL, 'g', "each job needs one GPU" },
	{ "memory", "SIZE", 'm',
	    "the memory each job needs: 512M, 4G, 1.5G (G = GiB, as "
	    "Slurm's --mem); default: its node's memory / its slots" },
	{ "skip-test", NULL, 'S',
	    "queue every job at once, no test job first" },
	{ "timeout", "DURATION", 't', "stop a job that runs longer than this" },
	{ "retention", "DURATION", 'r',
	    "keep the task this long once ended (default $ORCHESTRA_RETENTION)" },
	{ "after", "TASK[,TASK]...", 'a',
	    "start only once each of these tasks is done" },
	{ "after-any", "TASK[,TASK]...", 'A',
	    "start only once each of these tasks has ended, in any state" },
	{ "inputs-of", "TASK", 'O',
	    "one job per output file of TASK, once it is done (waits for it)" },
	{ "json", NULL, 'j', "print the task as JSON" },
	CMD_OPT_END,
};

static int
cmd_task_submit_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct submit_req req = { 0 };
	VEC(const char *) sec = VEC_INIT;
	struct task t = { 0 };
	struct buf err = BUF_INIT, full = BUF_INIT;
	bool json = false;
	int64_t value;
	int c, ret = CMD_EXIT_USAGE;

	while ((c = cmd_getopt(ctx, argc, argv)) != -1) {
		switch (c) {
		case 'h':
			ret = cmd_help(ctx);
			goto out;
		case 'e':
			req.command = cmd_optarg();
			break;
		case 'i':
			req.inputs = cmd_optarg();
			break;
		case 'd':
			req.data = cmd_optarg();
			break;
		case 's':
			VEC_PUSH(&sec, cmd_optarg());
			break;
		case 'I':
			req.image = cmd_optarg();
			break;
		case 'q':
			req.queue = cmd_optarg();
			break;
		case 'g':
			req.gpu = true;
			break;
		case 'm':
			req.memory = cmd_optarg();
			break;
		case 'S':
			req.skip_test = true;
			break;
		case 't':
			req.timeout = cmd_optarg();
			break;
		case 'r':
			req.retention = cmd_optarg();
			break;
		case 'a':
			req.after = cmd_optarg();
			break;
		case 'A':
			req.after_any = cmd_optarg();
			break;
		case 'O':
			req.inputs_of = cmd_optarg();
			break;
		case 'j':
			json = true;
			break;
		default:
			goto out;
		}
	}
	ret = cmd_args(ctx, argc, argv, 1, "task NAME");
	if (ret >= 0)
		goto out;
	if (req.command == NULL) {
		ret = cmd_usage_error(ctx, "missing --exec CMD");
		goto out;
	}
	/* A value that is no duration or size is a usage error; the service
	 * checks what it allows (at least 1M of memory). */
	if ((req.timeout != NULL &&
	        cmd_parse_duration(ctx, "--timeout", req.timeout, &value) <
	            0) ||
	    (req.retention != NULL &&
	        cmd_parse_duration(ctx, "--retention", req.retention, &value) <
	            0) ||
	    (req.memory != NULL &&
	        cmd_parse_size(ctx, "--memory", req.memory, &value) < 0)) {
		ret = CMD_EXIT_USAGE;
		goto out;
	}
	req.name = argv[argc - 1];
	req.secondary = sec.v;
	req.nsecondary = sec.n;
	if (cmd_open_store(ctx) != 0) {
		ret = CMD_EXIT_FAIL;
		goto out;
	}
	ret = service_task_submit(&ctx->svc, &req, &t, &err);
	if (ret < 0) {
		ret = cmd_fail(ctx, &err);
		goto out;
	}
	if (json) {
		cmd_print_json(service_json_task(&t));
	} else {
		names_task_full(&full, t.username, t.name);
		if (*t.inputs_of)
			cmd_printf(stdout,
			    "submitted task '%s': one job per output file of "
			    "%s once it is done, output in %s\n",
			    full.data, t.inputs_of, t.out_dir);
		else
			cmd_printf(stdout,
			    "submitted task '%s': %lld job%s, output in %s\n",
			    full.data, (long long)t.njobs,
			    t.njobs == 1 ? "" : "s", t.out_dir);
	}
	/* Submitted all the same: a pilot started later runs it. */
	buf_reset(&err);
	if (service_pilot_down_ago(&ctx->svc, &err))
		cmd_printf(stderr,
		    "orchestra: warning: %s: nothing starts until one runs "
		    "('orchestra pilot')\n",
		    err.data);
	ret = CMD_EXIT_OK;
out:
	VEC_RELEASE(&sec);
	task_release(&t);
	buf_release(&err);
	buf_release(&full);
	return ret;
}

static const struct cmd_opt cmd_task_list_opts[] = {
	{ "user", "U", 'u', "the tasks of user U" },
	{ "all", NULL, 'a', "every user's tasks" },
	{ "status", "S", 's', "only the tasks in status S (running, done...)" },
	{ "json", NULL, 'j', "print the tasks as JSON" },
	CMD_OPT_END,
};

static int
cmd_task_list_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const char *const hdr[] = { "TASK", "STATUS", "JOBS", "QUEUE",
		"SUBMITTED" };
	struct task_list_req req = { 0 };
	task_vec v = VEC_INIT;
	struct cmd_table t;
	struct buf err = BUF_INIT, b = BUF_INIT;
	struct task *task;
	enum task_status st;
	bool json = false;
	json_t *arr;
	int c, ret;

	while ((c = cmd_getopt(ctx, argc, argv)) != -1) {
		switch (c) {
		case 'h':
			return cmd_help(ctx);
		case 'u':
			req.user = cmd_optarg();
			break;
		case 'a':
			req.user = "*";
			break;
		case 's':
			req.status = cmd_optarg();
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
	if (req.status != NULL &&
	    task_status_parse(req.status, &st, &err) < 0) {
		ret = cmd_usage_error(ctx, "%s", err.data);
		goto out;
	}
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	req.summary = json; /* as GET /api/v1/tasks gives them */
	ret = service_task_list(&ctx->svc, &req, &v, &err);
	if (ret < 0) {
		ret = cmd_fail(ctx, &err);
		goto out;
	}
	if (json) {
		arr = json_array();
		VEC_FOREACH (task, &v)
			json_array_append_new(arr, service_json_task(task));
		cmd_print_json(arr);
	} else {
		cmd_table_init(&t, 5, hdr);
		VEC_FOREACH (task, &v) {
			buf_reset(&b);
			names_task_full(&b, task->username, task->name);
			cmd_table_addf(&t, "%s", b.data);
			cmd_table_addf(&t, "%s%s%s",
			    task_status_name(task->status),
			    task->signal ? " +" : "",
			    task_signal_name(task->signal));
			cmd_table_addf(&t, "%lld", (long long)task->njobs);
			cmd_table_addf(&t, "%s", task->queue);
			buf_reset(&b);
			time_format_ms(&b, task->submitted_ms);
			cmd_table_addf(&t, "%s", b.data);
		}
		cmd_table_print(&t, stdout);
		cmd_table_release(&t);
	}
	ret = CMD_EXIT_OK;
out:
	task_vec_release(&v);
	buf_release(&err);
	buf_release(&b);
	return ret;
}

/* The jobs `task show` prints with no --limit. */
#define CMD_TASK_SHOW_LIMIT 100

static const struct cmd_opt cmd_task_show_opts[] = {
	{ "status", "S", 's', "only the jobs in status S (failed...)" },
	{ "limit", "N", 'l', "at most N jobs (default 100; 0: all)" },
	{ "json", NULL, 'j', "print the task and its jobs as JSON" },
	CMD_OPT_END,
};

/* The jobs of the task (in `status`) that `d` does not hold. */
static int64_t
cmd_task_show_more(const struct task_detail *d, const char *status)
{
	enum job_status st;
	int64_t total = d->task.njobs;

	if (status != NULL && job_status_parse(status, &st, NULL) == 0)
		total = d->counts[st];
	return total > (int64_t)d->jobs.n ? total - (int64_t)d->jobs.n : 0;
}

static void
cmd_task_show_text(const struct task_detail *d, const char *status)
{
	static const char *const hdr[] = { "JOB", "STATUS", "PRIO", "NODE",
		"GPU", "STARTED", "ENDED", "EXIT", "PEAK MEM / LIMIT", "CPU",
		"INPUT", "WHY IT WAITS" };
	int64_t more = cmd_task_show_more(d, status);
	const struct job_wait *w;
	const struct task *t = &d->task;
	struct buf b = BUF_INIT;
	struct cmd_table tab;
	const struct job *j;
	int i;

	names_task_full(&b, t->username, t->name);
	cmd_printf(stdout, "task:      %s\nstatus:    %s", b.data,
	    task_status_name(t->status));
	if (t->signal != SIGNAL_NONE)
		cmd_printf(stdout, " (signal '%s' pending)",
		    task_signal_name(t->signal));
	cmd_printf(stdout, "\nqueue:     %s%s\ncommand:   %s\n", t->queue,
	    t->gpu ? " (GPU)" : "", t->command);
	if (*t->inputs)
		cmd_printf(stdout, "inputs:    %s\n", t->inputs);
	if (t->data_path)
		cmd_printf(stdout, "data:      %s\n", t->data_path);
	if (*t->image)
		cmd_printf(stdout, "image:     %s\n", t->image);
	cmd_printf(stdout, "output:    %s\n", t->out_dir);
	if (t->memory > 0) {
		buf_reset(&b);
		size_format(&b, t->memory);
		cmd_printf(stdout, "memory:    %s a job\n", b.data);
	}
	if (*t->after)
		cmd_printf(stdout, "after:     %s (once done)\n", t->after);
	if (*t->inputs_of)
		cmd_printf(stdout, "inputs:    the output files of %s\n",
		    t->inputs_of);
	if (*t->after_any)
		cmd_printf(stdout, "after:     %s (once ended)\n",
		    t->after_any);
	buf_reset(&b);
	time_format_ms(&b, t->submitted_ms);
	cmd_printf(stdout, "submitted: %s%s\njobs:      %lld:", b.data,
	    t->skip_test ? " (no test job)" : "", (long long)t->njobs);
	for (i = 0; i < JOB_NSTATUS; i++)
		if (d->counts[i] > 0)
			cmd_printf(stdout, " %lld %s", (long long)d->counts[i],
			    job_status_name((enum job_status)i));
	cmd_printf(stdout, "\n\n");
	cmd_table_init(&tab, sizeof(hdr) / sizeof(hdr[0]), hdr);
	VEC_FOREACH (j, &d->jobs) {
		w = service_job_wait_of(d, j);
		cmd_table_addf(&tab, "%lld%s", (long long)j->idx,
		    j->is_test ? " (test)" : "");
		cmd_table_addf(&tab, "%s", job_status_name(j->status));
		/* The scheduler's while it waits, else the one it got. */
		if ((w != NULL && w->place > 0) || j->attempts > 0)
			cmd_table_addf(&tab, "%.1f", j->priority);
		else
			cmd_table_addf(&tab, "-");
		cmd_table_addf(&tab, "%s", j->node ? j->node : "-");
		if (j->gpu_index >= 0)
			cmd_table_addf(&tab, "%lld", (long long)j->gpu_index);
		else
			cmd_table_addf(&tab, "-");
		buf_reset(&b);
		time_format_ms(&b, j->started_ms);
		cmd_table_addf(&tab, "%s", b.data);
		buf_reset(&b);
		time_format_ms(&b, j->ended_ms);
		cmd_table_addf(&tab, "%s", b.data);
		cmd_table_add_exit(&tab, j->exit_code, j->end_reason);
		cmd_table_add_memory(&tab, j->peak_memory, j->memory);
		cmd_table_add_cpu(&tab, j->cpu_ms);
		cmd_table_addf(&tab, "%s", j->input ? j->input : "-");
		buf_reset(&b);
		if (w == NULL && j->status == JOB_FAILED)
			job_end_why(j->end_reason, j->memory, &b);
		if (w != NULL && w->place > 0)
			cmd_table_addf(&tab, "#%lld: %s", (long long)w->place,
			    w->why);
		else
			cmd_table_addf(&tab, "%s", w ? w->why : b.data);
	}
	cmd_table_print(&tab, stdout);
	cmd_table_release(&tab);
	if (more > 0)
		cmd_printf(stdout,
		    "... and %lld more job%s%s%s (--limit N to see more, "
		    "--limit 0 for all, --status S for those in S)\n",
		    (long long)more, more == 1 ? "" : "s",
		    status != NULL ? " " : "", status != NULL ? status : "");
	buf_release(&b);
}

static int
cmd_task_show_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct task_detail d = { 0 };
	struct buf err = BUF_INIT;
	const char *status = NULL;
	int64_t limit = CMD_TASK_SHOW_LIMIT;
	enum job_status st;
	struct job *j;
	bool json = false;
	json_t *o, *jobs;
	int c, ret;

	while ((c = cmd_getopt(ctx, argc, argv)) != -1) {
		switch (c) {
		case 'h':
			return cmd_help(ctx);
		case 's':
			status = cmd_optarg();
			break;
		case 'l':
			if (cmd_parse_limit(ctx, 0, &limit) < 0)
				return CMD_EXIT_USAGE;
			break;
		case 'j':
			json = true;
			break;
		default:
			return CMD_EXIT_USAGE;
		}
	}
	ret = cmd_args(ctx, argc, argv, 1, "task NAME");
	if (ret >= 0)
		return ret;
	if (status != NULL && job_status_parse(status, &st, &err) < 0) {
		ret = cmd_usage_error(ctx, "%s", err.data);
		goto out;
	}
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	ret = service_task_show(&ctx->svc, argv[argc - 1], status, -1, limit,
	    &d, &err);
	if (ret < 0) {
		ret = cmd_fail(ctx, &err);
		goto out;
	}
	if (json) {
		o = service_json_task(&d.task);
		json_object_set_new(o, "counts", service_json_counts(d.counts));
		jobs = json_array();
		VEC_FOREACH (j, &d.jobs)
			json_array_append_new(jobs,
			    service_json_job(j, service_job_wait_of(&d, j)));
		json_object_set_new(o, "job_list", jobs);
		/* The jobs (in --status) left out by --limit. */
		json_object_set_new(o, "more_jobs",
		    json_integer(cmd_task_show_more(&d, status)));
		cmd_print_json(o);
	} else {
		cmd_task_show_text(&d, status);
	}
	ret = CMD_EXIT_OK;
out:
	task_detail_release(&d);
	buf_release(&err);
	return ret;
}

static const struct cmd_opt cmd_task_delete_opts[] = {
	{ "remove-files", NULL, 'r', "delete its output directory too" },
	{ "json", NULL, 'j', "print the task as JSON" },
	CMD_OPT_END,
};

/* kill, retry, delete: NAME [--json] (delete: [--remove-files]). */
static int
cmd_task_signal(struct cmd_ctx *ctx, int argc, char **argv,
    enum task_signal sig)
{
	struct task t = { 0 };
	struct buf err = BUF_INIT, full = BUF_INIT;
	bool json = false, remove_files = false;
	int c, ret;

	while ((c = cmd_getopt(ctx, argc, argv)) != -1) {
		if (c == 'h')
			return cmd_help(ctx);
		if (c == 'r')
			remove_files = true; /* delete's table alone has it */
		else if (c == 'j')
			json = true;
		else
			return CMD_EXIT_USAGE;
	}
	ret = cmd_args(ctx, argc, argv, 1, "task NAME");
	if (ret >= 0)
		return ret;
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	ret = service_task_signal(&ctx->svc, argv[argc - 1], sig, remove_files,
	    &t, &err);
	if (ret < 0) {
		ret = cmd_fail(ctx, &err);
	} else if (json) {
		cmd_print_json(service_json_task(&t));
		ret = CMD_EXIT_OK;
	} else {
		names_task_full(&full, t.username, t.name);
		cmd_printf(stdout, "task '%s': %s requested\n", full.data,
		    task_signal_name(sig));
		ret = CMD_EXIT_OK;
	}
	task_release(&t);
	buf_release(&err);
	buf_release(&full);
	return ret;
}

static int
cmd_task_kill_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	return cmd_task_signal(ctx, argc, argv, SIGNAL_KILL);
}

static int
cmd_task_retry_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	return cmd_task_signal(ctx, argc, argv, SIGNAL_RETRY);
}

static int
cmd_task_delete_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	return cmd_task_signal(ctx, argc, argv, SIGNAL_DELETE);
}

/* Write the log's file range to stdout a piece at a time. */
static int
cmd_task_logs_copy(struct cmd_ctx *ctx, const struct job_log *log)
{
	struct buf err = BUF_INIT;
	char chunk[65536];
	int64_t done = 0;
	ssize_t n;
	size_t want;
	int ret = CMD_EXIT_OK;

	while (done < log->length) {
		want = sizeof(chunk);
		if (log->length - done < (int64_t)want)
			want = (size_t)(log->length - done);
		n = pread(log->fd, chunk, want, (off_t)(log->offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(&err, ERR_UNAVAILABLE,
			    "cannot read the log: %s", strerror(errno));
			ret = cmd_fail(ctx, &err);
			break;
		}
		if (n == 0)
			break; /* cut short since it was opened */
		if (fwrite(chunk, 1, (size_t)n, stdout) != (size_t)n) {
			err_set(&err, ERR_UNAVAILABLE,
			    "cannot write the log: %s", strerror(errno));
			ret = cmd_fail(ctx, &err);
			break;
		}
		done += n;
	}
	buf_release(&err);
	return ret;
}

/* Print the part of the log opened in `log`. */
static int
cmd_task_logs_print(struct cmd_ctx *ctx, const struct job_log *log)
{
	int ret = CMD_EXIT_OK;

	if (log->fd >= 0)
		ret = cmd_task_logs_copy(ctx, log);
	else if (fwrite(log->text.data, 1, log->text.len, stdout) !=
	    log->text.len)
		ret = CMD_EXIT_FAIL; /* stdout is gone: nobody to tell */
	/* A follower sees each part as it comes, not a buffer's worth. */
	if (fflush(stdout) != 0 && ret == CMD_EXIT_OK)
		ret = CMD_EXIT_FAIL;
	return ret;
}

/* How long --follow waits before it asks again, at most (ms). */
#define CMD_TASK_LOGS_POLL_MAX_MS 1000

static void
cmd_task_logs_wait(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static const struct cmd_opt cmd_task_logs_opts[] = {
	{ "tail", "N", 't', "only the last N lines of the log" },
	{ "follow", NULL, 'f',
	    "print what the job writes until it ends, as it comes" },
	CMD_OPT_END,
};

/*
 * The log, read a part at a time (a remote server sends 1 MiB at most),
 * then, with --follow, what is added, until the job has ended and all of
 * its log is printed.  A job started again writes a new log: it follows
 * that one from its start.  Waits between reads grow from 50 ms to a
 * second while nothing comes, back to 50 ms when something does.
 */
static int
cmd_task_logs_run(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct job_log log = JOB_LOG_INIT;
	struct job_log_req req = { 0 };
	struct buf err = BUF_INIT;
	const char *name;
	int64_t attempt = 0;
	bool follow = false;
	int c, n, ret, wait_ms = 50;

	while ((c = cmd_getopt(ctx, argc, argv)) != -1) {
		if (c == 'h')
			return cmd_help(ctx);
		if (c == 'f') {
			follow = true;
			continue;
		}
		if (c != 't')
			return CMD_EXIT_USAGE;
		if (cmd_parse_int(ctx, "--tail", cmd_optarg(),
		        &req.tail_lines) < 0)
			return CMD_EXIT_USAGE;
		if (req.tail_lines < 0)
			return cmd_usage_error(ctx, "invalid --tail %lld",
			    (long long)req.tail_lines);
	}
	n = argc - cmd_optind();
	if (n < 1 || n > 2)
		return cmd_usage_error(ctx,
		    n < 1 ? "missing task NAME" : "too many arguments");
	if (n == 2 && cmd_parse_int(ctx, "JOB", argv[argc - 1], &req.index) < 0)
		return CMD_EXIT_USAGE;
	if (cmd_open_store(ctx) != 0)
		return CMD_EXIT_FAIL;
	name = argv[cmd_optind()];
	for (;;) {
		job_log_release(&log);
		ret = service_task_log_open(&ctx->svc, name, &req, &log, &err);
		if (ret < 0) {
			ret = cmd_fail(ctx, &err);
			break;
		}
		if (attempt != 0 && log.attempt != attempt && req.from > 0) {
			/* Started again since: its new log, from the start. */
			cmd_printf(stderr,
			    "orchestra: job %lld started again (attempt %lld): "
			    "its new log follows\n",
			    (long long)req.index, (long long)log.attempt);
			attempt = log.attempt;
			req.from = 0;
			continue;
		}
		attempt = log.attempt;
		ret = cmd_task_logs_print(ctx, &log);
		if (ret != CMD_EXIT_OK)
			break;
		if (log.end > req.from)
			wait_ms = 50; /* something came */
		req.from = log.end;
		req.tail_lines = 0;
		if (log.end < log.size)
			continue; /* the rest of what there is */
		if (!follow || log.ended)
			break;
		cmd_task_logs_wait(wait_ms);
		wait_ms = wait_ms * 2 > CMD_TASK_LOGS_POLL_MAX_MS
		    ? CMD_TASK_LOGS_POLL_MAX_MS
		    : wait_ms * 2;
	}
	job_log_release(&log);
	buf_release(&err);
	return ret;
}

static const struct cmd_entry cmd_task_delete_entry = {
	.name = "delete",
	.usage = "task delete NAME [--remove-files] [--json]",
	.summary = "remove an ended task (its files only with --remove-files)",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_task_delete_run,
	.opts = cmd_task_delete_opts,
	.example = "orchestra task delete wc --remove-files",
};
static const struct cmd_entry cmd_task_kill_entry = {
	.name = "kill",
	.usage = "task kill NAME [--json]",
	.summary =
	    "stop a task: waiting jobs are dropped, running ones stopped",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_task_kill_run,
	.opts = cmd_opts_json,
	.example = "orchestra task kill wc",
};
static const struct cmd_entry cmd_task_list_entry = {
	.name = "list",
	.usage = "task list [--user U | --all] [--status S] [--json]",
	.summary = "list tasks (yours unless --user or --all)",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_task_list_run,
	.opts = cmd_task_list_opts,
	.example = "orchestra task list --all --status running",
};
static const struct cmd_entry cmd_task_logs_entry = {
	.name = "logs",
	.usage = "task logs NAME [JOB] [--tail N] [--follow]",
	.summary = "print a job's output (default: job 0, the test job)",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_task_logs_run,
	.opts = cmd_task_logs_opts,
	.example = "orchestra task logs wc 3 --tail 20\n"
	           "orchestra task logs wc 3 --follow",
};
static const struct cmd_entry cmd_task_retry_entry = {
	.name = "retry",
	.usage = "task retry NAME [--json]",
	.summary = "run a broken, killed or finalized task's unfinished jobs "
	           "again",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_task_retry_run,
	.opts = cmd_opts_json,
	.example = "orchestra task retry wc",
};
static const struct cmd_entry cmd_task_show_entry = {
	.name = "show",
	.usage = "task show NAME [--status S] [--limit N] [--json]",
	.summary = "show a task and its jobs (the first 100 unless --limit)",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_task_show_run,
	.opts = cmd_task_show_opts,
	.example = "orchestra task show wc\n"
	           "orchestra task show wc --status failed --limit 0\n"
	           "orchestra task show user.alice.wc --json",
};
static const struct cmd_entry cmd_task_submit_entry = {
	.name = "submit",
	.usage = "task submit NAME --exec CMD [--inputs DIR|GLOB|@LISTFILE] "
	         "[--data PATH] [--secondary KEY=PATH]... [--image IMG] "
	         "[--queue Q] [--gpu] [--memory SIZE] [--skip-test] "
	         "[--timeout DURATION] "
	         "[--retention DURATION] [--after TASK[,TASK]...] "
	         "[--after-any TASK[,TASK]...] [--inputs-of TASK] [--json]",
	.summary = "submit a task: one job per input",
	.flags = CMD_NEEDS_STORE,
	.run = cmd_task_submit_run,
	.opts = cmd_task_submit_opts,
	.example = "orchestra task submit wc --inputs 'data/*.txt' "
	           "--exec 'wc -w < %IN > %OUT/$(basename %IN).count'",
};
static const struct cmd_entry *const cmd_task_sub[] = {
	&cmd_task_delete_entry,
	&cmd_task_kill_entry,
	&cmd_task_list_entry,
	&cmd_task_logs_entry,
	&cmd_task_retry_entry,
	&cmd_task_show_entry,
	&cmd_task_submit_entry,
	NULL,
};
const struct cmd_entry cmd_task_entry = {
	.name = "task",
	.usage = "task delete|kill|list|logs|retry|show|submit ...",
	.summary = "submit and manage tasks",
	.sub = cmd_task_sub,
	.example =
	    "orchestra task submit wc --inputs data/ --exec 'wc -w < %IN'",
};
