#ifndef RTES_MALLOC_COUNTER_H
#define RTES_MALLOC_COUNTER_H

#include <stdint.h>

/// Heap operations counted on the calling thread between start and stop.
typedef struct {
    uint64_t allocations;  ///< malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign, valloc
    uint64_t frees;        ///< free of a non-null pointer
    uint64_t bytes;        ///< bytes requested by the allocations
} rtes_malloc_counts;

/// Resets this thread's counters and starts counting on this thread only.
void rtes_malloc_counter_start(void);

/// Stops counting on this thread and returns what was counted since start.
rtes_malloc_counts rtes_malloc_counter_stop(void);

#endif
