/*
 * api.c - the route table, authentication, and how errors become HTTP
 * statuses (the only place that maps ERR_* to one).
 *
 * Paths name a task as /tasks/{user}/{name}: the same pair the command
 * line's "user.<user>.<name>" names, readable in a URL and stable.
 */
#include <strings.h>
#include <unistd.h>

#include "web/web-int.h"

const struct web_route web_routes[] = {
	{ "GET", "/healthz", true, web_api_healthz, false },
	{ "GET", "/readyz", true, web_api_readyz, false },
	/* Served by web_api_metrics(), with the server's own counters. */
	{ "GET", "/metrics", false, NULL, false },
	/* The dashboard (static.c): the page and its files. */
	{ "GET", "/", true, web_static_index, false },
	{ "HEAD", "/", true, web_static_index, false },
	{ "GET", "/static/*", true, web_static_file, false },
	{ "HEAD", "/static/*", true, web_static_file, false },
	{ "GET", "/api/v1/me", false, web_api_me, false },
	{ "GET", "/api/v1/pilot", false, web_api_pilot, false },
	{ "GET", "/api/v1/status", false, web_api_status, false },
	/* Signing in checks its own credentials (and the limiter). */
	{ "POST", "/api/v1/session", true, web_api_session_open, false },
	{ "GET", "/api/v1/session", false, web_api_session_show, false },
	{ "DELETE", "/api/v1/session", false, web_api_session_close, false },
	{ "GET", "/api/v1/events", false, web_api_events, false },
	{ "GET", "/api/v1/me/tokens", false, web_api_me_tokens, false },
	{ "POST", "/api/v1/me/tokens", false, web_api_me_token_add, false },
	{ "DELETE", "/api/v1/me/tokens/*", false, web_api_me_token_revoke,
	    false },
	{ "GET", "/api/v1/users", false, web_api_users, false },
	{ "POST", "/api/v1/users", false, web_api_user_add, false },
	{ "GET", "/api/v1/users/*", false, web_api_user_show, false },
	{ "PATCH", "/api/v1/users/*", false, web_api_user_set, false },
	{ "DELETE", "/api/v1/users/*/tokens", false, web_api_user_revoke_all,
	    false },
	{ "GET", "/api/v1/tasks", false, web_api_tasks, true },
	{ "POST", "/api/v1/tasks", false, web_api_task_submit, false },
	{ "GET", "/api/v1/tasks/*/*", false, web_api_task_show, true },
	{ "DELETE", "/api/v1/tasks/*/*", false, web_api_task_delete, false },
	{ "POST", "/api/v1/tasks/*/*/kill", false, web_api_task_kill, false },
	{ "POST", "/api/v1/tasks/*/*/retry", false, web_api_task_retry, false },
	{ "GET", "/api/v1/tasks/*/*/jobs", false, web_api_task_jobs, true },
	{ "GET", "/api/v1/tasks/*/*/jobs/*", false, web_api_job_show, true },
	{ "GET", "/api/v1/tasks/*/*/jobs/*/log", false, web_api_job_log,
	    false },
	{ "GET", "/api/v1/queue", false, web_api_queue, true },
	{ "GET", "/api/v1/usage", false, web_api_usage, false },
	/* Not cached: without `until` it ends now. */
	{ "GET", "/api/v1/history", false, web_api_history, false },
	{ "GET", "/api/v1/history/totals", false, web_api_history_totals,
	    false },
	{ "GET", "/api/v1/nodes", false, web_api_nodes, true },
	{ "PATCH", "/api/v1/nodes/*", false, web_api_node_set, false },
	{ "POST", "/api/v1/nodes/*/drain", false, web_api_node_drain, false },
	{ "POST", "/api/v1/nodes/*/resume", false, web_api_node_resume, false },
	{ NULL, NULL, false, NULL, false },
};

void
web_reply(struct web_req *r, unsigned int status, json_t *v)
{
	json_decref(r->resp);
	r->resp = v;
	r->status = status;
	r->is_text = false;
}

void
web_reply_page(struct web_req *r, const char *key, json_t *items, json_t *next)
{
	web_reply(r, MHD_HTTP_OK,
	    json_pack("{s:o, s:o}", key, items, "next_after",
	        next != NULL ? next : json_null()));
}

void
web_error(struct web_req *r, unsigned int status, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	web_reply(r, status,
	    json_pack("{s:o}", "error", service_json_str(msg.data)));
	buf_release(&msg);
}

