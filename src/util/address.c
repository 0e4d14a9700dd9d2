/*
 * address.c - the one check every mail address goes through when it is
 * set (a user's --email, the sender ORCHESTRA_MAIL_FROM) and again when a
 * mail is sent: one plain address "local@domain", nothing a mail header or
 * an SMTP command could read as more.
 *
 * Deliberately narrower than RFC 5322: no display names, no comments, no
 * quoted local parts, no address lists, no IP literals.  What is refused
 * is what could smuggle a second recipient or a header (CR, LF, ',', ';',
 * '<', '>', quotes, blanks) or what no mail system routes (no '@', an
 * empty label).
 */
#include "util/util.h"

#define ADDRESS_MAX 254
#define ADDRESS_LOCAL_MAX 64

/* Characters of a local part besides letters and digits (RFC 5322 atext). */
static const char address_local_extra[] = "!#$%&'*+-/=?^_`{|}~.";

void
address_quote(struct buf *b, const char *s)
{
	const unsigned char *p;

	buf_addch(b, '\'');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			buf_addf(b, "\\x%02x", *p);
		else
			buf_addch(b, (char)*p);
	}
	buf_addch(b, '\'');
}

static int
address_refuse(struct buf *err, const char *what, const char *s,
    const char *why)
{
	buf_reset(err);
	buf_addf(err, "invalid %s ", what);
	address_quote(err, s);
	buf_addf(err, ": %s", why);
	return ERR_INVALID;
}

static bool
address_is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

int
address_check(const char *s, const char *what, struct buf *err)
{
	const unsigned char *p;
	const char *at = NULL, *label;
	size_t len = strlen(s);

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return address_refuse(err, what, s,
			    "control characters (CR, LF, ...) are not allowed");
		if (*p == ' ')
			return address_refuse(err, what, s,
			    "blanks are not allowed");
		if (*p >= 0x80)
			return address_refuse(err, what, s,
			    "only ASCII addresses are accepted");
		if (*p == ',' || *p == ';')
			return address_refuse(err, what, s,
			    "give one address, not a list");
		if (*p == '<' || *p == '>' || *p == '"' || *p == '(' ||
		    *p == ')' || *p == '[' || *p == ']' || *p == '\\' ||
		    *p == ':')
			return address_refuse(err, what, s,
			    "give a plain user@host, without a name, "
			    "brackets or quotes");
		if (*p == '@') {
			if (at != NULL)
				return address_refuse(err, what, s,
				    "more than one '@'");
			at = (const char *)p;
		}
	}
	if (at == NULL)
		return address_refuse(err, what, s, "expected user@host");
	if (len > ADDRESS_MAX)
		return address_refuse(err, what, s,
		    "longer than 254 characters");
	if (at == s || (size_t)(at - s) > ADDRESS_LOCAL_MAX)
		return address_refuse(err, what, s,
		    "the part before '@' must have 1 to 64 characters");
	for (p = (const unsigned char *)s; p < (const unsigned char *)at; p++) {
		if (!address_is_alnum(*p) &&
		    strchr(address_local_extra, *p) == NULL)
			return address_refuse(err, what, s,
			    "unexpected character before '@'");
		if (*p == '.' &&
		    (p == (const unsigned char *)s || p[1] == '.' ||
		        p[1] == '@'))
			return address_refuse(err, what, s,
			    "a '.' may not start, end or double before '@'");
	}
	label = at + 1;
	if (*label == '\0')
		return address_refuse(err, what, s, "no host after '@'");
	for (p = (const unsigned char *)label;; p++) {
		if (*p == '.' || *p == '\0') {
			if ((const char *)p == label || label[0] == '-' ||
			    p[-1] == '-')
				return address_refuse(err, what, s,
				    "the host must be names separated by "
				    "single dots");
			if (*p == '\0')
				break;
			label = (const char *)p + 1;
			continue;
		}
		if (!address_is_alnum(*p) && *p != '-')
			return address_refuse(err, what, s,
			    "the host may hold only letters, digits, '-' "
			    "and '.'");
	}
	return 0;
}
