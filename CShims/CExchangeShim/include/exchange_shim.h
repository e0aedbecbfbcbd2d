#ifndef RTES_EXCHANGE_SHIM_H
#define RTES_EXCHANGE_SHIM_H

// What Swift cannot say directly. Every call that can fail returns 0 or a positive
// value on success and -errno on failure; nothing leaves Swift to read errno later.
// (Do not include <x86intrin.h> here: it breaks the Swift module build on fd_set.)
//
// Links against liburing, libnuma and libhugetlbfs. include/module.modulemap carries
// `link` directives for all three, so any Swift module importing CExchangeShim links
// them even before a Package.swift names them; the package should still say so:
//   linkerSettings: [.linkedLibrary("uring"), .linkedLibrary("numa"), .linkedLibrary("hugetlbfs")]

#include <stddef.h>
#include <stdint.h>
#include <liburing.h>

// ---- Time: rtes_clock.h (the CClock target), re-exported ---------------

#include "rtes_clock.h"

// ---- Errors, timer slack, TCP_NODELAY, close: rtes_client_shim.h (the CClientShim
// target, what clients link instead of this shim), re-exported ----------------

#include "rtes_client_shim.h"

// ---- Threads: affinity -----------------------------------------------------

/// Pins the calling thread to one CPU. Returns 0 or -errno.
int rtes_pin_current_thread(int cpu);

/// Pins the calling thread to a set of CPUs (`count` CPU numbers). Returns 0 or -errno;
/// -EINVAL for an empty set or a CPU number outside 0..<CPU_SETSIZE.
int rtes_pin_current_thread_to_cpus(const int32_t *cpus, int32_t count);

/// Names the calling thread (pthread_setname_np, which Swift's Glibc module does not
/// export), truncated to the kernel's 15 bytes. Returns 0 or -errno.
int rtes_set_current_thread_name(const char *name);

/// The CPU the calling thread runs on now, or -errno.
int rtes_current_cpu(void);

/// The CPUs in the calling thread's affinity mask, ascending. Writes at most `capacity`
/// numbers into `out` and returns how many there are in all (which may exceed
/// `capacity`), or -errno.
int rtes_affinity_cpus(int32_t *out, int32_t capacity);

/// The online CPUs (/sys/devices/system/cpu/online; sysconf as a fallback), ascending.
/// Same contract as rtes_affinity_cpus.
int rtes_online_cpus(int32_t *out, int32_t capacity);

// ---- Threads: scheduling ---------------------------------------------------

/// Linux scheduling policy numbers, as rtes_current_thread_policy reports them.
#define RTES_SCHED_OTHER    0
#define RTES_SCHED_FIFO     1
#define RTES_SCHED_RR       2
#define RTES_SCHED_BATCH    3
#define RTES_SCHED_IDLE     5
#define RTES_SCHED_DEADLINE 6

/// Runs the calling thread under SCHED_FIFO at `priority` (see the range below).
/// Returns 0 or -errno (-EPERM without CAP_SYS_NICE / RLIMIT_RTPRIO).
int rtes_set_current_thread_fifo(int32_t priority);

/// Waits until `fd` is readable or `nanoseconds` pass (ppoll). Returns 1 when readable (or
/// at end of stream or in error: the caller's read tells), 0 on timeout or a signal, -errno.
int rtes_wait_readable(int32_t fd, uint64_t nanoseconds);

/// The calling thread's policy (RTES_SCHED_*) or -errno; its priority into *priority.
int rtes_current_thread_policy(int32_t *priority);

/// SCHED_FIFO's priority range (1...99 on Linux), or -errno.
int rtes_fifo_priority_min(void);
int rtes_fifo_priority_max(void);

// ---- Process memory --------------------------------------------------------

/// mlockall(MCL_CURRENT | MCL_FUTURE). Returns 0 or -errno.
int rtes_lock_all_memory(void);

/// mlock / munlock of one range. Return 0 or -errno.
int rtes_lock_range(const void *address, size_t length);
int rtes_unlock_range(const void *address, size_t length);

/// 1 when every page of [address, address+length) is mapped, 0 when some is not,
/// -errno on another failure. (msync(MS_ASYNC) on the page-aligned range.)
int rtes_range_is_mapped(const void *address, size_t length);

/// VmLck of this process from /proc/self/status, in bytes, or -errno.
int64_t rtes_process_locked_bytes(void);

/// RLIMIT_MEMLOCK; UINT64_MAX for unlimited. Returns 0 or -errno.
int rtes_memlock_limit(uint64_t *soft, uint64_t *hard);

/// Capability numbers for rtes_has_capability.
#define RTES_CAP_IPC_LOCK 14 /* mlock beyond RLIMIT_MEMLOCK */
#define RTES_CAP_SYS_NICE 23 /* SCHED_FIFO */

