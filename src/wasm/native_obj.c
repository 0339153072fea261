/* The ELF loader: read and check the headers, section table and symbol table; scan the
 * relocations (checking each one and counting GOT slots and stubs); lay out and map; resolve
 * symbols; apply the relocations; protect; build the lookup tables. The input is read with
 * memcpy only (it may be unaligned) and every offset, size and index in it is checked before use,
 * with arithmetic that cannot overflow. */
#include "wasm/native_obj.h"

#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef SHT_X86_64_UNWIND
#define SHT_X86_64_UNWIND 0x70000001
#endif
#ifndef R_X86_64_GOTPCRELX
#define R_X86_64_GOTPCRELX 41
#endif
#ifndef R_X86_64_REX_GOTPCRELX
#define R_X86_64_REX_GOTPCRELX 42
#endif
#ifndef STT_GNU_IFUNC
#define STT_GNU_IFUNC 10
#endif

#define STUB_SIZE  16 /* ff 25 00 00 00 00 (jmp *0(%rip)), the 8-byte address, 2 bytes of int3 */
#define NOT_MAPPED UINTPTR_MAX
#define NO_SLOT    UINT32_MAX

enum { GROUP_TEXT, GROUP_RODATA, GROUP_DATA, NGROUPS };

typedef struct obj_symbol {
    const char *name;
    uintptr_t addr;
    size_t size;
    bool local;
} obj_symbol;

struct wb_native_obj {
    uint8_t *map;
    size_t map_size;
    uintptr_t text_start, text_end;
    char *strings;       /* a copy of the symbol string table: names point into it */
    obj_symbol *by_name; /* defined symbols, by name (globals first among equal names) */
    size_t nby_name;
    obj_symbol *funcs; /* FUNC symbols in code, by address */
    size_t nfuncs;
};

/* Per input section: where it went. */
typedef struct sec_info {
    uintptr_t addr; /* NOT_MAPPED unless loaded */
    int group;
    size_t offset; /* in its group, before the groups are placed */
} sec_info;

typedef struct loader {
    const uint8_t *elf;
    size_t len;
    wb_error *err;
    Elf64_Ehdr eh;
    Elf64_Shdr *sh; /* copies of the section headers */
    size_t nsh;
    const char *shstr; /* section names (in elf, checked NUL-terminated) */
    size_t shstr_size;
    sec_info *sec;
    size_t symtab; /* section index of the symbol table, 0 if none */
    Elf64_Sym *syms;
    size_t nsyms;
    const char *str; /* symbol names (in elf, checked NUL-terminated) */
    size_t str_size;
    uintptr_t *sym_addr;
    bool *sym_loaded;   /* defined in a loaded section, absolute, or resolved */
    uint32_t *got_slot; /* per symbol: its GOT slot or NO_SLOT */
    uint32_t *stub_slot;
    size_t ngot, nstubs;
    size_t group_size[NGROUPS], group_off[NGROUPS];
    size_t got_off, stub_off; /* in the mapping */
    size_t page;
    uint8_t *map;
    size_t map_size;
} loader;

