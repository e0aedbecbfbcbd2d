#ifndef RTES_EXCHANGE_SHIM_H
#define RTES_EXCHANGE_SHIM_H

// What Swift cannot say directly. Every call that can fail returns 0 or a positive
// value on success and -errno on failure; nothing leaves Swift to read errno later.
// (Do not include <x86intrin.h> here: it breaks the Swift module build on fd_set.)

#include <stdint.h>

// ---- Time ------------------------------------------------------------------

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

/// CLOCK_MONOTONIC in nanoseconds.
uint64_t rtes_monotonic_ns(void);

/// CLOCK_REALTIME in nanoseconds since the Unix epoch.
uint64_t rtes_realtime_ns(void);

/// Measures TSC ticks per second against CLOCK_MONOTONIC over `duration_ns`.
/// Returns 0 where there is no usable TSC.
uint64_t rtes_tsc_ticks_per_second(uint64_t duration_ns);

// ---- Threads ---------------------------------------------------------------

/// Pins the calling thread to one CPU. Returns 0 or -errno.
int rtes_pin_current_thread(int cpu);

/// The CPU the calling thread runs on now, or -errno.
int rtes_current_cpu(void);

/// Number of CPUs in the calling thread's affinity mask, or -errno.
int rtes_affinity_cpu_count(void);

#endif
