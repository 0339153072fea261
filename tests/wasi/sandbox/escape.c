/* The WASI sandbox: no path may leave the preopened directory — absolute paths, `..` (even for
 * one step), symbolic links (relative or absolute, as the final component or in the middle), and
 * every path_* operation that takes a path. Run by tests/wasi/sandbox.sh on the tree it builds:
 *
 *   TMP/secret.txt ("SECRET"), TMP/outside/o.txt    outside the preopen
 *   TMP/root/ (preopened as "/"):
 *     file.txt ("hello"), dir/inner.txt ("inner"), dir/sub/
 *     link_in -> dir/inner.txt        link_dir_in -> dir          dir/link_up -> ../file.txt
 *     link_out_rel -> ../secret.txt   link_out_abs -> TMP/secret.txt (absolute)
 *     link_abs_inside -> TMP/root/file.txt (absolute, pointing inside)
 *     link_out_dir -> ../outside      dir/link_out_deep -> ../../secret.txt
 *     chain_out -> link_dir_in/../../secret.txt   link_dotdot -> ..
 *     loop1 -> loop2, loop2 -> loop1, self -> self
 */
#include "check.h"

#define FOLLOW   __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW
#define E_NOTCAP __WASI_ERRNO_NOTCAPABLE

static uint32_t root;

static void absolute_paths(void) {
    __wasi_filestat_t st;
    expect_open("absolute-path", root, 0, "/file.txt", 0, E_NOTCAP);
    expect_open("absolute-root", root, 0, "/", 0, E_NOTCAP);
    expect_open("absolute-etc", root, FOLLOW, "/etc/passwd", 0, E_NOTCAP);
    expect("absolute-stat", stat_at(root, 0, "/etc/passwd", &st), E_NOTCAP);
    expect("absolute-mkdir", mkdir_at(root, "/tmp-wasi-escape"), E_NOTCAP);
    expect("absolute-unlink", unlink_at(root, "/file.txt"), E_NOTCAP);
}

static void dotdot(void) {
    __wasi_filestat_t st;
    char buf[64];
    expect_open("dotdot-root", root, 0, "..", 0, E_NOTCAP);
    expect_open("dotdot-slash", root, 0, "../", 0, E_NOTCAP);
    expect_open("dotdot-escape", root, 0, "../secret.txt", 0, E_NOTCAP);
    expect_open("dotdot-reenter", root, 0, "../root/file.txt", 0, E_NOTCAP);
    expect_open("dotdot-transient", root, 0, "dir/../../root/file.txt", 0, E_NOTCAP);
    expect_open("dotdot-deep-transient", root, 0, "dir/sub/../../../root/dir/inner.txt", 0,
                E_NOTCAP);
    expect_open("dotdot-after-symlink", root, 0, "link_dir_in/../../secret.txt", 0, E_NOTCAP);
    expect("dotdot-stat", stat_at(root, 0, "..", &st), E_NOTCAP);
    expect("dotdot-stat-secret", stat_at(root, 0, "dir/../../secret.txt", &st), E_NOTCAP);
    expect_open("dotdot-inside", root, 0, "dir/../file.txt", 0, 0);
    expect_open("dotdot-deep-inside", root, 0, "dir/sub/../../dir/./inner.txt", 0, 0);
    expect_open("dotdot-symlink-parent-inside", root, 0, "link_dir_in/../file.txt", 0, 0);
    expect_open("dot-root", root, 0, ".", 0, 0);
    expect("dotdot-inside-content", read_file(root, 0, "dir/sub/../../file.txt", buf, sizeof buf),
           0);
    expect_true("dotdot-inside-content-value", !strcmp(buf, "hello"), "not the preopen's file");
}

