/*
 * api-queue.c - /api/v1/queue: what `orchestra queue` prints, open to
 * everyone with a token (as with squeue).
 */
#include "web/web-int.h"

void
web_api_queue(struct web_req *r)
{
	struct buf queue = BUF_INIT, user = BUF_INIT, err = BUF_INIT;
	queue_row_vec rows = VEC_INIT;
	struct queue_row *q;
	json_t *arr;
	int ret;

	if (web_query(r, "queue", &queue) < 0 ||
	    web_query(r, "user", &user) < 0)
		goto out;
	/*
	 * NEEDSWORK: the whole queue in one reply, as the command line
	 * prints it; no keyset page yet (a place is a cursor of its own).
	 */
	ret = service_queue(&r->svc, queue.len ? queue.data : NULL,
	    user.len ? user.data : NULL, &rows, &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
		goto out;
	}
	arr = json_array();
	VEC_FOREACH(q, &rows)
	json_array_append_new(arr, service_json_queue_row(q));
	web_reply(r, MHD_HTTP_OK, json_pack("{s:o}", "queue", arr));
out:
	queue_row_vec_release(&rows);
	buf_release(&queue);
	buf_release(&user);
	buf_release(&err);
}
