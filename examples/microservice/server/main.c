/* order_demo_service: the order service of the seed's demo (second-state/microservice-rust-mysql)
 * in C. Environment: DATABASE_URL (default mysql://root:pass@127.0.0.1:3306/mysql, as the
 * original), PORT (default 8080). Built for wasm32-wasi with WasmEdge's sockets (`wasmbox run
 * --net order_demo_service.wasm`, or as a container) and natively; see the Makefile. */
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "http.h"
#include "mysql.h"
#include "net.h"
#include "orders.h"

#define DEFAULT_DATABASE_URL "mysql://root:pass@127.0.0.1:3306/mysql"

int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    ms_error err = {0};
    const char *url = getenv("DATABASE_URL");
    if (!url || !*url) url = DEFAULT_DATABASE_URL;
    db_config cfg;
    if (db_config_from_url(&cfg, url, &err) < 0) {
        ms_log("%s", err.msg);
        return 2;
    }
    int port = 8080;
    const char *port_text = getenv("PORT");
    if (port_text && *port_text) {
        char *end;
        long p = strtol(port_text, &end, 10);
        if (*end || p < 0 || p > 65535) {
            ms_log("PORT must be a port number, not `%s`", port_text);
            return 2;
        }
        port = (int)p;
    }
    int lfd = net_listen(port, &err);
    if (lfd < 0) {
        ms_log("%s", err.msg);
        return 1;
    }
    int bound = net_local_port(lfd);
    ms_log("listening on port %d; database `%s` at %s:%d as `%s`", bound > 0 ? bound : port,
           cfg.database, cfg.host, cfg.port, cfg.user);
    order_service svc;
    db_pool_init(&svc.pool, &cfg);
    int r = http_serve(lfd, order_service_handle, &svc, &err);
    db_pool_release(&svc.pool);
    if (r < 0) ms_log("%s", err.msg);
    return 1;
}
