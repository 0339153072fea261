/* Instance snapshots (wasm.h, "snapshots"): the state an instance defines — memories, tables,
 * globals, dropped segments — saved once and put back after each run, so that one instance
 * serves many runs as if each had a fresh one.
 *
 * Memories are put back one of three ways (docs/apps.md has the measurements):
 *  - TRACK (guarded memories, Linux 6.7+): a copy of the bytes, and the kernel keeps count of the
 *    pages a run writes (userfaultfd write-protection in asynchronous mode: the first write to a
 *    page is let through and marks it); restoring asks which pages were written (PAGEMAP_SCAN,
 *    which also protects them again) and copies back just those. No page is dropped or copied
 *    for nothing; a written page costs one minor fault.
 *  - COPY: a copy of the bytes; restoring compares page by page and copies back only the pages
 *    that differ. No page faults on the next run; costs a read of the whole image.
 *  - COW (guarded memories only): the image goes into a memfd mapped privately over the memory;
 *    restoring is one madvise(MADV_DONTNEED), which drops the pages the run wrote (they fault
 *    back in from the image when touched). Costs a fault per page the next run touches.
 * Memory grown by a run is taken back (guarded: decommitted and made inaccessible again). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/alloc.h"
#include "wasm/runtime.h"

#define SNAP_PAGE 4096

/* The kernel interfaces of TRACK, newer than Debian 12's headers (Linux 6.7 uapi, stable ABI). */
#define WB_UFFD_FEATURE_WP_UNPOPULATED (1ull << 13)
#define WB_UFFD_FEATURE_WP_ASYNC       (1ull << 15)
#define WB_PM_SCAN_WP_MATCHING         (1ull << 0)
#define WB_PM_SCAN_CHECK_WPASYNC       (1ull << 1)
#define WB_PAGE_IS_WRITTEN             (1ull << 1)
struct wb_pm_scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
struct wb_page_region {
    uint64_t start, end, categories;
};
#define WB_PAGEMAP_SCAN _IOWR('f', 16, struct wb_pm_scan_arg)

typedef struct mem_snap {
    wb_memory *mem;
    uint64_t size;  /* bytes at the snapshot */
    uint8_t *image; /* COPY and TRACK: size bytes */
    bool cow;       /* COW: mapped from a memfd over [base, base + size) */
    int uffd;       /* TRACK: the userfaultfd protecting [base, base + size), else -1 */
    int pagemap;    /* TRACK: /proc/self/pagemap */
} mem_snap;

typedef struct table_snap {
    wb_table *table;
    uint32_t size;
    void **elems;
} table_snap;

struct wb_snapshot {
    const wb_instance *inst;
    mem_snap *mems;
    uint32_t nmems;
    table_snap *tables;
    uint32_t ntables;
    wb_global **globals; /* defined globals */
    wb_slot (*global_vals)[2];
    uint32_t nglobals;
    bool *elem_dropped, *data_dropped;
};

void wb_snapshot_free(wb_snapshot *s) {
    if (!s) return;
    for (uint32_t i = 0; i < s->nmems; i++) {
        free(s->mems[i].image);
        if (s->mems[i].uffd >= 0) close(s->mems[i].uffd);
        if (s->mems[i].pagemap >= 0) close(s->mems[i].pagemap);
    }
    free(s->mems);
    for (uint32_t i = 0; i < s->ntables; i++) free(s->tables[i].elems);
    free(s->tables);
    free(s->globals);
    free(s->global_vals);
    free(s->elem_dropped);
    free(s->data_dropped);
    free(s);
}

/* Map a memfd holding the memory's current bytes privately over them (the bytes stay as they
 * are; from now on written pages are private copies that MADV_DONTNEED drops). */
static int map_cow_image(wb_memory *m, wb_error *err) {
    int fd = memfd_create("wasmbox-snapshot", MFD_CLOEXEC);
    if (fd < 0) return wb_error_sys(err, "memfd_create for a memory snapshot");
    int rc = 0;
    if (ftruncate(fd, (off_t)m->size) != 0) {
        rc = wb_error_sys(err, "size the memory snapshot");
    } else {
        for (uint64_t done = 0; done < m->size && rc == 0;) {
            ssize_t n = pwrite(fd, m->base + done, m->size - done, (off_t)done);
            if (n <= 0)
                rc = wb_error_sys(err, "write the memory snapshot");
            else
                done += (uint64_t)n;
        }
    }
    if (rc == 0 && mmap(m->base, m->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0) ==
                       MAP_FAILED)
        rc = wb_error_sys(err, "map the memory snapshot");
    close(fd); /* the mapping keeps the file */
    return rc;
}

