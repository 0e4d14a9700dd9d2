/*
 * service-json.h - records as JSON (service-json.c), in the one shape
 * both `orchestra … --json` and the HTTP API give.  Each returns a new
 * reference.
 */
#ifndef ORCHESTRA_SERVICE_JSON_H
#define ORCHESTRA_SERVICE_JSON_H

#include <jansson.h>

#include "service/service.h"

/* A string, null for NULL; bytes that are not UTF-8 become '?'. */
json_t *service_json_str(const char *s);
/* "YYYY-MM-DDTHH:MM:SSZ" (UTC), null for 0. */
json_t *service_json_time(int64_t ms);
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

/* Why job `j` of task `d` waits, if it does: its row of d's waits. */
const struct job_wait *service_job_wait_of(const struct task_detail *d,
    const struct job *j);

#endif
