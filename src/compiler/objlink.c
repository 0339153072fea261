/* Joining the objects of a module compiled in partitions (see objlink.h): sections are copied
 * side by side, symbol tables merged (locals first, as ELF wants), cross-object references bound
 * to their definitions, relocations renumbered. */
#include "compiler/objlink.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#ifndef SHT_LLVM_ADDRSIG
#define SHT_LLVM_ADDRSIG 0x6fff4c03
#endif

typedef struct in_obj {
    const uint8_t *elf;
    size_t len;
    Elf64_Shdr *sh; /* copies of the section headers */
    size_t nsh;
    const char *shstr;
    size_t shstr_size;
    Elf64_Sym *syms; /* a copy of the symbol table */
    size_t nsyms;
    const char *str;
    size_t str_size;
    uint32_t *sec_map; /* input section -> output section, 0 if dropped */
    uint32_t *sym_map; /* input symbol -> output symbol */
} in_obj;

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static size_t buf_add(buf *b, const void *data, size_t n, size_t align) {
    size_t at = (b->len + align - 1) & ~(align - 1);
    if (at + n > b->cap) {
        b->cap = (at + n) * 2 + 256;
        b->p = wb_realloc(b->p, b->cap);
    }
    if (at > b->len) memset(b->p + b->len, 0, at - b->len);
    if (n) memcpy(b->p + at, data, n);
    b->len = at + n;
    return at;
}

static uint32_t str_add(buf *b, const char *s) {
    return (uint32_t)buf_add(b, s, strlen(s) + 1, 1);
}

typedef struct global_def {
    const char *name;
    uint32_t index; /* in the output symbol table */
} global_def;

typedef struct linker {
    in_obj *in;
    size_t n;
    wb_error *err;
    Elf64_Shdr *out_sh;
    uint32_t *out_src_obj, *out_src_sec; /* where each output section's contents come from */
    size_t nout_sh;
    Elf64_Sym *out_syms;
    size_t nout_syms, out_syms_cap;
    buf strtab, shstrtab;
    global_def *defs; /* defined globals, sorted by name */
    size_t ndefs;
} linker;

static bool in_bounds(uint64_t off, uint64_t size, uint64_t limit) {
    return off <= limit && size <= limit - off;
}

static int bad(linker *l, size_t obj, const char *what) {
    return wb_error_set(l->err, EINVAL, "compiler: joining object %zu: %s", obj, what);
}

static int check_strtab(linker *l, size_t k, size_t i, const char **out, size_t *size) {
    const in_obj *o = &l->in[k];
    if (i == 0 || i >= o->nsh || o->sh[i].sh_type != SHT_STRTAB || o->sh[i].sh_size == 0 ||
        o->elf[o->sh[i].sh_offset + o->sh[i].sh_size - 1] != 0)
        return bad(l, k, "bad string table");
    *out = (const char *)o->elf + o->sh[i].sh_offset;
    *size = o->sh[i].sh_size;
    return 0;
}

static int read_obj(linker *l, size_t k) {
    in_obj *o = &l->in[k];
    Elf64_Ehdr eh;
    if (o->len < sizeof eh) return bad(l, k, "too short");
    memcpy(&eh, o->elf, sizeof eh);
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_type != ET_REL || eh.e_machine != EM_X86_64 ||
        eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 ||
        !in_bounds(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr), o->len))
        return bad(l, k, "not an x86-64 relocatable object");
    o->nsh = eh.e_shnum;
    o->sh = wb_calloc(o->nsh, sizeof *o->sh);
    o->sec_map = wb_calloc(o->nsh, sizeof *o->sec_map);
    memcpy(o->sh, o->elf + eh.e_shoff, o->nsh * sizeof *o->sh);
    size_t symtab = 0;
    for (size_t i = 1; i < o->nsh; i++) {
        if (o->sh[i].sh_type != SHT_NOBITS &&
            !in_bounds(o->sh[i].sh_offset, o->sh[i].sh_size, o->len))
            return bad(l, k, "section outside the object");
        if (o->sh[i].sh_type == SHT_SYMTAB) {
            if (symtab) return bad(l, k, "more than one symbol table");
            symtab = i;
        }
        if (o->sh[i].sh_type == SHT_GROUP) return bad(l, k, "section groups are not supported");
    }
    if (check_strtab(l, k, eh.e_shstrndx, &o->shstr, &o->shstr_size) < 0) return -1;
    for (size_t i = 1; i < o->nsh; i++)
        if (o->sh[i].sh_name >= o->shstr_size) return bad(l, k, "bad section name");
    if (!symtab) return bad(l, k, "no symbol table");
    const Elf64_Shdr *s = &o->sh[symtab];
    if (s->sh_entsize != sizeof(Elf64_Sym) || s->sh_size % sizeof(Elf64_Sym) != 0)
        return bad(l, k, "bad symbol table");
    if (check_strtab(l, k, s->sh_link, &o->str, &o->str_size) < 0) return -1;
    o->nsyms = s->sh_size / sizeof(Elf64_Sym);
    o->syms = wb_calloc(o->nsyms + 1, sizeof *o->syms);
    o->sym_map = wb_calloc(o->nsyms + 1, sizeof *o->sym_map);
    memcpy(o->syms, o->elf + s->sh_offset, o->nsyms * sizeof *o->syms);
    for (size_t i = 0; i < o->nsyms; i++)
        if (o->syms[i].st_name >= o->str_size) return bad(l, k, "bad symbol name");
    return 0;
}

