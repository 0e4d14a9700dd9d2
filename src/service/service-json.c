/*
 * service-json.c - records as JSON: the one shape of each, printed by
 * `orchestra … --json` and answered by the HTTP API, so that the remote
 * command line (service-remote.c reads them back) prints the same.
 */
#include <stddef.h>

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

/* 10000-01-01T00:00:00Z in epoch ms. */
#define SERVICE_JSON_YEAR_10000_MS 253402300800000LL

int64_t
service_json_read_time(json_t *v)
{
	const char *s = json_string_value(v);
	const char *end;
	int64_t ms;

	end = s != NULL ? time_scan_iso(s, &ms) : NULL;
	if (end == NULL || strcmp(end, "Z") != 0)
		return 0;
	/* 9999-12-31T23:59:60Z is a leap second into the year 10000, which
	 * service_json_time() cannot write back in four digits. */
	if (ms >= SERVICE_JSON_YEAR_10000_MS)
		return 0;
	return ms;
}

/* ---- the generic writer and reader ------------------------------------- */

#define SERVICE_JSON_AT(rec, f, type) ((type *)((char *)(rec) + (f)->offset))
#define SERVICE_JSON_CAT(rec, f, type)                                         \
	((const type *)((const char *)(rec) + (f)->offset))

static json_t *
service_json_value(const struct service_field *f, const void *rec)
{
	int64_t i;

	switch (f->type) {
	case SERVICE_FIELD_STR:
	case SERVICE_FIELD_STR0:
		return service_json_str(*SERVICE_JSON_CAT(rec, f, char *));
	case SERVICE_FIELD_INT:
		return json_integer(*SERVICE_JSON_CAT(rec, f, int64_t));
	case SERVICE_FIELD_POS:
		i = *SERVICE_JSON_CAT(rec, f, int64_t);
		return i > 0 ? json_integer(i) : json_null();
	case SERVICE_FIELD_NONNEG:
		i = *SERVICE_JSON_CAT(rec, f, int64_t);
		return i >= 0 ? json_integer(i) : json_null();
	case SERVICE_FIELD_BOOL:
		return json_boolean(*SERVICE_JSON_CAT(rec, f, bool));
	case SERVICE_FIELD_NOT:
		return json_boolean(!*SERVICE_JSON_CAT(rec, f, bool));
	case SERVICE_FIELD_TIME:
		return service_json_time(*SERVICE_JSON_CAT(rec, f, int64_t));
	case SERVICE_FIELD_DOUBLE:
		return json_real(*SERVICE_JSON_CAT(rec, f, double));
	case SERVICE_FIELD_TASK_STATUS:
		return json_string(task_status_name(
		    *SERVICE_JSON_CAT(rec, f, enum task_status)));
	case SERVICE_FIELD_JOB_STATUS:
		return json_string(job_status_name(
		    *SERVICE_JSON_CAT(rec, f, enum job_status)));
	case SERVICE_FIELD_SIGNAL:
		if (*SERVICE_JSON_CAT(rec, f, enum task_signal) == SIGNAL_NONE)
			return json_null();
		return json_string(task_signal_name(
		    *SERVICE_JSON_CAT(rec, f, enum task_signal)));
	case SERVICE_FIELD_CUSTOM:
		return f->write(rec);
	}
	BUG("field '%s' of unknown type %d", f->name, (int)f->type);
}

void
service_json_add(json_t *o, const struct service_field *table, const void *rec)
{
	const struct service_field *f;

	for (f = table; f->name != NULL; f++)
		if (!(f->flags & SERVICE_FIELD_INTERNAL))
			json_object_set_new(o, f->name,
			    service_json_value(f, rec));
}

json_t *
service_json_record(const struct service_field *table, const void *rec)
{
	json_t *o = json_object();

	service_json_add(o, table, rec);
	return o;
}

static int
service_json_read_one(const struct service_field *f, json_t *o, void *rec,
    struct buf *err)
{
	json_t *v = json_object_get(o, f->name);
	const char *s = json_string_value(v);
	int64_t i = json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;

