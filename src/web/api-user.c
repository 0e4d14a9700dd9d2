/*
 * api-user.c - /healthz, /readyz, /api/v1/me (everyone's own profile
 * and tokens) and /api/v1/users (admins: the service checks; a user may
 * also revoke all of their own tokens).
 */
#include "web/web-int.h"

void
web_api_healthz(struct web_req *r)
{
	web_reply(r, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
}

void
web_api_readyz(struct web_req *r)
{
	struct buf err = BUF_INIT;

	if (service_ready(&r->svc, &err) < 0) {
		log_error("not ready: %s", err.data);
		web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "the database does not answer");
	} else if (service_pilot_down(&r->svc, &err)) {
		/* Serve is ready; it says that nothing will start. */
		web_reply(r, MHD_HTTP_OK, json_pack("{s:s, s:s, s:s}", "status",
		    "ok", "pilot", "down", "why", err.data));
	} else {
		web_reply(r, MHD_HTTP_OK, json_pack("{s:s, s:s}", "status", "ok",
		    "pilot", "running"));
	}
	buf_release(&err);
}

void
web_api_me(struct web_req *r)
{
	web_reply(r, MHD_HTTP_OK, service_json_account(&r->who));
}

/*
 * A page by id: ?after=ID (the last id read, 0 from the first) and
 * ?limit=; next_after is the page's last id, null on the last page.  The
 * store reads one row more than the page to know whether another follows.
 */
void
web_api_me_tokens(struct web_req *r)
{
	token_vec v = VEC_INIT;
	struct buf err = BUF_INIT;
	int64_t after, limit, i;
	json_t *arr;
	int ret;

	if (web_query_page(r, 0, &after, &limit) < 0)
		goto out;
	ret = service_token_list(&r->svc, r->who.username, after, limit + 1, &v,
	    &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
		goto out;
	}
	arr = json_array();
	for (i = 0; i < limit && i < (int64_t)v.n; i++)
		json_array_append_new(arr, service_json_token(&v.v[i]));
	web_reply_page(r, "tokens", arr,
	    (int64_t)v.n > limit ? json_integer(v.v[limit - 1].id) : NULL);
out:
	token_vec_release(&v);
	buf_release(&err);
}

void
web_api_me_token_add(struct web_req *r)
{
	static const struct web_field fields[] = {
		{ "expires", JSON_STRING },
		{ NULL, 0 },
	};
	struct buf err = BUF_INIT, secret = BUF_INIT;
	struct token t = { 0 };
	const char *exp;
	int64_t ms = 0;
	json_t *o;
	int ret;

	if (web_body_check(r, fields) < 0)
		return;
	exp = web_body_str(r, "expires");
	ret = exp ? time_parse_duration(exp, &ms, &err) : 0;
	if (ret == 0)
		ret = service_token_issue(&r->svc, r->who.username, ms, &t,
		    &secret, &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
	} else {
		o = service_json_token(&t);
		json_object_set_new(o, "token", json_string(secret.data));
		web_reply(r, MHD_HTTP_CREATED, o);
	}
	buf_release_secret(&secret);
	token_release(&t);
	buf_release(&err);
}

void
web_api_me_token_revoke(struct web_req *r)
{
	struct buf err = BUF_INIT;
	struct token t = { 0 };
	int64_t id;
	int ret;

	if (util_parse_int64(r->seg[4], 1, INT64_MAX / 2, &id) < 0) {
		web_error(r, MHD_HTTP_BAD_REQUEST,
		    "invalid token id '%s': expected a whole number",
		    r->seg[4]);
		return;
	}
	ret = service_token_revoke(&r->svc, r->who.username, id, &t, &err);
	if (ret < 0)
		web_fail(r, ret, &err);
	else
		web_reply(r, MHD_HTTP_OK, service_json_token(&t));
	token_release(&t);
	buf_release(&err);
}

