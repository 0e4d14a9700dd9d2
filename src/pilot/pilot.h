/*
 * pilot.h - the pilot: one process, the cycle of SPEC.md run until asked
 * to stop (pilot.c), one cycle at a time (cycle.c), in one thread; mail
 * goes out from a thread of its own (notify/mailer.c).
 *
 * The pilot opens its own database and backend from the settings: it
 * shares nothing with the command line that starts it but those, as it
 * shares nothing with `serve` but the database.
 */
#ifndef ORCHESTRA_PILOT_H
#define ORCHESTRA_PILOT_H

#include "util/config.h"
#include "util/util.h"

struct pilot_opts {
	bool once;
	int64_t interval_ms;
};

/*
 * Turn SIGTERM and SIGINT into a stop request for pilot_main().  Call it
 * first thing, so a signal that comes while the database opens is a
 * clean stop too.
 */
void pilot_signals(void);

/*
 * Run the pilot on the database, backend and priority rule of `cfg`
 * (borrowed), and its usage_every (ORCHESTRA_USAGE_EVERY): take the
 * one-pilot lock and run cycles until SIGTERM or SIGINT (the cycle in
 * flight finishes; jobs keep running), or one cycle with `once`.  0 when
 * asked to stop; ERR_INVALID for a bad setting, else the failure that
 * kept it from running (a second pilot: ERR_CONFLICT).
 */
int pilot_main(const struct config *cfg, const struct pilot_opts *o,
    struct buf *err);

#endif