	switch (f->type) {
	case SERVICE_FIELD_STR:
		*SERVICE_JSON_AT(rec, f, char *) = s ? xstrdup(s) : NULL;
		return 0;
	case SERVICE_FIELD_STR0:
		*SERVICE_JSON_AT(rec, f, char *) = xstrdup(s ? s : "");
		return 0;
	case SERVICE_FIELD_INT:
		*SERVICE_JSON_AT(rec, f, int64_t) = i;
		return 0;
	case SERVICE_FIELD_POS:
		*SERVICE_JSON_AT(rec, f, int64_t) = i > 0 ? i : 0;
		return 0;
	case SERVICE_FIELD_NONNEG:
		*SERVICE_JSON_AT(rec, f, int64_t) =
		    json_is_integer(v) && i >= 0 ? i : -1;
		return 0;
	case SERVICE_FIELD_BOOL:
		*SERVICE_JSON_AT(rec, f, bool) = json_is_true(v);
		return 0;
	case SERVICE_FIELD_NOT:
		*SERVICE_JSON_AT(rec, f, bool) = !json_is_true(v);
		return 0;
	case SERVICE_FIELD_TIME:
		*SERVICE_JSON_AT(rec, f, int64_t) = service_json_read_time(v);
		return 0;
	case SERVICE_FIELD_DOUBLE:
		*SERVICE_JSON_AT(rec, f, double) =
		    json_is_number(v) ? json_number_value(v) : 0;
		return 0;
	case SERVICE_FIELD_TASK_STATUS:
		if (task_status_parse(s ? s : "",
		        SERVICE_JSON_AT(rec, f, enum task_status), err) < 0)
			return ERR_UNAVAILABLE;
		return 0;
	case SERVICE_FIELD_JOB_STATUS:
		if (job_status_parse(s ? s : "",
		        SERVICE_JSON_AT(rec, f, enum job_status), err) < 0)
			return ERR_UNAVAILABLE;
		return 0;
	case SERVICE_FIELD_SIGNAL:
		*SERVICE_JSON_AT(rec, f, enum task_signal) = SIGNAL_NONE;
		if (s != NULL &&
		    task_signal_parse(s,
		        SERVICE_JSON_AT(rec, f, enum task_signal), err) < 0)
			return ERR_UNAVAILABLE;
		return 0;
	case SERVICE_FIELD_CUSTOM:
		return f->read(o, f->name, rec, err);
	}
	BUG("field '%s' of unknown type %d", f->name, (int)f->type);
}

int
service_json_read(const struct service_field *table, json_t *o, void *rec,
    struct buf *err)
{
	const struct service_field *f;
	int ret;

