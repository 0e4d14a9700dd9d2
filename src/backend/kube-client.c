/*
 * kube-client.c - a good client of a shared API server: one connection
 * kept alive (libcurl's connection cache on one easy handle), a token
 * bucket in front of every request (client-go's QPS and burst), a time
 * limit on each, and 429 Retry-After honoured.  Orchestra must never be
 * the reason the lab's API server is slow.
 */
#include <curl/curl.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "backend/kube-int.h"

/* Replies larger than this are refused (a list of every Job is far less). */
#define KUBE_REPLY_MAX (64 << 20)
/* The longest Retry-After we wait out within one request. */
#define KUBE_RETRY_AFTER_MAX 10

struct kube_client {
	CURL *curl;
	struct kube_config kc;
	double qps;
	double burst;
	double tokens;
	int64_t last_ns;
	long timeout_ms;
	int64_t nrequests;
};

static char *
kube_dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void
kube_config_copy(struct kube_config *to, const struct kube_config *from)
{
	to->server = kube_dup(from->server);
	to->ca_pem = kube_dup(from->ca_pem);
	to->ca_file = kube_dup(from->ca_file);
	to->cert_pem = kube_dup(from->cert_pem);
	to->cert_file = kube_dup(from->cert_file);
	to->key_pem = kube_dup(from->key_pem);
	to->key_file = kube_dup(from->key_file);
	to->token = kube_dup(from->token);
	to->token_file = kube_dup(from->token_file);
	to->insecure = from->insecure;
	to->namespace = kube_dup(from->namespace);
	to->source = kube_dup(from->source);
}

/* What every handle of ours needs: https only, the CA, the client's
 * certificate and key. */
static void
kube_setup_tls(CURL *h, const struct kube_config *kc)
{
	struct curl_blob blob;

	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	/* The API server's audit log says who asked. */
	curl_easy_setopt(h, CURLOPT_USERAGENT, "orchestra/" ORCHESTRA_VERSION);
	if (kc->ca_pem != NULL) {
		blob.data = kc->ca_pem;
		blob.len = strlen(kc->ca_pem);
		blob.flags = CURL_BLOB_COPY;
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	} else if (kc->ca_file != NULL) {
		curl_easy_setopt(h, CURLOPT_CAINFO, kc->ca_file);
	}
	if (kc->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (kc->cert_pem != NULL) {
		blob.data = kc->cert_pem;
		blob.len = strlen(kc->cert_pem);
		blob.flags = CURL_BLOB_COPY;
		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &blob);
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
	} else if (kc->cert_file != NULL) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, kc->cert_file);
	}
	if (kc->key_pem != NULL) {
		blob.data = kc->key_pem;
		blob.len = strlen(kc->key_pem);
		blob.flags = CURL_BLOB_COPY;
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &blob);
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (kc->key_file != NULL) {
		curl_easy_setopt(h, CURLOPT_SSLKEY, kc->key_file);
	}
}

int
kube_client_new(struct kube_client **out, const struct kube_config *kc,
    double qps, int burst, long timeout_ms, struct buf *err)
{
	static bool global_done;
	struct kube_client *c;

	*out = NULL;
	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return err_set(err, ERR_UNAVAILABLE,
			    "cannot initialise libcurl");
		global_done = true;
	}
	c = xcalloc(1, sizeof(*c));
	c->curl = curl_easy_init();
	if (c->curl == NULL) {
		free(c);
		return err_set(err, ERR_UNAVAILABLE,
		    "cannot make a curl handle");
	}
	kube_config_copy(&c->kc, kc);
	c->qps = qps > 0 ? qps : KUBE_DEFAULT_QPS;
	c->burst = burst > 0 ? burst : KUBE_DEFAULT_BURST;
	c->tokens = c->burst;
	c->last_ns = time_mono_ns();
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : KUBE_DEFAULT_TIMEOUT_MS;
	kube_setup_tls(c->curl, &c->kc);
	*out = c;
	return 0;
}

void
kube_client_free(struct kube_client *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->curl);
	kube_config_release(&c->kc);
	free(c);
}

int64_t
kube_client_requests(const struct kube_client *c)
{
	return c->nrequests;
}

static void
kube_sleep_ns(int64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000),
		(long)(ns % 1000000000) };

	while (nanosleep(&ts, &ts) < 0)
		;
}

void
kube_backoff(int tries)
{
	int64_t ms = 200LL << (tries < 5 ? tries - 1 : 4);

	/* Up to a quarter more, so that many clients do not retry as one. */
	kube_sleep_ns((ms + time_mono_ns() / 1000 % (ms / 4 + 1)) * 1000000);
}