static void symlinks(void) {
    __wasi_filestat_t st;
    char buf[64];
    /* inside: allowed, as the final component and in the middle */
    expect("symlink-inside", read_file(root, FOLLOW, "link_in", buf, sizeof buf), 0);
    expect_true("symlink-inside-content", !strcmp(buf, "inner"), "wrong content");
    expect("symlink-inside-updir", read_file(root, FOLLOW, "dir/link_up", buf, sizeof buf), 0);
    expect_true("symlink-inside-updir-content", !strcmp(buf, "hello"), "wrong content");
    expect_open("symlink-intermediate-inside", root, 0, "link_dir_in/inner.txt", 0, 0);
    expect_open("symlink-intermediate-dotdot", root, 0, "link_dotdot/../file.txt", 0, E_NOTCAP);
    /* pointing out: refused when followed */
    expect_open("symlink-out-relative", root, FOLLOW, "link_out_rel", 0, E_NOTCAP);
    expect_open("symlink-out-absolute", root, FOLLOW, "link_out_abs", 0, E_NOTCAP);
    expect_open("symlink-absolute-inside", root, FOLLOW, "link_abs_inside", 0, E_NOTCAP);
    expect_open("symlink-out-deep", root, FOLLOW, "dir/link_out_deep", 0, E_NOTCAP);
    expect_open("symlink-out-chain", root, FOLLOW, "chain_out", 0, E_NOTCAP);
    expect_open("symlink-out-dir-intermediate", root, 0, "link_out_dir/o.txt", 0, E_NOTCAP);
    expect_open("symlink-dotdot-final", root, FOLLOW, "link_dotdot", 0, E_NOTCAP);
    expect("symlink-out-stat-follow", stat_at(root, FOLLOW, "link_out_rel", &st), E_NOTCAP);
    expect("symlink-out-abs-stat-follow", stat_at(root, FOLLOW, "link_out_abs", &st), E_NOTCAP);
    expect("symlink-out-dir-stat", stat_at(root, 0, "link_out_dir/o.txt", &st), E_NOTCAP);
    /* not followed: the link itself is inside and may be looked at */
    expect_open("symlink-nofollow-open", root, 0, "link_out_rel", 0, __WASI_ERRNO_LOOP);
    expect("symlink-nofollow-stat", stat_at(root, 0, "link_out_abs", &st), 0);
    expect_true("symlink-nofollow-stat-type", st.filetype == __WASI_FILETYPE_SYMBOLIC_LINK,
                "not reported as a symlink");
    uint32_t used = 0;
    expect("symlink-readlink-out", readlink_at(root, "link_out_rel", buf, sizeof buf, &used), 0);
    expect_true("symlink-readlink-out-text", used == 13 && !memcmp(buf, "../secret.txt", 13),
                "wrong link text");
    /* a directory fd is its own sandbox: from dir/, "../" leaves it */
    uint32_t dir;
    expect("subdir-open",
           open_at(root, 0, "dir", __WASI_OFLAGS_DIRECTORY,
                   RIGHTS_FILE_READ | __WASI_RIGHTS_PATH_OPEN | __WASI_RIGHTS_PATH_FILESTAT_GET,
                   &dir),
           0);
    expect_open("subdir-dotdot", dir, 0, "../file.txt", 0, E_NOTCAP);
    expect_open("subdir-symlink-up", dir, FOLLOW, "link_up", 0, E_NOTCAP);
    expect_open("subdir-inside", dir, 0, "sub/../inner.txt", 0, 0);
    close_fd(dir);
}

static void loops(void) {
    __wasi_filestat_t st;
    expect_open("symlink-loop", root, FOLLOW, "loop1", 0, __WASI_ERRNO_LOOP);
    expect_open("symlink-self-loop", root, FOLLOW, "self", 0, __WASI_ERRNO_LOOP);
    expect_open("symlink-loop-intermediate", root, 0, "loop1/x", 0, __WASI_ERRNO_LOOP);
    expect("symlink-loop-stat-follow", stat_at(root, FOLLOW, "loop2", &st), __WASI_ERRNO_LOOP);
    expect("symlink-loop-stat-nofollow", stat_at(root, 0, "loop2", &st), 0);
    expect("symlink-loop-mkdir-under", mkdir_at(root, "self/x"), __WASI_ERRNO_LOOP);
}

