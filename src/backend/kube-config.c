/*
 * kube-config.c - where the API server is and how to prove who we are:
 * a kubeconfig (its current or a named context), or the in-cluster
 * service account.  Only what libcurl can use directly is accepted: a
 * bearer token (or token file), a client certificate and key, a CA.
 * Credential plugins (exec, auth-provider) are refused by name.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <unistd.h>

#include "backend/kube-int.h"

#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
/* A kubeconfig bigger than this is not one. */
#define KUBE_CONFIG_MAX (4 << 20)

void
kube_config_release(struct kube_config *kc)
{
	free(kc->server);
	free(kc->ca_pem);
	free(kc->ca_file);
	free(kc->cert_pem);
	free(kc->cert_file);
	util_free_secret(kc->key_pem);
	free(kc->key_file);
	util_free_secret(kc->token);
	free(kc->token_file);
	free(kc->namespace);
	free(kc->source);
	memset(kc, 0, sizeof(*kc));
}

/*
 * Read a whole (small) file into *text (caller frees) and *len.  Returns
 * 0, or ERR_NOTFOUND / ERR_INVALID with only the reason in `err` ("No
 * such file or directory"): the caller names the file.
 */
static int
kube_read_file(const char *path, size_t max, char **text, size_t *len,
    struct buf *err)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f;
	int e;

	*text = NULL;
	f = fopen(path, "re");
	if (f == NULL) {
		e = errno;
		return err_set(err, e == ENOENT ? ERR_NOTFOUND : ERR_INVALID,
		    "%s", strerror(e));
	}
	b.cap_limit = max;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	e = ferror(f) ? errno : 0;
	fclose(f);
	if (e != 0) {
		buf_release(&b);
		return err_set(err, ERR_INVALID, "%s", strerror(e));
	}
	if (b.truncated) {
		buf_release(&b);
		return err_set(err, ERR_INVALID, "larger than %zu bytes", max);
	}
	if (len != NULL)
		*len = b.len;
	*text = buf_detach(&b);
	return 0;
}

static int
kube_b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Standard base64 (whitespace ignored, padding optional) into `out`. */
static int
kube_b64_decode(const char *in, struct buf *out)
{
	unsigned acc = 0;
	int bits = 0, v;

	for (; *in != '\0' && *in != '='; in++) {
		if (*in == ' ' || *in == '\n' || *in == '\r' || *in == '\t')
			continue;
		v = kube_b64_value(*in);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_addch(out, (char)((acc >> bits) & 0xff));
		}
	}
	return 0;
}

/* The entry named `name` of a kubeconfig list ("clusters", …), or NULL. */
static json_t *
kube_named(json_t *root, const char *list, const char *field, const char *name)
{
	json_t *arr = json_object_get(root, list), *e;
	size_t i;

	json_array_foreach(arr, i, e)
	{
		if (json_is_string(json_object_get(e, "name")) &&
		    strcmp(json_string_value(json_object_get(e, "name")),
		        name) == 0)
			return json_object_get(e, field);
	}
	return NULL;
}

/* A string field, or NULL; ERR_INVALID when present and not a string. */
static int
kube_str(json_t *obj, const char *key, const char *what, const char **out,
    struct buf *err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(err, ERR_INVALID, "%s: '%s' is not a string",
		    what, key);
	*out = json_string_value(v);
	return 0;
}

/* A path from the kubeconfig, taken relative to its directory. */
static char *
kube_path(const char *dir, const char *p)
{
	struct buf b = BUF_INIT;

	if (p[0] == '/' || dir == NULL)
		return xstrdup(p);
	buf_addf(&b, "%s/%s", dir, p);
	return buf_detach(&b);
}

