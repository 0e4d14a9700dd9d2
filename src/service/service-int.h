/*
 * service-int.h - what the service's own files share.
 */
#ifndef ORCHESTRA_SERVICE_INT_H
#define ORCHESTRA_SERVICE_INT_H

#include "service/service.h"

/* 0 when the actor owns the thing or is an admin; else ERR_DENIED. */
int service_may_touch(struct service *svc, const struct account *owner,
    struct buf *err);
/* A user name: a valid name without '.' (user.<username>.<task>). */
int service_check_username(const char *name, struct buf *err);
/* Commit when `ret` is 0, else roll back; returns the outcome. */
int service_end(struct service *svc, int ret, struct buf *err);

#endif
