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
	sodium_memzero(d, sizeof(d));
}

void
service_secret_release(struct buf *secret)
{
	if (secret->alloc > 0)
		sodium_memzero(secret->data, secret->alloc);
	buf_release(secret);
}

/* The account `user` names, which the actor must be or administer. */
static int
service_auth_account(struct service *svc, const char *user,
    struct account *out, struct buf *err)
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
	out->expires_ms = expires_in_ms > 0 ? out->created_ms + expires_in_ms
					    : 0;
	out->hash = xstrdup(hex);
	ret = store_token_insert(svc->st, out, err);
	if (ret < 0)
		goto out;
	ev.account_id = a.id;
	ret = store_event_add(svc->st, &ev, err);
out:
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(b64, sizeof(b64));
	account_release(&a);
	return service_end(svc, ret, err);
}

int
service_token_list(struct service *svc, const char *user, token_vec *out,
    struct buf *err)
{
	struct account a = { 0 };
	int ret;

	if (svc->remote != NULL)
		return service_remote_token_list(svc, user, out, err);
	ret = service_auth_account(svc, user, &a, err);
	if (ret == 0)
		ret = store_token_list(svc->st, a.id, out, err);
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
	ret = store_token_get(svc->st, id, NULL, out, err);
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
		ret = err_set(err, ERR_CONFLICT, "token %lld is revoked already",
		    (long long)id);
		goto out;
	}
	out->revoked_ms = time_now_ms();
	ret = store_token_revoke(svc->st, id, out->revoked_ms, err);
	if (ret < 0)
		goto out;
	ev.account_id = a.id;
	ret = store_event_add(svc->st, &ev, err);
out:
	account_release(&a);
	return service_end(svc, ret, err);
}

int
service_user_passwd(struct service *svc, const char *user,
    const char *password, struct buf *err)
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
	if (ret < 0)
		goto out;
	ev.account_id = a.id;
	ret = store_event_add(svc->st, &ev, err);
out:
	account_release(&a);
	ret = service_end(svc, ret, err);
out_hash:
	sodium_memzero(hash, sizeof(hash));
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
service_auth_token(struct service *svc, const char *secret,
    struct account *out, struct buf *err)
{
	char hex[2 * TOKEN_BYTES + 1];
	struct token t = { 0 };
	int64_t now = time_now_ms();
	int ret;

	if (!service_auth_token_shaped(secret))
		return err_set(err, ERR_DENIED, "invalid token");
	ret = service_auth_init(err);
	if (ret < 0)
		return ret;
	service_auth_digest(secret, hex);
	ret = store_token_get(svc->st, 0, hex, &t, err);
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
	if (ret == 0)
		ret = store_account_get(svc->st, t.username, out, err);
	token_release(&t);
	return ret;
}

/*
 * NEEDSWORK: an unknown user, or one without a password, is answered
 * without hashing, faster than a wrong password: the time tells which
 * names exist.  Verify against a dummy hash then, once sign-in exists.
 */
int
service_auth_password(struct service *svc, const char *user,
    const char *password, struct account *out, struct buf *err)
{
	char *hash = NULL;
	int ret;

	ret = service_auth_init(err);
	if (ret < 0)
		return ret;
	ret = store_account_get(svc->st, user, out, err);
	if (ret == 0)
		ret = store_account_password(svc->st, out->id, &hash, err);
	if (ret == ERR_NOTFOUND || (ret == 0 && hash == NULL) ||
	    (ret == 0 && crypto_pwhash_str_verify(hash, password,
			     strlen(password)) != 0))
		ret = err_set(err, ERR_DENIED, "wrong user name or password");
	if (ret < 0)
		account_release(out);
	free(hash);
	return ret;
}

int
service_ready(struct service *svc, struct buf *err)
{
	int64_t version;

	return store_schema_version(svc->st, &version, err);
}
