/* libs: orch_backend */
/*
 * test-kube-config.c - YAML into JSON trees, and kubeconfigs read as
 * kubectl reads them (or refused, saying why).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <unistd.h>

#include "backend/kube-int.h"

static json_t *
test_yaml_ok(const char *text)
{
	struct buf err = BUF_INIT;
	json_t *v = NULL;

	if (kube_yaml_parse(text, strlen(text), "t", &v, &err) < 0)
		fail_msg("unexpected error: %s", err.data);
	buf_release(&err);
	return v;
}

static void
test_yaml_refused(const char *text, const char *needle)
{
	struct buf err = BUF_INIT;
	json_t *v = NULL;

	assert_int_equal(kube_yaml_parse(text, strlen(text), "t", &v, &err),
	    ERR_INVALID);
	assert_null(v);
	if (strstr(err.data, needle) == NULL)
		fail_msg("'%s' not in '%s'", needle, err.data);
	buf_release(&err);
}

static void
test_yaml_types(void **state)
{
	json_t *v;

	(void)state;
	v = test_yaml_ok("a: 1\nb: -2.5\nc: true\nd: ~\ne: '7'\nf: text\n"
	                 "g: [1, x, {h: null}]\ni:\n  - j: k\n");
	assert_int_equal(json_integer_value(json_object_get(v, "a")), 1);
	assert_true(json_is_real(json_object_get(v, "b")));
	assert_true(json_is_true(json_object_get(v, "c")));
	assert_true(json_is_null(json_object_get(v, "d")));
	assert_string_equal(json_string_value(json_object_get(v, "e")), "7");
	assert_string_equal(json_string_value(json_object_get(v, "f")), "text");
	assert_int_equal(json_array_size(json_object_get(v, "g")), 3);
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(v, "i"), 0), "j")),
	    "k");
	json_decref(v);
	/* JSON is YAML. */
	v = test_yaml_ok("{\"apiVersion\": \"v1\", \"n\": [1, 2]}");
	assert_string_equal(json_string_value(json_object_get(v, "apiVersion")),
	    "v1");
	json_decref(v);
}

static void
test_yaml_refusals(void **state)
{
	struct buf deep = BUF_INIT;
	int i;

	(void)state;
	test_yaml_refused("a: 1\na: 2\n", "duplicate key 'a'");
	test_yaml_refused("a: &x 1\nb: *x\n", "not supported");
	test_yaml_refused("a: 1\n---\nb: 2\n", "more than one document");
	test_yaml_refused("a: [1, 2\n", "line");
	test_yaml_refused("", "empty");
	test_yaml_refused("? [a]\n: 1\n", "key must be a scalar");
	test_yaml_refused("a: !!binary aGk=\n", "tags are not supported");
	for (i = 0; i < 100; i++)
		buf_adds(&deep, "[");
	test_yaml_refused(deep.data, "nested too deeply");
	buf_release(&deep);
}

static const char test_kubeconfig[] =
    "apiVersion: v1\n"
    "kind: Config\n"
    "current-context: lab\n"
    "clusters:\n"
    "- name: lab-cluster\n"
    "  cluster:\n"
    "    server: https://10.0.0.1:6443/\n"
    "    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\n"
    "- name: other\n"
    "  cluster:\n"
    "    server: https://other:6443\n"
    "    certificate-authority: ca/other.crt\n"
    "    insecure-skip-tls-verify: true\n"
    "contexts:\n"
    "- name: lab\n"
    "  context: {cluster: lab-cluster, user: admin, namespace: alice}\n"
    "- name: second\n"
    "  context: {cluster: other, user: robot}\n"
    "- name: plugin\n"
    "  context: {cluster: other, user: gke}\n"
    "users:\n"
    "- name: admin\n"
    "  user:\n"
    "    token: s3cret-token\n"
    "- name: robot\n"
    "  user:\n"
    "    tokenFile: tokens/robot\n"
    "    client-certificate: robot.crt\n"
    "    client-key: /abs/robot.key\n"
    "- name: gke\n"
    "  user:\n"
    "    exec:\n"
    "      apiVersion: client.authentication.k8s.io/v1beta1\n"
    "      command: gke-gcloud-auth-plugin\n";

