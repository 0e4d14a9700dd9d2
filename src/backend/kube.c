/*
 * kube.c - the kubernetes backend: one batch/v1 Job per job attempt, in
 * its owner's namespace, from the job template (kube-manifest.c), through
 * the API client (kube-client.c).
 *
 * A cycle asks the API server twice, whatever the number of jobs: one
 * list of Orchestra's Jobs and one of their pods, across namespaces, by
 * label.  A Job's end is read from its conditions (only the terminal ones,
 * Complete and Failed, end a job) and its exit code from its pod.  The
 * namespace of each Job seen is remembered, for stop() and release().
 *
 * Between cycles a watch of the same Jobs, from the list's
 * resourceVersion (with bookmarks), wakes the pilot as soon as a Job
 * reaches a terminal condition or goes away; the next cycle's list is what
 * is recorded, so an event seen twice, or a watch cut and started again,
 * changes nothing.  A watch that ends (410 Gone, a dropped connection, its
 * timeout) wakes the pilot too, whose list starts the next.
 *
 * A pod whose image cannot be pulled (ErrImagePull, ImagePullBackOff)
 * for longer than KUBE_PULL_WAIT_S (ORCHESTRA_KUBE_PULL_WAIT, seconds)
 * ends its job as "could not start": a wrong image name must not hold a
 * slot until the task's time limit.
 */
#include <time.h>

#include "backend/kube-int.h"
#include "util/vec.h"

#define KUBE_SELECTOR "app.kubernetes.io%2Fmanaged-by%3Dorchestra"
/* A finished Job stays this long if Orchestra is gone. */
#define KUBE_TTL_SECONDS 86400
/* How long a pod may fail to pull its image before its job ends. */
#define KUBE_PULL_WAIT_S 300

/* The template built in, the same as deploy/job-template.yaml. */
static const char kube_default_template[] =
    "apiVersion: batch/v1\n"
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
    "          volumeMounts:\n"
    "            - name: volume\n"
    "              mountPath: /volume\n"
    "      volumes:\n"
    "        - name: volume\n"
    "          persistentVolumeClaim:\n"
    "            claimName: volume\n";

/* What the last list said of one Job. */
struct kube_seen {
	int64_t job_id, attempt;
	char *namespace;
	json_t *job; /* the Job object (a reference) */
};

