/*
 * web.h - `orchestra serve`: the HTTP API under /api/v1, on libmicrohttpd.
 *
 * The server is its own process beside the pilot; the two share nothing
 * but the database.  Every request is answered by calling the same
 * service_*() functions as the command line, as the user whose token it
 * presents (never trusted as the command line is).
 */
#ifndef ORCHESTRA_WEB_H
#define ORCHESTRA_WEB_H

#include "util/config.h"

struct web_opts {
	const char *listen;   /* "ADDR:PORT" or "[ADDR]:PORT"; port 0: any */
	const char *tls_cert; /* PEM files; both or neither */
	const char *tls_key;
	int64_t session_idle_ms; /* a dashboard session ends idle this long;
	                            0: 12 h */
};

/*
 * Serve until SIGINT or SIGTERM (which the caller has blocked in every
 * thread, so that this function can wait for them with sigwait()).  Logs
 * "listening address=ADDR:PORT" once bound.  0 after a clean stop, or
 * ERR_* with `err` filled when the server could not start.
 */
int web_serve(const struct config *cfg, const struct web_opts *o,
    struct buf *err);

#endif