/* "…-data" (base64) or the file next to it. */
static int
kube_pem(json_t *obj, const char *file_key, const char *data_key,
    const char *what, const char *dir, char **pem, char **file, struct buf *err)
{
	struct buf dec = BUF_INIT;
	const char *data = NULL, *path = NULL;
	int ret;

	ret = kube_str(obj, data_key, what, &data, err);
	if (ret == 0)
		ret = kube_str(obj, file_key, what, &path, err);
	if (ret < 0)
		return ret;
	if (data != NULL) {
		if (kube_b64_decode(data, &dec) < 0 || dec.len == 0) {
			buf_release(&dec);
			return err_set(err, ERR_INVALID,
			    "%s: '%s' is not base64", what, data_key);
		}
		*pem = buf_detach(&dec);
	} else if (path != NULL) {
		*file = kube_path(dir, path);
	}
	return 0;
}

/* "no context 'x'", with the names it has (as kubectl, which lists them
 * with `config get-contexts`). */
static void
kube_no_context(json_t *root, const char *what, const char *name,
    struct buf *err)
{
	struct buf names = BUF_INIT;
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(root, "contexts"), i, e)
	{
		if (!json_is_string(json_object_get(e, "name")))
			continue;
		buf_addf(&names, "%s'%s'", names.len ? ", " : "",
		    json_string_value(json_object_get(e, "name")));
	}
	err_set(err, ERR_INVALID, "%s: no context '%s' (%s%s)", what, name,
	    names.len ? "it has " : "it has none", names.data);
	buf_release(&names);
}

int
kube_config_parse(struct kube_config *kc, const char *text, size_t len,
    const char *what, const char *dir, const char *context, struct buf *err)
{
	json_t *root = NULL, *ctx, *cluster, *user, *v;
	const char *name, *cluster_name, *user_name, *s;
	size_t n;
	int ret;

	memset(kc, 0, sizeof(*kc));
	kc->source = xstrdup(what);
	ret = kube_yaml_parse(text, len, what, &root, err);
	if (ret < 0)
		goto out;
	ret = ERR_INVALID;
	if (!json_is_object(root)) {
		err_set(err, ret, "%s: not a kubeconfig", what);
		goto out;
	}
	name = context;
	if (name == NULL &&
	    kube_str(root, "current-context", what, &name, err) < 0)
		goto out;
	if (name == NULL || *name == '\0') {
		err_set(err, ret, "%s: no current-context", what);
		goto out;
	}
	ctx = kube_named(root, "contexts", "context", name);
	if (!json_is_object(ctx)) {
		kube_no_context(root, what, name, err);
		goto out;
	}
	if (kube_str(ctx, "cluster", what, &cluster_name, err) < 0 ||
	    kube_str(ctx, "user", what, &user_name, err) < 0 ||
	    kube_str(ctx, "namespace", what, &s, err) < 0)
		goto out;
	if (s != NULL)
		kc->namespace = xstrdup(s);
	cluster = cluster_name
	    ? kube_named(root, "clusters", "cluster", cluster_name)
	    : NULL;
	if (!json_is_object(cluster)) {
		err_set(err, ret, "%s: context '%s' names no cluster", what,
		    name);
		goto out;
	}
	if (kube_str(cluster, "server", what, &s, err) < 0)
		goto out;
	if (s == NULL || strncmp(s, "https://", 8) != 0) {
		err_set(err, ret,
		    "%s: cluster '%s': the server must be an "
		    "https:// URL",
		    what, cluster_name);
		goto out;
	}
	kc->server = xstrdup(s);
	n = strlen(kc->server);
	while (n > 8 && kc->server[n - 1] == '/')
		kc->server[--n] = '\0';
	v = json_object_get(cluster, "insecure-skip-tls-verify");
	kc->insecure = json_is_true(v);
	if (kube_pem(cluster, "certificate-authority",
	        "certificate-authority-data", what, dir, &kc->ca_pem,
	        &kc->ca_file, err) < 0)
		goto out;
	user = user_name ? kube_named(root, "users", "user", user_name) : NULL;
	if (user_name != NULL && user == NULL) {
		err_set(err, ret, "%s: context '%s' names no user '%s'", what,
		    name, user_name);
		goto out;
	}
	if (user != NULL && json_object_get(user, "exec") != NULL) {
		err_set(err, ret,
		    "%s: user '%s' uses an exec credential plugin, which "
		    "orchestra does not run: give it a token (or tokenFile) or "
		    "a client certificate",
		    what, user_name);
		goto out;
	}
	if (user != NULL && json_object_get(user, "auth-provider") != NULL) {
		err_set(err, ret,
		    "%s: user '%s' uses an auth-provider plugin, which "
		    "orchestra does not run: give it a token (or tokenFile) or "
		    "a client certificate",
		    what, user_name);
		goto out;
	}
	if (user != NULL) {
		if (kube_str(user, "token", what, &s, err) < 0)
			goto out;
		if (s != NULL)
			kc->token = xstrdup(s);
		if (kube_str(user, "tokenFile", what, &s, err) < 0)
			goto out;
		if (s != NULL)
			kc->token_file = kube_path(dir, s);
		if (kube_pem(user, "client-certificate",
		        "client-certificate-data", what, dir, &kc->cert_pem,
		        &kc->cert_file, err) < 0 ||
		    kube_pem(user, "client-key", "client-key-data", what, dir,
		        &kc->key_pem, &kc->key_file, err) < 0)
			goto out;
		if ((kc->cert_pem || kc->cert_file) !=
		    (kc->key_pem || kc->key_file)) {
			err_set(err, ret,
			    "%s: user '%s': a client certificate needs its key "
			    "and a key its certificate",
			    what, user_name);
			goto out;
		}
	}
	ret = 0;
out:
	json_decref(root);
	if (ret < 0)
		kube_config_release(kc);
	return ret;
}

