#ifndef RTES_CPU_HINTS_H
#define RTES_CPU_HINTS_H

// CPU hints the pure core uses. Header-only: no system calls, no state, no linking.

/// Asks the CPU to start loading the cache line at `address` (for reading, keep in all
/// cache levels). Never faults, even for an invalid address.
static inline void rtes_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
