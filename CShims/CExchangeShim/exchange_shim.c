// Threads (affinity, scheduling), process memory and NUMA helpers (error text, timer slack
// and close are in CShims/CClientShim, which clients link without this shim).
// Regions and hugepage facts are in memory_region.c, the io_uring probe in uring_probe.c.
#define _GNU_SOURCE
#include "exchange_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

// ---- Threads: affinity -----------------------------------------------------

int rtes_pin_current_thread(int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return -EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) return -errno;
    return 0;
}

int rtes_pin_current_thread_to_cpus(const int32_t *cpus, int32_t count) {
    if (cpus == NULL || count <= 0) return -EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int32_t i = 0; i < count; i++) {
        if (cpus[i] < 0 || cpus[i] >= CPU_SETSIZE) return -EINVAL;
        CPU_SET(cpus[i], &set);
    }
    if (sched_setaffinity(0, sizeof(set), &set) != 0) return -errno;
    return 0;
}

int rtes_set_current_thread_name(const char *name) {
    if (name == NULL) return -EINVAL;
    char truncated[16];
    snprintf(truncated, sizeof truncated, "%s", name);
    int rc = pthread_setname_np(pthread_self(), truncated);
    return rc == 0 ? 0 : -rc;
}

int rtes_current_cpu(void) {
    int cpu = sched_getcpu();
    return cpu < 0 ? -errno : cpu;
}

int rtes_affinity_cpus(int32_t *out, int32_t capacity) {
    if (out == NULL && capacity > 0) return -EINVAL;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -errno;
    int32_t n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &set)) continue;
        if (n < capacity) out[n] = cpu;
        n++;
    }
    return n;
}

int rtes_online_cpus(int32_t *out, int32_t capacity) {
    if (out == NULL && capacity > 0) return -EINVAL;
    int32_t n = 0;
    FILE *f = fopen("/sys/devices/system/cpu/online", "re");
    if (f != NULL) {
        // A list of ranges: "0-3,5,7-8\n".
        char text[4096];
        size_t length = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[length] = '\0';
        const char *p = text;
        while (*p >= '0' && *p <= '9') {
            char *end;
            long first = strtol(p, &end, 10), last = first;
            p = end;
            if (*p == '-') { last = strtol(p + 1, &end, 10); p = end; }
            for (long cpu = first; cpu <= last && cpu < CPU_SETSIZE; cpu++) {
                if (n < capacity) out[n] = (int32_t)cpu;
                n++;
            }
            if (*p == ',') p++;
        }
        if (n > 0) return n;
    }
    long count = sysconf(_SC_NPROCESSORS_ONLN);
    if (count < 0) return -errno;
    for (long cpu = 0; cpu < count; cpu++) {
        if (n < capacity) out[n] = (int32_t)cpu;
        n++;
    }
    return n;
}

// ---- Threads: scheduling ---------------------------------------------------

int rtes_set_current_thread_fifo(int32_t priority) {
    struct sched_param param = { .sched_priority = priority };
    int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
    return rc == 0 ? 0 : -rc;
}

int rtes_wait_readable(int32_t fd, uint64_t nanoseconds) {
    struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
    struct timespec timeout = { .tv_sec = (time_t)(nanoseconds / 1000000000ull), .tv_nsec = (long)(nanoseconds % 1000000000ull) };
    int rc = ppoll(&p, 1, &timeout, NULL);
    if (rc < 0) return errno == EINTR ? 0 : -errno;
    return rc > 0 ? 1 : 0;
}

int rtes_current_thread_policy(int32_t *priority) {
    int policy;
    struct sched_param param;
    int rc = pthread_getschedparam(pthread_self(), &policy, &param);
    if (rc != 0) return -rc;
    if (priority != NULL) *priority = param.sched_priority;
    return policy;
}

int rtes_fifo_priority_min(void) {
    int p = sched_get_priority_min(SCHED_FIFO);
    return p < 0 ? -errno : p;
}

int rtes_fifo_priority_max(void) {
    int p = sched_get_priority_max(SCHED_FIFO);
    return p < 0 ? -errno : p;
}

// ---- Process memory --------------------------------------------------------

int rtes_lock_all_memory(void) {
    return mlockall(MCL_CURRENT | MCL_FUTURE) == 0 ? 0 : -errno;
}

int rtes_lock_range(const void *address, size_t length) {
    return mlock(address, length) == 0 ? 0 : -errno;
}

int rtes_unlock_range(const void *address, size_t length) {
    return munlock(address, length) == 0 ? 0 : -errno;
}

int rtes_range_is_mapped(const void *address, size_t length) {
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = (uintptr_t)address & ~(page - 1);
    uintptr_t end = (uintptr_t)address + (length == 0 ? 1 : length);
    if (msync((void *)start, end - start, MS_ASYNC) == 0) return 1;
    return errno == ENOMEM ? 0 : -errno;
}

int64_t rtes_process_locked_bytes(void) {
    FILE *f = fopen("/proc/self/status", "re");
    if (f == NULL) return -errno;
    char line[256];
    int64_t result = -ENOENT;
    while (fgets(line, sizeof line, f) != NULL) {
        long long kb;
        if (sscanf(line, "VmLck: %lld kB", &kb) == 1) { result = (int64_t)kb * 1024; break; }
    }
    fclose(f);
    return result;
}

int rtes_memlock_limit(uint64_t *soft, uint64_t *hard) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0) return -errno;
    if (soft != NULL) *soft = limit.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)limit.rlim_cur;
    if (hard != NULL) *hard = limit.rlim_max == RLIM_INFINITY ? UINT64_MAX : (uint64_t)limit.rlim_max;
    return 0;
}

int rtes_has_capability(int capability) {
    if (capability < 0 || capability > 63) return -EINVAL;
    FILE *f = fopen("/proc/thread-self/status", "re");
    if (f == NULL) return -errno;
    char line[256];
    int result = -ENOENT;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long long effective;
        if (sscanf(line, "CapEff: %llx", &effective) == 1) {
            result = (int)((effective >> capability) & 1);
            break;
        }
    }
    fclose(f);
    return result;
}

// ---- NUMA ------------------------------------------------------------------

int rtes_numa_available(void) {
    return numa_available() >= 0 ? 1 : 0;
}

int rtes_numa_node_count(void) {
    if (numa_available() < 0) return 1;
    int max = numa_max_node();
    return max < 0 ? 1 : max + 1;
}

int rtes_numa_node_of_cpu(int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return -EINVAL;
    if (numa_available() < 0) return 0;
    errno = 0;
    int node = numa_node_of_cpu(cpu);
    if (node < 0) return errno != 0 ? -errno : -EINVAL;
    return node;
}
