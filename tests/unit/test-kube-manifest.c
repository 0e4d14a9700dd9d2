/* libs: orch_backend */
/*
 * test-kube-manifest.c - the Kubernetes Job of one Orchestra job, from a
 * job template shaped like deploy/job-template.yaml; the API client's
 * escaping and its failure when no server answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backend/kube-int.h"

static const char test_template[] =
    "apiVersion: batch/v1\n"
    "kind: Job\n"
    "metadata:\n"
    "  name: placeholder\n"
    "  labels: {team: lps}\n"
    "spec:\n"
    "  template:\n"
    "    spec:\n"
    "      restartPolicy: Never\n"
    "      containers:\n"
    "        - name: job\n"
    "          image: debian:12\n"
    "          env: [{name: CUDA_VISIBLE_DEVICES, value: '0,1'}]\n"
    "          volumeMounts: [{name: volume, mountPath: /volume}]\n"
    "      volumes:\n"
    "        - name: volume\n"
    "          persistentVolumeClaim: {claimName: volume}\n";

static json_t *
test_tmpl(const char *text)
{
	struct buf err = BUF_INIT;
	json_t *t = NULL;

	if (kube_yaml_parse(text, strlen(text), "template", &t, &err) < 0)
		fail_msg("%s", err.data);
	buf_release(&err);
	return t;
}

static const char *
test_env(json_t *c, const char *name)
{
	json_t *e;
	size_t i;
	int found = 0;
	const char *v = NULL;

	json_array_foreach(json_object_get(c, "env"), i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "name")),
		        name) == 0) {
			found++;
			v = json_string_value(json_object_get(e, "value"));
		}
	}
	assert_true(found <= 1);
	return v;
}

static json_t *
test_build(const struct backend_job *job)
{
	struct buf err = BUF_INIT;
	json_t *t = test_tmpl(test_template), *m = NULL;

	if (kube_manifest(t, "/volume", job, 86400, &m, &err) < 0)
		fail_msg("%s", err.data);
	json_decref(t);
	buf_release(&err);
	return m;
}

static json_t *
test_container(json_t *m)
{
	json_t *spec = json_object_get(
	    json_object_get(json_object_get(m, "spec"), "template"), "spec");

	return json_array_get(json_object_get(spec, "containers"), 0);
}

/* resources.<kind>.<name> of container `c`, NULL if none. */
static const char *
test_resource(json_t *c, const char *kind, const char *name)
{
	return json_string_value(json_object_get(
	    json_object_get(json_object_get(c, "resources"), kind), name));
}

