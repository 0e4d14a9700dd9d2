# shellcheck shell=bash
# cgroup-lib.sh - the local backend's memory cgroups as the scripts that
# run pilots see them (tests/cli/lib.sh, scripts/torture.sh,
# bench/bench-pilot.sh), sourced: where a pilot put its jobs' cgroups,
# the tag of a state directory's, and the removal of the pool's, which
# outlive a pilot killed, and a stopped one where a job held them
# (src/backend/local.c, local_pool_claim, local_pool_remove_free).

# The directory a pilot put its jobs' cgroups under, from its log
# ("jobs' memory enforced: cgroup vN memory at DIR"); nothing if none.
cgroup_dir_logged() { # LOG
	[ -f "$1" ] || return 0
	sed -n "s/.*jobs' memory enforced: cgroup v[12] memory at \(.*\)$/\1/p" \
	    "$1" | tail -n 1
}

# The tag of the cgroups of state directory HOME/jobs: local_cgroup_tag's
# FNV-1a of its path, in hex.
cgroup_tag_of() { # HOME
	local s="$1/jobs" h=2166136261 i c
	for ((i = 0; i < ${#s}; i++)); do
		printf -v c '%d' "'${s:i:1}"
		h=$((((h ^ c) * 16777619) & 0xffffffff))
	done
	printf '%08x\n' "$h"
}

# Remove the pool's cgroups of HOME under DIR (none if DIR is empty),
# once the processes killed in them are gone (at most about 10 s).
cgroup_pool_remove() { # HOME DIR
	local tag tries=0 d left
	[ -n "$2" ] || return 0
	compgen -G "$1/jobs/cgroup-*.lock" >/dev/null || return 0
	tag=$(cgroup_tag_of "$1")
	while [ "$tries" -lt 100 ]; do
		tries=$((tries + 1))
		left=0
		for d in "$2/pool-$tag-"*; do
			[ -d "$d" ] || continue
			rmdir "$d" 2>/dev/null || left=1
		done
		[ "$left" = 1 ] || return 0
		sleep 0.1
	done
	echo "# cgroups of the pool left behind: $2/pool-$tag-*" >&2
	return 1
}
