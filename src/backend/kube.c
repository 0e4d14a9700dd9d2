/*
 * kube.c - the kubernetes backend: one batch/v1 Job per job attempt, in
 * its owner's namespace, from the job template (kube-manifest.c), through
 * the API client (kube-client.c).
 *
 * The pilot's view of the cluster is three caches kept by list and watch
 * (kube-informer.c), as Kubernetes' own controllers keep theirs:
 * Orchestra's Jobs and their pods (by label, across namespaces) and the
 * nodes.  A steady cycle reads them and asks the API server nothing, so
 * the number of requests does not grow with the number of jobs; only what
 * happens to a job costs requests (its create, its log, its delete).  A
 * Job's end is read from its conditions (only the terminal ones, Complete
 * and Failed, end a job) and its exit code from its pod; the watch wakes
 * the pilot as soon as a Job ends or goes away.  Callers that never wait
 * on event_fd() (one-off commands) get no watches: each call lists.
 *
 * Creates are idempotent: a Job's name is its job id and attempt, and a
 * create that got no answer is checked by name before it is tried again;
 * a Job is deleted only once no create of its name can still be on its
 * way (kube_create_once), so there is never a second Kubernetes Job for
 * one attempt.  An API
 * server that does not answer is never a job's failure: start() then says
 * ERR_UNAVAILABLE and the pilot tries again later.
 *
 * A pod that cannot start (its image cannot be pulled, ErrImagePull,
 * ImagePullBackOff; or its container cannot be made,
 * CreateContainerConfigError, as when runAsNonRoot meets a root
 * container) for longer than KUBE_PULL_WAIT_S (ORCHESTRA_KUBE_PULL_WAIT,
 * seconds) ends its job as "could not start": the kubelet tries again for
 * ever, and a wrong image name must not hold a slot until the task's
 * time limit.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "backend/kube-int.h"
#include "util/vec.h"

#define KUBE_SELECTOR "app.kubernetes.io%2Fmanaged-by%3Dorchestra"
/*
 * A finished Job stays this long if Orchestra is gone (the pilot deletes
 * it once its end is recorded).  A pilot down longer finds it gone and
 * queues the job again, which then runs twice: a week covers a weekend's
 * or a holiday's outage, which one day did not.  kube_job_ttl changes
 * it; 0 gives no TTL (the Jobs stay until a pilot deletes them).
 */
#define KUBE_TTL_SECONDS (7 * 86400)
/* Less would delete Jobs a pilot restarted in minutes has not read. */
#define KUBE_TTL_MIN_SECONDS 3600
/* ttlSecondsAfterFinished is an int32; ten years is plenty. */
#define KUBE_TTL_MAX_SECONDS (3650LL * 86400)
/* How long a pod may fail to start (kube_start_failures) before its job
 * ends. */
#define KUBE_PULL_WAIT_S 300
/*
 * The longest an API server may hold a create before it does it (its
 * --request-timeout is 60 s by default), with a margin: a Job is deleted
 * no sooner than this after the last create of its name was sent
 * (kube_delete_due).  ORCHESTRA_KUBE_CREATE_HOLD changes it.
 */
#define KUBE_CREATE_HOLD_MS 90000
/* A delete that is due but could not be done is tried again after this. */
#define KUBE_TIDY_AGAIN_MS 200

/*
 * The template built in, the same as deploy/job-template.yaml: the claim
 * "volume", which kube_manifest() mounts at ORCHESTRA_VOLUME/<user>.
 */
static const char kube_default_template[] = "apiVersion: batch/v1\n"
                                            "kind: Job\n"
                                            "metadata:\n"
                                            "  name: placeholder\n"
                                            "spec:\n"
                                            "  template:\n"
                                            "    spec:\n"
                                            "      restartPolicy: Never\n"
                                            "      containers:\n"
                                            "        - name: job\n"
                                            "          image: debian:12\n"
                                            "      volumes:\n"
                                            "        - name: volume\n"
                                            "          persistentVolumeClaim:\n"
                                            "            claimName: volume\n";

struct kube_backend {
	struct backend base; /* first, for the checked downcast */
	char *volume;        /* ORCHESTRA_VOLUME: claims at <volume>/<user> */
	int64_t pull_wait_ms;
	int64_t create_hold_ms; /* KUBE_CREATE_HOLD_MS */
	int64_t ttl_seconds;    /* KUBE_TTL_SECONDS; 0: none */
	int64_t opened_ms;      /* monotonic: when this process opened */
	json_t *posted; /* Job name -> monotonic ms of its last create sent */
	backend_ref_vec deletes; /* released, deleted once due */
	int tfd;                 /* in epfd: wakes the pilot when one is due */
	int64_t armed_ms;        /* when tfd fires (monotonic ms); 0: never */
	struct kube_client *client;
	json_t *tmpl;
	int epfd;      /* the watches' descriptors, for event_fd() */
	bool watching; /* somebody waits on epfd: keep watches */
	struct kube_informer *jobs, *pods, *nodes;
};

/* A string of a JSON tree, "" when absent or not a string. */
static const char *
kube_sv(json_t *v)
{
	const char *s = json_string_value(v);

	return s != NULL ? s : "";
}

static struct kube_backend *
kube_downcast(struct backend *be)
{
	if (be->ops != &backend_kube_ops)
		BUG("not a kubernetes backend");
	return (struct kube_backend *)be;
}

/* ---- what the caches keep ----------------------------------------------- */

/* A copy of `obj` with only the keys named of its metadata and status. */
static json_t *
kube_slim(json_t *obj, const char *const *meta, const char *const *status)
{
	json_t *out = json_object(), *m = json_object(), *st = json_object();
	json_t *from, *v;

	from = json_object_get(obj, "metadata");
	for (; *meta != NULL; meta++)
		if ((v = json_object_get(from, *meta)) != NULL)
			json_object_set(m, *meta, v);
	from = json_object_get(obj, "status");
	for (; *status != NULL; status++)
		if ((v = json_object_get(from, *status)) != NULL)
			json_object_set(st, *status, v);
	json_object_set_new(out, "metadata", m);
	json_object_set_new(out, "status", st);
	return out;
}