/*
 * Is `pem` (NUL-terminated) PEM text holding a block whose label ends in
 * `label` ("CERTIFICATE", "PRIVATE KEY")?
 */
static bool
kube_is_pem(const char *pem, const char *label)
{
	const char *p = pem, *end;
	size_t n = strlen(label);

	while ((p = strstr(p, "-----BEGIN ")) != NULL) {
		p += strlen("-----BEGIN ");
		end = strstr(p, "-----");
		if (end == NULL)
			return false;
		if ((size_t)(end - p) >= n && memcmp(end - n, label, n) == 0)
			return true;
		p = end;
	}
	return false;
}

/*
 * One certificate, key or token file of the settings, checked now rather
 * than at the first request, as client-go does when it loads a
 * kubeconfig: the file readable, the PEM a PEM block of `label`
 * ("CERTIFICATE", "PRIVATE KEY"; NULL for a token file, any text).  `key`
 * is the kubeconfig's name of it, `word` what it is, for messages.
 */
static int
kube_check_one(const struct kube_config *kc, const char *pem, const char *file,
    const char *key, const char *label, const char *word, struct buf *err)
{
	struct buf why = BUF_INIT;
	char *text = NULL;
	int ret = 0;

	if (file != NULL) {
		if (kube_read_file(file, 1 << 20, &text, NULL, err) < 0) {
			buf_adds(&why, err->data);
			ret = err_set(err, ERR_INVALID,
			    "%s: cannot read its %s '%s': %s", kc->source, key,
			    file, why.data);
			buf_release(&why);
			return ret;
		}
		pem = text;
	}
	if (pem != NULL && label != NULL && !kube_is_pem(pem, label)) {
		if (file != NULL)
			ret = err_set(err, ERR_INVALID,
			    "%s: %s '%s' is not a PEM %s", kc->source, key,
			    file, word);
		else
			ret = err_set(err, ERR_INVALID,
			    "%s: %s-data is not a PEM %s", kc->source, key,
			    word);
	}
	free(text);
	return ret;
}

