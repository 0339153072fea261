/* orders: the routes (see orders.h). Replies follow the original byte for byte: no trailing
 * newline, no Content-Type, CORS headers on the database routes only. Where the original
 * crashed (a bad body) or dropped the connection (an SQL error), this one answers 400, or 500
 * (the server refused the statement) or 503 (no database), with a line of text. */
#include "orders.h"

#include <stdlib.h>
#include <string.h>

#include "f32.h"
#include "json.h"

#define STATUS_TRUE   "{\"status\":true}"
#define ORDER_COLUMNS "order_id, product_id, quantity, amount, shipping, tax, shipping_address"

/* The database routes, which answer OPTIONS with the CORS headers. */
static const char *const cors_routes[] = {"/init",         "/create_order", "/create_orders",
                                          "/update_order", "/delete_order", "/orders"};

static void reply_text(http_response *res, int status, const char *text) {
    res->status = status;
    buf_reset(&res->body);
    buf_adds(&res->body, text);
}

static void reply_db_error(http_response *res, const http_request *req, const ms_error *err) {
    ms_log("%s %s: %s", req->method, req->path, err->msg);
    res->status = err->kind == DB_ERR_SERVER ? 500 : 503;
    buf_reset(&res->body);
    buf_printf(&res->body, "database error: %s\n", err->msg);
}

static void reply_bad_body(http_response *res, const http_request *req, const ms_error *err) {
    ms_log("%s %s: a bad request body: %s", req->method, req->path, err->msg);
    res->status = 400;
    buf_reset(&res->body);
    buf_printf(&res->body, "invalid request body: %s\n", err->msg);
}

/* The seven values of an order as statement parameters, in ORDER_COLUMNS order. */
static void order_params(const order *o, db_param p[7]) {
    memset(p, 0, 7 * sizeof *p);
    p[0].type = p[1].type = p[2].type = DB_INT;
    p[0].i = o->order_id;
    p[1].i = o->product_id;
    p[2].i = o->quantity;
    p[3].type = p[4].type = p[5].type = DB_FLOAT;
    p[3].f = o->amount;
    p[4].f = o->shipping;
    p[5].f = o->tax;
    p[6].type = DB_STRING;
    p[6].s = o->shipping_address;
    p[6].len = o->address_len;
}

static void route_init(order_service *svc, const http_request *req, http_response *res) {
    db_result r;
    db_result_init(&r);
    ms_error err = {0};
    if (db_pool_exec(&svc->pool, "DROP TABLE IF EXISTS orders;", NULL, 0, &r, &err) < 0 ||
        db_pool_exec(&svc->pool,
                     "CREATE TABLE orders (order_id INT, product_id INT, quantity INT, amount "
                     "FLOAT, shipping FLOAT, tax FLOAT, shipping_address VARCHAR(256));",
                     NULL, 0, &r, &err) < 0)
        reply_db_error(res, req, &err);
    else
        reply_text(res, 200, STATUS_TRUE);
    db_result_release(&r);
}

/* INSERT of one or more orders: one statement with a row per order (the original sends them
 * one by one; one statement is one round trip, and all or nothing). */
static void insert_orders(order_service *svc, const http_request *req, http_response *res,
                          const order *list, size_t count) {
    if (count == 0) {
        reply_text(res, 200, STATUS_TRUE);
        return;
    }
    buf sql;
    buf_init(&sql);
    buf_adds(&sql, "INSERT INTO orders (" ORDER_COLUMNS ") VALUES ");
    for (size_t i = 0; i < count; i++)
        buf_adds(&sql, i ? ",(?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?)");
    db_param *params = calloc(count * 7, sizeof *params);
    ms_error err = {0};
    if (sql.oom || !params) {
        reply_text(res, 500, "out of memory\n");
    } else {
        for (size_t i = 0; i < count; i++) order_params(&list[i], params + 7 * i);
        db_result r;
        db_result_init(&r);
        if (db_pool_exec(&svc->pool, sql.data, params, count * 7, &r, &err) < 0)
            reply_db_error(res, req, &err);
        else
            reply_text(res, 200, STATUS_TRUE);
        db_result_release(&r);
    }
    free(params);
    buf_release(&sql);
}