static const char *
kube_name_of(json_t *obj)
{
	return json_string_value(
	    json_object_get(json_object_get(obj, "metadata"), "name"));
}

/* A pod is kept under the name of its Job. */
static const char *
kube_pod_key(json_t *pod)
{
	return json_string_value(json_object_get(
	    json_object_get(json_object_get(pod, "metadata"), "labels"),
	    "job-name"));
}

static json_t *
kube_slim_job(json_t *job)
{
	static const char *const meta[] = { "name", "namespace", "labels",
		"resourceVersion", NULL };
	static const char *const status[] = { "conditions", "startTime",
		"completionTime", NULL };

	return kube_slim(job, meta, status);
}

static json_t *
kube_slim_pod(json_t *pod)
{
	static const char *const meta[] = { "name", "namespace", "labels",
		"resourceVersion", "creationTimestamp", NULL };
	static const char *const status[] = { "containerStatuses", NULL };

	return kube_slim(pod, meta, status);
}

static json_t *
kube_slim_node(json_t *node)
{
	static const char *const meta[] = { "name", "resourceVersion", NULL };
	static const char *const status[] = { "conditions", "capacity",
		"allocatable", NULL };

	return kube_slim(node, meta, status);
}

/* Does the Job hold condition `type` with status True? */
static bool kube_condition(json_t *job, const char *type);

/* The pilot wants to hear at once of a Job that ended or went. */
static bool
kube_job_wakes(const char *type, json_t *job)
{
	return strcmp(type, "DELETED") == 0 ||
	    kube_condition(job, "Complete") || kube_condition(job, "Failed");
}

static bool
kube_never_wakes(const char *type, json_t *obj)
{
	(void)type;
	(void)obj;
	return false;
}

static const struct kube_kind kube_jobs_kind = { "Jobs",
	"/apis/batch/v1/jobs?labelSelector=" KUBE_SELECTOR, kube_name_of,
	kube_slim_job, kube_job_wakes };
static const struct kube_kind kube_pods_kind = { "pods",
	"/api/v1/pods?labelSelector=" KUBE_SELECTOR, kube_pod_key,
	kube_slim_pod, kube_never_wakes };
/* Health is read at each cycle: a node's change need not wake the pilot. */
static const struct kube_kind kube_nodes_kind = { "nodes", "/api/v1/nodes",
	kube_name_of, kube_slim_node, kube_never_wakes };

/* ---- the backend ----------------------------------------------------------
 */

/*
 * The setting `which` holds `v`, which is not `what`: ERR_INVALID, naming
 * the variable or the config file it came from.
 */
static int
kube_setting_bad(const struct config *cfg, enum config_env which, const char *v,
    const char *what, struct buf *err)
{
	struct buf where = BUF_INIT;
	int ret;

	config_env_where(cfg, which, &where);
	ret =
	    err_set(err, ERR_INVALID, "%s '%s' is not %s", where.data, v, what);
	buf_release(&where);
	return ret;
}

/* A number above 0 and up to `max` into *out: 0, or -1. */
static int
kube_parse_positive(const char *s, double max, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !(d > 0) || d > max)
		return -1;
	*out = d;
	return 0;
}

/*
 * Read and check the job template: ORCHESTRA_JOB_TEMPLATE's file, else
 * the built-in one.  0 and *out (caller decrefs), or ERR_INVALID.
 */