/* A page by name, as /api/v1/nodes (api-node.c). */
void
web_api_users(struct web_req *r)
{
	account_vec v = VEC_INIT;
	struct buf after = BUF_INIT, err = BUF_INIT;
	int64_t limit, i;
	json_t *arr;
	int ret;

	if (web_query_name_page(r, &after, &limit) < 0)
		goto out;
	ret = service_user_list(&r->svc, after.len ? after.data : NULL,
	    limit + 1, &v, &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
		goto out;
	}
	arr = json_array();
	for (i = 0; i < limit && i < (int64_t)v.n; i++)
		json_array_append_new(arr, service_json_account(&v.v[i]));
	web_reply_page(r, "users", arr,
	    (int64_t)v.n > limit ? json_string(v.v[limit - 1].username) : NULL);
out:
	account_vec_release(&v);
	buf_release(&after);
	buf_release(&err);
}

/* The user's fields that a body of `flags` (create or update) takes. */
static void
web_user_opts(struct web_req *r, unsigned flags, struct user_opts *o)
{
	memset(o, 0, sizeof(*o));
	service_json_opts_read(service_account_fields, flags, r->json, o);
}

void
web_api_user_add(struct web_req *r)
{
	struct account a = { 0 };
	struct buf err = BUF_INIT;
	struct user_opts o;
	const char *name;
	int ret;

	if (web_body_check_fields(r, service_account_fields,
	        SERVICE_FIELD_NAME | SERVICE_FIELD_CREATE) < 0)
		return;
	name = web_body_str(r, "username");
	if (name == NULL) {
		web_error(r, MHD_HTTP_BAD_REQUEST,
		    "field 'username' is required");
		return;
	}
	web_user_opts(r, SERVICE_FIELD_CREATE, &o);
	ret = service_user_add(&r->svc, name, &o, &a, &err);
	if (ret < 0)
		web_fail(r, ret, &err);
	else
		web_reply(r, MHD_HTTP_CREATED, service_json_account(&a));
	account_release(&a);
	buf_release(&err);
}

void
web_api_user_show(struct web_req *r)
{
	struct account a = { 0 };
	struct buf err = BUF_INIT;
	int ret;

	ret = service_user_show(&r->svc, r->seg[3], &a, &err);
	if (ret < 0)
		web_fail(r, ret, &err);
	else
		web_reply(r, MHD_HTTP_OK, service_json_account(&a));
	account_release(&a);
	buf_release(&err);
}

void
web_api_user_set(struct web_req *r)
{
	struct account a = { 0 };
	struct buf err = BUF_INIT;
	struct user_opts o;
	int ret;

	if (web_body_check_fields(r, service_account_fields,
	        SERVICE_FIELD_NAME | SERVICE_FIELD_UPDATE) < 0)
		return;
	if (json_object_get(r->json, "username") != NULL) {
		web_error(r, MHD_HTTP_BAD_REQUEST,
		    "field 'username' cannot be changed");
		return;
	}
	web_user_opts(r, SERVICE_FIELD_UPDATE, &o);
	ret = service_user_set(&r->svc, r->seg[3], &o, &a, &err);
	if (ret < 0)
		web_fail(r, ret, &err);
	else
		web_reply(r, MHD_HTTP_OK, service_json_account(&a));
	account_release(&a);
	buf_release(&err);
}

/*
 * DELETE /api/v1/users/NAME/tokens: revoke every token of the user and
 * end every session of theirs (`orchestra user revoke NAME --all`).  The
 * user themself or an admin; the request's own token or session is among
 * them when it is the user's, and ends with the rest.
 */
void
web_api_user_revoke_all(struct web_req *r)
{
	struct buf err = BUF_INIT;
	int64_t ntokens, nsessions;
	int ret;

	ret = service_token_revoke_all(&r->svc, r->seg[3], &ntokens, &nsessions,
	    &err);
	if (ret < 0)
		web_fail(r, ret, &err);
	else
		web_reply(r, MHD_HTTP_OK,
		    service_json_revoked(r->seg[3], ntokens, nsessions));
	buf_release(&err);
}
