/*
 * xalloc.c - allocators that never return NULL, and BUG().
 *
 * Orchestra is a program, not a library: when memory runs out there is
 * nothing sensible left to do, so we say so and abort.
 */
#include "util/util.h"

static _Noreturn void
xalloc_die(size_t size)
{
	fprintf(stderr, "orchestra: out of memory allocating %zu bytes\n",
	    size);
	abort();
}

void
util_bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "orchestra: BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		xalloc_die(size);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		xalloc_die(n * size);
	return p;
}

void *
xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		xalloc_die(size);
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void *
xgrow(void *ptr, size_t elem, size_t need, size_t *alloc)
{
	size_t n;

	if (need <= *alloc)
		return ptr;
	n = *alloc < 8 ? 8 : *alloc;
	while (n < need) {
		if (n > SIZE_MAX / 2 / elem)
			xalloc_die(SIZE_MAX);
		n *= 2;
	}
	*alloc = n;
	return xrealloc(ptr, n * elem);
}
