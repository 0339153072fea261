/* bench/tools/http_floor.c — the floor of an HTTP request on this machine: a native C server
 * answering every request on a kept-alive connection with a fixed 15-byte body, a thread per
 * connection, no parsing. bench/wws.sh runs it in a container's network namespace beside the
 * Wasm servers, so that their latency can be read against what any server pays here.
 *   http_floor PORT */
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void *serve(void *arg) {
    int fd = (int)(long)arg;
    static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 15\r\nContent-Type: "
                                "text/plain\r\n\r\nHello from wws!";
    char buf[4096];
    while (recv(fd, buf, sizeof buf, 0) > 0)
        if (send(fd, reply, sizeof reply - 1, MSG_NOSIGNAL) < 0) break;
    close(fd);
    return NULL;
}

int main(int argc, char **argv) {
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(argc > 1 ? atoi(argv[1]) : 0)};
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 128) != 0) {
        perror("http_floor");
        return 1;
    }
    for (;;) {
        int c = accept(s, NULL, NULL);
        pthread_t t;
        if (c >= 0 && pthread_create(&t, NULL, serve, (void *)(long)c) == 0) pthread_detach(t);
    }
}
