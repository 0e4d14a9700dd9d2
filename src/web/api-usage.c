/*
 * api-usage.c - /api/v1/usage: running and waiting jobs per user over
 * time, for the dashboard's chart; open to everyone with a token, as the
 * queue is.
 */
#include "web/web-int.h"

/* Without `since`: the last day. */
#define WEB_USAGE_DEFAULT_MS 86400000LL

void
web_api_usage(struct web_req *r)
{
	struct buf since = BUF_INIT, user = BUF_INIT, err = BUF_INIT;
	usage_row_vec rows = VEC_INIT;
	struct usage_row *u;
	int64_t since_ms;
	json_t *arr;
	int ret;

	if (web_query(r, "since", &since) < 0 ||
	    web_query(r, "user", &user) < 0)
		goto out;
	since_ms = time_now_ms() - WEB_USAGE_DEFAULT_MS;
	if (since.len > 0 && time_parse_when(since.data, &since_ms, &err) < 0) {
		web_error(r, MHD_HTTP_BAD_REQUEST, "%s", err.data);
		goto out;
	}
	ret = service_usage(&r->svc, since_ms, user.len ? user.data : NULL,
	    &rows, &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
		goto out;
	}
	arr = json_array();
	VEC_FOREACH (u, &rows) {
		json_array_append_new(arr, service_json_usage_row(u));
	}
	web_reply(r, MHD_HTTP_OK, json_pack("{s:o}", "samples", arr));
out:
	usage_row_vec_release(&rows);
	buf_release(&since);
	buf_release(&user);
	buf_release(&err);
}
