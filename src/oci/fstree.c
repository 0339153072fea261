/* In-memory file trees, path cleaning and Docker's patterns (see fstree.h). Children are kept
 * sorted, so lookups are binary searches and walks come out in a stable order (layers built from
 * a tree are reproducible). Patterns are matched with a memoised matcher over (pattern token,
 * path position), so no pattern can take exponential time. */
#include "oci/fstree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

struct wb_fstree {
    wb_fsnode root;
    size_t count;
};

static void node_release(wb_fsnode *n) {
    for (size_t i = 0; i < n->nchildren; i++) {
        node_release(n->children[i]);
        free(n->children[i]);
    }
    free(n->children);
    free(n->name);
    free(n->link);
    n->children = NULL;
    n->nchildren = n->cap = 0;
}

wb_fstree *wb_fstree_new(void) {
    wb_fstree *t = wb_calloc(1, sizeof *t);
    t->root.name = wb_strdup("");
    t->root.type = WB_FT_DIR;
    t->root.perm = 0755;
    t->root.layer = -1;
    return t;
}

void wb_fstree_free(wb_fstree *t) {
    if (!t) return;
    node_release(&t->root);
    free(t);
}

wb_fsnode *wb_fstree_root(wb_fstree *t) {
    return &t->root;
}
size_t wb_fstree_count(const wb_fstree *t) {
    return t->count;
}

/* Index of the child named (name, len), or where it would go (*found false). */
static size_t child_index(const wb_fsnode *dir, const char *name, size_t len, bool *found) {
    size_t lo = 0, hi = dir->nchildren;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *cn = dir->children[mid]->name;
        int c = strncmp(cn, name, len);
        if (c == 0) c = cn[len] ? 1 : 0;
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static wb_fsnode *child_find(const wb_fsnode *dir, const char *name, size_t len) {
    bool found;
    size_t i = child_index(dir, name, len, &found);
    return found ? dir->children[i] : NULL;
}

static size_t subtree_size(const wb_fsnode *n) {
    size_t c = 1;
    for (size_t i = 0; i < n->nchildren; i++) c += subtree_size(n->children[i]);
    return c;
}

void wb_fstree_remove(wb_fstree *t, wb_fsnode *n) {
    if (n == &t->root) {
        t->count = 0;
        for (size_t i = 0; i < n->nchildren; i++) {
            node_release(n->children[i]);
            free(n->children[i]);
        }
        n->nchildren = 0;
        return;
    }
    wb_fsnode *p = n->parent;
    bool found;
    size_t i = child_index(p, n->name, strlen(n->name), &found);
    if (!found) return;
    t->count -= subtree_size(n);
    memmove(&p->children[i], &p->children[i + 1], (p->nchildren - i - 1) * sizeof *p->children);
    p->nchildren--;
    node_release(n);
    free(n);
}

static wb_fsnode *child_add(wb_fsnode *dir, const char *name, size_t len, size_t at) {
    WB_VEC_RESERVE(dir->children, dir->cap, dir->nchildren + 1);
    memmove(&dir->children[at + 1], &dir->children[at],
            (dir->nchildren - at) * sizeof *dir->children);
    wb_fsnode *n = wb_calloc(1, sizeof *n);
    n->name = wb_strndup(name, len);
    n->parent = dir;
    n->layer = -1;
    dir->children[at] = n;
    dir->nchildren++;
    return n;
}

wb_fsnode *wb_fstree_get(wb_fstree *t, const char *path) {
    wb_fsnode *cur = &t->root;
    const char *p = path;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len) {
            if (cur->type != WB_FT_DIR) return NULL;
            cur = child_find(cur, p, len);
            if (!cur) return NULL;
        }
        if (!e) break;
        p = e + 1;
    }
    return cur;
}

