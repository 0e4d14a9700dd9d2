/*
 * service-remote.c - the service functions of the user commands over
 * the HTTP API of `orchestra serve`, for a command line that has
 * ORCHESTRA_URL and a token but no database (docs/internals/remote.md).
 *
 * Each function issues one request (or one per page) and turns the JSON
 * reply back into the structs the local service fills, the inverse of
 * service/service-json.c, so the commands print the same.  An error reply
 * becomes the ERR_* the server mapped to its status, with its message.
 * Paths carry user input only percent-encoded; bodies are built with
 * jansson.  The token goes in one header, never in a message or a log.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "service/service-int.h"
#include "service/service-json.h"
#include "util/http.h"

/* The largest reply read (a job log is at most 1 MiB, plus JSON). */
#define REMOTE_REPLY_MAX (8 * 1024 * 1024)
/* A page of a list: the API's largest. */
#define REMOTE_PAGE 1000
/* The part of a log asked for at once (a follower asks on from its end). */
#define REMOTE_LOG_MAX (1024 * 1024)
#define REMOTE_TOKEN_MAX 4096
/* libcurl's limits, as service_open_remote() sets them. */
#define REMOTE_CONNECT_MS 10000L
#define REMOTE_TIMEOUT_MS 300000L

/*
 * Plain http:// goes through util/http.c (`http` set), which does not
 * load libcurl and its libraries for a command's one or two requests;
 * https://, a user part or a proxy through libcurl (`curl` set).
 */
struct service_remote {
	struct http_client *http;
	CURL *curl;
	char *url;                  /* without a trailing '/' */
	struct curl_slist *headers; /* holds the token: never logged */
	char *http_headers;         /* the same lines for `http`: secret */
	char *username;             /* the token's owner, from /api/v1/me */
	char *where;                /* "ORCHESTRA_URL", or "url (config 'F')" */
};

static size_t
service_remote_write(char *data, size_t size, size_t n, void *arg)
{
	buf_add(arg, data, size * n);
	return size * n;
}

static int
service_remote_code(long status)
{
	switch (status) {
	case 400:
		return ERR_INVALID;
	case 401:
	case 403:
		return ERR_DENIED;
	case 404:
		return ERR_NOTFOUND;
	case 409:
		return ERR_CONFLICT;
	default:
		return ERR_UNAVAILABLE;
	}
}

/*
 * Send METHOD url+path with `text` (NULL: no body) through util/http.c or
 * libcurl: 0 with the reply's status in *status and its body in `out`,
 * or ERR_UNAVAILABLE when the server could not be reached or answered
 * nothing readable.
 */
static int
service_remote_send(struct service_remote *r, const char *method,
    const char *path, const char *text, long *status, struct buf *out,
    struct buf *err)
{
	struct buf url = BUF_INIT, shown = BUF_INIT, why = BUF_INIT;
	CURLcode rc;
	int ret = 0;

	*status = 0;
	if (r->http != NULL) {
		/* The URL's own path, if it has one, then `path`. */
		buf_addf(&url, "%s%s", r->url + 7 + strlen(r->http->authority),
		    path);
		ret = http_client_request(r->http, method, url.data,
		    r->http_headers, text, text != NULL ? strlen(text) : 0,
		    status, out, &why);
	} else {
		buf_addf(&url, "%s%s", r->url, path);
		curl_easy_setopt(r->curl, CURLOPT_URL, url.data);
		curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, out);
		/* A body makes it a POST, none a GET; then the method is
		 * named. */
		if (text != NULL) {
			curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, text);
			curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE,
			    (long)strlen(text));
		} else {
			curl_easy_setopt(r->curl, CURLOPT_HTTPGET, 1L);
		}
		curl_easy_setopt(r->curl, CURLOPT_CUSTOMREQUEST, method);
		rc = curl_easy_perform(r->curl);
		if (rc == CURLE_OK)
			curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE,
			    status);
		else
			buf_adds(&why, curl_easy_strerror(rc));
		ret = rc == CURLE_OK ? 0 : ERR_UNAVAILABLE;
	}
	if (ret < 0) {
		util_redact_url(&shown, r->url);
		ret = err_set(err, ERR_UNAVAILABLE, "cannot reach %s '%s': %s",
		    r->where, shown.data, why.data);
	}
	buf_release(&url);
	buf_release(&shown);
	buf_release(&why);
	return ret;
}

/*
 * One request: METHOD url+path (`path` escaped already), with `body`
 * (borrowed; NULL: none).  0 on a 2xx status with the reply in `out`,
 * else the ERR_* of the status with the server's message.
 */
static int
service_remote_call(struct service *svc, const char *method, const char *path,
    json_t *body, struct buf *out, struct buf *err)
{
	char *text = NULL;
	json_t *reply = NULL;
	const char *msg;
	long status = 0;
	int ret;

	buf_reset(out);
	out->cap_limit = REMOTE_REPLY_MAX;
	if (body != NULL)
		text = json_dumps(body, JSON_COMPACT);
	ret = service_remote_send(svc->remote, method, path, text, &status, out,
	    err);
	if (ret < 0)
		goto out;
	ret = ERR_UNAVAILABLE;
	if (out->truncated) {
		err_set(err, ERR_UNAVAILABLE,
		    "reply to %s %s larger than %d bytes", method, path,
		    REMOTE_REPLY_MAX);
		goto out;
	}
	if (status >= 200 && status < 300) {
		ret = 0;
		goto out;
	}
	ret = service_remote_code(status);
	reply = json_loadb(out->data, out->len, 0, NULL);
	msg = json_string_value(json_object_get(reply, "error"));
	if (msg != NULL)
		err_set(err, ret, "%s", msg);
	else
		err_set(err, ret, "%s %s: HTTP status %ld", method, path,
		    status);
out:
	free(text);
	json_decref(reply);
	return ret;
}

