/*
 * mail.c - the text of Orchestra's mails and the message put on the wire.
 *
 * Subjects and bodies are made here from what the store read; the whole
 * message (headers, then body) is made by mail_format() just before it is
 * sent.  Header injection is closed in three places: every address is
 * checked by address_check() (no CR, LF, ',', '<' …), a subject that is
 * not plain printable ASCII is sent as RFC 2047 encoded words (base64, so
 * no CR or LF can reach the header), and the body's line ends are made
 * CRLF with no bare CR left.  The recipient is never read from a header:
 * the sender passes it to SMTP's RCPT TO itself.
 */
#include "core/core.h"

#define MAIL_SUBJECT_PLAIN_MAX 200
#define MAIL_WORD_BYTES 45 /* 60 base64 characters an encoded word */

static void
mail_counts(struct buf *body, const int64_t counts[JOB_NSTATUS])
{
	int64_t total = 0;
	bool first = true;
	int s;

	for (s = 0; s < JOB_NSTATUS; s++)
		total += counts[s];
	buf_addf(body, "Jobs: %lld", (long long)total);
	for (s = 0; s < JOB_NSTATUS; s++) {
		if (counts[s] == 0)
			continue;
		buf_addf(body, "%s%lld %s", first ? " (" : ", ",
		    (long long)counts[s], job_status_name((enum job_status)s));
		first = false;
	}
	buf_adds(body, first ? "\n" : ")\n");
}

static void
mail_removal(struct buf *body, int64_t remove_at_ms)
{
	if (remove_at_ms <= 0) {
		buf_adds(body, "It is kept until it is deleted.\n");
		return;
	}
	buf_adds(body, "It will be removed on ");
	time_format_ms(body, remove_at_ms);
	buf_adds(body, " UTC (retention); its output files stay.\n");
}

static void
mail_see_more(struct buf *body, const char *task)
{
	buf_addf(body, "\nTo see more:\n    orchestra task show %s\n", task);
}

void
mail_task_end(const char *task, enum task_status status,
    const int64_t counts[JOB_NSTATUS], int64_t remove_at_ms,
    struct buf *subject, struct buf *body)
{
	buf_addf(subject, "[orchestra] task %s %s", task,
	    task_status_name(status));
	buf_addf(body, "Task %s is %s.\n\n", task, task_status_name(status));
	mail_counts(body, counts);
	mail_removal(body, remove_at_ms);
	mail_see_more(body, task);
}

void
mail_retention_warning(const char *task, enum task_status status,
    const int64_t counts[JOB_NSTATUS], int64_t remove_at_ms,
    struct buf *subject, struct buf *body)
{
	buf_addf(subject, "[orchestra] task %s will be removed on ", task);
	time_format_ms(subject, remove_at_ms);
	buf_adds(subject, " UTC");
	buf_addf(body, "Task %s (%s) will be removed on ", task,
	    task_status_name(status));
	time_format_ms(body, remove_at_ms);
	buf_adds(body, " UTC, when its retention period ends.\n\n");
	mail_counts(body, counts);
	buf_addf(body,
	    "Its output files stay.  A retry starts the period again:\n"
	    "    orchestra task retry %s\n",
	    task);
	mail_see_more(body, task);
}

void
mail_node_health(const char *node, bool healthy, const char *detail,
    struct buf *subject, struct buf *body)
{
	buf_addf(subject, "[orchestra] node %s %s", node,
	    healthy ? "recovered" : "unhealthy");
	if (healthy)
		buf_addf(body, "Node %s is healthy again and gets new jobs.\n",
		    node);
	else
		buf_addf(body,
		    "Node %s is unhealthy: it gets no new jobs; its running "
		    "jobs are left alone.\n",
		    node);
	buf_addf(body, "Its condition: %s.\n", detail);
	buf_adds(body, "\nTo see more:\n    orchestra node list\n");
}

#define MAIL_DAY_MS 86400000LL

int
retention_warning(int64_t ended_ms, int64_t period_ms, int64_t warned,
    int64_t now, const char **kind, int64_t *to)
{
	bool has_day = period_ms > 2 * MAIL_DAY_MS;

	if (period_ms <= 0 || now >= ended_ms + period_ms)
		return 0;
	if (has_day && warned < 2 &&
	    now >= ended_ms + period_ms - MAIL_DAY_MS) {
		*kind = "retention-day";
		*to = 2;
		return 1;
	}
	if (warned < 1 && now >= ended_ms + period_ms / 2) {
		*kind = "retention-half";
		*to = has_day ? 1 : 2;
		return 1;
	}
	return 0;
}