char *wb_fsnode_path(const wb_fsnode *n) {
    /* "/a/b" built from the end, then the leading slash dropped */
    size_t len = 0;
    for (const wb_fsnode *c = n; c->parent; c = c->parent) len += strlen(c->name) + 1;
    char *s = wb_malloc(len + 1);
    s[len] = '\0';
    size_t pos = len;
    for (const wb_fsnode *c = n; c->parent; c = c->parent) {
        size_t l = strlen(c->name);
        pos -= l;
        memcpy(s + pos, c->name, l);
        s[--pos] = '/';
    }
    if (len) memmove(s, s + 1, len);
    return s;
}

int wb_fstree_put(wb_fstree *t, const char *path, wb_ftype type, wb_fsnode **out, wb_error *err) {
    wb_fsnode *cur = &t->root;
    const char *p = path;
    *out = NULL;
    if (!*p) {
        if (type != WB_FT_DIR) return wb_error_set(err, EINVAL, "the root can only be a directory");
        *out = cur;
        return 0;
    }
    for (;;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        bool last = !e || !e[1];
        if (len == 0) {
            if (!e) break;
            p = e + 1;
            continue;
        }
        if (cur->type != WB_FT_DIR)
            return wb_error_set(err, ENOTDIR, "`%s`: a parent is not a directory (%s)", path,
                                cur->type == WB_FT_SYMLINK ? "a symlink" : "a file");
        bool found;
        size_t i = child_index(cur, p, len, &found);
        wb_fsnode *n = found ? cur->children[i] : NULL;
        if (last) {
            if (n && n->type == WB_FT_DIR && type == WB_FT_DIR) {
                *out = n;
                return 0;
            }
            if (n) {
                t->count -= subtree_size(n) - 1;
                node_release(n);
                wb_fsnode *parent = n->parent;
                memset(n, 0, sizeof *n);
                n->name = wb_strndup(p, len);
                n->parent = parent;
                n->layer = -1;
            } else {
                if (t->count >= WB_FSTREE_MAX_NODES)
                    return wb_error_set(err, EFBIG, "more than %d files", WB_FSTREE_MAX_NODES);
                n = child_add(cur, p, len, i);
                t->count++;
            }
            n->type = type;
            n->perm = type == WB_FT_DIR ? 0755 : 0644;
            *out = n;
            return 0;
        }
        if (!n) {
            if (t->count >= WB_FSTREE_MAX_NODES)
                return wb_error_set(err, EFBIG, "more than %d files", WB_FSTREE_MAX_NODES);
            n = child_add(cur, p, len, i);
            t->count++;
            n->type = WB_FT_DIR;
            n->perm = 0755;
        }
        cur = n;
        p = e + 1;
    }
    *out = cur;
    return 0;
}

