#define _GNU_SOURCE
#include "exchange_shim.h"

#include <errno.h>
#include <sched.h>
#include <time.h>

uint64_t rtes_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t rtes_realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t rtes_tsc_ticks_per_second(uint64_t duration_ns) {
#if defined(__x86_64__)
    uint64_t t0 = rtes_monotonic_ns();
    uint64_t c0 = rtes_rdtscp();
    uint64_t t1;
    do { t1 = rtes_monotonic_ns(); } while (t1 - t0 < duration_ns);
    uint64_t c1 = rtes_rdtscp();
    if (c1 <= c0) return 0;
    return (uint64_t)((__uint128_t)(c1 - c0) * 1000000000ull / (t1 - t0));
#else
    (void)duration_ns;
    return 0;
#endif
}

int rtes_pin_current_thread(int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return -EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) return -errno;
    return 0;
}

int rtes_current_cpu(void) {
    int cpu = sched_getcpu();
    return cpu < 0 ? -errno : cpu;
}

int rtes_affinity_cpu_count(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return -errno;
    return CPU_COUNT(&set);
}
