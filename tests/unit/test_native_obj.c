/* The native code loader (wasm/native_obj.h) on objects clang compiled from tests/unit/native/
 * (by the Makefile, into $(BUILD)/native-fixtures/ beside this binary; WB_NATIVE_FIXTURES
 * overrides the directory): the loaded functions run and return what the C says, symbols are
 * found by name and by address, far calls go through stubs, the groups get their protections;
 * and bad objects — edited fields, every truncation, random corruptions — are refused with one
 * "native code: " line, never a crash or a mapping left behind. */
#include <elf.h>
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"

#include "base/fsutil.h"
#include "wasm/native_obj.h"

/* The fixture's bytes (malloc'd), or a skip when the Makefile did not build it. */
static uint8_t *fixture(const char *name, size_t *len) {
    char dir[4096], path[4200];
    const char *env = getenv("WB_NATIVE_FIXTURES");
    if (env) {
        snprintf(dir, sizeof dir, "%s", env);
    } else {
        ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
        ASSERT_TRUE(n > 0);
        dir[n] = '\0';
        char *slash = strrchr(dir, '/');
        ASSERT_TRUE(slash != NULL && (size_t)(slash - dir) + 20 < sizeof dir);
        strcpy(slash, "/native-fixtures");
    }
    wb_error err = {0};
    ASSERT_EQ(wb_path_join(path, sizeof path, &err, "%s/%s", dir, name), 0);
    uint8_t *data = NULL;
    if (wb_read_file(path, 64 << 20, &data, len, &err) < 0) {
        if (err.code == ENOENT) {
            char why[4400];
            snprintf(why, sizeof why,
                     "fixture %s missing (built by make into <build>/native-fixtures)", path);
            SKIP(why);
        }
        wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
    }
    return data;
}

/* What the fixtures' undefined symbols resolve to. */
typedef struct test_env {
    int counter;  /* ext_counter */
    void *near;   /* ext_near: code mapped next to the object */
    bool no_far;  /* leave ext_far unresolved */
    int resolved; /* calls */
} test_env;

static int far_impl(int x) {
    return x * 10;
} /* ext_far: in this binary, far from any mmap */

static void *resolve(void *envp, const char *name) {
    test_env *env = envp;
    env->resolved++;
    if (strcmp(name, "ext_counter") == 0) return &env->counter;
    if (strcmp(name, "ext_near") == 0) return env->near;
    if (strcmp(name, "ext_far") == 0) return env->no_far ? NULL : (void *)far_impl;
    if (strcmp(name, "ext_small") == 0) return (void *)0x1000;
    return NULL;
}

/* ext_near(x) = 2 * x, as machine code in a page of its own, mapped just before the object, so
 * that (mappings growing downwards) the object lands within a rel32 of it. */
static void *map_near_function(void) {
    static const uint8_t code[] = {0x8d, 0x04, 0x3f, 0xc3}; /* lea (%rdi,%rdi),%eax; ret */
    uint8_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(p != MAP_FAILED);
    memcpy(p, code, sizeof code);
    ASSERT_EQ(mprotect(p, 4096, PROT_READ | PROT_EXEC), 0);
    return p;
}

static wb_native_obj *load_ok(const uint8_t *elf, size_t len, test_env *env) {
    wb_native_obj *o = NULL;
    wb_error err = {0};
    if (wb_native_obj_load(elf, len, resolve, env, &o, &err) != 0)
        wb_test_fail(__FILE__, __LINE__, "load: %s", err.msg);
    ASSERT_TRUE(o != NULL);
    return o;
}

static void *sym(const wb_native_obj *o, const char *name) {
    void *p = wb_native_obj_symbol(o, name);
    if (!p) wb_test_fail(__FILE__, __LINE__, "symbol %s not found", name);
    return p;
}

