/*
 * api-queue.c - /api/v1/queue: what `orchestra queue` prints, open to
 * everyone with a token (as with squeue), a page at a time.
 *
 * The queue has no stored order to seek in: its order is the scheduler's
 * merge, recomputed each time.  So ?after=N is the number of rows already
 * read and next_after the number read with this page; a page computes the
 * merge only as far as its last row (service_queue_head()), so its cost
 * follows its position in the queue, never the history.  Rows move while
 * jobs start: a reader of several pages may see one twice or miss one, as
 * two runs of squeue would.
 */
#include "web/web-int.h"

void
web_api_queue(struct web_req *r)
{
	struct buf queue = BUF_INIT, user = BUF_INIT, err = BUF_INIT;
	queue_row_vec rows = VEC_INIT;
	int64_t after, limit, i;
	json_t *arr;
	int ret;

	if (web_query(r, "queue", &queue) < 0 ||
	    web_query(r, "user", &user) < 0 ||
	    web_query_page(r, 0, &after, &limit) < 0)
		goto out;
	/* One row more than the page: is there a next one? */
	ret = service_queue_head(&r->svc, queue.len ? queue.data : NULL,
	    user.len ? user.data : NULL, after + limit + 1, &rows, &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
		goto out;
	}
	arr = json_array();
	for (i = after; i < after + limit && i < (int64_t)rows.n; i++)
		json_array_append_new(arr, service_json_queue_row(&rows.v[i]));
	web_reply_page(r, "queue", arr,
	    (int64_t)rows.n > after + limit ? json_integer(after + limit)
	                                    : NULL);
out:
	queue_row_vec_release(&rows);
	buf_release(&queue);
	buf_release(&user);
	buf_release(&err);
}