static void route_create_order(order_service *svc, const http_request *req, http_response *res) {
    order o;
    ms_error err = {0};
    if (json_parse_order(req->body, req->body_len, &o, &err) < 0) {
        reply_bad_body(res, req, &err);
        return;
    }
    insert_orders(svc, req, res, &o, 1);
    order_release(&o);
}

static void route_create_orders(order_service *svc, const http_request *req, http_response *res) {
    order *list;
    size_t count;
    ms_error err = {0};
    if (json_parse_orders(req->body, req->body_len, &list, &count, &err) < 0) {
        reply_bad_body(res, req, &err);
        return;
    }
    insert_orders(svc, req, res, list, count);
    orders_free(list, count);
}

static void route_update_order(order_service *svc, const http_request *req, http_response *res) {
    order o;
    ms_error err = {0};
    if (json_parse_order(req->body, req->body_len, &o, &err) < 0) {
        reply_bad_body(res, req, &err);
        return;
    }
    db_param p[7], q[7];
    order_params(&o, p);
    /* SET product_id .. shipping_address, WHERE order_id */
    memcpy(q, p + 1, 6 * sizeof *p);
    q[6] = p[0];
    db_result r;
    db_result_init(&r);
    if (db_pool_exec(&svc->pool,
                     "UPDATE orders SET product_id=?, quantity=?, amount=?, shipping=?, tax=?, "
                     "shipping_address=? WHERE order_id=?",
                     q, 7, &r, &err) < 0)
        reply_db_error(res, req, &err);
    else
        reply_text(res, 200, STATUS_TRUE);
    db_result_release(&r);
    order_release(&o);
}

/* An INT column's text as an i32. */
static int field_i32(const db_result *r, size_t row, unsigned col, int32_t *out) {
    size_t len;
    const char *s = db_result_text(r, row, col, &len);
    if (!s || len == 0) return -1;
    /* by hand: strtoll is slow in an interpreter */
    size_t i = s[0] == '-';
    int64_t v = 0;
    if (i == len || len - i > 10) return -1;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (s[0] == '-') v = -v;
    if (v < INT32_MIN || v > INT32_MAX) return -1;
    *out = (int32_t)v;
    return 0;
}

/* A DOUBLE column's text as an f32 (the exact value the FLOAT column holds, see route_orders). */
static int field_f32(const db_result *r, size_t row, unsigned col, float *out) {
    size_t len;
    const char *s = db_result_text(r, row, col, &len);
    if (!s || len == 0) return -1;
    return f32_parse(s, len, out) == 0 ? 0 : -1;
}

static void route_orders(order_service *svc, const http_request *req, http_response *res) {
    /* The original's `SELECT * FROM orders` goes through the binary protocol, which carries each
     * FLOAT as its 4 bytes. The text protocol prints a FLOAT with 6 digits (1234567.1 comes back
     * as 1234570), so the floats are asked for as DOUBLEs, which print exactly. */
    db_result r;
    db_result_init(&r);
    ms_error err = {0};
    if (db_pool_exec(&svc->pool,
                     "SELECT order_id, product_id, quantity, CAST(amount AS DOUBLE), "
                     "CAST(shipping AS DOUBLE), CAST(tax AS DOUBLE), shipping_address FROM orders",
                     NULL, 0, &r, &err) < 0) {
        reply_db_error(res, req, &err);
        db_result_release(&r);
        return;
    }
    if (r.columns != 7) {
        ms_fail(&err, "the orders table has %u columns, not 7", r.columns);
        err.kind = DB_ERR_SERVER;
        reply_db_error(res, req, &err);
        db_result_release(&r);
        return;
    }
    buf *b = &res->body;
    buf_reset(b);
    (void)buf_reserve(b, 192 * r.rows + 2); /* about an order's size each: one allocation */
    buf_addc(b, '[');
    for (size_t i = 0; i < r.rows; i++) {
        order o;
        const char *address = db_result_text(&r, i, 6, &o.address_len);
        o.shipping_address = (char *)address;
        if (field_i32(&r, i, 0, &o.order_id) < 0 || field_i32(&r, i, 1, &o.product_id) < 0 ||
            field_i32(&r, i, 2, &o.quantity) < 0 || field_f32(&r, i, 3, &o.amount) < 0 ||
            field_f32(&r, i, 4, &o.shipping) < 0 || field_f32(&r, i, 5, &o.tax) < 0 || !address) {
            ms_fail(&err, "row %zu of the orders table holds a NULL or a value out of range",
                    i + 1);
            err.kind = DB_ERR_SERVER;
            reply_db_error(res, req, &err);
            db_result_release(&r);
            return;
        }
        if (i) buf_addc(b, ',');
        json_write_order(b, &o);
    }
    buf_addc(b, ']');
    res->status = 200;
    db_result_release(&r);
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* application/x-www-form-urlencoded decoding of s[0..len) into out: `+` is a space, %XX a byte,
 * a bad % sequence stays as it is. */
static void form_decode(buf *out, const char *s, size_t len) {
    buf_reset(out);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            buf_addc(out, ' ');
        } else if (s[i] == '%' && i + 2 < len && hex_digit(s[i + 1]) >= 0 &&
                   hex_digit(s[i + 2]) >= 0) {
            buf_addc(out, (char)(hex_digit(s[i + 1]) << 4 | hex_digit(s[i + 2])));
            i += 2;
        } else {
            buf_addc(out, s[i]);
        }
    }
}

