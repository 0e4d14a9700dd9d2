/*
 * access.c - may an account read or search a file, by its mode bits
 * alone: the check serve makes for a submitter when it cannot take the
 * submitter's account (serve runs as someone other than root).  As the
 * kernel does it, without ACLs: the owner's bits when the account owns
 * the file, else the group's when one of its groups is the file's, else
 * the others'.  uid 0 may read and search anything.
 */
#include "core/core.h"

bool
access_mode_allows(const struct access_ident *id, unsigned int mode,
    uint32_t owner, uint32_t group, unsigned int want)
{
	unsigned int bits;
	size_t i;
	bool in_group = id->gid == group;

	if (id->uid == 0)
		return true;
	for (i = 0; i < id->ngroups && !in_group; i++)
		in_group = id->groups[i] == group;
	if (id->uid == owner)
		bits = (mode >> 6) & 7;
	else if (in_group)
		bits = (mode >> 3) & 7;
	else
		bits = mode & 7;
	return (bits & want) == want;
}
