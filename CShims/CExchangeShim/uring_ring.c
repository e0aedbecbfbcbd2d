// Setting up an io_uring for a busy-polling agent, and provided-buffer rings for liburing
// 2.3 (which has no io_uring_setup_buf_ring).
#define _GNU_SOURCE
#include "exchange_shim.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int init_with(struct io_uring *ring, unsigned entries, unsigned flags, int sqpoll_cpu, unsigned idle_ms) {
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    params.flags = flags;
    if (flags & IORING_SETUP_SQPOLL) {
        params.sq_thread_idle = idle_ms;
        if (sqpoll_cpu >= 0) {
            params.flags |= IORING_SETUP_SQ_AFF;
            params.sq_thread_cpu = (unsigned)sqpoll_cpu;
        }
    }
    // Room for every completion a burst of multishot receives can produce.
    params.flags |= IORING_SETUP_CQSIZE;
    params.cq_entries = entries * RTES_URING_CQ_PER_SQ;
    return io_uring_queue_init_params(entries, ring, &params);
}

int rtes_uring_setup(struct io_uring *ring, unsigned entries, int sqpoll, int sqpoll_cpu,
                     int disabled, unsigned *obtained) {
    // Best first: DEFER_TASKRUN runs completions only when this thread asks (no IPIs, no
    // interruptions of the spinning agent); COOP_TASKRUN at least avoids the IPI. TASKRUN_FLAG
    // tells the agent, through shared memory, when entering the kernel would yield completions.
    const unsigned single = IORING_SETUP_SINGLE_ISSUER;
    const unsigned deferred = single | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
    const unsigned coop = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
    unsigned candidates[8];
    int n = 0;
    if (sqpoll) {
        // DEFER_TASKRUN cannot be combined with SQPOLL.
        candidates[n++] = IORING_SETUP_SQPOLL | single | coop;
        candidates[n++] = IORING_SETUP_SQPOLL | coop;
        candidates[n++] = IORING_SETUP_SQPOLL;
    }
    candidates[n++] = deferred;
    candidates[n++] = single | coop;
    candidates[n++] = coop;
    candidates[n++] = 0;
    int rc = -EINVAL;
    for (int i = 0; i < n; i++) {
        rc = init_with(ring, entries, candidates[i] | (disabled ? IORING_SETUP_R_DISABLED : 0), sqpoll_cpu, 1000);
        if (rc == 0) {
            if (obtained) *obtained = candidates[i];
            return 0;
        }
        if (rc == -ENOMEM || rc == -EMFILE || rc == -ENFILE) return rc;  // flags are not the problem
    }
    return rc;
}

struct io_uring_buf_ring *rtes_uring_buf_ring_register(struct io_uring *ring, unsigned entries,
                                                       unsigned short group, int *error) {
    size_t bytes = (size_t)entries * sizeof(struct io_uring_buf);
    void *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (memory == MAP_FAILED) {
        if (error) *error = -errno;
        return NULL;
    }
    struct io_uring_buf_ring *br = memory;
    io_uring_buf_ring_init(br);
    struct io_uring_buf_reg reg;
    memset(&reg, 0, sizeof reg);
    reg.ring_addr = (unsigned long)(uintptr_t)memory;
    reg.ring_entries = entries;
    reg.bgid = group;
    int rc = io_uring_register_buf_ring(ring, &reg, 0);
    if (rc != 0) {
        munmap(memory, bytes);
        if (error) *error = rc;
        return NULL;
    }
    if (error) *error = 0;
    return br;
}

int rtes_uring_enable(struct io_uring *ring) {
    // io_uring_enable_rings is declared by liburing 2.3 but not exported by Debian's build.
    long rc = syscall(__NR_io_uring_register, ring->ring_fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
    return rc < 0 ? -errno : 0;
}