/* The bucket filled up to now. */
static void
kube_refill(struct kube_client *c)
{
	int64_t now = time_mono_ns();

	c->tokens += (double)(now - c->last_ns) / 1e9 * c->qps;
	if (c->tokens > c->burst)
		c->tokens = c->burst;
	c->last_ns = now;
}

int
kube_client_spare(struct kube_client *c)
{
	double spare;

	kube_refill(c);
	spare = c->tokens - (double)(int)(c->burst / 2);
	return spare >= 1 ? (int)spare : 0;
}

/* Wait for a token of the bucket. */
static void
kube_pace(struct kube_client *c)
{
	kube_refill(c);
	if (c->tokens < 1) {
		kube_sleep_ns((int64_t)((1 - c->tokens) / c->qps * 1e9));
		c->tokens = 1;
		c->last_ns = time_mono_ns();
	}
	c->tokens -= 1;
}

static size_t
kube_write(char *data, size_t size, size_t n, void *user)
{
	struct buf *b = user;

	buf_add(b, data, size * n);
	return b->truncated ? 0 : size * n;
}

/* Free request headers, one of which may hold the token: wiped first. */
static void
kube_headers_free(struct curl_slist *headers)
{
	struct curl_slist *h;

	for (h = headers; h != NULL; h = h->next)
		util_wipe(h->data, strlen(h->data));
	curl_slist_free_all(headers);
}

/* The bearer token: the file's (re-read each time: tokens rotate). */
static int
kube_token(struct kube_client *c, struct buf *out, struct buf *err)
{
	char chunk[4096];
	size_t n;
	FILE *f;

	if (c->kc.token_file == NULL) {
		if (c->kc.token != NULL)
			buf_adds(out, c->kc.token);
		return 0;
	}
	f = fopen(c->kc.token_file, "re");
	if (f == NULL)
		return err_set(err, ERR_UNAVAILABLE,
		    "cannot read the token file '%s'", c->kc.token_file);
	out->cap_limit = 64 << 10;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(out, chunk, n);
	util_wipe(chunk, sizeof(chunk));
	fclose(f);
	while (out->len > 0 &&
	    (out->data[out->len - 1] == '\n' ||
	        out->data[out->len - 1] == '\r'))
		out->data[--out->len] = '\0';
	return 0;
}

/*
 * curl's failure, in the terms of the settings: a server whose certificate
 * the CA does not vouch for, or a client certificate, key or CA that cannot
 * be used, names the kubeconfig to look at.  curl's messages name the
 * host, never the header.  True when trying again cannot help.
 */
static bool
kube_curl_error(const struct kube_client *c, CURLcode rc, const char *method,
    const char *path, const char *errbuf, struct buf *err)
{
	const char *why = *errbuf ? errbuf : curl_easy_strerror(rc);

	if (rc == CURLE_PEER_FAILED_VERIFICATION) {
		err_set(err, ERR_UNAVAILABLE,
		    "kubernetes: the API server %s is not trusted: its "
		    "certificate is not signed by the certificate-authority of "
		    "%s, or not for this address (%s)",
		    c->kc.server, c->kc.source, why);
		return true;
	}
	if (rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE) {
		err_set(err, ERR_UNAVAILABLE,
		    "kubernetes: the client certificate, key or CA of %s "
		    "cannot be used (%s)",
		    c->kc.source, why);
		return true;
	}
	err_set(err, ERR_UNAVAILABLE, "kubernetes %s %s: %s", method, path,
	    why);
	return false;
}

int
kube_status_error(const struct kube_client *c, struct buf *err,
    const char *what, long status, json_t *reply)
{
	const char *msg = json_string_value(json_object_get(reply, "message"));

	if (status == 401)
		return err_set(err, ERR_UNAVAILABLE,
		    "kubernetes: the API server refused the credentials of %s "
		    "(401 Unauthorized: a wrong or expired token, or a client "
		    "certificate it does not trust)",
		    c->kc.source);
	return err_set(err,
	    status >= 400 && status < 500 && status != 429 ? ERR_INVALID
	                                                   : ERR_UNAVAILABLE,
	    "kubernetes: %s: %ld %s", what, status, msg ? msg : "");
}

/* The request itself; the raw reply in `out` (capped at `cap`). */
static int
kube_perform(struct kube_client *c, const char *method, const char *path,
    const json_t *body, long *status, struct buf *out, size_t cap,
    struct buf *err)
{
	struct curl_slist *headers = NULL;
	struct buf url = BUF_INIT, auth = BUF_INIT, token = BUF_INIT;
	char errbuf[CURL_ERROR_SIZE] = "";
	char *text = NULL;
	curl_off_t retry_after = 0;
	CURLcode rc = CURLE_OK;
	int tries, ret = ERR_UNAVAILABLE;