int wb_fstree_resolve(wb_fstree *t, const char *path, unsigned flags, wb_fsnode **out,
                      char **real_out, wb_error *err) {
    bool contained = flags & WB_RESOLVE_CONTAINED;
    *out = NULL;
    if (real_out) *real_out = NULL;
    size_t plen = strlen(path);
    if (plen >= WB_FSTREE_MAX_PATH)
        return wb_error_set(err, ENAMETOOLONG, "path too long: %.100s...", path);
    /* `rest` holds what is left to walk; symlink targets are spliced in front of it */
    char *rest = wb_strdup(path);
    char *missing = NULL; /* final component that does not exist */
    wb_fsnode *cur = &t->root;
    int links = 0, rc = 0;
    size_t pos = 0;
    for (;;) {
        while (rest[pos] == '/') pos++;
        if (!rest[pos]) break;
        char *comp = rest + pos;
        char *e = strchr(comp, '/');
        size_t len = e ? (size_t)(e - comp) : strlen(comp);
        size_t next = e ? (size_t)(e - rest) + 1 : pos + len;
        bool last = true;
        for (size_t k = next; rest[k]; k++)
            if (rest[k] != '/') last = false;
        if (len == 1 && comp[0] == '.') {
            pos = next;
            continue;
        }
        if (len == 2 && comp[0] == '.' && comp[1] == '.') {
            if (cur == &t->root) {
                if (contained) {
                    rc = wb_error_set(err, EXDEV, "`%s` leads outside", path);
                    goto out;
                }
            } else {
                cur = cur->parent;
            }
            pos = next;
            continue;
        }
        if (cur->type != WB_FT_DIR) {
            rc = wb_error_set(err, ENOTDIR, "`%s`: not a directory", path);
            goto out;
        }
        wb_fsnode *child = child_find(cur, comp, len);
        if (!child) {
            if (!last) {
                rc = wb_error_set(err, ENOENT, "`%s`: no such file or directory", path);
                goto out;
            }
            missing = wb_strndup(comp, len);
            break;
        }
        bool follow = !last || !(flags & WB_RESOLVE_NOFOLLOW);
        if (child->type == WB_FT_SYMLINK && follow) {
            if (++links > 40) {
                rc = wb_error_set(err, ELOOP, "`%s`: too many levels of symbolic links", path);
                goto out;
            }
            const char *target = child->link ? child->link : "";
            if (target[0] == '/') {
                if (contained) {
                    rc = wb_error_set(err, EXDEV, "`%s` is a symlink to an absolute path (%s)",
                                      path, target);
                    goto out;
                }
                cur = &t->root;
            }
            size_t tl = strlen(target), rl = strlen(rest + next);
            if (tl + rl + 2 >= WB_FSTREE_MAX_PATH * 4) {
                rc = wb_error_set(err, ENAMETOOLONG, "`%s`: path too long", path);
                goto out;
            }
            char *nr = wb_malloc(tl + rl + 2);
            memcpy(nr, target, tl);
            nr[tl] = '/';
            memcpy(nr + tl + 1, rest + next, rl + 1);
            free(rest);
            rest = nr;
            pos = 0;
            continue;
        }
        cur = child;
        pos = next;
    }
    if (real_out) {
        char *base = wb_fsnode_path(cur);
        if (missing) {
            size_t bl = strlen(base);
            char *r = wb_malloc(bl + strlen(missing) + 2);
            sprintf(r, "%s%s%s", base, bl ? "/" : "", missing);
            free(base);
            base = r;
        }
        *real_out = base;
    }
    *out = missing ? NULL : cur;
    if (missing && cur->type != WB_FT_DIR)
        rc = wb_error_set(err, ENOTDIR, "`%s`: not a directory", path);
out:
    free(rest);
    free(missing);
    return rc;
}

/* ---- paths ---- */

int wb_path_clean(const char *in, bool clamp, char **out) {
    size_t n = strlen(in);
    char *buf = wb_malloc(n + 1);
    size_t len = 0;
    const char *p = in;
    *out = NULL;
    while (*p) {
        while (*p == '/') p++;
        if (!*p) break;
        const char *e = strchr(p, '/');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == 1 && p[0] == '.') {
            /* skip */
        } else if (l == 2 && p[0] == '.' && p[1] == '.') {
            if (len == 0) {
                if (!clamp) {
                    free(buf);
                    return -1;
                }
            } else {
                while (len && buf[len - 1] != '/') len--;
                if (len) len--;
            }
        } else {
            if (len) buf[len++] = '/';
            memcpy(buf + len, p, l);
            len += l;
        }
        p += l;
    }
    buf[len] = '\0';
    *out = buf;
    return 0;
}

/* ---- patterns ---- */

enum { TOK_LIT, TOK_ANY, TOK_STAR, TOK_CLASS, TOK_DSTAR, TOK_DSTAR_END };

typedef struct token {
    int kind;
    char c;          /* TOK_LIT */
    const char *cls; /* TOK_CLASS: after '[' */
    size_t cls_len;  /* up to the closing ']' */
} token;