static void
test_kubeconfig_current(void **state)
{
	struct kube_config kc;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(kube_config_parse(&kc, test_kubeconfig,
	                     strlen(test_kubeconfig), "kc", "/etc/k", NULL,
	                     &err),
	    0);
	assert_string_equal(kc.server, "https://10.0.0.1:6443");
	assert_string_equal(kc.ca_pem, "-----BEGIN CERTIFICATE-----\n");
	assert_null(kc.ca_file);
	assert_string_equal(kc.token, "s3cret-token");
	assert_string_equal(kc.namespace, "alice");
	assert_false(kc.insecure);
	kube_config_release(&kc);
	buf_release(&err);
}

static void
test_kubeconfig_named(void **state)
{
	struct kube_config kc;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(kube_config_parse(&kc, test_kubeconfig,
	                     strlen(test_kubeconfig), "kc", "/etc/k", "second",
	                     &err),
	    0);
	assert_string_equal(kc.server, "https://other:6443");
	/* Relative paths are the kubeconfig's directory's. */
	assert_string_equal(kc.ca_file, "/etc/k/ca/other.crt");
	assert_string_equal(kc.token_file, "/etc/k/tokens/robot");
	assert_string_equal(kc.cert_file, "/etc/k/robot.crt");
	assert_string_equal(kc.key_file, "/abs/robot.key");
	assert_true(kc.insecure);
	assert_null(kc.namespace);
	kube_config_release(&kc);
	buf_release(&err);
}

static void
test_kubeconfig_refused(void **state)
{
	static const struct {
		const char *text, *context, *needle;
	} cases[] = {
		{ test_kubeconfig, "plugin", "exec credential plugin" },
		{ test_kubeconfig, "nope",
		    "no context 'nope' (it has 'lab', 'second', 'plugin')" },
		{ "current-context: x\ncontexts: []\n", NULL,
		    "no context 'x'" },
		{ "kind: Config\n", NULL, "no current-context" },
		{ "- a\n", NULL, "not a kubeconfig" },
		{ "current-context: c\ncontexts:\n- name: c\n  context: "
		  "{cluster: k}\nclusters:\n- name: k\n  cluster: {server: "
		  "'http://x'}\n",
		    NULL, "must be an https:// URL" },
		{ "current-context: c\ncontexts:\n- name: c\n  context: "
		  "{cluster: k, user: u}\nclusters:\n- name: k\n  cluster: "
		  "{server: 'https://x'}\nusers:\n- name: u\n  user: "
		  "{client-certificate-data: YWJj}\n",
		    NULL, "needs its key" },
		{ "current-context: c\ncontexts:\n- name: c\n  context: "
		  "{cluster: k, user: u}\nclusters:\n- name: k\n  cluster: "
		  "{server: 'https://x', certificate-authority-data: '%%%'}\n",
		    NULL, "is not base64" },
		{ "current-context: c\ncontexts:\n- name: c\n  context: "
		  "{cluster: k, user: u}\nclusters:\n- name: k\n  cluster: "
		  "{server: 'https://x'}\n",
		    NULL, "names no user 'u'" },
		{ "current-context: c\ncontexts:\n- name: c\n  context: "
		  "{cluster: k}\nclusters:\n- name: k\n  cluster: {server: 5}\n",
		    NULL, "'server' is not a string" },
	};
	struct kube_config kc;
	struct buf err = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(kube_config_parse(&kc, cases[i].text,
		                     strlen(cases[i].text), "kc", NULL,
		                     cases[i].context, &err),
		    ERR_INVALID);
		if (strstr(err.data, cases[i].needle) == NULL)
			fail_msg("case %zu: '%s' not in '%s'", i,
			    cases[i].needle, err.data);
		/* Never the token in a message. */
		assert_null(strstr(err.data, "s3cret"));
	}
	buf_release(&err);
}

static void
test_kubeconfig_none(void **state)
{
	struct kube_config kc;
	struct buf err = BUF_INIT;

	(void)state;
	setenv("HOME", "/nonexistent-home", 1);
	unsetenv("KUBECONFIG");
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(kube_config_load(&kc, NULL, NULL, NULL, &err),
	    ERR_NOTFOUND);
	assert_non_null(strstr(err.data, "not in a cluster"));
	assert_int_equal(
	    kube_config_load(&kc, "/nonexistent/kc", NULL, NULL, &err),
	    ERR_NOTFOUND);
	assert_non_null(strstr(err.data,
	    "cannot read the kubeconfig '/nonexistent/kc': No such file"));
	/* The KUBECONFIG setting is a list: its first file is read. */
	assert_int_equal(kube_config_load(&kc, NULL,
	                     "/nonexistent/a:/nonexistent/b", NULL, &err),
	    ERR_NOTFOUND);
	assert_non_null(strstr(err.data,
	    "cannot read the kubeconfig '/nonexistent/a' (KUBECONFIG"));
	buf_release(&err);
}