/* As service_remote_call(), with the reply parsed: *reply (caller
 * decrefs) is a JSON object. */
static int
service_remote_json(struct service *svc, const char *method, const char *path,
    json_t *body, json_t **reply, struct buf *err)
{
	struct buf out = BUF_INIT;
	json_error_t je;
	int ret;

	*reply = NULL;
	ret = service_remote_call(svc, method, path, body, &out, err);
	if (ret == 0) {
		*reply = json_loadb(out.data, out.len, 0, &je);
		if (!json_is_object(*reply)) {
			json_decref(*reply);
			*reply = NULL;
			ret = err_set(err, ERR_UNAVAILABLE,
			    "malformed reply to %s %s: %s", method, path,
			    je.text[0] ? je.text : "not a JSON object");
		}
	}
	buf_release(&out);
	return ret;
}

/*
 * ---- the JSON of service/service-json.c, back into structs
 * ----------------------
 *
 * Each record is read by the table that wrote it (service_json_read()):
 * a field that is missing or of another type reads as its "none" value
 * (NULL, "", 0 or -1, as the store gives them); an unknown status is an
 * error.  tests/unit/test-fields.c checks that each record, every field
 * set, reads back as it was written; fuzz/fuzz-remote.c that what one of
 * these reads from any object, written again and read again, stays the
 * same.
 */

static int64_t
service_remote_int(json_t *o, const char *key, int64_t null_value)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : null_value;
}

int
service_remote_parse_task(json_t *o, struct task *t, struct buf *err)
{
	memset(t, 0, sizeof(*t));
	return service_json_read(service_task_fields, o, t, err);
}

int
service_remote_parse_job(json_t *o, struct job *j, struct job_wait *w,
    struct buf *err)
{
	int ret;

	memset(j, 0, sizeof(*j));
	memset(w, 0, sizeof(*w));
	ret = service_json_read(service_job_fields, o, j, err);
	if (ret == 0)
		ret = service_json_read(service_job_wait_fields, o, w, err);
	w->job_id = j->id;
	return ret;
}

int
service_remote_parse_node(json_t *o, struct node *n, struct buf *err)
{
	memset(n, 0, sizeof(*n));
	return service_json_read(service_node_fields, o, n, err);
}

void
service_remote_parse_account(json_t *o, struct account *a)
{
	memset(a, 0, sizeof(*a));
	/* No status among its fields: it cannot fail. */
	if (service_json_read(service_account_fields, o, a, NULL) < 0)
		BUG("an account's fields failed to read");
}

void
service_remote_parse_token(json_t *o, struct token *t)
{
	memset(t, 0, sizeof(*t));
	if (service_json_read(service_token_fields, o, t, NULL) < 0)
		BUG("a token's fields failed to read");
}

int
service_remote_parse_queue_row(json_t *o, struct queue_row *q, struct buf *err)
{
	memset(q, 0, sizeof(*q));
	return service_json_read(service_queue_row_fields, o, q, err);
}

/* ---- opening ------------------------------------------------------------ */

/* The token: ORCHESTRA_TOKEN, else the file ORCHESTRA_TOKEN_FILE, else
 * the config's token (in a file of mode 0600: config.c), else its
 * token_file, else ~/.config/orchestra/token; surrounding white space
 * dropped.  The variables are a pair that overrides the keys' pair: a
 * token file named in the environment wins over a token in the file.  A
 * token file other accounts may read or write is refused, as ssh refuses
 * such a private key: the token is a password. */
static int
service_remote_read_token(const struct config *cfg, const char *url_where,
    struct buf *tok, struct buf *err)
{
	const char *env = getenv("ORCHESTRA_TOKEN");
	const char *file = getenv("ORCHESTRA_TOKEN_FILE");
	const char *home = getenv("HOME");
	struct buf path = BUF_INIT, where = BUF_INIT;
	char chunk[512];
	size_t n, start = 0;
	struct stat sb;
	FILE *f;
	int ret = ERR_DENIED;

	tok->cap_limit = REMOTE_TOKEN_MAX;
	if ((env == NULL || *env == '\0') && (file == NULL || *file == '\0')) {
		env = cfg->file_env[CONFIG_TOKEN];
		file = cfg->file_env[CONFIG_TOKEN_FILE];
	}
	if (env != NULL && *env != '\0') {
		buf_adds(tok, env);
	} else {
		if (file != NULL && *file != '\0')
			buf_adds(&path, file);
		else
			buf_addf(&path, "%s/.config/orchestra/token",
			    home ? home : "");
		f = fopen(path.data, "r");
		if (f == NULL) {
			err_set(err, ERR_DENIED,
			    "%s is set but no token: set "
			    "ORCHESTRA_TOKEN, or ORCHESTRA_TOKEN_FILE (or "
			    "token_file in the config; cannot read '%s': %s)",
			    url_where, path.data, strerror(errno));
			goto out;
		}
		if (fstat(fileno(f), &sb) < 0) {
			err_set(err, ERR_DENIED, "cannot read '%s': %s",
			    path.data, strerror(errno));
			fclose(f);
			goto out;
		}
		if (sb.st_mode & 077) {
			err_set(err, ERR_DENIED,
			    "token file '%s' is open to other accounts "
			    "(mode %04o): run 'chmod 600 %s'",
			    path.data, (unsigned)(sb.st_mode & 07777),
			    path.data);
			fclose(f);
			goto out;
		}
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_add(tok, chunk, n);
		util_wipe(chunk, sizeof(chunk));
		fclose(f);
	}
	while (tok->len > 0 && isspace((unsigned char)tok->data[tok->len - 1]))
		tok->data[--tok->len] = '\0';
	while (start < tok->len && isspace((unsigned char)tok->data[start]))
		start++;
	memmove(tok->data, tok->data + start, tok->len - start + 1);
	tok->len -= start;
	if (tok->len == 0 || tok->truncated ||
	    strpbrk(tok->data, "\r\n") != NULL) {
		if (env != NULL && *env != '\0')
			config_env_where(cfg, CONFIG_TOKEN, &where);
		err_set(err, ERR_DENIED, "malformed token in %s",
		    env != NULL && *env != '\0' ? where.data : path.data);
		goto out;
	}
	ret = 0;
out:
	buf_release(&path);
	buf_release(&where);
	return ret;
}