/* The written pages of [start, end) in regions (and protected again): their count, -1 on error. */
static long scan_written(int pagemap, uint64_t start, uint64_t end, struct wb_page_region *vec,
                         size_t nvec, uint64_t *walk_end) {
    struct wb_pm_scan_arg a = {.size = sizeof a,
                               .flags = WB_PM_SCAN_WP_MATCHING | WB_PM_SCAN_CHECK_WPASYNC,
                               .start = start,
                               .end = end,
                               .vec = (uintptr_t)vec,
                               .vec_len = nvec,
                               .category_mask = WB_PAGE_IS_WRITTEN,
                               .return_mask = WB_PAGE_IS_WRITTEN};
    long n = ioctl(pagemap, WB_PAGEMAP_SCAN, &a);
    *walk_end = a.walk_end;
    return n;
}

/* TRACK for ms (its image already copied): false when this kernel cannot (the caller falls back).
 */
static bool start_tracking(mem_snap *ms) {
    wb_memory *m = ms->mem;
    int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    if (uffd < 0) return false;
    struct uffdio_api api = {.api = UFFD_API,
                             .features = WB_UFFD_FEATURE_WP_ASYNC | WB_UFFD_FEATURE_WP_UNPOPULATED};
    struct uffdio_register reg = {.range = {(uintptr_t)m->base, m->size},
                                  .mode = UFFDIO_REGISTER_MODE_WP};
    struct uffdio_writeprotect wp = {.range = {(uintptr_t)m->base, m->size},
                                     .mode = UFFDIO_WRITEPROTECT_MODE_WP};
    int pagemap = -1;
    if (ioctl(uffd, UFFDIO_API, &api) != 0 || ioctl(uffd, UFFDIO_REGISTER, &reg) != 0 ||
        ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) != 0 ||
        (pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)) < 0) {
        close(uffd);
        return false;
    }
    /* PAGEMAP_SCAN (6.7) may be missing where asynchronous protection (6.7 too) is not */
    struct wb_page_region r;
    uint64_t walk_end;
    if (scan_written(pagemap, (uintptr_t)m->base, (uintptr_t)m->base + m->size, &r, 1, &walk_end) <
        0) {
        close(pagemap);
        close(uffd);
        return false;
    }
    ms->uffd = uffd;
    ms->pagemap = pagemap;
    return true;
}

static int snap_memory(mem_snap *ms, wb_memory *m, int mode, wb_error *err) {
    ms->mem = m;
    ms->size = m->size;
    ms->uffd = ms->pagemap = -1;
    if (m->guarded && m->size && (mode == WB_SNAPSHOT_AUTO || mode == WB_SNAPSHOT_TRACK)) {
        ms->image = malloc(m->size);
        if (!ms->image)
            return wb_error_set(err, ENOMEM, "no memory for a snapshot of %llu bytes",
                                (unsigned long long)m->size);
        memcpy(ms->image, m->base, m->size);
        if (start_tracking(ms)) return 0;
        if (mode == WB_SNAPSHOT_TRACK)
            return wb_error_set(err, ENOTSUP,
                                "this kernel cannot track written pages (userfaultfd "
                                "asynchronous write-protection and PAGEMAP_SCAN, Linux 6.7)");
        free(ms->image); /* AUTO: fall back */
        ms->image = NULL;
    }
    bool cow =
        m->guarded && m->size &&
        (mode == WB_SNAPSHOT_COW || (mode == WB_SNAPSHOT_AUTO && m->size > WB_SNAPSHOT_COPY_MAX));
    if (cow) {
        if (map_cow_image(m, err) < 0) return -1;
        ms->cow = true;
    } else if (m->size) {
        ms->image = malloc(m->size);
        if (!ms->image)
            return wb_error_set(err, ENOMEM, "no memory for a snapshot of %llu bytes",
                                (unsigned long long)m->size);
        memcpy(ms->image, m->base, m->size);
    }
    return 0;
}