static void
test_cpu_job(void **state)
{
	struct backend_job job = { 42, 3, "user.alice.calib", "alice",
		"echo \"it's\" $HOME\nexit 3", "", "/volume/alice/calib",
		"node-07", -1, 90500, (int64_t)4 << 30, "alice", 1001, 1001,
		"/home/alice", NULL, 0 };
	json_t *m = test_build(&job), *c, *spec, *meta, *labels, *t;
	struct buf err = BUF_INIT;

	(void)state;
	meta = json_object_get(m, "metadata");
	assert_string_equal(json_string_value(json_object_get(meta, "name")),
	    "orchestra-42-3");
	assert_string_equal(
	    json_string_value(json_object_get(meta, "namespace")), "alice");
	labels = json_object_get(meta, "labels");
	assert_string_equal(json_string_value(json_object_get(labels, "team")),
	    "lps");
	assert_string_equal(json_string_value(json_object_get(labels,
	                        "app.kubernetes.io/managed-by")),
	    "orchestra");
	assert_string_equal(
	    json_string_value(json_object_get(labels, "orchestra/job-id")),
	    "42");
	spec = json_object_get(m, "spec");
	assert_int_equal(
	    json_integer_value(json_object_get(spec, "backoffLimit")), 0);
	assert_int_equal(json_integer_value(
	                     json_object_get(spec, "ttlSecondsAfterFinished")),
	    86400);
	assert_int_equal(
	    json_integer_value(json_object_get(spec, "activeDeadlineSeconds")),
	    91);
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(spec, "template"), "spec"),
	        "nodeName")),
	    "node-07");
	c = test_container(m);
	/* The command goes in whole, as one argument of /bin/sh -c. */
	assert_int_equal(json_array_size(json_object_get(c, "command")), 3);
	/* Kubernetes would expand $(X) and $$: each '$' goes in doubled. */
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(c, "command"), 2)),
	    "echo \"it's\" $$HOME\nexit 3");
	assert_string_equal(json_string_value(json_object_get(c, "image")),
	    "debian:12");
	/* It runs in its output directory, as on the local backend. */
	assert_string_equal(json_string_value(json_object_get(c, "workingDir")),
	    "/volume/alice/calib");
	/* A CPU job sees no GPU, whatever the template said. */
	assert_string_equal(test_env(c, "NVIDIA_VISIBLE_DEVICES"), "none");
	assert_string_equal(test_env(c, "CUDA_VISIBLE_DEVICES"), "");
	assert_null(json_object_get(
	    json_object_get(json_object_get(c, "resources"), "limits"),
	    "nvidia.com/gpu"));
	assert_string_equal(test_env(c, "ORCHESTRA_JOB_ID"), "42");
	assert_string_equal(test_env(c, "ORCHESTRA_TASK"), "user.alice.calib");
	/* Its memory asked and bounded; a CPU for its slot. */
	assert_string_equal(test_resource(c, "requests", "memory"), "4Gi");
	assert_string_equal(test_resource(c, "limits", "memory"), "4Gi");
	assert_string_equal(test_resource(c, "requests", "cpu"), "1");
	json_decref(m);

	/* kube_job_ttl 0: no TTL, not even one the template gives. */
	t = test_tmpl(test_template);
	json_object_set_new(json_object_get(t, "spec"),
	    "ttlSecondsAfterFinished", json_integer(5));
	assert_int_equal(kube_manifest(t, "/volume", &job, 0, &m, &err), 0);
	assert_null(json_object_get(json_object_get(m, "spec"),
	    "ttlSecondsAfterFinished"));
	json_decref(m);
	json_decref(t);
	buf_release(&err);
}

static void
test_gpu_job(void **state)
{
	struct backend_job job = { 7, 1, "user.bob.train", "bob", "python t.py",
		"nvcr.io/nvidia/pytorch:24.01", "/volume/bob/train", "gpu01", 1,
		0, 0, "bob", 1002, 100, "/home/bob", NULL, 0 };
	json_t *m = test_build(&job), *c;

	(void)state;
	c = test_container(m);
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(c, "resources"), "limits"),
	        "nvidia.com/gpu")),
	    "1");
	assert_null(test_env(c, "NVIDIA_VISIBLE_DEVICES"));
	/* The template's CUDA_VISIBLE_DEVICES=0,1 must not reach it. */
	assert_null(test_env(c, "CUDA_VISIBLE_DEVICES"));
	assert_string_equal(json_string_value(json_object_get(c, "image")),
	    "nvcr.io/nvidia/pytorch:24.01");
	assert_null(json_object_get(json_object_get(m, "spec"),
	    "activeDeadlineSeconds"));
	/* No memory asked (a node's not known): none set, a CPU still. */
	assert_null(test_resource(c, "limits", "memory"));
	assert_null(test_resource(c, "requests", "memory"));
	assert_string_equal(test_resource(c, "requests", "cpu"), "1");
	json_decref(m);
}