/* Requests through util/http.c, with `token`. */
static int
service_remote_http_open(struct service_remote *r, const char *token,
    struct buf *err)
{
	struct buf hdr = BUF_INIT;
	int ret;

	r->http = xmalloc(sizeof(*r->http));
	ret = http_client_init(r->http, r->url, REMOTE_CONNECT_MS,
	    REMOTE_TIMEOUT_MS, err);
	if (ret < 0) {
		free(r->http);
		r->http = NULL;
		return ret;
	}
	buf_addf(&hdr,
	    "Authorization: Bearer %s\r\n"
	    "Content-Type: application/json\r\n",
	    token);
	r->http_headers = buf_detach(&hdr);
	return 0;
}

/* Requests through libcurl, with `token`. */
static void
service_remote_curl_open(struct service_remote *r, const char *token,
    const char *ca)
{
	struct buf hdr = BUF_INIT;

	r->curl = curl_easy_init();
	if (r->curl == NULL)
		BUG("curl_easy_init failed");
	buf_addf(&hdr, "Authorization: Bearer %s", token);
	r->headers = curl_slist_append(NULL, hdr.data);
	r->headers =
	    curl_slist_append(r->headers, "Content-Type: application/json");
	buf_release_secret(&hdr);
	if (r->headers == NULL)
		BUG("curl_slist_append: out of memory");
	curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT_MS, REMOTE_CONNECT_MS);
	curl_easy_setopt(r->curl, CURLOPT_TIMEOUT_MS, REMOTE_TIMEOUT_MS);
	curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, service_remote_write);
	if (ca != NULL && *ca != '\0')
		curl_easy_setopt(r->curl, CURLOPT_CAINFO, ca);
}

int
service_open_remote(struct service *svc, const struct config *cfg,
    struct buf *err)
{
	const char *url = config_env(cfg, CONFIG_URL);
	struct service_remote *r;
	struct buf tok = BUF_INIT, where = BUF_INIT;
	size_t len;
	int ret;

	if (url == NULL || *url == '\0')
		BUG("service_open_remote() with no url set");
	memset(svc, 0, sizeof(*svc));
	svc->cfg = cfg;
	config_env_where(cfg, CONFIG_URL, &where);
	if (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0) {
		ret = err_set(err, ERR_INVALID,
		    "%s must start with http:// or https://", where.data);
		buf_release(&where);
		return ret;
	}
	ret = service_remote_read_token(cfg, where.data, &tok, err);
	if (ret < 0)
		goto out;
	r = xcalloc(1, sizeof(*r));
	svc->remote = r;
	r->where = buf_detach(&where);
	len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		len--;
	r->url = xstrndup(url, len);
	if (http_client_takes(r->url))
		ret = service_remote_http_open(r, tok.data, err);
	else
		service_remote_curl_open(r, tok.data,
		    config_env(cfg, CONFIG_CA_FILE));
out:
	buf_release_secret(&tok);
	buf_release(&where);
	if (ret < 0)
		service_close(svc);
	return ret;
}

/* A probe's answer: not kept, at most REMOTE_REPLY_MAX read. */
static size_t
service_remote_discard(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return size * n;
}

int
service_remote_probe(const char *url, const char *ca, long timeout_ms,
    long *status, struct buf *err)
{
	struct buf shown = BUF_INIT;
	CURLcode rc;
	CURL *h;

	*status = 0;
	h = curl_easy_init();
	if (h == NULL)
		BUG("curl_easy_init failed");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE, (long)REMOTE_REPLY_MAX);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, service_remote_discard);
	if (ca != NULL && *ca != '\0')
		curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(h);
	if (rc == CURLE_OK)
		return 0;
	util_redact_url(&shown, url);
	err_set(err, ERR_UNAVAILABLE, "cannot reach '%s': %s", shown.data,
	    curl_easy_strerror(rc));
	buf_release(&shown);
	return ERR_UNAVAILABLE;
}

void
service_remote_close(struct service *svc)
{
	struct service_remote *r = svc->remote;

	if (r == NULL)
		return;
	if (r->http != NULL) {
		http_client_release(r->http);
		free(r->http);
	}
	util_free_secret(r->http_headers);
	if (r->curl != NULL)
		curl_easy_cleanup(r->curl);
	/* The list holds the token: wipe it before it is freed. */
	if (r->headers != NULL) {
		util_wipe(r->headers->data, strlen(r->headers->data));
		curl_slist_free_all(r->headers);
	}
	free(r->url);
	free(r->username);
	free(r->where);
	free(r);
	svc->remote = NULL;
	svc->actor = NULL;
}

int
service_remote_refuse(struct service *svc, const char *what, struct buf *err)
{
	const char *where = svc->remote->where;

	return err_set(err, ERR_INVALID,
	    "%s needs the database itself; the API of %s does not offer it "
	    "(unset %s on the server's machine)",
	    what, where, where);
}