struct kube_backend {
	struct backend base; /* first, for the checked downcast */
	int64_t pull_wait_ms;
	struct kube_client *client;
	json_t *tmpl;
	VEC(struct kube_seen) seen;
	char *rv;                 /* resourceVersion of the last Jobs list */
	struct kube_watch *watch; /* of Orchestra's Jobs from rv, or NULL */
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

static void
kube_seen_clear(struct kube_backend *kb)
{
	struct kube_seen *s;

	VEC_FOREACH(s, &kb->seen)
	{
		free(s->namespace);
		json_decref(s->job);
	}
	kb->seen.n = 0;
}

static int
kube_open(struct backend **out, const struct config *cfg, struct buf *err)
{
	struct kube_backend *kb;
	struct kube_config kc;
	struct buf what = BUF_INIT;
	char *text = NULL;
	size_t len;
	FILE *f;
	int ret;

	*out = NULL;
	ret = kube_config_load(&kc, NULL, getenv("ORCHESTRA_KUBE_CONTEXT"),
	    err);
	if (ret < 0)
		return ret;
	kb = xcalloc(1, sizeof(*kb));
	kb->base.ops = &backend_kube_ops;
	kb->pull_wait_ms = (int64_t)KUBE_PULL_WAIT_S * 1000;
	if (getenv("ORCHESTRA_KUBE_PULL_WAIT") != NULL &&
	    util_parse_int64(getenv("ORCHESTRA_KUBE_PULL_WAIT"), 0, 86400,
		&kb->pull_wait_ms) == 0)
		kb->pull_wait_ms *= 1000;
	ret = kube_client_new(&kb->client, &kc, 0, 0, 0, err);
	kube_config_release(&kc);
	if (ret < 0)
		goto fail;
	if (cfg->job_template != NULL) {
		struct buf b = BUF_INIT;
		char chunk[4096];

		f = fopen(cfg->job_template, "re");
		if (f == NULL) {
			ret = err_set(err, ERR_INVALID,
			    "cannot read the job template '%s'",
			    cfg->job_template);
			goto fail;
		}
		b.cap_limit = 1 << 20;
		while ((len = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_add(&b, chunk, len);
		fclose(f);
		text = buf_detach(&b);
		buf_addf(&what, "job template '%s'", cfg->job_template);
	} else {
		text = xstrdup(kube_default_template);
		buf_adds(&what, "the built-in job template");
	}
	ret = kube_yaml_parse(text, strlen(text), what.data, &kb->tmpl, err);
	if (ret == 0)
		ret = kube_template_check(kb->tmpl, what.data, err);
	if (ret < 0)
		goto fail;
	free(text);
	buf_release(&what);
	*out = &kb->base;
	return 0;
fail:
	free(text);
	buf_release(&what);
	kube_client_free(kb->client);
	json_decref(kb->tmpl);
	free(kb);
	return ret;
}

static void
kube_close(struct backend *be)
{
	struct kube_backend *kb;

	if (be == NULL)
		return;
	kb = kube_downcast(be);
	kube_seen_clear(kb);
	VEC_RELEASE(&kb->seen);
	kube_watch_free(kb->watch);
	free(kb->rv);
	kube_client_free(kb->client);
	json_decref(kb->tmpl);
	free(kb);
}

/* A reply's message, for errors: the Status's, else the HTTP status. */
static void
kube_reply_error(struct buf *err, const char *what, long status,
    json_t *reply)
{
	const char *msg = json_string_value(json_object_get(reply, "message"));

	err_set(err, ERR_UNAVAILABLE, "kubernetes: %s: %ld %s", what, status,
	    msg ? msg : "");
}

static int
kube_start(struct backend *be, const struct backend_job *job,
    struct buf *err)
{
	struct kube_backend *kb = kube_downcast(be);
	struct buf path = BUF_INIT;
	json_t *m = NULL, *reply = NULL;
	long status;
	int ret;

	ret = kube_manifest(kb->tmpl, job, KUBE_TTL_SECONDS, &m, err);
	if (ret < 0)
		return ret;
	buf_adds(&path, "/apis/batch/v1/namespaces/");
	kube_path_escape(&path, job->username);
	buf_adds(&path, "/jobs");
	ret = kube_request(kb->client, "POST", path.data, m, &status, &reply,
	    err);
	/* 409: this attempt was created already (start is idempotent). */
	if (ret == 0 && status != 201 && status != 200 && status != 409) {
		kube_reply_error(err, "create Job", status, reply);
		ret = ERR_UNAVAILABLE;
	}
	json_decref(m);
	json_decref(reply);
	buf_release(&path);
	return ret;
}

/* job-id and attempt from a Job's labels; false when not ours. */
static bool
kube_ref_of(json_t *obj, int64_t *id, int64_t *attempt)
{
	json_t *labels = json_object_get(json_object_get(obj, "metadata"),
	    "labels");
	const char *a = json_string_value(json_object_get(labels,
	    "orchestra/job-id"));
	const char *b = json_string_value(json_object_get(labels,
	    "orchestra/attempt"));

	return a != NULL && b != NULL &&
	    util_parse_int64(a, 1, INT64_MAX, id) == 0 &&
	    util_parse_int64(b, 1, INT64_MAX, attempt) == 0;
}

/*
 * GET a list; its items (a new reference) or NULL with `err`.  When `rv`
 * is not NULL, it gets the list's resourceVersion (caller frees).
 */
static json_t *
kube_list_rv(struct kube_backend *kb, const char *path, char **rv,
    struct buf *err)
{
	json_t *reply = NULL, *items;
	long status;

	if (kube_request(kb->client, "GET", path, NULL, &status, &reply,
		err) < 0)
		return NULL;
	items = json_object_get(reply, "items");
	if (status != 200 || !json_is_array(items)) {
		kube_reply_error(err, path, status, reply);
		json_decref(reply);
		return NULL;
	}
	json_incref(items);
	if (rv != NULL)
		*rv = xstrdup(kube_sv(json_object_get(json_object_get(reply,
							  "metadata"),
		    "resourceVersion")));
	json_decref(reply);
	return items;
}

static json_t *
kube_list(struct kube_backend *kb, const char *path, struct buf *err)
{
	return kube_list_rv(kb, path, NULL, err);
}

/* Watch Orchestra's Jobs from the last list, if not watching already. */
static void
kube_watch_jobs(struct kube_backend *kb)
{
	struct buf path = BUF_INIT, err = BUF_INIT;

	if (kb->watch != NULL || kb->rv == NULL || *kb->rv == '\0')
		return;
	buf_adds(&path, "/apis/batch/v1/jobs?watch=1&allowWatchBookmarks=true"
			"&labelSelector=" KUBE_SELECTOR "&resourceVersion=");
	kube_path_escape(&path, kb->rv);
	if (kube_watch_start(kb->client, path.data, &kb->watch, &err) < 0)
		log_warn("%s", err.data); /* the period still polls */
	buf_release(&path);
	buf_release(&err);
}

/* The Job's condition of `type`, or NULL. */
static json_t *
kube_condition_of(json_t *job, const char *type)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(job, "status"),
			       "conditions"),
	    i, c)
	{
		if (strcmp(kube_sv(json_object_get(c, "type")), type) == 0)
			return c;
	}
	return NULL;
}

