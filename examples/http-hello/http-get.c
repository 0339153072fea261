/* http-get: a tiny native HTTP/1.1 client for tests and benchmarks.
 *
 *   http-get HOST PORT PATH [COUNT] [EXPECT]
 *
 * Sends COUNT (default 1) sequential `GET PATH` requests, one connection each (the server closes
 * it), and checks that each response is complete (its Content-Length of body arrived) and, when
 * EXPECT is given, that the body equals EXPECT. COUNT = 1 prints the response body to stdout; more
 * print one line "COUNT requests, F failed, T s, R requests/s". Exit status 0 when none failed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RESPONSE_MAX 65536

static int request(const struct sockaddr_in *to, const char *path, const char *expect,
                   int print_body) {
    static char resp[RESPONSE_MAX + 1];
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)to, sizeof *to) != 0) {
        close(fd);
        return -1;
    }
    char req[1200];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: http-get\r\n\r\n", path);
    for (int done = 0; done < n;) {
        ssize_t w = send(fd, req + done, (size_t)(n - done), MSG_NOSIGNAL);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        done += (int)w;
    }
    size_t have = 0;
    for (;;) {
        ssize_t r = recv(fd, resp + have, RESPONSE_MAX - have, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        have += (size_t)r;
        if (have == RESPONSE_MAX) break;
    }
    close(fd);
    resp[have] = '\0';
    char *body = strstr(resp, "\r\n\r\n");
    const char *cl = strstr(resp, "Content-Length:");
    if (!body || !cl || strncmp(resp, "HTTP/1.", 7) != 0) return -1;
    body += 4;
    size_t want = (size_t)strtoul(cl + 15, NULL, 10);
    if ((size_t)(resp + have - body) != want) return -1;
    if (print_body) {
        printf("%s", body);
        fflush(stdout);
    }
    if (expect && strcmp(body, expect) != 0) return -1;
    return atoi(resp + 9); /* the status code */
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: http-get HOST PORT PATH [COUNT] [EXPECT]\n");
        return 2;
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
        struct hostent *h = gethostbyname(argv[1]);
        if (!h || h->h_addrtype != AF_INET) {
            fprintf(stderr, "http-get: cannot resolve %s\n", argv[1]);
            return 2;
        }
        memcpy(&to.sin_addr, h->h_addr_list[0], 4);
    }
    long count = argc > 4 ? atol(argv[4]) : 1;
    const char *expect = argc > 5 ? argv[5] : NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long failed = 0;
    int status = 0;
    for (long i = 0; i < count; i++) {
        status = request(&to, argv[3], expect, count == 1);
        if (status < 0 || (expect && status != 200)) failed++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (count == 1) {
        fprintf(stderr, "status %d\n", status);
        return status < 0 || (expect && status != 200);
    }
    printf("%ld requests, %ld failed, %.3f s, %.0f requests/s\n", count, failed, secs,
           (double)count / secs);
    return failed != 0;
}