static int bad(loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(loader *l, const char *fmt, ...) {
    char msg[WB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++) /* names come from the object: keep the message one line */
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    return wb_error_set(l->err, EINVAL, "native code: %s", msg);
}

static int no_memory(loader *l, const char *what) {
    return wb_error_set(l->err, ENOMEM, "native code: out of memory (%s)", what);
}

/* x rounded up to a power of two a; false on overflow */
static bool align_up(size_t x, size_t a, size_t *out) {
    if (x > SIZE_MAX - (a - 1)) return false;
    *out = (x + a - 1) & ~(a - 1);
    return true;
}

/* [off, off + size) within [0, limit) */
static bool in_bounds(uint64_t off, uint64_t size, uint64_t limit) {
    return off <= limit && size <= limit - off;
}

static const char *sec_name(const loader *l, size_t i) {
    /* names are checked by read_sections; before that, and for index 0, a placeholder */
    if (!l->shstr || i >= l->nsh || l->sh[i].sh_name >= l->shstr_size) return "?";
    return l->shstr + l->sh[i].sh_name;
}

static const char *sym_name(const loader *l, size_t i) {
    if (l->syms[i].st_name >= l->str_size) return "?";
    if (ELF64_ST_TYPE(l->syms[i].st_info) == STT_SECTION && l->syms[i].st_shndx < l->nsh)
        return sec_name(l, l->syms[i].st_shndx);
    return l->str + l->syms[i].st_name;
}

static int read_header(loader *l) {
    if (l->len < sizeof(Elf64_Ehdr)) return bad(l, "object too short (%zu bytes)", l->len);
    memcpy(&l->eh, l->elf, sizeof l->eh);
    const unsigned char *id = l->eh.e_ident;
    if (memcmp(id, ELFMAG, SELFMAG) != 0) return bad(l, "not an ELF object (bad magic)");
    if (id[EI_CLASS] != ELFCLASS64 || id[EI_DATA] != ELFDATA2LSB || id[EI_VERSION] != EV_CURRENT)
        return bad(l, "not a little-endian ELF64 object (class %u, data %u, version %u)",
                   id[EI_CLASS], id[EI_DATA], id[EI_VERSION]);
    if (l->eh.e_type != ET_REL) return bad(l, "not a relocatable object (e_type %u)", l->eh.e_type);
    if (l->eh.e_machine != EM_X86_64)
        return bad(l, "not an x86-64 object (e_machine %u)", l->eh.e_machine);
    if (l->eh.e_version != EV_CURRENT) return bad(l, "bad ELF version %u", l->eh.e_version);
    if (l->eh.e_shentsize != sizeof(Elf64_Shdr))
        return bad(l, "bad section header size %u", l->eh.e_shentsize);
    if (l->eh.e_shnum == 0) return bad(l, "no section headers (or extended numbering)");
    if (!in_bounds(l->eh.e_shoff, (uint64_t)l->eh.e_shnum * sizeof(Elf64_Shdr), l->len))
        return bad(l, "section headers outside the object");
    if (l->eh.e_shstrndx >= l->eh.e_shnum)
        return bad(l, "section name table index %u out of range", l->eh.e_shstrndx);
    return 0;
}

/* A string table: in the object, and ending in NUL (so that any offset below its size names a
 * terminated string). */
static int check_strtab(loader *l, size_t i, const char **out, size_t *size) {
    const Elf64_Shdr *s = &l->sh[i];
    if (s->sh_type != SHT_STRTAB || s->sh_size == 0 || l->elf[s->sh_offset + s->sh_size - 1] != 0)
        return bad(l, "section %zu is not a string table", i);
    *out = (const char *)l->elf + s->sh_offset;
    *size = s->sh_size;
    return 0;
}

static int read_sections(loader *l) {
    l->nsh = l->eh.e_shnum;
    l->sh = calloc(l->nsh, sizeof *l->sh);
    l->sec = calloc(l->nsh, sizeof *l->sec);
    if (!l->sh || !l->sec) return no_memory(l, "section table");
    memcpy(l->sh, l->elf + l->eh.e_shoff, l->nsh * sizeof *l->sh);
    for (size_t i = 0; i < l->nsh; i++) {
        const Elf64_Shdr *s = &l->sh[i];
        l->sec[i].addr = NOT_MAPPED;
        if (s->sh_type != SHT_NOBITS && s->sh_type != SHT_NULL &&
            !in_bounds(s->sh_offset, s->sh_size, l->len))
            return bad(l, "section %zu (offset %llu, size %llu) outside the object", i,
                       (unsigned long long)s->sh_offset, (unsigned long long)s->sh_size);
    }
    if (check_strtab(l, l->eh.e_shstrndx, &l->shstr, &l->shstr_size) < 0) return -1;
    for (size_t i = 1; i < l->nsh; i++)
        if (l->sh[i].sh_name >= l->shstr_size)
            return bad(l, "section %zu: name offset %u out of range", i, l->sh[i].sh_name);
    return 0;
}

static int read_symbols(loader *l) {
    for (size_t i = 1; i < l->nsh; i++) {
        if (l->sh[i].sh_type != SHT_SYMTAB) continue;
        if (l->symtab) return bad(l, "more than one symbol table");
        l->symtab = i;
    }
    if (!l->symtab) return 0;
    const Elf64_Shdr *s = &l->sh[l->symtab];
    if (s->sh_entsize != sizeof(Elf64_Sym) || s->sh_size % sizeof(Elf64_Sym) != 0)
        return bad(l, "symbol table %s: bad entry size", sec_name(l, l->symtab));
    if (s->sh_link == 0 || s->sh_link >= l->nsh)
        return bad(l, "symbol table: string table index %u out of range", s->sh_link);
    if (check_strtab(l, s->sh_link, &l->str, &l->str_size) < 0) return -1;
    l->nsyms = s->sh_size / sizeof(Elf64_Sym);
    if (l->nsyms == 0) return 0;
    l->syms = malloc(l->nsyms * sizeof *l->syms);
    l->sym_addr = calloc(l->nsyms, sizeof *l->sym_addr);
    l->sym_loaded = calloc(l->nsyms, sizeof *l->sym_loaded);
    l->got_slot = malloc(l->nsyms * sizeof *l->got_slot);
    l->stub_slot = malloc(l->nsyms * sizeof *l->stub_slot);
    if (!l->syms || !l->sym_addr || !l->sym_loaded || !l->got_slot || !l->stub_slot)
        return no_memory(l, "symbol table");
    memcpy(l->syms, l->elf + s->sh_offset, l->nsyms * sizeof *l->syms);
    for (size_t i = 0; i < l->nsyms; i++) {
        l->got_slot[i] = l->stub_slot[i] = NO_SLOT;
        if (l->syms[i].st_name >= l->str_size)
            return bad(l, "symbol %zu: name offset %u out of range", i, l->syms[i].st_name);
    }
    return 0;
}

/* Which sections are loaded, into which group, at which offset in it. */
static int place_sections(loader *l) {
    for (size_t i = 1; i < l->nsh; i++) {
        const Elf64_Shdr *s = &l->sh[i];
        const char *name = sec_name(l, i);
        if (!(s->sh_flags & SHF_ALLOC)) continue;
        if (s->sh_type == SHT_X86_64_UNWIND || s->sh_type == SHT_NOTE ||
            strcmp(name, ".eh_frame") == 0)
            continue; /* unwind tables are not used: traps unwind by the frame chain */
        if (s->sh_type != SHT_PROGBITS && s->sh_type != SHT_NOBITS)
            return bad(l, "section %s: type %u is not supported", name, s->sh_type);
        if (s->sh_flags & SHF_TLS) return bad(l, "section %s: thread-local storage", name);
        if ((s->sh_flags & SHF_WRITE) && (s->sh_flags & SHF_EXECINSTR))
            return bad(l, "section %s is both writable and executable", name);
        uint64_t align = s->sh_addralign ? s->sh_addralign : 1;
        if (align & (align - 1))
            return bad(l, "section %s: alignment %llu", name, (unsigned long long)align);
        if (align > l->page)
            return bad(l, "section %s: alignment %llu above the page size", name,
                       (unsigned long long)align);
        int g = (s->sh_flags & SHF_EXECINSTR) ? GROUP_TEXT
                : (s->sh_flags & SHF_WRITE)   ? GROUP_DATA
                                              : GROUP_RODATA;
        size_t off;
        if (!align_up(l->group_size[g], align, &off) || s->sh_size > WB_NATIVE_OBJ_MAX_MAP ||
            off > WB_NATIVE_OBJ_MAX_MAP - s->sh_size)
            return bad(l, "sections too large to load (%s)", name);
        l->sec[i].group = g;
        l->sec[i].offset = off;
        l->sec[i].addr = 0; /* loaded; its address comes with the mapping */
        l->group_size[g] = off + s->sh_size;
    }
    return 0;
}

static size_t reloc_width(uint32_t type) {
    return (type == R_X86_64_64 || type == R_X86_64_PC64) ? 8 : type == R_X86_64_NONE ? 0 : 4;
}

static bool is_got_type(uint32_t type) {
    return type == R_X86_64_GOTPCREL || type == R_X86_64_GOTPCRELX ||
           type == R_X86_64_REX_GOTPCRELX;
}

static bool known_type(uint32_t type) {
    switch (type) {
    case R_X86_64_NONE:
    case R_X86_64_64:
    case R_X86_64_PC32:
    case R_X86_64_PLT32:
    case R_X86_64_32:
    case R_X86_64_32S:
    case R_X86_64_PC64:
    case R_X86_64_GOTPCREL:
    case R_X86_64_GOTPCRELX:
    case R_X86_64_REX_GOTPCRELX: return true;
    default: return false;
    }
}

/* The relocation section i, if it applies to a loaded section: checked as a whole; its target
 * index in *target, 0 when it is to be ignored. */
static int check_reloc_section(loader *l, size_t i, size_t *target) {
    const Elf64_Shdr *s = &l->sh[i];
    *target = 0;
    if (s->sh_type != SHT_RELA && s->sh_type != SHT_REL) return 0;
    if (s->sh_info == 0 || s->sh_info >= l->nsh)
        return bad(l, "relocation section %s: target section %u out of range", sec_name(l, i),
                   s->sh_info);
    if (l->sec[s->sh_info].addr == NOT_MAPPED) return 0;
    if (s->sh_type == SHT_REL)
        return bad(l, "relocation section %s: SHT_REL is not supported", sec_name(l, i));
    if (s->sh_entsize != sizeof(Elf64_Rela) || s->sh_size % sizeof(Elf64_Rela) != 0)
        return bad(l, "relocation section %s: bad entry size", sec_name(l, i));
    if (s->sh_link != l->symtab || !l->symtab)
        return bad(l, "relocation section %s: not linked to the symbol table", sec_name(l, i));
    if (l->sh[s->sh_info].sh_type == SHT_NOBITS && s->sh_size)
        return bad(l, "relocation section %s: its section has no contents", sec_name(l, i));
    *target = s->sh_info;
    return 0;
}

static Elf64_Rela get_rela(const loader *l, size_t sec, size_t k) {
    Elf64_Rela r;
    memcpy(&r, l->elf + l->sh[sec].sh_offset + k * sizeof r, sizeof r);
    return r;
}

/* Check every relocation that will be applied; note the GOT slots and stubs it needs. */
static int scan_relocs(loader *l) {
    for (size_t i = 1; i < l->nsh; i++) {
        size_t target;
        if (check_reloc_section(l, i, &target) < 0) return -1;
        if (!target) continue;
        size_t n = l->sh[i].sh_size / sizeof(Elf64_Rela);
        for (size_t k = 0; k < n; k++) {
            Elf64_Rela r = get_rela(l, i, k);
            uint32_t type = ELF64_R_TYPE(r.r_info);
            uint64_t sym = ELF64_R_SYM(r.r_info);
            if (!known_type(type))
                return bad(l, "relocation %zu of %s: type %u is not supported", k, sec_name(l, i),
                           type);
            if (!in_bounds(r.r_offset, reloc_width(type), l->sh[target].sh_size))
                return bad(l, "relocation %zu of %s points outside its section", k, sec_name(l, i));
            if (sym >= l->nsyms || (sym == 0 && is_got_type(type)))
                return bad(l, "relocation %zu of %s: symbol index %llu out of range", k,
                           sec_name(l, i), (unsigned long long)sym);
            if (is_got_type(type) && l->got_slot[sym] == NO_SLOT)
                l->got_slot[sym] = (uint32_t)l->ngot++;
            if ((type == R_X86_64_PLT32 || type == R_X86_64_PC32) && sym != 0 &&
                l->syms[sym].st_shndx == SHN_UNDEF && l->stub_slot[sym] == NO_SLOT)
                l->stub_slot[sym] = (uint32_t)l->nstubs++;
        }
    }
    return 0;
}

/* Group offsets in the mapping (each page-aligned), with the stubs after the code and the GOT
 * after the read-only data. */
static int layout(loader *l) {
    size_t off;
    /* ngot and nstubs are below the number of relocations, so below len / 24: no overflow */
    if (!align_up(l->group_size[GROUP_TEXT], STUB_SIZE, &off)) return bad(l, "code too large");
    l->stub_off = off;
    l->group_size[GROUP_TEXT] = off + l->nstubs * STUB_SIZE;
    if (!align_up(l->group_size[GROUP_RODATA], 8, &off)) return bad(l, "data too large");
    l->got_off = off;
    l->group_size[GROUP_RODATA] = off + l->ngot * 8;
    size_t total = 0;
    for (int g = 0; g < NGROUPS; g++) {
        size_t size;
        if (l->group_size[g] > WB_NATIVE_OBJ_MAX_MAP ||
            !align_up(l->group_size[g], l->page, &size) || size > WB_NATIVE_OBJ_MAX_MAP - total)
            return bad(l, "sections too large to load (more than %u bytes)", WB_NATIVE_OBJ_MAX_MAP);
        l->group_off[g] = total;
        total += size;
    }
    l->got_off += l->group_off[GROUP_RODATA]; /* stub_off: the code group is first, at 0 */
    l->map_size = total ? total : l->page;
    return 0;
}

static int map_sections(loader *l) {
    void *m = mmap(NULL, l->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return wb_error_set(l->err, ENOMEM, "native code: cannot map %zu bytes: %s", l->map_size,
                            strerror(errno));
    l->map = m;
    for (size_t i = 1; i < l->nsh; i++) {
        if (l->sec[i].addr == NOT_MAPPED) continue;
        size_t at = l->group_off[l->sec[i].group] + l->sec[i].offset;
        l->sec[i].addr = (uintptr_t)l->map + at;
        if (l->sh[i].sh_type == SHT_PROGBITS)
            memcpy(l->map + at, l->elf + l->sh[i].sh_offset, l->sh[i].sh_size);
    }
    return 0;
}

static int resolve_undefined(loader *l, size_t i, wb_native_resolver resolve, void *env) {
    const Elf64_Sym *s = &l->syms[i];
    const char *name = l->str + s->st_name;
    int bind = ELF64_ST_BIND(s->st_info);
    if (bind == STB_LOCAL) return bad(l, "symbol %zu: undefined local symbol", i);
    if (!*name) return bad(l, "symbol %zu: undefined symbol without a name", i);
    void *addr = resolve ? resolve(env, name) : NULL;
    if (!addr && bind != STB_WEAK) return bad(l, "unresolved symbol %.200s", name);
    l->sym_addr[i] = (uintptr_t)addr;
    l->sym_loaded[i] = true;
    return 0;
}

static int resolve_symbols(loader *l, wb_native_resolver resolve, void *env) {
    for (size_t i = 1; i < l->nsyms; i++) {
        const Elf64_Sym *s = &l->syms[i];
        int type = ELF64_ST_TYPE(s->st_info);
        int bind = ELF64_ST_BIND(s->st_info);
        if (type == STT_TLS || type == STT_GNU_IFUNC)
            return bad(l, "symbol %.200s: type %d is not supported", sym_name(l, i), type);
        if (bind != STB_LOCAL && bind != STB_GLOBAL && bind != STB_WEAK)
            return bad(l, "symbol %.200s: binding %d is not supported", sym_name(l, i), bind);
        if (s->st_shndx == SHN_UNDEF) {
            if (resolve_undefined(l, i, resolve, env) < 0) return -1;
        } else if (s->st_shndx == SHN_ABS) {
            l->sym_addr[i] = s->st_value;
            l->sym_loaded[i] = true;
        } else if (s->st_shndx == SHN_COMMON) {
            return bad(l, "symbol %.200s: common symbols are not supported", sym_name(l, i));
        } else if (s->st_shndx >= l->nsh) {
            return bad(l, "symbol %.200s: section index %u out of range", sym_name(l, i),
                       s->st_shndx);
        } else if (l->sec[s->st_shndx].addr != NOT_MAPPED) {
            uint64_t size = l->sh[s->st_shndx].sh_size;
            uint64_t extent = type == STT_SECTION ? 0 : s->st_size;
            if (!in_bounds(s->st_value, extent, size))
                return bad(l, "symbol %.200s lies outside its section", sym_name(l, i));
            l->sym_addr[i] = l->sec[s->st_shndx].addr + s->st_value;
            l->sym_loaded[i] = true;
        }
    }
    return 0;
}

static void fill_got_and_stubs(loader *l) {
    for (size_t i = 0; i < l->nsyms; i++) {
        uint64_t target = l->sym_addr[i];
        if (l->got_slot[i] != NO_SLOT) memcpy(l->map + l->got_off + 8 * l->got_slot[i], &target, 8);
        if (l->stub_slot[i] != NO_SLOT) {
            uint8_t *stub = l->map + l->stub_off + STUB_SIZE * l->stub_slot[i];
            static const uint8_t jmp[6] = {0xff, 0x25, 0, 0, 0, 0}; /* jmp *0(%rip) */
            memcpy(stub, jmp, sizeof jmp);
            memcpy(stub + 6, &target, 8);
            stub[14] = stub[15] = 0xcc; /* int3 */
        }
    }
}

static bool fits_int32(uint64_t v) {
    int64_t s = (int64_t)v;
    return s >= INT32_MIN && s <= INT32_MAX;
}

/* A rel32 field that is the operand of call, jmp or jcc (so that a jump stub can stand in). */
static bool is_branch_operand(const uint8_t *p, uint64_t offset) {
    if (offset >= 1 && (p[-1] == 0xe8 || p[-1] == 0xe9)) return true;
    return offset >= 2 && p[-2] == 0x0f && (p[-1] & 0xf0) == 0x80;
}

static int apply_one(loader *l, size_t rsec, size_t k, size_t target, const Elf64_Rela *r) {
    uint32_t type = ELF64_R_TYPE(r->r_info);
    size_t sym = ELF64_R_SYM(r->r_info);
    uint8_t *p = (uint8_t *)(l->sec[target].addr + r->r_offset);
    uint64_t pc = (uint64_t)(uintptr_t)p, a = (uint64_t)r->r_addend;
    if (type == R_X86_64_NONE) return 0;
    if (sym != 0 && !l->sym_loaded[sym])
        return bad(l, "relocation %zu of %s refers to %.200s, in a section not loaded", k,
                   sec_name(l, rsec), sym_name(l, sym));
    uint64_t s = sym ? l->sym_addr[sym] : 0, v;
    switch (type) {
    case R_X86_64_64: v = s + a; break;
    case R_X86_64_PC64: v = s + a - pc; break;
    case R_X86_64_32:
        v = s + a;
        if (v > UINT32_MAX) goto out_of_range;
        break;
    case R_X86_64_32S:
        v = s + a;
        if (!fits_int32(v)) goto out_of_range;
        break;
    case R_X86_64_PC32:
    case R_X86_64_PLT32:
        v = s + a - pc;
        if (fits_int32(v)) break;
        /* a far call to an undefined symbol goes through its stub */
        if (sym == 0 || l->stub_slot[sym] == NO_SLOT || r->r_addend != -4 ||
            (type == R_X86_64_PC32 && !is_branch_operand(p, r->r_offset)))
            goto out_of_range;
        v = (uint64_t)(uintptr_t)(l->map + l->stub_off + STUB_SIZE * l->stub_slot[sym]) + a - pc;
        break;
    default: /* the GOT types (scan_relocs let no other through) */
        v = (uint64_t)(uintptr_t)(l->map + l->got_off + 8 * l->got_slot[sym]) + a - pc;
        if (!fits_int32(v)) goto out_of_range;
        break;
    }
    if (reloc_width(type) == 8) {
        memcpy(p, &v, 8);
    } else {
        uint32_t v32 = (uint32_t)v;
        memcpy(p, &v32, 4);
    }
    return 0;
out_of_range:
    return bad(l, "relocation %zu of %s (type %u) to %.200s: value out of range", k,
               sec_name(l, rsec), type, sym ? sym_name(l, sym) : "0");
}

static int apply_relocs(loader *l) {
    for (size_t i = 1; i < l->nsh; i++) {
        size_t target;
        if (check_reloc_section(l, i, &target) < 0) return -1;
        if (!target) continue;
        size_t n = l->sh[i].sh_size / sizeof(Elf64_Rela);
        for (size_t k = 0; k < n; k++) {
            Elf64_Rela r = get_rela(l, i, k);
            if (apply_one(l, i, k, target, &r) < 0) return -1;
        }
    }
    return 0;
}

static int protect(loader *l) {
    static const int prot[NGROUPS] = {PROT_READ | PROT_EXEC, PROT_READ, PROT_READ | PROT_WRITE};
    for (int g = 0; g < NGROUPS; g++) {
        size_t size = 0;
        align_up(l->group_size[g], l->page, &size); /* checked by layout */
        if (size && mprotect(l->map + l->group_off[g], size, prot[g]) != 0)
            return wb_error_set(l->err, errno, "native code: mprotect: %s", strerror(errno));
    }
    return 0;
}

static int by_name_cmp(const void *a, const void *b) {
    const obj_symbol *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (int)x->local - (int)y->local;
}

static int by_addr_cmp(const void *a, const void *b) {
    const obj_symbol *x = a, *y = b;
    if (x->addr != y->addr) return x->addr < y->addr ? -1 : 1;
    return x->size < y->size ? -1 : x->size > y->size;
}

/* The lookup tables of o, whose names point into o->strings (a copy of the string table). */
static int build_tables(loader *l, wb_native_obj *o) {
    o->strings = malloc(l->str_size ? l->str_size : 1);
    o->by_name = calloc(l->nsyms ? l->nsyms : 1, sizeof *o->by_name);
    o->funcs = calloc(l->nsyms ? l->nsyms : 1, sizeof *o->funcs);
    if (!o->strings || !o->by_name || !o->funcs) return no_memory(l, "symbols");
    if (l->str_size) memcpy(o->strings, l->str, l->str_size);
    for (size_t i = 1; i < l->nsyms; i++) {
        const Elf64_Sym *s = &l->syms[i];
        int type = ELF64_ST_TYPE(s->st_info);
        /* absolute symbols are numbers, not places in the mapping: not looked up by name */
        if (s->st_shndx == SHN_UNDEF || s->st_shndx == SHN_ABS || !l->sym_loaded[i] || !s->st_name)
            continue;
        if (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE) continue;
        obj_symbol e = {o->strings + s->st_name, l->sym_addr[i], s->st_size,
                        ELF64_ST_BIND(s->st_info) == STB_LOCAL};
        o->by_name[o->nby_name++] = e;
        if (type == STT_FUNC && s->st_shndx < l->nsh &&
            (l->sh[s->st_shndx].sh_flags & SHF_EXECINSTR))
            o->funcs[o->nfuncs++] = e;
    }
    qsort(o->by_name, o->nby_name, sizeof *o->by_name, by_name_cmp);
    for (size_t i = 1; i < o->nby_name; i++) /* as a linker would: one definition per name */
        if (!o->by_name[i].local && !o->by_name[i - 1].local &&
            strcmp(o->by_name[i].name, o->by_name[i - 1].name) == 0)
            return bad(l, "symbol %.200s is defined twice", o->by_name[i].name);
    qsort(o->funcs, o->nfuncs, sizeof *o->funcs, by_addr_cmp);
    o->map = l->map;
    o->map_size = l->map_size;
    o->text_start = (uintptr_t)l->map + l->group_off[GROUP_TEXT];
    o->text_end = o->text_start + l->group_size[GROUP_TEXT];
    return 0;
}

static void loader_release(loader *l) {
    free(l->sh);
    free(l->sec);
    free(l->syms);
    free(l->sym_addr);
    free(l->sym_loaded);
    free(l->got_slot);
    free(l->stub_slot);
}

int wb_native_obj_load(const uint8_t *elf, size_t len, wb_native_resolver resolve, void *env,
                       wb_native_obj **out, wb_error *err) {
    loader l = {.elf = elf, .len = len, .err = err, .page = (size_t)sysconf(_SC_PAGESIZE)};
    wb_native_obj *o = calloc(1, sizeof *o);
    int rc = o ? 0 : no_memory(&l, "object");
    if (rc == 0) rc = read_header(&l);
    if (rc == 0) rc = read_sections(&l);
    if (rc == 0) rc = read_symbols(&l);
    if (rc == 0) rc = place_sections(&l);
    if (rc == 0) rc = scan_relocs(&l);
    if (rc == 0) rc = layout(&l);
    if (rc == 0) rc = map_sections(&l);
    if (rc == 0) rc = resolve_symbols(&l, resolve, env);
    if (rc == 0) fill_got_and_stubs(&l);
    if (rc == 0) rc = apply_relocs(&l);
    if (rc == 0) rc = protect(&l);
    if (rc == 0) rc = build_tables(&l, o);
    loader_release(&l);
    if (rc < 0) {
        if (l.map) munmap(l.map, l.map_size);
        if (o) {
            o->map = NULL;
            wb_native_obj_free(o);
        }
        return -1;
    }
    *out = o;
    return 0;
}

void wb_native_obj_free(wb_native_obj *o) {
    if (!o) return;
    if (o->map) munmap(o->map, o->map_size);
    free(o->strings);
    free(o->by_name);
    free(o->funcs);
    free(o);
}

void *wb_native_obj_symbol(const wb_native_obj *o, const char *name) {
    size_t lo = 0, hi = o->nby_name;
    while (lo < hi) { /* the first entry whose name is >= name: a global before a local */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(o->by_name[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < o->nby_name && strcmp(o->by_name[lo].name, name) == 0)
        return (void *)o->by_name[lo].addr;
    return NULL;
}

size_t wb_native_obj_nsymbols(const wb_native_obj *o) {
    return o->nfuncs;
}

void wb_native_obj_symbol_at(const wb_native_obj *o, size_t i, const char **name, uintptr_t *addr,
                             size_t *size) {
    const obj_symbol *e = i < o->nfuncs ? &o->funcs[i] : NULL;
    if (name) *name = e ? e->name : NULL;
    if (addr) *addr = e ? e->addr : 0;
    if (size) *size = e ? e->size : 0;
}

bool wb_native_obj_contains(const wb_native_obj *o, uintptr_t pc) {
    return o && pc >= o->text_start && pc < o->text_end;
}

const char *wb_native_obj_func_at(const wb_native_obj *o, uintptr_t pc) {
    if (!wb_native_obj_contains(o, pc)) return NULL;
    size_t lo = 0, hi = o->nfuncs;
    while (lo < hi) { /* the number of functions starting at or before pc */
        size_t mid = lo + (hi - lo) / 2;
        if (o->funcs[mid].addr <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* among those starting at the same address the largest is last; a function nested in an
     * earlier one's range (aliases of different sizes) is found through the few before it */
    for (size_t i = lo, seen = 0; i > 0 && seen < 8; i--, seen++)
        if (pc - o->funcs[i - 1].addr < o->funcs[i - 1].size) return o->funcs[i - 1].name;
    return NULL;
}
