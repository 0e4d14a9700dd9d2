/*
 * mhd-lib.c - libmicrohttpd's functions that serve calls, loading the
 * library on the first (dl.h): only `orchestra serve` loads it.
 */
#include <microhttpd.h>

#include "util/dl.h"

static struct util_dl util_mhd = { "libmicrohttpd.so.12", NULL };

UTIL_DL_FN(util_mhd, enum MHD_Result, MHD_add_response_header,
    (struct MHD_Response * response, const char *header, const char *content),
    (response, header, content))
UTIL_DL_FN(util_mhd, struct MHD_Response *, MHD_create_response_from_buffer,
    (size_t size, void *buffer, enum MHD_ResponseMemoryMode mode),
    (size, buffer, mode))
UTIL_DL_FN(util_mhd, struct MHD_Response *, MHD_create_response_from_callback,
    (uint64_t size, size_t block_size, MHD_ContentReaderCallback crc,
        void *crc_cls, MHD_ContentReaderFreeCallback crfc),
    (size, block_size, crc, crc_cls, crfc))
UTIL_DL_FN(util_mhd, struct MHD_Response *,
    MHD_create_response_from_fd_at_offset64,
    (uint64_t size, int fd, uint64_t offset), (size, fd, offset))
UTIL_DL_FN(util_mhd, enum MHD_Result, MHD_del_response_header,
    (struct MHD_Response * response, const char *header, const char *content),
    (response, header, content))
UTIL_DL_VOID(util_mhd, MHD_destroy_response, (struct MHD_Response * response),
    (response))
UTIL_DL_FN(util_mhd, int, MHD_get_connection_values,
    (struct MHD_Connection * connection, enum MHD_ValueKind kind,
        MHD_KeyValueIterator iterator, void *iterator_cls),
    (connection, kind, iterator, iterator_cls))
UTIL_DL_FN(util_mhd, const char *, MHD_lookup_connection_value,
    (struct MHD_Connection * connection, enum MHD_ValueKind kind,
        const char *key),
    (connection, kind, key))
UTIL_DL_FN(util_mhd, enum MHD_Result, MHD_queue_response,
    (struct MHD_Connection * connection, unsigned int status_code,
        struct MHD_Response *response),
    (connection, status_code, response))
UTIL_DL_VOID(util_mhd, MHD_resume_connection,
    (struct MHD_Connection * connection), (connection))
UTIL_DL_VOID(util_mhd, MHD_suspend_connection,
    (struct MHD_Connection * connection), (connection))
UTIL_DL_VOID(util_mhd, MHD_stop_daemon, (struct MHD_Daemon * daemon), (daemon))
UTIL_DL_FN(util_mhd, struct MHD_Daemon *, MHD_start_daemon_va,
    (unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
        void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap),
    (flags, port, apc, apc_cls, dh, dh_cls, ap))

/* The options that follow, as MHD_start_daemon_va() takes them. */
struct MHD_Daemon *
MHD_start_daemon(unsigned int flags, uint16_t port,
    MHD_AcceptPolicyCallback apc, void *apc_cls, MHD_AccessHandlerCallback dh,
    void *dh_cls, ...)
{
	struct MHD_Daemon *d;
	va_list ap;

	va_start(ap, dh_cls);
	d = MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

/* The kinds of information asked for here take no more arguments. */
const union MHD_ConnectionInfo *
MHD_get_connection_info(struct MHD_Connection *connection,
    enum MHD_ConnectionInfoType info_type, ...)
{
	static const union MHD_ConnectionInfo *(
	    *own)(struct MHD_Connection *, enum MHD_ConnectionInfoType, ...);
	const union MHD_ConnectionInfo *(
	    *f)(struct MHD_Connection *, enum MHD_ConnectionInfoType, ...);
	void *sym;

	f = __atomic_load_n(&own, __ATOMIC_ACQUIRE);
	if (f == NULL) {
		sym = util_dl_sym(&util_mhd, "MHD_get_connection_info");
		memcpy(&f, &sym, sizeof(f));
		__atomic_store_n(&own, f, __ATOMIC_RELEASE);
	}
	return f(connection, info_type);
}

const union MHD_DaemonInfo *
MHD_get_daemon_info(struct MHD_Daemon *daemon,
    enum MHD_DaemonInfoType info_type, ...)
{
	static const union MHD_DaemonInfo *(
	    *own)(struct MHD_Daemon *, enum MHD_DaemonInfoType, ...);
	const union MHD_DaemonInfo *(
	    *f)(struct MHD_Daemon *, enum MHD_DaemonInfoType, ...);
	void *sym;

	f = __atomic_load_n(&own, __ATOMIC_ACQUIRE);
	if (f == NULL) {
		sym = util_dl_sym(&util_mhd, "MHD_get_daemon_info");
		memcpy(&f, &sym, sizeof(f));
		__atomic_store_n(&own, f, __ATOMIC_RELEASE);
	}
	return f(daemon, info_type);
}