/* ---- tasks ----------------------------------------------------------------
 */

/*
 * Who the token is (GET /api/v1/me, asked once, when a request first
 * needs the name: a bare task name, the default of a list): *username
 * (the token's owner, valid until service_close()), or the error of the
 * request.  Every request is the token's owner's on the server whether
 * or not this was asked; not asking saves a command a round trip.
 */
static int
service_remote_username(struct service *svc, const char **username,
    struct buf *err)
{
	struct service_remote *r = svc->remote;
	struct account me;
	json_t *reply = NULL;
	int ret;

	*username = r->username;
	if (r->username != NULL)
		return 0;
	ret = service_remote_json(svc, "GET", "/api/v1/me", NULL, &reply, err);
	if (ret < 0)
		return ret;
	service_remote_parse_account(reply, &me);
	json_decref(reply);
	if (me.username == NULL || *me.username == '\0') {
		account_release(&me);
		return err_set(err, ERR_UNAVAILABLE,
		    "malformed reply to GET /api/v1/me: no username");
	}
	r->username = me.username;
	me.username = NULL;
	account_release(&me);
	svc->actor = r->username;
	*username = r->username;
	return 0;
}

/* "/api/v1/tasks/<user>/<name>" of the service's task name. */
static int
service_remote_task_path(struct service *svc, struct buf *b, const char *name,
    struct buf *err)
{
	char *user = NULL, *bare = NULL;
	const char *me;
	int ret;

	if (names_split_task(name, &user, &bare) < 0) {
		ret = service_remote_username(svc, &me, err);
		if (ret < 0)
			return ret;
		user = xstrdup(me);
		bare = xstrdup(name);
	}
	buf_adds(b, "/api/v1/tasks/");
	buf_add_percent_encoded(b, user);
	buf_addch(b, '/');
	buf_add_percent_encoded(b, bare);
	free(user);
	free(bare);
	return 0;
}

/* A path as the server must see it: absolute against our directory. */
static json_t *
service_remote_path(const char *path)
{
	char cwd[PATH_MAX];
	struct buf b = BUF_INIT;
	json_t *v;

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return json_string(path);
	buf_addf(&b, "%s/%s", cwd, path);
	v = json_string(b.data);
	buf_release(&b);
	return v;
}

int
service_remote_task_submit(struct service *svc, const struct submit_req *req,
    struct task *out, struct buf *err)
{
	json_t *body = json_object(), *sec = json_array(), *reply = NULL, *p;
	struct buf b = BUF_INIT;
	const char *eq;
	size_t i;
	int ret;

	json_object_set_new(body, "name", json_string(req->name));
	json_object_set_new(body, "command", json_string(req->command));
	if (req->inputs != NULL && req->inputs[0] == '@') {
		/* @LISTFILE: the list's own path made absolute. */
		p = service_remote_path(req->inputs + 1);
		buf_addf(&b, "@%s", json_string_value(p));
		json_decref(p);
		json_object_set_new(body, "inputs", json_string(b.data));
	} else if (req->inputs != NULL) {
		json_object_set_new(body, "inputs",
		    service_remote_path(req->inputs));
	}
	if (req->data != NULL)
		json_object_set_new(body, "data",
		    service_remote_path(req->data));
	for (i = 0; i < req->nsecondary; i++) {
		eq = strchr(req->secondary[i], '=');
		if (eq == NULL || eq[1] == '\0') {
			json_array_append_new(sec,
			    json_string(req->secondary[i]));
			continue;
		}
		buf_reset(&b);
		buf_add(&b, req->secondary[i],
		    (size_t)(eq - req->secondary[i]) + 1);
		p = service_remote_path(eq + 1);
		buf_adds(&b, json_string_value(p));
		json_decref(p);
		json_array_append_new(sec, json_string(b.data));
	}
	json_object_set_new(body, "secondary", sec);
	if (req->image != NULL)
		json_object_set_new(body, "image", json_string(req->image));
	if (req->queue != NULL)
		json_object_set_new(body, "queue", json_string(req->queue));
	json_object_set_new(body, "gpu", json_boolean(req->gpu));
	json_object_set_new(body, "skip_test", json_boolean(req->skip_test));
	if (req->timeout != NULL)
		json_object_set_new(body, "timeout", json_string(req->timeout));
	if (req->retention != NULL)
		json_object_set_new(body, "retention",
		    json_string(req->retention));
	if (req->memory != NULL)
		json_object_set_new(body, "memory", json_string(req->memory));
	if (req->after != NULL)
		json_object_set_new(body, "after", json_string(req->after));
	if (req->after_any != NULL)
		json_object_set_new(body, "after_any",
		    json_string(req->after_any));
	if (req->inputs_of != NULL)
		json_object_set_new(body, "inputs_of",
		    json_string(req->inputs_of));
	ret = service_remote_json(svc, "POST", "/api/v1/tasks", body, &reply,
	    err);
	if (ret == 0)
		ret = service_remote_parse_task(reply, out, err);
	json_decref(body);
	json_decref(reply);
	buf_release(&b);
	return ret;
}

/* The summary of a task of GET /api/v1/tasks: counts, priority, why. */
static int
service_remote_parse_summary(json_t *o, struct task *t, struct buf *err)
{
	return service_json_read(service_task_summary_fields, o, t, err);
}

