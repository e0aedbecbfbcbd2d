// The journal's file operations off its io_uring path (segment creation, preallocation,
// the O_DIRECT probe, retirement): every call retries EINTR and returns -errno.
#define _GNU_SOURCE
#include "exchange_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <unistd.h>

#define RETRY(expr) ({ long _r; do { _r = (long)(expr); } while (_r < 0 && errno == EINTR); _r; })

int rtes_file_create_exclusive(int dirfd, const char *name, int direct) {
    int flags = O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | (direct ? O_DIRECT : 0);
    long fd = RETRY(openat(dirfd, name, flags, 0600));
    return fd < 0 ? -errno : (int)fd;
}

int rtes_file_open_read(int dirfd, const char *name) {
    long fd = RETRY(openat(dirfd, name, O_RDONLY | O_CLOEXEC));
    return fd < 0 ? -errno : (int)fd;
}

int rtes_directory_open(const char *path) {
    long fd = RETRY(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    return fd < 0 ? -errno : (int)fd;
}

int rtes_file_allocate(int fd, int64_t length) {
    return RETRY(fallocate(fd, 0, 0, (off_t)length)) < 0 ? -errno : 0;
}

int rtes_file_truncate(int fd, int64_t length) {
    return RETRY(ftruncate(fd, (off_t)length)) < 0 ? -errno : 0;
}

int rtes_file_write_all(int fd, const void *bytes, size_t count, int64_t offset) {
    const char *p = bytes;
    while (count > 0) {
        long n = RETRY(pwrite(fd, p, count, (off_t)offset));
        if (n < 0) return -errno;
        if (n == 0) return -EIO;
        p += n;
        count -= (size_t)n;
        offset += n;
    }
    return 0;
}

int rtes_file_write_dsync(int fd, const void *bytes, size_t count, int64_t offset) {
    struct iovec v = { (void *)bytes, count };
    long n = RETRY(pwritev2(fd, &v, 1, (off_t)offset, RWF_DSYNC));
    if (n < 0) return -errno;
    return (size_t)n == count ? 0 : -EIO;
}

int64_t rtes_file_read(int fd, void *bytes, size_t count, int64_t offset) {
    char *p = bytes;
    size_t done = 0;
    while (done < count) {
        long n = RETRY(pread(fd, p + done, count - done, (off_t)(offset + (int64_t)done)));
        if (n < 0) return -errno;
        if (n == 0) break;
        done += (size_t)n;
    }
    return (int64_t)done;
}

int rtes_file_data_sync(int fd) { return RETRY(fdatasync(fd)) < 0 ? -errno : 0; }
int rtes_file_sync(int fd) { return RETRY(fsync(fd)) < 0 ? -errno : 0; }
/// close is not retried on EINTR (Linux releases the descriptor whatever it returns).
int rtes_file_close(int fd) { return close(fd) < 0 ? -errno : 0; }
int rtes_file_unlink(int dirfd, const char *name) { return RETRY(unlinkat(dirfd, name, 0)) < 0 ? -errno : 0; }
int rtes_file_rename(int dirfd, const char *from, const char *to) {
    return RETRY(renameat(dirfd, from, dirfd, to)) < 0 ? -errno : 0;
}

int64_t rtes_filesystem_type(int fd) {
    struct statfs s;
    if (RETRY(fstatfs(fd, &s)) < 0) return -errno;
    return (int64_t)(uint64_t)s.f_type;
}
