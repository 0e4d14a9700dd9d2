/*
 * local-launch.c - orchestra-launch, the local backend's launcher
 * (local-super.c): the pilot starts it with one end of a socket as its
 * standard input, and it forks supervisors for it until the socket ends.
 * A program of its own, linked with the C library only, so that its
 * forks are cheap.
 */
#include "backend/local-int.h"

int
main(void)
{
	return local_launcher_main(0);
}