/* The protection letters ("r-xp") of the mapping holding addr, from /proc/self/maps. */
static const char *perms_at(const void *addr, char out[5]) {
    FILE *f = fopen("/proc/self/maps", "r");
    ASSERT_TRUE(f != NULL);
    char line[1024];
    strcpy(out, "none");
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[5];
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && (uintptr_t)addr >= lo &&
            (uintptr_t)addr < hi)
            memcpy(out, perms, 5);
    }
    fclose(f);
    return out;
}

/* Bytes of address space mapped by this process. */
static uint64_t mapped_bytes(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    ASSERT_TRUE(f != NULL);
    char line[1024];
    uint64_t total = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2) total += hi - lo;
    }
    fclose(f);
    return total;
}

/* The function `name`'s address and size from the object's FUNC list. */
static void func_range(const wb_native_obj *o, const char *name, uintptr_t *addr, size_t *size) {
    for (size_t i = 0; i < wb_native_obj_nsymbols(o); i++) {
        const char *n;
        wb_native_obj_symbol_at(o, i, &n, addr, size);
        if (strcmp(n, name) == 0) return;
    }
    wb_test_fail(__FILE__, __LINE__, "no function %s", name);
}

/* Where the call or jmp rel32 in function fn that reaches `want` directly, or a stub jumping to
 * it, goes: `want` itself, the stub's address, or 0 when there is none. */
static uintptr_t branch_to(const wb_native_obj *o, const char *fn, uintptr_t want) {
    uintptr_t addr;
    size_t size;
    func_range(o, fn, &addr, &size);
    const uint8_t *code = (const uint8_t *)addr;
    for (size_t i = 0; i + 5 <= size; i++) {
        if (code[i] != 0xe8 && code[i] != 0xe9) continue;
        int32_t rel;
        memcpy(&rel, code + i + 1, 4);
        uintptr_t target = addr + i + 5 + (intptr_t)rel;
        if (target == want) return target;
        static const uint8_t jmp[6] = {0xff, 0x25, 0, 0, 0, 0};
        uint64_t dest;
        if (wb_native_obj_contains(o, target) && memcmp((void *)target, jmp, 6) == 0 &&
            (memcpy(&dest, (void *)(target + 6), 8), dest == want))
            return target;
    }
    return 0;
}

static bool within_rel32(uintptr_t a, uintptr_t b) {
    return (a > b ? a - b : b - a) < (1ull << 31) - 4096;
}

TEST(native_obj_runs_pic_code) {
    size_t len;
    uint8_t *elf = fixture("pic.o", &len);
    test_env env = {.counter = 1234, .near = map_near_function()};
    wb_native_obj *o = load_ok(elf, len, &env);
    free(elf);
    ASSERT_EQ(env.resolved, 3); /* ext_counter, ext_near, ext_far */

    ASSERT_EQ(((int (*)(int))sym(o, "calls"))(5), 31);
    int (*classify)(int) = (int (*)(int))sym(o, "classify");
    static const int want[] = {11, 23, 37, 41, 59, 67, 73, 89, 97, -1};
    for (int i = 0; i < 10; i++) ASSERT_EQ(classify(i), want[i]);
    ASSERT_EQ(classify(-7), -1);
    ASSERT_TRUE(((double (*)(double))sym(o, "scale"))(2.0) == 6.625);
    ASSERT_TRUE(((float (*)(float))sym(o, "fscale"))(2.0f) == 2.75f);
    ASSERT_TRUE(((double (*)(int))sym(o, "pick"))(3) == 4.5);
    int (*bump)(int) = (int (*)(int))sym(o, "bump");
    ASSERT_EQ(bump(1), 107);
    ASSERT_EQ(bump(1), 208);
    ASSERT_EQ(bump(5), 109); /* counters[5], init_data[1] */

    /* global_var, defined in the object, reached through its GOT slot */
    int (*get_global)(void) = (int (*)(void))sym(o, "get_global");
    ASSERT_EQ(get_global(), 42);
    *(int *)sym(o, "global_var") = 50;
    ASSERT_EQ(get_global(), 50);
    /* ext_counter: the resolver's address, through the GOT */
    ASSERT_EQ(((int (*)(void))sym(o, "read_ext"))(), 1234);
    ((void (*)(int))sym(o, "write_ext"))(77);
    ASSERT_EQ(env.counter, 77);

    ASSERT_EQ(((int (*)(int))sym(o, "call_near"))(4), 9);
    ASSERT_EQ(((int (*)(int))sym(o, "call_far"))(4), 42);
    ASSERT_EQ(((int (*)(int))sym(o, "tail_far"))(3), 30);
    int (*dispatch)(int, int) = (int (*)(int, int))sym(o, "dispatch");
    ASSERT_EQ(dispatch(0, 5), -5);
    ASSERT_EQ(dispatch(1, 5), 10);
    ASSERT_EQ(dispatch(2, 5), 6);
    ASSERT_EQ(dispatch(3, 5), 25);
    ASSERT_STR_EQ(((const char *(*)(void))sym(o, "greeting"))(), "hello from native code");

    /* the near call is direct; the far call and the far tail call go through a stub */
    uintptr_t near = (uintptr_t)env.near, far = (uintptr_t)far_impl;
    ASSERT_TRUE(within_rel32((uintptr_t)sym(o, "call_near"), near));
    ASSERT_TRUE(!within_rel32((uintptr_t)sym(o, "call_far"), far));
    ASSERT_U64_EQ(branch_to(o, "call_near", near), near);
    uintptr_t stub = branch_to(o, "call_far", far);
    ASSERT_TRUE(stub != 0 && stub != far);
    ASSERT_U64_EQ(branch_to(o, "tail_far", far), stub); /* one stub per symbol */
    wb_native_obj_free(o);
}