int
service_remote_task_list(struct service *svc, const struct task_list_req *req,
    task_vec *out, struct buf *err)
{
	struct buf path = BUF_INIT;
	int64_t after = req->after_id, want = req->limit, page;
	json_t *reply = NULL, *arr, *e, *next;
	const char *user = req->user;
	struct task t;
	size_t i;
	int ret = 0;

	/* None: one's own ("*": everyone's, the API's none). */
	if (user == NULL) {
		ret = service_remote_username(svc, &user, err);
		if (ret < 0)
			return ret;
	} else if (strcmp(user, "*") == 0) {
		user = "";
	}
	for (;;) {
		page = want > 0 && want - (int64_t)out->n < REMOTE_PAGE
		    ? want - (int64_t)out->n
		    : REMOTE_PAGE;
		buf_reset(&path);
		buf_adds(&path, "/api/v1/tasks?user=");
		buf_add_percent_encoded(&path, user);
		if (req->status != NULL) {
			buf_adds(&path, "&status=");
			buf_add_percent_encoded(&path, req->status);
		}
		buf_addf(&path, "&after=%lld&limit=%lld", (long long)after,
		    (long long)page);
		ret = service_remote_json(svc, "GET", path.data, NULL, &reply,
		    err);
		if (ret < 0)
			break;
		arr = json_object_get(reply, "tasks");
		json_array_foreach(arr, i, e)
		{
			ret = service_remote_parse_task(e, &t, err);
			if (ret == 0 && req->summary)
				ret = service_remote_parse_summary(e, &t, err);
			VEC_PUSH(out, t);
			if (ret < 0)
				goto out;
		}
		next = json_object_get(reply, "next_after");
		if (!json_is_integer(next) ||
		    (want > 0 && (int64_t)out->n >= want))
			break;
		after = (int64_t)json_integer_value(next);
		json_decref(reply);
		reply = NULL;
	}
out:
	json_decref(reply);
	buf_release(&path);
	return ret;
}

int
service_remote_task_show(struct service *svc, const char *name,
    const char *status, int64_t after_idx, int64_t job_limit,
    struct task_detail *out, struct buf *err)
{
	struct buf base = BUF_INIT, path = BUF_INIT;
	json_t *reply = NULL, *counts, *arr, *e, *next;
	int64_t after = after_idx, page;
	struct job_wait w;
	struct job j;
	size_t i;
	int k, ret;

	ret = service_remote_task_path(svc, &base, name, err);
	if (ret < 0)
		goto out;
	ret = service_remote_json(svc, "GET", base.data, NULL, &reply, err);
	if (ret < 0)
		goto out;
	ret = service_remote_parse_task(reply, &out->task, err);
	if (ret < 0)
		goto out;
	counts = json_object_get(reply, "counts");
	for (k = 0; k < JOB_NSTATUS; k++)
		out->counts[k] = service_remote_int(counts,
		    job_status_name((enum job_status)k), 0);
	while (job_limit >= 0) {
		page = job_limit > 0 &&
		        job_limit - (int64_t)out->jobs.n < REMOTE_PAGE
		    ? job_limit - (int64_t)out->jobs.n
		    : REMOTE_PAGE;
		json_decref(reply);
		buf_reset(&path);
		buf_addf(&path, "%s/jobs?after=%lld&limit=%lld", base.data,
		    (long long)after, (long long)page);
		if (status != NULL)
			buf_addf(&path, "&status=%s", status);
		ret = service_remote_json(svc, "GET", path.data, NULL, &reply,
		    err);
		if (ret < 0)
			goto out;
		arr = json_object_get(reply, "jobs");
		json_array_foreach(arr, i, e)
		{
			ret = service_remote_parse_job(e, &j, &w, err);
			VEC_PUSH(&out->jobs, j);
			if (w.why != NULL)
				VEC_PUSH(&out->waits, w);
			if (ret < 0)
				goto out;
		}
		next = json_object_get(reply, "next_after");
		if (!json_is_integer(next) ||
		    (job_limit > 0 && (int64_t)out->jobs.n >= job_limit))
			break;
		after = (int64_t)json_integer_value(next);
	}
out:
	json_decref(reply);
	buf_release(&base);
	buf_release(&path);
	return ret;
}

/* The integer value of the last reply's header `name`, or `dflt`. */
static int64_t
service_remote_header_int(struct service *svc, const char *name, int64_t dflt)
{
	struct service_remote *r = svc->remote;
	struct curl_header *h = NULL;
	struct buf value = BUF_INIT;
	int64_t v = dflt;

	if (r->http != NULL) {
		if (http_head_get(r->http->head.data, name, &value) == 1 &&
		    util_parse_int64(value.data, 0, INT64_MAX, &v) < 0)
			v = dflt;
		buf_release(&value);
		return v;
	}
	if (curl_easy_header(r->curl, name, 0, CURLH_HEADER, -1, &h) !=
	        CURLHE_OK ||
	    util_parse_int64(h->value, 0, INT64_MAX, &v) < 0)
		return dflt;
	return v;
}

int
service_remote_task_logs(struct service *svc, const char *name,
    const struct job_log_req *req, struct job_log *out, struct buf *err)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	int64_t max = req->max_bytes;
	int ret;

	/* A part of REMOTE_LOG_MAX at most: the caller reads on from `end`. */
	if (max == 0 || max > REMOTE_LOG_MAX)
		max = REMOTE_LOG_MAX;
	ret = service_remote_task_path(svc, &path, name, err);
	if (ret < 0)
		goto out;
	buf_addf(&path, "/jobs/%lld/log?from=%lld&max=%lld",
	    (long long)req->index, (long long)req->from, (long long)max);
	if (req->tail_bytes > 0)
		buf_addf(&path, "&tail=%lld", (long long)req->tail_bytes);
	if (req->tail_lines > 0)
		buf_addf(&path, "&lines=%lld", (long long)req->tail_lines);
	ret = service_remote_call(svc, "GET", path.data, NULL, &text, err);
	if (ret == 0) {
		buf_add(&out->text, text.data, text.len);
		/* What the API says of the part (web/api-task.c). */
		out->end = service_remote_header_int(svc, "Orchestra-Log-End",
		    req->from + (int64_t)text.len);
		out->size = service_remote_header_int(svc, "Orchestra-Log-Size",
		    out->end);
		out->attempt =
		    service_remote_header_int(svc, "Orchestra-Job-Attempt", 0);
		out->ended = service_remote_header_int(svc,
		                 "Orchestra-Job-Ended", 1) != 0;
	}