	for (f = table; f->name != NULL; f++) {
		if (f->flags & (SERVICE_FIELD_INTERNAL | SERVICE_FIELD_DERIVED))
			continue;
		ret = service_json_read_one(f, o, rec, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* ---- request bodies and options ------------------------------------------ */

/* The option struct's member of row `f` (opt, not offset). */
#define SERVICE_JSON_OPT(opts, f, type) ((type *)((char *)(opts) + (f)->opt))
#define SERVICE_JSON_COPT(opts, f, type)                                       \
	((const type *)((const char *)(opts) + (f)->opt))

static bool
service_json_opt_given(const struct service_field *f, const void *opts)
{
	if (f->type == SERVICE_FIELD_INT)
		return *SERVICE_JSON_COPT(opts, f, int64_t) != OPT_UNSET;
	return *SERVICE_JSON_COPT(opts, f, char *) != NULL;
}

void
service_json_opts_read(const struct service_field *table, unsigned flags,
    json_t *o, void *opts)
{
	const struct service_field *f;
	json_t *v;

	for (f = table; f->name != NULL; f++) {
		if (!(f->flags & flags))
			continue;
		v = json_object_get(o, f->name);
		switch (f->type) {
		case SERVICE_FIELD_INT:
			*SERVICE_JSON_OPT(opts, f, int64_t) = v != NULL
			    ? (int64_t)json_integer_value(v)
			    : OPT_UNSET;
			break;
		case SERVICE_FIELD_BOOL:
		case SERVICE_FIELD_NOT:
			*SERVICE_JSON_OPT(opts, f, const char *) = v == NULL
			    ? NULL
			    : json_is_true(v) ? "on"
			                      : "off";
			break;
		case SERVICE_FIELD_STR:
		case SERVICE_FIELD_STR0:
			*SERVICE_JSON_OPT(opts, f, const char *) =
			    json_string_value(v);
			break;
		default:
			BUG("field '%s' cannot be given", f->name);
		}
	}
}

json_t *
service_json_opts_write(const struct service_field *table, unsigned flags,
    const void *opts)
{
	const struct service_field *f;
	const char *s;
	json_t *o = json_object();

	for (f = table; f->name != NULL; f++) {
		if (!(f->flags & flags))
			continue;
		if (f->type == SERVICE_FIELD_INT) {
			if (*SERVICE_JSON_OPT(opts, f, int64_t) != OPT_UNSET)
				json_object_set_new(o, f->name,
				    json_integer(
				        *SERVICE_JSON_OPT(opts, f, int64_t)));
			continue;
		}
		s = *SERVICE_JSON_OPT(opts, f, const char *);
		if (s == NULL)
			continue;
		if (f->type == SERVICE_FIELD_BOOL ||
		    f->type == SERVICE_FIELD_NOT)
			json_object_set_new(o, f->name,
			    json_boolean(strcmp(s, "on") == 0));
		else
			json_object_set_new(o, f->name, json_string(s));
	}
	return o;
}

int
service_json_opts_check_set(const struct service_field *table, const void *opts,
    bool options, struct buf *err)
{
	const struct service_field *f;
	struct buf msg = BUF_INIT;
	size_t n = 0, k = 0;
	const char *p;

	for (f = table; f->name != NULL; f++) {
		if (!(f->flags & SERVICE_FIELD_UPDATE))
			continue;
		if (service_json_opt_given(f, opts))
			return 0;
		n++;
	}
	if (n == 0)
		BUG("a table with no field to set");
	buf_adds(&msg, "nothing to set: give ");
	for (f = table; f->name != NULL; f++) {
		if (!(f->flags & SERVICE_FIELD_UPDATE))
			continue;
		if (k > 0)
			buf_adds(&msg, k == n - 1 ? " or " : ", ");
		k++;
		if (!options) {
			buf_adds(&msg, f->name);
			continue;
		}
		buf_adds(&msg, "--");
		if (f->option != NULL)
			buf_adds(&msg, f->option);
		else
			for (p = f->name; *p != '\0'; p++)
				buf_addch(&msg, *p == '_' ? '-' : *p);
	}
	err_set(err, ERR_INVALID, "%s", msg.data);
	buf_release(&msg);
	return ERR_INVALID;
}

/* ---- the rows that are more than a member -------------------------------- */

static json_t *
service_json_token_active(const void *rec)
{
	const struct token *t = rec;

	return json_boolean(t->revoked_ms == 0 &&
	    (t->expires_ms == 0 || t->expires_ms > time_now_ms()));
}

static json_t *
service_json_task_full_name(const void *rec)
{
	const struct task *t = rec;
	struct buf full = BUF_INIT;
	json_t *v;

	names_task_full(&full, t->username, t->name);
	v = service_json_str(full.data);
	buf_release(&full);
	return v;
}

static json_t *
service_json_task_counts(const void *rec)
{
	return service_json_counts(((const struct task *)rec)->counts);
}

static int
service_json_task_counts_read(json_t *o, const char *key, void *rec,
    struct buf *err)
{
	struct task *t = rec;
	json_t *counts = json_object_get(o, key), *v;
	enum job_status s;
	const char *k;

	if (!json_is_object(counts))
		return err_set(err, ERR_UNAVAILABLE,
		    "the server gave task '%s' no job counts", t->name);
	json_object_foreach(counts, k, v)
	{
		if (job_status_parse(k, &s, err) < 0)
			return ERR_UNAVAILABLE;
		t->counts[s] = json_integer_value(v);
	}
	t->has_summary = true;
	return 0;
}

static json_t *
service_json_task_priority(const void *rec)
{
	const struct task *t = rec;

	return t->has_priority ? json_real(t->priority) : json_null();
}

static int
service_json_task_priority_read(json_t *o, const char *key, void *rec,
    struct buf *err)
{
	struct task *t = rec;
	json_t *p = json_object_get(o, key);

	(void)err;
	t->has_priority = json_is_number(p);
	t->priority = t->has_priority ? json_number_value(p) : 0;
	return 0;
}

/* The API gives how many devices are held, not which. */
static json_t *
service_json_node_gpu_used(const void *rec)
{
	return json_integer(
	    __builtin_popcountll(((const struct node *)rec)->gpu_used));
}

static int
service_json_node_gpu_used_read(json_t *o, const char *key, void *rec,
    struct buf *err)
{
	json_t *v = json_object_get(o, key);
	int64_t used = json_is_integer(v) ? json_integer_value(v) : 0;

	(void)err;
	((struct node *)rec)->gpu_used = used <= 0 ? 0
	    : used >= 64                           ? UINT64_MAX
	                                           : (UINT64_C(1) << used) - 1;
	return 0;
}

static json_t *
service_json_node_jobs(const void *rec)
{
	const struct node *n = rec;
	const struct node_job *j;
	json_t *jobs = json_array();

	VEC_FOREACH (j, &n->jobs)
		json_array_append_new(jobs,
		    service_json_record(service_node_job_fields, j));
	return jobs;
}

static int
service_json_node_jobs_read(json_t *o, const char *key, void *rec,
    struct buf *err)
{
	struct node *n = rec;
	json_t *e;
	size_t i;
	int ret;

	json_array_foreach(json_object_get(o, key), i, e)
	{
		ret = service_json_read(service_node_job_fields, e,
		    VEC_ADD(&n->jobs), err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* "task" as the full name, user.<user>.<name>. */
static json_t *
service_json_task_full(const char *username, const char *task)
{
	struct buf full = BUF_INIT;
	char *user = NULL, *name = NULL;
	bool whole;
	json_t *v;

	/*
	 * The full name only where it reads back as this user's task (see
	 * below); a task or user that could not be named so (none, or not a
	 * valid name: a reply read from a server) is written as it is.
	 */
	names_task_full(&full, username ? username : "", task ? task : "");
	whole = username != NULL && task != NULL &&
	    names_split_task(full.data, &user, &name) == 0 &&
	    strcmp(user, username) == 0 && strcmp(name, task) == 0;
	v = service_json_str(whole ? full.data : task ? task : "");
	free(user);
	free(name);
	buf_release(&full);
	return v;
}

/* Back to the bare name when it is the "user" field's task; else whole. */
static char *
service_json_task_full_read(json_t *o, const char *key)
{
	const char *full = json_string_value(json_object_get(o, key));
	const char *owner = json_string_value(json_object_get(o, "user"));
	char *user = NULL, *name = NULL;

	if (full != NULL && names_split_task(full, &user, &name) == 0 &&
	    strcmp(user, owner ? owner : "") == 0) {
		free(user);
		return name;
	}
	free(user);
	free(name);
	return xstrdup(full != NULL ? full : "");
}

/* A job on a node. */
static json_t *
service_json_node_job_task(const void *rec)
{
	const struct node_job *j = rec;

	return service_json_task_full(j->username, j->task);
}

static int
service_json_node_job_task_read(json_t *o, const char *key, void *rec,
    struct buf *err)
{
	struct node_job *j = rec;

	(void)err;
	j->task = service_json_task_full_read(o, key);
	return 0;
}

/* A run in the history. */
static json_t *
service_json_history_run_task(const void *rec)
{
	const struct history_run *h = rec;

	return service_json_task_full(h->username, h->task);
}

static int
service_json_history_run_task_read(json_t *o, const char *key, void *rec,
    struct buf *err)
{
	struct history_run *h = rec;

	(void)err;
	h->task = service_json_task_full_read(o, key);
	return 0;
}

/* A row that stands for many jobs has no index. */
static json_t *
service_json_queue_index(const void *rec)
{
	const struct queue_row *q = rec;

	return q->job_id ? json_integer(q->idx) : json_null();
}

static int
service_json_queue_index_read(json_t *o, const char *key, void *rec,
    struct buf *err)
{
	json_t *v = json_object_get(o, key);

	(void)err;
	((struct queue_row *)rec)->idx =
	    json_is_integer(v) ? json_integer_value(v) : 0;
	return 0;
}

/* ---- the tables -------------------------------------------------------- */

/* A row of member `member` of `rec`, and (FX) more of the row. */
#define F(rec, member, key, ftype)                                             \
	{                                                                      \
		.name = (key), .type = (ftype),                                \
		.offset = offsetof(rec, member),                               \
		.size = sizeof(((rec *)0)->member)                             \
	}
#define FX(rec, member, key, ftype, ...)                                       \
	{                                                                      \
		.name = (key), .type = (ftype),                                \
		.offset = offsetof(rec, member),                               \
		.size = sizeof(((rec *)0)->member), __VA_ARGS__                \
	}
/* A member the JSON does not carry. */
#define INTERNAL(rec, member)                                                  \
	FX(rec, member, #member, SERVICE_FIELD_INT,                            \
	    .flags = SERVICE_FIELD_INTERNAL)
#define CUSTOM(rec, member, key, w, r)                                         \
	FX(rec, member, key, SERVICE_FIELD_CUSTOM, .write = (w), .read = (r))
#define DERIVED(key, w)                                                        \
	{                                                                      \
		.name = (key), .type = SERVICE_FIELD_CUSTOM,                   \
		.flags = SERVICE_FIELD_DERIVED, .write = (w)                   \
	}
/* Accepted when a user is added (POST) and changed (PATCH). */
#define USER_SET(member)                                                       \
	.flags = SERVICE_FIELD_CREATE | SERVICE_FIELD_UPDATE,                  \
	.opt = offsetof(struct user_opts, member)
/* Accepted when a node is changed (PATCH). */
#define NODE_SET(member)                                                       \
	.flags = SERVICE_FIELD_UPDATE, .opt = offsetof(struct node_opts, member)
#define END                                                                    \
	{                                                                      \
		.name = NULL                                                   \
	}

const struct service_field service_account_fields[] = {
	F(struct account, id, "id", SERVICE_FIELD_INT),
	FX(struct account, username, "username", SERVICE_FIELD_STR0,
	    .flags = SERVICE_FIELD_NAME),
	FX(struct account, email, "email", SERVICE_FIELD_STR0, USER_SET(email)),
	FX(struct account, mail_off, "mail", SERVICE_FIELD_NOT, USER_SET(mail)),
	FX(struct account, max_priority, "max_priority", SERVICE_FIELD_INT,
	    USER_SET(max_priority), .option = "priority"),
	FX(struct account, role, "role", SERVICE_FIELD_STR0, USER_SET(role)),
	FX(struct account, unix_user, "unix_user", SERVICE_FIELD_STR0,
	    USER_SET(unix_user)),
	F(struct account, hold, "hold", SERVICE_FIELD_STR),
	F(struct account, created_ms, "created", SERVICE_FIELD_TIME),
	END,
};

const struct service_field service_token_fields[] = {
	F(struct token, id, "id", SERVICE_FIELD_INT),
	INTERNAL(struct token, account_id),
	F(struct token, username, "username", SERVICE_FIELD_STR0),
	/* Never sent: only the hash of the secret is kept at all. */
	INTERNAL(struct token, hash),
	F(struct token, created_ms, "created", SERVICE_FIELD_TIME),
	F(struct token, expires_ms, "expires", SERVICE_FIELD_TIME),
	F(struct token, last_used_ms, "last_used", SERVICE_FIELD_TIME),
	F(struct token, revoked_ms, "revoked", SERVICE_FIELD_TIME),
	DERIVED("active", service_json_token_active),
	END,
};

const struct service_field service_task_fields[] = {
	F(struct task, id, "id", SERVICE_FIELD_INT),
	INTERNAL(struct task, account_id),
	F(struct task, name, "name", SERVICE_FIELD_STR0),
	DERIVED("full_name", service_json_task_full_name),
	F(struct task, username, "user", SERVICE_FIELD_STR0),
	F(struct task, queue, "queue", SERVICE_FIELD_STR0),
	F(struct task, image, "image", SERVICE_FIELD_STR0),
	F(struct task, command, "command", SERVICE_FIELD_STR0),
	F(struct task, inputs, "inputs", SERVICE_FIELD_STR0),
	F(struct task, data_path, "data", SERVICE_FIELD_STR),
	F(struct task, out_dir, "output", SERVICE_FIELD_STR0),
	F(struct task, gpu, "gpu", SERVICE_FIELD_BOOL),
	F(struct task, skip_test, "skip_test", SERVICE_FIELD_BOOL),
	F(struct task, timeout_ms, "timeout_ms", SERVICE_FIELD_INT),
	F(struct task, retention_ms, "retention_ms", SERVICE_FIELD_NONNEG),
	/* Each job's, bytes; null: the default. */
	F(struct task, memory, "memory", SERVICE_FIELD_POS),
	F(struct task, status, "status", SERVICE_FIELD_TASK_STATUS),
	F(struct task, signal, "signal", SERVICE_FIELD_SIGNAL),
	F(struct task, njobs, "jobs", SERVICE_FIELD_INT),
	F(struct task, submitted_ms, "submitted", SERVICE_FIELD_TIME),
	F(struct task, updated_ms, "updated", SERVICE_FIELD_TIME),
	F(struct task, ended_ms, "ended", SERVICE_FIELD_TIME),
	/* The pilot's cursor: each job's "why" says what it means. */
	INTERNAL(struct task, requeue),
	INTERNAL(struct task, requeue_from),
	F(struct task, after, "after", SERVICE_FIELD_STR0),
	F(struct task, after_any, "after_any", SERVICE_FIELD_STR0),
	F(struct task, inputs_of, "inputs_of", SERVICE_FIELD_STR0),
	INTERNAL(struct task, inputs_of_id),
	END,
};

const struct service_field service_task_summary_fields[] = {
	/* Set by reading "counts". */
	INTERNAL(struct task, has_summary),
	CUSTOM(struct task, counts, "counts", service_json_task_counts,
	    service_json_task_counts_read),
	/* Written and read with "priority". */
	INTERNAL(struct task, has_priority),
	CUSTOM(struct task, priority, "priority", service_json_task_priority,
	    service_json_task_priority_read),
	F(struct task, why, "why", SERVICE_FIELD_STR),
	END,
};

const struct service_field service_job_fields[] = {
	F(struct job, id, "id", SERVICE_FIELD_INT),
	INTERNAL(struct job, task_id),
	F(struct job, idx, "index", SERVICE_FIELD_INT),
	F(struct job, status, "status", SERVICE_FIELD_JOB_STATUS),
	F(struct job, is_test, "test", SERVICE_FIELD_BOOL),
	F(struct job, input, "input", SERVICE_FIELD_STR),
	F(struct job, command, "command", SERVICE_FIELD_STR0),
	F(struct job, priority, "priority", SERVICE_FIELD_DOUBLE),
	F(struct job, node, "node", SERVICE_FIELD_STR),
	F(struct job, gpu_index, "gpu", SERVICE_FIELD_NONNEG),
	/* Placed with, bytes; null: not placed, or none asked. */
	F(struct job, memory, "memory", SERVICE_FIELD_POS),
	/* The backend's name for an attempt: the pilot's alone. */
	INTERNAL(struct job, handle),
	F(struct job, attempts, "attempts", SERVICE_FIELD_INT),
	F(struct job, exit_code, "exit_code", SERVICE_FIELD_NONNEG),
	F(struct job, queued_ms, "queued", SERVICE_FIELD_TIME),
	F(struct job, started_ms, "started", SERVICE_FIELD_TIME),
	F(struct job, ended_ms, "ended", SERVICE_FIELD_TIME),
	F(struct job, end_reason, "end_reason", SERVICE_FIELD_STR),
	/* What its last run used: bytes, ms; null: not known. */
	F(struct job, peak_memory, "peak_memory", SERVICE_FIELD_NONNEG),
	F(struct job, cpu_ms, "cpu_ms", SERVICE_FIELD_NONNEG),
	/* Served by the log endpoint, not with the job. */
	INTERNAL(struct job, log_tail),
	END,
};

const struct service_field service_job_wait_fields[] = {
	/* The job's own id. */
	INTERNAL(struct job_wait, job_id),
	F(struct job_wait, place, "place", SERVICE_FIELD_POS),
	/* Written as the job's "priority" (service_task_show()). */
	INTERNAL(struct job_wait, priority),
	F(struct job_wait, why, "why", SERVICE_FIELD_STR),
	END,
};

const struct service_field service_node_fields[] = {
	F(struct node, id, "id", SERVICE_FIELD_INT),
	FX(struct node, name, "name", SERVICE_FIELD_STR0,
	    .flags = SERVICE_FIELD_NAME),
	FX(struct node, queue, "queue", SERVICE_FIELD_STR0, NODE_SET(queue)),
	FX(struct node, cpu_slots, "cpu_slots", SERVICE_FIELD_INT,
	    NODE_SET(cpu_slots)),
	FX(struct node, gpu_slots, "gpu_slots", SERVICE_FIELD_INT,
	    NODE_SET(gpu_slots)),
	FX(struct node, max_cpu_slots, "max_cpu_slots", SERVICE_FIELD_INT,
	    NODE_SET(max_cpu_slots)),
	FX(struct node, max_gpu_slots, "max_gpu_slots", SERVICE_FIELD_INT,
	    NODE_SET(max_gpu_slots)),
	/* Bytes; 0: not known. */
	FX(struct node, memory, "memory", SERVICE_FIELD_INT, NODE_SET(memory)),
	F(struct node, cpu_used, "cpu_used", SERVICE_FIELD_INT),
	CUSTOM(struct node, gpu_used, "gpu_used", service_json_node_gpu_used,
	    service_json_node_gpu_used_read),
	F(struct node, memory_used, "memory_used", SERVICE_FIELD_INT),
	F(struct node, enabled, "enabled", SERVICE_FIELD_BOOL),
	F(struct node, reachable, "reachable", SERVICE_FIELD_BOOL),
	F(struct node, ready, "ready", SERVICE_FIELD_BOOL),
	F(struct node, memory_pressure, "memory_pressure", SERVICE_FIELD_BOOL),
	F(struct node, disk_pressure, "disk_pressure", SERVICE_FIELD_BOOL),
	F(struct node, last_seen_ms, "last_seen", SERVICE_FIELD_TIME),
	F(struct node, completed, "completed", SERVICE_FIELD_INT),
	F(struct node, failed, "failed", SERVICE_FIELD_INT),
	INTERNAL(struct node, created_ms),
	CUSTOM(struct node, jobs, "jobs", service_json_node_jobs,
	    service_json_node_jobs_read),
	END,
};

const struct service_field service_node_job_fields[] = {
	CUSTOM(struct node_job, task, "task", service_json_node_job_task,
	    service_json_node_job_task_read),
	F(struct node_job, idx, "index", SERVICE_FIELD_INT),
	F(struct node_job, username, "user", SERVICE_FIELD_STR0),
	F(struct node_job, status, "status", SERVICE_FIELD_JOB_STATUS),
	F(struct node_job, gpu_index, "gpu", SERVICE_FIELD_NONNEG),
	F(struct node_job, started_ms, "started", SERVICE_FIELD_TIME),
	END,
};

const struct service_field service_queue_row_fields[] = {
	F(struct queue_row, place, "place", SERVICE_FIELD_POS),
	F(struct queue_row, priority, "priority", SERVICE_FIELD_DOUBLE),
	F(struct queue_row, username, "user", SERVICE_FIELD_STR0),
	F(struct queue_row, task, "task", SERVICE_FIELD_STR0),
	INTERNAL(struct queue_row, task_id),
	F(struct queue_row, job_id, "job_id", SERVICE_FIELD_POS),
	CUSTOM(struct queue_row, idx, "index", service_json_queue_index,
	    service_json_queue_index_read),
	F(struct queue_row, njobs, "jobs", SERVICE_FIELD_INT),
	F(struct queue_row, queue, "queue", SERVICE_FIELD_STR0),
	F(struct queue_row, gpu, "gpu", SERVICE_FIELD_BOOL),
	F(struct queue_row, status, "status", SERVICE_FIELD_JOB_STATUS),
	F(struct queue_row, node, "node", SERVICE_FIELD_STR),
	F(struct queue_row, gpu_index, "gpu_index", SERVICE_FIELD_NONNEG),
	F(struct queue_row, why, "why", SERVICE_FIELD_STR),
	END,
};

const struct service_field service_usage_row_fields[] = {
	F(struct usage_row, at_ms, "at", SERVICE_FIELD_TIME),
	F(struct usage_row, username, "user", SERVICE_FIELD_STR0),
	F(struct usage_row, running, "running", SERVICE_FIELD_INT),
	F(struct usage_row, waiting, "waiting", SERVICE_FIELD_INT),
	END,
};

const struct service_field service_history_total_fields[] = {
	F(struct history_total, group, "group", SERVICE_FIELD_STR0),
	F(struct history_total, jobs, "jobs", SERVICE_FIELD_INT),
	F(struct history_total, cpu_s, "cpu_seconds", SERVICE_FIELD_INT),
	F(struct history_total, gpu_s, "gpu_seconds", SERVICE_FIELD_INT),
	END,
};

const struct service_field service_history_run_fields[] = {
	F(struct history_run, id, "id", SERVICE_FIELD_INT),
	F(struct history_run, username, "user", SERVICE_FIELD_STR0),
	CUSTOM(struct history_run, task, "task", service_json_history_run_task,
	    service_json_history_run_task_read),
	F(struct history_run, idx, "index", SERVICE_FIELD_NONNEG),
	F(struct history_run, attempt, "attempt", SERVICE_FIELD_INT),
	F(struct history_run, queue, "queue", SERVICE_FIELD_STR0),
	F(struct history_run, node, "node", SERVICE_FIELD_STR0),
	F(struct history_run, gpu, "gpu", SERVICE_FIELD_BOOL),
	F(struct history_run, gpu_index, "gpu_index", SERVICE_FIELD_NONNEG),
	F(struct history_run, started_ms, "started", SERVICE_FIELD_TIME),
	F(struct history_run, ended_ms, "ended", SERVICE_FIELD_TIME),
	F(struct history_run, run_ms, "run_ms", SERVICE_FIELD_INT),
	F(struct history_run, status, "status", SERVICE_FIELD_JOB_STATUS),
	F(struct history_run, exit_code, "exit_code", SERVICE_FIELD_NONNEG),
	F(struct history_run, end_reason, "end_reason", SERVICE_FIELD_STR),
	/* Placed with, bytes (null: none, or not recorded); used: bytes, ms
	 * (null: not known). */
	F(struct history_run, memory, "memory", SERVICE_FIELD_POS),
	F(struct history_run, peak_memory, "peak_memory", SERVICE_FIELD_NONNEG),
	F(struct history_run, cpu_ms, "cpu_ms", SERVICE_FIELD_NONNEG),
	END,
};

/* ---- the records ------------------------------------------------------- */

json_t *
service_json_account(const struct account *a)
{
	return service_json_record(service_account_fields, a);
}

json_t *
service_json_token(const struct token *t)
{
	return service_json_record(service_token_fields, t);
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
	json_t *o = service_json_record(service_task_fields, t);

	if (t->has_summary)
		service_json_add(o, service_task_summary_fields, t);
	return o;
}

json_t *
service_json_job(const struct job *j, const struct job_wait *w)
{
	static const struct job_wait none = { 0 };
	json_t *o = service_json_record(service_job_fields, j);

	service_json_add(o, service_job_wait_fields, w != NULL ? w : &none);
	return o;
}

json_t *
service_json_node(const struct node *n)
{
	return service_json_record(service_node_fields, n);
}

json_t *
service_json_queue_row(const struct queue_row *q)
{
	return service_json_record(service_queue_row_fields, q);
}

json_t *
service_json_usage_row(const struct usage_row *u)
{
	return service_json_record(service_usage_row_fields, u);
}

json_t *
service_json_history(const struct history_filter *f, const history_total_vec *v)
{
	const struct history_total *h;
	json_t *arr = json_array();

	VEC_FOREACH (h, v)
		json_array_append_new(arr,
		    service_json_record(service_history_total_fields, h));
	return json_pack("{s:s,s:o,s:o,s:o}", "by", history_by_name(f->by),
	    "since", service_json_time(f->since_ms), "until",
	    service_json_time(f->until_ms), "totals", arr);
}

int
service_json_history_read(json_t *o, history_total_vec *out, struct buf *err)
{
	json_t *e;
	size_t i;
	int ret = 0;

	json_array_foreach(json_object_get(o, "totals"), i, e)
	{
		ret = service_json_read(service_history_total_fields, e,
		    VEC_ADD(out), err);
		if (ret < 0)
			break;
	}
	return ret;
}

json_t *
service_json_history_runs(const struct history_filter *f,
    const history_run_vec *v, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n && i < v->n; i++)
		json_array_append_new(arr,
		    service_json_record(service_history_run_fields, &v->v[i]));
	return json_pack("{s:o,s:o,s:o}", "since",
	    service_json_time(f->since_ms), "until",
	    service_json_time(f->until_ms), "runs", arr);
}

int
service_json_history_runs_read(json_t *o, history_run_vec *out, struct buf *err)
{
	struct history_run *h;
	json_t *e;
	size_t i;
	int ret = 0;

	json_array_foreach(json_object_get(o, "runs"), i, e)
	{
		h = VEC_ADD(out);
		memset(h, 0, sizeof(*h));
		ret = service_json_read(service_history_run_fields, e, h, err);
		if (ret < 0)
			break;
	}
	return ret;
}

/*
 * A job not queued yet: registered, or failed and queued again by its
 * task's retry at one of the pilot's next cycles (task.requeue).  The
 * wait of job id 0 is theirs.  A job's own wait (a remote reply gives
 * each job its own) is its own in any state.
 */
const struct job_wait *
service_job_wait_of(const struct task_detail *d, const struct job *j)
{
	const struct job_wait *w;
	bool later = j->status == JOB_REGISTERED ||
	    (j->status == JOB_FAILED && d->task.requeue &&
	        j->idx >= d->task.requeue_from);

	VEC_FOREACH (w, &d->waits) {
		if (w->job_id == j->id || (w->job_id == 0 && later))
			return w;
	}
	return NULL;
}