static void operations(void) {
    /* every path operation refuses targets outside */
    expect("mkdir-escape", mkdir_at(root, "../newdir"), E_NOTCAP);
    expect("mkdir-escape-symlink", mkdir_at(root, "link_out_dir/newdir"), E_NOTCAP);
    expect("unlink-escape", unlink_at(root, "../secret.txt"), E_NOTCAP);
    expect("unlink-escape-symlink", unlink_at(root, "link_out_dir/o.txt"), E_NOTCAP);
    expect("rmdir-escape", rmdir_at(root, "../outside"), E_NOTCAP);
    expect("rmdir-escape-dotdot", rmdir_at(root, ".."), E_NOTCAP);
    expect("rename-to-outside", rename_at(root, "file.txt", root, "../stolen.txt"), E_NOTCAP);
    expect("rename-from-outside", rename_at(root, "../secret.txt", root, "got.txt"), E_NOTCAP);
    expect("rename-into-symlinked-dir", rename_at(root, "file.txt", root, "link_out_dir/x"),
           E_NOTCAP);
    expect("link-to-outside", link_at(root, 0, "file.txt", root, "../hard.txt"), E_NOTCAP);
    expect("link-from-outside", link_at(root, 0, "../secret.txt", root, "hard.txt"), E_NOTCAP);
    expect("link-from-outside-symlink", link_at(root, FOLLOW, "link_out_rel", root, "hard.txt"),
           E_NOTCAP);
    expect("link-into-symlinked-dir", link_at(root, 0, "file.txt", root, "link_out_dir/h"),
           E_NOTCAP);
    expect("symlink-create-outside", symlink_at("file.txt", root, "../evil"), E_NOTCAP);
    expect("symlink-create-absolute-target", symlink_at("/etc/passwd", root, "abs"), E_NOTCAP);
    char buf[64];
    uint32_t used;
    expect("readlink-escape", readlink_at(root, "../x", buf, sizeof buf, &used), E_NOTCAP);
    expect("set-times-escape",
           raw_path_filestat_set_times((int32_t)root, FOLLOW, PTR("link_out_rel"), 12, 0, 0,
                                       __WASI_FSTFLAGS_MTIM_NOW),
           E_NOTCAP);
    expect("set-times-dotdot",
           raw_path_filestat_set_times((int32_t)root, 0, PTR("../secret.txt"), 13, 0, 0,
                                       __WASI_FSTFLAGS_MTIM_NOW),
           E_NOTCAP);
    expect_open("create-escape", root, 0, "../created.txt", __WASI_OFLAGS_CREAT, E_NOTCAP);
    expect_open("create-through-symlink-out", root, FOLLOW, "link_out_dir/created.txt",
                __WASI_OFLAGS_CREAT, E_NOTCAP);

    /* a symlink with escaping text may be made (as wasmtime), never followed out */
    expect("symlink-create-escaping-text", symlink_at("../secret.txt", root, "mylink"), 0);
    expect_open("symlink-created-follow", root, FOLLOW, "mylink", 0, E_NOTCAP);
    expect_open("symlink-created-creat-follow", root, FOLLOW, "mylink",
                __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, E_NOTCAP);
    expect("hardlink-of-symlink", link_at(root, 0, "mylink", root, "mylink2"), 0);
    expect_open("hardlink-of-symlink-follow", root, FOLLOW, "mylink2", 0, E_NOTCAP);
    expect("unlink-symlink-itself", unlink_at(root, "mylink"), 0);
    expect("unlink-symlink-itself-2", unlink_at(root, "mylink2"), 0);
    /* a dangling symlink inside: following it with O_CREAT creates the target inside */
    expect("symlink-dangling-inside", symlink_at("dir/made.txt", root, "dangling"), 0);
    expect_open("symlink-dangling-create", root, FOLLOW, "dangling", __WASI_OFLAGS_CREAT, 0);
    expect_open("symlink-dangling-created", root, 0, "dir/made.txt", 0, 0);
    expect("symlink-dangling-cleanup", unlink_at(root, "dangling"), 0);
    expect("symlink-dangling-cleanup-target", unlink_at(root, "dir/made.txt"), 0);
}

static void trailing_slashes(void) {
    __wasi_filestat_t st;
    expect_open("slash-file-open", root, 0, "file.txt/", 0, __WASI_ERRNO_NOTDIR);
    expect_open("slash-file-open-follow", root, FOLLOW, "file.txt/", 0, __WASI_ERRNO_NOTDIR);
    expect("slash-file-stat", stat_at(root, 0, "file.txt/", &st), __WASI_ERRNO_NOTDIR);
    expect("slash-file-unlink", unlink_at(root, "file.txt/"), __WASI_ERRNO_NOTDIR);
    expect("slash-file-rmdir", rmdir_at(root, "file.txt/"), __WASI_ERRNO_NOTDIR);
    expect_open("slash-dir-open", root, 0, "dir/", 0, 0);
    expect_open("slash-dir-open-many", root, 0, "dir///", 0, 0);
    expect("slash-mkdir", mkdir_at(root, "newd/"), 0);
    expect("slash-mkdir-exists", mkdir_at(root, "newd/"), __WASI_ERRNO_EXIST);
    expect("slash-rename-dir", rename_at(root, "newd/", root, "newd2/"), 0);
    expect("slash-rmdir", rmdir_at(root, "newd2/"), 0);
    expect("slash-symlink-to-dir-stat", stat_at(root, 0, "link_dir_in/", &st), 0);
    expect_true("slash-symlink-to-dir-stat-type", st.filetype == __WASI_FILETYPE_DIRECTORY,
                "a trailing slash should resolve the link");
    expect("slash-symlink-out-stat", stat_at(root, 0, "link_out_dir/", &st), E_NOTCAP);
    expect_open("slash-symlink-out-open", root, 0, "link_out_dir/", 0, E_NOTCAP);
    expect("slash-symlink-to-file-stat", stat_at(root, 0, "link_in/", &st), __WASI_ERRNO_NOTDIR);
    expect("slash-symlink-unlink", unlink_at(root, "link_dir_in/"), __WASI_ERRNO_NOTDIR);
    expect("slash-symlink-rmdir", rmdir_at(root, "link_dir_in/"), __WASI_ERRNO_NOTDIR);
}