int wb_instance_snapshot(wb_instance *inst, int mode, wb_snapshot **out, wb_error *err) {
    const wb_module *mod = inst->module;
    *out = NULL;
    if (mod->nimported_memories || mod->nimported_tables)
        return wb_error_set(err, ENOTSUP,
                            "a snapshot of an instance that imports a memory or a table");
    for (uint32_t i = 0; i < mod->nimported_globals; i++)
        if (inst->globals[i]->type.mut)
            return wb_error_set(err, ENOTSUP,
                                "a snapshot of an instance that imports a mutable global");
    wb_snapshot *s = wb_calloc(1, sizeof *s);
    s->inst = inst;
    s->nmems = mod->nmemories;
    s->mems = wb_calloc(s->nmems ? s->nmems : 1, sizeof *s->mems);
    for (uint32_t i = 0; i < s->nmems; i++)
        if (snap_memory(&s->mems[i], inst->memories[i], mode, err) < 0) {
            wb_snapshot_free(s);
            return -1;
        }
    s->ntables = mod->ntables;
    s->tables = wb_calloc(s->ntables ? s->ntables : 1, sizeof *s->tables);
    for (uint32_t i = 0; i < s->ntables; i++) {
        wb_table *t = inst->tables[i];
        s->tables[i].table = t;
        s->tables[i].size = t->size;
        s->tables[i].elems = wb_calloc(t->size ? t->size : 1, sizeof(void *));
        if (t->size) memcpy(s->tables[i].elems, t->elems, t->size * sizeof(void *));
    }
    s->nglobals = mod->nglobals - mod->nimported_globals;
    s->globals = wb_calloc(s->nglobals ? s->nglobals : 1, sizeof *s->globals);
    s->global_vals = wb_calloc(s->nglobals ? s->nglobals : 1, sizeof *s->global_vals);
    for (uint32_t i = 0; i < s->nglobals; i++) {
        s->globals[i] = inst->globals[mod->nimported_globals + i];
        memcpy(s->global_vals[i], s->globals[i]->val, sizeof s->global_vals[i]);
    }
    s->elem_dropped = wb_calloc(mod->nelems ? mod->nelems : 1, sizeof(bool));
    s->data_dropped = wb_calloc(mod->ndatas ? mod->ndatas : 1, sizeof(bool));
    memcpy(s->elem_dropped, inst->elem_dropped, mod->nelems * sizeof(bool));
    memcpy(s->data_dropped, inst->data_dropped, mod->ndatas * sizeof(bool));
    *out = s;
    return 0;
}

/* Give back what a run grew the memory by. */
static int shrink_memory(wb_memory *m, uint64_t size, wb_error *err) {
    if (m->size <= size) return 0;
    if (m->guarded) {
        uint8_t *from = m->base + size;
        size_t len = m->size - size;
        if (madvise(from, len, MADV_DONTNEED) != 0 || mprotect(from, len, PROT_NONE) != 0)
            return wb_error_sys(err, "take back %zu bytes of grown memory", len);
    } else if (size == 0) {
        munmap(m->base, m->size);
        m->base = NULL;
    } else {
        void *p = mremap(m->base, m->size, size, 0); /* shrinking stays in place */
        if (p == MAP_FAILED) return wb_error_sys(err, "take back grown memory");
        m->base = p;
    }
    m->size = size;
    return 0;
}

static int restore_memory(const mem_snap *ms, wb_error *err) {
    wb_memory *m = ms->mem;
    if (shrink_memory(m, ms->size, err) < 0) return -1;
    if (ms->cow) {
        if (madvise(m->base, ms->size, MADV_DONTNEED) != 0)
            return wb_error_sys(err, "restore a memory snapshot");
        return 0;
    }
    if (ms->uffd >= 0) {
        struct wb_page_region vec[64];
        uint64_t at = (uintptr_t)m->base, end = at + ms->size;
        while (at < end) {
            uint64_t walk_end;
            long n = scan_written(ms->pagemap, at, end, vec, 64, &walk_end);
            if (n < 0) return wb_error_sys(err, "find the pages a run wrote");
            for (long i = 0; i < n; i++) {
                uint64_t off = vec[i].start - (uintptr_t)m->base;
                memcpy(m->base + off, ms->image + off, vec[i].end - vec[i].start);
            }
            if (walk_end <= at) break;
            at = walk_end;
        }
        return 0;
    }
    /* memories only grow: m->size == ms->size now */
    for (uint64_t off = 0; off < ms->size; off += SNAP_PAGE) {
        size_t n = ms->size - off < SNAP_PAGE ? (size_t)(ms->size - off) : SNAP_PAGE;
        if (memcmp(m->base + off, ms->image + off, n) != 0)
            memcpy(m->base + off, ms->image + off, n);
    }
    return 0;
}

int wb_instance_restore(wb_instance *inst, const wb_snapshot *s, wb_error *err) {
    const wb_module *mod = inst->module;
    if (s->inst != inst)
        return wb_error_set(err, EINVAL, "the snapshot was taken of another instance");
    for (uint32_t i = 0; i < s->nmems; i++)
        if (restore_memory(&s->mems[i], err) < 0) return -1;
    if (inst->mem0) inst->mem_base = inst->mem0->base;
    for (uint32_t i = 0; i < s->ntables; i++) {
        const table_snap *ts = &s->tables[i];
        wb_table *t = ts->table;
        t->size = ts->size; /* capacity kept: growing again needs no allocation */
        if (ts->size) memcpy(t->elems, ts->elems, ts->size * sizeof(void *));
    }
    for (uint32_t i = 0; i < s->nglobals; i++)
        memcpy(s->globals[i]->val, s->global_vals[i], sizeof s->global_vals[i]);
    memcpy(inst->elem_dropped, s->elem_dropped, mod->nelems * sizeof(bool));
    memcpy(inst->data_dropped, s->data_dropped, mod->ndatas * sizeof(bool));
    inst->store->trap.kind = WB_TRAP_NONE;
    return 0;
}