out:
	buf_release(&path);
	buf_release(&text);
	return ret;
}

int
service_remote_task_signal(struct service *svc, const char *name,
    enum task_signal sig, bool remove_files, struct task *out, struct buf *err)
{
	struct buf path = BUF_INIT;
	const char *method = "POST";
	json_t *reply = NULL, *body = NULL;
	int ret;

	ret = service_remote_task_path(svc, &path, name, err);
	if (ret < 0)
		goto out;
	if (sig == SIGNAL_DELETE) {
		method = "DELETE";
		if (remove_files)
			buf_adds(&path, "?remove_files=true");
	} else {
		buf_addf(&path, "/%s", task_signal_name(sig));
		body = json_object();
	}
	ret = service_remote_json(svc, method, path.data, body, &reply, err);
	if (ret == 0)
		ret = service_remote_parse_task(reply, out, err);
out:
	json_decref(body);
	json_decref(reply);
	buf_release(&path);
	return ret;
}

/* ---- the queue --------------------------------------------------------------
 */

int
service_remote_queue(struct service *svc, const char *queue, const char *user,
    int64_t max_rows, queue_row_vec *out, struct buf *err)
{
	struct buf path = BUF_INIT;
	json_t *reply = NULL, *e, *next;
	int64_t after = 0, page;
	struct queue_row q;
	size_t i;
	int ret;

	/* Every page, to the end or the first `max_rows`. */
	for (;;) {
		page = max_rows > 0 && max_rows - after < REMOTE_PAGE
		    ? max_rows - after
		    : REMOTE_PAGE;
		buf_reset(&path);
		buf_addf(&path, "/api/v1/queue?after=%lld&limit=%lld",
		    (long long)after, (long long)page);
		if (queue != NULL) {
			buf_adds(&path, "&queue=");
			buf_add_percent_encoded(&path, queue);
		}
		if (user != NULL) {
			buf_adds(&path, "&user=");
			buf_add_percent_encoded(&path, user);
		}
		ret = service_remote_json(svc, "GET", path.data, NULL, &reply,
		    err);
		if (ret < 0)
			break;
		json_array_foreach(json_object_get(reply, "queue"), i, e)
		{
			ret = service_remote_parse_queue_row(e, &q, err);
			VEC_PUSH(out, q);
			if (ret < 0)
				goto out;
		}
		next = json_object_get(reply, "next_after");
		if (!json_is_integer(next) ||
		    json_integer_value(next) <= after ||
		    (max_rows > 0 && json_integer_value(next) >= max_rows))
			break;
		after = (int64_t)json_integer_value(next);
		json_decref(reply);
		reply = NULL;
	}
out:
	json_decref(reply);
	buf_release(&path);
	return ret;
}

/*
 * GET a keyset-paged list, `path` (no query) with its rows in `key`: the
 * rows after `after` (NULL from the first; a name or an id in decimal),
 * one page of `limit` (0: every page, REMOTE_PAGE rows a request, to the
 * page whose next_after is null).  `add` appends one row to `out`
 * (also after it fails: the caller releases it).
 */
static int
service_remote_pages(struct service *svc, const char *path, const char *key,
    const char *after, int64_t limit,
    int (*add)(json_t *, void *, struct buf *), void *out, struct buf *err)
{
	struct buf url = BUF_INIT, next = BUF_INIT, prev = BUF_INIT;
	json_t *reply = NULL, *e, *n;
	size_t i;
	int ret;

	if (after != NULL)
		buf_adds(&next, after);
	for (;;) {
		buf_reset(&url);
		buf_addf(&url, "%s?limit=%lld", path,
		    (long long)(limit > 0 ? limit : REMOTE_PAGE));
		if (next.len > 0) {
			buf_adds(&url, "&after=");
			buf_add_percent_encoded(&url, next.data);
		}
		ret = service_remote_json(svc, "GET", url.data, NULL, &reply,
		    err);
		if (ret < 0)
			break;
		json_array_foreach(json_object_get(reply, key), i, e)
		{
			ret = add(e, out, err);
			if (ret < 0)
				break;
		}
		if (ret < 0)
			break;
		n = json_object_get(reply, "next_after");
		if (limit > 0 || (!json_is_string(n) && !json_is_integer(n)))
			break;
		buf_reset(&prev);
		buf_adds(&prev, next.data);
		buf_reset(&next);
		if (json_is_string(n))
			buf_adds(&next, json_string_value(n));
		else
			buf_addf(&next, "%lld",
			    (long long)json_integer_value(n));
		/* A page that leads to itself would never end. */
		if (strcmp(next.data, prev.data) == 0) {
			ret = err_set(err, ERR_UNAVAILABLE,
			    "malformed reply to GET %s: next_after repeats "
			    "the page's own start",
			    path);
			break;
		}
		json_decref(reply);
		reply = NULL;
	}
	json_decref(reply);
	buf_release(&url);
	buf_release(&next);
	buf_release(&prev);
	return ret;
}

