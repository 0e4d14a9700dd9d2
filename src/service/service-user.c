/*
 * service-user.c - adding, listing and changing users.
 */
#include "backend/backend.h"
#include "service/service-int.h"
#include "service/service-json.h"

#define USER_MAX_PRIORITY 1000000000

int
service_user_check_words(const struct user_opts *o, struct buf *err)
{
	if (o->mail != NULL && strcmp(o->mail, "on") != 0 &&
	    strcmp(o->mail, "off") != 0)
		return err_set(err, ERR_INVALID,
		    "invalid --mail '%s': must be 'on' or 'off'", o->mail);
	if (o->role != NULL && strcmp(o->role, "user") != 0 &&
	    strcmp(o->role, "admin") != 0)
		return err_set(err, ERR_INVALID,
		    "invalid role '%s': must be 'user' or 'admin'", o->role);
	return 0;
}

static int
service_user_check_opts(const struct user_opts *o, struct buf *err)
{
	/* "" clears the address (no mail). */
	if (o->email != NULL && *o->email != '\0' &&
	    address_check(o->email, "email", err) < 0)
		return ERR_INVALID;
	if (service_user_check_words(o, err) < 0)
		return ERR_INVALID;
	if (o->max_priority != OPT_UNSET &&
	    (o->max_priority < 0 || o->max_priority > USER_MAX_PRIORITY))
		return err_set(err, ERR_INVALID,
		    "invalid priority %lld: must be between 0 and %d",
		    (long long)o->max_priority, USER_MAX_PRIORITY);
	if (o->unix_user != NULL && names_check_login(o->unix_user, err) < 0)
		return ERR_INVALID;
	return 0;
}

/*
 * --kubernetes: the backend's part first (idempotent; no transaction held
 * across it).  Returns 1 to go on and add the user, 0 when the user
 * exists already (then this was all there was to do), or ERR_*.
 */
static int
service_user_prepare(struct service *svc, const char *name,
    const struct user_opts *o, struct account *out, struct buf *err)
{
	struct backend *be = NULL;
	int ret;

	if ((o->nfs_server == NULL) != (o->nfs_path == NULL))
		return err_set(err, ERR_INVALID,
		    "--nfs-server and --nfs-path go together");
	ret = service_require_admin(svc, err);
	if (ret < 0)
		return ret;
	ret = backend_open(&be, svc->cfg, err);
	if (ret < 0)
		return ret;
	if (be->ops->prepare_user == NULL)
		ret = err_set(err, ERR_INVALID,
		    "backend '%s' has nothing to make for a user "
		    "(--kubernetes needs ORCHESTRA_BACKEND=kubernetes)",
		    be->ops->name);
	else
		ret = be->ops->prepare_user(be, name, o->nfs_server,
		    o->nfs_path, err);
	backend_close(be);
	if (ret < 0)
		return ret;
	ret = store_account_get(svc->st, name, out, err);
	if (ret == 0)
		return 0;
	account_release(out);
	return ret == ERR_NOTFOUND ? 1 : ret;
}

int
service_user_add(struct service *svc, const char *name,
    const struct user_opts *o, struct account *out, struct buf *err)
{
	struct event ev = { .kind = "account", .new_status = "added" };
	int ret;

	ret = service_user_check_opts(o, err);
	if (ret < 0)
		return ret;
	if (svc->remote != NULL)
		return service_remote_user(svc, "POST", name, o, out, err);
	ret = service_check_username(name, err);
	if (ret < 0)
		return ret;
	if (o->kubernetes) {
		ret = service_user_prepare(svc, name, o, out, err);
		if (ret == 0)
			return 1; /* existed: its namespace is made */
		if (ret < 0)
			return ret;
	}
	ret = store_begin(svc->st, err);
	if (ret < 0)
		return ret;
	ret = service_require_admin(svc, err);
	if (ret < 0)
		goto out;
	out->username = xstrdup(name);
	out->email = xstrdup(o->email ? o->email : "");
	out->max_priority =
	    o->max_priority != OPT_UNSET ? o->max_priority : 1000;
	out->role = xstrdup(o->role ? o->role : "user");
	out->mail_off = o->mail != NULL && strcmp(o->mail, "off") == 0;
	out->unix_user = xstrdup(o->unix_user ? o->unix_user : name);
	out->created_ms = time_now_ms();
	ret = store_account_insert(svc->st, out, err);
	if (ret < 0)
		goto out;
	ev.account_id = out->id;
	ret = store_event_add(svc->st, &ev, err);
out:
	return service_end(svc, ret, err);
}

int
service_user_list(struct service *svc, const char *after, int64_t limit,
    account_vec *out, struct buf *err)
{
	/* Emails are personal: across the network only admins list them. */
	int ret;

	if (svc->remote != NULL)
		return service_remote_user_list(svc, after, limit, out, err);
	ret = service_require_admin(svc, err);
	if (ret < 0)
		return ret;
	if (after != NULL) {
		ret = names_check("user name", after, err);
		if (ret < 0)
			return ret;
	}
	return store_account_list(svc->st, after, limit, out, err);
}

int
service_user_show(struct service *svc, const char *name, struct account *out,
    struct buf *err)
{
	int ret;

	if (svc->remote != NULL)
		return service_remote_user(svc, "GET", name, NULL, out, err);
	ret = store_account_get(svc->st, name, out, err);
	if (ret == 0)
		ret = service_may_touch(svc, out, err);
	if (ret < 0)
		account_release(out);
	return ret;
}

int
service_user_check_set(const struct user_opts *o, bool options, struct buf *err)
{
	return service_json_opts_check_set(service_account_fields, o, options,
	    err);
}

int
service_user_set(struct service *svc, const char *name,
    const struct user_opts *o, struct account *out, struct buf *err)
{
	struct event ev = { .kind = "account", .new_status = "changed" };
	int ret;

	ret = service_user_check_set(o, false, err);
	if (ret == 0)
		ret = service_user_check_opts(o, err);
	if (ret < 0)
		return ret;
	if (svc->remote != NULL)
		return service_remote_user(svc, "PATCH", name, o, out, err);
	ret = store_begin(svc->st, err);
	if (ret < 0)
		return ret;
	ret = service_require_admin(svc, err);
	if (ret < 0)
		goto out;
	ret = store_account_get(svc->st, name, out, err);
	if (ret < 0)
		goto out;
	if (o->email != NULL) {
		free(out->email);
		out->email = xstrdup(o->email);
	}
	if (o->max_priority != OPT_UNSET)
		out->max_priority = o->max_priority;
	if (o->role != NULL) {
		free(out->role);
		out->role = xstrdup(o->role);
	}
	if (o->mail != NULL)
		out->mail_off = strcmp(o->mail, "off") == 0;
	if (o->unix_user != NULL) {
		free(out->unix_user);
		out->unix_user = xstrdup(o->unix_user);
	}
	ret = store_account_update(svc->st, out, err);
	if (ret < 0)
		goto out;
	ev.account_id = out->id;
	ret = store_event_add(svc->st, &ev, err);
out:
	return service_end(svc, ret, err);
}
