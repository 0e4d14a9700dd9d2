/* libs: orch_core */
/*
 * test-mail.c - the address check, and the mails as they go on the wire:
 * nothing a task name, a subject or an address holds can add a header or
 * a recipient.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"

static void
test_address_accepts(void **state)
{
	static const char *const good[] = {
		"alice@lab.example.org",
		"a@b",
		"first.last+tag@host-1.example",
		"o'brien@example.org",
		"x_y-z=1@A.B.C",
	};
	struct buf err = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (address_check(good[i], "email", &err) != 0)
			fail_msg("'%s' refused: %s", good[i], err.data);
	}
	buf_release(&err);
}

static void
test_address_refuses(void **state)
{
	static const struct {
		const char *addr;
		const char *why; /* a part of the message */
	} bad[] = {
		{ "", "expected user@host" },
		{ "alice", "expected user@host" },
		{ "alice@x.org\r\nBcc: eve@x.org", "control characters" },
		{ "alice@x.org\nBcc: eve@x.org", "control characters" },
		{ "alice@x.org\r", "control characters" },
		{ "al\tice@x.org", "control characters" },
		{ "alice@x.org\x7f", "control characters" },
		{ "alice@x.org, eve@x.org", "one address" },
		{ "alice@x.org,eve@x.org", "one address" },
		{ "alice@x.org;eve@x.org", "one address" },
		{ "Alice <alice@x.org>", "blanks" },
		{ "<alice@x.org>", "without a name" },
		{ "alice@x.org>", "without a name" },
		{ "\"a\"@x.org", "without a name" },
		{ "alice@@x.org", "more than one" },
		{ "alice@x.org@y.org", "more than one" },
		{ "@x.org", "1 to 64" },
		{ "alice@", "no host" },
		{ "alice@x..org", "single dots" },
		{ "alice@.x.org", "single dots" },
		{ "alice@x.org.", "single dots" },
		{ "alice@-x.org", "single dots" },
		{ "alice@x_y.org", "letters, digits" },
		{ ".alice@x.org", "may not start" },
		{ "alice.@x.org", "may not start" },
		{ "al..ice@x.org", "may not start" },
		{ "al\xc3\xa9@x.org", "ASCII" },
		{ "alice@x.org:25", "without a name" },
	};
	struct buf err = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (address_check(bad[i].addr, "email", &err) != ERR_INVALID)
			fail_msg("'%s' accepted", bad[i].addr);
		if (strstr(err.data, bad[i].why) == NULL)
			fail_msg("'%s': message '%s' lacks '%s'", bad[i].addr,
			    err.data, bad[i].why);
		/* One line, whatever the address held. */
		assert_null(strchr(err.data, '\n'));
		assert_null(strchr(err.data, '\r'));
		assert_true(strncmp(err.data, "invalid email '", 15) == 0);
	}
	/* Too long, and a local part of 65. */
	buf_reset(&err);
	{
		char big[300];

		memset(big, 'a', sizeof(big));
		big[0] = 'b';
		big[64] = '@';
		big[299] = '\0';
		assert_int_equal(address_check(big, "email", &err),
		    ERR_INVALID);
		assert_non_null(strstr(err.data, "254"));
		memcpy(big + 65, "@x.org", 7);
		big[64] = 'a';
		assert_int_equal(address_check(big, "email", &err),
		    ERR_INVALID);
		assert_non_null(strstr(err.data, "1 to 64"));
	}
	buf_release(&err);
}

/* The header block of a message: up to the first blank line. */
static void
test_headers_of(const char *msg, struct buf *out)
{
	const char *end = strstr(msg, "\r\n\r\n");

	assert_non_null(end);
	buf_add(out, msg, (size_t)(end - msg) + 2);
}

/* Count the header lines (not continuations) naming `name`. */
static int
test_count_headers(const char *headers, const char *name)
{
	size_t n = strlen(name);
	const char *p = headers;
	int count = 0;

	while (*p != '\0') {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			count++;
		p = strstr(p, "\r\n");
		if (p == NULL)
			break;
		p += 2;
	}
	return count;
}

