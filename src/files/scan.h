/*
 * exh_files_scan with the skip folders given per scan rather than fixed in
 * exh_files_config: exhunt check shares one compiled exh_files between
 * servers checked in parallel, each with its own log folders.
 */
#ifndef EXHUNT_FILES_SCAN_H
#define EXHUNT_FILES_SCAN_H

#include "walk.h"

/* As exh_files_scan; skip (may be NULL) replaces the configured skip
 * folders for this scan and is borrowed for its duration. */
int exhi_files_scan_skip(const exh_files *f, const char *root, const exhi_walk_skip *skip,
                         int (*on_finding)(void *ctx, const exh_finding *fd),
                         void (*on_error)(void *ctx, const exh_error *e), void *ctx,
                         exh_files_stats *stats, exh_error *err);

#endif