/* A file of `text` at `path`. */
static void
test_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* What a kubeconfig names is read when it is loaded: a missing file or a
 * PEM that is none is refused then, naming it. */
static void
test_kubeconfig_files(void **state)
{
	static const struct {
		const char *user, *needle;
	} cases[] = {
		{ "{token: t}", NULL },
		{ "{tokenFile: tok}", NULL },
		{ "{tokenFile: nope}", "/nope': No such file" },
		{ "{client-certificate: crt, client-key: key}", NULL },
		{ "{client-certificate: key, client-key: key}",
		    "/key' is not a PEM certificate" },
		{ "{client-certificate: crt, client-key: crt}",
		    "/crt' is not a PEM private key" },
		{ "{client-certificate-data: YWJj, client-key: key}",
		    "client-certificate-data is not a PEM certificate" },
	};
	char dir[] = "/tmp/test-kube-config.XXXXXX";
	struct buf path = BUF_INIT, text = BUF_INIT, want = BUF_INIT;
	struct buf err = BUF_INIT;
	struct kube_config kc;
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	buf_addf(&path, "%s/crt", dir);
	test_write(path.data,
	    "-----BEGIN CERTIFICATE-----\nx\n"
	    "-----END CERTIFICATE-----\n");
	buf_reset(&path);
	buf_addf(&path, "%s/key", dir);
	test_write(path.data,
	    "-----BEGIN EC PRIVATE KEY-----\nx\n"
	    "-----END EC PRIVATE KEY-----\n");
	buf_reset(&path);
	buf_addf(&path, "%s/tok", dir);
	test_write(path.data, "t\n");
	buf_reset(&path);
	buf_addf(&path, "%s/kc", dir);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&text);
		buf_addf(&text,
		    "current-context: c\ncontexts:\n- name: c\n  context: "
		    "{cluster: k, user: u}\nclusters:\n- name: k\n  cluster: "
		    "{server: 'https://x', certificate-authority: crt}\n"
		    "users:\n- name: u\n  user: %s\n",
		    cases[i].user);
		test_write(path.data, text.data);
		buf_reset(&err);
		if (cases[i].needle == NULL) {
			if (kube_config_load(&kc, path.data, NULL, NULL, &err) <
			    0)
				fail_msg("case %zu: %s", i, err.data);
			kube_config_release(&kc);
			continue;
		}
		assert_int_equal(
		    kube_config_load(&kc, path.data, NULL, NULL, &err),
		    ERR_INVALID);
		if (strstr(err.data, cases[i].needle) == NULL ||
		    strstr(err.data, dir) == NULL)
			fail_msg("case %zu: '%s' or the path not in '%s'", i,
			    cases[i].needle, err.data);
	}
	/* The CA's file, missing. */
	buf_reset(&text);
	buf_addf(&text, "%s/crt", dir);
	unlink(text.data);
	assert_int_equal(kube_config_load(&kc, path.data, NULL, NULL, &err),
	    ERR_INVALID);
	buf_reset(&want);
	buf_addf(&want, "cannot read its certificate-authority '%s/crt'", dir);
	assert_non_null(strstr(err.data, want.data));
	unlink(path.data);
	buf_reset(&path);
	buf_addf(&path, "%s/key", dir);
	unlink(path.data);
	buf_reset(&path);
	buf_addf(&path, "%s/tok", dir);
	unlink(path.data);
	rmdir(dir);
	buf_release(&path);
	buf_release(&text);
	buf_release(&want);
	buf_release(&err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml_types),
		cmocka_unit_test(test_yaml_refusals),
		cmocka_unit_test(test_kubeconfig_current),
		cmocka_unit_test(test_kubeconfig_named),
		cmocka_unit_test(test_kubeconfig_refused),
		cmocka_unit_test(test_kubeconfig_none),
		cmocka_unit_test(test_kubeconfig_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
