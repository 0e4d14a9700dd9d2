/*
 * replay.c - a main() for a fuzz target without libFuzzer: feed every file
 * of the directories (or the files) named on the command line to
 * LLVMFuzzerTestOneInput, once each, in name order.
 *
 * Built with the compiler of the preset (gcc for dev), under its
 * sanitizers, so each corpus is run in every test run and a crashing input
 * found by the fuzz preset can be replayed: replay-<name> crash-file.
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Read the whole of `path` into `b`; 0, or -1 with a message printed. */
static int
replay_read(const char *path, struct buf *b)
{
	char chunk[65536];
	size_t n;
	FILE *f;
	int ret = -1;

	f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "replay: cannot open '%s': %s\n", path,
		    strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(b, chunk, n);
	if (ferror(f)) {
		fprintf(stderr, "replay: cannot read '%s'\n", path);
		goto out;
	}
	ret = 0;
out:
	fclose(f);
	return ret;
}

static int
replay_file(const char *path)
{
	struct buf b = BUF_INIT;

	if (replay_read(path, &b) < 0) {
		buf_release(&b);
		return -1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)b.data, b.len);
	buf_release(&b);
	return 0;
}

/* Replay the regular files of `dir`; the number run, or -1. */
static int
replay_dir(const char *dir)
{
	struct dirent **names = NULL;
	struct buf path = BUF_INIT;
	struct stat sb;
	int i, n, nrun = 0;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: cannot list '%s': %s\n", dir,
		    strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		buf_reset(&path);
		buf_addf(&path, "%s/%s", dir, names[i]->d_name);
		if (stat(path.data, &sb) == 0 && S_ISREG(sb.st_mode)) {
			if (replay_file(path.data) < 0)
				nrun = -1;
			else if (nrun >= 0)
				nrun++;
		}
		free(names[i]);
	}
	free(names);
	buf_release(&path);
	return nrun;
}

int
main(int argc, char **argv)
{
	struct stat sb;
	int i, n, total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s corpus-dir-or-file...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &sb) < 0) {
			fprintf(stderr, "replay: no '%s'\n", argv[i]);
			return 1;
		}
		n = S_ISDIR(sb.st_mode) ? replay_dir(argv[i])
		                        : (replay_file(argv[i]) < 0 ? -1 : 1);
		if (n < 0)
			return 1;
		total += n;
	}
	if (total == 0) {
		fprintf(stderr, "replay: no input found\n");
		return 1;
	}
	printf("replay: %d inputs ok\n", total);
	return 0;
}