/* Does the Job hold condition `type` with status True? */
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
	return kube_sv(json_object_get(kube_condition_of(job, type),
	    "reason"));
}

/* The state of the first container of Job `name`'s pod, or NULL. */
static json_t *
kube_container_state(json_t *pods, const char *name)
{
	json_t *p, *cs;
	size_t i;

	json_array_foreach(pods, i, p)
	{
		if (strcmp(kube_sv(json_object_get(json_object_get(
				       json_object_get(p, "metadata"),
				       "labels"),
				   "job-name")),
			name) != 0)
			continue;
		cs = json_array_get(json_object_get(json_object_get(p,
							"status"),
					"containerStatuses"),
		    0);
		return json_object_get(cs, "state");
	}
	return NULL;
}

/* The exit code of the pod of Job `name`, from the pods list; -1. */
static int
kube_exit_code(json_t *pods, const char *name)
{
	json_t *code = json_object_get(json_object_get(kube_container_state(
					       pods, name),
					   "terminated"),
	    "exitCode");

	return json_is_integer(code) ? (int)json_integer_value(code) : -1;
}

/* An RFC 3339 UTC time ("2026-11-25T18:00:00Z") in epoch ms; 0. */
static int64_t
kube_iso_ms(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return 0;
	return (int64_t)timegm(&tm) * 1000;
}

static int64_t
kube_time_ms(json_t *job, const char *key)
{
	return kube_iso_ms(json_string_value(json_object_get(
	    json_object_get(job, "status"), key)));
}

/*
 * Is the pod of Job `name` failing to pull its image?  Since when (the
 * pod's creation), or 0 when it is not.
 */
static int64_t
kube_pull_failing_since(json_t *pods, const char *name)
{
	json_t *p;
	const char *reason;
	size_t i;

	reason = kube_sv(json_object_get(json_object_get(kube_container_state(
						     pods, name),
					     "waiting"),
	    "reason"));
	if (strcmp(reason, "ErrImagePull") != 0 &&
	    strcmp(reason, "ImagePullBackOff") != 0)
		return 0;
	json_array_foreach(pods, i, p)
	{
		if (strcmp(kube_sv(json_object_get(json_object_get(
				       json_object_get(p, "metadata"),
				       "labels"),
				   "job-name")),
			name) == 0)
			return kube_iso_ms(kube_sv(json_object_get(
			    json_object_get(p, "metadata"),
			    "creationTimestamp")));
	}
	return 0;
}

