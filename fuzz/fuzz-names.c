/* libs: orch_core */
/*
 * fuzz-names.c - names_check() and names_split_task() on any text: both
 * agree with the rule of core.h, checked here character by character, and
 * a split name joins back to the whole.
 */
#include "core/core.h"
#include "fuzz.h"

static bool
fuzz_names_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* The rule of core.h, written again: [A-Za-z0-9._-]{1,128}, not . or .. */
static bool
fuzz_names_valid(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > NAME_MAX_LEN)
		return false;
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (i = 0; i < len; i++)
		if (!fuzz_names_char(s[i]))
			return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT, joined = BUF_INIT;
	char *s = fuzz_cstr(data, size), *user, *name;
	int r;

	r = names_check("task name", s, &err);
	FUZZ_CHECK(r == 0 || r == ERR_INVALID);
	FUZZ_CHECK((r == 0) == fuzz_names_valid(s));
	/* A refusal is one printable line: the name is shown cut and tamed. */
	if (r < 0) {
		FUZZ_CHECK(err.len > 0 && strlen(err.data) == err.len);
		FUZZ_CHECK(strchr(err.data, '\n') == NULL);
		FUZZ_CHECK(err.len < 256);
	}
	r = names_check("task name", s, NULL);
	FUZZ_CHECK((r == 0) == fuzz_names_valid(s));

	r = names_split_task(s, &user, &name);
	if (r == 0) {
		FUZZ_CHECK(user != NULL && name != NULL);
		FUZZ_CHECK(fuzz_names_valid(user) && fuzz_names_valid(name));
		buf_addf(&joined, "user.%s.%s", user, name);
		FUZZ_CHECK(strcmp(joined.data, s) == 0);
	} else {
		FUZZ_CHECK(r == ERR_NOTFOUND);
		FUZZ_CHECK(user == NULL && name == NULL);
	}
	free(user);
	free(name);
	buf_release(&joined);
	buf_release(&err);
	free(s);
	return 0;
}
