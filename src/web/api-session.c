/*
 * api-session.c - the dashboard's sign-in: POST /api/v1/session (with a
 * password or a token) sets an HttpOnly, SameSite=Strict cookie; GET
 * shows who is signed in and the CSRF token; DELETE signs out.
 *
 * The cookie holds only the session's random secret; the database only
 * its hash.  A session made from a token ends when the token is revoked
 * or expires; a password change ends the password's sessions.  Every other
 * route takes the cookie in place of a token (api.c: web_api_auth(), which
 * demands the CSRF token and our Origin of every request that changes
 * something).
 */
#include <errno.h>
#include <unistd.h>

#include "web/web-int.h"

/* The cookie's attributes, and Secure when served over TLS. */
static void
web_session_cookie(struct web_req *r, const char *value, bool clear)
{
	buf_reset(&r->set_cookie);
	buf_addf(&r->set_cookie,
	    WEB_SESSION_COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/%s%s",
	    value, clear ? "; Max-Age=0" : "", r->ws->tls ? "; Secure" : "");
}

static json_t *
web_session_json(struct web_req *r)
{
	return json_pack("{s:o, s:o}", "user", service_json_account(&r->who),
	    "csrf", service_json_str(r->csrf.data));
}

/*
 * The end of a sign-in, on the connection's worker: `ret` is the check
 * of the password or token (and `err` its message), `token_id` the
 * token's when signing in with one.
 */
static void
web_session_finish(struct web_req *r, int ret, int64_t token_id,
    struct buf *err)
{
	struct web_server *ws = r->ws;
	struct buf secret = BUF_INIT;

	if (ret == ERR_DENIED) {
		web_limit_failed(r->ip);
		web_count_add(ws, &ws->auth_failures);
		web_error(r, MHD_HTTP_UNAUTHORIZED, "%s", err->data);
		return;
	}
	if (ret == 0)
		ret = service_session_open(&r->svc, &r->who, token_id,
		    ws->session_idle_ms, &secret, &r->csrf, err);
	if (ret < 0) {
		web_fail(r, ret, err);
		goto out;
	}
	web_session_cookie(r, secret.data, false);
	web_reply(r, MHD_HTTP_OK, web_session_json(r));
out:
	buf_release_secret(&secret);
}

/*
 * A sign-in with a password.  The account and its hash are read on the
 * worker; the hash is verified (argon2id, ~80 ms) off the workers
 * (web_defer), by a password checker process (hash.c), at most
 * WEB_HASH_MAX at once.  One that cannot start
 * within WEB_HASH_WAIT_MS is answered 503 at once: a flood of sign-ins
 * neither holds the workers nor makes a queue that grows.
 */
#define WEB_HASH_WAIT_MS 100

struct web_signin {
	char *hash;           /* NULL: no such user, or no password */
	const char *password; /* borrowed from the body */
	bool busy;            /* no slot within WEB_HASH_WAIT_MS */
	int ret;
	struct buf err;
};

static void
web_signin_free(void *arg)
{
	struct web_signin *s = arg;

	free(s->hash);
	buf_release(&s->err);
	free(s);
}

/* Take a slot, or give up after WEB_HASH_WAIT_MS. */
static int
web_signin_slot(struct web_server *ws)
{
	struct timespec until;
	int rc;

	time_deadline(&until, CLOCK_REALTIME, WEB_HASH_WAIT_MS);
	do
		rc = sem_timedwait(&ws->hash_slots, &until);
	while (rc < 0 && errno == EINTR);
	return rc;
}

/* Verify the password (a thread of its own, no store; the check itself
 * in a checker process). */
static void
web_signin_hash(struct web_req *r)
{
	struct web_signin *s = r->defer;

	if (web_signin_slot(r->ws) < 0) {
		s->busy = true;
		return;
	}
	web_api_hold(r);
	s->ret = web_hash_check(r->ws, s->hash, s->password, &s->err);
	sem_post(&r->ws->hash_slots);
}

static void
web_signin_done(struct web_req *r)
{
	struct web_signin *s = r->defer;

	if (s->busy) {
		web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "too many sign-ins are being checked at once; try again "
		    "in a moment");
		return;
	}
	web_session_finish(r, s->ret, 0, &s->err);
}

void
web_api_session_open(struct web_req *r)
{
	static const struct web_field fields[] = {
		{ "username", JSON_STRING },
		{ "password", JSON_STRING },
		{ "token", JSON_STRING },
		{ NULL, JSON_NULL },
	};
	struct web_signin *s;
	struct buf err = BUF_INIT;
	const char *user, *password, *token;
	int64_t token_id = 0;
	int ret;

	/* Before anything is looked at, let alone hashed. */
	if (web_limit_blocked(r->ip)) {
		web_error(r, MHD_HTTP_TOO_MANY_REQUESTS,
		    "too many failed authentications from %s; try again later",
		    r->ip);
		return;
	}
	/* Signing in from another site's page would be a login CSRF. */
	if (web_api_origin_check(r) < 0 || web_body_check(r, fields) < 0)
		return;
	user = web_body_str(r, "username");
	password = web_body_str(r, "password");
	token = web_body_str(r, "token");
	if (token != NULL && user == NULL && password == NULL) {
		ret = service_auth_token(&r->svc, token, &r->who, &token_id,
		    &err);
		web_session_finish(r, ret, token_id, &err);
	} else if (token == NULL && user != NULL && password != NULL) {
		s = xcalloc(1, sizeof(*s));
		buf_init(&s->err);
		s->password = password;
		ret = service_auth_password_load(&r->svc, user, &r->who,
		    &s->hash, &err);
		if (ret < 0) {
			web_fail(r, ret, &err);
			web_signin_free(s);
		} else {
			web_defer(r, web_signin_hash, web_signin_done, s,
			    web_signin_free);
		}
	} else {
		web_error(r, MHD_HTTP_BAD_REQUEST,
		    "give 'username' and 'password', or 'token'");
	}
	buf_release(&err);
}

/* The routes below are for a session, not for a token. */
static int
web_session_required(struct web_req *r)
{
	if (r->by_session)
		return 0;
	web_error(r, MHD_HTTP_UNAUTHORIZED,
	    "no session: sign in with POST /api/v1/session");
	return -1;
}

void
web_api_session_show(struct web_req *r)
{
	if (web_session_required(r) < 0)
		return;
	web_reply(r, MHD_HTTP_OK, web_session_json(r));
}

void
web_api_session_close(struct web_req *r)
{
	struct buf err = BUF_INIT;
	int ret;

	if (web_session_required(r) < 0)
		return;
	ret = service_session_close(&r->svc, r->cred.data, &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
	} else {
		web_session_cookie(r, "", true);
		web_reply(r, MHD_HTTP_OK, json_pack("{s:b}", "signed_in", 0));
	}
	buf_release(&err);
}
