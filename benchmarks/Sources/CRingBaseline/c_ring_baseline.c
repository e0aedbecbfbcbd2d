#include "c_ring_baseline.h"

// ---- The ring -----------------------------------------------------------------------

enum { PRODUCER_INDEX_OFFSET = 0, CONSUMER_INDEX_OFFSET = 128, SLOTS_OFFSET = 256, BLOCK = 128 };

size_t rtes_cring_required_bytes(uint64_t capacity, size_t slot_bytes) {
    size_t bytes = SLOTS_OFFSET + capacity * slot_bytes;
    return (bytes + BLOCK - 1) / BLOCK * BLOCK;
}

void rtes_cring_init(void *memory, uint64_t capacity, rtes_cring_producer *producer, rtes_cring_consumer *consumer) {
    char *base = memory;
    uint64_t *published = (uint64_t *)(base + PRODUCER_INDEX_OFFSET);
    uint64_t *released = (uint64_t *)(base + CONSUMER_INDEX_OFFSET);
    __atomic_store_n(published, 0, __ATOMIC_RELAXED);
    __atomic_store_n(released, 0, __ATOMIC_RELAXED);
    char *slots = base + SLOTS_OFFSET;
    *producer = (rtes_cring_producer){slots, capacity, capacity - 1, published, released, 0, 0, 0};
    *consumer = (rtes_cring_consumer){slots, capacity, capacity - 1, published, released, 0, 0};
}

static inline uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

// The loops (c_ring_loops.h) work on a local copy of their end and write it back when they
// finish, as a C programmer would: the copy never escapes, so clang keeps its indices in
// registers. Working through the caller's pointer instead, clang must assume that the release
// store through `published` may write the end itself, and reloads and stores `tail` around
// every push: one more store per message in a loop that is bound by its stores (measured: that
// producer was 1.4x slower than Swift's in single-message runs). The Swift loops reach their
// end through `inout`; there the producer keeps `tail` in a register but the consumer stores
// `head` (and, on each reload, `cachedTail`) to the end on every pop.

// claim, publish, peek and release do not depend on the element type; pushing and popping
// copy one element and are generated per message type by c_ring_loops.h.

static inline uint64_t claim(rtes_cring_producer *p, uint64_t maximum, uint64_t *index_out) {
    uint64_t index = p->tail & p->mask;
    uint64_t wanted = min64(maximum, p->capacity - index);
    uint64_t free = p->capacity - (p->tail - p->cached_head);
    if (free < wanted) {
        p->cached_head = __atomic_load_n(p->released, __ATOMIC_ACQUIRE);
        free = p->capacity - (p->tail - p->cached_head);
        if (free == 0) p->full_count++;
    }
    *index_out = index;
    return min64(free, wanted);
}

static inline void publish(rtes_cring_producer *p, uint64_t count) {
    if (count == 0) return;
    p->tail += count;
    __atomic_store_n(p->published, p->tail, __ATOMIC_RELEASE);
}

static inline uint64_t peek(rtes_cring_consumer *c, uint64_t maximum, uint64_t *index_out) {
    uint64_t index = c->head & c->mask;
    uint64_t wanted = min64(maximum, c->capacity - index);
    uint64_t ready = c->cached_tail - c->head;
    if (ready < wanted) {
        c->cached_tail = __atomic_load_n(c->published, __ATOMIC_ACQUIRE);
        ready = c->cached_tail - c->head;
    }
    *index_out = index;
    return min64(ready, wanted);
}

static inline void release(rtes_cring_consumer *c, uint64_t count) {
    if (count == 0) return;
    c->head += count;
    __atomic_store_n(c->released, c->head, __ATOMIC_RELEASE);
}

static inline uint64_t rdtsc(void) { return __builtin_ia32_rdtsc(); }

static inline uint64_t rdtscp(void) {
    unsigned int aux;
    return __builtin_ia32_rdtscp(&aux);
}

static inline void spin(int pause) {
    if (pause) __builtin_ia32_pause();
}

// ---- Per message type -------------------------------------------------------------------

#define SIZE 64
#define MESSAGE rtes_cring_message64
#include "c_ring_loops.h"
#undef SIZE
#undef MESSAGE

#define SIZE 80
#define MESSAGE rtes_cring_message80
#include "c_ring_loops.h"
#undef SIZE
#undef MESSAGE
