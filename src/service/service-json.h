/*
 * service-json.h - records as JSON (service-json.c), in the one shape
 * both `orchestra … --json` and the HTTP API give.  Each returns a new
 * reference.
 */
#ifndef ORCHESTRA_SERVICE_JSON_H
#define ORCHESTRA_SERVICE_JSON_H

#include <jansson.h>

#include "service/service.h"

/*
 * ---- each record described once -------------------------------------------
 *
 * A record's JSON is a table of its fields, in the order the JSON gives
 * them: service_json_record() writes it (what `--json` prints and the API
 * answers), service_json_read() reads it back (the remote command line,
 * service-remote.c), and the API takes the fields marked CREATE or UPDATE
 * in request bodies (web/api-*.c), as the members of an options struct
 * (struct user_opts, struct node_opts) that the command line fills too.
 * A member the JSON does not carry has a row too, marked INTERNAL, so
 * that the table accounts for every member (tests/unit/test-fields.c
 * checks it, and that each record read back is the one written).
 */
enum service_field_type {
	SERVICE_FIELD_STR,    /* char *: null for NULL; absent reads NULL */
	SERVICE_FIELD_STR0,   /* char *, never NULL: absent reads "" */
	SERVICE_FIELD_INT,    /* int64_t; absent reads 0 */
	SERVICE_FIELD_POS,    /* int64_t: null unless positive, read as 0 */
	SERVICE_FIELD_NONNEG, /* int64_t: null when negative, read as -1 */
	SERVICE_FIELD_BOOL,   /* bool; absent reads false */
	SERVICE_FIELD_NOT,    /* bool, written negated (mail_off as "mail") */
	SERVICE_FIELD_TIME,   /* int64_t epoch ms: service_json_time() */
	SERVICE_FIELD_DOUBLE, /* double; absent reads 0 */
	SERVICE_FIELD_TASK_STATUS, /* enum task_status, by name */
	SERVICE_FIELD_JOB_STATUS,  /* enum job_status, by name */
	SERVICE_FIELD_SIGNAL,      /* enum task_signal: null for none */
	SERVICE_FIELD_CUSTOM,      /* the row's write and read */
};

/*
 * The flag every writer of our JSON adds to json_dumps(): doubles to 15
 * significant digits.  A double read from a decimal of at most 15 digits
 * prints as that decimal, and reads back the same: a priority, which the
 * rules give with one decimal at most (core/priority.c), is written
 * 999.8, not 999.79999999999995 (jansson's default of 17 digits).
 */
#define SERVICE_JSON_DUMP_REAL JSON_REAL_PRECISION(15)

/* A member the JSON does not carry (`name` is the member's). */
#define SERVICE_FIELD_INTERNAL 0x01
/* Written from other members, never read back (no member: size 0). */
#define SERVICE_FIELD_DERIVED 0x02
/* The record's name: a create body's required key, else in the path. */
#define SERVICE_FIELD_NAME 0x04
/* Accepted in the body that creates (POST) or changes (PATCH) one. */
#define SERVICE_FIELD_CREATE 0x08
#define SERVICE_FIELD_UPDATE 0x10

struct service_field {
	const char *name; /* the JSON key */
	enum service_field_type type;
	size_t offset; /* of the member in the record */
	size_t size;   /* of the member; 0 for a DERIVED row */
	unsigned flags;
	/*
	 * CREATE or UPDATE: the member of the options struct it sets, as
	 * the type says: a string `const char *` (NULL: not given), an
	 * integer `int64_t` (OPT_UNSET), a boolean `const char *` "on" or
	 * "off" (NULL), the command line's words.
	 */
	size_t opt;
	/* The command line's option for it, when not --NAME with '-'. */
	const char *option;
	/* CUSTOM: the value of `rec` (a new reference), and its reading. */
	json_t *(*write)(const void *rec);
	int (*read)(json_t *o, const char *key, void *rec, struct buf *err);
};

/* The tables (service-json.c), each ending with a row of NULL name. */
extern const struct service_field service_account_fields[];
extern const struct service_field service_token_fields[];
extern const struct service_field service_task_fields[];
/* What a task of a list adds when it has its summary (has_summary). */
extern const struct service_field service_task_summary_fields[];
extern const struct service_field service_job_fields[];
/* The job's struct job_wait, after the job's own fields. */
extern const struct service_field service_job_wait_fields[];
extern const struct service_field service_node_fields[];
extern const struct service_field service_node_job_fields[];
extern const struct service_field service_queue_row_fields[];
extern const struct service_field service_usage_row_fields[];
extern const struct service_field service_history_total_fields[];
extern const struct service_field service_history_run_fields[];