static void bad_strings(void) {
    uint32_t fd;
    __wasi_filestat_t st;
    static const char nul_end[] = "file.txt\0";
    static const char nul_mid[] = "fi\0le.txt";
    expect("nul-end-open",
           raw_path_open((int32_t)root, 0, PTR(nul_end), 9, 0, RIGHTS_FILE_READ, 0, 0, PTR(&fd)),
           __WASI_ERRNO_INVAL);
    expect("nul-middle-open",
           raw_path_open((int32_t)root, 0, PTR(nul_mid), 9, 0, RIGHTS_FILE_READ, 0, 0, PTR(&fd)),
           __WASI_ERRNO_INVAL);
    expect("nul-stat", raw_path_filestat_get((int32_t)root, 0, PTR(nul_mid), 9, PTR(&st)),
           __WASI_ERRNO_INVAL);
    expect("nul-mkdir", raw_path_create_directory((int32_t)root, PTR(nul_mid), 9),
           __WASI_ERRNO_INVAL);
    expect("nul-symlink-target", raw_path_symlink(PTR(nul_mid), 9, (int32_t)root, PTR("x"), 1),
           __WASI_ERRNO_INVAL);
    expect("empty-path", raw_path_open((int32_t)root, 0, PTR(""), 0, 0, 0, 0, 0, PTR(&fd)),
           __WASI_ERRNO_NOENT);
    expect("invalid-utf8",
           raw_path_open((int32_t)root, 0, PTR("\xff\xfe"), 2, 0, 0, 0, 0, PTR(&fd)),
           __WASI_ERRNO_ILSEQ);
    static char longpath[5000];
    memset(longpath, 'a', sizeof longpath);
    expect("path-too-long",
           raw_path_open((int32_t)root, 0, PTR(longpath), sizeof longpath, 0, 0, 0, 0, PTR(&fd)),
           __WASI_ERRNO_NAMETOOLONG);
    expect("component-too-long",
           raw_path_open((int32_t)root, 0, PTR(longpath), 300, 0, 0, 0, 0, PTR(&fd)),
           __WASI_ERRNO_NAMETOOLONG);
}

/* Deeper than the fallback walk keeps open at once (it reopens ancestors through `..`). */
static void deep(void) {
    enum { DEPTH = 50 };
    static char path[DEPTH * 12 + 64];
    size_t at = 0;
    int made = 1;
    for (int i = 0; i < DEPTH; i++) {
        memcpy(path + at, "dd/", 3);
        at += 3;
        path[at] = '\0';
        made &= mkdir_at(root, path) == 0;
    }
    expect_true("deep-mkdir", made, "could not make the deep tree");
    size_t down = at;
    for (int i = 0; i < DEPTH; i++) {
        memcpy(path + at, "../", 3);
        at += 3;
    }
    strcpy(path + at, "file.txt");
    expect_open("deep-climb-back", root, 0, path, 0, 0);
    strcpy(path + at, "../file.txt");
    expect_open("deep-climb-out", root, 0, path, 0, E_NOTCAP);
    /* down, up half way, down again, then one step too many */
    at = down;
    for (int i = 0; i < DEPTH / 2; i++) {
        memcpy(path + at, "../", 3);
        at += 3;
    }
    for (int i = 0; i < DEPTH / 2; i++) {
        memcpy(path + at, "dd/", 3);
        at += 3;
    }
    for (int i = 0; i < DEPTH + 1; i++) {
        memcpy(path + at, "../", 3);
        at += 3;
    }
    strcpy(path + at, "secret.txt");
    expect_open("deep-zigzag-out", root, 0, path, 0, E_NOTCAP);
    int removed = 1;
    for (int i = DEPTH; i > 0; i--) {
        path[i * 3] = '\0';
        removed &= rmdir_at(root, path) == 0;
    }
    expect_true("deep-rmdir", removed, "could not remove the deep tree");
}

int main(void) {
    root = find_preopen("/");
    if (root == (uint32_t)-1) return finish();
    absolute_paths();
    dotdot();
    symlinks();
    loops();
    operations();
    trailing_slashes();
    bad_strings();
    deep();
    return finish();
}