/// 1 when the capability is in this thread's effective set (CapEff in
/// /proc/thread-self/status), 0 when not, -errno when unreadable.
int rtes_has_capability(int capability);

// ---- Memory regions --------------------------------------------------------

/// Hugepage policies for rtes_region_allocate.
#define RTES_HUGEPAGES_OFF     0 /* ordinary pages, nothing else tried */
#define RTES_HUGEPAGES_AUTO    1 /* hugetlbfs, then MAP_HUGETLB, then THP, then ordinary */
#define RTES_HUGEPAGES_REQUIRE 2 /* hugetlbfs or MAP_HUGETLB, else -ENOMEM */

/// Page kinds a region can end up on, best first.
#define RTES_PAGE_HUGETLBFS        3 /* libhugetlbfs get_huge_pages (mounted hugetlbfs) */
#define RTES_PAGE_HUGETLB          2 /* anonymous mmap with MAP_HUGETLB | MAP_HUGE_2MB */
#define RTES_PAGE_TRANSPARENT_HUGE 1 /* 2 MiB-aligned mmap + madvise(MADV_HUGEPAGE), THP not "never" */
#define RTES_PAGE_NORMAL           0 /* ordinary pages */

/// rtes_region.lock_result when no lock was asked for.
#define RTES_LOCK_NOT_REQUESTED 1

/// What rtes_region_allocate obtained. Pass the same struct to rtes_region_free.
typedef struct rtes_region {
    void *base;             /* start of the region, aligned to page_size */
    size_t requested_bytes; /* what the caller asked for */
    size_t mapped_bytes;    /* what is mapped: requested_bytes rounded up to page_size */
    size_t page_size;       /* 4 KiB, or the hugepage size (2 MiB for THP too) */
    int32_t page_kind;      /* RTES_PAGE_* */
    int32_t requested_node; /* the node asked for, or -1 */
    int32_t node;           /* the node the memory is bound to and was found on, or -1 */
    int32_t bind_result;    /* 0, or -errno saying why requested_node was not bound:
                               -ENOSYS no NUMA support, -ENODEV no such node, else the
                               failing set_mempolicy/mbind errno */
    int32_t huge_result;    /* 0, or -errno of the last hugepage attempt that failed
                               (why a region fell back, or why `require` failed) */
    int32_t lock_result;    /* 0 locked, RTES_LOCK_NOT_REQUESTED, or -errno of mlock */
} rtes_region;

/// Maps `bytes` under `policy` (RTES_HUGEPAGES_*), binds it to `node` when node >= 0 and
/// the node exists (before first touch), touches (zeroes) every page so nothing faults
/// later, then mlocks it when `lock` is non-zero — a failed lock is reported in
/// out->lock_result, not returned. Returns 0 or -errno (-EINVAL for bytes == 0 or an
/// unknown policy, -ENOMEM for `require` without hugepages, else the mmap errno).
/// On failure nothing stays mapped and out->huge_result/bind_result still say why.
int rtes_region_allocate(size_t bytes, int32_t policy, int32_t node, int32_t lock,
                         rtes_region *out);

/// Releases a region from rtes_region_allocate (free_huge_pages for hugetlbfs pages,
/// munmap otherwise) and clears out->base. Returns 0 or -errno; a NULL base is a no-op.
int rtes_region_free(rtes_region *region);

// ---- Hugepage and THP facts -------------------------------------------------

/// Hugepagesize from /proc/meminfo, in bytes, or -errno (-ENOENT without hugetlb).
int64_t rtes_default_hugepage_size(void);

/// Persistent hugepage counters for one page size (from
/// /sys/kernel/mm/hugepages/hugepages-<kB>kB/).
typedef struct rtes_hugepage_counts {
    int64_t total;    /* nr_hugepages: reserved pool (vm.nr_hugepages for the default size) */
    int64_t free;     /* free_hugepages */
    int64_t reserved; /* resv_hugepages: promised to mappings, not yet faulted */
    int64_t surplus;  /* surplus_hugepages: allocated beyond `total` under overcommit */
    int64_t overcommit; /* nr_overcommit_hugepages: how many surplus pages may exist */
} rtes_hugepage_counts;

/// Fills *out for `page_size` bytes (e.g. 2 MiB). Returns 0 or -errno
/// (-ENOENT when the kernel has no pool of that size).
int rtes_hugepage_counts_for_size(size_t page_size, rtes_hugepage_counts *out);

/// The transparent hugepage mode ("always", "madvise", "never") into buf.
/// Returns its length or -errno (-ENOENT without THP).
int rtes_thp_mode(char *buf, size_t capacity);

