/*
 * service-auth.c - API tokens and passwords: issuing, listing, revoking,
 * and checking them for the HTTP API.
 *
 * A token is "orc_" and 256 random bits (libsodium randombytes) in
 * base64url.  Only its BLAKE2b-256 digest is stored: for a secret of 256
 * random bits a fast hash is as good as a slow one (nobody can guess
 * through 2^256), and it lets a token be found by its digest in one
 * indexed lookup.  The digest found is compared again in constant time.
 * Passwords are chosen by people and guessable: argon2id
 * (crypto_pwhash_str), slow on purpose.  Neither a secret nor a hash is
 * ever put in a message or a log line.
 */
#include <pthread.h>
#include <sodium.h>

#include "service/service-int.h"

#define TOKEN_PREFIX "orc_"
#define TOKEN_BYTES 32
/* last_used is written at most this often: reads should not all write. */
#define TOKEN_TOUCH_MS (60 * 1000)
#define PASSWORD_MIN 8
#define PASSWORD_MAX 1024

static int
service_auth_init(struct buf *err)
{
	if (sodium_init() < 0)
		return err_set(err, ERR_UNAVAILABLE,
		    "cannot initialise libsodium");
	return 0;
}

/* The hex digest of a token's text, as stored. */
static void
service_auth_digest(const char *secret, char hex[2 * TOKEN_BYTES + 1])
{
	unsigned char d[TOKEN_BYTES];

	crypto_generichash(d, sizeof(d), (const unsigned char *)secret,
	    strlen(secret), NULL, 0);
	sodium_bin2hex(hex, 2 * TOKEN_BYTES + 1, d, sizeof(d));
	util_wipe(d, sizeof(d));
}

/* The account `user` names, which the actor must be or administer. */
static int
service_auth_account(struct service *svc, const char *user, struct account *out,
    struct buf *err)
{
	int ret = store_account_get(svc->st, user, out, err);

	if (ret < 0)
		return ret;
	return service_may_touch(svc, out, err);
}

