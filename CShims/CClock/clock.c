#include "rtes_clock.h"

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