static void route_delete_order(order_service *svc, const http_request *req, http_response *res) {
    /* the original binds the query's `id` (the last one) as a string, or NULL without one */
    buf id, key;
    buf_init(&id);
    buf_init(&key);
    int have_id = 0;
    const char *q = req->query;
    while (q && *q) {
        size_t n = strcspn(q, "&");
        const char *eq = memchr(q, '=', n);
        size_t key_len = eq ? (size_t)(eq - q) : n;
        form_decode(&key, q, key_len);
        if (key.len == 2 && memcmp(key.data, "id", 2) == 0) {
            if (eq)
                form_decode(&id, eq + 1, n - key_len - 1);
            else
                buf_reset(&id);
            have_id = 1;
        }
        q += n;
        if (*q == '&') q++;
    }
    db_param p = {
        .type = have_id ? DB_STRING : DB_NULL, .s = id.data ? id.data : "", .len = id.len};
    db_result r;
    db_result_init(&r);
    ms_error err = {0};
    if (id.oom || key.oom)
        reply_text(res, 500, "out of memory\n");
    else if (db_pool_exec(&svc->pool, "DELETE FROM orders WHERE order_id=?", &p, 1, &r, &err) < 0)
        reply_db_error(res, req, &err);
    else
        reply_text(res, 200, STATUS_TRUE);
    db_result_release(&r);
    buf_release(&id);
    buf_release(&key);
}

void order_service_handle(void *ctx, const http_request *req, http_response *res) {
    order_service *svc = ctx;
    int get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
    const char *path = req->path;
    if (get && strcmp(path, "/") == 0) {
        reply_text(res, 200,
                   "The valid endpoints are /init /create_order /create_orders /update_order "
                   "/orders /delete_order");
        return;
    }
    if (post && strcmp(path, "/echo") == 0) {
        buf_add(&res->body, req->body, req->body_len);
        return;
    }
    int cors_route = 0;
    for (size_t i = 0; i < sizeof cors_routes / sizeof *cors_routes; i++)
        if (strcmp(path, cors_routes[i]) == 0) cors_route = 1;
    if (cors_route && strcmp(req->method, "OPTIONS") == 0) {
        res->cors = 1;
        return;
    }
    res->cors = cors_route;
    if (get && strcmp(path, "/init") == 0)
        route_init(svc, req, res);
    else if (post && strcmp(path, "/create_order") == 0)
        route_create_order(svc, req, res);
    else if (post && strcmp(path, "/create_orders") == 0)
        route_create_orders(svc, req, res);
    else if (post && strcmp(path, "/update_order") == 0)
        route_update_order(svc, req, res);
    else if (get && strcmp(path, "/orders") == 0)
        route_orders(svc, req, res);
    else if (get && strcmp(path, "/delete_order") == 0)
        route_delete_order(svc, req, res);
    else {
        res->cors = 0;
        res->status = 404;
    }
}