/* A template that sets a securityContext of its own everywhere. */
static const char test_template_secure[] =
    "apiVersion: batch/v1\n"
    "kind: Job\n"
    "spec:\n"
    "  template:\n"
    "    spec:\n"
    "      securityContext: {runAsUser: 5, runAsGroup: 5, "
    "runAsNonRoot: false, fsGroup: 100}\n"
    "      initContainers:\n"
    "        - {name: init, image: busybox, securityContext: "
    "{runAsUser: 0}}\n"
    "      containers:\n"
    "        - name: job\n"
    "          image: debian:12\n"
    "          securityContext: {runAsUser: 7, runAsNonRoot: true, "
    "privileged: true, allowPrivilegeEscalation: true, readOnlyRootFilesystem: "
    "true, capabilities: {add: [NET_ADMIN, SYS_ADMIN]}}\n"
    "        - {name: side, image: busybox}\n";

static json_t *
test_pod_spec(json_t *m)
{
	return json_object_get(
	    json_object_get(json_object_get(m, "spec"), "template"), "spec");
}

/* A securityContext's integer `key`, or -2 when it has none. */
static json_int_t
test_sc_int(json_t *sc, const char *key)
{
	json_t *v = json_object_get(sc, key);

	if (v == NULL)
		return -2;
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

/* Every container runs as `uid`:`gid` (-2: none set), unprivileged. */
static void
test_confined(json_t *m, json_int_t uid, json_int_t gid, bool nonroot)
{
	static const char *const lists[] = { "initContainers", "containers" };
	json_t *pod = test_pod_spec(m), *c, *sc, *caps;
	size_t i, k, n = 0;

	sc = json_object_get(pod, "securityContext");
	assert_int_equal(test_sc_int(sc, "runAsUser"), uid);
	assert_int_equal(test_sc_int(sc, "runAsGroup"), gid);
	assert_true(json_is_boolean(json_object_get(sc, "runAsNonRoot")));
	assert_int_equal(json_is_true(json_object_get(sc, "runAsNonRoot")),
	    nonroot);
	for (k = 0; k < 2; k++) {
		json_array_foreach(json_object_get(pod, lists[k]), i, c)
		{
			sc = json_object_get(c, "securityContext");
			assert_int_equal(test_sc_int(sc, "runAsUser"), uid);
			assert_int_equal(test_sc_int(sc, "runAsGroup"), gid);
			assert_int_equal(
			    json_is_true(json_object_get(sc, "runAsNonRoot")),
			    nonroot);
			assert_true(json_is_false(
			    json_object_get(sc, "allowPrivilegeEscalation")));
			assert_null(json_object_get(sc, "privileged"));
			caps = json_object_get(sc, "capabilities");
			assert_int_equal(json_object_size(caps), 1);
			assert_int_equal(
			    json_array_size(json_object_get(caps, "drop")), 1);
			assert_string_equal(
			    json_string_value(json_array_get(
			        json_object_get(caps, "drop"), 0)),
			    "ALL");
			n++;
		}
	}
	assert_true(n >= 1);
}

static void
test_run_as_owner(void **state)
{
	struct backend_job job = { 5, 1, "user.erin.t", "erin", "id -u", "",
		"/volume/erin/t", "n", -1, 0, 0, "erin", 1005, 1006,
		"/home/erin", NULL, 0 };
	struct buf err = BUF_INIT;
	json_t *m, *t, *sc;

	(void)state;
	/* The shipped template's shape: the owner's uid and gid. */
	m = test_build(&job);
	test_confined(m, 1005, 1006, true);
	json_decref(m);

	/* Ours win over the template's, in every container; the rest of
	 * the template's securityContext is kept. */
	t = test_tmpl(test_template_secure);
	assert_int_equal(kube_manifest(t, "/volume", &job, 60, &m, &err), 0);
	test_confined(m, 1005, 1006, true);
	sc = json_object_get(test_pod_spec(m), "securityContext");
	assert_int_equal(test_sc_int(sc, "fsGroup"), 100);
	sc = json_object_get(
	    json_array_get(json_object_get(test_pod_spec(m), "containers"), 0),
	    "securityContext");
	assert_true(
	    json_is_true(json_object_get(sc, "readOnlyRootFilesystem")));
	json_decref(m);

	/* An owner who is root: no runAsNonRoot true (the kubelet would
	 * refuse the pod), even where the template asked for it. */
	job.uid = 0;
	job.gid = 0;
	assert_int_equal(kube_manifest(t, "/volume", &job, 60, &m, &err), 0);
	test_confined(m, 0, 0, false);
	json_decref(m);

	/* An unknown account: no uid, not the template's either, and
	 * runAsNonRoot, so it never runs as root. */
	job.uid = -1;
	job.gid = -1;
	assert_int_equal(kube_manifest(t, "/volume", &job, 60, &m, &err), 0);
	test_confined(m, -2, -2, true);
	json_decref(m);

	/* A uid the API server would refuse is refused here, clearly. */
	job.uid = 4294967294LL;
	job.gid = 1006;
	assert_int_equal(kube_manifest(t, "/volume", &job, 60, &m, &err),
	    ERR_INVALID);
	assert_null(m);
	assert_non_null(strstr(err.data, "uid 4294967294"));
	json_decref(t);
	buf_release(&err);
}

/* The one mount named `name` of container `c`; NULL when none. */
static json_t *
test_mount(json_t *c, const char *name)
{
	json_t *vm, *found = NULL;
	size_t i;

	json_array_foreach(json_object_get(c, "volumeMounts"), i, vm)
	{
		if (strcmp(json_string_value(json_object_get(vm, "name")),
		        name) == 0) {
			assert_null(found);
			found = vm;
		}
	}
	return found;
}

static const char *
test_mount_path(json_t *c, const char *name)
{
	json_t *vm = test_mount(c, name);

	assert_non_null(vm);
	return json_string_value(json_object_get(vm, "mountPath"));
}

static const char test_template_mounts[] =
    "apiVersion: batch/v1\n"
    "kind: Job\n"
    "spec:\n"
    "  template:\n"
    "    spec:\n"
    "      initContainers:\n"
    "        - {name: fetch, image: x, volumeMounts: [{name: home, "
    "mountPath: /h}]}\n"
    "      containers:\n"
    "        - name: job\n"
    "          volumeMounts:\n"
    "            - {name: home, mountPath: /volume, subPath: x, readOnly: "
    "true}\n"
    "            - {name: data, mountPath: /data, readOnly: true}\n"
    "            - {name: home, mountPath: /again}\n"
    "        - {name: side, image: y}\n"
    "      volumes:\n"
    "        - {name: home, persistentVolumeClaim: {claimName: volume}}\n"
    "        - {name: data, hostPath: {path: /srv/data}}\n";

/*
 * The path contract: the user's claim at ORCHESTRA_VOLUME/<user> in every
 * container that mounts it and in the job's, whatever the template says;
 * the template's other mounts kept and reported.
 */
static void
test_claim_mount(void **state)
{
	struct backend_job job = { 7, 1, "user.alice.t", "alice", "true", "",
		"/srv/v/alice/t", "n", -1, 0, 0, "alice", 1001, 1001,
		"/home/alice", NULL, 0 };
	backend_path_vec mounts = VEC_INIT;
	struct buf err = BUF_INIT;
	json_t *t, *m, *pod, *c, *vm;

	(void)state;
	/* The seed's shape, mounted at /volume: moved. */
	t = test_tmpl(test_template);
	assert_int_equal(kube_manifest(t, "/srv/v/", &job, 60, &m, &err), 0);
	assert_string_equal(test_mount_path(test_container(m), "volume"),
	    "/srv/v/alice");
	assert_string_equal(
	    json_string_value(json_object_get(test_container(m), "workingDir")),
	    "/srv/v/alice/t");
	json_decref(m);
	assert_int_equal(kube_template_mounts(t, "t", &mounts, &err), 0);
	assert_int_equal(mounts.n, 0);
	json_decref(t);

	/* No claim in the template: the volume and the mount added. */
	t = test_tmpl("apiVersion: batch/v1\nkind: Job\nspec: {template: "
	              "{spec: {containers: [{name: job}]}}}\n");
	assert_int_equal(kube_manifest(t, "/srv/v", &job, 60, &m, &err), 0);
	pod = test_pod_spec(m);
	vm = json_array_get(json_object_get(pod, "volumes"), 0);
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(vm, "persistentVolumeClaim"), "claimName")),
	    "volume");
	assert_string_equal(test_mount_path(test_container(m), "volume"),
	    "/srv/v/alice");
	json_decref(m);
	json_decref(t);

	/* Under another name, mounted twice, with a subPath and readOnly,
	 * and by an init container: one mount each, whole, at the path. */
	t = test_tmpl(test_template_mounts);
	assert_int_equal(kube_manifest(t, "/srv/v", &job, 60, &m, &err), 0);
	pod = test_pod_spec(m);
	c = test_container(m);
	vm = test_mount(c, "home");
	assert_string_equal(json_string_value(json_object_get(vm, "mountPath")),
	    "/srv/v/alice");
	assert_null(json_object_get(vm, "subPath"));
	assert_null(json_object_get(vm, "readOnly"));
	assert_int_equal(json_array_size(json_object_get(c, "volumeMounts")),
	    2);
	assert_string_equal(test_mount_path(c, "data"), "/data");
	assert_string_equal(
	    test_mount_path(
	        json_array_get(json_object_get(pod, "initContainers"), 0),
	        "home"),
	    "/srv/v/alice");
	/* A side container that does not mount it is left alone. */
	assert_null(test_mount(
	    json_array_get(json_object_get(pod, "containers"), 1), "home"));
	assert_int_equal(json_array_size(json_object_get(pod, "volumes")), 2);
	json_decref(m);
	assert_int_equal(kube_template_mounts(t, "t", &mounts, &err), 0);
	assert_int_equal(mounts.n, 1);
	assert_string_equal(mounts.v[0], "/data");
	backend_path_vec_release(&mounts);

	/* %OUT elsewhere than the pilot's volume: never run blind. */
	job.out_dir = "/var/lib/orchestra/volume/alice/t";
	assert_int_equal(kube_manifest(t, "/srv/v", &job, 60, &m, &err),
	    ERR_INVALID);
	assert_null(m);
	assert_non_null(strstr(err.data, "another ORCHESTRA_VOLUME"));
	job.out_dir = "/srv/v/alice2/t";
	assert_int_equal(kube_manifest(t, "/srv/v", &job, 60, &m, &err),
	    ERR_INVALID);
	json_decref(t);

	/* A volume "volume" that is not the claim, and no claim. */
	job.out_dir = "/srv/v/alice/t";
	t = test_tmpl("apiVersion: batch/v1\nkind: Job\nspec: {template: "
	              "{spec: {containers: [{name: job}], volumes: [{name: "
	              "volume, emptyDir: {}}]}}}\n");
	assert_int_equal(kube_manifest(t, "/srv/v", &job, 60, &m, &err),
	    ERR_INVALID);
	assert_non_null(strstr(err.data, "is not the user's claim"));
	json_decref(t);

	/* A mountPath that is not absolute. */
	t = test_tmpl("apiVersion: batch/v1\nkind: Job\nspec: {template: "
	              "{spec: {containers: [{name: job, volumeMounts: [{name: "
	              "d, mountPath: data}]}], volumes: [{name: d, emptyDir: "
	              "{}}]}}}\n");
	assert_int_equal(kube_template_mounts(t, "t", &mounts, &err),
	    ERR_INVALID);
	assert_non_null(strstr(err.data, "not an absolute path"));
	backend_path_vec_release(&mounts);
	json_decref(t);
	buf_release(&err);
}

