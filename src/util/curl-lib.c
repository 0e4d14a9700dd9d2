/*
 * curl-lib.c - libcurl's functions that the Kubernetes backend, the
 * mail sender and the remote command line call, loading libcurl on the
 * first (dl.h): a command that speaks to no server never loads it.
 */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "util/dl.h"

static struct util_dl util_curl = { "libcurl.so.4", NULL };

UTIL_DL_VOID(util_curl, curl_easy_cleanup, (CURL * curl), (curl))
UTIL_DL_FN(util_curl, CURLHcode, curl_easy_header,
    (CURL * easy, const char *name, size_t index, unsigned int origin,
        int request, struct curl_header **hout),
    (easy, name, index, origin, request, hout))
UTIL_DL_FN(util_curl, CURL *, curl_easy_init, (void), ())
UTIL_DL_FN(util_curl, CURLcode, curl_easy_perform, (CURL * curl), (curl))
UTIL_DL_FN(util_curl, const char *, curl_easy_strerror, (CURLcode code), (code))
UTIL_DL_FN(util_curl, CURLcode, curl_global_init, (long flags), (flags))
UTIL_DL_FN(util_curl, CURLMcode, curl_multi_add_handle,
    (CURLM * multi, CURL *curl), (multi, curl))
UTIL_DL_FN(util_curl, CURLMcode, curl_multi_cleanup, (CURLM * multi), (multi))
UTIL_DL_FN(util_curl, CURLMsg *, curl_multi_info_read,
    (CURLM * multi, int *msgs_in_queue), (multi, msgs_in_queue))
UTIL_DL_FN(util_curl, CURLM *, curl_multi_init, (void), ())
UTIL_DL_FN(util_curl, CURLMcode, curl_multi_remove_handle,
    (CURLM * multi, CURL *curl), (multi, curl))
UTIL_DL_FN(util_curl, CURLMcode, curl_multi_socket_action,
    (CURLM * multi, curl_socket_t s, int ev_bitmask, int *running_handles),
    (multi, s, ev_bitmask, running_handles))
UTIL_DL_FN(util_curl, struct curl_slist *, curl_slist_append,
    (struct curl_slist * list, const char *data), (list, data))
UTIL_DL_VOID(util_curl, curl_slist_free_all, (struct curl_slist * list), (list))

/*
 * The options' one argument, by its type, which curl tells by the
 * option's number: a long, an object pointer (or a blob), a function
 * pointer, a curl_off_t.
 */
union util_curl_arg {
	long l;
	void *p;
	void (*f)(void);
	curl_off_t o;
};

static union util_curl_arg
util_curl_arg(int option, va_list ap)
{
	union util_curl_arg a;

	if (option < CURLOPTTYPE_OBJECTPOINT)
		a.l = va_arg(ap, long);
	else if (option < CURLOPTTYPE_FUNCTIONPOINT ||
	    option >= CURLOPTTYPE_BLOB)
		a.p = va_arg(ap, void *);
	else if (option < CURLOPTTYPE_OFF_T)
		a.f = va_arg(ap, void (*)(void));
	else
		a.o = va_arg(ap, curl_off_t);
	return a;
}

CURLcode
curl_easy_setopt(CURL *curl, CURLoption option, ...)
{
	static CURLcode (*own)(CURL *, CURLoption, ...);
	CURLcode (*f)(CURL *, CURLoption, ...);
	union util_curl_arg a;
	va_list ap;
	void *sym;

	f = __atomic_load_n(&own, __ATOMIC_ACQUIRE);
	if (f == NULL) {
		sym = util_dl_sym(&util_curl, "curl_easy_setopt");
		memcpy(&f, &sym, sizeof(f));
		__atomic_store_n(&own, f, __ATOMIC_RELEASE);
	}
	va_start(ap, option);
	a = util_curl_arg((int)option, ap);
	va_end(ap);
	if (option < CURLOPTTYPE_OBJECTPOINT)
		return f(curl, option, a.l);
	if (option < CURLOPTTYPE_FUNCTIONPOINT || option >= CURLOPTTYPE_BLOB)
		return f(curl, option, a.p);
	if (option < CURLOPTTYPE_OFF_T)
		return f(curl, option, a.f);
	return f(curl, option, a.o);
}

CURLMcode
curl_multi_setopt(CURLM *multi, CURLMoption option, ...)
{
	static CURLMcode (*own)(CURLM *, CURLMoption, ...);
	CURLMcode (*f)(CURLM *, CURLMoption, ...);
	union util_curl_arg a;
	va_list ap;
	void *sym;

	f = __atomic_load_n(&own, __ATOMIC_ACQUIRE);
	if (f == NULL) {
		sym = util_dl_sym(&util_curl, "curl_multi_setopt");
		memcpy(&f, &sym, sizeof(f));
		__atomic_store_n(&own, f, __ATOMIC_RELEASE);
	}
	va_start(ap, option);
	a = util_curl_arg((int)option, ap);
	va_end(ap);
	if (option < CURLOPTTYPE_OBJECTPOINT)
		return f(multi, option, a.l);
	if (option < CURLOPTTYPE_FUNCTIONPOINT || option >= CURLOPTTYPE_BLOB)
		return f(multi, option, a.p);
	if (option < CURLOPTTYPE_OFF_T)
		return f(multi, option, a.f);
	return f(multi, option, a.o);
}

/* Its one argument is always a pointer. */
CURLcode
curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	static CURLcode (*own)(CURL *, CURLINFO, ...);
	CURLcode (*f)(CURL *, CURLINFO, ...);
	va_list ap;
	void *sym, *p;

	f = __atomic_load_n(&own, __ATOMIC_ACQUIRE);
	if (f == NULL) {
		sym = util_dl_sym(&util_curl, "curl_easy_getinfo");
		memcpy(&f, &sym, sizeof(f));
		__atomic_store_n(&own, f, __ATOMIC_RELEASE);
	}
	va_start(ap, info);
	p = va_arg(ap, void *);
	va_end(ap);
	return f(curl, info, p);
}
