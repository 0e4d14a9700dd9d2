/*
 * service-json.c - records as JSON: the one shape of each, printed by
 * `orchestra … --json` and answered by the HTTP API, so that the remote
 * command line (service-remote.c reads them back) prints the same.
 */
#include "service/service-json.h"

json_t *
service_json_str(const char *s)
{
	json_t *v;
	char *copy, *p;

	if (s == NULL)
		return json_null();
	v = json_string(s);
	if (v != NULL)
		return v;
	/* Not UTF-8 (a file name can be anything): keep it readable. */
	copy = xstrdup(s);
	for (p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

json_t *
service_json_time(int64_t ms)
{
	struct buf b = BUF_INIT;
	json_t *v;

	/* RFC 3339 has four-digit years: nothing from 10000-01-01 on. */
	if (ms <= 0 || ms >= 253402300800000LL)
		return json_null();
	time_format_iso(&b, ms);
	v = json_string(b.data);
	buf_release(&b);
	return v;
}

json_t *
service_json_account(const struct account *a)
{
	return json_pack("{s:I, s:o, s:o, s:b, s:I, s:o, s:o, s:o, s:o}", "id",
	    (json_int_t)a->id, "username", service_json_str(a->username),
	    "email", service_json_str(a->email), "mail", (int)!a->mail_off,
	    "max_priority", (json_int_t)a->max_priority, "role",
	    service_json_str(a->role), "unix_user",
	    service_json_str(a->unix_user), "hold", service_json_str(a->hold),
	    "created", service_json_time(a->created_ms));
}

json_t *
service_json_token(const struct token *t)
{
	return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:b}", "id",
	    (json_int_t)t->id, "username", service_json_str(t->username),
	    "created", service_json_time(t->created_ms), "expires",
	    service_json_time(t->expires_ms), "last_used",
	    service_json_time(t->last_used_ms), "revoked",
	    service_json_time(t->revoked_ms), "active",
	    t->revoked_ms == 0 &&
	        (t->expires_ms == 0 || t->expires_ms > time_now_ms()));
}

json_t *
service_json_revoked(const char *user, int64_t ntokens, int64_t nsessions)
{
	return json_pack("{s:o, s:I, s:I}", "username", service_json_str(user),
	    "tokens_revoked", (json_int_t)ntokens, "sessions_ended",
	    (json_int_t)nsessions);
}

json_t *
service_json_counts(const int64_t counts[JOB_NSTATUS])
{
	json_t *o = json_object();
	int i;

	for (i = 0; i < JOB_NSTATUS; i++)
		json_object_set_new(o, job_status_name((enum job_status)i),
		    json_integer(counts[i]));
	return o;
}

json_t *
service_json_task(const struct task *t)
{
	json_t *o = json_object();
	struct buf full = BUF_INIT;

	names_task_full(&full, t->username, t->name);
	json_object_set_new(o, "id", json_integer(t->id));
	json_object_set_new(o, "name", service_json_str(t->name));
	json_object_set_new(o, "full_name", service_json_str(full.data));
	json_object_set_new(o, "user", service_json_str(t->username));
	json_object_set_new(o, "queue", service_json_str(t->queue));
	json_object_set_new(o, "image", service_json_str(t->image));
	json_object_set_new(o, "command", service_json_str(t->command));
	json_object_set_new(o, "inputs", service_json_str(t->inputs));
	json_object_set_new(o, "data", service_json_str(t->data_path));
	json_object_set_new(o, "output", service_json_str(t->out_dir));
	json_object_set_new(o, "gpu", json_boolean(t->gpu));
	json_object_set_new(o, "skip_test", json_boolean(t->skip_test));
	json_object_set_new(o, "timeout_ms", json_integer(t->timeout_ms));
	json_object_set_new(o, "retention_ms",
	    t->retention_ms < 0 ? json_null() : json_integer(t->retention_ms));
	json_object_set_new(o, "status",
	    json_string(task_status_name(t->status)));
	json_object_set_new(o, "signal",
	    t->signal == SIGNAL_NONE
	        ? json_null()
	        : json_string(task_signal_name(t->signal)));
	json_object_set_new(o, "jobs", json_integer(t->njobs));
	json_object_set_new(o, "submitted", service_json_time(t->submitted_ms));
	json_object_set_new(o, "updated", service_json_time(t->updated_ms));
	json_object_set_new(o, "ended", service_json_time(t->ended_ms));
	if (t->has_summary) {
		json_object_set_new(o, "counts",
		    service_json_counts(t->counts));
		json_object_set_new(o, "priority",
		    t->has_priority ? json_real(t->priority) : json_null());
		json_object_set_new(o, "why", service_json_str(t->why));
	}
	buf_release(&full);
	return o;
}

