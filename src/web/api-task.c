/*
 * api-task.c - /api/v1/tasks: list, submit, show, kill, retry, delete,
 * a task's jobs and a job's log.  A task is /tasks/{user}/{name}.
 */
#include "web/web-int.h"

/*
 * The service's name of the task the path names: "user.<user>.<name>".
 * A user name never holds '.', so one in the path names nobody (and must
 * not shift the split into another user's task).
 */
static int
web_task_name(struct web_req *r, struct buf *out)
{
	if (strchr(r->seg[3], '.') != NULL) {
		web_error(r, MHD_HTTP_NOT_FOUND, "no user '%s'", r->seg[3]);
		return -1;
	}
	names_task_full(out, r->seg[3], r->seg[4]);
	return 0;
}

void
web_api_tasks(struct web_req *r)
{
	struct task_list_req req = { 0 };
	struct buf user = BUF_INIT, status = BUF_INIT, err = BUF_INIT;
	task_vec v = VEC_INIT;
	struct task *t;
	json_t *arr;
	int ret;

	if (web_query(r, "user", &user) < 0 ||
	    web_query(r, "status", &status) < 0 ||
	    web_query_page(r, 0, &req.after_id, &req.limit) < 0)
		goto out;
	req.user = user.len ? user.data : "*";
	req.status = status.len ? status.data : NULL;
	req.summary = true;
	ret = service_task_list(&r->svc, &req, &v, &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
		goto out;
	}
	arr = json_array();
	VEC_FOREACH (t, &v)
		json_array_append_new(arr, service_json_task(t));
	web_reply_page(r, "tasks", arr,
	    (int64_t)v.n == req.limit ? json_integer(v.v[v.n - 1].id) : NULL);
out:
	task_vec_release(&v);
	buf_release(&user);
	buf_release(&status);
	buf_release(&err);
}

/*
 * A submit with inputs, between its checks and its end: the inputs are
 * read as the submitter, off the request workers (web_defer), and then
 * the submit is made with what was read.
 */
struct web_submit {
	struct submit_req req; /* its strings borrowed from the body */
	const char **sec;
	char *login;
	input_vec read;
	int ret;
	struct buf err;
};

static void
web_submit_free(void *arg)
{
	struct web_submit *s = arg;

	free(s->sec);
	free(s->login);
	input_vec_release(&s->read);
	buf_release(&s->err);
	free(s);
}

/* Make the task (the connection's worker). */
static void
web_submit_finish(struct web_req *r, struct web_submit *s)
{
	struct task t = { 0 };
	int ret;

	buf_reset(&s->err);
	ret = service_task_submit(&r->svc, &s->req, &t, &s->err);
	if (ret < 0)
		web_fail(r, ret, &s->err);
	else
		web_reply(r, MHD_HTTP_CREATED, service_json_task(&t));
	task_release(&t);
}

/* Read the inputs as the submitter (a thread of its own). */
static void
web_submit_read(struct web_req *r)
{
	struct web_submit *s = r->defer;

	s->ret =
	    service_read_inputs(s->req.inputs, s->login, &s->read, &s->err);
}

static void
web_submit_done(struct web_req *r)
{
	struct web_submit *s = r->defer;

	if (s->ret < 0) {
		web_fail(r, s->ret, &s->err);
		return;
	}
	s->req.read = &s->read;
	web_submit_finish(r, s);
}

void
web_api_task_submit(struct web_req *r)
{
	static const struct web_field fields[] = {
		{ "name", JSON_STRING },
		{ "command", JSON_STRING },
		{ "inputs", JSON_STRING },
		{ "data", JSON_STRING },
		{ "secondary", JSON_ARRAY },
		{ "image", JSON_STRING },
		{ "queue", JSON_STRING },
		{ "gpu", JSON_TRUE },
		{ "skip_test", JSON_TRUE },
		{ "timeout", JSON_STRING },
		{ "retention", JSON_STRING },
		{ "memory", JSON_STRING },
		{ "after", JSON_STRING },
		{ "after_any", JSON_STRING },
		{ "inputs_of", JSON_STRING },
		{ NULL, 0 },
	};
	struct web_submit *s;
	struct submit_req *req;
	json_t *arr, *e;
	size_t i;
	int ret;

	if (web_body_check(r, fields) < 0)
		return;
	s = xcalloc(1, sizeof(*s));
	buf_init(&s->err);
	req = &s->req;
	req->name = web_body_str(r, "name");
	req->command = web_body_str(r, "command");
	if (req->name == NULL || req->command == NULL) {
		web_error(r, MHD_HTTP_BAD_REQUEST,
		    "fields 'name' and 'command' are required");
		web_submit_free(s);
		return;
	}
	req->inputs = web_body_str(r, "inputs");
	req->data = web_body_str(r, "data");
	req->image = web_body_str(r, "image");
	req->queue = web_body_str(r, "queue");
	req->gpu = web_body_bool(r, "gpu");
	req->skip_test = web_body_bool(r, "skip_test");
	req->timeout = web_body_str(r, "timeout");
	req->retention = web_body_str(r, "retention");
	req->memory = web_body_str(r, "memory");
	req->after = web_body_str(r, "after");
	req->after_any = web_body_str(r, "after_any");
	req->inputs_of = web_body_str(r, "inputs_of");
	arr = json_object_get(r->json, "secondary");
	s->sec = xcalloc(json_array_size(arr) + 1, sizeof(*s->sec));
	json_array_foreach(arr, i, e) s->sec[i] = json_string_value(e);
	req->secondary = s->sec;
	req->nsecondary = json_array_size(arr);
	if (req->inputs == NULL) {
		/* No inputs to read. */
		web_submit_finish(r, s);
		web_submit_free(s);
		return;
	}
	/* Refuse what needs no reading before reading anything. */
	ret = service_task_submit_check(&r->svc, req, &s->err);
	if (ret < 0) {
		web_fail(r, ret, &s->err);
		web_submit_free(s);
		return;
	}
	/* With the submitter's rights, as the submitter's Unix account. */
	s->login = xstrdup(r->who.unix_user);
	web_defer(r, web_submit_read, web_submit_done, s, web_submit_free);
}

