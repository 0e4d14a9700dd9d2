/* libs: orch_web */
/*
 * fuzz-remote.c - the remote command line's readers of API replies
 * (service_remote_parse_*()) on any JSON object: they never fail but on
 * an unknown status (a node's jobs' too), and what they read, written
 * again by service-json.c (what `orchestra serve` sends) and read again,
 * is the same record, so the command line prints what the server holds
 * (the runs of GET /api/v1/history too).
 */
#include "service/service-int.h"
#include "web/web-int.h"
#include "fuzz.h"

/* JSON text of `v` (taken), with "active" (a function of now) dropped. */
static char *
fuzz_remote_text(json_t *v)
{
	char *s;

	json_object_del(v, "active");
	s = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(v);
	FUZZ_CHECK(s != NULL);
	return s;
}

static void
fuzz_remote_same(char *a, char *b)
{
	if (strcmp(a, b) != 0) {
		fprintf(stderr, "first:  %s\nsecond: %s\n", a, b);
		FUZZ_CHECK(strcmp(a, b) == 0);
	}
	free(a);
	free(b);
}

static void
fuzz_remote_task(json_t *o)
{
	struct task t = { 0 }, t2 = { 0 };
	struct buf err = BUF_INIT;
	json_t *v;

	if (service_remote_parse_task(o, &t, &err) == 0) {
		v = service_json_task(&t);
		FUZZ_CHECK(service_remote_parse_task(v, &t2, &err) == 0);
		json_decref(v);
		fuzz_remote_same(fuzz_remote_text(service_json_task(&t)),
		    fuzz_remote_text(service_json_task(&t2)));
	} else {
		FUZZ_CHECK(err.len > 0);
	}
	task_release(&t);
	task_release(&t2);
	buf_release(&err);
}

static void
fuzz_remote_job(json_t *o)
{
	struct job j = { 0 }, j2 = { 0 };
	struct job_wait w = { 0 }, w2 = { 0 };
	struct buf err = BUF_INIT;
	json_t *v;

	if (service_remote_parse_job(o, &j, &w, &err) == 0) {
		v = service_json_job(&j, &w);
		FUZZ_CHECK(service_remote_parse_job(v, &j2, &w2, &err) == 0);
		json_decref(v);
		fuzz_remote_same(fuzz_remote_text(service_json_job(&j, &w)),
		    fuzz_remote_text(service_json_job(&j2, &w2)));
	}
	job_release(&j);
	job_release(&j2);
	free(w.why);
	free(w2.why);
	buf_release(&err);
}

static void
fuzz_remote_node(json_t *o)
{
	struct node n = { 0 }, n2 = { 0 };
	struct buf err = BUF_INIT;
	json_t *v;

	if (service_remote_parse_node(o, &n, &err) == 0) {
		v = service_json_node(&n);
		FUZZ_CHECK(service_remote_parse_node(v, &n2, &err) == 0);
		json_decref(v);
		fuzz_remote_same(fuzz_remote_text(service_json_node(&n)),
		    fuzz_remote_text(service_json_node(&n2)));
	} else {
		FUZZ_CHECK(err.len > 0);
	}
	buf_release(&err);
	node_release(&n);
	node_release(&n2);
}

static void
fuzz_remote_account_token(json_t *o)
{
	struct account a = { 0 }, a2 = { 0 };
	struct token t = { 0 }, t2 = { 0 };
	json_t *v;

	service_remote_parse_account(o, &a);
	v = service_json_account(&a);
	service_remote_parse_account(v, &a2);
	json_decref(v);
	fuzz_remote_same(fuzz_remote_text(service_json_account(&a)),
	    fuzz_remote_text(service_json_account(&a2)));
	service_remote_parse_token(o, &t);
	v = service_json_token(&t);
	service_remote_parse_token(v, &t2);
	json_decref(v);
	fuzz_remote_same(fuzz_remote_text(service_json_token(&t)),
	    fuzz_remote_text(service_json_token(&t2)));
	account_release(&a);
	account_release(&a2);
	token_release(&t);
	token_release(&t2);
}

static void
fuzz_remote_queue_row(json_t *o)
{
	queue_row_vec v = VEC_INIT;
	struct queue_row q;
	struct buf err = BUF_INIT;
	json_t *j;
	int r;

	r = service_remote_parse_queue_row(o, &q, &err);
	VEC_PUSH(&v, q);
	if (r == 0) {
		j = service_json_queue_row(&v.v[0]);
		r = service_remote_parse_queue_row(j, &q, &err);
		VEC_PUSH(&v, q);
		json_decref(j);
		FUZZ_CHECK(r == 0);
		fuzz_remote_same(
		    fuzz_remote_text(service_json_queue_row(&v.v[0])),
		    fuzz_remote_text(service_json_queue_row(&v.v[1])));
	}
	queue_row_vec_release(&v);
	buf_release(&err);
}

/* A reply of GET /api/v1/history: its runs, read, written, read again. */
static void
fuzz_remote_history_runs(json_t *o)
{
	history_run_vec v = VEC_INIT, v2 = VEC_INIT;
	struct history_filter f = { 0 };
	struct buf err = BUF_INIT;
	json_t *j;

	if (service_json_history_runs_read(o, &v, &err) == 0) {
		j = service_json_history_runs(&f, &v, v.n);
		FUZZ_CHECK(service_json_history_runs_read(j, &v2, &err) == 0);
		json_decref(j);
		fuzz_remote_same(
		    fuzz_remote_text(service_json_history_runs(&f, &v, v.n)),
		    fuzz_remote_text(service_json_history_runs(&f, &v2, v2.n)));
	} else {
		FUZZ_CHECK(err.len > 0);
	}
	history_run_vec_release(&v);
	history_run_vec_release(&v2);
	buf_release(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *o = json_loadb((const char *)data, size, 0, NULL);

	if (json_is_object(o)) {
		fuzz_remote_task(o);
		fuzz_remote_job(o);
		fuzz_remote_node(o);
		fuzz_remote_account_token(o);
		fuzz_remote_queue_row(o);
		fuzz_remote_history_runs(o);
	}
	json_decref(o);
	return 0;
}
