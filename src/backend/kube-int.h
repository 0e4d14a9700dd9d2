/*
 * kube-int.h - what the Kubernetes backend's files share: YAML read into
 * JSON trees, and the connection settings from a kubeconfig or the
 * in-cluster service account.
 */
#ifndef ORCHESTRA_KUBE_INT_H
#define ORCHESTRA_KUBE_INT_H

#include <jansson.h>

#include "backend/backend.h"
#include "util/util.h"

/*
 * Parse one YAML document (JSON is YAML too) into a jansson tree: mappings
 * become objects (keys must be scalars), sequences arrays, plain scalars
 * null, booleans, integers, reals or strings by YAML 1.2's core schema,
 * quoted scalars strings.  Anchors, aliases and tags are refused (nothing
 * Orchestra reads uses them), as is more than one document.  `what` names
 * the text in messages ("kubeconfig '/root/.kube/config'").  Returns 0 and
 * *out (caller decrefs), or ERR_INVALID with the line and column.
 */
int kube_yaml_parse(const char *text, size_t len, const char *what,
    json_t **out, struct buf *err);

/* How to reach and authenticate to the API server. */
struct kube_config {
	char *server;   /* https://host:port, no trailing slash */
	char *ca_pem;   /* the CA bundle itself, or NULL */
	char *ca_file;  /* or a file holding it, or NULL */
	char *cert_pem; /* client certificate, PEM, or NULL */
	char *cert_file;
	char *key_pem; /* client key, PEM, or NULL */
	char *key_file;
	char *token;      /* bearer token, or NULL */
	char *token_file; /* re-read at each use (projected tokens rotate) */
	bool insecure;    /* insecure-skip-tls-verify */
	char *namespace;  /* the context's namespace, or NULL */
	char *source;     /* where it came from, for messages */
};

void kube_config_release(struct kube_config *kc);

/*
 * Load the connection settings: the kubeconfig named by `path` when not
 * NULL, else the first file of `list` (the KUBECONFIG setting: a list
 * of files) when not NULL or empty, else ~/.kube/config, else the
 * in-cluster service account ($KUBERNETES_SERVICE_HOST and _PORT, the
 * token and CA under /var/run/secrets/kubernetes.io/serviceaccount).
 * `context` picks a context by name (NULL: the current one).  An exec or
 * auth-provider credential plugin is refused with a message saying what
 * to use instead.  The files the settings name (CA, client certificate
 * and key, token file) are read once here, so that one missing or not PEM
 * is refused now, by name, rather than as a TLS error at the first
 * request.  Returns 0, or ERR_INVALID / ERR_NOTFOUND with `err`.
 */
int kube_config_load(struct kube_config *kc, const char *path, const char *list,
    const char *context, struct buf *err);

/*
 * The same from a kubeconfig's text (for tests and fuzzing); `dir` is the
 * directory relative file paths in it are taken from.
 */
int kube_config_parse(struct kube_config *kc, const char *text, size_t len,
    const char *what, const char *dir, const char *context, struct buf *err);

/* ---- the API client (kube-client.c) ----------------------------------- */

struct kube_client;

/*
 * Client-side rate limit, like client-go's QPS and burst; the values of
 * Kueue's default client connection (a job costs about three requests:
 * create, log, delete).
 */
#define KUBE_DEFAULT_QPS 50.0
#define KUBE_DEFAULT_BURST 100
/* Tries of one request that meets a 429, a 5xx or no answer. */
#define KUBE_TRIES 4
/* Per request, connection included. */
#define KUBE_DEFAULT_TIMEOUT_MS 30000

/*
 * A client of the API server `kc` describes (copied): one TLS connection
 * kept alive, requests paced by a token bucket (`qps` per second, bursts
 * of `burst`), each with `timeout_ms`.  Caller frees with
 * kube_client_free().
 */
int kube_client_new(struct kube_client **out, const struct kube_config *kc,
    double qps, int burst, long timeout_ms, struct buf *err);
void kube_client_free(struct kube_client *c);

/*
 * One request: `method` on `path` (starting with '/', its parts already
 * escaped by the caller with buf_add_percent_encoded()), with `body` as JSON
 * when not NULL.  Sets *status to the HTTP status and *reply to the parsed JSON
 * reply (caller decrefs; NULL when the reply is empty or not JSON).
 * Returns 0 whenever the server answered; ERR_UNAVAILABLE when it could
 * not be reached or did not answer in time.  A 429 is tried again after
 * its Retry-After (up to 10 s); a 5xx or no answer after a backoff
 * (kube_backoff), except for a POST, whose caller must first check by
 * name whether the create went through.  The bearer token never appears
 * in `err`.
 */
int kube_request(struct kube_client *c, const char *method, const char *path,
    const json_t *body, long *status, json_t **reply, struct buf *err);

/*
 * GET `path` and append its body as text to `out` (at most 1 MiB: a pod
 * log); *status as for kube_request().
 */
int kube_request_text(struct kube_client *c, const char *path, long *status,
    struct buf *out, struct buf *err);

/*
 * A watch: one streaming GET of `path` (with ?watch=1&resourceVersion=…),
 * driven without blocking: kube_watch_fd() is readable when there is
 * something to do, kube_watch_drain() does it and hands each event read
 * (a JSON object: type and object) to `on_event`; it returns 1 while the
 * stream lives, 0 once it ended (free it and start another).
 */
