/*
 * service-usage.c - the usage history the dashboard charts: running and
 * waiting jobs per user over time, as the pilot sampled them (table
 * `usage`).  Open to everyone who may read the queue.
 */
#include "service/service-int.h"

int
service_usage(struct service *svc, int64_t since_ms, const char *user,
    usage_row_vec *out, struct buf *err)
{
	struct account owner = { 0 };
	int64_t now = time_now_ms();
	int ret;

	if (svc->remote != NULL)
		return service_remote_refuse(svc, "usage", err);
	if (since_ms < now - SERVICE_USAGE_MAX_MS)
		return err_set(err, ERR_INVALID,
		    "'since' is more than 8 days ago: the history goes back 8 "
		    "days");
	if (user != NULL) {
		ret = store_account_get(svc->st, user, &owner, err);
		account_release(&owner);
		if (ret < 0)
			return ret;
	}
	ret = store_usage_list(svc->st, since_ms, user,
	    SERVICE_USAGE_MAX_ROWS + 1, out, err);
	if (ret < 0)
		return ret;
	if (out->n > SERVICE_USAGE_MAX_ROWS) {
		usage_row_vec_release(out);
		return err_set(err, ERR_INVALID,
		    "more than %d samples since then: ask for a later 'since' "
		    "or one 'user'",
		    SERVICE_USAGE_MAX_ROWS);
	}
	return 0;
}