static uint32_t add_section(linker *l, const Elf64_Shdr *sh, const char *name, uint32_t obj,
                            uint32_t sec) {
    l->out_sh = wb_realloc(l->out_sh, (l->nout_sh + 1) * sizeof *l->out_sh);
    l->out_src_obj = wb_realloc(l->out_src_obj, (l->nout_sh + 1) * sizeof *l->out_src_obj);
    l->out_src_sec = wb_realloc(l->out_src_sec, (l->nout_sh + 1) * sizeof *l->out_src_sec);
    l->out_sh[l->nout_sh] = *sh;
    l->out_sh[l->nout_sh].sh_name = str_add(&l->shstrtab, name);
    l->out_src_obj[l->nout_sh] = obj;
    l->out_src_sec[l->nout_sh] = sec;
    return (uint32_t)l->nout_sh++;
}

/* Every section but the symbol and string tables (made anew) and the address-significance
 * tables (lists of symbol indices, only an optimisation hint for linkers); relocation sections
 * after the others, so that their targets' new indices are known. */
static int map_sections(linker *l) {
    Elf64_Shdr null = {0};
    add_section(l, &null, "", 0, 0);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < l->n; k++) {
            in_obj *o = &l->in[k];
            for (size_t i = 1; i < o->nsh; i++) {
                uint32_t t = o->sh[i].sh_type;
                if (t == SHT_SYMTAB || t == SHT_STRTAB || t == SHT_LLVM_ADDRSIG) continue;
                if ((t == SHT_RELA) != (pass == 1)) continue;
                if (t == SHT_REL) return bad(l, k, "SHT_REL is not supported");
                Elf64_Shdr sh = o->sh[i];
                if (t == SHT_RELA) {
                    if (sh.sh_info == 0 || sh.sh_info >= o->nsh ||
                        sh.sh_entsize != sizeof(Elf64_Rela) || sh.sh_size % sizeof(Elf64_Rela))
                        return bad(l, k, "bad relocation section");
                    if (!o->sec_map[sh.sh_info]) continue; /* its section was dropped */
                    sh.sh_info = o->sec_map[sh.sh_info];
                } else if (sh.sh_link) {
                    if (sh.sh_link >= o->nsh || !o->sec_map[sh.sh_link])
                        return bad(l, k, "section linked to a dropped section");
                    sh.sh_link = o->sec_map[sh.sh_link];
                }
                o->sec_map[i] =
                    add_section(l, &sh, o->shstr + o->sh[i].sh_name, (uint32_t)k, (uint32_t)i);
            }
        }
    }
    return 0;
}