void
web_fail(struct web_req *r, int code, const struct buf *err)
{
	unsigned int status;

	switch (code) {
	case ERR_INVALID:
		status = MHD_HTTP_BAD_REQUEST;
		break;
	case ERR_NOTFOUND:
		status = MHD_HTTP_NOT_FOUND;
		break;
	case ERR_DENIED:
		status = MHD_HTTP_FORBIDDEN;
		break;
	case ERR_CONFLICT:
		status = MHD_HTTP_CONFLICT;
		break;
	default:
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
		log_error("request failed: %s", err->data);
		if (r->ws != NULL)
			web_count_add(r->ws, &r->ws->db_errors);
		break;
	}
	web_error(r, status, "%s", err->len ? err->data : "failed");
}

/* Does the path match `pattern` ("*" one segment)? */
static bool
web_api_match(const struct web_req *r, const char *pattern)
{
	const char *p = pattern, *end;
	size_t i = 0, n;

	while (*p == '/' && p[1] != '\0') {
		p++;
		end = strchr(p, '/');
		n = end ? (size_t)(end - p) : strlen(p);
		if (i == r->nseg)
			return false;
		if (!(n == 1 && *p == '*') &&
		    (strlen(r->seg[i]) != n || strncmp(r->seg[i], p, n) != 0))
			return false;
		i++;
		p += n;
	}
	return i == r->nseg;
}

/* Does this method change something (and so need CSRF from a browser)? */
static bool
web_api_changes(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	    strcmp(method, "OPTIONS") != 0;
}

/* Equal strings, in time that does not tell where they differ. */
static bool
web_api_same_secret(const char *a, const char *b)
{
	size_t i, n = strlen(a);
	unsigned char d = 0;

	if (strlen(b) != n)
		return false;
	for (i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

int
web_api_origin_check(struct web_req *r)
{
	const char *origin =
	    MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST);
	struct buf own = BUF_INIT;
	bool ok;

	if (origin == NULL)
		return 0;
	buf_addf(&own, "%s://%s", r->ws->tls ? "https" : "http",
	    host ? host : "");
	ok = host != NULL && strcasecmp(origin, own.data) == 0;
	buf_release(&own);
	if (ok)
		return 0;
	web_error(r, MHD_HTTP_FORBIDDEN,
	    "cross-site request refused: Origin is not this server's");
	return -1;
}

/*
 * With the session cookie, a request that changes something must show
 * the session's CSRF token in X-CSRF-Token (a page of another site cannot
 * read it) and come from our own origin.  -1 after replying 403.
 */
static int
web_api_csrf_check(struct web_req *r)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    "X-CSRF-Token");

	if (h == NULL) {
		web_error(r, MHD_HTTP_FORBIDDEN,
		    "missing X-CSRF-Token header: a signed-in browser must "
		    "send its session's csrf value");
		return -1;
	}
	if (!web_api_same_secret(h, r->csrf.data)) {
		web_error(r, MHD_HTTP_FORBIDDEN,
		    "wrong X-CSRF-Token for this session");
		return -1;
	}
	return web_api_origin_check(r);
}

/*
 * "Authorization: Bearer <token>", else the session cookie: 0 with
 * r->who and r->svc filled, or -1 after replying 401 (or 429 when this
 * address failed too often: answered before any hashing or lookup is
 * done; or 403 when a cookie's request lacks its CSRF token).
 */
static int
web_api_auth(struct web_server *ws, struct web_req *r)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	const char *cookie = MHD_lookup_connection_value(r->conn,
	    MHD_COOKIE_KIND, WEB_SESSION_COOKIE);
	struct buf err = BUF_INIT;
	int ret;

	if (web_limit_blocked(r->ip)) {
		web_error(r, MHD_HTTP_TOO_MANY_REQUESTS,
		    "too many failed authentications from %s; try again later",
		    r->ip);
		return -1;
	}
	/* The scheme's name is case-insensitive (RFC 9110 11.1). */
	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0) {
		buf_adds(&r->cred, h + 7);
		ret = service_auth_token(&r->svc, h + 7, &r->who, NULL, &err);
	} else if (h == NULL && cookie != NULL) {
		r->by_session = true;
		buf_adds(&r->cred, cookie);
		ret = service_auth_session(&r->svc, cookie, ws->session_idle_ms,
		    true, &r->who, &r->csrf, &err);
	} else {
		web_error(r, MHD_HTTP_UNAUTHORIZED,
		    "authentication required: send 'Authorization: Bearer "
		    "<token>' (see orchestra user token), or sign in");
		return -1;
	}
	if (ret == ERR_DENIED) {
		web_limit_failed(r->ip);
		web_count_add(ws, &ws->auth_failures);
		web_error(r, MHD_HTTP_UNAUTHORIZED, "%s", err.data);
	} else if (ret < 0) {
		web_fail(r, ret, &err);
	}
	buf_release(&err);
	if (ret < 0)
		return -1;
	if (r->by_session && web_api_changes(r->method) &&
	    web_api_csrf_check(r) < 0)
		return -1;
	r->svc.actor = r->who.username;
	r->svc.trusted = false;
	return 0;
}

