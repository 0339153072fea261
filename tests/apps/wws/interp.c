/* A stand-in for an interpreter shipped in a wws image (an "external runtime" of /.wws.toml):
 * it answers with the source file it is given (its last argument, under /src) and the names of
 * the files beside it, so the test sees the wrapper, the polyfill and the arguments. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    char src[8192];
    size_t n = 0;
    FILE *f = argc > 1 ? fopen(argv[argc - 1], "r") : NULL;
    if (f) {
        n = fread(src, 1, sizeof src - 1, f);
        fclose(f);
    }
    src[n] = 0;
    printf("{\"data\":\"argc=%d src=", argc);
    for (size_t i = 0; i < n; i++) {
        if (src[i] == '\n')
            fputs("\\n", stdout);
        else if (src[i] == '"' || src[i] == '\\')
            printf("\\%c", src[i]);
        else
            putchar(src[i]);
    }
    DIR *d = opendir("/src");
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') printf(" file=%s", e->d_name);
    if (d) closedir(d);
    printf("\",\"status\":200,\"headers\":{},\"kv\":{}}");
    return 0;
}