static void
test_label_of_long_name(void **state)
{
	char task[200];
	struct backend_job job = { 1, 1, task, "carol", "true", "",
		"/volume/carol/t", "n", -1, 0, 0, "carol", 1003, 1003,
		"/home/carol", NULL, 0 };
	json_t *m, *labels;
	const char *v;

	(void)state;
	memset(task, 'a', sizeof(task) - 2);
	task[0] = '.';
	task[sizeof(task) - 2] = '-';
	task[sizeof(task) - 1] = '\0';
	m = test_build(&job);
	labels = json_object_get(json_object_get(m, "metadata"), "labels");
	v = json_string_value(json_object_get(labels, "orchestra/task"));
	assert_true(strlen(v) <= 63 && strlen(v) > 0);
	assert_true(v[0] == 'a' && v[strlen(v) - 1] == 'a');
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(m, "metadata"), "annotations"),
	        "orchestra/task")),
	    task);
	json_decref(m);
}

static void
test_refusals(void **state)
{
	static const struct {
		const char *tmpl, *needle;
	} cases[] = {
		{ "apiVersion: v1\nkind: Pod\n", "not a batch/v1 Job" },
		{ "apiVersion: batch/v1\nkind: Job\nspec: {template: {spec: "
		  "{containers: []}}}\n",
		    "has no container" },
		{ "apiVersion: batch/v1\nkind: Job\nspec: {template: {spec: "
		  "{restartPolicy: OnFailure, containers: [{name: j}]}}}\n",
		    "restartPolicy must be Never" },
	};
	struct backend_job job = { 1, 1, "user.dave.t", "dave", "true", "",
		"/volume/dave/t", "n", -1, 0, 0, "dave", 1004, 1004,
		"/home/dave", NULL, 0 };
	struct buf err = BUF_INIT;
	json_t *t, *m = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = test_tmpl(cases[i].tmpl);
		assert_int_equal(
		    kube_manifest(t, "/volume", &job, 60, &m, &err),
		    ERR_INVALID);
		assert_null(m);
		if (strstr(err.data, cases[i].needle) == NULL)
			fail_msg("'%s' not in '%s'", cases[i].needle, err.data);
		json_decref(t);
	}
	t = test_tmpl(test_template);
	job.username = "Dave_B";
	assert_int_equal(kube_manifest(t, "/volume", &job, 60, &m, &err),
	    ERR_INVALID);
	assert_non_null(strstr(err.data, "cannot be a Kubernetes namespace"));
	json_decref(t);
	assert_true(kube_is_dns_label("lps-01"));
	assert_false(kube_is_dns_label("-lps"));
	assert_false(kube_is_dns_label("a.b"));
	assert_false(kube_is_dns_label(""));
	buf_release(&err);
}