/*
 * Test-only: with ORCHESTRA_TEST_HOLD_ROUTE set to a route's pattern
 * ("/api/v1/queue") and ORCHESTRA_TEST_HOLD_FILE to a file, a request of
 * that route waits while the file exists (at most WEB_HOLD_MAX_MS, and
 * not past the server's stop), as a slow store read would hold its
 * worker, or a slow password check its slot: a test shows that the
 * others answer meanwhile, with no luck in the timing.
 */
#define WEB_HOLD_MAX_MS 60000

void
web_api_hold(struct web_req *r)
{
	struct web_server *ws = r->ws;
	struct timespec tick = { 0, 10 * 1000000L };
	int64_t until = time_now_ms() + WEB_HOLD_MAX_MS;
	bool stopping = false;

	if (ws->hold_route == NULL ||
	    strcmp(r->route->pattern, ws->hold_route) != 0 ||
	    access(ws->hold_file, F_OK) != 0)
		return;
	log_info("test hold: holding route=%s ip=%s", r->route->pattern, r->ip);
	while (!stopping && access(ws->hold_file, F_OK) == 0 &&
	    time_now_ms() < until) {
		nanosleep(&tick, NULL);
		pthread_mutex_lock(&ws->defer_lock);
		stopping = ws->stopping;
		pthread_mutex_unlock(&ws->defer_lock);
	}
	log_info("test hold: released route=%s ip=%s", r->route->pattern,
	    r->ip);
}

void
web_api_handle(struct web_server *ws, struct web_req *r)
{
	const struct web_route *rt, *found = NULL;
	bool path_known = false;

	if (r->bad_path) {
		web_error(r, MHD_HTTP_BAD_REQUEST,
		    "malformed path: empty, '.' or '..' segments, encoded "
		    "'/', NUL or control characters are refused");
		return;
	}
	for (rt = web_routes; rt->method != NULL && found == NULL; rt++) {
		if (!web_api_match(r, rt->pattern))
			continue;
		path_known = true;
		if (strcmp(rt->method, r->method) == 0)
			found = rt;
	}
	if (found == NULL) {
		if (path_known)
			web_error(r, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "method %s not allowed here", r->method);
		else
			web_error(r, MHD_HTTP_NOT_FOUND, "no such resource");
		return;
	}
	r->route = found;
	r->ws = ws;
	/* r->svc: the worker's, actor "", untrusted, until authenticated. */
	if (!found->public && web_api_auth(ws, r) < 0)
		return;
	if (!found->public && found->fn != web_api_events) {
		r->cred_key = web_cred_begin(r->cred.data, r->by_session);
		if (r->cred_key == 0) {
			web_error(r, MHD_HTTP_TOO_MANY_REQUESTS,
			    "too many requests at once with this %s (at most "
			    "%d)",
			    r->by_session ? "session" : "token",
			    WEB_REQ_PER_CRED);
			return;
		}
	}
	if (!found->public)
		web_api_hold(r);
	if (found->fn == NULL) {
		web_api_metrics(ws, r);
		return;
	}
	if (found->cache && web_cache_get(ws->cache, r))
		return;
	if (r->body.len > 0 || strcmp(r->method, "POST") == 0 ||
	    strcmp(r->method, "PATCH") == 0) {
		json_error_t je;

		/* A "\u0000" in a string is refused: jansson needs
		 * JSON_ALLOW_NUL to take one. */
		r->json = json_loadb(r->body.data, r->body.len,
		    JSON_REJECT_DUPLICATES, &je);
		if (r->body.len > 0 && r->json == NULL) {
			web_error(r, MHD_HTTP_BAD_REQUEST,
			    "malformed JSON at line %d column %d: %s", je.line,
			    je.column, je.text);
			return;
		}
	}
	found->fn(r);
	if (found->cache)
		web_cache_put(ws->cache, r);
}