	*status = 0;
	ret = kube_token(c, &token, err);
	if (ret < 0)
		goto out;
	ret = ERR_UNAVAILABLE;
	buf_addf(&url, "%s%s", c->kc.server, path);
	headers = curl_slist_append(headers, "Accept: application/json");
	if (token.len > 0) {
		buf_addf(&auth, "Authorization: Bearer %s", token.data);
		headers = curl_slist_append(headers, auth.data);
	}
	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		/* A PATCH's body is a JSON merge patch (RFC 7386). */
		headers = curl_slist_append(headers,
		    strcmp(method, "PATCH") == 0
		        ? "Content-Type: application/merge-patch+json"
		        : "Content-Type: application/json");
	}
	curl_easy_setopt(c->curl, CURLOPT_URL, url.data);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, text);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE,
	    text ? (long)strlen(text) : 0L);
	if (text == NULL)
		curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, kube_write);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, out);
	for (tries = 1;; tries++) {
		buf_reset(out);
		buf_reset(err);
		out->cap_limit = cap;
		kube_pace(c);
		c->nrequests++;
		*status = 0;
		errbuf[0] = '\0';
		rc = curl_easy_perform(c->curl);
		if (rc == CURLE_OK)
			curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE,
			    status);
		if (rc == CURLE_OK && *status == 429 && tries < KUBE_TRIES) {
			/* Told how long to wait: wait that long (bounded). */
			retry_after = 0;
			curl_easy_getinfo(c->curl, CURLINFO_RETRY_AFTER,
			    &retry_after);
			if (retry_after > KUBE_RETRY_AFTER_MAX)
				break;
			kube_sleep_ns(
			    (int64_t)(retry_after > 0 ? retry_after : 1) *
			    1000000000);
			continue;
		}
		if (rc == CURLE_OK && *status < 500)
			break;
		/* 5xx, a timeout, a dropped connection: again after a while,
		 * unless this is a create (its caller checks by name first). */
		if (rc != CURLE_OK &&
		    kube_curl_error(c, rc, method, path, errbuf, err))
			break;
		if (strcmp(method, "POST") == 0 || tries >= KUBE_TRIES)
			break;
		kube_backoff(tries);
	}
	if (rc != CURLE_OK)
		goto out;
	ret = 0;
out:
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
	kube_headers_free(headers);
	free(text);
	buf_release_secret(&auth);
	buf_release_secret(&token);
	buf_release(&url);
	return ret;
}

int
kube_request(struct kube_client *c, const char *method, const char *path,
    const json_t *body, long *status, json_t **reply, struct buf *err)
{
	struct buf out = BUF_INIT;
	int ret;

	*reply = NULL;
	ret = kube_perform(c, method, path, body, status, &out, KUBE_REPLY_MAX,
	    err);
	if (ret == 0 && out.len > 0)
		*reply = json_loadb(out.data, out.len, 0, NULL);
	buf_release(&out);
	return ret;
}

int
kube_request_text(struct kube_client *c, const char *path, long *status,
    struct buf *out, struct buf *err)
{
	struct buf text = BUF_INIT;
	int ret;

	ret = kube_perform(c, "GET", path, NULL, status, &text, 1 << 20, err);
	if (ret == 0)
		buf_add(out, text.data, text.len);
	buf_release(&text);
	return ret;
}

/* ---- a watch: one streaming GET, driven by the pilot's poll() ---------- */

struct kube_watch {
	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	int epfd;        /* readable when a socket of the transfer is */
	struct buf line; /* the event being read */
	json_t *events;  /* read, not yet handed out */
	long status;     /* the HTTP status, once done */
	bool done;
};

static int
kube_watch_socket(CURL *easy, curl_socket_t fd, int what, void *user,
    void *sockp)
{
	struct kube_watch *w = user;
	struct epoll_event ev = { 0 };

	(void)easy;
	(void)sockp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) |
	    (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	ev.data.fd = fd;
	if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
	return 0;
}

/* Events are JSON objects, one a line. */
static size_t
kube_watch_write(char *data, size_t size, size_t n, void *user)
{
	struct kube_watch *w = user;
	size_t len = size * n, i;
	json_t *ev;

	for (i = 0; i < len; i++) {
		if (data[i] != '\n') {
			buf_addch(&w->line, data[i]);
			continue;
		}
		ev = json_loadb(w->line.data, w->line.len, 0, NULL);
		if (ev != NULL)
			json_array_append_new(w->events, ev);
		buf_reset(&w->line);
	}
	/* A line longer than any event: drop the stream. */
	return w->line.truncated ? 0 : len;
}

