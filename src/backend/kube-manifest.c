/*
 * kube-manifest.c - one Kubernetes Job per Orchestra job, built from the
 * job template: named after (job id, attempt), in its owner's namespace,
 * pinned to the chosen node, labelled so one list finds every Orchestra
 * Job, never retried by Kubernetes (backoffLimit 0: retries are the
 * pilot's), cleaned up a day after it ends even if Orchestra is gone,
 * run in the task's output directory (as the local backend runs it), as
 * its owner's uid and gid with no privileges (kube_run_as), and with
 * SPEC.md's GPU protection.
 *
 * The path contract (docs/kubernetes.md): a job's files have the same
 * path in its pod as on the machine that submitted it.  The owner's claim
 * "volume" is mounted at ORCHESTRA_VOLUME/<user> (kube_claim_mount), so
 * %OUT, ORCHESTRA_VOLUME/<user>/<task>, is on it; the template's other
 * volumes are mounted where it says, and a submit checks that every path
 * a job is given lies under one of these (kube_template_mounts, asked
 * through the backend's mounts op).
 */
#include "backend/kube-int.h"

#define KUBE_LABEL_MAX 63
/* The claim `user add --kubernetes` makes in each user's namespace. */
#define KUBE_CLAIM "volume"
/* The largest runAsUser and runAsGroup the API server takes. */
#define KUBE_ID_MAX 2147483647LL

bool
kube_is_dns_label(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > KUBE_LABEL_MAX)
		return false;
	for (i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	}
	return s[0] != '-' && s[n - 1] != '-';
}

void
kube_job_name(struct buf *out, int64_t job_id, int64_t attempt)
{
	buf_addf(out, "orchestra-%lld-%lld", (long long)job_id,
	    (long long)attempt);
}

/*
 * A label value from a name: at most 63 characters of [A-Za-z0-9._-],
 * alphanumeric at both ends (the full name goes in an annotation).
 */
static void
kube_label_value(struct buf *out, const char *s)
{
	size_t n = strlen(s), start = 0;

	if (n > KUBE_LABEL_MAX)
		n = KUBE_LABEL_MAX;
	while (start < n &&
	    !((s[start] >= 'a' && s[start] <= 'z') ||
	        (s[start] >= 'A' && s[start] <= 'Z') ||
	        (s[start] >= '0' && s[start] <= '9')))
		start++;
	while (n > start &&
	    !((s[n - 1] >= 'a' && s[n - 1] <= 'z') ||
	        (s[n - 1] >= 'A' && s[n - 1] <= 'Z') ||
	        (s[n - 1] >= '0' && s[n - 1] <= '9')))
		n--;
	buf_add(out, s + start, n - start);
}

/* obj[key], made an object if missing; NULL if it is something else. */
static json_t *
kube_obj(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		v = json_object();
		json_object_set_new(obj, key, v);
	}
	return json_is_object(v) ? v : NULL;
}

int
kube_template_check(json_t *tmpl, const char *what, struct buf *err)
{
	json_t *spec, *containers, *policy;

	if (!json_is_object(tmpl) ||
	    !json_is_string(json_object_get(tmpl, "apiVersion")) ||
	    strcmp(json_string_value(json_object_get(tmpl, "apiVersion")),
	        "batch/v1") != 0 ||
	    !json_is_string(json_object_get(tmpl, "kind")) ||
	    strcmp(json_string_value(json_object_get(tmpl, "kind")), "Job") !=
	        0)
		return err_set(err, ERR_INVALID, "%s: not a batch/v1 Job",
		    what);
	spec = json_object_get(tmpl, "spec");
	spec = json_object_get(json_object_get(spec, "template"), "spec");
	containers = json_object_get(spec, "containers");
	if (!json_is_array(containers) || json_array_size(containers) == 0 ||
	    !json_is_object(json_array_get(containers, 0)))
		return err_set(err, ERR_INVALID,
		    "%s: spec.template.spec.containers has no container", what);
	policy = json_object_get(spec, "restartPolicy");
	if (policy != NULL &&
	    (!json_is_string(policy) ||
	        strcmp(json_string_value(policy), "Never") != 0))
		return err_set(err, ERR_INVALID,
		    "%s: restartPolicy must be Never (a job's retries are "
		    "Orchestra's)",
		    what);
	return 0;
}

