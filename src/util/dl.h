/*
 * dl.h - a shared library loaded on its first use, and the functions
 * that stand in for its own until then.
 *
 * The command line links some forty libraries, and Debian builds them
 * with BIND_NOW: loading them took 6 of the 9 ms a command took to start
 * (bench/README.md, issue 18), though a submit on SQLite uses none of
 * libpq, libcurl and libmicrohttpd and what they bring in.  Those three
 * are not linked: pq-lib.c, curl-lib.c and mhd-lib.c define their
 * functions, each of which loads the library on its first call and then
 * calls its own.  A library that cannot be loaded is as fatal as it was
 * at start-up.
 */
#ifndef ORCHESTRA_DL_H
#define ORCHESTRA_DL_H

#include "util/util.h"

struct util_dl {
	const char *soname; /* "libpq.so.5" */
	void *handle;       /* once loaded */
};

/*
 * The address of `name` in `lib`, loading it first if need be; a library
 * or a function that is not there is a BUG (the build said it would be).
 * Thread-safe.
 */
void *util_dl_sym(struct util_dl *lib, const char *name);

/*
 * Define function `name` (returning `ret`, with parameters `params` and
 * the call's arguments `args`) as a call of `lib`'s own; UTIL_DL_VOID for
 * one that returns nothing.
 */
#define UTIL_DL_FN(lib, ret, name, params, args)                               \
	ret name params                                                        \
	{                                                                      \
		static ret(*own) params;                                       \
		ret(*f) params = __atomic_load_n(&own, __ATOMIC_ACQUIRE);      \
		if (f == NULL) {                                               \
			void *sym = util_dl_sym(&(lib), #name);                \
			memcpy(&f, &sym, sizeof(f));                           \
			__atomic_store_n(&own, f, __ATOMIC_RELEASE);           \
		}                                                              \
		return f args;                                                 \
	}
#define UTIL_DL_VOID(lib, name, params, args)                                  \
	void name params                                                       \
	{                                                                      \
		static void(*own) params;                                      \
		void(*f) params = __atomic_load_n(&own, __ATOMIC_ACQUIRE);     \
		if (f == NULL) {                                               \
			void *sym = util_dl_sym(&(lib), #name);                \
			memcpy(&f, &sym, sizeof(f));                           \
			__atomic_store_n(&own, f, __ATOMIC_RELEASE);           \
		}                                                              \
		f args;                                                        \
	}

#endif
