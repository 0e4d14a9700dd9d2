/*
 * dl.c - shared libraries loaded on first use (dl.h).
 */
#include <dlfcn.h>
#include <pthread.h>

#include "util/dl.h"

static pthread_mutex_t util_dl_lock = PTHREAD_MUTEX_INITIALIZER;

void *
util_dl_sym(struct util_dl *lib, const char *name)
{
	void *sym;

	pthread_mutex_lock(&util_dl_lock);
	if (lib->handle == NULL) {
		lib->handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
		if (lib->handle == NULL)
			BUG("cannot load %s: %s", lib->soname, dlerror());
	}
	sym = dlsym(lib->handle, name);
	if (sym == NULL)
		BUG("no %s in %s: %s", name, lib->soname, dlerror());
	pthread_mutex_unlock(&util_dl_lock);
	return sym;
}
