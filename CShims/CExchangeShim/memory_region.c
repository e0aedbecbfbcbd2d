// Memory regions (hugetlbfs → MAP_HUGETLB → THP → ordinary pages, optional NUMA binding,
// pre-faulted, optionally locked) and the hugepage/THP facts a start-up log reports.
#define _GNU_SOURCE
#include "exchange_shim.h"

#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <hugetlbfs.h> // after <stddef.h>: it uses size_t without including it

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif

#define RTES_2MIB ((size_t)2 << 20)
#define RTES_MPOL_MODE_MASK 0xff /* the mode without MPOL_F_* flags */

// ---- Small readers -----------------------------------------------------------

static int read_int64_file(const char *path, int64_t *out) {
    FILE *f = fopen(path, "re");
    if (f == NULL) return -errno;
    long long value;
    int matched = fscanf(f, "%lld", &value);
    fclose(f);
    if (matched != 1) return -EIO;
    *out = (int64_t)value;
    return 0;
}

/// 0 never, 1 madvise, 2 always, or -errno.
static int thp_mode_code(char *word, size_t capacity) {
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");
    if (f == NULL) return -errno;
    char text[128];
    size_t length = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[length] = '\0';
    char *open = strchr(text, '['), *close = open ? strchr(open, ']') : NULL;
    if (open == NULL || close == NULL) return -EIO;
    *close = '\0';
    const char *mode = open + 1;
    if (word != NULL && capacity > 0) snprintf(word, capacity, "%s", mode);
    if (strcmp(mode, "always") == 0) return 2;
    if (strcmp(mode, "madvise") == 0) return 1;
    return 0;
}

static int round_up(size_t value, size_t unit, size_t *out) {
    if (value > SIZE_MAX - (unit - 1)) return -ENOMEM;
    *out = (value + unit - 1) / unit * unit;
    return 0;
}

// ---- Hugepage and THP facts -------------------------------------------------

int64_t rtes_default_hugepage_size(void) {
    FILE *f = fopen("/proc/meminfo", "re");
    if (f == NULL) return -errno;
    char line[256];
    int64_t result = -ENOENT;
    while (fgets(line, sizeof line, f) != NULL) {
        long long kb;
        if (sscanf(line, "Hugepagesize: %lld kB", &kb) == 1) { result = (int64_t)kb * 1024; break; }
    }
    fclose(f);
    return result;
}

int rtes_hugepage_counts_for_size(size_t page_size, rtes_hugepage_counts *out) {
    if (out == NULL || page_size < 1024) return -EINVAL;
    static const char *const names[] = {
        "nr_hugepages", "free_hugepages", "resv_hugepages", "surplus_hugepages",
        "nr_overcommit_hugepages",
    };
    int64_t values[5];
    for (int i = 0; i < 5; i++) {
        char path[160];
        snprintf(path, sizeof path, "/sys/kernel/mm/hugepages/hugepages-%zukB/%s",
                 page_size / 1024, names[i]);
        int rc = read_int64_file(path, &values[i]);
        if (rc != 0) return rc;
    }
    out->total = values[0];
    out->free = values[1];
    out->reserved = values[2];
    out->surplus = values[3];
    out->overcommit = values[4];
    return 0;
}

int rtes_thp_mode(char *buf, size_t capacity) {
    if (buf == NULL || capacity == 0) return -EINVAL;
    int rc = thp_mode_code(buf, capacity);
    return rc < 0 ? rc : (int)strlen(buf);
}

int rtes_hugetlbfs_path(char *buf, size_t capacity) {
    if (buf == NULL || capacity == 0) return -EINVAL;
    const char *path = hugetlbfs_find_path();
    if (path == NULL) return -ENOENT;
    snprintf(buf, capacity, "%s", path);
    return (int)strlen(buf);
}

/// Pages of `page_size` a new mapping can still get: free minus promised, plus
/// what overcommit still allows.
static int64_t hugepages_obtainable(size_t page_size) {
    rtes_hugepage_counts c;
    if (rtes_hugepage_counts_for_size(page_size, &c) != 0) return 0;
    int64_t n = c.free - c.reserved;
    if (c.overcommit > c.surplus) n += c.overcommit - c.surplus;
    return n < 0 ? 0 : n;
}