static void
test_client_unreachable(void **state)
{
	struct kube_config kc = { 0 };
	struct kube_client *c = NULL;
	struct buf err = BUF_INIT, esc = BUF_INIT;
	json_t *reply = NULL;
	long status = -1;

	(void)state;
	kc.server = "https://127.0.0.1:1";
	kc.token = "s3cret-token";
	assert_int_equal(kube_client_new(&c, &kc, 100, 10, 2000, &err), 0);
	assert_int_equal(kube_request(c, "GET", "/api/v1/nodes", NULL, &status,
	                     &reply, &err),
	    ERR_UNAVAILABLE);
	assert_null(reply);
	assert_int_equal(status, 0);
	assert_non_null(strstr(err.data, "GET /api/v1/nodes"));
	assert_null(strstr(err.data, "s3cret"));
	/* No answer: tried again after a backoff, KUBE_TRIES in all. */
	assert_int_equal(kube_client_requests(c), KUBE_TRIES);
	kube_client_free(c);
	buf_add_percent_encoded(&esc, "a b/c?d=é");
	assert_string_equal(esc.data, "a%20b%2Fc%3Fd%3D%C3%A9");
	buf_release(&esc);
	buf_release(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu_job),
		cmocka_unit_test(test_gpu_job),
		cmocka_unit_test(test_run_as_owner),
		cmocka_unit_test(test_claim_mount),
		cmocka_unit_test(test_label_of_long_name),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_client_unreachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
