/*
 * names.c - the rule for user, node, task and queue names, and the
 * "user.<username>.<name>" form of a task's name.
 */
#include "core/core.h"

/* How much of a bad name a message shows. */
#define NAMES_SHOW_MAX 40

static bool
names_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/*
 * A bad name as a message shows it: at most NAMES_SHOW_MAX characters,
 * non-printable bytes as '?', so a message stays one short line.
 */
static void
names_add_shown(struct buf *b, const char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i < NAMES_SHOW_MAX; i++) {
		unsigned char c = (unsigned char)name[i];

		buf_addch(b, c >= 0x20 && c < 0x7f ? (char)c : '?');
	}
	if (name[i] != '\0')
		buf_adds(b, "...");
}

static int
names_fail(struct buf *err, const char *what, const char *name, const char *why)
{
	struct buf shown = BUF_INIT;

	names_add_shown(&shown, name);
	err_set(err, ERR_INVALID, "invalid %s '%s': %s", what, shown.data, why);
	buf_release(&shown);
	return ERR_INVALID;
}

int
names_check(const char *what, const char *name, struct buf *err)
{
	size_t len = strnlen(name, NAME_MAX_LEN + 1);
	size_t i;

	if (len == 0)
		return err_set(err, ERR_INVALID, "invalid %s: empty", what);
	if (len > NAME_MAX_LEN)
		return names_fail(err, what, name,
		    "longer than 128 characters");
	for (i = 0; i < len; i++)
		if (!names_char_ok(name[i]))
			return names_fail(err, what, name,
			    "only letters, digits, '.', '_' and '-' are allowed");
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return names_fail(err, what, name,
		    "'.' and '..' are not allowed");
	return 0;
}

int
names_check_login(const char *login, struct buf *err)
{
	int ret = names_check("Unix user", login, err);

	if (ret == 0 && (strlen(login) > 32 || login[0] == '-'))
		ret = names_fail(err, "Unix user", login,
		    "at most 32 characters, not starting with '-'");
	return ret;
}

void
names_task_full(struct buf *out, const char *username, const char *name)
{
	buf_addf(out, "user.%s.%s", username, name);
}

int
names_split_task(const char *full, char **username, char **name)
{
	static const char prefix[] = "user.";
	const char *user, *dot;
	char *u;

	*username = NULL;
	*name = NULL;
	if (strncmp(full, prefix, sizeof(prefix) - 1) != 0)
		return ERR_NOTFOUND;
	user = full + sizeof(prefix) - 1;
	dot = strchr(user, '.');
	if (dot == NULL || dot == user)
		return ERR_NOTFOUND;
	u = xstrndup(user, (size_t)(dot - user));
	if (names_check("user name", u, NULL) < 0 ||
	    names_check("task name", dot + 1, NULL) < 0) {
		free(u);
		return ERR_NOTFOUND;
	}
	*username = u;
	*name = xstrdup(dot + 1);
	return 0;
}