/* End of a class starting after '[' (index of ']'), or 0 when unclosed. */
static size_t class_end(const char *p) {
    size_t i = 0;
    if (p[i] == '^') i++;
    if (p[i] == ']') i++; /* a leading ']' is literal */
    for (; p[i]; i++) {
        if (p[i] == '\\' && p[i + 1])
            i++;
        else if (p[i] == ']')
            return i;
    }
    return 0;
}

static int tokenize(const char *pat, token **out, size_t *n) {
    size_t len = strlen(pat);
    token *t = wb_calloc(len + 1, sizeof *t);
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        char c = pat[i];
        if (c == '*') {
            if (pat[i + 1] == '*') {
                i++;
                if (pat[i + 1] == '/') i++;
                t[k++].kind = pat[i + 1] ? TOK_DSTAR : TOK_DSTAR_END;
            } else {
                t[k++].kind = TOK_STAR;
            }
        } else if (c == '?') {
            t[k++].kind = TOK_ANY;
        } else if (c == '[') {
            size_t e = class_end(pat + i + 1);
            if (!e) {
                free(t);
                return -1;
            }
            t[k].kind = TOK_CLASS;
            t[k].cls = pat + i + 1;
            t[k].cls_len = e;
            k++;
            i += e + 1;
        } else if (c == '\\' && pat[i + 1]) {
            t[k].kind = TOK_LIT;
            t[k++].c = pat[++i];
        } else {
            t[k].kind = TOK_LIT;
            t[k++].c = c;
        }
    }
    *out = t;
    *n = k;
    return 0;
}

static bool class_match(const token *tk, char c) {
    const char *p = tk->cls;
    size_t n = tk->cls_len, i = 0;
    bool neg = false, hit = false;
    if (p[0] == '^') {
        neg = true;
        i++;
    }
    bool first = true;
    while (i < n) {
        char lo = p[i];
        if (lo == ']' && !first) break;
        first = false;
        if (lo == '\\' && i + 1 < n) lo = p[++i];
        i++;
        char hi = lo;
        if (i + 1 < n && p[i] == '-') {
            hi = p[i + 1];
            if (hi == '\\' && i + 2 < n) {
                hi = p[i + 2];
                i++;
            }
            i += 2;
        }
        if ((unsigned char)c >= (unsigned char)lo && (unsigned char)c <= (unsigned char)hi)
            hit = true;
    }
    return hit != neg;
}

typedef struct matcher {
    const token *t;
    size_t nt;
    const char *s;
    size_t ns;
    uint8_t *memo; /* 0 unknown, 1 false, 2 true */
} matcher;

static bool match_at(matcher *m, size_t ti, size_t si) {
    uint8_t *slot = &m->memo[ti * (m->ns + 1) + si];
    if (*slot) return *slot == 2;
    bool r = false;
    if (ti == m->nt) {
        r = si == m->ns;
    } else {
        const token *tk = &m->t[ti];
        char c = si < m->ns ? m->s[si] : '\0';
        switch (tk->kind) {
        case TOK_LIT: r = si < m->ns && c == tk->c && match_at(m, ti + 1, si + 1); break;
        case TOK_ANY: r = si < m->ns && c != '/' && match_at(m, ti + 1, si + 1); break;
        case TOK_CLASS:
            r = si < m->ns && c != '/' && class_match(tk, c) && match_at(m, ti + 1, si + 1);
            break;
        case TOK_STAR:
            r = match_at(m, ti + 1, si) || (si < m->ns && c != '/' && match_at(m, ti, si + 1));
            break;
        case TOK_DSTAR_END: r = true; break;
        case TOK_DSTAR: /* nothing, or anything that ends with a slash */
            r = match_at(m, ti + 1, si);
            for (size_t k = si; !r && k < m->ns; k++)
                if (m->s[k] == '/') r = match_at(m, ti + 1, k + 1);
            break;
        }
    }
    *slot = r ? 2 : 1;
    return r;
}

bool wb_pattern_valid(const char *pattern) {
    token *t;
    size_t n;
    if (tokenize(pattern, &t, &n) < 0) return false;
    free(t);
    return true;
}

