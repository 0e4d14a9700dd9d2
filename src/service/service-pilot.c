/*
 * service-pilot.c - is a pilot running?  Read from the pilot's heartbeat
 * (store_pilot_beat_get) and judged by core's pilot_beat_down(), for
 * task submit's warning, the why of waiting jobs (task show, queue, the
 * API and the dashboard), node states, GET /api/v1/pilot and `orchestra
 * status`.
 */
#include "service/service-int.h"
#include "service/service-json.h"

int
service_pilot_beat(struct service *svc, struct pilot_beat *out, struct buf *err)
{
	if (svc->remote != NULL)
		return service_remote_pilot(svc, out, err);
	return store_pilot_beat_get(svc->st, out, err);
}

static bool
service_pilot_judge(struct service *svc, bool at, struct buf *why)
{
	struct pilot_beat b;
	struct buf err = BUF_INIT;
	bool down = false;

	if (service_pilot_beat(svc, &b, &err) == 0)
		down = pilot_beat_down(&b, time_now_ms(), at, why);
	buf_release(&err);
	return down;
}

bool
service_pilot_down(struct service *svc, struct buf *why)
{
	return service_pilot_judge(svc, true, why);
}

bool
service_pilot_down_ago(struct service *svc, struct buf *why)
{
	return service_pilot_judge(svc, false, why);
}

json_t *
service_pilot_json(const struct pilot_beat *b, int64_t now_ms)
{
	struct buf why = BUF_INIT;
	bool down = pilot_beat_down(b, now_ms, false, &why);
	json_t *o;

	o = json_pack("{s:b, s:o}", "running", !down, "why",
	    down ? json_string(why.data) : json_null());
	json_object_set_new(o, "host",
	    b->known ? json_string(b->host) : json_null());
	json_object_set_new(o, "pid", json_integer(b->pid));
	json_object_set_new(o, "interval_ms", json_integer(b->interval_ms));
	json_object_set_new(o, "started", service_json_time(b->started_ms));
	json_object_set_new(o, "last_cycle",
	    service_json_time(b->last_cycle_ms));
	json_object_set_new(o, "stopped", service_json_time(b->stopped_ms));
	buf_release(&why);
	return o;
}