TEST(native_obj_protections) {
    size_t len;
    uint8_t *elf = fixture("pic.o", &len);
    test_env env = {.near = map_near_function()};
    wb_native_obj *o = load_ok(elf, len, &env);
    free(elf);
    char p[5];
    ASSERT_STR_EQ(perms_at(sym(o, "calls"), p), "r-xp");
    ASSERT_STR_EQ(perms_at(sym(o, "table"), p), "r--p");     /* .rodata */
    ASSERT_STR_EQ(perms_at(sym(o, "counters"), p), "rw-p");  /* .bss */
    ASSERT_STR_EQ(perms_at(sym(o, "init_data"), p), "rw-p"); /* .data */
    ASSERT_STR_EQ(perms_at(sym(o, "global_var"), p), "rw-p");
    void *code = sym(o, "calls");
    wb_native_obj_free(o);
    ASSERT_STR_EQ(perms_at(code, p), "none");
}

TEST(native_obj_symbols_and_func_at) {
    size_t len;
    uint8_t *elf = fixture("pic.o", &len);
    test_env env = {.near = map_near_function()};
    wb_native_obj *o = load_ok(elf, len, &env);
    free(elf);
    ASSERT_TRUE(wb_native_obj_symbol(o, "square") != NULL); /* a local function */
    ASSERT_TRUE(wb_native_obj_symbol(o, "no_such_symbol") == NULL);
    ASSERT_TRUE(wb_native_obj_symbol(o, "ext_far") == NULL); /* undefined: not ours */
    ASSERT_TRUE(wb_native_obj_symbol(o, "") == NULL);
    size_t n = wb_native_obj_nsymbols(o);
    ASSERT_GE(n, 15);
    uintptr_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name;
        uintptr_t addr;
        size_t size;
        wb_native_obj_symbol_at(o, i, &name, &addr, &size);
        ASSERT_TRUE(addr >= prev);
        prev = addr;
        ASSERT_U64_EQ((uintptr_t)wb_native_obj_symbol(o, name), addr);
        ASSERT_TRUE(size > 0);
        ASSERT_TRUE(wb_native_obj_contains(o, addr));
        ASSERT_STR_EQ(wb_native_obj_func_at(o, addr), name);
        ASSERT_STR_EQ(wb_native_obj_func_at(o, addr + size - 1), name);
    }
    const char *name = "x";
    uintptr_t addr = 1;
    wb_native_obj_symbol_at(o, n, &name, &addr, NULL);
    ASSERT_TRUE(name == NULL && addr == 0);
    ASSERT_TRUE(!wb_native_obj_contains(o, (uintptr_t)far_impl));
    ASSERT_TRUE(!wb_native_obj_contains(o, (uintptr_t)sym(o, "table")));
    ASSERT_TRUE(!wb_native_obj_contains(NULL, (uintptr_t)far_impl));
    ASSERT_TRUE(wb_native_obj_func_at(o, (uintptr_t)far_impl) == NULL);
    ASSERT_TRUE(wb_native_obj_func_at(o, (uintptr_t)sym(o, "table")) == NULL);
    wb_native_obj_free(o);
}

