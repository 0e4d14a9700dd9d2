/*
 * smtp.c - one mail at a time over SMTP, through libcurl, reusing the
 * connection from one mail to the next.
 */
#include <curl/curl.h>

#include "notify/notify.h"

struct smtp {
	CURL *h;
	char *url;
	char *from; /* "<addr>" for MAIL FROM */
	char *ca;   /* NULL: the system's CAs */
	bool login; /* the URL carries a user: never without TLS */
	/* The message being uploaded. */
	const char *msg;
	size_t len, off;
};

static bool smtp_global_done;

struct smtp *
smtp_new(const char *url, const char *from, const char *ca)
{
	struct smtp *s = xcalloc(1, sizeof(*s));
	struct buf b = BUF_INIT;
	const char *auth, *at;

	if (!smtp_global_done) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		smtp_global_done = true;
	}
	s->url = xstrdup(url);
	s->ca = ca != NULL && *ca != '\0' ? xstrdup(ca) : NULL;
	buf_addf(&b, "<%s>", from);
	s->from = buf_detach(&b);
	auth = strstr(url, "://");
	auth = auth != NULL ? auth + 3 : url;
	at = strchr(auth, '@');
	s->login = at != NULL && at < auth + strcspn(auth, "/?#");
	return s;
}

void
smtp_free(struct smtp *s)
{
	if (s == NULL)
		return;
	if (s->h != NULL)
		curl_easy_cleanup(s->h);
	free(s->url);
	free(s->from);
	free(s->ca);
	free(s);
}

static size_t
smtp_read(char *out, size_t size, size_t n, void *arg)
{
	struct smtp *s = arg;
	size_t want = size * n, left = s->len - s->off;

	if (want > left)
		want = left;
	memcpy(out, s->msg + s->off, want);
	s->off += want;
	return want;
}

static bool
smtp_is_server_fault(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_LOGIN_DENIED:
	case CURLE_AUTH_ERROR:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_GOT_NOTHING:
		return true;
	default:
		return false;
	}
}

int
smtp_send(struct smtp *s, const char *rcpt, const char *msg, struct buf *err)
{
	struct curl_slist *rcpts = NULL;
	struct buf to = BUF_INIT, where = BUF_INIT;
	char errbuf[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode rc;
	int ret;

	if (s->h == NULL)
		s->h = curl_easy_init();
	if (s->h == NULL)
		return err_set(err, ERR_UNAVAILABLE,
		    "cannot make a curl handle");
	buf_addf(&to, "<%s>", rcpt);
	rcpts = curl_slist_append(NULL, to.data);
	s->msg = msg;
	s->len = strlen(msg);
	s->off = 0;
	curl_easy_setopt(s->h, CURLOPT_URL, s->url);
	curl_easy_setopt(s->h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(s->h, CURLOPT_USE_SSL,
	    s->login ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
	if (s->ca != NULL)
		curl_easy_setopt(s->h, CURLOPT_CAINFO, s->ca);
	curl_easy_setopt(s->h, CURLOPT_MAIL_FROM, s->from);
	curl_easy_setopt(s->h, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(s->h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(s->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)s->len);
	curl_easy_setopt(s->h, CURLOPT_READFUNCTION, smtp_read);
	curl_easy_setopt(s->h, CURLOPT_READDATA, s);
	curl_easy_setopt(s->h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, errbuf);
	rc = curl_easy_perform(s->h);
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_setopt(s->h, CURLOPT_MAIL_RCPT, NULL);
	curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(rcpts);
	s->msg = NULL;
	if (rc == CURLE_OK) {
		ret = 0;
		goto out;
	}
	util_redact_url(&where, s->url);
	/*
	 * The connection, its TLS or its login failed, or MAIL FROM was
	 * refused (530 authentication required, a sender the server will not
	 * take): no one mail's fault, every mail waits.  A refusal of RCPT
	 * TO, DATA or the message itself is this mail's.
	 */
	if (smtp_is_server_fault(rc) || strncmp(errbuf, "MAIL failed", 11) == 0)
		ret = ERR_UNAVAILABLE;
	else if (code >= 500 && code < 600)
		ret = ERR_INVALID;
	else if (code >= 400 && code < 500)
		ret = ERR_CONFLICT;
	else
		ret = ERR_UNAVAILABLE;
	err_set(err, ret, "smtp %s: %s%s", where.data,
	    *errbuf != '\0' ? errbuf : curl_easy_strerror(rc),
	    code > 0 ? "" : " (no answer)");
	if (code > 0)
		buf_addf(err, " (server said %ld)", code);
	if (ret == ERR_UNAVAILABLE) {
		/* Start afresh next time: the connection may be dead. */
		curl_easy_cleanup(s->h);
		s->h = NULL;
	}
out:
	buf_release(&to);
	buf_release(&where);
	return ret;
}

/* NOOP's answer, which curl hands over as a body. */
static size_t
smtp_discard(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return size * n;
}

int
smtp_check(struct smtp *s, struct buf *err)
{
	struct buf where = BUF_INIT;
	char errbuf[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode rc;
	CURL *h;

	h = curl_easy_init();
	if (h == NULL)
		return err_set(err, ERR_UNAVAILABLE,
		    "cannot make a curl handle");
	/*
	 * With no recipient and no upload, curl greets, says EHLO, makes
	 * STARTTLS and logs in as for a mail, then sends the custom command:
	 * NOOP, which sends nothing.
	 */
	curl_easy_setopt(h, CURLOPT_URL, s->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_USE_SSL,
	    s->login ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
	if (s->ca != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, s->ca);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "NOOP");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, smtp_discard);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	if (rc == CURLE_OK)
		return 0;
	util_redact_url(&where, s->url);
	err_set(err, ERR_UNAVAILABLE, "smtp %s: %s", where.data,
	    *errbuf != '\0' ? errbuf : curl_easy_strerror(rc));
	if (code > 0)
		buf_addf(err, " (server said %ld)", code);
	buf_release(&where);
	return ERR_UNAVAILABLE;
}
