/* libs: orch_core */
/*
 * test-access.c - may an account read or search a file, by its mode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"

static void
test_access_classes(void **state)
{
	static const uint32_t groups[] = { 50, 60 };
	struct access_ident alice = { 1001, 1001, groups, 2 };
	struct access_ident root = { 0, 0, NULL, 0 };
	const unsigned int rx = ACCESS_READ | ACCESS_SEARCH;

	(void)state;
	/* A directory of bob's, 0700: only bob (and root). */
	assert_false(access_mode_allows(&alice, 040700, 1002, 1002, rx));
	assert_true(access_mode_allows(&root, 040700, 1002, 1002, rx));
	/* Her own, 0700. */
	assert_true(access_mode_allows(&alice, 040700, 1001, 1001, rx));
	/* The owner's bits count for the owner, even when others may. */
	assert_false(access_mode_allows(&alice, 0077, 1001, 1001, ACCESS_READ));
	/* A group of hers (a supplementary one): the group's bits. */
	assert_true(access_mode_allows(&alice, 0640, 0, 60, ACCESS_READ));
	assert_false(access_mode_allows(&alice, 0600, 0, 60, ACCESS_READ));
	assert_false(access_mode_allows(&alice, 0604, 0, 60, ACCESS_READ));
	/* Others: /etc/shadow (0640 root:shadow) is not hers. */
	assert_false(access_mode_allows(&alice, 0100640, 0, 42, ACCESS_READ));
	assert_true(access_mode_allows(&alice, 0644, 0, 0, ACCESS_READ));
	/* Search without read: may pass, may not list. */
	assert_true(access_mode_allows(&alice, 040711, 0, 0, ACCESS_SEARCH));
	assert_false(access_mode_allows(&alice, 040711, 0, 0, rx));
	/* Nothing wanted: always. */
	assert_true(access_mode_allows(&alice, 0, 0, 0, 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_access_classes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
