/*
 * util.h - allocation, growable text buffers, error codes, logging and time.
 *
 * Every other module builds on this header.  Nothing here touches the
 * database, the network or a backend.
 */
#ifndef ORCHESTRA_UTIL_H
#define ORCHESTRA_UTIL_H

/*
 * The C library headers that declare banned functions come first, so that
 * banned.h (at the end) can turn every later use into an error.  Include
 * this header before any other of ours.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

/* Error codes returned (negated) by fallible functions; 0 is success. */
#define ERR_INVALID (-1)     /* bad input: a name, an option, a value */
#define ERR_NOTFOUND (-2)    /* the named thing does not exist */
#define ERR_DENIED (-3)      /* the actor may not do this */
#define ERR_CONFLICT (-4)    /* exists already, or the wrong state */
#define ERR_UNAVAILABLE (-5) /* a peer (database, backend) failed */

/* A broken invariant: print file:line and abort.  Never for input. */
#define BUG(...) util_bug(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void util_bug(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Allocators that never return NULL: out of memory aborts. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Grow an array to hold at least `need` elements (git's ALLOC_GROW). */
void *xgrow(void *ptr, size_t elem, size_t need, size_t *alloc);

/*
 * struct buf - growable NUL-terminated text.  `data` is never NULL; a
 * BUF_INIT buffer points at a shared empty string until first written.
 * `cap_limit`, when non-zero, bounds growth: appends past it are dropped
 * and `truncated` is set (for text fed from outside).
 */
struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t cap_limit;
	bool truncated;
};
extern char buf_empty[];
#define BUF_INIT                                                               \
	{                                                                      \
		buf_empty, 0, 0, 0, false                                      \
	}