/* obj[key] made a fresh object unless it is one already. */
static json_t *
kube_obj_replace_bad(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_object(v)) {
		v = json_object();
		json_object_set_new(obj, key, v);
	}
	return v;
}

/*
 * Who the job runs as, in a pod's or a container's securityContext: the
 * owner's uid and gid, and runAsNonRoot unless the owner is root.  Ours
 * win over the template's.  With no known uid the template's runAsUser
 * and runAsGroup go too (an unresolved account must not borrow another's
 * uid, whose files it could then write) and runAsNonRoot stays true, so
 * the kubelet refuses an image that would run as root.
 */
static void
kube_run_as(json_t *sc, const struct backend_job *job)
{
	if (job->uid >= 0)
		json_object_set_new(sc, "runAsUser", json_integer(job->uid));
	else
		json_object_del(sc, "runAsUser");
	if (job->uid >= 0 && job->gid >= 0)
		json_object_set_new(sc, "runAsGroup", json_integer(job->gid));
	else
		json_object_del(sc, "runAsGroup");
	json_object_set_new(sc, "runAsNonRoot", json_boolean(job->uid != 0));
}

/*
 * Every container of the pod (the template's other containers and its
 * init containers too) runs as the owner, without privileges: no
 * escalation (no_new_privs, so no setuid binary makes it root), no
 * capabilities at all, and not privileged (the API server refuses
 * privileged with allowPrivilegeEscalation false).  The template's
 * capabilities, added ones included, are replaced whole.
 */
static void
kube_containers_confine(json_t *podspec, const struct backend_job *job)
{
	static const char *const lists[] = { "initContainers", "containers" };
	json_t *c, *sc;
	size_t i, k;

	for (k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
		json_array_foreach(json_object_get(podspec, lists[k]), i, c)
		{
			if (!json_is_object(c))
				continue;
			sc = kube_obj_replace_bad(c, "securityContext");
			kube_run_as(sc, job);
			json_object_set_new(sc, "allowPrivilegeEscalation",
			    json_false());
			json_object_del(sc, "privileged");
			json_object_set_new(sc, "capabilities",
			    json_pack("{s:[s]}", "drop", "ALL"));
		}
	}
}

/*
 * Kubernetes expands $(VAR) in a container's command, args and env
 * values, and turns $$ into $: every '$' of ours is written "$$" so the
 * shell gets the text the user wrote.
 */
static json_t *
kube_literal(const char *s)
{
	struct buf b = BUF_INIT;
	json_t *v;

	for (; *s != '\0'; s++) {
		if (*s == '$')
			buf_addch(&b, '$');
		buf_addch(&b, *s);
	}
	v = json_string(b.data);
	buf_release(&b);
	return v;
}

/* Drop NAME from a container's env list; returns the list. */
static json_t *
kube_env_del(json_t *container, const char *name)
{
	json_t *env = json_object_get(container, "env"), *e;
	size_t i;

	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(container, "env", env);
	}
	json_array_foreach(env, i, e)
	{
		if (json_is_string(json_object_get(e, "name")) &&
		    strcmp(json_string_value(json_object_get(e, "name")),
		        name) == 0) {
			json_array_remove(env, i);
			break;
		}
	}
	return env;
}

/* Set (or replace) NAME=VALUE in a container's env list. */
static void
kube_env(json_t *container, const char *name, const char *value)
{
	json_array_append_new(kube_env_del(container, name),
	    json_pack("{s:s, s:o}", "name", name, "value",
	        kube_literal(value)));
}

static void
kube_labels(json_t *meta, const struct backend_job *job)
{
	json_t *labels = kube_obj(meta, "labels"), *ann;
	struct buf v = BUF_INIT;

	json_object_set_new(labels, "app.kubernetes.io/managed-by",
	    json_string("orchestra"));
	buf_addf(&v, "%lld", (long long)job->job_id);
	json_object_set_new(labels, "orchestra/job-id", json_string(v.data));
	buf_reset(&v);
	buf_addf(&v, "%lld", (long long)job->attempt);
	json_object_set_new(labels, "orchestra/attempt", json_string(v.data));
	buf_reset(&v);
	kube_label_value(&v, job->username);
	json_object_set_new(labels, "orchestra/user", json_string(v.data));
	buf_reset(&v);
	kube_label_value(&v, job->task);
	json_object_set_new(labels, "orchestra/task", json_string(v.data));
	ann = kube_obj(meta, "annotations");
	if (ann != NULL)
		json_object_set_new(ann, "orchestra/task",
		    json_string(job->task));
	buf_release(&v);
}