// ---- NUMA binding scope -------------------------------------------------------
// While a region is mapped and first touched, the calling thread's policy is
// MPOL_BIND to the node, so hugetlb reservations are counted against that node and
// libhugetlbfs's own pre-faulting lands there too; the previous policy comes back after.

typedef struct node_scope {
    int active;
    int old_mode;
    struct bitmask *mask;
    struct bitmask *old_mask;
} node_scope;

static void node_scope_exit(node_scope *scope) {
    if (scope->active) {
        if ((scope->old_mode & RTES_MPOL_MODE_MASK) == MPOL_DEFAULT)
            set_mempolicy(MPOL_DEFAULT, NULL, 0);
        else
            set_mempolicy(scope->old_mode, scope->old_mask->maskp, scope->old_mask->size + 1);
        scope->active = 0;
    }
    if (scope->mask != NULL) numa_bitmask_free(scope->mask);
    if (scope->old_mask != NULL) numa_bitmask_free(scope->old_mask);
    scope->mask = scope->old_mask = NULL;
}

static int node_scope_enter(node_scope *scope, int node) {
    memset(scope, 0, sizeof *scope);
    if (numa_available() < 0) return -ENOSYS;
    if (node > numa_max_node()) return -ENODEV;
    scope->mask = numa_allocate_nodemask();
    scope->old_mask = numa_allocate_nodemask();
    if (scope->mask == NULL || scope->old_mask == NULL) {
        node_scope_exit(scope);
        return -ENOMEM;
    }
    numa_bitmask_setbit(scope->mask, (unsigned)node);
    if (get_mempolicy(&scope->old_mode, scope->old_mask->maskp, scope->old_mask->size + 1,
                      NULL, 0) != 0) {
        int rc = -errno;
        node_scope_exit(scope);
        return rc;
    }
    if (set_mempolicy(MPOL_BIND, scope->mask->maskp, scope->mask->size + 1) != 0) {
        int rc = -errno;
        node_scope_exit(scope);
        return rc;
    }
    scope->active = 1;
    return 0;
}

// ---- Regions ----------------------------------------------------------------------

/// An anonymous mapping of `length` bytes whose start is aligned to `alignment`
/// (a power of two), or NULL with errno set.
static void *map_aligned(size_t length, size_t alignment) {
    size_t span = length + alignment;
    uint8_t *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    uintptr_t start = ((uintptr_t)raw + alignment - 1) & ~(uintptr_t)(alignment - 1);
    size_t head = start - (uintptr_t)raw;
    size_t tail = span - head - length;
    if (head != 0) munmap(raw, head);
    if (tail != 0) munmap((void *)(start + length), tail);
    return (void *)start;
}