/// The hugetlbfs mount libhugetlbfs would use (for the default hugepage size) into buf.
/// Returns its length or -ENOENT when none is mounted.
int rtes_hugetlbfs_path(char *buf, size_t capacity);

// ---- NUMA ------------------------------------------------------------------

/// 1 when libnuma reports NUMA support (numa_available() >= 0), else 0.
int rtes_numa_available(void);

/// Number of NUMA node ids (numa_max_node() + 1); 1 when NUMA is unavailable.
int rtes_numa_node_count(void);

/// The node of `cpu`, or -errno (-EINVAL for an unknown CPU). 0 when NUMA is unavailable.
int rtes_numa_node_of_cpu(int cpu);

// ---- Sockets ---------------------------------------------------------------

/// A non-blocking TCP listening socket bound to `address`:`port` (host byte order; port 0
/// picks a free one) with SO_REUSEADDR. Returns the descriptor or -errno.
int rtes_tcp_listen(uint32_t address, uint16_t port, int backlog);

/// The local port a socket is bound to, or -errno.
int rtes_socket_local_port(int fd);

/// The peer's IPv4 address of a connected socket (host byte order) into `address`.
/// Returns 0, or -errno (-EAFNOSUPPORT for a peer that is not IPv4).
int rtes_socket_peer_ipv4(int fd, uint32_t *address);

/// shutdown(fd, SHUT_RDWR). Returns 0 or -errno.
int rtes_socket_shutdown(int fd);

// ---- io_uring glue (liburing 2.3) ------------------------------------------
// IOSQE_* are shifts of enum constants and io_uring_for_each_cqe is a statement macro:
// neither imports into Swift. These do, and inline.

static inline uint8_t rtes_iosqe_buffer_select(void)    { return (uint8_t)IOSQE_BUFFER_SELECT; }
/// Links the next entry to this one: it starts only after this one succeeds (a short read
/// or write fails the link too), else completes with -ECANCELED. The journal's write → fdatasync.
static inline uint8_t rtes_iosqe_io_link(void)          { return (uint8_t)IOSQE_IO_LINK; }

/// Replaces sqe->flags with `flags` (a union of rtes_iosqe_*()).
static inline void rtes_sqe_set_flags(struct io_uring_sqe *sqe, uint8_t flags) {
    sqe->flags = flags;
}

/// Makes a prepared write durable on completion (RWF_DSYNC in the sqe's rw_flags: the
/// per-write O_DSYNC).
static inline void rtes_sqe_set_dsync(struct io_uring_sqe *sqe) {
    sqe->rw_flags |= 0x00000002; /* RWF_DSYNC (linux/fs.h), spelled out: not every libc header set defines it */
}

/// Copies up to `max` ready CQEs (16 bytes each; the big-CQE tail is not copied) into
/// `out` and consumes them. Returns how many. Never enters the kernel.
static inline unsigned rtes_uring_take_cqes(struct io_uring *ring,
                                            struct io_uring_cqe *out, unsigned max) {
    unsigned head = *ring->cq.khead;
    unsigned tail = io_uring_smp_load_acquire(ring->cq.ktail);
    unsigned n = 0;
    while (head != tail && n < max) {
        const struct io_uring_cqe *cqe =
            &ring->cq.cqes[io_uring_cqe_index(ring, head, ring->cq.ring_mask)];
        out[n].user_data = cqe->user_data;
        out[n].res = cqe->res;
        out[n].flags = cqe->flags;
        n++;
        head++;
    }
    io_uring_cq_advance(ring, n);
    return n;
}

/// Completion-queue slots per submission-queue slot of every agent's ring (room for every
/// completion a burst of multishot receives can produce). Swift reads it to plan the memory.
#define RTES_URING_CQ_PER_SQ 4

/// Sets up `ring` for a busy-polling agent with the best flags the kernel accepts, in this
/// order: (with `sqpoll`: SQPOLL + SINGLE_ISSUER + COOP_TASKRUN + TASKRUN_FLAG, then less);
/// SINGLE_ISSUER + DEFER_TASKRUN + TASKRUN_FLAG; SINGLE_ISSUER + COOP_TASKRUN +
/// TASKRUN_FLAG; COOP_TASKRUN + TASKRUN_FLAG; no flags. The completion queue has
/// RTES_URING_CQ_PER_SQ × `entries` slots. Stores the flags obtained in *obtained. Returns 0 or -errno. With
/// `disabled`, the ring starts disabled (IORING_SETUP_R_DISABLED): the thread that will use
/// it calls io_uring_enable_rings and becomes its single issuer; otherwise the calling
/// thread is.
int rtes_uring_setup(struct io_uring *ring, unsigned entries, int sqpoll, int sqpoll_cpu,
                     int disabled, unsigned *obtained);

