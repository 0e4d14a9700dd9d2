/*
 * service-status.c - `orchestra status` and GET /api/v1/status: on one
 * screen, whether a pilot runs (its heartbeat), the backend, the
 * database's kind, the mail outbox, the nodes by health and the jobs by
 * state.  Remotely the server's view, as it read it.
 */
#include "service/service-int.h"
#include "service/service-json.h"

/* The database's kind, and for SQLite its file (a PostgreSQL URL may
 * hold a password: never shown). */
static json_t *
service_status_db(const struct config *cfg)
{
	const char *url = cfg->db_url != NULL ? cfg->db_url : "";

	if (strncmp(url, "postgresql://", 13) == 0 ||
	    strncmp(url, "postgres://", 11) == 0)
		return json_pack("{s:s, s:n}", "kind", "postgresql", "file");
	if (strncmp(url, "sqlite:", 7) == 0)
		url += 7;
	return json_pack("{s:s, s:s}", "kind", "sqlite", "file", url);
}

static json_t *
service_status_pilot(struct service *svc, struct buf *err)
{
	struct pilot_beat b;

	if (store_pilot_beat_get(svc->st, &b, err) < 0)
		return NULL;
	return service_pilot_json(&b, time_now_ms());
}

/* Nodes: how many, and the names of those that take no job. */
static json_t *
service_status_nodes(struct service *svc, struct buf *err)
{
	node_vec nodes = VEC_INIT;
	json_t *o, *unhealthy, *unreachable, *drained;
	int64_t ready = 0;
	struct node *n;

	if (store_node_list(svc->st, NULL, 0, &nodes, err) < 0)
		return NULL;
	unhealthy = json_array();
	unreachable = json_array();
	drained = json_array();
	VEC_FOREACH (n, &nodes) {
		if (!n->enabled)
			json_array_append_new(drained, json_string(n->name));
		else if (!n->reachable)
			json_array_append_new(unreachable,
			    json_string(n->name));
		else if (!n->ready || n->memory_pressure || n->disk_pressure)
			json_array_append_new(unhealthy, json_string(n->name));
		else
			ready++;
	}
	o = json_pack("{s:I, s:I, s:o, s:o, s:o}", "total", (json_int_t)nodes.n,
	    "ready", (json_int_t)ready, "unhealthy", unhealthy, "unreachable",
	    unreachable, "drained", drained);
	node_vec_release(&nodes);
	return o;
}

/* Jobs by state, every state named (zeros too), in the states' order. */
static json_t *
service_status_jobs(struct service *svc, struct buf *err)
{
	metric_count_vec counts = VEC_INIT;
	struct metric_count *c;
	json_t *o, *v;
	int s;

	if (store_metrics_jobs(svc->st, &counts, err) < 0)
		return NULL;
	o = json_object();
	for (s = 0; s < JOB_NSTATUS; s++)
		json_object_set_new(o, job_status_name((enum job_status)s),
		    json_integer(0));
	VEC_FOREACH (c, &counts) {
		v = json_object_get(o, c->key1);
		json_object_set_new(o, c->key1,
		    json_integer(json_integer_value(v) + c->n));
	}
	metric_count_vec_release(&counts);
	return o;
}

int
service_status(struct service *svc, json_t **out, struct buf *err)
{
	json_t *o, *pilot = NULL, *nodes = NULL, *jobs = NULL;

	*out = NULL;
	if (svc->remote != NULL)
		return service_remote_status(svc, out, err);
	if ((pilot = service_status_pilot(svc, err)) == NULL ||
	    (nodes = service_status_nodes(svc, err)) == NULL ||
	    (jobs = service_status_jobs(svc, err)) == NULL) {
		json_decref(pilot);
		json_decref(nodes);
		return ERR_UNAVAILABLE; /* err says what failed */
	}
	o = json_pack("{s:o, s:s, s:o, s:{s:b}, s:o, s:o}", "pilot", pilot,
	    "backend", svc->cfg->backend != NULL ? svc->cfg->backend : "local",
	    "database", service_status_db(svc->cfg), "mail", "waiting",
	    store_mail_queued(svc->st), "nodes", nodes, "jobs", jobs);
	*out = o;
	return 0;
}
