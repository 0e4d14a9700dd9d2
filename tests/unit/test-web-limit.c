/* libs: orch_web */
/*
 * test-web-limit.c - the per-address limiter of failed authentications
 * (web/server.c): an IPv6 client counts as its /64, and once the table
 * is full the addresses without a slot are limited together, not let
 * through; and the requests under way per token or session.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "web/web-int.h"

/* The burst of failures after which an address gets 429 (server.c). */
#define BURST 10

static void
test_key(void **state)
{
	static const char *const cases[][2] = {
		{ "127.0.0.1", "127.0.0.1" },
		{ "?", "?" },
		{ "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64" },
		{ "2001:db8:1:2::9", "2001:db8:1:2::/64" },
		{ "2001:db8::1", "2001:db8::/64" },
		{ "::1", "::/64" },
		{ "fe80::1:2:3:4", "fe80::/64" },
		{ "::ffff:192.0.2.7", "192.0.2.7" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		    "ffff:ffff:ffff:ffff::/64" },
	};
	char key[WEB_ADDR_KEY_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		web_addr_key(cases[i][0], key, sizeof(key));
		assert_string_equal(key, cases[i][1]);
	}
}

/* Fail `n` times from `ip`. */
static void
test_fail(const char *ip, int n)
{
	int i;

	for (i = 0; i < n; i++)
		web_limit_failed(ip);
}

static void
test_ipv6_per_64(void **state)
{
	(void)state;
	test_fail("2001:db8:5:6::1", BURST / 2);
	assert_false(web_limit_blocked("2001:db8:5:6::1"));
	/* Another address of the same /64 adds to the same count. */
	test_fail("2001:db8:5:6:ffff::2", BURST / 2);
	assert_true(web_limit_blocked("2001:db8:5:6::3"));
	assert_true(web_limit_blocked("2001:db8:5:6:abcd:1:2:3"));
	/* The next /64 is another client. */
	assert_false(web_limit_blocked("2001:db8:5:7::1"));
	/* An IPv4-mapped address is its IPv4 address, not "::/64". */
	test_fail("::ffff:192.0.2.1", BURST);
	assert_true(web_limit_blocked("192.0.2.1"));
	assert_false(web_limit_blocked("::ffff:192.0.2.2"));
	assert_false(web_limit_blocked("::1"));
}

/*
 * More failing addresses than the table holds (1,024): the ones past it
 * share one count, so a flood from many addresses is still limited, and
 * an address with a slot of its own is unaffected by it.
 */
static void
test_full_table(void **state)
{
	char ip[32];
	int i;

	(void)state;
	assert_false(web_limit_blocked("10.9.9.9"));
	for (i = 0; i < 1100; i++) {
		snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 250, i % 250 + 1);
		test_fail(ip, 1);
	}
	/* A new address has no slot: it shares the overflow's 76 failures. */
	assert_true(web_limit_blocked("10.9.9.9"));
	assert_true(web_limit_blocked("10.9.9.10"));
	/* Those with a slot are still counted on their own. */
	assert_false(web_limit_blocked("10.1.0.1"));
	test_fail("10.1.0.1", BURST);
	assert_true(web_limit_blocked("10.1.0.1"));
	assert_false(web_limit_blocked("10.1.0.2"));
}

/*
 * Requests under way per credential: WEB_REQ_PER_CRED for one token, the
 * next refused; another token, or a session of the same text, counted
 * apart; each end gives one back.
 */
static void
test_per_credential(void **state)
{
	uint64_t keys[WEB_REQ_PER_CRED], other, session, again;
	size_t i;

	(void)state;
	for (i = 0; i < WEB_REQ_PER_CRED; i++) {
		keys[i] = web_cred_begin("orc_token_a", false);
		assert_true(keys[i] > 1);
		assert_int_equal(keys[i], keys[0]);
	}
	assert_int_equal(web_cred_begin("orc_token_a", false), 0);
	assert_int_equal(web_cred_begin("orc_token_a", false), 0);
	other = web_cred_begin("orc_token_b", false);
	assert_true(other > 1 && other != keys[0]);
	session = web_cred_begin("orc_token_a", true);
	assert_true(session > 1 && session != keys[0]);
	web_cred_end(keys[0]);
	again = web_cred_begin("orc_token_a", false);
	assert_int_equal(again, keys[0]);
	assert_int_equal(web_cred_begin("orc_token_a", false), 0);
	web_cred_end(again);
	for (i = 1; i < WEB_REQ_PER_CRED; i++)
		web_cred_end(keys[i]);
	web_cred_end(other);
	web_cred_end(session);
	/* All ended: the slot is free, and the count starts again. */
	for (i = 0; i < WEB_REQ_PER_CRED; i++)
		keys[i] = web_cred_begin("orc_token_a", false);
	assert_int_equal(web_cred_begin("orc_token_a", false), 0);
	for (i = 0; i < WEB_REQ_PER_CRED; i++)
		web_cred_end(keys[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_ipv6_per_64),
		cmocka_unit_test(test_full_table),
		cmocka_unit_test(test_per_credential),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
