#include "rtes_zlib_shim.h"

#include <errno.h>
#include <stdlib.h>
#include <zlib.h>

struct rtes_gz_file { gzFile gz; };

static long failure(gzFile gz) {
    int code = Z_OK;
    gzerror(gz, &code);
    if (code == Z_ERRNO) return errno ? -errno : -EIO;
    return -1000 + code;  /* code is negative: -1000 - |code| */
}

rtes_gz_file *rtes_gz_open(const char *path, const char *mode, int *error) {
    errno = 0;
    gzFile gz = gzopen(path, mode);
    if (!gz) {
        *error = errno ? -errno : -ENOMEM;
        return NULL;
    }
    gzbuffer(gz, 1 << 20);
    struct rtes_gz_file *file = malloc(sizeof *file);
    if (!file) {
        gzclose(gz);
        *error = -ENOMEM;
        return NULL;
    }
    file->gz = gz;
    *error = 0;
    return file;
}

long rtes_gz_read(rtes_gz_file *file, void *buffer, size_t count) {
    if (count > (1u << 30)) count = 1u << 30;
    int n = gzread(file->gz, buffer, (unsigned)count);
    return n < 0 ? failure(file->gz) : n;
}

long rtes_gz_write(rtes_gz_file *file, const void *buffer, size_t count) {
    if (count == 0) return 0;
    if (count > (1u << 30)) return -EINVAL;
    int n = gzwrite(file->gz, buffer, (unsigned)count);
    return n == 0 ? failure(file->gz) : n;
}

int rtes_gz_is_compressed(rtes_gz_file *file) { return gzdirect(file->gz) ? 0 : 1; }

const char *rtes_gz_error_text(rtes_gz_file *file) {
    int code = Z_OK;
    const char *text = gzerror(file->gz, &code);
    return text ? text : "";
}

int rtes_gz_close(rtes_gz_file *file) {
    int code = gzclose(file->gz);
    free(file);
    if (code == Z_OK) return 0;
    if (code == Z_ERRNO) return errno ? -errno : -EIO;
    return -1000 + code;
}
