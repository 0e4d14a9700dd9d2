/*
 * static.c - the dashboard's files, built into the binary (web_assets[],
 * generated from web/static at build time), served to anyone: they hold
 * no data, the API they call checks who asks.  GET / is index.html;
 * tasks and jobs have hash URLs (#/tasks/USER/NAME), so no other path
 * needs the page.  An ETag from the content lets a browser revalidate
 * with a 304 instead of a download.
 */
#include "web/web-int.h"

static const struct web_asset *
web_static_find(const char *path)
{
	const struct web_asset *a;

	for (a = web_assets; a->path != NULL; a++)
		if (strcmp(a->path, path) == 0)
			return a;
	return NULL;
}

static void
web_static_send(struct web_req *r, const struct web_asset *a)
{
	const char *inm = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);

	r->is_text = true;
	r->content_type = a->type;
	r->etag = a->etag;
	buf_reset(&r->text);
	if (inm != NULL && strstr(inm, a->etag) != NULL) {
		r->status = MHD_HTTP_NOT_MODIFIED;
		return;
	}
	buf_add(&r->text, a->data, a->len);
	r->status = MHD_HTTP_OK;
}

void
web_static_index(struct web_req *r)
{
	const struct web_asset *a = web_static_find("/static/index.html");

	if (a == NULL)
		BUG("index.html is not built in");
	web_static_send(r, a);
}

void
web_static_file(struct web_req *r)
{
	struct buf path = BUF_INIT;
	const struct web_asset *a;

	buf_addf(&path, "/static/%s", r->seg[1]);
	a = web_static_find(path.data);
	if (a == NULL)
		web_error(r, MHD_HTTP_NOT_FOUND, "no file '%s'", path.data);
	else
		web_static_send(r, a);
	buf_release(&path);
}