static int
kube_poll(struct backend *be, const struct backend_ref *refs, size_t nrefs,
    backend_status_vec *out, struct buf *err)
{
	struct kube_backend *kb = kube_downcast(be);
	json_t *jobs = NULL, *pods = NULL, *j;
	struct backend_status *st;
	struct kube_seen *s, *hit;
	struct buf name = BUF_INIT;
	size_t i;
	int64_t since;
	int code, ret = ERR_UNAVAILABLE;

	free(kb->rv);
	kb->rv = NULL;
	jobs = kube_list_rv(kb,
	    "/apis/batch/v1/jobs?labelSelector=" KUBE_SELECTOR, &kb->rv, err);
	if (jobs == NULL)
		goto out;
	kube_watch_jobs(kb);
	pods = kube_list(kb, "/api/v1/pods?labelSelector=" KUBE_SELECTOR,
	    err);
	if (pods == NULL)
		goto out;
	kube_seen_clear(kb);
	json_array_foreach(jobs, i, j)
	{
		s = VEC_ADD(&kb->seen);
		if (!kube_ref_of(j, &s->job_id, &s->attempt)) {
			kb->seen.n--;
			continue;
		}
		s->namespace = xstrdup(kube_sv(json_object_get(
		    json_object_get(j, "metadata"), "namespace")));
		s->job = json_incref(j);
	}
	for (i = 0; i < nrefs; i++) {
		st = VEC_ADD(out);
		st->ref = refs[i];
		hit = NULL;
		VEC_FOREACH(s, &kb->seen)
		if (s->job_id == refs[i].job_id &&
		    s->attempt == refs[i].attempt)
			hit = s;
		if (hit == NULL) {
			/* Never made, or deleted behind our back. */
			st->state = BACKEND_UNKNOWN;
			continue;
		}
		buf_reset(&name);
		kube_job_name(&name, hit->job_id, hit->attempt);
		if (kube_condition(hit->job, "Complete") ||
		    kube_condition(hit->job, "Failed")) {
			code = kube_exit_code(pods, name.data);
			st->state = BACKEND_ENDED;
			st->started_ms = kube_time_ms(hit->job, "startTime");
			st->ended_ms = kube_time_ms(hit->job, "completionTime");
			if (st->ended_ms == 0)
				st->ended_ms = time_now_ms();
			if (kube_condition(hit->job, "Complete")) {
				st->end = BACKEND_END_EXIT;
				st->exit_code = 0;
			} else if (strcmp(kube_condition_reason(hit->job,
					      "Failed"),
					"DeadlineExceeded") == 0) {
				st->end = BACKEND_END_TIMEOUT;
				st->exit_code = code >= 0 ? code : 137;
			} else {
				st->end = BACKEND_END_EXIT;
				st->exit_code = code >= 0 ? code : 1;
			}
			continue;
		}
		st->state = BACKEND_RUNNING;
		since = kube_pull_failing_since(pods, name.data);
		if (since > 0 && time_now_ms() - since >= kb->pull_wait_ms) {
			st->state = BACKEND_ENDED;
			st->end = BACKEND_END_START;
			st->exit_code = 127;
			st->ended_ms = time_now_ms();
		}
	}
	ret = 0;
out:
	json_decref(jobs);
	json_decref(pods);
	buf_release(&name);
	return ret;
}

/* The namespace of a Job the last poll saw, or NULL. */
static const char *
kube_namespace_of(struct kube_backend *kb, const struct backend_ref *ref)
{
	struct kube_seen *s;

	VEC_FOREACH(s, &kb->seen)
	if (s->job_id == ref->job_id && s->attempt == ref->attempt)
		return s->namespace;
	return NULL;
}

/* DELETE the Job with propagation Background; gone already is fine. */
static int
kube_delete(struct kube_backend *kb, const struct backend_ref *ref,
    struct buf *err)
{
	const char *ns = kube_namespace_of(kb, ref);
	struct buf path = BUF_INIT;
	json_t *reply = NULL;
	long status;
	int ret = 0;

