/* A WAGI component for the tests (tests/linux/spin.sh): a WASI command that answers CGI-style
 * (headers, a blank line, the body on stdout). What it does depends on PATH_INFO (the part of the
 * path after its route): /env prints its arguments and CGI variables, /echo answers its stdin
 * with status 201, /redirect sends a Location, /noheaders forgets the headers, /file?PATH prints
 * a file of its preopened `files`, /fresh shows a static that must be 1 on every request, /fail
 * exits with status 3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int runs;

static const char *env(const char *name) {
    const char *v = getenv(name);
    return v ? v : "(unset)";
}

int main(int argc, char **argv) {
    const char *info = env("PATH_INFO");
    runs++;
    if (!strcmp(info, "/echo")) {
        char buf[65536];
        size_t n = fread(buf, 1, sizeof buf, stdin);
        printf("Status: 201 Created\nContent-Type: text/plain\n\n");
        fwrite(buf, 1, n, stdout);
    } else if (!strcmp(info, "/redirect")) {
        printf("Location: /wagi/env\n\n");
    } else if (!strcmp(info, "/noheaders")) {
        printf("\njust a body\n"); /* no header at all */
    } else if (!strcmp(info, "/file")) {
        FILE *f = fopen(env("QUERY_STRING"), "r");
        printf("Content-Type: text/plain\n\n");
        if (!f) {
            printf("cannot open %s\n", env("QUERY_STRING"));
            return 0;
        }
        char buf[4096];
        size_t n = fread(buf, 1, sizeof buf, f);
        fwrite(buf, 1, n, stdout);
        fclose(f);
    } else if (!strcmp(info, "/fresh")) {
        printf("Content-Type: text/plain\n\nruns=%d\n", runs);
    } else if (!strcmp(info, "/fail")) {
        return 3;
    } else {
        printf("Content-Type: text/plain\nX-Wagi: yes\n\n");
        for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
        static const char *const names[] = {"REQUEST_METHOD",
                                            "SCRIPT_NAME",
                                            "PATH_INFO",
                                            "QUERY_STRING",
                                            "X_MATCHED_ROUTE",
                                            "X_FULL_URL",
                                            "SERVER_NAME",
                                            "SERVER_PORT",
                                            "SERVER_PROTOCOL",
                                            "HTTP_X_TEST",
                                            "CONTENT_LENGTH",
                                            "GATEWAY_INTERFACE",
                                            "MODE"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            printf("%s=%s\n", names[i], env(names[i]));
    }
    return 0;
}
