/* Issue #12 probe: a WASI command that does what its arguments say, in order:
 *   ls DIR         the names in DIR, sorted, on one line ("a b c")
 *   cat PATH       the file's content
 *   write PATH T   writes T to PATH (created or truncated)
 *   env NAME       NAME=value or NAME unset
 *   cwd            getcwd()
 *   cd-pwd         chdir($PWD), as a program that honours the working directory it is given
 *   spin           loops forever
 * Any failure prints "error: OP PATH: strerror" and exits 2. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fail(const char *op, const char *path) {
    printf("error: %s %s: %s\n", op, path, strerror(errno));
    return 2;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *op = argv[i];
        if (!strcmp(op, "ls") && i + 1 < argc) {
            const char *dir = argv[++i];
            DIR *d = opendir(dir);
            if (!d) return fail("ls", dir);
            char *names[256];
            int n = 0;
            struct dirent *de;
            while ((de = readdir(d)) && n < 256)
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                    names[n++] = strdup(de->d_name);
            closedir(d);
            qsort(names, (size_t)n, sizeof *names, cmp);
            for (int k = 0; k < n; k++) printf("%s%s", k ? " " : "", names[k]);
            printf("\n");
        } else if (!strcmp(op, "cat") && i + 1 < argc) {
            const char *path = argv[++i];
            FILE *f = fopen(path, "r");
            if (!f) return fail("cat", path);
            char buf[512];
            size_t n = fread(buf, 1, sizeof buf, f);
            fclose(f);
            fwrite(buf, 1, n, stdout);
        } else if (!strcmp(op, "write") && i + 2 < argc) {
            const char *path = argv[++i], *text = argv[++i];
            FILE *f = fopen(path, "w");
            if (!f || fputs(text, f) < 0 || fclose(f) != 0) return fail("write", path);
        } else if (!strcmp(op, "env") && i + 1 < argc) {
            const char *v = getenv(argv[++i]);
            if (v)
                printf("%s=%s\n", argv[i], v);
            else
                printf("%s unset\n", argv[i]);
        } else if (!strcmp(op, "cwd")) {
            char buf[512];
            if (!getcwd(buf, sizeof buf)) return fail("getcwd", "");
            printf("%s\n", buf);
        } else if (!strcmp(op, "cd-pwd")) {
            const char *pwd = getenv("PWD");
            if (!pwd || chdir(pwd) != 0) return fail("chdir", pwd ? pwd : "$PWD");
        } else if (!strcmp(op, "spin")) {
            for (volatile unsigned long k = 0;; k++) {
            }
        } else {
            printf("error: unknown operation %s\n", op);
            return 2;
        }
    }
    return 0;
}