/* Every file the settings name can be read; every PEM is one. */
static int
kube_config_check(const struct kube_config *kc, struct buf *err)
{
	if (kube_check_one(kc, kc->ca_pem, kc->ca_file, "certificate-authority",
	        "CERTIFICATE", "certificate", err) < 0 ||
	    kube_check_one(kc, kc->cert_pem, kc->cert_file,
	        "client-certificate", "CERTIFICATE", "certificate", err) < 0 ||
	    kube_check_one(kc, kc->key_pem, kc->key_file, "client-key",
	        "PRIVATE KEY", "private key", err) < 0 ||
	    kube_check_one(kc, NULL, kc->token_file, "tokenFile", NULL, NULL,
	        err) < 0)
		return ERR_INVALID;
	return 0;
}

/* The in-cluster service account, as client-go's InClusterConfig. */
static int
kube_config_in_cluster(struct kube_config *kc, struct buf *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	struct buf b = BUF_INIT;
	char *ns;
	size_t len;

	memset(kc, 0, sizeof(*kc));
	if (host == NULL || port == NULL || *host == '\0' || *port == '\0')
		return err_set(err, ERR_NOTFOUND,
		    "no kubeconfig ($KUBECONFIG, ~/.kube/config) and not in a "
		    "cluster ($KUBERNETES_SERVICE_HOST unset)");
	if (access(KUBE_SA_DIR "/token", R_OK) < 0)
		return err_set(err, ERR_NOTFOUND,
		    "in a cluster, but no service account token at %s/token",
		    KUBE_SA_DIR);
	buf_addf(&b, strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s",
	    host, port);
	kc->server = buf_detach(&b);
	kc->token_file = xstrdup(KUBE_SA_DIR "/token");
	kc->ca_file = xstrdup(KUBE_SA_DIR "/ca.crt");
	kc->source = xstrdup("the in-cluster service account");
	if (kube_read_file(KUBE_SA_DIR "/namespace", 256, &ns, &len, err) ==
	    0) {
		ns[strcspn(ns, "\n")] = '\0';
		kc->namespace = ns;
	}
	buf_reset(err);
	return 0;
}

int
kube_config_load(struct kube_config *kc, const char *path, const char *list,
    const char *context, struct buf *err)
{
	struct buf file = BUF_INIT, what = BUF_INIT;
	const char *home = getenv("HOME");
	const char *from = "";
	struct passwd *pw;
	char *text, *slash;
	size_t len;
	int ret;

	if (path != NULL) {
		buf_adds(&file, path);
	} else if (list != NULL && *list != '\0') {
		/* A list: the first file (merging several is not done). */
		buf_add(&file, list, strcspn(list, ":"));
		from = " (KUBECONFIG, or kubeconfig in the config)";
	} else {
		if (home == NULL || *home == '\0') {
			pw = getpwuid(getuid());
			home = pw ? pw->pw_dir : "/";
		}
		buf_addf(&file, "%s/.kube/config", home);
		if (access(file.data, F_OK) < 0) {
			buf_release(&file);
			ret = kube_config_in_cluster(kc, err);
			goto check;
		}
	}
	ret = kube_read_file(file.data, KUBE_CONFIG_MAX, &text, &len, err);
	if (ret < 0) {
		buf_adds(&what, err->data);
		err_set(err, ret, "cannot read the kubeconfig '%s'%s: %s",
		    file.data, from, what.data);
		buf_release(&what);
		buf_release(&file);
		return ret;
	}
	buf_addf(&what, "kubeconfig '%s'", file.data);
	slash = strrchr(file.data, '/');
	if (slash != NULL)
		*slash = '\0';
	ret = kube_config_parse(kc, text, len, what.data,
	    slash != NULL ? file.data : NULL, context, err);
	free(text);
	buf_release(&file);
	buf_release(&what);
check:
	if (ret == 0) {
		ret = kube_config_check(kc, err);
		if (ret < 0)
			kube_config_release(kc);
	}
	return ret;
}