/* Move the transfer on: wait up to `timeout_ms` for its sockets. */
static void
kube_watch_step(struct kube_watch *w, int timeout_ms)
{
	struct epoll_event evs[8];
	int n, k, running, flags;

	n = epoll_wait(w->epfd, evs, 8, timeout_ms);
	for (k = 0; k < n; k++) {
		flags = (evs[k].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
		    (evs[k].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
		    (evs[k].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR
		                                           : 0);
		curl_multi_socket_action(w->multi, evs[k].data.fd, flags,
		    &running);
	}
	curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
}

int
kube_watch_start(struct kube_client *c, const char *path,
    struct kube_watch **out, struct buf *err)
{
	struct kube_watch *w;
	struct buf url = BUF_INIT, auth = BUF_INIT, token = BUF_INIT;
	int64_t deadline, left;
	long code;
	int running, ret;

	*out = NULL;
	ret = kube_token(c, &token, err);
	if (ret < 0)
		return ret;
	w = xcalloc(1, sizeof(*w));
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->multi = curl_multi_init();
	w->easy = curl_easy_init();
	w->events = json_array();
	buf_init(&w->line);
	w->line.cap_limit = KUBE_REPLY_MAX;
	if (w->epfd < 0 || w->multi == NULL || w->easy == NULL) {
		kube_watch_free(w);
		buf_release_secret(&token);
		return err_set(err, ERR_UNAVAILABLE, "cannot start a watch");
	}
	kube_setup_tls(w->easy, &c->kc);
	buf_addf(&url, "%s%s", c->kc.server, path);
	curl_easy_setopt(w->easy, CURLOPT_URL, url.data);
	w->headers = curl_slist_append(NULL, "Accept: application/json");
	if (token.len > 0) {
		buf_addf(&auth, "Authorization: Bearer %s", token.data);
		w->headers = curl_slist_append(w->headers, auth.data);
	}
	buf_release_secret(&auth);
	buf_release_secret(&token);
	curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, w->headers);
	curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, kube_watch_write);
	curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(w->easy, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
	/* A peer gone without a word is found out (bookmarks keep it busy). */
	curl_easy_setopt(w->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(w->easy, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, kube_watch_socket);
	curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
	curl_multi_add_handle(w->multi, w->easy);
	kube_pace(c);
	c->nrequests++;
	curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	/*
	 * Connect, shake hands and send here, until the answer's head came:
	 * the caller drives the stream only when it waits, which may be
	 * long after a busy cycle, and the connection must not time out
	 * meanwhile.  The end of a failed one is for kube_watch_drain().
	 */
	deadline = time_mono_ns() + (int64_t)c->timeout_ms * 1000000;
	code = 0;
	while (running > 0 && code == 0 &&
	    (left = deadline - time_mono_ns()) > 0) {
		kube_watch_step(w, (int)(left / 1000000) + 1);
		curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &code);
		curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
	}
	buf_release(&url);
	*out = w;
	return 0;
}

long
kube_watch_status(const struct kube_watch *w)
{
	return w->status;
}

int
kube_watch_fd(struct kube_watch *w)
{
	return w->epfd;
}

int
kube_watch_drain(struct kube_watch *w, void (*on_event)(void *ctx, json_t *ev),
    void *ctx)
{
	CURLMsg *msg;
	json_t *ev;
	size_t i;
	int left;

	kube_watch_step(w, 0);
	json_array_foreach(w->events, i, ev) on_event(ctx, ev);
	json_array_clear(w->events);
	while ((msg = curl_multi_info_read(w->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		w->done = true;
		if (msg->data.result == CURLE_OK)
			curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE,
			    &w->status);
		/* A last line without its newline (a Status, say). */
		ev = json_loadb(w->line.data, w->line.len, 0, NULL);
		if (ev != NULL)
			on_event(ctx, ev);
		json_decref(ev);
		buf_reset(&w->line);
	}
	return w->done ? 0 : 1;
}

void
kube_watch_free(struct kube_watch *w)
{
	if (w == NULL)
		return;
	if (w->multi != NULL && w->easy != NULL)
		curl_multi_remove_handle(w->multi, w->easy);
	curl_easy_cleanup(w->easy);
	curl_multi_cleanup(w->multi);
	kube_headers_free(w->headers);
	if (w->epfd >= 0)
		close(w->epfd);
	json_decref(w->events);
	buf_release(&w->line);
	free(w);
}
