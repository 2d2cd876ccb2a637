/*
 * A read-only, depth-first walk of a folder tree in a stable order (each
 * folder's entries sorted by name, byte-wise). Symbolic links are never
 * followed (so the walk cannot leave the tree) and special files are never
 * opened; both are counted. Memory is bounded by depth x folder size.
 */
#ifndef EXHUNT_FILES_WALK_H
#define EXHUNT_FILES_WALK_H

#include "../core/internal.h"

#include <sys/types.h>

/* Deeper than any Windows tree reachable through MAX_PATH-aware tools, and
 * keeps the open folder descriptors of the walk (one per level) few. */
#define EXHI_WALK_MAX_DEPTH 128
/* A folder with more entries than this is read up to the limit and
 * reported: a million names is far beyond any Exchange or IIS folder, and
 * bounds the memory one hostile folder can take. */
#define EXHI_WALK_MAX_DIR_ENTRIES (1u << 20)
/* Paths longer than this are reported and skipped (Linux PATH_MAX). */
#define EXHI_WALK_MAX_PATH 4096

typedef struct exhi_walk exhi_walk;

typedef struct exhi_walk_entry {
  const char *path;       /* root + relative path; valid until the next call */
  const char *name;       /* last component, inside path */
  dev_t dev;
  ino_t ino;
  int64_t size;
  int64_t mtime_ms;
  /* Context for "written recently among old files": the median mtime of
   * the regular files in the same folder and how many there are. */
  int64_t dir_median_mtime_ms;
  size_t dir_files;
} exhi_walk_entry;

typedef struct exhi_walk_counts {
  uint64_t dirs, links_skipped, special_skipped;
  uint64_t files_left; /* files below a skip folder, not yielded */
} exhi_walk_counts;

/* Folders whose files another reader takes (exh_files_config.skip_dirs):
 * borrowed, must outlive the walk. */
typedef struct exhi_walk_skip {
  const char *const *dirs; /* paths as the walk spells them (root + "/" + names) */
  size_t n_dirs;
  const char *const *exts; /* name endings, compared case-insensitively; */
  size_t n_exts;           /* none: every file below the folders */
} exhi_walk_skip;

/* root may be a folder or a regular file (then the walk yields it alone).
 * A symbolic link given as root is followed: the user named it. */
int exhi_walk_new(const char *root, exhi_walk **out, exh_error *err);
/* The same, leaving out the files skip names (may be NULL); the folders
 * are still entered, so what else they hold is yielded. */
int exhi_walk_new_skip(const char *root, const exhi_walk_skip *skip, exhi_walk **out,
                       exh_error *err);
/*
 * Next regular file: EXH_OK and *got = 1 (e filled), EXH_OK and *got = 0 at
 * the end. Any other status is a folder or entry that could not be read,
 * described in err: report it and call again, the walk goes on.
 */
int exhi_walk_next(exhi_walk *w, exhi_walk_entry *e, int *got, exh_error *err);
void exhi_walk_get_counts(const exhi_walk *w, exhi_walk_counts *c);
void exhi_walk_free(exhi_walk *w);

#endif