TEST(native_obj_large_code_model) {
    size_t len;
    uint8_t *elf = fixture("large.o", &len); /* R_X86_64_64 and PC64 everywhere */
    test_env env = {.counter = 5, .near = map_near_function()};
    wb_native_obj *o = load_ok(elf, len, &env);
    free(elf);
    ASSERT_EQ(((int (*)(int))sym(o, "calls"))(5), 31);
    ASSERT_EQ(((int (*)(int))sym(o, "classify"))(8), 97);
    ASSERT_TRUE(((double (*)(double))sym(o, "scale"))(2.0) == 6.625);
    ASSERT_EQ(((int (*)(int))sym(o, "bump"))(2), 108);
    ASSERT_EQ(((int (*)(void))sym(o, "read_ext"))(), 5);
    ASSERT_EQ(((int (*)(int))sym(o, "call_far"))(4), 42);
    ASSERT_EQ(((int (*)(int))sym(o, "call_near"))(4), 9);
    ASSERT_EQ(((int (*)(int, int))sym(o, "dispatch"))(3, 5), 25);
    wb_native_obj_free(o);
}

TEST(native_obj_assembled_relocations) {
    size_t len;
    uint8_t *elf = fixture("relocs.o", &len); /* PC64, 32, 32S, GOTPCREL, NONE */
    test_env env = {.counter = 99};
    wb_native_obj *o = load_ok(elf, len, &env);
    free(elf);
    ASSERT_U64_EQ(((uintptr_t(*)(void))sym(o, "asm_pc64_target"))(),
                  (uintptr_t)sym(o, "asm_target"));
    ASSERT_EQ(((int (*)(void))sym(o, "asm_target"))(), 7);
    ASSERT_U64_EQ(((uint64_t(*)(void))sym(o, "asm_small_values"))(), 0x1000 + 0x1010);
    ASSERT_EQ(((int (*)(void))sym(o, "asm_got_plain"))(), 99);
    wb_native_obj_free(o);
}

TEST(native_obj_many_symbols) {
    size_t len;
    uint8_t *elf = fixture("many.o", &len);
    wb_native_obj *o = load_ok(elf, len, NULL);
    free(elf);
    ASSERT_EQ(wb_native_obj_nsymbols(o), 4096);
    for (int i = 0; i < 4096; i++) {
        char name[16];
        snprintf(name, sizeof name, "f_%03x", i);
        int (*f)(int) = (int (*)(int))sym(o, name);
        ASSERT_EQ(f(1), 1 + i);
        ASSERT_STR_EQ(wb_native_obj_func_at(o, (uintptr_t)f + 1), name);
    }
    wb_native_obj_free(o);
}