/* Is volume `v` of a pod spec the user's claim? */
static bool
kube_is_claim(json_t *v)
{
	json_t *claim = json_object_get(
	    json_object_get(v, "persistentVolumeClaim"), "claimName");

	return json_is_string(claim) &&
	    strcmp(json_string_value(claim), KUBE_CLAIM) == 0;
}

/* Is the volume named `name` one of the pod's claim volumes? */
static bool
kube_names_claim(json_t *podspec, const char *name)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(podspec, "volumes"), i, v)
	{
		if (kube_is_claim(v) &&
		    json_is_string(json_object_get(v, "name")) &&
		    strcmp(json_string_value(json_object_get(v, "name")),
		        name) == 0)
			return true;
	}
	return false;
}

/* The name of a volume mount, "" when it has none. */
static const char *
kube_mount_name(json_t *vm)
{
	const char *s = json_string_value(json_object_get(vm, "name"));

	return s != NULL ? s : "";
}

int
kube_template_mounts(json_t *tmpl, const char *what, backend_path_vec *out,
    struct buf *err)
{
	json_t *podspec, *c, *vm, *v;
	const char *path;
	size_t i;
	bool has_claim = false, name_taken = false;

	podspec = json_object_get(
	    json_object_get(json_object_get(tmpl, "spec"), "template"), "spec");
	json_array_foreach(json_object_get(podspec, "volumes"), i, v)
	{
		if (kube_is_claim(v))
			has_claim = true;
		else if (json_is_string(json_object_get(v, "name")) &&
		    strcmp(json_string_value(json_object_get(v, "name")),
		        KUBE_CLAIM) == 0)
			name_taken = true;
	}
	if (!has_claim && name_taken)
		return err_set(err, ERR_INVALID,
		    "%s: its volume '%s' is not the user's claim '%s', which "
		    "Orchestra would add under that name",
		    what, KUBE_CLAIM, KUBE_CLAIM);
	c = json_array_get(json_object_get(podspec, "containers"), 0);
	json_array_foreach(json_object_get(c, "volumeMounts"), i, vm)
	{
		if (kube_names_claim(podspec, kube_mount_name(vm)))
			continue;
		path = json_string_value(json_object_get(vm, "mountPath"));
		if (path == NULL || path[0] != '/')
			return err_set(err, ERR_INVALID,
			    "%s: the mountPath of volume '%s' is not an "
			    "absolute path",
			    what, kube_mount_name(vm));
		VEC_PUSH(out, xstrdup(path));
	}
	return 0;
}

void
kube_claim_path(struct buf *out, const char *volume, const char *username)
{
	size_t n = strlen(volume);

	while (n > 1 && volume[n - 1] == '/')
		n--;
	buf_add(out, volume, n);
	if (n != 1)
		buf_addch(out, '/');
	buf_adds(out, username);
}

/*
 * The user's claim mounted at `path` (ORCHESTRA_VOLUME/<user>) in every
 * container that mounts it, and in the job's container (the first)
 * always: each mount of it in the template is replaced whole (its
 * mountPath, subPath and readOnly go: %OUT is written there), a second
 * mount of it in one container dropped, and the volume added, as
 * "volume", when the template has none.
 */
