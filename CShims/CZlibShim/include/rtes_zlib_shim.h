#ifndef RTES_ZLIB_SHIM_H
#define RTES_ZLIB_SHIM_H

#include <stddef.h>

/* zlib's gzip file reader and writer behind an opaque pointer, for rtes-itch-replay's
 * files (plain or gzip: zlib reads a file that is not gzip as it is). Every call returns
 * -errno or -1000 - zlib's error code on failure, never leaves Swift to read errno. */

typedef struct rtes_gz_file rtes_gz_file;

/* Opens PATH for reading ("rb") or writing ("wb"); NULL on failure with *error set. */
rtes_gz_file *rtes_gz_open(const char *path, const char *mode, int *error);
/* Reads up to COUNT bytes; the count read (0 at the end), or a negative error. */
long rtes_gz_read(rtes_gz_file *file, void *buffer, size_t count);
/* Writes COUNT bytes; COUNT, or a negative error. */
long rtes_gz_write(rtes_gz_file *file, const void *buffer, size_t count);
/* 1 when the file being read is gzip-compressed, 0 when plain (valid after the first read). */
int rtes_gz_is_compressed(rtes_gz_file *file);
/* zlib's last error text for FILE (never NULL). */
const char *rtes_gz_error_text(rtes_gz_file *file);
/* Closes; 0 or a negative error (a write that failed at the end shows here). */
int rtes_gz_close(rtes_gz_file *file);

#endif