bool wb_pattern_match(const char *pattern, const char *path) {
    token *t;
    size_t nt;
    if (tokenize(pattern, &t, &nt) < 0) return false;
    size_t ns = strlen(path);
    if (ns > WB_FSTREE_MAX_PATH || nt > WB_FSTREE_MAX_PATH) {
        free(t);
        return false;
    }
    matcher m = {t, nt, path, ns, wb_calloc((nt + 1) * (ns + 1), 1)};
    bool r = match_at(&m, 0, 0);
    free(m.memo);
    free(t);
    return r;
}

bool wb_pattern_has_magic(const char *pattern) {
    for (const char *p = pattern; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (*p == '*' || *p == '?' || *p == '[') return true;
    }
    return false;
}

/* ---- .dockerignore ---- */

typedef struct ignore_pattern {
    char *pattern;
    bool exception;
} ignore_pattern;

struct wb_ignore {
    ignore_pattern *p;
    size_t n;
    bool exceptions;
};

int wb_ignore_parse(const char *text, size_t len, wb_ignore **out, wb_error *err) {
    wb_ignore *ig = wb_calloc(1, sizeof *ig);
    size_t cap = 0;
    const char *p = text, *end = text + len;
    int lineno = 0;
    *out = NULL;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        lineno++;
        /* trim blanks (and a CR) on both sides */
        const char *s = p, *e = le;
        while (s < e && (*s == ' ' || *s == '\t' || *s == '\r')) s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
        p = nl ? nl + 1 : end;
        if (s == e || *s == '#') continue;
        bool exc = false;
        if (*s == '!') {
            exc = true;
            s++;
            while (s < e && (*s == ' ' || *s == '\t')) s++;
        }
        char *raw = wb_strndup(s, (size_t)(e - s)), *clean;
        wb_path_clean(raw, true, &clean);
        free(raw);
        if (!*clean) { /* "." or "/": the whole context */
            free(clean);
            clean = wb_strdup(".");
        }
        if (!wb_pattern_valid(clean)) {
            wb_error_set(err, EINVAL, ".dockerignore:%d: syntax error in pattern \"%s\"", lineno,
                         clean);
            free(clean);
            wb_ignore_free(ig);
            return -1;
        }
        WB_VEC_RESERVE(ig->p, cap, ig->n + 1);
        ig->p[ig->n++] = (ignore_pattern){clean, exc};
        if (exc) ig->exceptions = true;
    }
    *out = ig;
    return 0;
}

void wb_ignore_free(wb_ignore *ig) {
    if (!ig) return;
    for (size_t i = 0; i < ig->n; i++) free(ig->p[i].pattern);
    free(ig->p);
    free(ig);
}

bool wb_ignore_has_exceptions(const wb_ignore *ig) {
    return ig && ig->exceptions;
}
size_t wb_ignore_count(const wb_ignore *ig) {
    return ig ? ig->n : 0;
}

static bool pattern_or_parent(const char *pattern, const char *path) {
    if (!strcmp(pattern, ".")) return true;
    if (wb_pattern_match(pattern, path)) return true;
    /* a pattern matching a parent directory matches everything beneath it */
    size_t n = strlen(path);
    char *buf = wb_strdup(path);
    bool r = false;
    for (size_t i = 0; i < n && !r; i++) {
        if (buf[i] != '/') continue;
        buf[i] = '\0';
        r = wb_pattern_match(pattern, buf);
        buf[i] = '/';
    }
    free(buf);
    return r;
}

bool wb_ignore_match(const wb_ignore *ig, const char *path) {
    if (!ig) return false;
    bool matched = false;
    for (size_t i = 0; i < ig->n; i++) {
        const ignore_pattern *ip = &ig->p[i];
        /* an inclusion cannot change an excluded path, nor an exception an included one */
        if (ip->exception != matched) continue;
        if (pattern_or_parent(ip->pattern, path)) matched = !ip->exception;
    }
    return matched;
}