TEST(native_obj_unresolved_symbol) {
    size_t len;
    uint8_t *elf = fixture("pic.o", &len);
    test_env env = {.near = map_near_function(), .no_far = true};
    wb_native_obj *o = NULL;
    wb_error err = {0};
    ASSERT_EQ(wb_native_obj_load(elf, len, resolve, &env, &o, &err), -1);
    ASSERT_EQ(err.code, EINVAL);
    ASSERT_STR_EQ(err.msg, "native code: unresolved symbol ext_far");
    ASSERT_TRUE(o == NULL);
    ASSERT_EQ(wb_native_obj_load(elf, len, NULL, NULL, &o, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "native code: unresolved symbol ext_");
    free(elf);
}

static void expect_refused(const uint8_t *elf, size_t len, const char *want) {
    test_env env = {.near = map_near_function()};
    wb_native_obj *o = NULL;
    wb_error err = {0};
    if (wb_native_obj_load(elf, len, resolve, &env, &o, &err) == 0)
        wb_test_fail(__FILE__, __LINE__, "loaded, expected \"%s\"", want);
    ASSERT_EQ(err.code, EINVAL);
    ASSERT_TRUE(strncmp(err.msg, "native code: ", 13) == 0);
    ASSERT_STR_CONTAINS(err.msg, want);
    ASSERT_TRUE(strchr(err.msg, '\n') == NULL);
}

TEST(native_obj_refuses_other_code_models) {
    size_t len;
    uint8_t *elf = fixture("nopic.o", &len);
    /* absolute 32-bit addresses of data in a mapping far above 4 GiB */
    expect_refused(elf, len, "value out of range");
    free(elf);
    elf = fixture("large_pic.o", &len); /* GOTPC64, GOTOFF64, GOT64 */
    expect_refused(elf, len, "is not supported");
    free(elf);
}

/* Section header i of a (well-formed) fixture, and the index of the one named name. */
static Elf64_Shdr *shdr(uint8_t *elf, size_t i) {
    Elf64_Ehdr *eh = (Elf64_Ehdr *)elf;
    return (Elf64_Shdr *)(elf + eh->e_shoff) + i;
}

static size_t section_named(uint8_t *elf, const char *name) {
    Elf64_Ehdr *eh = (Elf64_Ehdr *)elf;
    const char *names = (const char *)elf + shdr(elf, eh->e_shstrndx)->sh_offset;
    for (size_t i = 1; i < eh->e_shnum; i++)
        if (strcmp(names + shdr(elf, i)->sh_name, name) == 0) return i;
    wb_test_fail(__FILE__, __LINE__, "no section %s", name);
}

static Elf64_Rela *rela0(uint8_t *elf, const char *section) {
    return (Elf64_Rela *)(elf + shdr(elf, section_named(elf, section))->sh_offset);
}

TEST(native_obj_refuses_bad_fields) {
    size_t len;
    uint8_t *orig = fixture("pic.o", &len), *elf = malloc(len);
    ASSERT_TRUE(elf != NULL);
#define EDIT(stmt, want)                                                                           \
    do {                                                                                           \
        memcpy(elf, orig, len);                                                                    \
        stmt;                                                                                      \
        expect_refused(elf, len, want);                                                            \
    } while (0)
    Elf64_Ehdr *eh = (Elf64_Ehdr *)elf;
    EDIT(elf[1] = 'X', "native code: not an ELF object (bad magic)");
    EDIT(eh->e_ident[EI_CLASS] = ELFCLASS32, "not a little-endian ELF64 object");
    EDIT(eh->e_type = ET_DYN, "not a relocatable object (e_type 3)");
    EDIT(eh->e_machine = EM_AARCH64, "not an x86-64 object (e_machine 183)");
    EDIT(eh->e_shoff = len - 64, "section headers outside the object");
    EDIT(eh->e_shentsize = 40, "bad section header size 40");
    EDIT(eh->e_shnum = 0, "no section headers");
    EDIT(eh->e_shstrndx = 999, "section name table index 999 out of range");
    EDIT(shdr(elf, section_named(elf, ".text"))->sh_offset = len, "outside the object");
    EDIT(shdr(elf, section_named(elf, ".text"))->sh_name = 1u << 30, "name offset");
    EDIT(shdr(elf, section_named(elf, ".text"))->sh_addralign = 3, "alignment 3");
    EDIT(shdr(elf, section_named(elf, ".text"))->sh_addralign = 1 << 20, "above the page size");
    EDIT(shdr(elf, section_named(elf, ".text"))->sh_flags |= SHF_WRITE,
         "section .text is both writable and executable");
    EDIT(shdr(elf, section_named(elf, ".bss"))->sh_size = 1ull << 40, "too large to load");
    EDIT(shdr(elf, section_named(elf, ".rela.text"))->sh_type = SHT_REL,
         "relocation section .rela.text: SHT_REL is not supported");
    EDIT(shdr(elf, section_named(elf, ".rela.text"))->sh_entsize = 16, "bad entry size");
    EDIT(shdr(elf, section_named(elf, ".rela.text"))->sh_info = 999, "target section 999");
    EDIT(shdr(elf, section_named(elf, ".symtab"))->sh_link = 0, "string table index 0");
    EDIT(rela0(elf, ".rela.text")->r_info =
             ELF64_R_INFO(ELF64_R_SYM(rela0(elf, ".rela.text")->r_info), 99),
         "native code: relocation 0 of .rela.text: type 99 is not supported");
    EDIT(rela0(elf, ".rela.text")->r_offset = 1ull << 62,
         "native code: relocation 0 of .rela.text points outside its section");
    EDIT(rela0(elf, ".rela.text")->r_info = ELF64_R_INFO(1u << 30, R_X86_64_PC32),
         "native code: relocation 0 of .rela.text: symbol index 1073741824 out of range");
    /* names from the object are shown with control characters replaced (found by the fuzzer) */
    EDIT((rela0(elf, ".rela.text")->r_offset = 1ull << 62,
          elf[shdr(elf, eh->e_shstrndx)->sh_offset +
              shdr(elf, section_named(elf, ".rela.text"))->sh_name + 1] = '\n'),
         "native code: relocation 0 of .?ela.text points outside its section");
    EDIT(elf[shdr(elf, section_named(elf, ".strtab"))->sh_offset +
             shdr(elf, section_named(elf, ".strtab"))->sh_size - 1] = 'x',
         "is not a string table");
#undef EDIT
    expect_refused(orig, 10, "native code: object too short (10 bytes)");
    free(elf);
    free(orig);
}

/* The index of the symbol named name in the object's .symtab (0 if none). */
static size_t symbol_index(uint8_t *elf, const char *name) {
    Elf64_Shdr *st = shdr(elf, section_named(elf, ".symtab"));
    const char *str = (const char *)elf + shdr(elf, st->sh_link)->sh_offset;
    Elf64_Sym *syms = (Elf64_Sym *)(elf + st->sh_offset);
    for (size_t i = 1; i < st->sh_size / sizeof *syms; i++)
        if (strcmp(str + syms[i].st_name, name) == 0) return i;
    return 0;
}

static Elf64_Sym *symbol_entry(uint8_t *elf, size_t i) {
    return (Elf64_Sym *)(elf + shdr(elf, section_named(elf, ".symtab"))->sh_offset) + i;
}

/* Symbol tables a linker would refuse, or whose names would look up the wrong thing (found by
 * the fuzzer: a FUNC that lookup by name did not find). */
TEST(native_obj_symbol_table_edits) {
    size_t len;
    uint8_t *orig = fixture("pic.o", &len), *elf = malloc(len);
    ASSERT_TRUE(elf != NULL);
    size_t bump = symbol_index(orig, "bump"), call_near = symbol_index(orig, "call_near");
    size_t square = symbol_index(orig, "square");
    ASSERT_TRUE(bump && call_near && square);
    Elf64_Sym *s = NULL;
    /* two global definitions of one name */
    memcpy(elf, orig, len);
    symbol_entry(elf, call_near)->st_name = symbol_entry(elf, bump)->st_name;
    expect_refused(elf, len, "native code: symbol bump is defined twice");
    /* a binding that is neither local, global nor weak */
    memcpy(elf, orig, len);
    s = symbol_entry(elf, bump);
    s->st_info = ELF64_ST_INFO(7, ELF64_ST_TYPE(s->st_info));
    expect_refused(elf, len, "native code: symbol bump: binding 7 is not supported");
    /* an absolute symbol named like a function: a number, never what lookup by name answers */
    memcpy(elf, orig, len);
    s = symbol_entry(elf, call_near);
    s->st_name = symbol_entry(elf, square)->st_name;
    s->st_info = ELF64_ST_INFO(STB_LOCAL, STT_OBJECT);
    s->st_shndx = SHN_ABS;
    s->st_value = 0;
    test_env env = {.near = map_near_function()};
    wb_native_obj *o = load_ok(elf, len, &env);
    void *fn = wb_native_obj_symbol(o, "square");
    ASSERT_TRUE(fn != NULL && wb_native_obj_contains(o, (uintptr_t)fn));
    ASSERT_STR_EQ(wb_native_obj_func_at(o, (uintptr_t)fn), "square");
    wb_native_obj_free(o);
    free(elf);
    free(orig);
}

/* The fixture with a 64 MiB .bss: every load maps at least that much, so a mapping left behind
 * by a failed load shows in mapped_bytes() at once. */
static uint8_t *big_bss_fixture(size_t *len) {
    uint8_t *elf = fixture("pic.o", len);
    shdr(elf, section_named(elf, ".bss"))->sh_size = 64u << 20;
    return elf;
}

/* Load, and free if it loaded; an error must be one "native code: " line. */
static bool try_load(const uint8_t *elf, size_t len) {
    test_env env = {.near = (void *)far_impl};
    wb_native_obj *o = NULL;
    wb_error err = {0};
    if (wb_native_obj_load(elf, len, resolve, &env, &o, &err) == 0) {
        wb_native_obj_free(o);
        return true;
    }
    if (strncmp(err.msg, "native code: ", 13) != 0 || strchr(err.msg, '\n'))
        wb_test_fail(__FILE__, __LINE__, "bad error line: %s", err.msg);
    if (err.code != EINVAL) wb_test_fail(__FILE__, __LINE__, "code %d: %s", err.code, err.msg);
    return false;
}

TEST(native_obj_every_truncation) {
    static const char *const names[] = {"pic.o", "large.o", "relocs.o"};
    uint64_t before = mapped_bytes();
    for (size_t f = 0; f < 3; f++) {
        size_t len;
        uint8_t *elf = f == 0 ? big_bss_fixture(&len) : fixture(names[f], &len);
        for (size_t n = 0; n < len; n++) {
            uint8_t *cut = malloc(n ? n : 1); /* exactly sized: an overread is caught by ASan */
            ASSERT_TRUE(cut != NULL);
            memcpy(cut, elf, n);
            ASSERT_TRUE(!try_load(cut, n)); /* the section headers are at the end */
            free(cut);
        }
        ASSERT_TRUE(try_load(elf, len));
        free(elf);
    }
    ASSERT_LT(mapped_bytes(), before + (256u << 20));
}

TEST(native_obj_random_corruptions) {
    size_t len;
    uint8_t *orig = big_bss_fixture(&len), *elf = malloc(len);
    ASSERT_TRUE(elf != NULL);
    uint64_t before = mapped_bytes();
    srand(20240607);
    int loaded = 0, refused = 0;
    for (int round = 0; round < 4000; round++) {
        memcpy(elf, orig, len);
        size_t at = (size_t)rand() % len;
        elf[at] = round & 1 ? (uint8_t)rand() : elf[at] ^ (uint8_t)(1u << (rand() % 8));
        if (round % 3 == 0) elf[(size_t)rand() % len] = (uint8_t)rand(); /* sometimes two */
        if (try_load(elf, len))
            loaded++;
        else
            refused++;
    }
    ASSERT_GE(loaded, 100); /* most bytes (code, data) do not matter to the loader */
    ASSERT_GE(refused, 100);
    ASSERT_LT(mapped_bytes(), before + (256u << 20));
    free(elf);
    free(orig);
}