	if (ns == NULL)
		return 0; /* not seen: not there */
	buf_adds(&path, "/apis/batch/v1/namespaces/");
	kube_path_escape(&path, ns);
	buf_adds(&path, "/jobs/");
	kube_job_name(&path, ref->job_id, ref->attempt);
	buf_adds(&path, "?propagationPolicy=Background");
	ret = kube_request(kb->client, "DELETE", path.data, NULL, &status,
	    &reply, err);
	if (ret == 0 && status != 200 && status != 202 && status != 404) {
		kube_reply_error(err, "delete Job", status, reply);
		ret = ERR_UNAVAILABLE;
	}
	json_decref(reply);
	buf_release(&path);
	return ret;
}

static int
kube_stop(struct backend *be, const struct backend_ref *ref, struct buf *err)
{
	return kube_delete(kube_downcast(be), ref, err);
}

static int
kube_release(struct backend *be, const struct backend_ref *ref,
    struct buf *err)
{
	return kube_delete(kube_downcast(be), ref, err);
}

static int
kube_purge(struct backend *be, const struct backend_ref *last,
    struct buf *err)
{
	return kube_delete(kube_downcast(be), last, err);
}

static int
kube_logs(struct backend *be, const struct backend_ref *ref, size_t max,
    struct buf *out, struct buf *err)
{
	struct kube_backend *kb = kube_downcast(be);
	struct buf path = BUF_INIT;
	json_t *pods, *pod, *reply = NULL;
	const char *ns, *name;
	long status;
	int ret = 0;

	buf_addf(&path,
	    "/api/v1/pods?labelSelector=orchestra%%2Fjob-id%%3D%lld%%2C"
	    "orchestra%%2Fattempt%%3D%lld",
	    (long long)ref->job_id, (long long)ref->attempt);
	pods = kube_list(kb, path.data, err);
	if (pods == NULL) {
		ret = ERR_UNAVAILABLE;
		goto out;
	}
	pod = json_array_get(pods, 0);
	ns = json_string_value(json_object_get(json_object_get(pod,
						   "metadata"),
	    "namespace"));
	name = json_string_value(json_object_get(json_object_get(pod,
						     "metadata"),
	    "name"));
	if (ns == NULL || name == NULL)
		goto out; /* no pod (any more): no log */
	buf_reset(&path);
	buf_adds(&path, "/api/v1/namespaces/");
	kube_path_escape(&path, ns);
	buf_adds(&path, "/pods/");
	kube_path_escape(&path, name);
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
	return ret;
}

static int
kube_nodes(struct backend *be, backend_node_vec *out, struct buf *err)
{
	struct kube_backend *kb = kube_downcast(be);
	json_t *nodes, *n, *c, *gpus, *cpus;
	char *end = NULL;
	struct backend_node *bn;
	const char *type, *status;
	size_t i, k;

	nodes = kube_list(kb, "/api/v1/nodes", err);
	if (nodes == NULL)
		return ERR_UNAVAILABLE;
	json_array_foreach(nodes, i, n)
	{
		bn = VEC_ADD(out);
		bn->name = xstrdup(kube_sv(json_object_get(
		    json_object_get(n, "metadata"), "name")));
		json_array_foreach(json_object_get(json_object_get(n,
							   "status"),
				       "conditions"),
		    k, c)
		{
			type = json_string_value(json_object_get(c, "type"));
			status = json_string_value(json_object_get(c,
			    "status"));
			if (type == NULL || status == NULL)
				continue;
			if (strcmp(type, "Ready") == 0)
				bn->ready = strcmp(status, "True") == 0;
			else if (strcmp(type, "MemoryPressure") == 0)
				bn->memory_pressure = strcmp(status, "True") ==
				    0;
			else if (strcmp(type, "DiskPressure") == 0)
				bn->disk_pressure = strcmp(status, "True") == 0;
		}
		gpus = json_object_get(json_object_get(json_object_get(n,
							   "status"),
					   "capacity"),
		    "nvidia.com/gpu");
		bn->gpus = json_is_string(gpus) ?
		    strtoll(json_string_value(gpus), NULL, 10) :
		    0;
		/* "8", or millicores "7500m": whole CPUs. */
		cpus = json_object_get(json_object_get(json_object_get(n,
							   "status"),
					   "capacity"),
		    "cpu");
		bn->cpus = json_is_string(cpus) ?
		    strtoll(json_string_value(cpus), &end, 10) :
		    -1;
		if (json_is_string(cpus) && *end == 'm')
			bn->cpus /= 1000;
	}
	json_decref(nodes);
	return 0;
}