void
web_api_task_show(struct web_req *r)
{
	static const enum task_signal sigs[] = { SIGNAL_KILL, SIGNAL_RETRY,
		SIGNAL_DELETE };
	struct task_detail d = { 0 };
	struct buf name = BUF_INIT, err = BUF_INIT;
	json_t *o, *actions;
	size_t i;
	int ret;

	if (web_task_name(r, &name) < 0)
		goto out;
	ret = service_task_show(&r->svc, name.data, NULL, -1, -1, &d, &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
		goto out;
	}
	o = service_json_task(&d.task);
	json_object_set_new(o, "counts", service_json_counts(d.counts));
	/* The task's first waiting job says why the task waits. */
	json_object_set_new(o, "place",
	    d.waits.n && d.waits.v[0].place > 0
	        ? json_integer(d.waits.v[0].place)
	        : json_null());
	json_object_set_new(o, "why",
	    service_json_str(d.waits.n ? d.waits.v[0].why : NULL));
	/* What the one asking may do to it now: the dashboard's buttons. */
	actions = json_array();
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (service_task_may_signal(&r->svc, &d.task, sigs[i]))
			json_array_append_new(actions,
			    json_string(task_signal_name(sigs[i])));
	json_object_set_new(o, "actions", actions);
	web_reply(r, MHD_HTTP_OK, o);
out:
	task_detail_release(&d);
	buf_release(&name);
	buf_release(&err);
}

void
web_api_task_jobs(struct web_req *r)
{
	struct task_detail d = { 0 };
	struct buf name = BUF_INIT, status = BUF_INIT, err = BUF_INIT;
	int64_t after, limit;
	struct job *j;
	json_t *arr;
	int ret;

	if (web_task_name(r, &name) < 0 ||
	    web_query_page(r, -1, &after, &limit) < 0 ||
	    web_query(r, "status", &status) < 0)
		goto out;
	ret = service_task_show(&r->svc, name.data,
	    status.len ? status.data : NULL, after, limit, &d, &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
		goto out;
	}
	arr = json_array();
	VEC_FOREACH (j, &d.jobs)
		json_array_append_new(arr,
		    service_json_job(j, service_job_wait_of(&d, j)));
	web_reply_page(r, "jobs", arr,
	    (int64_t)d.jobs.n == limit
	        ? json_integer(d.jobs.v[d.jobs.n - 1].idx)
	        : NULL);
out:
	task_detail_release(&d);
	buf_release(&name);
	buf_release(&status);
	buf_release(&err);
}

/* The job index of the path's 7th segment; -1 after replying 400. */
static int
web_job_index(struct web_req *r, int64_t *idx)
{
	if (util_parse_int64(r->seg[6], 0, INT64_MAX / 2, idx) == 0)
		return 0;
	web_error(r, MHD_HTTP_BAD_REQUEST,
	    "invalid job index '%s': expected a whole number", r->seg[6]);
	return -1;
}

void
web_api_job_show(struct web_req *r)
{
	struct task_detail d = { 0 };
	struct buf name = BUF_INIT, err = BUF_INIT;
	int64_t idx;
	int ret;

	if (web_task_name(r, &name) < 0 || web_job_index(r, &idx) < 0)
		goto out;
	/* One job: the page of one after the index before it. */
	ret = service_task_show(&r->svc, name.data, NULL, idx - 1, 1, &d, &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
		goto out;
	}
	if (d.jobs.n == 0 || d.jobs.v[0].idx != idx) {
		web_error(r, MHD_HTTP_NOT_FOUND, "task '%s' has no job %lld",
		    name.data, (long long)idx);
		goto out;
	}
	web_reply(r, MHD_HTTP_OK,
	    service_json_job(&d.jobs.v[0],
	        service_job_wait_of(&d, &d.jobs.v[0])));
out:
	task_detail_release(&d);
	buf_release(&name);
	buf_release(&err);
}

