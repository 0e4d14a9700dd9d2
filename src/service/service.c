/*
 * service.c - who may do what.
 */
#include "service/service-int.h"

int
service_open(struct service *svc, const struct config *cfg, const char *actor,
    struct buf *err)
{
	int ret;

	memset(svc, 0, sizeof(*svc));
	ret = store_open(&svc->st, cfg->db_url, false, err);
	if (ret < 0)
		return ret;
	svc->cfg = cfg;
	svc->actor = actor;
	svc->trusted = true;
	return 0;
}

void
service_close(struct service *svc)
{
	service_remote_close(svc);
	store_close(svc->st);
	svc->st = NULL;
}

bool
service_is_open(const struct service *svc)
{
	return svc->st != NULL || svc->remote != NULL;
}

int
service_require_admin(struct service *svc, struct buf *err)
{
	struct account a = { 0 };
	int ret;

	if (svc->trusted)
		return 0;
	ret = store_account_get(svc->st, svc->actor, &a, err);
	if (ret < 0)
		return ret == ERR_NOTFOUND ? ERR_DENIED : ret;
	ret = strcmp(a.role, "admin") == 0 ? 0 : ERR_DENIED;
	account_release(&a);
	if (ret < 0)
		err_set(err, ret, "user '%s' is not an admin", svc->actor);
	return ret;
}

int
service_may_touch(struct service *svc, const struct account *owner,
    struct buf *err)
{
	if (svc->trusted || strcmp(owner->username, svc->actor) == 0)
		return 0;
	return service_require_admin(svc, err);
}

int
service_check_username(const char *name, struct buf *err)
{
	int ret = names_check("user name", name, err);

	if (ret == 0 && strchr(name, '.') != NULL)
		ret = err_set(err, ERR_INVALID,
		    "invalid user name '%s': no '.' allowed (tasks are shown "
		    "as user.<username>.<task>)",
		    name);
	return ret;
}

/* Finish a unit of work: commit when ret is 0, else roll back. */
int
service_end(struct service *svc, int ret, struct buf *err)
{
	/* Every change may matter to the pilot: wake it at commit. */
	if (ret == 0)
		ret = store_notify(svc->st, err);
	return store_end(svc->st, ret, err);
}
