// faultfs: a pass-through FUSE file system whose writes can be made to fail or to slow down
// while a program runs on it — the disk faults the journal must survive (EIO, a slow disk),
// injected under a whole `trading_exchange` rather than into its journal agent.
//
//   faultfs BACKING_DIR MOUNT_POINT CONTROL_FILE
//
// Everything under MOUNT_POINT is BACKING_DIR's. CONTROL_FILE (outside the mount) is read at
// every write, fsync and fallocate; its first word says what they do:
//   ok          pass through (also when the file is missing or empty)
//   eio         fail with EIO (the data is not written)
//   slow N      wait N milliseconds, then pass through
// Runs in the foreground, single-threaded, until unmounted or sent SIGTERM/SIGINT (libfuse
// unmounts on those). Built by .ci/faultfs against Debian's libfuse3-dev; used by
// Tests/ExchangeOpsTests/DiskFaultTests.swift.
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse3/fuse.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

static char backing[PATH_MAX];
static char control[PATH_MAX];

static int real(char *out, const char *path) {
    int n = snprintf(out, PATH_MAX, "%s%s", backing, path);
    return (n < 0 || n >= PATH_MAX) ? -ENAMETOOLONG : 0;
}

// 0 to go on; a negative errno to fail with.
static int fault(void) {
    char text[64] = {0};
    int fd = open(control, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return 0;
    if (strncmp(text, "eio", 3) == 0) return -EIO;
    if (strncmp(text, "slow", 4) == 0) {
        long ms = strtol(text + 4, NULL, 10);
        if (ms > 0 && ms <= 60000) {
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    return 0;
}

#define REAL(p) char p##_real[PATH_MAX]; { int e = real(p##_real, p); if (e) return e; }

static void *ff_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
    (void)conn;
    cfg->use_ino = 1;
    cfg->entry_timeout = 0;
    cfg->attr_timeout = 0;
    cfg->negative_timeout = 0;
    return NULL;
}

static int ff_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
    if (fi) return fstat((int)fi->fh, st) == -1 ? -errno : 0;
    REAL(path);
    return lstat(path_real, st) == -1 ? -errno : 0;
}

static int ff_access(const char *path, int mask) {
    REAL(path);
    return access(path_real, mask) == -1 ? -errno : 0;
}

static int ff_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t offset,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
    (void)offset; (void)fi; (void)flags;
    REAL(path);
    DIR *dir = opendir(path_real);
    if (!dir) return -errno;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        struct stat st = {0};
        st.st_ino = entry->d_ino;
        st.st_mode = (mode_t)entry->d_type << 12;
        if (fill(buf, entry->d_name, &st, 0, 0)) break;
    }
    closedir(dir);
    return 0;
}

static int ff_mkdir(const char *path, mode_t mode) { REAL(path); return mkdir(path_real, mode) == -1 ? -errno : 0; }
static int ff_rmdir(const char *path) { REAL(path); return rmdir(path_real) == -1 ? -errno : 0; }
static int ff_unlink(const char *path) { REAL(path); return unlink(path_real) == -1 ? -errno : 0; }
static int ff_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
    if (fi) return fchmod((int)fi->fh, mode) == -1 ? -errno : 0;
    REAL(path);
    return chmod(path_real, mode) == -1 ? -errno : 0;
}

static int ff_rename(const char *from, const char *to, unsigned int flags) {
    REAL(from); REAL(to);
    return renameat2(AT_FDCWD, from_real, AT_FDCWD, to_real, flags) == -1 ? -errno : 0;
}

static int ff_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
    if (fi) return ftruncate((int)fi->fh, size) == -1 ? -errno : 0;
    REAL(path);
    return truncate(path_real, size) == -1 ? -errno : 0;
}

static int ff_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
    if (fi) return futimens((int)fi->fh, tv) == -1 ? -errno : 0;
    REAL(path);
    return utimensat(AT_FDCWD, path_real, tv, AT_SYMLINK_NOFOLLOW) == -1 ? -errno : 0;
}