/* POST `obj` to `path`; made, or there already (409), is success. */
static int
kube_create(struct kube_backend *kb, const char *path, json_t *obj,
    const char *what, struct buf *err)
{
	json_t *reply = NULL;
	long status;
	int ret;

	ret = kube_request(kb->client, "POST", path, obj, &status, &reply,
	    err);
	if (ret == 0 && status != 201 && status != 200 && status != 409) {
		kube_reply_error(err, what, status, reply);
		ret = ERR_UNAVAILABLE;
	}
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
	ret = kube_create(kb, "/api/v1/namespaces",
	    json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind",
		"Namespace", "metadata", "name", username),
	    "create namespace", err);
	if (ret < 0 || nfs_server == NULL)
		return ret;
	buf_addf(&pv, "orchestra-%s", username);
	ret = kube_create(kb, "/api/v1/persistentvolumes",
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
	kube_path_escape(&path, username);
	buf_adds(&path, "/persistentvolumeclaims");
	ret = kube_create(kb, path.data,
	    json_pack("{s:s, s:s, s:{s:s}, s:{s:[s], s:s, s:s, "
		      "s:{s:{s:s}}}}",
		"apiVersion", "v1", "kind", "PersistentVolumeClaim",
		"metadata", "name", "volume", "spec", "accessModes",
		"ReadWriteMany", "storageClassName", "", "volumeName", pv.data,
		"resources", "requests", "storage", "1Ti"),
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
	json_t *jobs, *j;
	size_t i;

	jobs = kube_list(kb,
	    "/apis/batch/v1/jobs?labelSelector=" KUBE_SELECTOR, err);
	if (jobs == NULL)
		return ERR_UNAVAILABLE;
	json_array_foreach(jobs, i, j)
	{
		r = VEC_ADD(out);
		if (!kube_ref_of(j, &r->job_id, &r->attempt))
			out->n--;
	}
	json_decref(jobs);
	return 0;
}

static int
kube_event_fd(struct backend *be)
{
	struct kube_backend *kb = kube_downcast(be);

	return kb->watch != NULL ? kube_watch_fd(kb->watch) : -1;
}

/* One watch event: did a Job end (or go, or the stream break)? */
static void
kube_on_event(void *ctx, json_t *ev)
{
	bool *ended = ctx;
	const char *type = kube_sv(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object");

	if (strcmp(type, "ERROR") == 0 || strcmp(type, "DELETED") == 0)
		*ended = true;
	else if (strcmp(type, "MODIFIED") == 0 &&
	    (kube_condition(obj, "Complete") || kube_condition(obj, "Failed")))
		*ended = true;
}

static bool
kube_drain_events(struct backend *be)
{
	struct kube_backend *kb = kube_downcast(be);
	bool ended = false;

	if (kb->watch == NULL)
		return false;
	if (kube_watch_drain(kb->watch, kube_on_event, &ended) == 0) {
		/* Over (410, dropped, timed out): the next list restarts it. */
		kube_watch_free(kb->watch);
		kb->watch = NULL;
		ended = true;
	}
	return ended;
}

const struct backend_ops backend_kube_ops = {
	.name = "kubernetes",
	.open = kube_open,
	.close = kube_close,
	.start = kube_start,
	.poll = kube_poll,
	.stop = kube_stop,
	.logs = kube_logs,
	.nodes = kube_nodes,
	.release = kube_release,
	.purge = kube_purge,
	.prepare_user = kube_prepare_user,
	.handles = kube_handles,
	.event_fd = kube_event_fd,
	.drain_events = kube_drain_events,
};
