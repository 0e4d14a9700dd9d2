/* libs: orch_util */
/*
 * test-cgroup.c - reading the kernel's cgroup texts (util/cgroup.c): a
 * process's cgroup of v2 or of v1's memory controller, where that is in
 * the file system (mountinfo, roots of mounts inside containers), the
 * counts of memory.events and memory.oom_control (OOM kills of either
 * kind), one-value files (memory.peak), and the words of
 * cgroup.controllers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/cgroup.h"

/* A hybrid machine: v1 controllers, v2 without any (this one, 2026). */
static const char hybrid_cgroup[] = "9:name=systemd:/\n"
                                    "8:pids:/\n"
                                    "4:memory:/process_api/84db\n"
                                    "2:cpu,cpuacct:/\n"
                                    "0::/\n";
static const char hybrid_mounts[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - "
    "cgroup cgroup rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:12 - cgroup "
    "cgroup rw,memory\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:6 - cgroup2 "
    "cgroup2 rw,nsdelegate\n";

/* A unified machine, the pilot in a systemd unit with Delegate=yes. */
static const char unified_cgroup[] =
    "0::/system.slice/orchestra-pilot.service\n";
static const char unified_mounts[] =
    "22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    "26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime "
    "shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";

static void
test_self_path(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(cgroup_self_path(hybrid_cgroup, CGROUP_V1, &b), 0);
	assert_string_equal(b.data, "/process_api/84db");
	assert_int_equal(cgroup_self_path(hybrid_cgroup, CGROUP_V2, &b), 0);
	assert_string_equal(b.data, "/");
	assert_int_equal(cgroup_self_path(unified_cgroup, CGROUP_V2, &b), 0);
	assert_string_equal(b.data, "/system.slice/orchestra-pilot.service");
	assert_int_equal(cgroup_self_path(unified_cgroup, CGROUP_V1, &b),
	    ERR_NOTFOUND);
	/* "memory" among others; not "memory_x", not a name= hierarchy. */
	assert_int_equal(cgroup_self_path("3:cpu,memory:/a\n", CGROUP_V1, &b),
	    0);
	assert_string_equal(b.data, "/a");
	assert_int_equal(
	    cgroup_self_path("3:memoryx:/a\n1:name=memory:/b", CGROUP_V1, &b),
	    ERR_NOTFOUND);
	/* Broken lines are no cgroup. */
	assert_int_equal(cgroup_self_path("0::\n0:/x\n::\n", CGROUP_V2, &b),
	    ERR_NOTFOUND);
	assert_int_equal(cgroup_self_path("", CGROUP_V2, &b), ERR_NOTFOUND);
	buf_release(&b);
}

static void
test_mount_dir(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(
	    cgroup_mount_dir(hybrid_mounts, CGROUP_V1, "/process_api/84db", &b),
	    0);
	assert_string_equal(b.data, "/sys/fs/cgroup/memory/process_api/84db");
	assert_int_equal(cgroup_mount_dir(hybrid_mounts, CGROUP_V2, "/", &b),
	    0);
	assert_string_equal(b.data, "/sys/fs/cgroup/unified");
	assert_int_equal(cgroup_mount_dir(unified_mounts, CGROUP_V2,
	                     "/system.slice/orchestra-pilot.service", &b),
	    0);
	assert_string_equal(b.data,
	    "/sys/fs/cgroup/system.slice/orchestra-pilot.service");
	assert_int_equal(cgroup_mount_dir(unified_mounts, CGROUP_V1, "/a", &b),
	    ERR_NOTFOUND);
	/* A mount of a part of the tree (a container's): paths below its
	 * root only, and an escaped space in the mount point. */
	assert_int_equal(cgroup_mount_dir("40 31 0:38 /kube/pod1 "
	                                  "/sys/fs/my\\040cg rw - cgroup2 "
	                                  "cgroup2 rw\n",
	                     CGROUP_V2, "/kube/pod1/c", &b),
	    0);
	assert_string_equal(b.data, "/sys/fs/my cg/c");
	assert_int_equal(cgroup_mount_dir("40 31 0:38 /kube/pod1 /cg rw - "
	                                  "cgroup2 cgroup2 rw\n",
	                     CGROUP_V2, "/kube/pod10", &b),
	    ERR_NOTFOUND);
	/* A line with no type after its "-" is skipped. */
	assert_int_equal(
	    cgroup_mount_dir("40 31 0:38 / /cg rw -\n", CGROUP_V2, "/", &b),
	    ERR_NOTFOUND);
	buf_release(&b);
}

static void
test_count(void **state)
{
	static const char events[] = "low 0\nhigh 0\nmax 12\noom 1\n"
	                             "oom_kill 1\noom_group_kill 1\n";
	static const char oom_control[] = "oom_kill_disable 0\nunder_oom 0\n"
	                                  "oom_kill 3\n";

	(void)state;
	assert_int_equal(cgroup_count(events, "oom_kill"), 1);
	assert_int_equal(cgroup_count(events, "oom_group_kill"), 1);
	assert_int_equal(cgroup_count(events, "max"), 12);
	assert_int_equal(cgroup_count(oom_control, "oom_kill"), 3);
	assert_int_equal(cgroup_count(oom_control, "under_oom"), 0);
	/* Older kernels' oom_control has no oom_kill line. */
	assert_int_equal(
	    cgroup_count("oom_kill_disable 0\nunder_oom 0\n", "oom_kill"), -1);
	assert_int_equal(cgroup_count("", "oom_kill"), -1);
	assert_int_equal(cgroup_count("oom_kill x\n", "oom_kill"), -1);
}

static void
test_oom_count(void **state)
{
	(void)state;
	assert_int_equal(cgroup_oom_count(CGROUP_V1,
	                     "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"),
	    3);
	/* v2: the group's kill where a kernel counts no process's. */
	assert_int_equal(cgroup_oom_count(CGROUP_V2,
	                     "oom 1\noom_kill 0\noom_group_kill 1\n"),
	    1);
	assert_int_equal(cgroup_oom_count(CGROUP_V2,
	                     "oom 2\noom_kill 2\noom_group_kill 1\n"),
	    2);
	/* v1 has no group kill; none said is none. */
	assert_int_equal(cgroup_oom_count(CGROUP_V1, "oom_group_kill 4\n"), 0);
	assert_int_equal(cgroup_oom_count(CGROUP_V1, "under_oom 0\n"), 0);
	assert_int_equal(cgroup_oom_count(CGROUP_V2, ""), 0);
	assert_int_equal(cgroup_oom_count(CGROUP_NONE, "oom_kill 5\n"), 0);
}

static void
test_value(void **state)
{
	(void)state;
	assert_int_equal(cgroup_value("143360\n"), 143360);
	assert_int_equal(cgroup_value("0"), 0);
	assert_int_equal(cgroup_value("9223372036854775807\n"), INT64_MAX);
	/* v2's "max", nothing, a sign, more than a number: none. */
	assert_int_equal(cgroup_value("max\n"), -1);
	assert_int_equal(cgroup_value(""), -1);
	assert_int_equal(cgroup_value("-1\n"), -1);
	assert_int_equal(cgroup_value("12 34\n"), -1);
	assert_int_equal(cgroup_value("12\n\n"), -1);
	assert_int_equal(cgroup_value("9223372036854775808\n"), -1);
}

static void
test_has_word(void **state)
{
	(void)state;
	assert_true(cgroup_has_word("cpuset cpu io memory pids\n", "memory"));
	assert_true(cgroup_has_word("memory", "memory"));
	assert_false(cgroup_has_word("cpuset cpu io pids\n", "memory"));
	assert_false(cgroup_has_word("memoryx", "memory"));
	assert_false(cgroup_has_word("", "memory"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self_path),
		cmocka_unit_test(test_mount_dir),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_oom_count),
		cmocka_unit_test(test_value),
		cmocka_unit_test(test_has_word),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
