/*
 * api-pilot.c - GET /api/v1/pilot: is a pilot running, and its last
 * heartbeat, for everyone signed in (the dashboard's pilot dot, the
 * remote command line's warnings).  Judged by core's pilot_beat_down().
 * GET /api/v1/status: `orchestra status` (service-status.c).
 */
#include "web/web-int.h"

void
web_api_pilot(struct web_req *r)
{
	struct pilot_beat b;
	struct buf err = BUF_INIT;
	int ret;

	ret = service_pilot_beat(&r->svc, &b, &err);
	if (ret < 0)
		web_fail(r, ret, &err);
	else
		web_reply(r, MHD_HTTP_OK,
		    service_pilot_json(&b, time_now_ms()));
	buf_release(&err);
}

/* GET /api/v1/status: `orchestra status` of the server's database. */
void
web_api_status(struct web_req *r)
{
	struct buf err = BUF_INIT;
	json_t *o;
	int ret;

	ret = service_status(&r->svc, &o, &err);
	if (ret < 0)
		web_fail(r, ret, &err);
	else
		web_reply(r, MHD_HTTP_OK, o);
	buf_release(&err);
}