void buf_init(struct buf *b);
void buf_grow(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addch(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void buf_reset(struct buf *b);
/* Frees the contents; the buffer is BUF_INIT again. */
void buf_release(struct buf *b);
/*
 * Secrets (tokens, passwords, session keys, key files): their bytes are
 * zeroed before the memory goes, by explicit_bzero(), which the compiler
 * keeps where it may drop a memset() before free().  util_wipe() zeroes
 * `len` bytes; util_free_secret() wipes a string and frees it (NULL is
 * fine); buf_release_secret() wipes all of a buffer's memory, then
 * releases it.
 */
void util_wipe(void *p, size_t len);
void util_free_secret(char *s);
void buf_release_secret(struct buf *b);
/* Returns the text, which the caller frees; the buffer is BUF_INIT again. */
char *buf_detach(struct buf *b);
/* Quote `s` for /bin/sh: unchanged when it is made only of safe chars. */
void buf_add_shell_quoted(struct buf *b, const char *s);
/*
 * Append `s` percent-encoded for a URL's path segment or query value:
 * every byte but letters, digits and "-._~" as %XX (what
 * curl_easy_escape() gives).
 */
void buf_add_percent_encoded(struct buf *b, const char *s);
/*
 * Append `s` safe to show on a terminal: every control character (below
 * 0x20, 0x7f, and U+0080-U+009F, the C1 controls, as UTF-8) and every
 * byte that is not part of well-formed UTF-8 becomes "\xNN", so that a
 * name cannot move the cursor, recolour or retitle a terminal; other
 * text, UTF-8 included, is unchanged.  With `keep_newline`, '\n' is kept
 * (text of several lines).  A backslash is not escaped.
 */
void buf_add_printable(struct buf *b, const char *s, bool keep_newline);
/*
 * Frames: records of any bytes sent over a pipe, each a 4-byte
 * big-endian length and then that many bytes.  buf_add_frame() appends
 * one.  buf_next_frame() reads the record at `*pos` of [data, data+len):
 * 1 with `*rec` (borrowed from `data`) and `*reclen` set and `*pos` moved
 * past it, 0 at the end, -1 when the bytes left are no whole record.
 */
void buf_add_frame(struct buf *b, const void *rec, size_t len);
int buf_next_frame(const char *data, size_t len, size_t *pos, const char **rec,
    size_t *reclen);

/* Fill `err` (reset first) and return `code`: `return err_set(err, ...)`. */
int err_set(struct buf *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Logging: one line per event on stderr, "UTC-time level process: message".
 * The macros test the level before evaluating their arguments.
 */
enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };
extern enum log_level log_threshold;
void log_set_process(const char *name);
void log_write(enum log_level level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)
#define log_at(level, ...)                                                     \
	do {                                                                   \
		if ((level) <= log_threshold)                                  \
			log_write((level), __func__, __VA_ARGS__);             \
	} while (0)

/*
 * Wall-clock time in milliseconds since the epoch (UTC), moved forward by
 * the test-only ORCHESTRA_TEST_NOW_OFFSET (a duration) when it is set.
 */
int64_t time_now_ms(void);
/* Monotonic time in nanoseconds, for measuring. */
int64_t time_mono_ns(void);
/* `ms` from now on `clock`, for a timed wait (pthread_cond_timedwait). */
void time_deadline(struct timespec *ts, clockid_t clock, int64_t ms);
/* Format epoch ms as "YYYY-MM-DD HH:MM:SS" UTC into `b`; 0 prints "-". */
void time_format_ms(struct buf *b, int64_t ms);
/* Format epoch ms (> 0) as "YYYY-MM-DDTHH:MM:SSZ" (RFC 3339 UTC). */
void time_format_iso(struct buf *b, int64_t ms);
/* Format epoch ms as a mail's Date, "Tue, 25 Nov 2025 18:00:00 +0000". */
void time_format_mail(struct buf *b, int64_t ms);
/*
 * Read a UTC time "YYYY-MM-DDTHH:MM:SS[.mmm]" (a blank may stand for the
 * 'T'; year 1970 on; the fraction has 1 to 9 digits, cut to ms) at the
 * start of `s` into epoch ms.  Returns where
 * the reading stopped (at a 'Z', say), or NULL when `s` does not start
 * with such a time.  time_parse_when() and every reader of RFC 3339
 * times (the remote client, the Kubernetes backend) use it.
 */
const char *time_scan_iso(const char *s, int64_t *ms);
/*
 * Parse a duration: a number with an optional unit s, m, h, d (default s),
 * e.g. "90", "15m", "10d".  Stores milliseconds.  Returns 0 or ERR_INVALID.
 */
int time_parse_duration(const char *s, int64_t *ms, struct buf *err);
/*
 * Parse a point in time from outside: epoch milliseconds, or UTC as
 * "YYYY-MM-DDTHH:MM:SS[.mmm][Z]" (time_scan_iso(), then at most a 'Z').
 * Stores epoch ms.  Returns 0 or ERR_INVALID.
 */
int time_parse_when(const char *s, int64_t *ms, struct buf *err);
/* Format a duration in ms as the shortest exact form ("10d", "90s"). */
void time_format_duration(struct buf *b, int64_t ms);

/*
 * Append `url` with any password replaced by "***", for messages and
 * logs: the password of "scheme://user:password@host" (within the
 * authority, before the first '/', '?' or '#'), and every value of a
 * "password" key (any case, blanks around '='; the value quoted, or up to
 * a blank, '&', ';' or '#'), as libpq keywords or URL parameters write it.
 */
void util_redact_url(struct buf *out, const char *url);

/*
 * Check a mail address (address.c): one plain "local@host", ASCII, no
 * control characters, blanks, lists, names, brackets or quotes; at most
 * 254 characters.  0, or ERR_INVALID with one line in `err`: "invalid
 * WHAT '...': why" (`what` names the setting, e.g. "email").
 */
int address_check(const char *s, const char *what, struct buf *err);
/* Append `s` in single quotes, control characters and '\\' as \xNN. */
void address_quote(struct buf *b, const char *s);

/* Parse a whole decimal int64 within [min, max]; 0 or ERR_INVALID. */
int util_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/*
 * Sizes of memory (size.c).  size_parse() reads what a user writes: a
 * number (a fraction allowed) and an optional unit K, M, G or T, binary
 * as Slurm's --mem reads it (4G = 4Gi = 4GiB = 4 GiB), no unit for bytes;
 * stores bytes (a part of a byte rounded up).  0, or ERR_INVALID with why.
 */
int size_parse(const char *s, int64_t *bytes, struct buf *err);
/*
 * A Kubernetes quantity as bytes, rounded up: "16310784Ki", "8G" (decimal
 * k M G T P E), "1Gi" (binary Ki .. Ei), "129e6", "1.5", "500m".  0, or
 * -1 when `s` is not one or is negative or out of range.
 */
int size_parse_kube(const char *s, int64_t *bytes);
/* Append `bytes` in the largest binary unit, tenths rounded down:
 * "512 MiB", "1.5 GiB", "12 GiB", "100 bytes". */
void size_format(struct buf *b, int64_t bytes);

#include "util/banned.h"

#endif
