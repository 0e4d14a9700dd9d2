/*
 * api-pilot.c - GET /api/v1/pilot: is a pilot running, and its last
 * heartbeat, for everyone signed in (the dashboard's pilot dot, the
 * remote command line's warnings).  Judged by core's pilot_beat_down().
 */
#include "web/web-int.h"

void
web_api_pilot(struct web_req *r)
{
	struct pilot_beat b;
	struct buf err = BUF_INIT, why = BUF_INIT;
	bool down;
	json_t *o;
	int ret;

	ret = service_pilot_beat(&r->svc, &b, &err);
	if (ret < 0) {
		web_fail(r, ret, &err);
		goto out;
	}
	down = pilot_beat_down(&b, time_now_ms(), false, &why);
	o = json_pack("{s:b, s:o}", "running", !down, "why",
	    down ? json_string(why.data) : json_null());
	json_object_set_new(o, "host",
	    b.known ? json_string(b.host) : json_null());
	json_object_set_new(o, "pid", json_integer(b.pid));
	json_object_set_new(o, "interval_ms", json_integer(b.interval_ms));
	json_object_set_new(o, "started", service_json_time(b.started_ms));
	json_object_set_new(o, "last_cycle",
	    service_json_time(b.last_cycle_ms));
	json_object_set_new(o, "stopped", service_json_time(b.stopped_ms));
	web_reply(r, MHD_HTTP_OK, o);
out:
	buf_release(&err);
	buf_release(&why);
}