static uint32_t add_symbol(linker *l, const in_obj *o, const Elf64_Sym *s) {
    if (l->nout_syms == l->out_syms_cap) {
        l->out_syms_cap = l->out_syms_cap ? l->out_syms_cap * 2 : 256;
        l->out_syms = wb_realloc(l->out_syms, l->out_syms_cap * sizeof *l->out_syms);
    }
    Elf64_Sym *d = &l->out_syms[l->nout_syms];
    *d = *s;
    d->st_name = s->st_name ? str_add(&l->strtab, o->str + s->st_name) : 0;
    if (s->st_shndx != SHN_UNDEF && s->st_shndx < SHN_LORESERVE)
        d->st_shndx = (uint16_t)o->sec_map[s->st_shndx];
    return (uint32_t)l->nout_syms++;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const global_def *)a)->name, ((const global_def *)b)->name);
}

static const global_def *find_def(const linker *l, const char *name) {
    global_def key = {.name = name};
    return bsearch(&key, l->defs, l->ndefs, sizeof *l->defs, by_name);
}

/* Locals of every object, then the defined globals, then the undefined ones that no object
 * defines (once each: memcpy and its kind). */
static int merge_symbols(linker *l) {
    Elf64_Sym null = {0};
    add_symbol(l, &l->in[0], &null);
    size_t first_undef = 0;
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 2) {
            qsort(l->defs, l->ndefs, sizeof *l->defs, by_name);
            for (size_t j = 1; j < l->ndefs; j++)
                if (strcmp(l->defs[j - 1].name, l->defs[j].name) == 0)
                    return wb_error_set(l->err, EINVAL,
                                        "compiler: joining objects: %.100s defined twice",
                                        l->defs[j].name);
            first_undef = l->nout_syms;
        }
        for (size_t k = 0; k < l->n; k++) {
            in_obj *o = &l->in[k];
            for (size_t i = 1; i < o->nsyms; i++) {
                const Elf64_Sym *s = &o->syms[i];
                bool local = ELF64_ST_BIND(s->st_info) == STB_LOCAL;
                bool undef = s->st_shndx == SHN_UNDEF;
                if (pass != (local ? 0 : undef ? 2 : 1)) continue;
                if (s->st_shndx == SHN_XINDEX) return bad(l, k, "extended section indices");
                if (!undef && s->st_shndx < SHN_LORESERVE &&
                    (s->st_shndx >= o->nsh || !o->sec_map[s->st_shndx]))
                    return bad(l, k, "symbol in a dropped section");
                const char *name = o->str + s->st_name;
                if (pass == 2) {
                    const global_def *d = find_def(l, name);
                    uint32_t found = d ? d->index : 0;
                    for (size_t j = first_undef; j < l->nout_syms && !found; j++)
                        if (strcmp((const char *)l->strtab.p + l->out_syms[j].st_name, name) == 0)
                            found = (uint32_t)j;
                    o->sym_map[i] = found ? found : add_symbol(l, o, s);
                    continue;
                }
                o->sym_map[i] = add_symbol(l, o, s);
                if (pass == 1) {
                    l->defs = wb_realloc(l->defs, (l->ndefs + 1) * sizeof *l->defs);
                    l->defs[l->ndefs++] = (global_def){name, o->sym_map[i]};
                }
            }
        }
    }
    return 0;
}

static void release(linker *l) {
    for (size_t k = 0; k < l->n; k++) {
        free(l->in[k].sh);
        free(l->in[k].sec_map);
        free(l->in[k].syms);
        free(l->in[k].sym_map);
    }
    free(l->in);
    free(l->out_sh);
    free(l->out_src_obj);
    free(l->out_src_sec);
    free(l->out_syms);
    free(l->strtab.p);
    free(l->shstrtab.p);
    free(l->defs);
}

/* The relocations of output section i, their symbols renumbered. */
static int copy_relocs(linker *l, size_t i, uint8_t *dst) {
    const in_obj *o = &l->in[l->out_src_obj[i]];
    const Elf64_Shdr *sh = &o->sh[l->out_src_sec[i]];
    size_t n = sh->sh_size / sizeof(Elf64_Rela);
    for (size_t r = 0; r < n; r++) {
        Elf64_Rela rel;
        memcpy(&rel, o->elf + sh->sh_offset + r * sizeof rel, sizeof rel);
        uint64_t sym = ELF64_R_SYM(rel.r_info);
        if (sym >= o->nsyms) return bad(l, l->out_src_obj[i], "relocation symbol out of range");
        rel.r_info = ELF64_R_INFO((uint64_t)o->sym_map[sym], ELF64_R_TYPE(rel.r_info));
        memcpy(dst + r * sizeof rel, &rel, sizeof rel);
    }
    return 0;
}