static int
kube_template_load(const struct config *cfg, json_t **out, struct buf *err)
{
	struct buf what = BUF_INIT, b = BUF_INIT;
	char chunk[4096];
	size_t len;
	FILE *f;
	int ret;

	*out = NULL;
	if (cfg->job_template != NULL) {
		f = fopen(cfg->job_template, "re");
		if (f == NULL)
			return err_set(err, ERR_INVALID,
			    "cannot read the job template '%s'",
			    cfg->job_template);
		b.cap_limit = 1 << 20;
		while ((len = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_add(&b, chunk, len);
		fclose(f);
		buf_addf(&what, "job template '%s'", cfg->job_template);
	} else {
		buf_adds(&b, kube_default_template);
		buf_adds(&what, "the built-in job template");
	}
	ret = kube_yaml_parse(b.data, b.len, what.data, out, err);
	if (ret == 0)
		ret = kube_template_check(*out, what.data, err);
	if (ret < 0) {
		json_decref(*out);
		*out = NULL;
	}
	buf_release(&b);
	buf_release(&what);
	return ret;
}

/*
 * ORCHESTRA_VOLUME as the pods' mount paths take it: absolute, with no
 * "." or ".." component (the API server refuses ".." in a mountPath).
 */
static int
kube_volume_check(const char *volume, struct buf *err)
{
	const char *p;

	if (volume == NULL || volume[0] != '/')
		return err_set(err, ERR_INVALID,
		    "ORCHESTRA_VOLUME '%s' is not an absolute path: the "
		    "Kubernetes backend mounts each user's claim at "
		    "ORCHESTRA_VOLUME/<user> in the user's pods",
		    volume ? volume : "");
	for (p = volume; p != NULL; p = strchr(p + 1, '/')) {
		if (strncmp(p, "/./", 3) == 0 || strcmp(p, "/.") == 0 ||
		    strncmp(p, "/../", 4) == 0 || strcmp(p, "/..") == 0)
			return err_set(err, ERR_INVALID,
			    "ORCHESTRA_VOLUME '%s' has a '.' or '..' "
			    "component: the Kubernetes backend mounts each "
			    "user's claim at ORCHESTRA_VOLUME/<user>",
			    volume);
	}
	return 0;
}

static int
kube_open(struct backend **out, const struct config *cfg, struct buf *err)
{
	struct kube_backend *kb;
	struct kube_config kc;
	const char *v;
	int64_t timeout_ms = KUBE_DEFAULT_TIMEOUT_MS;
	int64_t hold_ms = KUBE_CREATE_HOLD_MS;
	int64_t ttl_ms = (int64_t)KUBE_TTL_SECONDS * 1000;
	int64_t pull_wait_s = KUBE_PULL_WAIT_S;
	int64_t burst = KUBE_DEFAULT_BURST;
	double qps = KUBE_DEFAULT_QPS;
	int ret;

	*out = NULL;
	v = config_env(cfg, CONFIG_KUBE_TIMEOUT);
	if (v != NULL && *v != '\0' &&
	    (time_parse_duration(v, &timeout_ms, err) < 0 || timeout_ms <= 0))
		return kube_setting_bad(cfg, CONFIG_KUBE_TIMEOUT, v,
		    "a duration such as 30s or 2m", err);
	v = config_env(cfg, CONFIG_KUBE_CREATE_HOLD);
	if (v != NULL && *v != '\0' &&
	    time_parse_duration(v, &hold_ms, err) < 0)
		return kube_setting_bad(cfg, CONFIG_KUBE_CREATE_HOLD, v,
		    "a duration such as 90s", err);
	v = config_env(cfg, CONFIG_KUBE_JOB_TTL);
	if (v != NULL && *v != '\0' &&
	    (time_parse_duration(v, &ttl_ms, err) < 0 ||
	        (ttl_ms > 0 &&
	            (ttl_ms < KUBE_TTL_MIN_SECONDS * 1000 ||
	                ttl_ms > KUBE_TTL_MAX_SECONDS * 1000))))
		return kube_setting_bad(cfg, CONFIG_KUBE_JOB_TTL, v,
		    "a duration from 1h to 3650d, or 0 (none): a shorter one "
		    "deletes Jobs whose ends the pilot has not read",
		    err);
	v = config_env(cfg, CONFIG_KUBE_PULL_WAIT);
	if (v != NULL && *v != '\0' &&
	    util_parse_int64(v, 0, 86400, &pull_wait_s) < 0)
		return kube_setting_bad(cfg, CONFIG_KUBE_PULL_WAIT, v,
		    "a number of seconds from 0 to 86400", err);
	v = config_env(cfg, CONFIG_KUBE_QPS);
	if (v != NULL && *v != '\0' && kube_parse_positive(v, 1e6, &qps) < 0)
		return kube_setting_bad(cfg, CONFIG_KUBE_QPS, v,
		    "a number above 0 and up to 1000000", err);
	v = config_env(cfg, CONFIG_KUBE_BURST);
	if (v != NULL && *v != '\0' &&
	    util_parse_int64(v, 1, 1000000, &burst) < 0)
		return kube_setting_bad(cfg, CONFIG_KUBE_BURST, v,
		    "a whole number from 1 to 1000000", err);
	ret = kube_volume_check(cfg->volume, err);
	if (ret < 0)
		return ret;
	ret = kube_config_load(&kc, NULL, config_env(cfg, CONFIG_KUBECONFIG),
	    config_env(cfg, CONFIG_KUBE_CONTEXT), err);
	if (ret < 0)
		return ret;
	kb = xcalloc(1, sizeof(*kb));
	kb->base.ops = &backend_kube_ops;
	kb->volume = xstrdup(cfg->volume);
	kb->pull_wait_ms = pull_wait_s * 1000;
	kb->create_hold_ms = hold_ms;
	kb->ttl_seconds = ttl_ms / 1000;
	kb->opened_ms = time_mono_ns() / 1000000;
	kb->posted = json_object();
	kb->epfd = epoll_create1(EPOLL_CLOEXEC);
	kb->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (kb->epfd >= 0 && kb->tfd >= 0) {
		struct epoll_event ev = { .events = EPOLLIN };

		ev.data.fd = kb->tfd;
		epoll_ctl(kb->epfd, EPOLL_CTL_ADD, kb->tfd, &ev);
	}
	kb->jobs = kube_informer_new(&kube_jobs_kind, kb->epfd);
	kb->pods = kube_informer_new(&kube_pods_kind, kb->epfd);
	kb->nodes = kube_informer_new(&kube_nodes_kind, kb->epfd);
	ret = kube_client_new(&kb->client, &kc, qps, (int)burst,
	    (long)timeout_ms, err);
	kube_config_release(&kc);
	if (ret < 0)
		goto fail;
	if (kb->epfd < 0) {
		ret = err_set(err, ERR_UNAVAILABLE, "epoll_create1: %s",
		    strerror(errno));
		goto fail;
	}
	ret = kube_template_load(cfg, &kb->tmpl, err);
	if (ret < 0)
		goto fail;
	*out = &kb->base;
	return 0;
fail:
	kb->base.ops->close(&kb->base);
	return ret;
}

static void
kube_close(struct backend *be)
{
	struct kube_backend *kb;

	if (be == NULL)
		return;
	kb = kube_downcast(be);
	kube_informer_free(kb->jobs);
	kube_informer_free(kb->pods);
	kube_informer_free(kb->nodes);
	if (kb->epfd >= 0)
		close(kb->epfd);
	if (kb->tfd >= 0)
		close(kb->tfd);
	kube_client_free(kb->client);
	json_decref(kb->tmpl);
	json_decref(kb->posted);
	VEC_RELEASE(&kb->deletes);
	free(kb->volume);
	free(kb);
}

/*
 * POST `obj` (named `name`) to the collection `path`.  A create that got
 * no answer, or a 5xx, may have been done all the same: GET it by name
 * before trying again.  Returns 0 with *status (201, or 200 of the GET, or
 * 409 when it was there before) and the object in *reply (caller
 * decrefs), or ERR_* with `err`.
 *
 * A create the server held past the client's timeout may still be done
 * after the retry made the object (it then gets 409 AlreadyExists), or
 * after that object was deleted, when it would make it a second time: a
 * Job's job would run twice.  So each create sent is noted (kb->posted)
 * and a Job is never deleted until KUBE_CREATE_HOLD_MS after the last
 * create of its name (kube_delete_due): by then every create sent for it
 * has been done or refused, and found the Job there.
 */
static int
kube_create_once(struct kube_backend *kb, const char *path, const char *name,
    json_t *obj, long *status, json_t **reply, struct buf *err)
{
	struct buf get = BUF_INIT;
	json_t *got = NULL;
	long gs;
	int tries, ret;

	buf_adds(&get, path);
	buf_addch(&get, '/');
	buf_add_percent_encoded(&get, name);
	for (tries = 1;; tries++) {
		json_decref(*reply);
		*reply = NULL;
		json_object_set_new(kb->posted, name,
		    json_integer(time_mono_ns() / 1000000));
		ret = kube_request(kb->client, "POST", path, obj, status, reply,
		    err);
		if (ret == 0 && *status < 500)
			break;
		if (ret == 0)
			kube_status_error(kb->client, err, "create", *status,
			    *reply);
		/* Did it go through? */
		if (kube_request(kb->client, "GET", get.data, NULL, &gs, &got,
		        err) == 0 &&
		    gs == 200) {
			json_decref(*reply);
			*reply = got;
			*status = 200;
			ret = 0;
			break;
		}
		json_decref(got);
		got = NULL;
		if (tries >= 3) {
			ret = ERR_UNAVAILABLE;
			break;
		}
		kube_backoff(tries);
	}
	buf_release(&get);
	return ret;
}

static int
kube_start(struct backend *be, const struct backend_job *job, struct buf *err)
{
	struct kube_backend *kb = kube_downcast(be);
	struct buf path = BUF_INIT, name = BUF_INIT;
	json_t *m = NULL, *reply = NULL;
	long status = 0;
	int ret;

	ret =
	    kube_manifest(kb->tmpl, kb->volume, job, kb->ttl_seconds, &m, err);
	if (ret < 0)
		return ret;
	buf_adds(&path, "/apis/batch/v1/namespaces/");
	buf_add_percent_encoded(&path, job->username);
	buf_adds(&path, "/jobs");
	kube_job_name(&name, job->job_id, job->attempt);
	ret =
	    kube_create_once(kb, path.data, name.data, m, &status, &reply, err);
	if (ret < 0)
		goto out;
	if (status == 409) {
		/* This attempt was made already (start is idempotent): see it
		 * in the cache, or the next poll would call it lost. */
		json_decref(reply);
		reply = NULL;
		buf_addch(&path, '/');
		buf_adds(&path, name.data);
		ret = kube_request(kb->client, "GET", path.data, NULL, &status,
		    &reply, err);
		if (ret == 0 && status != 200)
			ret = kube_status_error(kb->client, err, "get Job",
			    status, reply);
	} else if (status != 201 && status != 200) {
		ret = kube_status_error(kb->client, err, "create Job", status,
		    reply);
	}
	if (ret == 0)
		kube_informer_put(kb->jobs, reply);
out:
	json_decref(m);
	json_decref(reply);
	buf_release(&path);
	buf_release(&name);
	return ret;
}

/* job-id and attempt from a Job's labels; false when not ours. */
static bool
kube_ref_of(json_t *obj, int64_t *id, int64_t *attempt)
{
	json_t *labels =
	    json_object_get(json_object_get(obj, "metadata"), "labels");
	const char *a =
	    json_string_value(json_object_get(labels, "orchestra/job-id"));
	const char *b =
	    json_string_value(json_object_get(labels, "orchestra/attempt"));

	return a != NULL && b != NULL &&
	    util_parse_int64(a, 1, INT64_MAX, id) == 0 &&
	    util_parse_int64(b, 1, INT64_MAX, attempt) == 0;
}

/* The Job's condition of `type`, or NULL. */
static json_t *
kube_condition_of(json_t *job, const char *type)
{
	json_t *c;
	size_t i;

	json_array_foreach(
	    json_object_get(json_object_get(job, "status"), "conditions"), i, c)
	{
		if (strcmp(kube_sv(json_object_get(c, "type")), type) == 0)
			return c;
	}
	return NULL;
}

static bool
kube_condition(json_t *job, const char *type)
{
	return strcmp(kube_sv(json_object_get(kube_condition_of(job, type),
	                  "status")),
	           "True") == 0;
}

/* The reason of the Job's condition of `type`, or "". */
static const char *
kube_condition_reason(json_t *job, const char *type)
{
	return kube_sv(json_object_get(kube_condition_of(job, type), "reason"));
}

/* The state of a pod's first container, or NULL. */
static json_t *
kube_container_state(json_t *pod)
{
	return json_object_get(
	    json_array_get(json_object_get(json_object_get(pod, "status"),
	                       "containerStatuses"),
	        0),
	    "state");
}

/* The exit code of a pod's first container, or -1. */
static int
kube_exit_code(json_t *pod)
{
	json_t *code = json_object_get(
	    json_object_get(kube_container_state(pod), "terminated"),
	    "exitCode");

	return json_is_integer(code) ? (int)json_integer_value(code) : -1;
}

/*
 * Did the kernel kill a process of the pod's first container at its
 * memory limit (the kubelet's reason "OOMKilled")?
 */
static bool
kube_oom_killed(json_t *pod)
{
	json_t *term = json_object_get(kube_container_state(pod), "terminated");
	const char *reason = kube_sv(json_object_get(term, "reason"));

	return strcmp(reason, "OOMKilled") == 0;
}

/* An RFC 3339 UTC time ("2026-11-25T18:00:00Z") in epoch ms; 0. */
static int64_t
kube_iso_ms(const char *s)
{
	int64_t ms;

	if (s == NULL || time_scan_iso(s, &ms) == NULL)
		return 0;
	return ms;
}

static int64_t
kube_time_ms(json_t *job, const char *key)
{
	return kube_iso_ms(json_string_value(
	    json_object_get(json_object_get(job, "status"), key)));
}

/*
 * The waiting reasons of a container the kubelet fails to start, and
 * tries again to start, for ever: its image cannot be pulled, or its
 * container cannot be made (CreateContainerConfigError: a secret that is
 * not there, or runAsNonRoot with a container that would run as root).
 */
static const char *const kube_start_failures[] = {
	"ErrImagePull",
	"ImagePullBackOff",
	"InvalidImageName",
	"CreateContainerConfigError",
	"CreateContainerError",
};

/* Since when (its creation) a pod has failed to start; 0. */
static int64_t
kube_start_failing_since(json_t *pod)
{
	size_t i, n = sizeof(kube_start_failures) / sizeof(char *);
	const char *reason;

	reason = kube_sv(json_object_get(
	    json_object_get(kube_container_state(pod), "waiting"), "reason"));
	for (i = 0; i < n; i++) {
		if (strcmp(reason, kube_start_failures[i]) == 0)
			break;
	}
	if (i == n)
		return 0;
	return kube_iso_ms(kube_sv(json_object_get(
	    json_object_get(pod, "metadata"), "creationTimestamp")));
}

/* The caches, current: each lists if it must (and watches if it may). */
static int
kube_sync(struct kube_backend *kb, struct kube_informer *inf, struct buf *err)
{
	return kube_informer_sync(inf, kb->client, kb->watching, err);
}

/*
 * The pod of an ended Job whose end its pod's cache entry does not show
 * yet (the two watches are not in step): ask for it.  NULL when none.
 */
static json_t *
kube_ended_pod(struct kube_backend *kb, json_t *job, const char *name)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	json_t *pod = kube_informer_get(kb->pods, name), *reply = NULL;
	long status;

	if (pod != NULL && kube_exit_code(pod) >= 0)
		return pod;
	buf_adds(&path, "/api/v1/namespaces/");
	buf_add_percent_encoded(&path,
	    kube_sv(json_object_get(json_object_get(job, "metadata"),
	        "namespace")));
	buf_adds(&path, "/pods?labelSelector=job-name%3D");
	buf_add_percent_encoded(&path, name);
	if (kube_request(kb->client, "GET", path.data, NULL, &status, &reply,
	        &err) == 0 &&
	    status == 200 &&
	    json_array_size(json_object_get(reply, "items")) > 0)
		kube_informer_put(kb->pods,
		    json_array_get(json_object_get(reply, "items"), 0));
	else if (err.len > 0)
		log_warn("%s", err.data);
	json_decref(reply);
	buf_release(&path);
	buf_release(&err);
	return kube_informer_get(kb->pods, name);
}

/* What the caches say of the Job of one attempt. */
static void
kube_status_of(struct kube_backend *kb, const char *name,
    struct backend_status *st)
{
	json_t *job = kube_informer_get(kb->jobs, name), *pod;
	int64_t since;
	int code;

	/*
	 * Never made, deleted (by a stop, or behind our back), or suspended
	 * by a stop (kube_stop): gone.  Its pod may run on for its grace
	 * period, holding its CPU and GPU: the job holds its slot until the
	 * pod ended or went.  A Job that ended before a suspend reached it
	 * keeps its end (below).
	 */
	if (job == NULL || (kube_condition(job, "Suspended") &&
	                       !kube_condition(job, "Complete") &&
	                       !kube_condition(job, "Failed"))) {
		pod = kube_informer_get(kb->pods, name);
		st->state = pod != NULL && kube_exit_code(pod) < 0
		    ? BACKEND_RUNNING
		    : BACKEND_UNKNOWN;
		return;
	}
	if (kube_condition(job, "Complete") || kube_condition(job, "Failed")) {
		/* A Complete Job's pod exited 0: no need to ask for it. */
		pod = kube_condition(job, "Complete")
		    ? NULL
		    : kube_ended_pod(kb, job, name);
		code = kube_exit_code(pod);
		st->state = BACKEND_ENDED;
		st->started_ms = kube_time_ms(job, "startTime");
		st->ended_ms = kube_time_ms(job, "completionTime");
		if (st->ended_ms == 0)
			st->ended_ms = time_now_ms();
		if (kube_condition(job, "Complete")) {
			st->end = BACKEND_END_EXIT;
			st->exit_code = 0;
		} else if (strcmp(kube_condition_reason(job, "Failed"),
		               "DeadlineExceeded") == 0) {
			st->end = BACKEND_END_TIMEOUT;
			st->exit_code = code >= 0 ? code : 137;
		} else if (kube_oom_killed(pod)) {
			st->end = BACKEND_END_OOM;
			st->exit_code = code >= 0 ? code : 137;
		} else {
			st->end = BACKEND_END_EXIT;
			st->exit_code = code >= 0 ? code : 1;
		}
		return;
	}
	st->state = BACKEND_RUNNING;
	since = kube_start_failing_since(kube_informer_get(kb->pods, name));
	if (since > 0 && time_now_ms() - since >= kb->pull_wait_ms) {
		st->state = BACKEND_ENDED;
		st->end = BACKEND_END_START;
		st->exit_code = 127;
		st->ended_ms = time_now_ms();
	}
}

static void kube_tidy(struct kube_backend *kb);

static int
kube_poll(struct backend *be, const struct backend_ref *refs, size_t nrefs,
    backend_status_vec *out, struct buf *err)
{
	struct kube_backend *kb = kube_downcast(be);
	struct backend_status *st;
	struct buf name = BUF_INIT;
	size_t i;
	int ret;

	ret = kube_sync(kb, kb->jobs, err);
	if (ret == 0)
		ret = kube_sync(kb, kb->pods, err);
	if (ret < 0)
		return ret;
	kube_tidy(kb);
	for (i = 0; i < nrefs; i++) {
		st = VEC_ADD(out);
		st->ref = refs[i];
		buf_reset(&name);
		kube_job_name(&name, refs[i].job_id, refs[i].attempt);
		kube_status_of(kb, name.data, st);
	}
	buf_release(&name);
	return 0;
}

/*
 * The path of the Job of `ref` into `path`, and its name into `name`;
 * false when the caches have not seen it (then it is not there).
 */
static bool
kube_job_path(struct kube_backend *kb, const struct backend_ref *ref,
    struct buf *path, struct buf *name)
{
	json_t *job;
	const char *ns;

	kube_job_name(name, ref->job_id, ref->attempt);
	job = kube_informer_get(kb->jobs, name->data);
	ns = json_string_value(
	    json_object_get(json_object_get(job, "metadata"), "namespace"));
	if (ns == NULL)
		return false;
	buf_adds(path, "/apis/batch/v1/namespaces/");
	buf_add_percent_encoded(path, ns);
	buf_adds(path, "/jobs/");
	buf_adds(path, name->data);
	return true;
}

/* DELETE the Job with propagation Background; gone already is fine. */
static int
kube_delete(struct kube_backend *kb, const struct backend_ref *ref,
    struct buf *err)
{
	struct buf path = BUF_INIT, name = BUF_INIT;
	json_t *reply = NULL;
	long status;
	int ret = 0;

	if (!kube_job_path(kb, ref, &path, &name))
		goto out;
	buf_adds(&path, "?propagationPolicy=Background");
	ret = kube_request(kb->client, "DELETE", path.data, NULL, &status,
	    &reply, err);
	if (ret == 0 && status != 200 && status != 202 && status != 404)
		ret = kube_status_error(kb->client, err, "delete Job", status,
		    reply);
	/* Its pod stays in the cache until it is gone (kube_status_of). */
	if (ret == 0) {
		kube_informer_forget(kb->jobs, name.data);
		json_object_del(kb->posted, name.data);
	}
out:
	json_decref(reply);
	buf_release(&path);
	buf_release(&name);
	return ret;
}

/*
 * Suspend the Job (a merge patch of spec.suspend): its pods end and its
 * name stays taken, so that a create still held by the API server is
 * refused when it lands (409).  Gone already is fine.
 */
static int
kube_suspend(struct kube_backend *kb, const struct backend_ref *ref,
    struct buf *err)
{
	struct buf path = BUF_INIT, name = BUF_INIT;
	json_t *reply = NULL, *body;
	long status;
	int ret = 0;

	if (!kube_job_path(kb, ref, &path, &name))
		goto out;
	body = json_pack("{s:{s:b}}", "spec", "suspend", 1);
	ret = kube_request(kb->client, "PATCH", path.data, body, &status,
	    &reply, err);
	json_decref(body);
	if (ret == 0 && status != 200 && status != 404)
		ret = kube_status_error(kb->client, err, "suspend Job", status,
		    reply);
out:
	json_decref(reply);
	buf_release(&path);
	buf_release(&name);
	return ret;
}

static int64_t kube_delete_due(struct kube_backend *kb,
    const struct backend_ref *ref);
static int kube_delete_when_due(struct kube_backend *kb,
    const struct backend_ref *ref, struct buf *err);

/*
 * A kill.  A Job younger than KUBE_CREATE_HOLD_MS since its last create
 * is suspended, not deleted: a create held past the client's timeout
 * that landed after a delete would make the Job again and run the job a
 * second time.  It is deleted once no create can land (kube_tidy).
 */
static int
kube_stop(struct backend *be, const struct backend_ref *ref, struct buf *err)
{
	struct kube_backend *kb = kube_downcast(be);
	int ret;

	if (kube_delete_due(kb, ref) <= time_mono_ns() / 1000000)
		return kube_delete(kb, ref, err);
	ret = kube_suspend(kb, ref, err);
	if (ret < 0)
		return ret;
	return kube_delete_when_due(kb, ref, err);
}

/*
 * When (monotonic ms) the Job of `ref` may be deleted: KUBE_CREATE_HOLD_MS
 * after the last create of its name this process sent, or after this
 * process began, for the creates of the pilots before it.
 */
static int64_t
kube_delete_due(struct kube_backend *kb, const struct backend_ref *ref)
{
	struct buf name = BUF_INIT;
	int64_t sent = kb->opened_ms, t;

	kube_job_name(&name, ref->job_id, ref->attempt);
	t = json_integer_value(json_object_get(kb->posted, name.data));
	if (t > sent)
		sent = t;
	buf_release(&name);
	return sent + kb->create_hold_ms;
}

/* Wake the pilot (event_fd) at `due_ms` (monotonic), or sooner. */
static void
kube_arm(struct kube_backend *kb, int64_t due_ms)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	if (kb->tfd < 0 || (kb->armed_ms != 0 && kb->armed_ms <= due_ms))
		return;
	if (due_ms <= 0)
		due_ms = 1;
	its.it_value.tv_sec = due_ms / 1000;
	its.it_value.tv_nsec = (due_ms % 1000) * 1000000;
	if (timerfd_settime(kb->tfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		kb->armed_ms = due_ms;
}

/* Delete the Job of `ref` now if it is due, else once it is (kube_tidy). */
static int
kube_delete_when_due(struct kube_backend *kb, const struct backend_ref *ref,
    struct buf *err)
{
	struct backend_ref *r;

	if (kube_delete_due(kb, ref) <= time_mono_ns() / 1000000)
		return kube_delete(kb, ref, err);
	VEC_FOREACH (r, &kb->deletes)
		if (r->job_id == ref->job_id && r->attempt == ref->attempt)
			return 0;
	VEC_PUSH(&kb->deletes, *ref);
	kube_arm(kb, kube_delete_due(kb, ref));
	return 0;
}

/*
 * The deletes that have come due (at each poll and node read), within
 * the client's spare rate: the starts come first.
 */
static void
kube_tidy(struct kube_backend *kb)
{
	struct buf err = BUF_INIT;
	int64_t now = time_mono_ns() / 1000000, due;
	size_t i, n = 0;

	for (i = 0; i < kb->deletes.n; i++) {
		due = kube_delete_due(kb, &kb->deletes.v[i]);
		if (due <= now && kube_client_spare(kb->client) > 0) {
			buf_reset(&err);
			if (kube_delete(kb, &kb->deletes.v[i], &err) == 0)
				continue;
			log_debug("%s", err.data);
		}
		/* Due and not done (no spare, or it failed): soon again. */
		kube_arm(kb, due > now ? due : now + KUBE_TIDY_AGAIN_MS);
		kb->deletes.v[n++] = kb->deletes.v[i];
	}
	kb->deletes.n = n;
	buf_release(&err);
}

static int
kube_spare(struct backend *be)
{
	return kube_client_spare(kube_downcast(be)->client);
}

static int
kube_release(struct backend *be, const struct backend_ref *ref, struct buf *err)
{
	return kube_delete_when_due(kube_downcast(be), ref, err);
}

static int
kube_purge(struct backend *be, const struct backend_ref *last, struct buf *err)
{
	return kube_delete_when_due(kube_downcast(be), last, err);
}

static int
kube_logs(struct backend *be, const struct backend_ref *ref, size_t max,
    struct buf *out, struct buf *err)
{
	struct kube_backend *kb = kube_downcast(be);
	struct buf path = BUF_INIT, key = BUF_INIT;
	json_t *pods = NULL, *pod, *reply = NULL;
	const char *ns, *name;
	long status;
	int ret = 0;

	kube_job_name(&key, ref->job_id, ref->attempt);
	pod = kube_informer_get(kb->pods, key.data);
	if (pod == NULL) {
		/* Not in the cache (a command of its own): ask. */
		buf_adds(&path, "/api/v1/pods?labelSelector=job-name%3D");
		buf_adds(&path, key.data);
		ret = kube_request(kb->client, "GET", path.data, NULL, &status,
		    &pods, err);
		if (ret == 0 && status != 200)
			ret = kube_status_error(kb->client, err, "list pods",
			    status, pods);
		if (ret < 0)
			goto out;
		pod = json_array_get(json_object_get(pods, "items"), 0);
	}
	ns = json_string_value(
	    json_object_get(json_object_get(pod, "metadata"), "namespace"));
	name = json_string_value(
	    json_object_get(json_object_get(pod, "metadata"), "name"));
	if (ns == NULL || name == NULL)
		goto out; /* no pod (any more): no log */
	buf_reset(&path);
	buf_adds(&path, "/api/v1/namespaces/");
	buf_add_percent_encoded(&path, ns);
	buf_adds(&path, "/pods/");
	buf_add_percent_encoded(&path, name);
	buf_adds(&path, "/log");
	if (max > 0)
		buf_addf(&path, "?limitBytes=%zu", max);
	ret = kube_request_text(kb->client, path.data, &status, out, err);
	if (ret == 0 && status != 200)
		ret = 0; /* no log yet */
out:
	json_decref(pods);
	json_decref(reply);
	buf_release(&path);
	buf_release(&key);
	return ret;
}

static int
kube_nodes(struct backend *be, backend_node_vec *out, struct buf *err)
{
	struct kube_backend *kb = kube_downcast(be);
	json_t *n, *c, *gpus, *cpus, *mem;
	char *end = NULL;
	struct backend_node *bn;
	const char *type, *status, *key;
	size_t k;
	int ret;

	ret = kube_sync(kb, kb->nodes, err);
	if (ret < 0)
		return ret;
	kube_tidy(kb);
	json_object_foreach(kube_informer_objects(kb->nodes), key, n)
	{
		bn = VEC_ADD(out);
		bn->name = xstrdup(key);
		json_array_foreach(
		    json_object_get(json_object_get(n, "status"), "conditions"),
		    k, c)
		{
			type = json_string_value(json_object_get(c, "type"));
			status =
			    json_string_value(json_object_get(c, "status"));
			if (type == NULL || status == NULL)
				continue;
			if (strcmp(type, "Ready") == 0)
				bn->ready = strcmp(status, "True") == 0;
			else if (strcmp(type, "MemoryPressure") == 0)
				bn->memory_pressure =
				    strcmp(status, "True") == 0;
			else if (strcmp(type, "DiskPressure") == 0)
				bn->disk_pressure = strcmp(status, "True") == 0;
		}
		gpus = json_object_get(
		    json_object_get(json_object_get(n, "status"), "capacity"),
		    "nvidia.com/gpu");
		bn->gpus = json_is_string(gpus)
		    ? strtoll(json_string_value(gpus), NULL, 10)
		    : 0;
		/* "8", or millicores "7500m": whole CPUs. */
		cpus = json_object_get(
		    json_object_get(json_object_get(n, "status"), "capacity"),
		    "cpu");
		bn->cpus = json_is_string(cpus)
		    ? strtoll(json_string_value(cpus), &end, 10)
		    : -1;
		if (json_is_string(cpus) && *end == 'm')
			bn->cpus /= 1000;
		/* What pods may use: allocatable, not capacity. */
		mem = json_object_get(
		    json_object_get(json_object_get(n, "status"),
		        "allocatable"),
		    "memory");
		if (!json_is_string(mem) ||
		    size_parse_kube(json_string_value(mem), &bn->memory) < 0)
			bn->memory = 0;
	}
	return 0;
}

/* Create `obj` (named `name`) in `path`; made, or there already, is
 * success. */
static int
kube_create(struct kube_backend *kb, const char *path, const char *name,
    json_t *obj, const char *what, struct buf *err)
{
	json_t *reply = NULL;
	long status;
	int ret;

	ret = kube_create_once(kb, path, name, obj, &status, &reply, err);
	if (ret == 0 && status != 201 && status != 200 && status != 409)
		ret = kube_status_error(kb->client, err, what, status, reply);
	json_decref(reply);
	json_decref(obj);
	return ret;
}

/*
 * The user's namespace and, with an NFS export, a persistent volume of it
 * ("orchestra-<user>", kept when released) bound to the claim "volume" in
 * the namespace: what the seed's admins made by hand.
 */
static int
kube_prepare_user(struct backend *be, const char *username,
    const char *nfs_server, const char *nfs_path, struct buf *err)
{
	struct kube_backend *kb = kube_downcast(be);
	struct buf path = BUF_INIT, pv = BUF_INIT;
	int ret;

	if (!kube_is_dns_label(username))
		return err_set(err, ERR_INVALID,
		    "user '%s' cannot be a Kubernetes namespace: lower-case "
		    "letters, digits and '-' only",
		    username);
	ret = kube_create(kb, "/api/v1/namespaces", username,
	    json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind",
	        "Namespace", "metadata", "name", username),
	    "create namespace", err);
	if (ret < 0 || nfs_server == NULL)
		return ret;
	buf_addf(&pv, "orchestra-%s", username);
	ret = kube_create(kb, "/api/v1/persistentvolumes", pv.data,
	    json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:{s:s}, s:[s], "
	              "s:s, s:{s:s, s:s}, s:{s:s, s:s}}}",
	        "apiVersion", "v1", "kind", "PersistentVolume", "metadata",
	        "name", pv.data, "labels", "app.kubernetes.io/managed-by",
	        "orchestra", "spec", "capacity", "storage", "1Ti",
	        "accessModes", "ReadWriteMany", "persistentVolumeReclaimPolicy",
	        "Retain", "nfs", "server", nfs_server, "path", nfs_path,
	        "claimRef", "namespace", username, "name", "volume"),
	    "create persistent volume", err);
	if (ret < 0)
		goto out;
	buf_adds(&path, "/api/v1/namespaces/");
	buf_add_percent_encoded(&path, username);
	buf_adds(&path, "/persistentvolumeclaims");
	ret = kube_create(kb, path.data, "volume",
	    json_pack("{s:s, s:s, s:{s:s}, s:{s:[s], s:s, s:s, "
	              "s:{s:{s:s}}}}",
	        "apiVersion", "v1", "kind", "PersistentVolumeClaim", "metadata",
	        "name", "volume", "spec", "accessModes", "ReadWriteMany",
	        "storageClassName", "", "volumeName", pv.data, "resources",
	        "requests", "storage", "1Ti"),
	    "create persistent volume claim", err);
out:
	buf_release(&path);
	buf_release(&pv);
	return ret;
}