json_t *
service_json_job(const struct job *j, const struct job_wait *w)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(j->id));
	json_object_set_new(o, "index", json_integer(j->idx));
	json_object_set_new(o, "status",
	    json_string(job_status_name(j->status)));
	json_object_set_new(o, "test", json_boolean(j->is_test));
	json_object_set_new(o, "input", service_json_str(j->input));
	json_object_set_new(o, "command", service_json_str(j->command));
	json_object_set_new(o, "priority", json_real(j->priority));
	json_object_set_new(o, "node", service_json_str(j->node));
	json_object_set_new(o, "gpu",
	    j->gpu_index < 0 ? json_null() : json_integer(j->gpu_index));
	json_object_set_new(o, "attempts", json_integer(j->attempts));
	json_object_set_new(o, "exit_code",
	    j->exit_code < 0 ? json_null() : json_integer(j->exit_code));
	json_object_set_new(o, "queued", service_json_time(j->queued_ms));
	json_object_set_new(o, "started", service_json_time(j->started_ms));
	json_object_set_new(o, "ended", service_json_time(j->ended_ms));
	json_object_set_new(o, "end_reason", service_json_str(j->end_reason));
	json_object_set_new(o, "place",
	    w != NULL && w->place > 0 ? json_integer(w->place) : json_null());
	json_object_set_new(o, "why", service_json_str(w ? w->why : NULL));
	return o;
}

json_t *
service_json_node(const struct node *n)
{
	json_t *o = json_object(), *jobs;
	struct buf full = BUF_INIT;
	const struct node_job *j;

	json_object_set_new(o, "id", json_integer(n->id));
	json_object_set_new(o, "name", service_json_str(n->name));
	json_object_set_new(o, "queue", service_json_str(n->queue));
	json_object_set_new(o, "cpu_slots", json_integer(n->cpu_slots));
	json_object_set_new(o, "gpu_slots", json_integer(n->gpu_slots));
	json_object_set_new(o, "max_cpu_slots", json_integer(n->max_cpu_slots));
	json_object_set_new(o, "max_gpu_slots", json_integer(n->max_gpu_slots));
	json_object_set_new(o, "cpu_used", json_integer(n->cpu_used));
	json_object_set_new(o, "gpu_used",
	    json_integer(__builtin_popcountll(n->gpu_used)));
	json_object_set_new(o, "enabled", json_boolean(n->enabled));
	json_object_set_new(o, "ready", json_boolean(n->ready));
	json_object_set_new(o, "memory_pressure",
	    json_boolean(n->memory_pressure));
	json_object_set_new(o, "disk_pressure", json_boolean(n->disk_pressure));
	json_object_set_new(o, "last_seen", service_json_time(n->last_seen_ms));
	json_object_set_new(o, "completed", json_integer(n->completed));
	json_object_set_new(o, "failed", json_integer(n->failed));
	jobs = json_array();
	VEC_FOREACH (j, &n->jobs) {
		buf_reset(&full);
		names_task_full(&full, j->username, j->task);
		json_array_append_new(jobs,
		    json_pack("{s:o, s:I, s:o, s:s, s:o, s:o}", "task",
		        service_json_str(full.data), "index",
		        (json_int_t)j->idx, "user",
		        service_json_str(j->username), "status",
		        job_status_name(j->status), "gpu",
		        j->gpu_index < 0 ? json_null()
		                         : json_integer(j->gpu_index),
		        "started", service_json_time(j->started_ms)));
	}
	json_object_set_new(o, "jobs", jobs);
	buf_release(&full);
	return o;
}

json_t *
service_json_queue_row(const struct queue_row *q)
{
	json_t *o = json_object();

	json_object_set_new(o, "place",
	    q->place > 0 ? json_integer(q->place) : json_null());
	json_object_set_new(o, "priority", json_real(q->priority));
	json_object_set_new(o, "user", service_json_str(q->username));
	json_object_set_new(o, "task", service_json_str(q->task));
	json_object_set_new(o, "job_id",
	    q->job_id ? json_integer(q->job_id) : json_null());
	json_object_set_new(o, "index",
	    q->job_id ? json_integer(q->idx) : json_null());
	json_object_set_new(o, "jobs", json_integer(q->njobs));
	json_object_set_new(o, "queue", service_json_str(q->queue));
	json_object_set_new(o, "gpu", json_boolean(q->gpu));
	json_object_set_new(o, "status",
	    json_string(job_status_name(q->status)));
	json_object_set_new(o, "node", service_json_str(q->node));
	json_object_set_new(o, "gpu_index",
	    q->gpu_index >= 0 ? json_integer(q->gpu_index) : json_null());
	json_object_set_new(o, "why", service_json_str(q->why));
	return o;
}

const struct job_wait *
service_job_wait_of(const struct task_detail *d, const struct job *j)
{
	const struct job_wait *w;

	if (j->status != JOB_ASSIGNED && j->status != JOB_REGISTERED)
		return NULL;
	VEC_FOREACH (w, &d->waits) {
		if (w->job_id == j->id ||
		    (w->job_id == 0 && j->status == JOB_REGISTERED))
			return w;
	}
	return NULL;
}
