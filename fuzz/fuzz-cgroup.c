/* libs: orch_util */
/*
 * fuzz-cgroup.c - the kernel's cgroup texts as util/cgroup.c reads them,
 * on any text: /proc/PID/cgroup, /proc/PID/mountinfo (with a path from
 * the input's first line), memory.events, one-value files (memory.peak)
 * and cgroup.controllers.  What is found is an absolute path; a count is
 * never below -1, one of OOM kills never below 0.
 */
#include "util/cgroup.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum cgroup_kind kinds[] = { CGROUP_NONE, CGROUP_V2,
		CGROUP_V1 };
	struct buf path = BUF_INIT, dir = BUF_INIT;
	char *s = fuzz_cstr(data, size);
	char *rest = strchr(s, '\n');
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (cgroup_self_path(s, kinds[i], &path) == 0) {
			FUZZ_CHECK(kinds[i] != CGROUP_NONE);
			FUZZ_CHECK(path.data[0] == '/');
			FUZZ_CHECK(strchr(path.data, '\n') == NULL);
		}
		buf_reset(&dir);
		if (rest != NULL &&
		    cgroup_mount_dir(rest + 1, kinds[i], "/a/b", &dir) == 0)
			FUZZ_CHECK(kinds[i] != CGROUP_NONE &&
			    strlen(dir.data) == dir.len);
	}
	FUZZ_CHECK(cgroup_count(s, "oom_kill") >= -1);
	FUZZ_CHECK(cgroup_oom_count(CGROUP_V2, s) >= 0);
	FUZZ_CHECK(cgroup_value(s) >= -1);
	(void)cgroup_has_word(s, "memory");
	buf_release(&path);
	buf_release(&dir);
	free(s);
	return 0;
}
