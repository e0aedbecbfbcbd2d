// Included by c_ring_baseline.c once per message type, with SIZE (64, 80) and MESSAGE (the
// type) defined: pushing and popping one message, and the benchmark loops, the same as
// ring-bench's Swift ones (SwiftRingLoops.swift). No include guard: that is the point.

#define NAME3(a, b, c) a##b##c
#define NAME(prefix, size) NAME3(prefix, _, size)
#define try_push NAME(try_push, SIZE)
#define try_pop NAME(try_pop, SIZE)
#define message NAME(message, SIZE)

static inline int try_push(rtes_cring_producer *p, MESSAGE m) {
    if (p->tail - p->cached_head >= p->capacity) {
        p->cached_head = __atomic_load_n(p->released, __ATOMIC_ACQUIRE);
        if (p->tail - p->cached_head >= p->capacity) {
            p->full_count++;
            return 0;
        }
    }
    ((MESSAGE *)p->slots)[p->tail & p->mask] = m;
    p->tail++;
    __atomic_store_n(p->published, p->tail, __ATOMIC_RELEASE);
    return 1;
}

static inline int try_pop(rtes_cring_consumer *c, MESSAGE *out) {
    if (c->head == c->cached_tail) {
        c->cached_tail = __atomic_load_n(c->published, __ATOMIC_ACQUIRE);
        if (c->head == c->cached_tail) return 0;
    }
    *out = ((const MESSAGE *)c->slots)[c->head & c->mask];
    c->head++;
    __atomic_store_n(c->released, c->head, __ATOMIC_RELEASE);
    return 1;
}

/// Message number `sequence`, as the Swift `Message64`/`Message80` `init(sequence:)`.
/// (No two neighbouring zero words: clang -O2 keeps a 16-byte zero piece of a message on the
/// stack and copies it from there, one more store per message, where Swift stores from a register.)
static inline MESSAGE message(uint64_t sequence) {
    MESSAGE m;
    m.sequence = sequence;
    m.send_tsc = sequence;
    m.planned_tsc = 0;
    for (unsigned i = 0; i < sizeof m.payload / sizeof m.payload[0]; i++) m.payload[i] = i;
    m.payload[0] = sequence;
    m.checksum = 0;
    return m;
}

void NAME(rtes_cring_produce_single, SIZE)(rtes_cring_producer *end, uint64_t count, int pause, rtes_cring_run *run) {
    rtes_cring_producer local = *end, *p = &local;
    run->start_tsc = rdtscp();
    for (uint64_t i = 0; i < count; i++) {
        while (!try_push(p, message(i))) spin(pause);
    }
    *end = local;
}

void NAME(rtes_cring_consume_single, SIZE)(rtes_cring_consumer *end, uint64_t count, int pause, rtes_cring_run *run) {
    rtes_cring_consumer local = *end, *c = &local;
    uint64_t errors = 0, sum = 0;
    for (uint64_t i = 0; i < count; i++) {
        MESSAGE m;
        while (!try_pop(c, &m)) spin(pause);
        errors += m.sequence != i;
        sum += m.payload[0];
    }
    run->end_tsc = rdtscp();
    run->errors = errors;
    run->sum = sum;
    *end = local;
}

void NAME(rtes_cring_produce_batched, SIZE)(rtes_cring_producer *end, uint64_t count, uint64_t batch, int pause,
                                            rtes_cring_run *run) {
    rtes_cring_producer local = *end, *p = &local;
    run->start_tsc = rdtscp();
    uint64_t sent = 0;
    while (sent < count) {
        uint64_t index;
        uint64_t n = claim(p, min64(batch, count - sent), &index);
        if (n == 0) {
            spin(pause);
            continue;
        }
        MESSAGE *slots = (MESSAGE *)p->slots + index;
        for (uint64_t j = 0; j < n; j++) slots[j] = message(sent + j);
        publish(p, n);
        sent += n;
    }
    *end = local;
}

void NAME(rtes_cring_consume_batched, SIZE)(rtes_cring_consumer *end, uint64_t count, uint64_t batch, int pause,
                                            rtes_cring_run *run) {
    rtes_cring_consumer local = *end, *c = &local;
    uint64_t errors = 0, sum = 0, received = 0;
    while (received < count) {
        uint64_t index;
        uint64_t n = peek(c, batch, &index);
        if (n == 0) {
            spin(pause);
            continue;
        }
        const MESSAGE *slots = (const MESSAGE *)c->slots + index;
        for (uint64_t j = 0; j < n; j++) {
            errors += slots[j].sequence != received + j;
            sum += slots[j].payload[0];
        }
        release(c, n);
        received += n;
    }
    run->end_tsc = rdtscp();
    run->errors = errors;
    run->sum = sum;
    *end = local;
}

void NAME(rtes_cring_produce_paced, SIZE)(rtes_cring_producer *end, uint64_t count, uint64_t start_tsc,
                                          uint64_t interval_ticks, int pause, rtes_cring_run *run) {
    rtes_cring_producer local = *end, *p = &local;
    run->start_tsc = start_tsc;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t planned = start_tsc + i * interval_ticks;
        while (rdtsc() < planned) spin(pause);
        MESSAGE m = message(i);
        m.planned_tsc = planned;
        m.send_tsc = rdtsc();
        while (!try_push(p, m)) spin(pause);
    }
    *end = local;
}

void NAME(rtes_cring_consume_timed, SIZE)(rtes_cring_consumer *end, uint64_t count, uint64_t *from_send,
                                          uint64_t *from_plan, int pause, rtes_cring_run *run) {
    rtes_cring_consumer local = *end, *c = &local;
    uint64_t errors = 0, sum = 0;
    for (uint64_t i = 0; i < count; i++) {
        MESSAGE m;
        while (!try_pop(c, &m)) spin(pause);
        uint64_t now = rdtscp();
        from_send[i] = now - m.send_tsc;
        from_plan[i] = now - m.planned_tsc;
        errors += m.sequence != i;
        sum += m.payload[0];
    }
    run->end_tsc = rdtscp();
    run->errors = errors;
    run->sum = sum;
    *end = local;
}

uint64_t NAME(rtes_cring_one_thread, SIZE)(rtes_cring_producer *producer, rtes_cring_consumer *consumer, uint64_t count,
                                           uint64_t batch) {
    rtes_cring_producer p_local = *producer, *p = &p_local;
    rtes_cring_consumer c_local = *consumer, *c = &c_local;
    uint64_t sum = 0;
    if (batch == 0) {
        for (uint64_t i = 0; i < count; i++) {
            try_push(p, message(i));
            MESSAGE out;
            if (try_pop(c, &out)) sum += out.payload[0];
        }
    } else {
        for (uint64_t sent = 0; sent < count;) {
            uint64_t index;
            uint64_t n = claim(p, min64(batch, count - sent), &index);
            MESSAGE *slots = (MESSAGE *)p->slots + index;
            for (uint64_t j = 0; j < n; j++) slots[j] = message(sent + j);
            publish(p, n);
            sent += n;
            uint64_t ready = peek(c, batch, &index);
            const MESSAGE *in = (const MESSAGE *)c->slots + index;
            for (uint64_t j = 0; j < ready; j++) sum += in[j].payload[0];
            release(c, ready);
        }
    }
    *producer = p_local;
    *consumer = c_local;
    return sum;
}

#undef NAME3
#undef NAME
#undef try_push
#undef try_pop
#undef message