/* ---- nodes ------------------------------------------------------------------
 */

static int
service_remote_add_node(json_t *e, void *out, struct buf *err)
{
	struct node n;
	int ret;

	ret = service_remote_parse_node(e, &n, err);
	VEC_PUSH((node_vec *)out, n);
	return ret;
}

/* `path` with the query of `f` (all but `by`). */
static void
service_remote_history_path(struct buf *path, const char *path0,
    const struct history_filter *f)
{
	buf_addf(path, "%s?since=%lld&until=%lld", path0,
	    (long long)f->since_ms, (long long)f->until_ms);
	if (f->user != NULL) {
		buf_adds(path, "&user=");
		buf_add_percent_encoded(path, f->user);
	}
	if (f->task != NULL) {
		buf_adds(path, "&task=");
		buf_add_percent_encoded(path, f->task);
	}
	if (f->has_status)
		buf_addf(path, "&state=%s", job_status_name(f->status));
}

int
service_remote_history(struct service *svc, const struct history_filter *f,
    history_total_vec *out, struct buf *err)
{
	struct buf path = BUF_INIT;
	json_t *reply = NULL;
	int ret;

	service_remote_history_path(&path, "/api/v1/history/totals", f);
	buf_addf(&path, "&by=%s", history_by_name(f->by));
	ret = service_remote_json(svc, "GET", path.data, NULL, &reply, err);
	if (ret == 0)
		ret = service_json_history_read(reply, out, err);
	json_decref(reply);
	buf_release(&path);
	return ret;
}

int
service_remote_history_runs(struct service *svc, const struct history_filter *f,
    int64_t after, int64_t max_rows, history_run_vec *out, struct buf *err)
{
	struct buf path = BUF_INIT;
	json_t *reply = NULL, *n;
	int64_t want;
	size_t had;
	int ret;

	for (;;) {
		want = REMOTE_PAGE;
		if (max_rows > 0 && max_rows - (int64_t)out->n < want)
			want = max_rows - (int64_t)out->n;
		buf_reset(&path);
		service_remote_history_path(&path, "/api/v1/history", f);
		buf_addf(&path, "&after=%lld&limit=%lld", (long long)after,
		    (long long)want);
		ret = service_remote_json(svc, "GET", path.data, NULL, &reply,
		    err);
		if (ret < 0)
			break;
		had = out->n;
		ret = service_json_history_runs_read(reply, out, err);
		if (ret < 0)
			break;
		n = json_object_get(reply, "next_after");
		if (!json_is_integer(n) ||
		    (max_rows > 0 && (int64_t)out->n >= max_rows))
			break;
		/* A page that leads to itself would never end. */
		if (out->n == had || json_integer_value(n) <= after) {
			ret = err_set(err, ERR_UNAVAILABLE,
			    "malformed reply to GET /api/v1/history: "
			    "next_after does not move on");
			break;
		}
		after = json_integer_value(n);
		json_decref(reply);
		reply = NULL;
	}
	json_decref(reply);
	buf_release(&path);
	return ret;
}

int
service_remote_node_list(struct service *svc, const char *after, int64_t limit,
    node_vec *out, struct buf *err)
{
	return service_remote_pages(svc, "/api/v1/nodes", "nodes", after, limit,
	    service_remote_add_node, out, err);
}

/* PATCH (o non-NULL), or POST drain/resume. */
int
service_remote_node_change(struct service *svc, const char *name,
    const struct node_opts *o, bool enabled, struct node *out, struct buf *err)
{
	struct buf path = BUF_INIT;
	json_t *body = json_object(), *reply = NULL;
	const char *method = "PATCH";
	int ret;

	buf_adds(&path, "/api/v1/nodes/");
	buf_add_percent_encoded(&path, name);
	if (o == NULL) {
		method = "POST";
		buf_adds(&path, enabled ? "/resume" : "/drain");
	} else {
		json_decref(body);
		body = service_json_opts_write(service_node_fields,
		    SERVICE_FIELD_UPDATE, o);
	}
	ret = service_remote_json(svc, method, path.data, body, &reply, err);
	if (ret == 0)
		ret = service_remote_parse_node(reply, out, err);
	json_decref(body);
	json_decref(reply);
	buf_release(&path);
	return ret;
}

/* ---- users and tokens -------------------------------------------------------
 */

static int
service_remote_add_account(json_t *e, void *out, struct buf *err)
{
	struct account a;

	(void)err;
	service_remote_parse_account(e, &a);
	VEC_PUSH((account_vec *)out, a);
	return 0;
}

int
service_remote_user_list(struct service *svc, const char *after, int64_t limit,
    account_vec *out, struct buf *err)
{
	return service_remote_pages(svc, "/api/v1/users", "users", after, limit,
	    service_remote_add_account, out, err);
}

/* GET (o NULL), PATCH (name given, o), or POST /users (add). */
int
service_remote_user(struct service *svc, const char *method, const char *name,
    const struct user_opts *o, struct account *out, struct buf *err)
{
	struct buf path = BUF_INIT;
	json_t *body = NULL, *reply = NULL, *fields;
	int ret;

	if (o != NULL && o->kubernetes)
		return service_remote_refuse(svc, "user add --kubernetes", err);
	buf_adds(&path, "/api/v1/users");
	if (strcmp(method, "POST") != 0) {
		buf_addch(&path, '/');
		buf_add_percent_encoded(&path, name);
	}
	if (o != NULL) {
		body = json_object();
		if (strcmp(method, "POST") == 0)
			json_object_set_new(body, "username",
			    json_string(name));
		fields = service_json_opts_write(service_account_fields,
		    strcmp(method, "POST") == 0 ? SERVICE_FIELD_CREATE
		                                : SERVICE_FIELD_UPDATE,
		    o);
		json_object_update(body, fields);
		json_decref(fields);
	}
	ret = service_remote_json(svc, method, path.data, body, &reply, err);
	if (ret == 0)
		service_remote_parse_account(reply, out);
	json_decref(body);
	json_decref(reply);
	buf_release(&path);
	return ret;
}