/// Enables a ring set up with `disabled`; the calling thread becomes its single issuer.
/// Returns 0 or -errno.
int rtes_uring_enable(struct io_uring *ring);

/// Maps a provided-buffer ring of `entries` (a power of two, at most 32768) and registers it
/// as buffer group `group`. Returns it, or NULL with -errno in *error.
struct io_uring_buf_ring *rtes_uring_buf_ring_register(struct io_uring *ring, unsigned entries,
                                                       unsigned short group, int *error);

/// Whether entering the kernel would run pending task work and so produce completions
/// (IORING_SQ_TASKRUN, set with IORING_SETUP_TASKRUN_FLAG), or an SQPOLL thread sleeps.
static inline int rtes_uring_wants_enter(const struct io_uring *ring) {
    return (IO_URING_READ_ONCE(*ring->sq.kflags) & (IORING_SQ_TASKRUN | IORING_SQ_NEED_WAKEUP)) != 0;
}

/// The buffer ID a CQE of a buffer-select request carries (IORING_CQE_F_BUFFER set).
static inline unsigned short rtes_cqe_buffer_id(uint32_t flags) {
    return (unsigned short)(flags >> IORING_CQE_BUFFER_SHIFT);
}

/// What this kernel's io_uring offers. Each field is 0 when the feature works and
/// -errno when it does not (the setup or submission error), so a log can say why.
typedef struct rtes_uring_features {
    int32_t ring;             /* a plain ring: io_uring_queue_init_params, no flags */
    int32_t sqpoll;           /* IORING_SETUP_SQPOLL */
    int32_t single_issuer;    /* IORING_SETUP_SINGLE_ISSUER */
    int32_t coop_taskrun;     /* IORING_SETUP_COOP_TASKRUN | TASKRUN_FLAG */
    int32_t defer_taskrun;    /* IORING_SETUP_DEFER_TASKRUN | SINGLE_ISSUER | TASKRUN_FLAG */
    int32_t multishot_accept; /* IORING_ACCEPT_MULTISHOT on a listening AF_UNIX socket */
    int32_t multishot_recv;   /* IORING_RECV_MULTISHOT + provided buffers on a socketpair */
    int32_t opcodes;          /* number of supported opcodes (io_uring_get_probe), or -errno */
    int32_t last_opcode;      /* highest opcode the kernel knows, or -errno */
    uint32_t features;        /* IORING_FEAT_* of the plain ring (0 if none) */
} rtes_uring_features;

/// Probes by creating (and closing) small rings with each setup flag, and by submitting
/// a multishot accept and a multishot recv on throw-away local sockets. Takes a few
/// milliseconds; call once at start-up. Returns 0, or -errno when out is NULL.
int rtes_uring_probe_features(rtes_uring_features *out);

// ---- Journal files (journal_files.c) ----------------------------------------
// Each returns 0 (or a descriptor, a count) or -errno, and retries EINTR.

/// openat(dirfd, name, O_CREAT|O_EXCL|O_RDWR|O_CLOEXEC [|O_DIRECT], 0600): a new file only.
int rtes_file_create_exclusive(int dirfd, const char *name, int direct);
/// openat(dirfd, name, O_RDONLY|O_CLOEXEC).
int rtes_file_open_read(int dirfd, const char *name);
/// open(path, O_RDONLY|O_DIRECTORY|O_CLOEXEC): a directory to fsync and to name files in.
int rtes_directory_open(const char *path);
/// fallocate(fd, 0, 0, length): reserves the blocks (ENOSPC here, not at a later write).
int rtes_file_allocate(int fd, int64_t length);
/// ftruncate(fd, length): sizes a file whose filesystem cannot fallocate (sparse).
int rtes_file_truncate(int fd, int64_t length);
/// pwrite until `count` bytes are written; a write that makes no progress is -EIO.
int rtes_file_write_all(int fd, const void *bytes, size_t count, int64_t offset);
/// One pwritev2(RWF_DSYNC) of `count` bytes at `offset`: 0, -errno, or -EIO when short.
int rtes_file_write_dsync(int fd, const void *bytes, size_t count, int64_t offset);
/// pread up to `count` bytes (fewer at the end of the file). Returns the count or -errno.
int64_t rtes_file_read(int fd, void *bytes, size_t count, int64_t offset);
int rtes_file_data_sync(int fd);
int rtes_file_sync(int fd);
int rtes_file_close(int fd);
int rtes_file_unlink(int dirfd, const char *name);
int rtes_file_rename(int dirfd, const char *from, const char *to);
/// fstatfs(fd).f_type (the filesystem's magic number), or -errno.
int64_t rtes_filesystem_type(int fd);

#endif