struct kube_watch;
int kube_watch_start(struct kube_client *c, const char *path,
    struct kube_watch **out, struct buf *err);
int kube_watch_fd(struct kube_watch *w);
/* The HTTP status of a watch that ended (0: no answer). */
long kube_watch_status(const struct kube_watch *w);
int kube_watch_drain(struct kube_watch *w,
    void (*on_event)(void *ctx, json_t *ev), void *ctx);
void kube_watch_free(struct kube_watch *w);

/* Sleep before try `tries` + 1: 200 ms, doubling, up to 3.2 s, jittered. */
void kube_backoff(int tries);

/*
 * An answer that is not what was asked for, as an error: a 401 names the
 * credentials refused; a refusal (4xx but 429) is ERR_INVALID, as trying
 * again will not help; the rest is ERR_UNAVAILABLE.  Returns the code.
 */
int kube_status_error(const struct kube_client *c, struct buf *err,
    const char *what, long status, json_t *reply);

/*
 * How many requests the client could send now and keep half its burst
 * for what is to come (the starts): 0 while it is paced.
 */
int kube_client_spare(struct kube_client *c);

/* How many requests the client has sent (for tests and the bench). */
int64_t kube_client_requests(const struct kube_client *c);

/* ---- caches kept by list and watch (kube-informer.c) ------------------ */

/* One kind of object to cache, and how. */
struct kube_kind {
	const char *what; /* for messages: "Jobs" */
	const char *path; /* the list's path, label selector included */
	/* The object's key in the cache (NULL: not kept). */
	const char *(*key)(json_t *obj);
	/* What of it to keep (a new reference). */
	json_t *(*slim)(json_t *obj);
	/* Is this event ("ADDED", "MODIFIED", "DELETED") news for the pilot? */
	bool (*wakes)(const char *type, json_t *obj);
};

/*
 * A cache of `kind`'s objects: kube_informer_sync() lists them when the
 * cache is stale and, with `watch`, starts a watch from the list, whose
 * descriptor joins the epoll set `epfd`; kube_informer_drain() applies the
 * events that came (and starts a new watch when one ended), and says
 * whether one was news for the pilot.  Without `watch` every sync lists.
 */
struct kube_informer;
struct kube_informer *kube_informer_new(const struct kube_kind *kind, int epfd);
void kube_informer_free(struct kube_informer *inf);
int kube_informer_sync(struct kube_informer *inf, struct kube_client *c,
    bool watch, struct buf *err);
/* List now, whatever the cache's state. */
int kube_informer_list(struct kube_informer *inf, struct kube_client *c,
    struct buf *err);
bool kube_informer_drain(struct kube_informer *inf, struct kube_client *c);
/* The object of `key`, or NULL (borrowed: valid until the next call). */
json_t *kube_informer_get(struct kube_informer *inf, const char *key);
/* Every object: key -> object (borrowed). */
json_t *kube_informer_objects(struct kube_informer *inf);
/* Store what a create or a get returned (unless the cache is newer). */
void kube_informer_put(struct kube_informer *inf, json_t *obj);
void kube_informer_forget(struct kube_informer *inf, const char *key);

/* ---- Job manifests (kube-manifest.c) ---------------------------------- */

/* Is `s` a DNS-1123 label (a namespace, a Job name): [a-z0-9-], ≤ 63,
 * alphanumeric at both ends? */
bool kube_is_dns_label(const char *s);

/* The Job's name for (job id, attempt): "orchestra-<id>-<attempt>". */
void kube_job_name(struct buf *out, int64_t job_id, int64_t attempt);

/*
 * Check a job template (parsed YAML): a batch/v1 Job whose pod has at
 * least one container and restartPolicy Never (or none).  0 or
 * ERR_INVALID naming the problem.
 */
int kube_template_check(json_t *tmpl, const char *what, struct buf *err);

/*
 * The paths the job's container (the template's first) sees of the
 * template's volumes other than the user's claim: their mountPaths,
 * appended to `out` (each absolute, or ERR_INVALID).  ERR_INVALID too when
 * the template has no claim "volume" but another volume of that name,
 * where kube_manifest() would add the claim.  `what` names the template.
 */
int kube_template_mounts(json_t *tmpl, const char *what, backend_path_vec *out,
    struct buf *err);

/* Where the pods of user `username` mount the user's claim:
 * "<volume>/<username>", `volume` without its trailing '/'. */
void kube_claim_path(struct buf *out, const char *volume, const char *username);

/*
 * The manifest of one job: a copy of `tmpl` with Orchestra's fields set
 * (see deploy/job-template.yaml).  Every value from a user goes in through
 * jansson, never pasted into text.  The user's claim "volume" is mounted
 * at kube_claim_path(`volume`, user) (the pilot's ORCHESTRA_VOLUME) in
 * every container that mounts it and in the job's container (the volume
 * and the mount added when the template has none, a mountPath of the
 * template's for it replaced), and the job's out_dir (%OUT, its
 * workingDir) must lie under it.  `ttl_seconds` is the Job's
 * ttlSecondsAfterFinished (0: none, the template's too).  Returns 0 and *out
 * (caller decrefs), or ERR_INVALID (a user name that is no namespace, an
 * out_dir elsewhere, …).
 */
int kube_manifest(json_t *tmpl, const char *volume,
    const struct backend_job *job, int64_t ttl_seconds, json_t **out,
    struct buf *err);

#endif