void
web_count(struct web_server *ws, const struct web_req *r)
{
	struct buf key = BUF_INIT;
	json_t *n;

	/* The route's pattern, never the path: no ids as labels. */
	buf_addf(&key, "%s %s %u", r->route ? r->route->method : "other",
	    r->route ? r->route->pattern : "unmatched", r->status);
	pthread_mutex_lock(&ws->count_lock);
	n = json_object_get(ws->requests, key.data);
	json_object_set_new(ws->requests, key.data,
	    json_integer(json_integer_value(n) + 1));
	pthread_mutex_unlock(&ws->count_lock);
	buf_release(&key);
}

void
web_count_add(struct web_server *ws, int64_t *counter)
{
	pthread_mutex_lock(&ws->count_lock);
	(*counter)++;
	pthread_mutex_unlock(&ws->count_lock);
}

/*
 * /metrics: the database's measures (service_metrics(), as `orchestra
 * metrics` prints them) and this server's own, in Prometheus' text
 * format.  Anyone with a token may read it, as anyone may read the queue.
 */
void
web_api_metrics(struct web_server *ws, struct web_req *r)
{
	struct buf err = BUF_INIT, method = BUF_INIT;
	const char *key, *sp1, *sp2;
	int64_t hits, misses;
	json_t *n;
	int ret;

	ret = service_metrics(&r->svc, &r->text, &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
		buf_release(&err);
		return;
	}
	buf_adds(&r->text,
	    "# HELP orchestra_http_requests_total HTTP requests answered by "
	    "orchestra serve, by method, route and status code.\n"
	    "# TYPE orchestra_http_requests_total counter\n");
	pthread_mutex_lock(&ws->count_lock);
	json_object_foreach(ws->requests, key, n)
	{
		/* "METHOD route code": no quote, backslash or newline in
		 * any of them (fixed patterns, a number). */
		sp1 = strchr(key, ' ');
		sp2 = strrchr(key, ' ');
		buf_reset(&method);
		buf_add(&method, key, (size_t)(sp1 - key));
		buf_addf(&r->text,
		    "orchestra_http_requests_total{method=\"%s\",route=\"%.*s\","
		    "code=\"%s\"} %lld\n",
		    method.data, (int)(sp2 - sp1 - 1), sp1 + 1, sp2 + 1,
		    (long long)json_integer_value(n));
	}
	buf_addf(&r->text,
	    "# HELP orchestra_http_auth_failures_total Requests refused by "
	    "orchestra serve for a wrong, expired or revoked token, session "
	    "or password.\n"
	    "# TYPE orchestra_http_auth_failures_total counter\n"
	    "orchestra_http_auth_failures_total %lld\n"
	    "# HELP orchestra_http_database_errors_total Requests orchestra "
	    "serve could not answer for a database failure (503).\n"
	    "# TYPE orchestra_http_database_errors_total counter\n"
	    "orchestra_http_database_errors_total %lld\n"
	    "# HELP orchestra_http_event_streams Event streams "
	    "(GET /api/v1/events) open now.\n"
	    "# TYPE orchestra_http_event_streams gauge\n"
	    "orchestra_http_event_streams %d\n",
	    (long long)ws->auth_failures, (long long)ws->db_errors,
	    web_sse_count(ws->sse));
	pthread_mutex_unlock(&ws->count_lock);
	web_cache_counts(ws->cache, &hits, &misses);
	buf_addf(&r->text,
	    "# HELP orchestra_http_cache_hits_total Answers orchestra serve "
	    "gave from its cache, the database unchanged since they were "
	    "read.\n"
	    "# TYPE orchestra_http_cache_hits_total counter\n"
	    "orchestra_http_cache_hits_total %lld\n"
	    "# HELP orchestra_http_cache_misses_total Requests of a cached "
	    "route that orchestra serve read from the database.\n"
	    "# TYPE orchestra_http_cache_misses_total counter\n"
	    "orchestra_http_cache_misses_total %lld\n",
	    (long long)hits, (long long)misses);
	r->status = MHD_HTTP_OK;
	r->is_text = true;
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
	buf_release(&err);
	buf_release(&method);
}

