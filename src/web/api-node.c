/*
 * api-node.c - /api/v1/nodes: everyone lists them (as with sinfo);
 * admins change slots, drain and resume (the service checks).
 */
#include "web/web-int.h"

/*
 * A page by name: ?after=NAME (the last name read) and ?limit=; next_after
 * is the page's last name, null on the last page.  The store reads one
 * row more than the page to know whether another follows.
 */
void
web_api_nodes(struct web_req *r)
{
	node_vec v = VEC_INIT;
	struct buf after = BUF_INIT, err = BUF_INIT;
	int64_t limit, i;
	json_t *arr;
	int ret;

	if (web_query_name_page(r, &after, &limit) < 0)
		goto out;
	ret = service_node_list(&r->svc, after.len ? after.data : NULL,
	    limit + 1, &v, &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
		goto out;
	}
	arr = json_array();
	for (i = 0; i < limit && i < (int64_t)v.n; i++)
		json_array_append_new(arr, service_json_node(&v.v[i]));
	web_reply_page(r, "nodes", arr,
	    (int64_t)v.n > limit ? json_string(v.v[limit - 1].name) : NULL);
out:
	node_vec_release(&v);
	buf_release(&after);
	buf_release(&err);
}

void
web_api_node_set(struct web_req *r)
{
	struct node_opts o;
	struct node n = { 0 };
	struct buf err = BUF_INIT;
	int ret;

	if (web_body_check_fields(r, service_node_fields,
	        SERVICE_FIELD_UPDATE) < 0)
		return;
	service_json_opts_read(service_node_fields, SERVICE_FIELD_UPDATE,
	    r->json, &o);
	ret = service_node_set(&r->svc, r->seg[3], &o, &n, &err);
	if (ret < 0)
		web_fail(r, ret, &err);
	else
		web_reply(r, MHD_HTTP_OK, service_json_node(&n));
	node_release(&n);
	buf_release(&err);
}

static void
web_node_enable(struct web_req *r, bool enabled)
{
	static const struct web_field none[] = { { NULL, 0 } };
	struct node n = { 0 };
	struct buf err = BUF_INIT;
	int ret;

	if (web_body_check(r, none) < 0)
		return;
	ret = service_node_enable(&r->svc, r->seg[3], enabled, &n, &err);
	if (ret < 0)
		web_fail(r, ret, &err);
	else
		web_reply(r, MHD_HTTP_OK, service_json_node(&n));
	node_release(&n);
	buf_release(&err);
}

void
web_api_node_drain(struct web_req *r)
{
	web_node_enable(r, false);
}

void
web_api_node_resume(struct web_req *r)
{
	web_node_enable(r, true);
}