// O_DIRECT is dropped on the backing file: the kernel's FUSE layer already hands every write
// of such a file to this process at once, and the backing file system may refuse it.
static int ff_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
    REAL(path);
    int fd = open(path_real, (fi->flags & ~O_DIRECT) | O_CLOEXEC, mode);
    if (fd == -1) return -errno;
    fi->fh = (uint64_t)fd;
    return 0;
}

static int ff_open(const char *path, struct fuse_file_info *fi) {
    REAL(path);
    int fd = open(path_real, (fi->flags & ~O_DIRECT) | O_CLOEXEC);
    if (fd == -1) return -errno;
    fi->fh = (uint64_t)fd;
    return 0;
}

static int ff_read(const char *path, char *buf, size_t size, off_t offset, struct fuse_file_info *fi) {
    (void)path;
    ssize_t n = pread((int)fi->fh, buf, size, offset);
    return n == -1 ? -errno : (int)n;
}

static int ff_write(const char *path, const char *buf, size_t size, off_t offset, struct fuse_file_info *fi) {
    (void)path;
    int failure = fault();
    if (failure) return failure;
    ssize_t n = pwrite((int)fi->fh, buf, size, offset);
    return n == -1 ? -errno : (int)n;
}

static int ff_statfs(const char *path, struct statvfs *st) {
    REAL(path);
    return statvfs(path_real, st) == -1 ? -errno : 0;
}

static int ff_release(const char *path, struct fuse_file_info *fi) {
    (void)path;
    close((int)fi->fh);
    return 0;
}

static int ff_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
    (void)path;
    int failure = fault();
    if (failure) return failure;
    int r = datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh);
    return r == -1 ? -errno : 0;
}

static int ff_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi) {
    (void)datasync; (void)fi;
    REAL(path);
    int failure = fault();
    if (failure) return failure;
    int fd = open(path_real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd == -1) return -errno;
    int r = fsync(fd);
    int saved = errno;
    close(fd);
    return r == -1 ? -saved : 0;
}

static int ff_fallocate(const char *path, int mode, off_t offset, off_t length, struct fuse_file_info *fi) {
    (void)path;
    int failure = fault();
    if (failure) return failure;
    return fallocate((int)fi->fh, mode, offset, length) == -1 ? -errno : 0;
}

static const struct fuse_operations operations = {
    .init = ff_init,
    .getattr = ff_getattr,
    .access = ff_access,
    .readdir = ff_readdir,
    .mkdir = ff_mkdir,
    .rmdir = ff_rmdir,
    .unlink = ff_unlink,
    .chmod = ff_chmod,
    .rename = ff_rename,
    .truncate = ff_truncate,
    .utimens = ff_utimens,
    .create = ff_create,
    .open = ff_open,
    .read = ff_read,
    .write = ff_write,
    .statfs = ff_statfs,
    .release = ff_release,
    .fsync = ff_fsync,
    .fsyncdir = ff_fsyncdir,
    .fallocate = ff_fallocate,
};

int main(int argc, char *argv[]) {
    if (argc != 4) {
        fprintf(stderr, "usage: faultfs BACKING_DIR MOUNT_POINT CONTROL_FILE\n");
        return 2;
    }
    if (!realpath(argv[1], backing)) {
        fprintf(stderr, "faultfs: backing directory %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    if (strlen(argv[3]) >= sizeof control) {
        fprintf(stderr, "faultfs: control file path too long\n");
        return 2;
    }
    strcpy(control, argv[3]);
    // -f foreground, -s single-threaded; default_permissions: the kernel checks modes.
    char *fuse_argv[] = {argv[0], argv[2], "-f", "-s", "-o", "default_permissions,fsname=faultfs", NULL};
    return fuse_main(6, fuse_argv, &operations, NULL);
}