int
web_body_check(struct web_req *r, const struct web_field *fields)
{
	const struct web_field *f;
	const char *key;
	json_t *v;
	bool ok;

	if (r->json == NULL)
		r->json = json_object();
	if (!json_is_object(r->json)) {
		web_error(r, MHD_HTTP_BAD_REQUEST,
		    "the body must be a JSON object");
		return -1;
	}
	json_object_foreach(r->json, key, v)
	{
		for (f = fields; f->name != NULL; f++)
			if (strcmp(f->name, key) == 0)
				break;
		if (f->name == NULL) {
			web_error(r, MHD_HTTP_BAD_REQUEST, "unknown field '%s'",
			    key);
			return -1;
		}
		if (f->type == JSON_TRUE)
			ok = json_is_boolean(v);
		else if (f->type == JSON_ARRAY) {
			size_t i;
			json_t *e;

			ok = json_is_array(v);
			json_array_foreach(v, i, e) ok =
			    ok && json_is_string(e);
		} else
			ok = json_typeof(v) == f->type;
		if (!ok) {
			web_error(r, MHD_HTTP_BAD_REQUEST,
			    "field '%s' must be %s", key,
			    f->type == JSON_STRING        ? "a string"
			        : f->type == JSON_INTEGER ? "an integer"
			        : f->type == JSON_TRUE    ? "true or false"
			                               : "an array of strings");
			return -1;
		}
	}
	return 0;
}

int
web_body_check_fields(struct web_req *r, const struct service_field *table,
    unsigned flags)
{
	struct web_field fields[32];
	const struct service_field *f;
	size_t n = 0;

	for (f = table; f->name != NULL; f++) {
		if (!(f->flags & flags))
			continue;
		if (n + 1 >= sizeof(fields) / sizeof(fields[0]))
			BUG("table of more than %zu fields",
			    sizeof(fields) / sizeof(fields[0]) - 1);
		fields[n].name = f->name;
		switch (f->type) {
		case SERVICE_FIELD_STR:
		case SERVICE_FIELD_STR0:
			fields[n].type = JSON_STRING;
			break;
		case SERVICE_FIELD_INT:
			fields[n].type = JSON_INTEGER;
			break;
		case SERVICE_FIELD_BOOL:
		case SERVICE_FIELD_NOT:
			fields[n].type = JSON_TRUE;
			break;
		default:
			BUG("field '%s' cannot be given", f->name);
		}
		n++;
	}
	fields[n].name = NULL;
	fields[n].type = 0;
	return web_body_check(r, fields);
}

const char *
web_body_str(struct web_req *r, const char *name)
{
	return json_string_value(json_object_get(r->json, name));
}

int64_t
web_body_int(struct web_req *r, const char *name, int64_t dflt)
{
	json_t *v = json_object_get(r->json, name);

	return v ? (int64_t)json_integer_value(v) : dflt;
}

bool
web_body_bool(struct web_req *r, const char *name)
{
	return json_is_true(json_object_get(r->json, name));
}

int
web_query(struct web_req *r, const char *name, struct buf *out)
{
	const char *v =
	    MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);

	buf_reset(out);
	if (v == NULL)
		return 0;
	if (web_percent_decode(v, strlen(v), out) < 0) {
		web_error(r, MHD_HTTP_BAD_REQUEST,
		    "malformed query argument '%s'", name);
		return -1;
	}
	return 1;
}

int
web_query_int(struct web_req *r, const char *name, int64_t min, int64_t max,
    int64_t dflt, int64_t *out)
{
	struct buf v = BUF_INIT;
	int ret = web_query(r, name, &v);

	*out = dflt;
	if (ret == 1 && util_parse_int64(v.data, min, max, out) < 0) {
		web_error(r, MHD_HTTP_BAD_REQUEST,
		    "query argument '%s' must be a whole number from %lld to "
		    "%lld",
		    name, (long long)min, (long long)max);
		ret = -1;
	}
	buf_release(&v);
	return ret < 0 ? -1 : 0;
}

int
web_query_page(struct web_req *r, int64_t after_min, int64_t *after,
    int64_t *limit)
{
	if (web_query_int(r, "after", after_min, INT64_MAX / 2, after_min,
	        after) < 0)
		return -1;
	return web_query_int(r, "limit", 1, WEB_PAGE_MAX, WEB_PAGE_DEFAULT,
	    limit);
}

int
web_query_name_page(struct web_req *r, struct buf *after, int64_t *limit)
{
	int ret = web_query(r, "after", after);

	if (ret < 0)
		return -1;
	if (ret == 1 && after->len == 0) {
		web_error(r, MHD_HTTP_BAD_REQUEST,
		    "query argument 'after' must be a name, not empty");
		return -1;
	}
	return web_query_int(r, "limit", 1, WEB_PAGE_MAX, WEB_PAGE_DEFAULT,
	    limit);
}
