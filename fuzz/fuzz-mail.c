/* libs: orch_core */
/*
 * fuzz-mail.c - address_check() and mail_format() on any text: an
 * accepted address holds nothing a header or an SMTP command could read
 * as more, and whatever the subject and body hold, the message has
 * exactly the headers mail_format() writes, every line ending in CRLF.
 */
#include "fuzz.h"

#include "core/core.h"

static void
fuzz_mail_address(const char *s)
{
	struct buf err = BUF_INIT;
	const char *p;
	int ats = 0;

	if (address_check(s, "email", &err) != 0) {
		FUZZ_CHECK(err.len > 0 && strchr(err.data, '\n') == NULL &&
		    strchr(err.data, '\r') == NULL);
		goto out;
	}
	FUZZ_CHECK(strlen(s) <= 254);
	for (p = s; *p != '\0'; p++) {
		FUZZ_CHECK((unsigned char)*p > ' ' && (unsigned char)*p < 0x7f);
		FUZZ_CHECK(strchr(",;<>\"()[]\\:", *p) == NULL);
		ats += *p == '@';
	}
	FUZZ_CHECK(ats == 1);
out:
	buf_release(&err);
}

/* The header names mail_format() writes, in order. */
static const char *const fuzz_mail_headers[] = {
	"From: ",
	"To: ",
	"Subject: ",
	"Date: ",
	"Message-ID: ",
	"MIME-Version: ",
	"Content-Type: ",
	"Content-Transfer-Encoding: ",
	"Auto-Submitted: ",
};

static void
fuzz_mail_message(const char *to, const char *text)
{
	struct mail_header h = { 1, "orchestra@lab.example", to, text, 0 };
	struct buf msg = BUF_INIT, err = BUF_INIT;
	const char *p, *line, *end;
	size_t i = 0;
	size_t n = sizeof(fuzz_mail_headers) / sizeof(*fuzz_mail_headers);

	if (mail_format(&msg, &h, text, &err) != 0) {
		FUZZ_CHECK(strcmp(to, "alice@lab.example") != 0);
		goto out;
	}
	/* CR only before LF, LF only after CR. */
	for (p = msg.data; *p != '\0'; p++) {
		if (*p == '\r')
			FUZZ_CHECK(p[1] == '\n');
		if (*p == '\n')
			FUZZ_CHECK(p > msg.data && p[-1] == '\r');
	}
	end = strstr(msg.data, "\r\n\r\n");
	FUZZ_CHECK(end != NULL);
	/* Each header line is the next expected one, or a folded encoded word
	 * of the subject. */
	for (line = msg.data; line < end + 2;) {
		if (line[0] == ' ') {
			FUZZ_CHECK(i == 3); /* just after Subject */
			FUZZ_CHECK(strncmp(line, " =?UTF-8?B?", 11) == 0);
		} else {
			FUZZ_CHECK(i < n);
			FUZZ_CHECK(strncmp(line, fuzz_mail_headers[i],
			               strlen(fuzz_mail_headers[i])) == 0);
			i++;
		}
		line = strstr(line, "\r\n") + 2;
	}
	FUZZ_CHECK(i == n);
out:
	buf_release(&msg);
	buf_release(&err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);

	fuzz_mail_address(s);
	fuzz_mail_message("alice@lab.example", s);
	fuzz_mail_message(s, "body");
	free(s);
	return 0;
}