void
mail_pilot_alarm(const char *host, bool failing, int64_t since_ms,
    const char *error, struct buf *subject, struct buf *body)
{
	buf_addf(subject, "[orchestra] pilot on %s %s", host,
	    failing ? "failing" : "recovered");
	if (failing) {
		buf_addf(body, "The pilot on %s has failed every cycle since ",
		    host);
		time_format_ms(body, since_ms);
		buf_addf(body,
		    " UTC: no job is placed or recorded.  It keeps trying.\n\n"
		    "The last error: %s\n",
		    error);
	} else {
		buf_addf(body,
		    "The pilot on %s works again (it had failed "
		    "since ",
		    host);
		time_format_ms(body, since_ms);
		buf_adds(body, " UTC).\n");
	}
	buf_adds(body, "\nIts log says more.\n");
}

static const char mail_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
mail_base64(struct buf *out, const unsigned char *p, size_t n)
{
	uint32_t v;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		buf_addch(out, mail_b64[v >> 18 & 63]);
		buf_addch(out, mail_b64[v >> 12 & 63]);
		buf_addch(out, mail_b64[v >> 6 & 63]);
		buf_addch(out, mail_b64[v & 63]);
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		buf_addch(out, mail_b64[v >> 18 & 63]);
		buf_addch(out, mail_b64[v >> 12 & 63]);
		buf_adds(out, "==");
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		buf_addch(out, mail_b64[v >> 18 & 63]);
		buf_addch(out, mail_b64[v >> 12 & 63]);
		buf_addch(out, mail_b64[v >> 6 & 63]);
		buf_addch(out, '=');
	}
}

void
mail_encode_subject(struct buf *out, const char *subject)
{
	struct buf clean = BUF_INIT;
	const unsigned char *p;
	size_t len, i, n;
	bool plain = true;

	/* Control characters become blanks, whatever the encoding. */
	for (p = (const unsigned char *)subject; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			buf_addch(&clean, ' ');
			plain = false;
		} else {
			buf_addch(&clean, (char)*p);
			if (*p >= 0x80)
				plain = false;
		}
	}
	/* "=?" could be read as an encoded word: encode it too. */
	if (strstr(clean.data, "=?") != NULL ||
	    clean.len > MAIL_SUBJECT_PLAIN_MAX)
		plain = false;
	if (plain) {
		buf_add(out, clean.data, clean.len);
		goto out;
	}
	len = clean.len;
	p = (const unsigned char *)clean.data;
	for (i = 0; i < len; i += n) {
		n = len - i < MAIL_WORD_BYTES ? len - i : MAIL_WORD_BYTES;
		/* Not within a UTF-8 sequence: back up to its first byte. */
		while (n > 1 && i + n < len && (p[i + n] & 0xc0) == 0x80)
			n--;
		if (i > 0)
			buf_adds(out, "\r\n "); /* folding, not a new header */
		buf_adds(out, "=?UTF-8?B?");
		mail_base64(out, p + i, n);
		buf_adds(out, "?=");
	}
out:
	buf_release(&clean);
}

int
mail_format(struct buf *out, const struct mail_header *h, const char *body,
    struct buf *err)
{
	const char *p, *domain;

	if (address_check(h->from, "sender", err) < 0 ||
	    address_check(h->to, "recipient", err) < 0)
		return ERR_INVALID;
	domain = strchr(h->from, '@') + 1;
	buf_addf(out, "From: %s\r\nTo: %s\r\nSubject: ", h->from, h->to);
	mail_encode_subject(out, h->subject);
	buf_adds(out, "\r\nDate: ");
	time_format_mail(out, h->date_ms);
	buf_addf(out,
	    "\r\nMessage-ID: <orchestra.%lld@%s>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "Auto-Submitted: auto-generated\r\n\r\n",
	    (long long)h->id, domain);
	/* Every line end CRLF; a bare CR goes. */
	for (p = body; *p != '\0'; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n')
			buf_addch(out, '\r');
		buf_addch(out, *p);
	}
	if (out->len < 2 || out->data[out->len - 1] != '\n')
		buf_adds(out, "\r\n");
	return 0;
}
