#ifndef RTES_CLOCK_H
#define RTES_CLOCK_H

// Clocks and CPU spin hints, without liburing, libnuma or libhugetlbfs: what clients and
// tools need to read time. The appliance's shim (CExchangeShim) includes this header.
// (Do not include <x86intrin.h> here: it breaks the Swift module build on fd_set.)

#include <stdint.h>
#include <time.h>

/// The time-stamp counter. Cheap, not ordered: use rtes_rdtscp on a consuming side.
static inline uint64_t rtes_rdtsc(void) {
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    return 0;
#endif
}

/// The time-stamp counter after all earlier instructions completed.
static inline uint64_t rtes_rdtscp(void) {
#if defined(__x86_64__)
    unsigned int aux;
    return __builtin_ia32_rdtscp(&aux);
#else
    return 0;
#endif
}

/// A spin-wait hint to the CPU.
static inline void rtes_cpu_pause(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

/// CLOCK_MONOTONIC in nanoseconds (vDSO: no system call on x86-64).
static inline uint64_t rtes_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/// CLOCK_REALTIME in nanoseconds since the Unix epoch.
static inline uint64_t rtes_realtime_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/// Measures TSC ticks per second against CLOCK_MONOTONIC over `duration_ns`.
/// Returns 0 where there is no usable TSC.
uint64_t rtes_tsc_ticks_per_second(uint64_t duration_ns);

#endif