/*
 * A job's log, as text: the part from byte ?from= on (default 0), less
 * what ?tail= (its last bytes) and ?lines= (its last lines) leave out,
 * of which the first ?max= bytes.  Headers say where the part ends and
 * what the log is, for a reader that follows it (`task logs --follow`
 * asks again from Orchestra-Log-End until Orchestra-Job-Ended is 1 and
 * the end is the size).  The local backend's file is sent from the
 * descriptor, a piece at a time (sendfile where it can): serving a log of
 * any size holds none of it in memory.
 */
void
web_api_job_log(struct web_req *r)
{
	struct buf name = BUF_INIT, err = BUF_INIT, v = BUF_INIT;
	struct job_log log = JOB_LOG_INIT;
	struct job_log_req req = { 0 };
	struct MHD_Response *resp;
	int ret;

	if (web_task_name(r, &name) < 0 ||
	    web_query_int(r, "from", 0, INT64_MAX / 2, 0, &req.from) < 0 ||
	    web_query_int(r, "tail", 1, INT64_MAX / 2, 0, &req.tail_bytes) <
	        0 ||
	    web_query_int(r, "lines", 1, INT64_MAX / 2, 0, &req.tail_lines) <
	        0 ||
	    web_query_int(r, "max", 1, INT64_MAX / 2, 0, &req.max_bytes) < 0 ||
	    web_job_index(r, &req.index) < 0)
		goto out;
	ret = service_task_log_open(&r->svc, name.data, &req, &log, &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
		goto out;
	}
	r->status = MHD_HTTP_OK;
	if (log.fd < 0) {
		resp = MHD_create_response_from_buffer(log.text.len,
		    log.text.data, MHD_RESPMEM_MUST_COPY);
	} else {
		resp = MHD_create_response_from_fd_at_offset64(
		    (uint64_t)log.length, log.fd, (uint64_t)log.offset);
		if (resp != NULL)
			log.fd = -1; /* the response's now: it closes it */
	}
	if (resp == NULL) {
		web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot send the log of job %lld", (long long)req.index);
		goto out;
	}
	MHD_add_response_header(resp, "Content-Type",
	    "text/plain; charset=utf-8");
	buf_addf(&v, "%lld", (long long)log.end);
	MHD_add_response_header(resp, "Orchestra-Log-End", v.data);
	buf_reset(&v);
	buf_addf(&v, "%lld", (long long)log.size);
	MHD_add_response_header(resp, "Orchestra-Log-Size", v.data);
	buf_reset(&v);
	buf_addf(&v, "%lld", (long long)log.attempt);
	MHD_add_response_header(resp, "Orchestra-Job-Attempt", v.data);
	MHD_add_response_header(resp, "Orchestra-Job-Ended",
	    log.ended ? "1" : "0");
	web_headers(resp);
	r->own = resp;
out:
	job_log_release(&log);
	buf_release(&name);
	buf_release(&err);
	buf_release(&v);
}

static void
web_task_signal(struct web_req *r, enum task_signal sig, bool remove_files)
{
	static const struct web_field none[] = { { NULL, 0 } };
	struct task t = { 0 };
	struct buf name = BUF_INIT, err = BUF_INIT;
	int ret;

	if (web_body_check(r, none) < 0 || web_task_name(r, &name) < 0)
		goto out;
	ret = service_task_signal(&r->svc, name.data, sig, remove_files, &t,
	    &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
		goto out;
	}
	/* Accepted: the pilot carries the signal out at its next cycle. */
	web_reply(r, MHD_HTTP_ACCEPTED, service_json_task(&t));
out:
	task_release(&t);
	buf_release(&name);
	buf_release(&err);
}

void
web_api_task_kill(struct web_req *r)
{
	web_task_signal(r, SIGNAL_KILL, false);
}

void
web_api_task_retry(struct web_req *r)
{
	web_task_signal(r, SIGNAL_RETRY, false);
}

void
web_api_task_delete(struct web_req *r)
{
	struct buf v = BUF_INIT;
	int ret = web_query(r, "remove_files", &v);

	if (ret == 1 && strcmp(v.data, "true") != 0 &&
	    strcmp(v.data, "false") != 0)
		web_error(r, MHD_HTTP_BAD_REQUEST,
		    "query argument 'remove_files' must be true or false");
	else if (ret >= 0)
		web_task_signal(r, SIGNAL_DELETE,
		    ret == 1 && strcmp(v.data, "true") == 0);
	buf_release(&v);
}
