// Counts heap operations per thread by defining the allocator entry points in the
// executable that links this target: the dynamic linker resolves every library's malloc
// (libswiftCore's included) to these, which forward to glibc's own implementations.
// Counters are thread-local, so other threads of a test process never disturb a count.
#define _GNU_SOURCE
#include "malloc_counter.h"

#include <errno.h>
#include <execinfo.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void __libc_free(void *pointer);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

static __thread int counting;
static __thread rtes_malloc_counts counts;

// Diagnosis: with RTESTEST_MALLOC_BACKTRACE set in the environment, every counted
// allocation also writes its call stack to standard error (backtrace_symbols_fd allocates
// nothing; the first backtrace may, and is not counted). For finding what allocates when a
// test's count is not zero: `RTESTEST_MALLOC_BACKTRACE=1 swift test --filter …`, then
// `swift demangle` on the output.
static __thread int tracing;

static void trace_allocation(size_t size) {
    static int wanted = -1;
    if (wanted < 0) wanted = getenv("RTESTEST_MALLOC_BACKTRACE") != NULL;
    if (!wanted || tracing) return;
    tracing = 1;
    int was = counting;
    counting = 0;
    void *frames[32];
    int n = backtrace(frames, 32);
    char header[64];
    int length = 0;
    const char *text = "counted allocation of ";
    while (text[length]) { header[length] = text[length]; length++; }
    char digits[24];
    int d = 0;
    size_t v = size;
    do { digits[d++] = (char)('0' + v % 10); v /= 10; } while (v && d < 24);
    while (d) header[length++] = digits[--d];
    header[length++] = ' ';
    header[length++] = 'B';
    header[length++] = '\n';
    (void)!write(2, header, (size_t)length);
    backtrace_symbols_fd(frames, n, 2);
    counting = was;
    tracing = 0;
}

static inline void note_allocation(size_t size) {
    if (counting) {
        counts.allocations++;
        counts.bytes += size;
        trace_allocation(size);
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