static void
test_format_plain(void **state)
{
	int64_t counts[JOB_NSTATUS] = { 0 };
	struct buf subject = BUF_INIT, body = BUF_INIT, msg = BUF_INIT,
	           err = BUF_INIT, h = BUF_INIT;
	struct mail_header hd = { 42, "orchestra@lab.org", "alice@lab.org",
		NULL, 1764000000000LL };
	const char *p;

	(void)state;
	counts[JOB_DONE] = 8;
	counts[JOB_FAILED] = 2;
	mail_task_end("user.alice.calib-7", TASK_FINALIZED, counts,
	    1764864000000LL, &subject, &body);
	assert_string_equal(subject.data,
	    "[orchestra] task user.alice.calib-7 finalized");
	assert_non_null(strstr(body.data, "Jobs: 10 (8 done, 2 failed)\n"));
	assert_non_null(
	    strstr(body.data, "orchestra task show user.alice.calib-7\n"));
	assert_non_null(strstr(body.data, "removed on 2025-12-04 16:00:00"));
	hd.subject = subject.data;
	assert_int_equal(mail_format(&msg, &hd, body.data, &err), 0);
	test_headers_of(msg.data, &h);
	assert_string_equal(h.data,
	    "From: orchestra@lab.org\r\n"
	    "To: alice@lab.org\r\n"
	    "Subject: [orchestra] task user.alice.calib-7 finalized\r\n"
	    "Date: Mon, 24 Nov 2025 16:00:00 +0000\r\n"
	    "Message-ID: <orchestra.42@lab.org>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n"
	    "Auto-Submitted: auto-generated\r\n");
	/* Every line of the body ends in CRLF. */
	for (p = msg.data; *p != '\0'; p++)
		if (*p == '\n')
			assert_true(p > msg.data && p[-1] == '\r');
	assert_true(msg.len > 2 && msg.data[msg.len - 1] == '\n');
	buf_release(&subject);
	buf_release(&body);
	buf_release(&msg);
	buf_release(&err);
	buf_release(&h);
}

static void
test_format_injection(void **state)
{
	struct buf msg = BUF_INIT, err = BUF_INIT, h = BUF_INIT;
	struct mail_header hd = { 7, "orchestra@lab.org", "alice@lab.org",
		"[orchestra] task x\r\nBcc: eve@evil.org\r\n\r\nhi done",
		1764000000000LL };
	const char *p;

	(void)state;
	assert_int_equal(mail_format(&msg, &hd, "a\rb\nc\r\n.\r\nd", &err), 0);
	test_headers_of(msg.data, &h);
	assert_int_equal(test_count_headers(h.data, "Bcc"), 0);
	assert_int_equal(test_count_headers(h.data, "To"), 1);
	assert_int_equal(test_count_headers(h.data, "Subject"), 1);
	assert_null(strstr(h.data, "eve@evil.org"));
	/* Encoded words, folded with CRLF SP: no header of its own. */
	p = strstr(h.data, "Subject: =?UTF-8?B?");
	assert_non_null(p);
	for (p = h.data; (p = strstr(p, "\r\n")) != NULL; p += 2)
		if (p[2] != '\0')
			assert_true(p[2] != ' ' ||
			    strncmp(p + 3, "=?UTF-8?B?", 10) == 0);
	/* A bare CR goes; LF becomes CRLF. */
	assert_non_null(strstr(msg.data, "\r\n\r\nab\r\nc\r\n.\r\nd\r\n"));
	/* Addresses are checked again when the mail is made. */
	buf_reset(&msg);
	hd.to = "alice@lab.org\r\nBcc: eve@evil.org";
	assert_int_equal(mail_format(&msg, &hd, "x", &err), ERR_INVALID);
	assert_non_null(strstr(err.data, "invalid recipient"));
	hd.to = "alice@lab.org, eve@evil.org";
	assert_int_equal(mail_format(&msg, &hd, "x", &err), ERR_INVALID);
	hd.to = "alice@lab.org";
	hd.from = "Orchestra <o@lab.org>";
	assert_int_equal(mail_format(&msg, &hd, "x", &err), ERR_INVALID);
	assert_non_null(strstr(err.data, "invalid sender"));
	buf_release(&msg);
	buf_release(&err);
	buf_release(&h);
}

/* Decode what mail_encode_subject() made back, word by word. */
static void
test_decode_words(const char *v, struct buf *out)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = v, *end, *q;
	uint32_t acc;
	int bits;

	while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
		p += 10;
		end = strstr(p, "?=");
		assert_non_null(end);
		acc = 0;
		bits = 0;
		for (q = p; q < end && *q != '='; q++) {
			acc = acc << 6 | (uint32_t)(strchr(b64, *q) - b64);
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				buf_addch(out, (char)(acc >> bits & 0xff));
			}
		}
		p = end + 2;
	}
}