static int
kube_handles(struct backend *be, backend_ref_vec *out, struct buf *err)
{
	struct kube_backend *kb = kube_downcast(be);
	struct backend_ref *r;
	const char *key;
	json_t *j;
	int ret;

	ret = kube_sync(kb, kb->jobs, err);
	if (ret < 0)
		return ret;
	json_object_foreach(kube_informer_objects(kb->jobs), key, j)
	{
		r = VEC_ADD(out);
		if (!kube_ref_of(j, &r->job_id, &r->attempt))
			out->n--;
	}
	return 0;
}

/* The caller waits on this, and drains: from now on, watch. */
static int
kube_event_fd(struct backend *be)
{
	struct kube_backend *kb = kube_downcast(be);

	kb->watching = true;
	return kb->epfd;
}

static bool
kube_drain_events(struct backend *be)
{
	struct kube_backend *kb = kube_downcast(be);
	uint64_t fired;
	bool wake = false;

	/* A delete came due: a cycle does it (kube_tidy). */
	if (kb->tfd >= 0 && read(kb->tfd, &fired, sizeof(fired)) > 0) {
		kb->armed_ms = 0;
		wake = true;
	}
	wake |= kube_informer_drain(kb->jobs, kb->client);
	wake |= kube_informer_drain(kb->pods, kb->client);
	wake |= kube_informer_drain(kb->nodes, kb->client);
	return wake;
}

