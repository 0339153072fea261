/* bench/tools/app_handler.c — an application runtime's per-request cost without the network:
 * loads the app in ROOTFS (wws: apps/wws.h, spin: apps/spin.h) and calls its HTTP handler N times
 * with a GET of PATH (routing, passing the request, an instance from the pool run to completion,
 * the answer read, the instance restored). Prints microseconds per request, wall clock and CPU,
 * for a second pass (the first warms the pool). Built and run by bench/apps.sh.
 *   app_handler wws|spin ROOTFS PATH [N] */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/spin.h"
#include "apps/wws.h"

static double seconds(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 4 || (strcmp(argv[1], "wws") && strcmp(argv[1], "spin"))) {
        fprintf(stderr, "usage: app_handler wws|spin ROOTFS PATH [N]\n");
        return 2;
    }
    bool spin = !strcmp(argv[1], "spin");
    wb_wasm_job job;
    memset(&job, 0, sizeof job);
    job.rootfs = argv[2];
    job.stdio[2] = 2;
    job.runtime = spin ? WB_RUNTIME_SPIN : WB_RUNTIME_WWS;
    job.engine = WB_ENGINE_INTERP;
    wb_wws_app *app = NULL;
    wb_spin_rt *rt = NULL;
    wb_error err;
    if ((spin ? wb_spin_load(&job, &rt, &err) : wb_wws_app_load(&job, &app, &err)) < 0) {
        fprintf(stderr, "app_handler: %s\n", err.msg);
        return 1;
    }
    const char *path = argv[3];
    wb_http_header headers[] = {{"host", "127.0.0.1"}, {"user-agent", "bench"}};
    wb_http_request req = {.method = "GET",
                           .target = path,
                           .path = path,
                           .query = "",
                           .host = "127.0.0.1",
                           .minor_version = 1,
                           .headers = headers,
                           .nheaders = 2,
                           .body = (const uint8_t *)"",
                           .body_len = 0,
                           .client_ip = "127.0.0.1"};
    int n = argc > 4 ? atoi(argv[4]) : 10000;
    double wall = 0, cpu = 0;
    for (int pass = 0; pass < 2; pass++) {
        double w0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
        for (int i = 0; i < n; i++) {
            wb_http_response r;
            memset(&r, 0, sizeof r);
            r.status = 200;
            if (spin)
                wb_spin_handle(rt, &req, &r);
            else
                wb_wws_handle(app, &req, &r);
            if (r.status != 200) {
                fprintf(stderr, "app_handler: status %d: %.*s\n", r.status, (int)r.body_len,
                        (const char *)r.body);
                return 1;
            }
            wb_http_response_release(&r);
        }
        wall = (seconds(CLOCK_MONOTONIC) - w0) / n * 1e6;
        cpu = (seconds(CLOCK_PROCESS_CPUTIME_ID) - c0) / n * 1e6;
    }
    printf("%.1f %.1f\n", wall, cpu);
    wb_wws_app_free(app);
    wb_spin_rt_free(rt);
    return 0;
}
