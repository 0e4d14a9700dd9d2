/*
 * pilot-beat.c - is a pilot running?  The one rule, read by every place
 * that says so: task submit's warning, the why of waiting jobs, the state
 * of nodes (their health is the pilot's word), the API's /api/v1/pilot.
 */
#include "core/core.h"

/* `ms` as a person says it, rounded down: 45s, 5m, 3h, 2d. */
static void
pilot_beat_ago(struct buf *b, int64_t ms)
{
	int64_t s = ms / 1000;

	if (s < 120)
		buf_addf(b, "%llds", (long long)s);
	else if (s < 2 * 3600)
		buf_addf(b, "%lldm", (long long)(s / 60));
	else if (s < 2 * 86400)
		buf_addf(b, "%lldh", (long long)(s / 3600));
	else
		buf_addf(b, "%lldd", (long long)(s / 86400));
}

bool
pilot_beat_down(const struct pilot_beat *b, int64_t now_ms, bool at,
    struct buf *why)
{
	int64_t quiet = PILOT_BEAT_PERIODS * b->interval_ms;

	if (quiet < PILOT_BEAT_MIN_MS)
		quiet = PILOT_BEAT_MIN_MS;
	if (!b->known) {
		if (why != NULL)
			buf_adds(why, "no pilot is running (none has run yet)");
		return true;
	}
	if (b->stopped_ms < b->last_cycle_ms &&
	    now_ms - b->last_cycle_ms <= quiet)
		return false;
	if (why != NULL && at) {
		/* The same text until the pilot's next cycle: pages that
		 * show it are kept while the database is unchanged. */
		buf_adds(why, "no pilot is running (last cycle ");
		time_format_ms(why, b->last_cycle_ms);
		buf_adds(why, " UTC)");
	} else if (why != NULL) {
		buf_adds(why, "no pilot is running (last cycle ");
		pilot_beat_ago(why,
		    now_ms > b->last_cycle_ms ? now_ms - b->last_cycle_ms : 0);
		buf_adds(why, " ago)");
	}
	return true;
}