/*
 * A Job runs as the uid and gid of its owner's account, looked up where
 * the pilot runs (the lab's accounts, as on its NFS server); no account,
 * no Job.  Unlike the local backend, a pilot that is not root can still
 * ask for any uid: the kubelet switches, not the pilot.
 */
static int
kube_account(struct backend *be, const char *username, const char *login,
    struct proc_account *out, struct buf *why)
{
	char *host;
	int ret;

	(void)be;
	ret = proc_account_get(login, out, why);
	if (ret != ERR_NOTFOUND)
		return ret;
	host = proc_node_name();
	err_set(why, ERR_DENIED,
	    "user %s has no Unix account '%s' on the pilot's machine %s",
	    username, login, host);
	free(host);
	return ERR_DENIED;
}

/*
 * What the pods of user `username` mount (docs/kubernetes.md): the user's
 * claim at ORCHESTRA_VOLUME/<user>, then the other mountPaths of the job
 * template's container.  Read from the configuration and the template
 * alone, so a submit asks no API server.
 */
static int
kube_mounts(const struct config *cfg, const char *username,
    backend_path_vec *out, struct buf *err)
{
	struct buf claim = BUF_INIT;
	json_t *tmpl = NULL;
	int ret;

	ret = kube_volume_check(cfg->volume, err);
	if (ret < 0)
		return ret;
	if (!kube_is_dns_label(username))
		return err_set(err, ERR_INVALID,
		    "user '%s' cannot be a Kubernetes namespace: lower-case "
		    "letters, digits and '-' only",
		    username);
	ret = kube_template_load(cfg, &tmpl, err);
	if (ret < 0)
		return ret;
	kube_claim_path(&claim, cfg->volume, username);
	VEC_PUSH(out, buf_detach(&claim));
	ret = kube_template_mounts(tmpl,
	    cfg->job_template ? cfg->job_template : "the built-in job template",
	    out, err);
	json_decref(tmpl);
	return ret;
}

const struct backend_ops backend_kube_ops = {
	.name = "kubernetes",
	.open = kube_open,
	.close = kube_close,
	.start = kube_start,
	.poll = kube_poll,
	.stop = kube_stop,
	.logs = kube_logs,
	.mounts = kube_mounts,
	.nodes = kube_nodes,
	.spare = kube_spare,
	.release = kube_release,
	.purge = kube_purge,
	.prepare_user = kube_prepare_user,
	.handles = kube_handles,
	.event_fd = kube_event_fd,
	.drain_events = kube_drain_events,
	.account = kube_account,
};
