/*
 * buf.c - growable NUL-terminated text (git's strbuf, curl's dynbuf cap).
 */
#include <strings.h>

#include "util/util.h"

char buf_empty[1];

void
buf_init(struct buf *b)
{
	b->data = buf_empty;
	b->len = 0;
	b->alloc = 0;
	b->cap_limit = 0;
	b->truncated = false;
}

void
buf_grow(struct buf *b, size_t extra)
{
	bool fresh = b->alloc == 0;

	if (b->len + extra + 1 <= b->alloc)
		return;
	if (fresh)
		b->data = NULL;
	b->data = xgrow(b->data, 1, b->len + extra + 1, &b->alloc);
	if (fresh)
		b->data[0] = '\0';
}

void
buf_add(struct buf *b, const void *data, size_t len)
{
	if (b->cap_limit != 0 && b->len + len > b->cap_limit) {
		b->truncated = true;
		len = b->cap_limit > b->len ? b->cap_limit - b->len : 0;
	}
	if (len == 0)
		return;
	buf_grow(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addch(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		BUG("vsnprintf failed for format '%s'", fmt);
	if (b->cap_limit != 0) {
		char *tmp = xmalloc((size_t)n + 1);

		vsnprintf(tmp, (size_t)n + 1, fmt, ap);
		buf_add(b, tmp, (size_t)n);
		free(tmp);
		return;
	}
	buf_grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->truncated = false;
	if (b->alloc != 0)
		b->data[0] = '\0';
}

void
buf_release(struct buf *b)
{
	size_t cap = b->cap_limit;

	if (b->alloc != 0)
		free(b->data);
	buf_init(b);
	b->cap_limit = cap;
}

void
util_wipe(void *p, size_t len)
{
	explicit_bzero(p, len);
}

void
util_free_secret(char *s)
{
	if (s == NULL)
		return;
	util_wipe(s, strlen(s));
	free(s);
}

void
buf_release_secret(struct buf *b)
{
	if (b->alloc != 0)
		util_wipe(b->data, b->alloc);
	buf_release(b);
}

char *
buf_detach(struct buf *b)
{
	char *s = b->alloc != 0 ? b->data : xstrdup("");

	buf_init(b);
	return s;
}

static bool
buf_shell_safe(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("_./,:@%+=-", c) != NULL;
}

void
buf_add_frame(struct buf *b, const void *rec, size_t len)
{
	unsigned char head[4];

	if (len > UINT32_MAX)
		BUG("frame of %zu bytes", len);
	head[0] = (unsigned char)(len >> 24);
	head[1] = (unsigned char)(len >> 16);
	head[2] = (unsigned char)(len >> 8);
	head[3] = (unsigned char)len;
	buf_add(b, head, sizeof(head));
	buf_add(b, rec, len);
}

int
buf_next_frame(const char *data, size_t len, size_t *pos, const char **rec,
    size_t *reclen)
{
	const unsigned char *p = (const unsigned char *)data + *pos;
	size_t n;

	if (*pos == len)
		return 0;
	if (*pos > len || len - *pos < 4)
		return -1;
	n = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 |
	    (size_t)p[3];
	if (len - *pos - 4 < n)
		return -1;
	*rec = data + *pos + 4;
	*reclen = n;
	*pos += 4 + n;
	return 1;
}

void
buf_add_shell_quoted(struct buf *b, const char *s)
{
	const char *p;
	bool safe = *s != '\0';

	for (p = s; *p != '\0' && safe; p++)
		safe = buf_shell_safe(*p);
	if (safe) {
		buf_adds(b, s);
		return;
	}
	buf_addch(b, '\'');
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addch(b, *p);
	}
	buf_addch(b, '\'');
}

void
buf_add_percent_encoded(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~') {
			buf_addch(b, (char)*p);
		} else {
			buf_addch(b, '%');
			buf_addch(b, hex[*p >> 4]);
			buf_addch(b, hex[*p & 15]);
		}
	}
}

/*
 * The length of the well-formed UTF-8 sequence that starts `s` (NUL
 * terminated), or 0: no overlong form, surrogate, or code point past
 * U+10FFFF (Unicode, table 3-7).
 */
static size_t
buf_utf8_len(const unsigned char *s)
{
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	/* A NUL is no continuation byte: this stops at the end. */
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return len;
}

/* The character of `len` bytes at `s` is a control (C0, DEL or C1). */
static bool
buf_is_control(const unsigned char *s, size_t len, bool keep_newline)
{
	if (len == 1 && s[0] == '\n')
		return !keep_newline;
	if (len == 1)
		return s[0] < 0x20 || s[0] == 0x7f;
	return len == 2 && s[0] == 0xc2 && s[1] <= 0x9f;
}

void
buf_add_printable(struct buf *b, const char *s, bool keep_newline)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len, i;
	bool escape;

	while (*p != '\0') {
		len = buf_utf8_len(p);
		/* Not UTF-8: the first byte alone, escaped. */
		escape = len == 0 || buf_is_control(p, len, keep_newline);
		if (len == 0)
			len = 1;
		if (!escape) {
			buf_add(b, p, len);
		} else {
			for (i = 0; i < len; i++)
				buf_addf(b, "\\x%02x", p[i]);
		}
		p += len;
	}
}

int
err_set(struct buf *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	buf_reset(err);
	va_start(ap, fmt);
	buf_vaddf(err, fmt, ap);
	va_end(ap);
	return code;
}

/* Is `p` at a "password" key, then optional blanks and '='? */
static const char *
util_password_value(const char *p)
{
	if (strncasecmp(p, "password", 8) != 0)
		return NULL;
	p += 8;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '=')
		return NULL;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Redact every password=VALUE (libpq keywords, URL parameters). */
static void
util_redact_keywords(struct buf *out, const char *s)
{
	const char *p = s, *v;
	char quote;

	while (*p != '\0') {
		v = util_password_value(p);
		if (v == NULL) {
			buf_addch(out, *p++);
			continue;
		}
		buf_add(out, p, (size_t)(v - p));
		buf_adds(out, "***");
		if (*v == '\'' || *v == '"') {
			quote = *v++;
			while (*v != '\0' && *v != quote)
				v += v[0] == '\\' && v[1] != '\0' ? 2 : 1;
			if (*v == quote)
				v++;
		} else {
			v += strcspn(v, " \t&;#");
		}
		p = v;
	}
}

void
util_redact_url(struct buf *out, const char *url)
{
	const char *scheme = strstr(url, "://"), *auth, *end, *at, *colon;
	struct buf step = BUF_INIT;

	/* scheme://user:password@host — only within the authority. */
	if (scheme != NULL) {
		auth = scheme + 3;
		end = auth + strcspn(auth, "/?#");
		at = memchr(auth, '@', (size_t)(end - auth));
		colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon != NULL) {
			buf_add(&step, url, (size_t)(colon - url));
			buf_adds(&step, ":***");
			url = at;
		}
	}
	buf_adds(&step, url);
	util_redact_keywords(out, step.data);
	buf_release(&step);
}
