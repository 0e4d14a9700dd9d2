/*
 * api-history.c - /api/v1/history: accounting, the jobs and CPU and GPU
 * slot seconds per user, queue or node of the runs that ended between
 * `since` and `until` (service_history()); open to everyone with a
 * token, as the queue is.
 */
#include "web/web-int.h"

void
web_api_history(struct web_req *r)
{
	struct buf since = BUF_INIT, until = BUF_INIT, user = BUF_INIT;
	struct buf by = BUF_INIT, err = BUF_INIT;
	history_total_vec rows = VEC_INIT;
	struct history_filter f = { 0 };
	int ret;

	if (web_query(r, "since", &since) < 0 ||
	    web_query(r, "until", &until) < 0 ||
	    web_query(r, "user", &user) < 0 || web_query(r, "by", &by) < 0)
		goto out;
	f.until_ms = time_now_ms();
	ret = 0;
	if (until.len > 0)
		ret = service_history_when(until.data, &f.until_ms, &err);
	f.since_ms = f.until_ms - SERVICE_HISTORY_DEFAULT_MS;
	if (ret == 0 && since.len > 0)
		ret = service_history_when(since.data, &f.since_ms, &err);
	if (ret == 0 && by.len > 0)
		ret = history_by_parse(by.data, &f.by, &err);
	if (ret < 0) {
		web_error(r, MHD_HTTP_BAD_REQUEST, "%s", err.data);
		goto out;
	}
	f.user = user.len > 0 ? user.data : NULL;
	ret = service_history(&r->svc, &f, &rows, &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
		goto out;
	}
	web_reply(r, MHD_HTTP_OK, service_json_history(&f, &rows));
out:
	history_total_vec_release(&rows);
	buf_release(&since);
	buf_release(&until);
	buf_release(&user);
	buf_release(&by);
	buf_release(&err);
}