static int write_object(linker *l, buf *out) {
    Elf64_Shdr sh = {0};
    sh.sh_type = SHT_STRTAB;
    sh.sh_addralign = 1;
    uint32_t strtab = add_section(l, &sh, ".strtab", 0, 0);
    sh.sh_type = SHT_SYMTAB;
    sh.sh_link = strtab;
    sh.sh_addralign = 8;
    sh.sh_entsize = sizeof(Elf64_Sym);
    sh.sh_info = 0; /* the first global: set below */
    uint32_t symtab = add_section(l, &sh, ".symtab", 0, 0);
    memset(&sh, 0, sizeof sh);
    sh.sh_type = SHT_STRTAB;
    sh.sh_addralign = 1;
    uint32_t shstrtab = add_section(l, &sh, ".shstrtab", 0, 0);
    if (l->nout_sh >= SHN_LORESERVE)
        return wb_error_set(l->err, EINVAL, "compiler: joining objects: too many sections");

    Elf64_Ehdr eh = {0};
    buf_add(out, &eh, sizeof eh, 1);
    for (size_t i = 1; i < l->nout_sh; i++) {
        Elf64_Shdr *s = &l->out_sh[i];
        size_t align = s->sh_addralign > 1 ? s->sh_addralign : 1;
        if (align & (align - 1) || align > 4096)
            return wb_error_set(l->err, EINVAL, "compiler: joining objects: bad alignment");
        if (i == symtab) {
            size_t first_global = 1;
            while (first_global < l->nout_syms &&
                   ELF64_ST_BIND(l->out_syms[first_global].st_info) == STB_LOCAL)
                first_global++;
            s->sh_info = (uint32_t)first_global;
            s->sh_size = l->nout_syms * sizeof(Elf64_Sym);
            s->sh_offset = buf_add(out, l->out_syms, s->sh_size, align);
        } else if (i == strtab) {
            s->sh_size = l->strtab.len;
            s->sh_offset = buf_add(out, l->strtab.p, s->sh_size, align);
        } else if (i == shstrtab) {
            s->sh_size = l->shstrtab.len;
            s->sh_offset = buf_add(out, l->shstrtab.p, s->sh_size, align);
        } else if (s->sh_type == SHT_NOBITS) {
            s->sh_offset = buf_add(out, NULL, 0, align);
        } else {
            const in_obj *o = &l->in[l->out_src_obj[i]];
            const Elf64_Shdr *src = &o->sh[l->out_src_sec[i]];
            s->sh_offset = buf_add(out, o->elf + src->sh_offset, src->sh_size, align);
            if (s->sh_type == SHT_RELA) {
                s->sh_link = symtab;
                if (copy_relocs(l, i, out->p + s->sh_offset) < 0) return -1;
            }
        }
    }
    size_t shoff = buf_add(out, l->out_sh, l->nout_sh * sizeof(Elf64_Shdr), 8);
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
    eh.e_type = ET_REL;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_shoff = shoff;
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = (uint16_t)l->nout_sh;
    eh.e_shstrndx = (uint16_t)shstrtab;
    memcpy(out->p, &eh, sizeof eh);
    return 0;
}

int wb__obj_link(const uint8_t *const *objs, const size_t *lens, size_t n, uint8_t **out,
                 size_t *out_len, wb_error *err) {
    linker l = {.n = n, .err = err};
    buf o = {0};
    if (n == 0) return wb_error_set(err, EINVAL, "compiler: no object to join");
    l.in = wb_calloc(n, sizeof *l.in);
    for (size_t k = 0; k < n; k++) {
        l.in[k].elf = objs[k];
        l.in[k].len = lens[k];
    }
    str_add(&l.strtab, "");
    int rc = -1;
    for (size_t k = 0; k < n; k++)
        if (read_obj(&l, k) < 0) goto done;
    if (map_sections(&l) < 0 || merge_symbols(&l) < 0 || write_object(&l, &o) < 0) goto done;
    *out = o.p;
    *out_len = o.len;
    o.p = NULL;
    rc = 0;
done:
    free(o.p);
    release(&l);
    return rc;
}