static void
test_encode_subject(void **state)
{
	struct buf out = BUF_INIT, dec = BUF_INIT;
	const char *line;
	char longs[400];

	(void)state;
	mail_encode_subject(&out, "[orchestra] task user.a.b done");
	assert_string_equal(out.data, "[orchestra] task user.a.b done");
	buf_reset(&out);
	/* UTF-8, not cut within a character, round trip. */
	mail_encode_subject(&out,
	    "t\xc3\xa2"
	    "che \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    " finie");
	test_decode_words(out.data, &dec);
	assert_string_equal(dec.data,
	    "t\xc3\xa2"
	    "che \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    " finie");
	assert_non_null(strstr(out.data, "?=\r\n =?UTF-8?B?"));
	buf_reset(&out);
	buf_reset(&dec);
	/* Control characters become blanks; "=?" is encoded. */
	mail_encode_subject(&out, "a\r\nb\tc =?x?=");
	test_decode_words(out.data, &dec);
	assert_string_equal(dec.data, "a  b c =?x?=");
	buf_reset(&out);
	/* Long plain ASCII: encoded, every line short. */
	memset(longs, 'x', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	mail_encode_subject(&out, longs);
	for (line = out.data; line != NULL;) {
		const char *nl = strstr(line, "\r\n");

		assert_true((nl ? (size_t)(nl - line) : strlen(line)) < 78);
		line = nl ? nl + 2 : NULL;
	}
	buf_release(&out);
	buf_release(&dec);
}

static void
test_other_mails(void **state)
{
	int64_t counts[JOB_NSTATUS] = { 0 };
	struct buf s = BUF_INIT, b = BUF_INIT;

	(void)state;
	counts[JOB_DONE] = 3;
	mail_retention_warning("user.bo.x", TASK_DONE, counts, 1764864000000LL,
	    &s, &b);
	assert_string_equal(s.data,
	    "[orchestra] task user.bo.x will be "
	    "removed on 2025-12-04 16:00:00 UTC");
	assert_non_null(strstr(b.data, "orchestra task retry user.bo.x"));
	buf_reset(&s);
	buf_reset(&b);
	mail_node_health("gpu1", false, "ready=0", &s, &b);
	assert_string_equal(s.data, "[orchestra] node gpu1 unhealthy");
	buf_reset(&s);
	mail_node_health("gpu1", true, "ready=1", &s, &b);
	assert_string_equal(s.data, "[orchestra] node gpu1 recovered");
	buf_reset(&s);
	buf_reset(&b);
	mail_pilot_alarm("head", true, 1764000000000LL, "no database", &s, &b);
	assert_string_equal(s.data, "[orchestra] pilot on head failing");
	assert_non_null(strstr(b.data, "since 2025-11-24 16:00:00 UTC"));
	assert_non_null(strstr(b.data, "The last error: no database\n"));
	buf_reset(&s);
	mail_pilot_alarm("head", false, 1764000000000LL, NULL, &s, &b);
	assert_string_equal(s.data, "[orchestra] pilot on head recovered");
	buf_release(&s);
	buf_release(&b);
}

#define DAY 86400000LL

static void
test_retention_warning(void **state)
{
	const char *kind = NULL;
	int64_t to = -1, e = 1000 * DAY;

	(void)state;
	/* 10 days: half at day 5, the day before at day 9, removal at 10. */
	assert_int_equal(
	    retention_warning(e, 10 * DAY, 0, e + 5 * DAY - 1, &kind, &to), 0);
	assert_int_equal(
	    retention_warning(e, 10 * DAY, 0, e + 5 * DAY, &kind, &to), 1);
	assert_string_equal(kind, "retention-half");
	assert_int_equal(to, 1);
	assert_int_equal(
	    retention_warning(e, 10 * DAY, 1, e + 9 * DAY - 1, &kind, &to), 0);
	assert_int_equal(
	    retention_warning(e, 10 * DAY, 1, e + 9 * DAY, &kind, &to), 1);
	assert_string_equal(kind, "retention-day");
	assert_int_equal(to, 2);
	assert_int_equal(
	    retention_warning(e, 10 * DAY, 2, e + 9 * DAY + 1, &kind, &to), 0);
	/* Away past both: the later one only; past the end: none. */
	assert_int_equal(
	    retention_warning(e, 10 * DAY, 0, e + 9 * DAY + 5, &kind, &to), 1);
	assert_string_equal(kind, "retention-day");
	assert_int_equal(to, 2);
	assert_int_equal(
	    retention_warning(e, 10 * DAY, 0, e + 10 * DAY, &kind, &to), 0);
	/* 2 days or less: the half-period warning is the only one. */
	assert_int_equal(retention_warning(e, 2 * DAY, 0, e + DAY, &kind, &to),
	    1);
	assert_string_equal(kind, "retention-half");
	assert_int_equal(to, 2);
	assert_int_equal(
	    retention_warning(e, 2 * DAY, 2, e + DAY + 5, &kind, &to), 0);
	/* 0 keeps forever. */
	assert_int_equal(retention_warning(e, 0, 0, e + 100 * DAY, &kind, &to),
	    0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address_accepts),
		cmocka_unit_test(test_address_refuses),
		cmocka_unit_test(test_format_plain),
		cmocka_unit_test(test_format_injection),
		cmocka_unit_test(test_encode_subject),
		cmocka_unit_test(test_other_mails),
		cmocka_unit_test(test_retention_warning),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
