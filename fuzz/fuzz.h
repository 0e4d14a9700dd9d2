/*
 * fuzz.h - what every fuzz target shares: the libFuzzer entry point, a
 * check that aborts with a message (assert() vanishes under NDEBUG), and
 * the input as a C string.
 *
 * Each fuzz-<name>.c drives one parser with bytes from outside.  It links
 * either with libFuzzer (the fuzz preset, clang) or with replay.c, which
 * feeds it the files of its corpus in every test run.
 */
#ifndef ORCHESTRA_FUZZ_H
#define ORCHESTRA_FUZZ_H

#include "util/util.h"

/* Called once per input; returns 0.  A finding aborts. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the target asserts; false prints the condition and aborts. */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: fuzz check failed: %s\n",      \
			    __FILE__, __LINE__, #cond);                        \
			abort();                                               \
		}                                                              \
	} while (0)

/*
 * The input as a NUL-terminated string (it ends at the first NUL byte of
 * the input, if any).  Caller frees.
 */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	if (size != 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