/* The API serves only the token owner's own tokens (/api/v1/me). */
static int
service_remote_self(struct service *svc, const char *user, struct buf *err)
{
	const char *me;
	int ret;

	ret = service_remote_username(svc, &me, err);
	if (ret < 0 || strcmp(user, me) == 0)
		return ret;
	return err_set(err, ERR_DENIED,
	    "through %s only your own tokens (user '%s') can be managed, not "
	    "those of user '%s'",
	    svc->remote->where, me, user);
}

int
service_remote_token_issue(struct service *svc, const char *user,
    int64_t expires_in_ms, struct token *out, struct buf *secret,
    struct buf *err)
{
	json_t *body = json_object(), *reply = NULL;
	struct buf dur = BUF_INIT;
	const char *s;
	int ret;

	ret = service_remote_self(svc, user, err);
	if (ret < 0)
		goto out;
	if (expires_in_ms > 0) {
		time_format_duration(&dur, expires_in_ms);
		json_object_set_new(body, "expires", json_string(dur.data));
	}
	ret = service_remote_json(svc, "POST", "/api/v1/me/tokens", body,
	    &reply, err);
	if (ret < 0)
		goto out;
	service_remote_parse_token(reply, out);
	s = json_string_value(json_object_get(reply, "token"));
	if (s == NULL) {
		ret = err_set(err, ERR_UNAVAILABLE,
		    "malformed reply to POST /api/v1/me/tokens: no token");
		goto out;
	}
	buf_adds(secret, s);
	/* Wipe the reply's copy of the secret. */
	util_wipe((char *)s, strlen(s));
out:
	json_decref(body);
	json_decref(reply);
	buf_release(&dur);
	return ret;
}

static int
service_remote_add_token(json_t *e, void *out, struct buf *err)
{
	struct token t;

	(void)err;
	service_remote_parse_token(e, &t);
	VEC_PUSH((token_vec *)out, t);
	return 0;
}

int
service_remote_token_list(struct service *svc, const char *user,
    int64_t after_id, int64_t limit, token_vec *out, struct buf *err)
{
	struct buf after = BUF_INIT;
	int ret;

	ret = service_remote_self(svc, user, err);
	if (ret < 0)
		return ret;
	if (after_id > 0)
		buf_addf(&after, "%lld", (long long)after_id);
	ret = service_remote_pages(svc, "/api/v1/me/tokens", "tokens",
	    after.len > 0 ? after.data : NULL, limit, service_remote_add_token,
	    out, err);
	buf_release(&after);
	return ret;
}

int
service_remote_token_revoke(struct service *svc, const char *user, int64_t id,
    struct token *out, struct buf *err)
{
	struct buf path = BUF_INIT;
	json_t *reply = NULL;
	int ret;

	ret = service_remote_self(svc, user, err);
	if (ret == 0) {
		buf_addf(&path, "/api/v1/me/tokens/%lld", (long long)id);
		ret = service_remote_json(svc, "DELETE", path.data, NULL,
		    &reply, err);
	}
	if (ret == 0)
		service_remote_parse_token(reply, out);
	json_decref(reply);
	buf_release(&path);
	return ret;
}

/* Another user's too, for an admin: the server checks. */
int
service_remote_token_revoke_all(struct service *svc, const char *user,
    int64_t *ntokens, int64_t *nsessions, struct buf *err)
{
	struct buf path = BUF_INIT;
	json_t *reply = NULL;
	int ret;

	buf_adds(&path, "/api/v1/users/");
	buf_add_percent_encoded(&path, user);
	buf_adds(&path, "/tokens");
	ret = service_remote_json(svc, "DELETE", path.data, NULL, &reply, err);
	if (ret == 0) {
		*ntokens = service_remote_int(reply, "tokens_revoked", 0);
		*nsessions = service_remote_int(reply, "sessions_ended", 0);
	}
	json_decref(reply);
	buf_release(&path);
	return ret;
}

/* GET /api/v1/pilot: the pilot's heartbeat, as the server read it. */
int
service_remote_pilot(struct service *svc, struct pilot_beat *out,
    struct buf *err)
{
	json_t *reply = NULL;
	const char *s;
	int ret;

	memset(out, 0, sizeof(*out));
	ret =
	    service_remote_json(svc, "GET", "/api/v1/pilot", NULL, &reply, err);
	if (ret < 0)
		return ret;
	s = json_string_value(json_object_get(reply, "host"));
	out->known = s != NULL;
	snprintf(out->host, sizeof(out->host), "%s", s ? s : "");
	out->pid = json_integer_value(json_object_get(reply, "pid"));
	out->interval_ms =
	    json_integer_value(json_object_get(reply, "interval_ms"));
	out->started_ms =
	    service_json_read_time(json_object_get(reply, "started"));
	out->last_cycle_ms =
	    service_json_read_time(json_object_get(reply, "last_cycle"));
	out->stopped_ms =
	    service_json_read_time(json_object_get(reply, "stopped"));
	json_decref(reply);
	return 0;
}

/* GET /api/v1/status: the server's `orchestra status`. */
int
service_remote_status(struct service *svc, json_t **out, struct buf *err)
{
	return service_remote_json(svc, "GET", "/api/v1/status", NULL, out,
	    err);
}