static void
kube_claim_mount(json_t *podspec, const char *path)
{
	static const char *const lists[] = { "containers", "initContainers" };
	json_t *c, *vms, *vm, *volumes;
	size_t i, k, m;
	bool mounted, job_mounts = false;

	volumes = json_object_get(podspec, "volumes");
	if (!json_is_array(volumes)) {
		volumes = json_array();
		json_object_set_new(podspec, "volumes", volumes);
	}
	json_array_foreach(volumes, i, vm)
	{
		if (kube_is_claim(vm))
			break;
	}
	if (i == json_array_size(volumes))
		json_array_append_new(volumes,
		    json_pack("{s:s, s:{s:s}}", "name", KUBE_CLAIM,
		        "persistentVolumeClaim", "claimName", KUBE_CLAIM));
	for (k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
		json_array_foreach(json_object_get(podspec, lists[k]), i, c)
		{
			vms = json_object_get(c, "volumeMounts");
			mounted = false;
			for (m = 0; m < json_array_size(vms);) {
				vm = json_array_get(vms, m);
				if (!kube_names_claim(podspec,
				        kube_mount_name(vm))) {
					m++;
				} else if (mounted) {
					json_array_remove(vms, m);
				} else {
					json_object_set_new(vm, "mountPath",
					    json_string(path));
					json_object_del(vm, "subPath");
					json_object_del(vm, "subPathExpr");
					json_object_del(vm, "readOnly");
					mounted = true;
					m++;
				}
			}
			if (k == 0 && i == 0)
				job_mounts = mounted;
		}
	}
	if (job_mounts)
		return;
	c = json_array_get(json_object_get(podspec, "containers"), 0);
	vms = json_object_get(c, "volumeMounts");
	if (!json_is_array(vms)) {
		vms = json_array();
		json_object_set_new(c, "volumeMounts", vms);
	}
	json_array_foreach(volumes, i, vm)
	{
		if (kube_is_claim(vm))
			break;
	}
	json_array_append_new(vms,
	    json_pack("{s:O, s:s}", "name",
	        json_object_get(json_array_get(volumes, i), "name"),
	        "mountPath", path));
}

/* Bytes as a Kubernetes quantity: "4Gi", "512Mi", else plain bytes. */
static void
kube_quantity(struct buf *out, int64_t bytes)
{
	if (bytes % ((int64_t)1 << 30) == 0)
		buf_addf(out, "%lldGi", (long long)(bytes >> 30));
	else if (bytes % ((int64_t)1 << 20) == 0)
		buf_addf(out, "%lldMi", (long long)(bytes >> 20));
	else
		buf_addf(out, "%lld", (long long)bytes);
}

