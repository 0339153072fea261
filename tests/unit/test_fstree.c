/* File trees, path cleaning, Docker's patterns and .dockerignore, the build context walk and
 * tar archives as trees (src/oci/fstree.h, src/oci/context.h). */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "oci/context.h"
#include "oci/fstree.h"

static const char *clean(const char *in, bool clamp) {
    static char buf[512];
    char *out;
    if (wb_path_clean(in, clamp, &out) < 0) return "(escapes)";
    snprintf(buf, sizeof buf, "%s", out);
    free(out);
    return buf;
}

TEST(fstree_path_clean) {
    ASSERT_STR_EQ(clean("/a/./b//c/../d/", false), "a/b/d");
    ASSERT_STR_EQ(clean(".", false), "");
    ASSERT_STR_EQ(clean("/", false), "");
    ASSERT_STR_EQ(clean("a/..", false), "");
    ASSERT_STR_EQ(clean("../x", false), "(escapes)");
    ASSERT_STR_EQ(clean("a/../../x", false), "(escapes)");
    ASSERT_STR_EQ(clean("a/../../x", true), "x");
    ASSERT_STR_EQ(clean("/../../etc", true), "etc");
}

TEST(fstree_patterns) {
    ASSERT_TRUE(wb_pattern_match("*.wasm", "a.wasm"));
    ASSERT_TRUE(!wb_pattern_match("*.wasm", "d/a.wasm"));
    ASSERT_TRUE(wb_pattern_match("*", ".hidden"));
    ASSERT_TRUE(wb_pattern_match("**/*.wasm", "a.wasm"));
    ASSERT_TRUE(wb_pattern_match("**/*.wasm", "d/e/a.wasm"));
    ASSERT_TRUE(wb_pattern_match("d/**", "d/x/y"));
    ASSERT_TRUE(!wb_pattern_match("d/**", "d"));
    ASSERT_TRUE(wb_pattern_match("a/**/b", "a/b"));
    ASSERT_TRUE(wb_pattern_match("a/**/b", "a/x/y/b"));
    ASSERT_TRUE(!wb_pattern_match("a/**/b", "a/xb"));
    ASSERT_TRUE(wb_pattern_match("**", "anything/at/all"));
    ASSERT_TRUE(wb_pattern_match("a?c", "abc"));
    ASSERT_TRUE(!wb_pattern_match("a?c", "a/c"));
    ASSERT_TRUE(wb_pattern_match("[a-c]x", "bx"));
    ASSERT_TRUE(!wb_pattern_match("[a-c]x", "dx"));
    ASSERT_TRUE(wb_pattern_match("[^a]x", "bx"));
    ASSERT_TRUE(!wb_pattern_match("[^a]x", "ax"));
    ASSERT_TRUE(wb_pattern_match("[]]", "]"));
    ASSERT_TRUE(wb_pattern_match("\\*x", "*x"));
    ASSERT_TRUE(!wb_pattern_match("\\*x", "ax"));
    ASSERT_TRUE(!wb_pattern_valid("[abc"));
    ASSERT_TRUE(!wb_pattern_match("[abc", "a"));
    ASSERT_TRUE(wb_pattern_has_magic("a*"));
    ASSERT_TRUE(!wb_pattern_has_magic("a\\*"));
    ASSERT_TRUE(!wb_pattern_has_magic("plain/path.wasm"));
    /* no exponential blow-up */
    char path[2001];
    memset(path, 'a', 2000);
    path[2000] = '\0';
    ASSERT_TRUE(!wb_pattern_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*b", path));
    ASSERT_TRUE(!wb_pattern_match("**/**/**/**/**/**/**/b", path));
}

static wb_ignore *ignore(const char *text) {
    wb_ignore *ig;
    wb_error err;
    if (wb_ignore_parse(text, strlen(text), &ig, &err) < 0)
        wb_test_fail(__FILE__, __LINE__, "%s", err.msg);
    return ig;
}

TEST(fstree_dockerignore) {
    wb_ignore *ig = ignore("# comment\n\n*.md\n!README.md\n/build\n./tmp/\n**/node_modules\n"
                           "docs\n!docs/keep.txt\n  spaced  \n");
    ASSERT_TRUE(wb_ignore_has_exceptions(ig));
    ASSERT_TRUE(wb_ignore_match(ig, "a.md"));
    ASSERT_TRUE(!wb_ignore_match(ig, "README.md"));
    ASSERT_TRUE(!wb_ignore_match(ig, "sub/a.md"));
    ASSERT_TRUE(wb_ignore_match(ig, "build"));
    ASSERT_TRUE(wb_ignore_match(ig, "build/x/y.wasm"));
    ASSERT_TRUE(wb_ignore_match(ig, "tmp/z"));
    ASSERT_TRUE(wb_ignore_match(ig, "node_modules/x"));
    ASSERT_TRUE(wb_ignore_match(ig, "a/b/node_modules/c/d"));
    ASSERT_TRUE(wb_ignore_match(ig, "docs/other"));
    ASSERT_TRUE(!wb_ignore_match(ig, "docs/keep.txt"));
    ASSERT_TRUE(wb_ignore_match(ig, "spaced"));
    ASSERT_TRUE(!wb_ignore_match(ig, "src/main.c"));
    wb_ignore_free(ig);
    /* the last matching pattern decides */
    ig = ignore("!a\na\n");
    ASSERT_TRUE(wb_ignore_match(ig, "a"));
    wb_ignore_free(ig);
    ig = ignore("*\n!*.wasm\n");
    ASSERT_TRUE(wb_ignore_match(ig, "Dockerfile"));
    ASSERT_TRUE(!wb_ignore_match(ig, "app.wasm"));
    wb_ignore_free(ig);
    wb_error err;
    ASSERT_EQ(wb_ignore_parse("ok\n[bad\n", 8, &ig, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, ".dockerignore:2: syntax error in pattern");
}

TEST(fstree_put_get_resolve) {
    wb_fstree *t = wb_fstree_new();
    wb_fsnode *n;
    wb_error err;
    ASSERT_EQ(wb_fstree_put(t, "a/b/c.txt", WB_FT_REG, &n, &err), 0);
    ASSERT_EQ(wb_fstree_count(t), 3);
    ASSERT_TRUE(wb_fstree_get(t, "a/b")->type == WB_FT_DIR);
    char *p = wb_fsnode_path(n);
    ASSERT_STR_EQ(p, "a/b/c.txt");
    free(p);
    p = wb_fsnode_path(wb_fstree_root(t));
    ASSERT_STR_EQ(p, "");
    free(p);
    ASSERT_EQ(wb_fstree_put(t, "a/b/c.txt/d", WB_FT_REG, &n, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "a parent is not a directory");
    ASSERT_EQ(wb_fstree_put(t, "l", WB_FT_SYMLINK, &n, &err), 0);
    n->link = strdup("a/b");
    ASSERT_EQ(wb_fstree_put(t, "abs", WB_FT_SYMLINK, &n, &err), 0);
    n->link = strdup("/a");
    ASSERT_EQ(wb_fstree_put(t, "up", WB_FT_SYMLINK, &n, &err), 0);
    n->link = strdup("../../a");
    ASSERT_EQ(wb_fstree_put(t, "loop", WB_FT_SYMLINK, &n, &err), 0);
    n->link = strdup("loop");
    char *real;
    ASSERT_EQ(wb_fstree_resolve(t, "l/c.txt", WB_RESOLVE_CONTAINED, &n, &real, &err), 0);
    ASSERT_TRUE(n && n->type == WB_FT_REG);
    ASSERT_STR_EQ(real, "a/b/c.txt");
    free(real);
    ASSERT_EQ(wb_fstree_resolve(t, "l", WB_RESOLVE_CONTAINED | WB_RESOLVE_NOFOLLOW, &n, NULL, &err),
              0);
    ASSERT_TRUE(n->type == WB_FT_SYMLINK);
    ASSERT_EQ(wb_fstree_resolve(t, "abs/b", WB_RESOLVE_CONTAINED, &n, NULL, &err), -1);
    ASSERT_EQ(err.code, EXDEV);
    ASSERT_EQ(wb_fstree_resolve(t, "abs/b", WB_RESOLVE_ROOTFS, &n, NULL, &err), 0);
    ASSERT_TRUE(n->type == WB_FT_DIR);
    ASSERT_EQ(wb_fstree_resolve(t, "up/b", WB_RESOLVE_CONTAINED, &n, NULL, &err), -1);
    ASSERT_EQ(err.code, EXDEV);
    ASSERT_EQ(wb_fstree_resolve(t, "up/b", WB_RESOLVE_ROOTFS, &n, NULL, &err), 0);
    ASSERT_EQ(wb_fstree_resolve(t, "loop", WB_RESOLVE_ROOTFS, &n, NULL, &err), -1);
    ASSERT_EQ(err.code, ELOOP);
    /* a missing final component: rc 0, NULL node, its would-be path */
    ASSERT_EQ(wb_fstree_resolve(t, "l/new", WB_RESOLVE_ROOTFS, &n, &real, &err), 0);
    ASSERT_TRUE(n == NULL);
    ASSERT_STR_EQ(real, "a/b/new");
    free(real);
    ASSERT_EQ(wb_fstree_resolve(t, "nope/new", WB_RESOLVE_ROOTFS, &n, NULL, &err), -1);
    ASSERT_EQ(err.code, ENOENT);
    /* replacing a directory by a file drops its subtree */
    ASSERT_EQ(wb_fstree_put(t, "a", WB_FT_REG, &n, &err), 0);
    ASSERT_TRUE(wb_fstree_get(t, "a/b") == NULL);
    ASSERT_EQ(wb_fstree_count(t), 5);
    wb_fstree_remove(t, wb_fstree_get(t, "l"));
    ASSERT_EQ(wb_fstree_count(t), 4);
    wb_fstree_free(t);
}

static void sh(const char *fmt, const char *arg) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, fmt, arg, arg, arg, arg);
    if (system(cmd) != 0) wb_test_fail(__FILE__, __LINE__, "command failed: %s", cmd);
}

TEST(context_walk_ignore_and_open) {
    char dir[] = "/tmp/wb-ctx-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    sh("cd %s && mkdir -p src docs node_modules/x && echo a > src/a.wasm && echo b > docs/b.md && "
       "echo k > docs/keep.txt && echo n > node_modules/x/y && echo r > README.md && "
       "ln -s src/a.wasm link && ln -s /etc/passwd abs && mkfifo fifo && "
       "printf 'docs\\n!docs/keep.txt\\nnode_modules\\n*.md\\n' > .dockerignore",
       dir);
    wb_context *c;
    wb_error err;
    ASSERT_EQ(wb_context_open(dir, NULL, &c, &err), 0);
    ASSERT_TRUE(wb_fstree_get(c->tree, "src/a.wasm") != NULL);
    ASSERT_TRUE(wb_fstree_get(c->tree, "docs/keep.txt") != NULL);
    ASSERT_TRUE(wb_fstree_get(c->tree, "docs/b.md") == NULL);
    ASSERT_TRUE(wb_fstree_get(c->tree, "node_modules") == NULL);
    ASSERT_TRUE(wb_fstree_get(c->tree, "README.md") == NULL);
    ASSERT_TRUE(wb_fstree_get(c->tree, "fifo") == NULL);
    ASSERT_TRUE(wb_fstree_get(c->tree, ".dockerignore") != NULL);
    wb_fsnode *n = wb_fstree_get(c->tree, "link");
    ASSERT_TRUE(n && n->type == WB_FT_SYMLINK);
    ASSERT_STR_EQ(n->link, "src/a.wasm");
    ASSERT_EQ(wb_fstree_resolve(c->tree, "abs", WB_RESOLVE_CONTAINED, &n, NULL, &err), -1);
    n = wb_fstree_get(c->tree, "src/a.wasm");
    int fd;
    ASSERT_EQ(wb_context_open_file(c, "src/a.wasm", n, &fd, &err), 0);
    char buf[8] = {0};
    ASSERT_EQ(read(fd, buf, sizeof buf), 2);
    ASSERT_STR_EQ(buf, "a\n");
    close(fd);
    /* the context changes under the build: a directory becomes a symlink to outside */
    sh("cd %s && mv src src.old && ln -s /etc src", dir);
    ASSERT_EQ(wb_context_open_file(c, "src/a.wasm", n, &fd, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "changed during the build");
    /* a file replaced by another */
    sh("cd %s && rm src && mv src.old src && echo other > src/new && mv src/new src/a.wasm", dir);
    ASSERT_EQ(wb_context_open_file(c, "src/a.wasm", n, &fd, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "changed during the build");
    wb_context_free(c);
    ASSERT_EQ(wb_context_open("/nonexistent/ctx", NULL, &c, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "unable to prepare context");
    wb_remove_tree(dir, NULL);
}

TEST(tartree_read_fetch) {
    char dir[] = "/tmp/wb-tt-XXXXXX";
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    sh("cd %s && mkdir -p in/d && echo hello > in/d/f && ln in/d/f in/d/h && ln -s f in/d/s && "
       "chmod 0751 in/d/f && tar -C in -czf a.tgz d && "
       "python3 -c \"import tarfile,io\n"
       "t=tarfile.open('evil.tar','w')\n"
       "i=tarfile.TarInfo('../x'); i.size=1; t.addfile(i, io.BytesIO(b'x'))\n"
       "t.close()\n"
       "t=tarfile.open('wh.tar','w')\n"
       "i=tarfile.TarInfo('d/.wh.f'); t.addfile(i)\n"
       "t.close()\"",
       dir);
    char path[256];
    snprintf(path, sizeof path, "%s/a.tgz", dir);
    int fd = open(path, O_RDONLY);
    ASSERT_TRUE(wb_tartree_is_archive(fd));
    wb_fstree *t = wb_fstree_new();
    wb_error err;
    ASSERT_EQ(wb_tartree_read(fd, 0, WB_TARTREE_ARCHIVE, NULL, t, &err), 0);
    wb_fsnode *f = wb_fstree_get(t, "d/f"), *h = wb_fstree_get(t, "d/h"),
              *s = wb_fstree_get(t, "d/s");
    ASSERT_TRUE(f && h && s);
    ASSERT_EQ(f->perm, 0751);
    ASSERT_EQ(f->size, 6);
    ASSERT_EQ(h->type, WB_FT_REG);
    ASSERT_EQ(h->entry, f->entry);
    ASSERT_EQ(s->type, WB_FT_SYMLINK);
    ASSERT_STR_EQ(s->link, "f");
    int out = open(dir, O_RDONLY | O_DIRECTORY);
    ASSERT_EQ(wb_tartree_fetch(fd, &f->entry, 1, out, &err), 0);
    char fetched[300];
    snprintf(fetched, sizeof fetched, "%s/%llu", dir, (unsigned long long)f->entry);
    uint8_t *data;
    size_t len;
    ASSERT_EQ(wb_read_file(fetched, 100, &data, &len, &err), 0);
    ASSERT_STR_EQ((char *)data, "hello\n");
    free(data);
    close(fd);
    /* layers: a whiteout removes what a lower layer holds; archives refuse whiteouts */
    snprintf(path, sizeof path, "%s/wh.tar", dir);
    fd = open(path, O_RDONLY);
    ASSERT_EQ(wb_tartree_read(fd, 1, WB_TARTREE_LAYER, NULL, t, &err), 0);
    ASSERT_TRUE(wb_fstree_get(t, "d/f") == NULL);
    ASSERT_TRUE(wb_fstree_get(t, "d/h") != NULL);
    ASSERT_EQ(wb_tartree_read(fd, 1, WB_TARTREE_ARCHIVE, NULL, t, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "whiteout");
    close(fd);
    snprintf(path, sizeof path, "%s/evil.tar", dir);
    fd = open(path, O_RDONLY);
    ASSERT_EQ(wb_tartree_read(fd, 0, WB_TARTREE_ARCHIVE, NULL, t, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "leads outside");
    close(fd);
    /* a size cap */
    snprintf(path, sizeof path, "%s/a.tgz", dir);
    fd = open(path, O_RDONLY);
    wb_tartree_limits lim = {.max_bytes = 3};
    ASSERT_EQ(wb_tartree_read(fd, 0, WB_TARTREE_ARCHIVE, &lim, t, &err), -1);
    ASSERT_STR_CONTAINS(err.msg, "limit");
    close(fd);
    snprintf(path, sizeof path, "%s/in/d/f", dir);
    fd = open(path, O_RDONLY);
    ASSERT_TRUE(!wb_tartree_is_archive(fd));
    close(fd);
    close(out);
    wb_fstree_free(t);
    wb_remove_tree(dir, NULL);
}
