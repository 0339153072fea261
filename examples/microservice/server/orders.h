/* orders: the original service's routes over HTTP and MariaDB: `/`, `/echo`, `/init`,
 * `/create_order`, `/create_orders`, `/update_order`, `/orders`, `/delete_order?id=N`, the CORS
 * answers to OPTIONS, 404 for the rest. */
#ifndef MS_ORDERS_H
#define MS_ORDERS_H

#include "http.h"
#include "mysql.h"

typedef struct order_service {
    db_pool pool;
} order_service;

/* The http_handler; ctx is an order_service. */
void order_service_handle(void *ctx, const http_request *req, http_response *res);

#endif
