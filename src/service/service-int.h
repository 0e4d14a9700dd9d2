/*
 * service-int.h - what the service's own files share.
 */
#ifndef ORCHESTRA_SERVICE_INT_H
#define ORCHESTRA_SERVICE_INT_H

#include "service/service.h"
#include "store/store.h"

/* 0 when the actor owns the thing or is an admin; else ERR_DENIED. */
int service_may_touch(struct service *svc, const struct account *owner,
    struct buf *err);
/* A user name: a valid name without '.' (user.<username>.<task>). */
int service_check_username(const char *name, struct buf *err);
/* Commit when `ret` is 0, else roll back; returns the outcome. */
int service_end(struct service *svc, int ret, struct buf *err);

#include <jansson.h>

/*
 * One record of the API's JSON (service/service-json.c) back into its struct
 * (service-remote.c, by its table; caller releases the struct, also after
 * an error): ERR_UNAVAILABLE when a status is unknown.  `w` gets the job's
 * place and why (why NULL: it does not wait).
 */
int service_remote_parse_task(json_t *o, struct task *t, struct buf *err);
int service_remote_parse_job(json_t *o, struct job *j, struct job_wait *w,
    struct buf *err);
int service_remote_parse_node(json_t *o, struct node *n, struct buf *err);
void service_remote_parse_account(json_t *o, struct account *a);
void service_remote_parse_token(json_t *o, struct token *t);
int service_remote_parse_queue_row(json_t *o, struct queue_row *q,
    struct buf *err);

/*
 * The remote service (service-remote.c): the same contracts as the
 * service_* functions they stand for, over the HTTP API.
 */
void service_remote_close(struct service *svc);
/*
 * GET `url` (http:// or https://, checked against the CA file `ca` if
 * not NULL) with no token, connection and answer within `timeout_ms`: 0
 * and *status once the server answered, else ERR_UNAVAILABLE with why
 * (the URL redacted).
 */
int service_remote_probe(const char *url, const char *ca, long timeout_ms,
    long *status, struct buf *err);
/* ERR_INVALID: `what` has no endpoint in the API. */
int service_remote_refuse(struct service *svc, const char *what,
    struct buf *err);
int service_remote_task_submit(struct service *svc,
    const struct submit_req *req, struct task *out, struct buf *err);
int service_remote_task_list(struct service *svc,
    const struct task_list_req *req, task_vec *out, struct buf *err);
/* `status`: a job status's name, checked already, or NULL. */
int service_remote_task_show(struct service *svc, const char *name,
    const char *status, int64_t after_idx, int64_t job_limit,
    struct task_detail *out, struct buf *err);
/* At most 1 MiB of the part `req` says, in out->text. */
int service_remote_task_logs(struct service *svc, const char *name,
    const struct job_log_req *req, struct job_log *out, struct buf *err);
int service_remote_task_signal(struct service *svc, const char *name,
    enum task_signal sig, bool remove_files, struct task *out, struct buf *err);
/* Its first `max_rows` rows (0: all), page by page. */
int service_remote_queue(struct service *svc, const char *queue,
    const char *user, int64_t max_rows, queue_row_vec *out, struct buf *err);
int service_remote_history(struct service *svc, const struct history_filter *f,
    history_total_vec *out, struct buf *err);
/* The runs after `after`, at most `max_rows` (0: all), page by page. */
int service_remote_history_runs(struct service *svc,
    const struct history_filter *f, int64_t after, int64_t max_rows,
    history_run_vec *out, struct buf *err);
int service_remote_node_list(struct service *svc, const char *after,
    int64_t limit, node_vec *out, struct buf *err);
/* PATCH the node with `o`, or (o NULL) drain or resume it. */
int service_remote_node_change(struct service *svc, const char *name,
    const struct node_opts *o, bool enabled, struct node *out, struct buf *err);
int service_remote_user_list(struct service *svc, const char *after,
    int64_t limit, account_vec *out, struct buf *err);
/* "GET" (o NULL) or "PATCH" user `name`, or "POST" (add) it. */
int service_remote_user(struct service *svc, const char *method,
    const char *name, const struct user_opts *o, struct account *out,
    struct buf *err);
int service_remote_token_issue(struct service *svc, const char *user,
    int64_t expires_in_ms, struct token *out, struct buf *secret,
    struct buf *err);
int service_remote_token_list(struct service *svc, const char *user,
    int64_t after_id, int64_t limit, token_vec *out, struct buf *err);
/*
 * Why the registered task `task_id` waits when it waits for a task it
 * runs after (core/after.c's words) into `*why` (caller frees), else
 * `*why` NULL.
 */
int service_queue_after_why(struct service *svc, int64_t task_id, char **why,
    struct buf *err);
/*
 * Why the first waiting job of `t` (its summary filled) waits, from its
 * counts, its status and `nodes` (with usage): the queue's words, with no
 * place (that takes the scheduler's merge), its jobs asking t->memory,
 * else `default_memory`, else their node's share.  NULL when none waits;
 * caller frees.
 */
char *service_queue_task_why(const struct task *t, const node_vec *nodes,
    const char *hold, int64_t default_memory);
/*
 * Why the waiting jobs of d->task wait, into d->waits: first its first
 * waiting job in the scheduler's order, then each assigned job of
 * d->jobs, then its registered jobs as one (job_id 0).  The merge runs
 * only as far as those jobs, and no further than SERVICE_QUEUE_PLACES_MAX
 * places: a job past that has place 0 and says so.
 */
int service_queue_task_waits(struct service *svc, struct task_detail *d,
    struct buf *err);
/*
 * `why` (freed) with `down` (service_pilot_down()'s why) before it: what a
 * waiting job says while no pilot runs.
 */
char *service_pilot_why(const struct buf *down, char *why);

int service_remote_token_revoke(struct service *svc, const char *user,
    int64_t id, struct token *out, struct buf *err);
int service_remote_token_revoke_all(struct service *svc, const char *user,
    int64_t *ntokens, int64_t *nsessions, struct buf *err);

int service_remote_status(struct service *svc, json_t **out, struct buf *err);
int service_remote_pilot(struct service *svc, struct pilot_beat *out,
    struct buf *err);

#endif
