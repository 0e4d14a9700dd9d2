/*
 * path.c - a request's path, split and percent-decoded segment by
 * segment: "%2F" or "%00" inside a segment can never pass for a
 * separator or an end of string, and "." or ".." (however spelled) is
 * refused outright rather than resolved.
 */
#include "web/web-int.h"

static int
web_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool
web_is_control(int c)
{
	return c < 0x20 || c == 0x7f;
}

int
web_percent_decode(const char *s, size_t len, struct buf *out)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] != '%') {
			if (web_is_control((unsigned char)s[i]))
				return -1;
			buf_addch(out, s[i]);
			continue;
		}
		if (i + 2 >= len)
			return -1;
		hi = web_hexval(s[i + 1]);
		lo = hi < 0 ? -1 : web_hexval(s[i + 2]);
		if (lo < 0 || web_is_control(hi * 16 + lo))
			return -1;
		buf_addch(out, (char)(hi * 16 + lo));
		i += 2;
	}
	return 0;
}

int
web_path_parse(const char *url, char **seg, size_t max, size_t *nseg)
{
	struct buf b = BUF_INIT;
	const char *p = url, *end;
	int ret = -1;

	*nseg = 0;
	if (*p != '/')
		return -1;
	while (*p == '/' && p[1] != '\0') {
		p++;
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		buf_reset(&b);
		if (*nseg == max || end == p ||
		    web_percent_decode(p, (size_t)(end - p), &b) < 0 ||
		    strcmp(b.data, ".") == 0 || strcmp(b.data, "..") == 0 ||
		    strchr(b.data, '/') != NULL)
			goto out;
		seg[(*nseg)++] = xstrdup(b.data);
		p = end;
	}
	ret = 0;
out:
	buf_release(&b);
	return ret;
}