/* A new JSON object of the record `rec` that `table` describes. */
json_t *service_json_record(const struct service_field *table, const void *rec);
/* Add the fields of `rec` that `table` describes to the object `o`. */
void service_json_add(json_t *o, const struct service_field *table,
    const void *rec);
/*
 * Read the fields `table` describes from the object `o` into `rec`
 * (whose members it overwrites: strings are new, caller releases the
 * record, also after a failure).  A field that is missing or of another
 * type reads as its "none" value (the type says which); a status that
 * is not known is ERR_UNAVAILABLE, with why in `err`.
 */
int service_json_read(const struct service_field *table, json_t *o, void *rec,
    struct buf *err);

/*
 * Request bodies: the fields of `table` with one of `flags`
 * (SERVICE_FIELD_CREATE, _UPDATE) between the JSON object `o` and the
 * options struct `opts`.  service_json_opts_read() sets every such member,
 * to its "not given" value when `o` lacks the key; strings are borrowed
 * from `o`.  service_json_opts_write() is a new object of those given.
 * The types are checked already (web_body_check_fields()).
 */
void service_json_opts_read(const struct service_field *table, unsigned flags,
    json_t *o, void *opts);
json_t *service_json_opts_write(const struct service_field *table,
    unsigned flags, const void *opts);
/*
 * 0 when `opts` gives one of the UPDATE fields of `table`, else
 * ERR_INVALID and "nothing to set: give A, B or C", each field by its
 * JSON name or, with `options`, as the command line's option (--a).
 */
int service_json_opts_check_set(const struct service_field *table,
    const void *opts, bool options, struct buf *err);

/* A string, null for NULL; bytes that are not UTF-8 become '?'. */
json_t *service_json_str(const char *s);
/* "YYYY-MM-DDTHH:MM:SSZ" (UTC), null for 0. */
json_t *service_json_time(int64_t ms);
/* The inverse: epoch ms of such a string, 0 for anything else (a time
 * after the year 9999 too). */
int64_t service_json_read_time(json_t *v);
json_t *service_json_account(const struct account *a);
json_t *service_json_token(const struct token *t);
/* What service_token_revoke_all() did: {"username", "tokens_revoked",
 * "sessions_ended"}. */
json_t *service_json_revoked(const char *user, int64_t ntokens,
    int64_t nsessions);
/* {"<job status>": n, ...} for every job status. */
json_t *service_json_counts(const int64_t counts[JOB_NSTATUS]);
/* With counts, priority and why when t->has_summary. */
json_t *service_json_task(const struct task *t);
/* `w`: why the job waits (service_job_wait_of()), or NULL. */
json_t *service_json_job(const struct job *j, const struct job_wait *w);
json_t *service_json_node(const struct node *n);
json_t *service_json_queue_row(const struct queue_row *q);
json_t *service_json_usage_row(const struct usage_row *u);
/* The accounting answer: {"by", "since", "until", "totals": [...]}. */
json_t *service_json_history(const struct history_filter *f,
    const history_total_vec *v);
/* Its totals back into `out` (appended; caller releases). */
int service_json_history_read(json_t *o, history_total_vec *out,
    struct buf *err);
/* {"since", "until", "runs": the first `n` of `v`}. */
json_t *service_json_history_runs(const struct history_filter *f,
    const history_run_vec *v, size_t n);
/* Append the "runs" of `o` to `out`; ERR_UNAVAILABLE for a bad one. */
int service_json_history_runs_read(json_t *o, history_run_vec *out,
    struct buf *err);

/* Why job `j` of task `d` waits, if it does: its row of d's waits. */
const struct job_wait *service_job_wait_of(const struct task_detail *d,
    const struct job *j);

/* The heartbeat as JSON (running, why, host, pid, interval_ms, started,
 * last_cycle, stopped), judged at now_ms. */
json_t *service_pilot_json(const struct pilot_beat *b, int64_t now_ms);
/*
 * `orchestra status` as JSON (*out, the caller's): pilot (as
 * service_pilot_json), backend, database {kind, file: SQLite's only},
 * mail {waiting}, nodes {total, ready, unhealthy [names], drained
 * [names]}, jobs {state: count, every state}.  Remotely the server's.
 */
int service_status(struct service *svc, json_t **out, struct buf *err);

#endif
