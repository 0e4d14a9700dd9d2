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
	bool login; /* the URL carries a user: never without TLS */
	/* The message being uploaded. */
	const char *msg;
	size_t len, off;
};

static bool smtp_global_done;

struct smtp *
smtp_new(const char *url, const char *from)
{
	struct smtp *s = xcalloc(1, sizeof(*s));
	struct buf b = BUF_INIT;
	const char *auth, *at;

	if (!smtp_global_done) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		smtp_global_done = true;
	}
	s->url = xstrdup(url);
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
		return err_set(err, ERR_UNAVAILABLE, "cannot make a curl handle");
	buf_addf(&to, "<%s>", rcpt);
	rcpts = curl_slist_append(NULL, to.data);
	s->msg = msg;
	s->len = strlen(msg);
	s->off = 0;
	curl_easy_setopt(s->h, CURLOPT_URL, s->url);
	curl_easy_setopt(s->h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(s->h, CURLOPT_USE_SSL,
	    s->login ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
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
	if (code >= 500 && code < 600)
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