int
service_token_issue(struct service *svc, const char *user,
    int64_t expires_in_ms, struct token *out, struct buf *secret,
    struct buf *err)
{
	unsigned char raw[TOKEN_BYTES];
	char b64[sodium_base64_ENCODED_LEN(TOKEN_BYTES,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	char hex[2 * TOKEN_BYTES + 1];
	struct account a = { 0 };
	struct event ev = { .kind = "account", .new_status = "token added" };
	int ret;

	if (svc->remote != NULL)
		return service_remote_token_issue(svc, user, expires_in_ms, out,
		    secret, err);
	if (expires_in_ms < 0)
		return err_set(err, ERR_INVALID,
		    "invalid expiry: must not be negative");
	ret = service_auth_init(err);
	if (ret < 0)
		return ret;
	ret = store_begin(svc->st, err);
	if (ret < 0)
		return ret;
	ret = service_auth_account(svc, user, &a, err);
	if (ret < 0)
		goto out;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	buf_addf(secret, "%s%s", TOKEN_PREFIX, b64);
	service_auth_digest(secret->data, hex);
	out->account_id = a.id;
	out->username = xstrdup(a.username);
	out->created_ms = time_now_ms();
	out->expires_ms =
	    expires_in_ms > 0 ? out->created_ms + expires_in_ms : 0;
	out->hash = xstrdup(hex);
	ret = store_token_insert(svc->st, out, err);
	if (ret < 0)
		goto out;
	ev.account_id = a.id;
	ret = store_event_add(svc->st, &ev, err);
out:
	util_wipe(raw, sizeof(raw));
	util_wipe(b64, sizeof(b64));
	account_release(&a);
	return service_end(svc, ret, err);
}

int
service_token_list(struct service *svc, const char *user, int64_t after_id,
    int64_t limit, token_vec *out, struct buf *err)
{
	struct account a = { 0 };
	int ret;

	if (svc->remote != NULL)
		return service_remote_token_list(svc, user, after_id, limit,
		    out, err);
	ret = service_auth_account(svc, user, &a, err);
	if (ret == 0)
		ret =
		    store_token_list(svc->st, a.id, after_id, limit, out, err);
	account_release(&a);
	return ret;
}

int
service_token_revoke(struct service *svc, const char *user, int64_t id,
    struct token *out, struct buf *err)
{
	struct account a = { 0 };
	struct event ev = { .kind = "account", .new_status = "token revoked" };
	int ret;

	if (svc->remote != NULL)
		return service_remote_token_revoke(svc, user, id, out, err);
	ret = store_begin(svc->st, err);
	if (ret < 0)
		return ret;
	ret = service_auth_account(svc, user, &a, err);
	if (ret < 0)
		goto out;
	ret = store_token_get(svc->st, id, NULL, out, NULL, err);
	/* Another user's token is as absent as one that never was. */
	if (ret == 0 && out->account_id != a.id)
		ret = ERR_NOTFOUND;
	if (ret == ERR_NOTFOUND) {
		err_set(err, ret, "user '%s' has no token %lld", user,
		    (long long)id);
		goto out;
	}
	if (ret < 0)
		goto out;
	if (out->revoked_ms != 0) {
		ret = err_set(err, ERR_CONFLICT,
		    "token %lld is revoked already", (long long)id);
		goto out;
	}
	out->revoked_ms = time_now_ms();
	ret = store_token_revoke(svc->st, id, out->revoked_ms, err);
	/* Its sessions would be refused anyway: the table keeps live ones. */
	if (ret == 0)
		ret = store_session_end_token(svc->st, id, NULL, err);
	if (ret < 0)
		goto out;
	ev.account_id = a.id;
	ret = store_event_add(svc->st, &ev, err);
out:
	account_release(&a);
	return service_end(svc, ret, err);
}

int
service_token_revoke_all(struct service *svc, const char *user,
    int64_t *ntokens, int64_t *nsessions, struct buf *err)
{
	struct account a = { 0 };
	struct event ev = { .kind = "account",
		.new_status = "all tokens revoked" };
	int ret;

	*ntokens = 0;
	*nsessions = 0;
	if (svc->remote != NULL)
		return service_remote_token_revoke_all(svc, user, ntokens,
		    nsessions, err);
	ret = store_begin(svc->st, err);
	if (ret < 0)
		return ret;
	ret = service_auth_account(svc, user, &a, err);
	if (ret == 0)
		ret = store_token_revoke_all(svc->st, a.id, time_now_ms(),
		    ntokens, err);
	if (ret == 0)
		ret = store_session_end_account(svc->st, a.id, false, nsessions,
		    err);
	if (ret < 0)
		goto out;
	ev.account_id = a.id;
	ret = store_event_add(svc->st, &ev, err);
out:
	account_release(&a);
	ret = service_end(svc, ret, err);
	if (ret < 0) {
		*ntokens = 0;
		*nsessions = 0;
	}
	return ret;
}

int
service_user_passwd(struct service *svc, const char *user, const char *password,
    struct buf *err)
{
	char hash[crypto_pwhash_STRBYTES];
	struct account a = { 0 };
	struct event ev = { .kind = "account", .new_status = "password set" };
	size_t len = strlen(password);
	int ret;

	if (svc->remote != NULL)
		return service_remote_refuse(svc, "user passwd", err);
	if (len < PASSWORD_MIN || len > PASSWORD_MAX)
		return err_set(err, ERR_INVALID,
		    "invalid password: must be %d to %d characters",
		    PASSWORD_MIN, PASSWORD_MAX);
	ret = service_auth_init(err);
	if (ret < 0)
		return ret;
	/* Hash before the transaction: it takes a while, on purpose. */
	if (crypto_pwhash_str(hash, password, len,
	        crypto_pwhash_OPSLIMIT_INTERACTIVE,
	        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return err_set(err, ERR_UNAVAILABLE,
		    "cannot hash the password: out of memory");
	ret = store_begin(svc->st, err);
	if (ret < 0)
		goto out_hash;
	ret = service_auth_account(svc, user, &a, err);
	if (ret < 0)
		goto out;
	ret = store_account_set_password(svc->st, a.id, hash, err);
	/* Whoever signed in with the old password is signed out. */
	if (ret == 0)
		ret = store_session_end_account(svc->st, a.id, true, NULL, err);
	if (ret < 0)
		goto out;
	ev.account_id = a.id;
	ret = store_event_add(svc->st, &ev, err);
out:
	account_release(&a);
	ret = service_end(svc, ret, err);
out_hash:
	util_wipe(hash, sizeof(hash));
	return ret;
}

/* A token's text has the shape we issue: reject others before hashing. */
static bool
service_auth_token_shaped(const char *secret)
{
	size_t plen = strlen(TOKEN_PREFIX), i, n = strlen(secret);

	if (n != plen + 43 || strncmp(secret, TOKEN_PREFIX, plen) != 0)
		return false;
	for (i = plen; i < n; i++)
		if (!((secret[i] >= 'A' && secret[i] <= 'Z') ||
		        (secret[i] >= 'a' && secret[i] <= 'z') ||
		        (secret[i] >= '0' && secret[i] <= '9') ||
		        secret[i] == '-' || secret[i] == '_'))
			return false;
	return true;
}

int
service_auth_token(struct service *svc, const char *secret, struct account *out,
    int64_t *token_id, struct buf *err)
{
	char hex[2 * TOKEN_BYTES + 1];
	struct token t = { 0 };
	int64_t now = time_now_ms();
	bool read;
	int ret;

	if (!service_auth_token_shaped(secret))
		return err_set(err, ERR_DENIED, "invalid token");
	ret = service_auth_init(err);
	if (ret < 0)
		return ret;
	service_auth_digest(secret, hex);
	ret = store_token_get(svc->st, 0, hex, &t, out, err);
	read = ret == 0; /* `out` is filled */
	if (ret == ERR_NOTFOUND ||
	    (ret == 0 && sodium_memcmp(t.hash, hex, sizeof(hex) - 1) != 0))
		ret = err_set(err, ERR_DENIED, "invalid token");
	else if (ret == 0 && t.revoked_ms != 0)
		ret = err_set(err, ERR_DENIED, "token %lld is revoked",
		    (long long)t.id);
	else if (ret == 0 && t.expires_ms != 0 && t.expires_ms <= now)
		ret = err_set(err, ERR_DENIED, "token %lld has expired",
		    (long long)t.id);
	if (ret == 0 && now - t.last_used_ms >= TOKEN_TOUCH_MS)
		ret = store_token_touch(svc->st, t.id, now, err);
	if (ret == 0 && token_id != NULL)
		*token_id = t.id;
	if (ret < 0 && read)
		account_release(out);
	token_release(&t);
	return ret;
}

/*
 * A hash to verify against when the user is unknown or has no password,
 * so that the answer takes as long as for a wrong password and the time
 * does not tell which names exist.  Made once, of a random password (once
 * however many of serve's threads ask first).
 */
static char service_auth_dummy[crypto_pwhash_STRBYTES];
static pthread_once_t service_auth_dummy_once = PTHREAD_ONCE_INIT;

static void
service_auth_dummy_make(void)
{
	unsigned char pw[16];

	randombytes_buf(pw, sizeof(pw));
	if (crypto_pwhash_str(service_auth_dummy, (const char *)pw, sizeof(pw),
	        crypto_pwhash_OPSLIMIT_INTERACTIVE,
	        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		service_auth_dummy[0] = '\0';
	util_wipe(pw, sizeof(pw));
}

static const char *
service_auth_dummy_hash(void)
{
	pthread_once(&service_auth_dummy_once, service_auth_dummy_make);
	return service_auth_dummy;
}

int
service_auth_password_load(struct service *svc, const char *user,
    struct account *out, char **hash, struct buf *err)
{
	int ret;

	*hash = NULL;
	ret = store_account_get(svc->st, user, out, err);
	if (ret == 0)
		ret = store_account_password(svc->st, out->id, hash, err);
	if (ret == 0 && *hash != NULL)
		return 0;
	account_release(out);
	free(*hash);
	*hash = NULL;
	if (ret == ERR_NOTFOUND) {
		buf_reset(err);
		ret = 0;
	}
	return ret;
}

int
service_auth_password_verify(const char *hash, const char *password,
    struct buf *err)
{
	bool ok = hash != NULL;
	int ret;

	ret = service_auth_init(err);
	if (ret < 0)
		return ret;
	if (crypto_pwhash_str_verify(ok ? hash : service_auth_dummy_hash(),
	        password, strlen(password)) != 0)
		ok = false;
	return ok ? 0 : err_set(err, ERR_DENIED, "wrong user name or password");
}

/* ---- sessions ---------------------------------------------------------- */

/* A session's secret, as a token's without the prefix: 43 base64url. */
static bool
service_session_shaped(const char *secret)
{
	size_t i, n = strlen(secret);

	if (n != 43)
		return false;
	for (i = 0; i < n; i++)
		if (!((secret[i] >= 'A' && secret[i] <= 'Z') ||
		        (secret[i] >= 'a' && secret[i] <= 'z') ||
		        (secret[i] >= '0' && secret[i] <= '9') ||
		        secret[i] == '-' || secret[i] == '_'))
			return false;
	return true;
}

/*
 * The session's CSRF token: a hash of the secret keyed by itself, so
 * that it need not be stored and cannot be turned back into the secret.
 */
static void
service_session_csrf(const char *secret, struct buf *csrf)
{
	static const char what[] = "orchestra csrf";
	unsigned char d[TOKEN_BYTES];
	char hex[2 * TOKEN_BYTES + 1];

	crypto_generichash(d, sizeof(d), (const unsigned char *)what,
	    sizeof(what) - 1, (const unsigned char *)secret, strlen(secret));
	sodium_bin2hex(hex, sizeof(hex), d, sizeof(d));
	buf_reset(csrf);
	buf_adds(csrf, hex);
	util_wipe(d, sizeof(d));
	util_wipe(hex, sizeof(hex));
}

int
service_session_open(struct service *svc, const struct account *who,
    int64_t token_id, int64_t idle_ms, struct buf *secret, struct buf *csrf,
    struct buf *err)
{
	unsigned char raw[TOKEN_BYTES];
	char b64[sodium_base64_ENCODED_LEN(TOKEN_BYTES,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	char hex[2 * TOKEN_BYTES + 1];
	int64_t now = time_now_ms();
	int ret;

	ret = service_auth_init(err);
	if (ret < 0)
		return ret;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	service_auth_digest(b64, hex);
	ret = store_begin(svc->st, err);
	if (ret < 0)
		goto out;
	/* Sweep the expired ones, so that the table holds only live ones. */
	ret = store_session_expire(svc->st, now - idle_ms, err);
	if (ret == 0)
		ret = store_session_insert(svc->st, who->id, token_id, hex, now,
		    err);
	ret = service_end(svc, ret, err);
	if (ret == 0) {
		buf_adds(secret, b64);
		service_session_csrf(b64, csrf);
	}
out:
	util_wipe(raw, sizeof(raw));
	util_wipe(b64, sizeof(b64));
	return ret;
}

int
service_auth_session(struct service *svc, const char *secret, int64_t idle_ms,
    bool touch, struct account *out, struct buf *csrf, struct buf *err)
{
	char hex[2 * TOKEN_BYTES + 1];
	struct session s = { 0 };
	int64_t now = time_now_ms(), every;
	int ret;

	if (!service_session_shaped(secret))
		return err_set(err, ERR_DENIED, "invalid session");
	ret = service_auth_init(err);
	if (ret < 0)
		return ret;
	service_auth_digest(secret, hex);
	ret = store_session_get(svc->st, hex, &s, err);
	if (ret == ERR_NOTFOUND)
		ret = err_set(err, ERR_DENIED,
		    "no such session: signed out, or never signed in");
	else if (ret == 0 && s.last_used_ms + idle_ms <= now)
		ret = err_set(err, ERR_DENIED,
		    "the session has expired: sign in again");
	/* Made from a token, it lasts no longer than the token does. */
	else if (ret == 0 && s.token_id != 0 && s.token_revoked_ms != 0)
		ret = err_set(err, ERR_DENIED,
		    "token %lld, which this session was signed in with, is "
		    "revoked: sign in again",
		    (long long)s.token_id);
	else if (ret == 0 && s.token_id != 0 && s.token_expires_ms != 0 &&
	    s.token_expires_ms <= now)
		ret = err_set(err, ERR_DENIED,
		    "token %lld, which this session was signed in with, has "
		    "expired: sign in again",
		    (long long)s.token_id);
	/* Noted at most once a minute, and often enough for a short limit. */
	every = idle_ms / 4 < TOKEN_TOUCH_MS ? idle_ms / 4 : TOKEN_TOUCH_MS;
	if (ret == 0 && touch && now - s.last_used_ms >= every)
		ret = store_session_touch(svc->st, s.id, now, err);
	if (ret == 0)
		ret = store_account_get(svc->st, s.username, out, err);
	if (ret == 0 && csrf != NULL)
		service_session_csrf(secret, csrf);
	session_release(&s);
	return ret;
}

int
service_session_close(struct service *svc, const char *secret, struct buf *err)
{
	char hex[2 * TOKEN_BYTES + 1];

	if (!service_session_shaped(secret))
		return err_set(err, ERR_DENIED, "invalid session");
	service_auth_digest(secret, hex);
	return store_session_delete(svc->st, hex, err);
}

/* ---- events ------------------------------------------------------------ */

int
service_events_since(struct service *svc, int64_t after, int64_t limit,
    event_row_vec *out, struct buf *err)
{
	return store_event_since(svc->st, after, limit, out, err);
}

int
service_events_last(struct service *svc, int64_t *id, struct buf *err)
{
	return store_event_last(svc->st, id, err);
}

int
service_ready(struct service *svc, struct buf *err)
{
	int64_t version;

	return store_schema_version(svc->st, &version, err);
}

int
service_data_version(struct service *svc, struct buf *out, struct buf *err)
{
	return store_data_version(svc->st, out, err);
}
