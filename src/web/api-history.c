/*
 * api-history.c - /api/v1/history: accounting.  The runs that ended
 * between `since` and `until` one by one, a page at a time (?after=ID,
 * the last id read, and ?limit=, 100 by default, at most 1000;
 * next_after the page's last id, null on the last page), and at
 * /api/v1/history/totals their jobs and CPU and GPU slot seconds per
 * user, queue or node (?by=).  Both filter by ?user=, ?task= and
 * ?state=.  A user sees their own runs, an admin everyone's
 * (service_history()).
 */
#include "web/web-int.h"

/*
 * The filter of the query: since, until, user, task, state, by.  The
 * strings stay in `q` (released by the caller).  -1 after replying 400.
 */
struct web_history_query {
	struct buf since, until, user, task, state, by;
};
#define WEB_HISTORY_QUERY_INIT                                                 \
	{                                                                      \
		BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT     \
	}

static int
web_history_filter(struct web_req *r, struct web_history_query *q,
    struct history_filter *f)
{
	struct buf err = BUF_INIT;
	int ret;

	memset(f, 0, sizeof(*f));
	if (web_query(r, "since", &q->since) < 0 ||
	    web_query(r, "until", &q->until) < 0 ||
	    web_query(r, "user", &q->user) < 0 ||
	    web_query(r, "task", &q->task) < 0 ||
	    web_query(r, "state", &q->state) < 0 ||
	    web_query(r, "by", &q->by) < 0)
		return -1;
	f->until_ms = time_now_ms();
	ret = 0;
	if (q->until.len > 0)
		ret = service_history_when(q->until.data, &f->until_ms, &err);
	f->since_ms = f->until_ms - SERVICE_HISTORY_DEFAULT_MS;
	if (ret == 0 && q->since.len > 0)
		ret = service_history_when(q->since.data, &f->since_ms, &err);
	if (ret == 0 && q->by.len > 0)
		ret = history_by_parse(q->by.data, &f->by, &err);
	if (ret == 0 && q->state.len > 0) {
		ret = job_status_parse(q->state.data, &f->status, &err);
		f->has_status = true;
	}
	if (ret < 0)
		web_error(r, MHD_HTTP_BAD_REQUEST, "%s", err.data);
	f->user = q->user.len > 0 ? q->user.data : NULL;
	f->task = q->task.len > 0 ? q->task.data : NULL;
	buf_release(&err);
	return ret < 0 ? -1 : 0;
}

static void
web_history_query_release(struct web_history_query *q)
{
	buf_release(&q->since);
	buf_release(&q->until);
	buf_release(&q->user);
	buf_release(&q->task);
	buf_release(&q->state);
	buf_release(&q->by);
}

void
web_api_history(struct web_req *r)
{
	struct web_history_query q = WEB_HISTORY_QUERY_INIT;
	history_run_vec rows = VEC_INIT;
	struct history_filter f;
	struct buf err = BUF_INIT;
	int64_t after, limit;
	json_t *o, *next;
	int ret;

	if (web_history_filter(r, &q, &f) < 0 ||
	    web_query_page(r, 0, &after, &limit) < 0)
		goto out;
	/* One row more than the page: is there another? */
	ret = service_history_runs(&r->svc, &f, after, limit + 1, &rows, &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
		goto out;
	}
	o = service_json_history_runs(&f, &rows, (size_t)limit);
	next = (int64_t)rows.n > limit ? json_integer(rows.v[limit - 1].id)
	                               : json_null();
	json_object_set_new(o, "next_after", next);
	web_reply(r, MHD_HTTP_OK, o);
out:
	history_run_vec_release(&rows);
	web_history_query_release(&q);
	buf_release(&err);
}

void
web_api_history_totals(struct web_req *r)
{
	struct web_history_query q = WEB_HISTORY_QUERY_INIT;
	history_total_vec rows = VEC_INIT;
	struct history_filter f;
	struct buf err = BUF_INIT;
	int ret;

	if (web_history_filter(r, &q, &f) < 0)
		goto out;
	ret = service_history(&r->svc, &f, &rows, &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
		goto out;
	}
	web_reply(r, MHD_HTTP_OK, service_json_history(&f, &rows));
out:
	history_total_vec_release(&rows);
	web_history_query_release(&q);
	buf_release(&err);
}