int rtes_region_allocate(size_t bytes, int32_t policy, int32_t node, int32_t lock,
                         rtes_region *out) {
    if (out == NULL) return -EINVAL;
    memset(out, 0, sizeof *out);
    out->requested_bytes = bytes;
    out->requested_node = node < 0 ? -1 : node;
    out->node = -1;
    out->lock_result = RTES_LOCK_NOT_REQUESTED;
    if (bytes == 0 || policy < RTES_HUGEPAGES_OFF || policy > RTES_HUGEPAGES_REQUIRE)
        return -EINVAL;

    const size_t small = (size_t)sysconf(_SC_PAGESIZE);
    node_scope scope;
    memset(&scope, 0, sizeof scope);
    int bound = 0;
    if (node >= 0) {
        int rc = node_scope_enter(&scope, node);
        if (rc == 0) bound = 1; else out->bind_result = rc;
    }

    void *base = NULL;
    size_t mapped = 0, page = small;
    int kind = RTES_PAGE_NORMAL;
    int result = 0;

    if (policy != RTES_HUGEPAGES_OFF) {
        // (a) libhugetlbfs on a mounted hugetlbfs. Only tried when enough pages are free:
        // a failing get_huge_pages prints a warning on stderr.
        const char *path = hugetlbfs_find_path();
        long huge = path != NULL ? gethugepagesize() : -1;
        if (huge > 0) {
            size_t length;
            if (round_up(bytes, (size_t)huge, &length) != 0) {
                out->huge_result = -ENOMEM;
            } else if (hugepages_obtainable((size_t)huge) < (int64_t)(length / (size_t)huge)) {
                out->huge_result = -ENOMEM;
            } else {
                errno = 0;
                void *p = get_huge_pages(length, GHP_DEFAULT);
                if (p != NULL) {
                    base = p; mapped = length; page = (size_t)huge; kind = RTES_PAGE_HUGETLBFS;
                    out->huge_result = 0;
                } else {
                    out->huge_result = errno != 0 ? -errno : -ENOMEM;
                }
            }
        }
        // (b) 2 MiB MAP_HUGETLB from the reserved pool (vm.nr_hugepages).
        if (base == NULL) {
            size_t length;
            if (round_up(bytes, RTES_2MIB, &length) != 0) {
                out->huge_result = -ENOMEM;
            } else {
                void *p = mmap(NULL, length, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
                if (p != MAP_FAILED) {
                    base = p; mapped = length; page = RTES_2MIB; kind = RTES_PAGE_HUGETLB;
                    out->huge_result = 0;
                } else {
                    out->huge_result = -errno;
                }
            }
        }
        if (base == NULL && policy == RTES_HUGEPAGES_REQUIRE) {
            result = -ENOMEM;
            goto fail;
        }
        // (c) transparent hugepages: a 2 MiB-aligned mapping advised MADV_HUGEPAGE.
        // Regions under 2 MiB cannot hold one and go to (d).
        if (base == NULL && bytes >= RTES_2MIB && thp_mode_code(NULL, 0) > 0) {
            size_t length;
            if (round_up(bytes, RTES_2MIB, &length) == 0 && length <= SIZE_MAX - RTES_2MIB) {
                void *p = map_aligned(length, RTES_2MIB);
                if (p != NULL) {
                    base = p; mapped = length; page = small; kind = RTES_PAGE_NORMAL;
                    if (madvise(p, length, MADV_HUGEPAGE) == 0) {
                        page = RTES_2MIB;
                        kind = RTES_PAGE_TRANSPARENT_HUGE;
                    }
                }
            }
        }
    }
    // (d) ordinary pages.
    if (base == NULL) {
        size_t length;
        if (round_up(bytes, small, &length) != 0) { result = -ENOMEM; goto fail; }
        void *p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) { result = -errno; goto fail; }
        base = p; mapped = length; page = small; kind = RTES_PAGE_NORMAL;
    }

    // Bind the range itself (libhugetlbfs pages are already faulted under the thread
    // policy), so the policy outlives this call.
    if (bound && kind != RTES_PAGE_HUGETLBFS) {
        if (mbind(base, mapped, MPOL_BIND, scope.mask->maskp, scope.mask->size + 1, 0) != 0) {
            out->bind_result = -errno;
            bound = 0;
            node_scope_exit(&scope);
        }
    }

    // First touch: every page, so nothing faults on a hot path later. Fresh anonymous
    // and hugetlbfs memory is zero already; writing a zero faults the page in.
    {
        size_t stride = (kind == RTES_PAGE_HUGETLB || kind == RTES_PAGE_HUGETLBFS) ? page : small;
        volatile uint8_t *bytes_ = (volatile uint8_t *)base;
        for (size_t offset = 0; offset < mapped; offset += stride) bytes_[offset] = 0;
    }

    if (bound) {
        // Where the first page actually is (move_pages with no target nodes reports it).
        void *first = base;
        int status = -1;
        if (move_pages(0, 1, &first, NULL, &status, 0) == 0 && status >= 0)
            out->node = status;
        else
            out->node = node; // bound by policy; location not readable
    }
    node_scope_exit(&scope);

    if (lock) out->lock_result = mlock(base, mapped) == 0 ? 0 : -errno;

    out->base = base;
    out->mapped_bytes = mapped;
    out->page_size = page;
    out->page_kind = kind;
    return 0;

fail:
    node_scope_exit(&scope);
    return result;
}

int rtes_region_free(rtes_region *region) {
    if (region == NULL || region->base == NULL) return 0;
    int rc = 0;
    if (region->page_kind == RTES_PAGE_HUGETLBFS)
        free_huge_pages(region->base);
    else if (munmap(region->base, region->mapped_bytes) != 0)
        rc = -errno;
    region->base = NULL;
    return rc;
}