int
kube_manifest(json_t *tmpl, const char *volume, const struct backend_job *job,
    int64_t ttl_seconds, json_t **out, struct buf *err)
{
	json_t *m, *meta, *spec, *pod, *podspec, *c, *limits, *requests;
	struct buf name = BUF_INIT, num = BUF_INIT, claim = BUF_INIT;
	backend_path_vec mounts = VEC_INIT;
	size_t n;
	int ret;

	*out = NULL;
	ret = kube_template_check(tmpl, "job template", err);
	if (ret == 0)
		ret = kube_template_mounts(tmpl, "job template", &mounts, err);
	backend_path_vec_release(&mounts);
	if (ret < 0)
		return ret;
	if (!kube_is_dns_label(job->username))
		return err_set(err, ERR_INVALID,
		    "user '%s' cannot be a Kubernetes namespace: lower-case "
		    "letters, digits and '-' only",
		    job->username);
	/* What the API server takes for a uid or gid: 0 to 2^31 - 1. */
	if (job->uid > KUBE_ID_MAX || job->gid > KUBE_ID_MAX)
		return err_set(err, ERR_INVALID,
		    "account of user '%s' (uid %lld, gid %lld) is beyond "
		    "Kubernetes' largest uid and gid, %lld",
		    job->username, (long long)job->uid, (long long)job->gid,
		    (long long)KUBE_ID_MAX);
	/*
	 * %OUT is where the pod mounts the claim, or its files would be
	 * lost: the machine that submitted the task must have the pilot's
	 * ORCHESTRA_VOLUME.
	 */
	kube_claim_path(&claim, volume, job->username);
	n = claim.len;
	if (job->out_dir == NULL || strncmp(job->out_dir, claim.data, n) != 0 ||
	    (job->out_dir[n] != '/' && job->out_dir[n] != '\0')) {
		ret = err_set(err, ERR_INVALID,
		    "output directory '%s' is not under %s, where the pods "
		    "mount user %s's claim '%s': the task was submitted with "
		    "another ORCHESTRA_VOLUME than the pilot's",
		    job->out_dir ? job->out_dir : "", claim.data, job->username,
		    KUBE_CLAIM);
		buf_release(&claim);
		return ret;
	}
	m = json_deep_copy(tmpl);
	meta = kube_obj(m, "metadata");
	spec = kube_obj(m, "spec");
	pod = spec ? kube_obj(spec, "template") : NULL;
	podspec = pod ? kube_obj(pod, "spec") : NULL;
	if (meta == NULL || podspec == NULL ||
	    kube_obj(pod, "metadata") == NULL) {
		json_decref(m);
		buf_release(&claim);
		return err_set(err, ERR_INVALID,
		    "job template: metadata or spec is not a mapping");
	}
	kube_job_name(&name, job->job_id, job->attempt);
	json_object_set_new(meta, "name", json_string(name.data));
	json_object_set_new(meta, "namespace", json_string(job->username));
	json_object_del(meta, "generateName");
	kube_labels(meta, job);
	kube_labels(kube_obj(pod, "metadata"), job);
	json_object_set_new(spec, "backoffLimit", json_integer(0));
	if (ttl_seconds > 0)
		json_object_set_new(spec, "ttlSecondsAfterFinished",
		    json_integer(ttl_seconds));
	else
		json_object_del(spec, "ttlSecondsAfterFinished");
	if (job->timeout_ms > 0)
		json_object_set_new(spec, "activeDeadlineSeconds",
		    json_integer((job->timeout_ms + 999) / 1000));
	json_object_set_new(podspec, "restartPolicy", json_string("Never"));
	if (job->node != NULL && *job->node != '\0')
		json_object_set_new(podspec, "nodeName",
		    json_string(job->node));
	kube_run_as(kube_obj_replace_bad(podspec, "securityContext"), job);
	kube_containers_confine(podspec, job);
	kube_claim_mount(podspec, claim.data);
	c = json_array_get(json_object_get(podspec, "containers"), 0);
	if (job->image != NULL && *job->image != '\0')
		json_object_set_new(c, "image", json_string(job->image));
	json_object_set_new(c, "command",
	    json_pack("[s, s, o]", "/bin/sh", "-c",
	        kube_literal(job->command)));
	json_object_del(c, "args");
	/* Where the local backend runs it: %OUT.  Kubernetes expands no
	 * $(VAR) here, and a runtime makes the directory if the image lacks
	 * it. */
	if (job->out_dir != NULL && *job->out_dir != '\0')
		json_object_set_new(c, "workingDir", json_string(job->out_dir));
	buf_addf(&num, "%lld", (long long)job->job_id);
	kube_env(c, "ORCHESTRA_JOB_ID", num.data);
	buf_reset(&num);
	buf_addf(&num, "%lld", (long long)job->attempt);
	kube_env(c, "ORCHESTRA_ATTEMPT", num.data);
	kube_env(c, "ORCHESTRA_TASK", job->task);
	kube_env(c, "ORCHESTRA_OUT", job->out_dir);
	kube_env(c, "ORCHESTRA_NODE", job->node ? job->node : "");
	limits = kube_obj(kube_obj(c, "resources"), "limits");
	requests = kube_obj(kube_obj(c, "resources"), "requests");
	/* One slot is one CPU; the memory it was placed with, both asked
	 * and its bound. */
	json_object_set_new(requests, "cpu", json_string("1"));
	if (job->memory > 0) {
		buf_reset(&num);
		kube_quantity(&num, job->memory);
		json_object_set_new(requests, "memory", json_string(num.data));
		json_object_set_new(limits, "memory", json_string(num.data));
	}
	if (job->gpu_index >= 0) {
		/* The device plugin picks the GPU and shows it alone. */
		json_object_set_new(limits, "nvidia.com/gpu", json_string("1"));
		kube_env_del(c, "NVIDIA_VISIBLE_DEVICES");
		kube_env_del(c, "CUDA_VISIBLE_DEVICES");
	} else {
		/* An NVIDIA image that asks for no GPU would see them all. */
		json_object_del(limits, "nvidia.com/gpu");
		kube_env(c, "NVIDIA_VISIBLE_DEVICES", "none");
		kube_env(c, "CUDA_VISIBLE_DEVICES", "");
	}
	buf_release(&name);
	buf_release(&num);
	buf_release(&claim);
	*out = m;
	return 0;
}
