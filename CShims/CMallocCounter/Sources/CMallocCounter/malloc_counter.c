// Counts heap operations per thread by defining the allocator entry points in the
// executable that links this target: the dynamic linker resolves every library's malloc
// (libswiftCore's included) to these, which forward to glibc's own implementations.
// Counters are thread-local, so other threads of a test process never disturb a count.
#define _GNU_SOURCE
#include "malloc_counter.h"

#include <errno.h>
#include <stddef.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void __libc_free(void *pointer);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

static __thread int counting;
static __thread rtes_malloc_counts counts;

static inline void note_allocation(size_t size) {
    if (counting) {
        counts.allocations++;
        counts.bytes += size;
    }
}

void rtes_malloc_counter_start(void) {
    counts = (rtes_malloc_counts){0, 0, 0};
    counting = 1;
}

rtes_malloc_counts rtes_malloc_counter_stop(void) {
    counting = 0;
    return counts;
}

void *malloc(size_t size) {
    note_allocation(size);
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    note_allocation(count * size);
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    note_allocation(size);
    return __libc_realloc(pointer, size);
}

void free(void *pointer) {
    if (counting && pointer != NULL) counts.frees++;
    __libc_free(pointer);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    note_allocation(size);
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL) return ENOMEM;
    *out = pointer;
    return 0;
}

void *aligned_alloc(size_t alignment, size_t size) {
    note_allocation(size);
    return __libc_memalign(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
    note_allocation(size);
    return __libc_memalign(alignment, size);
}

void *valloc(size_t size) {
    note_allocation(size);
    return __libc_valloc(size);
}

void *pvalloc(size_t size) {
    note_allocation(size);
    return __libc_pvalloc(size);
}
