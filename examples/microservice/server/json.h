/* json: the service's JSON: a strict parser for Order objects and arrays of them (RFC 8259, with
 * the field rules of the original's serde types: every field required, none twice, unknown
 * fields skipped) and the writer, which prints floats as serde_json prints an f32. */
#ifndef MS_JSON_H
#define MS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "base.h"

/* The original's Order. shipping_address is owned by the order: NUL-terminated, address_len
 * bytes long (a JSON string may hold NULs). */
typedef struct order {
    int32_t order_id, product_id, quantity;
    float amount, shipping, tax;
    char *shipping_address;
    size_t address_len;
} order;

/* The deepest nesting an unknown field's value may have (serde_json's limit). */
#define JSON_MAX_DEPTH 128

void order_release(order *o);
/* Frees an array from json_parse_orders and every order in it. */
void orders_free(order *list, size_t count);

/* One Order from the whole of s[0..len): 0, or -1 with a message in err. On success the caller
 * owns *out (order_release). */
int json_parse_order(const char *s, size_t len, order *out, ms_error *err);
/* An array of Orders: 0 with *out (caller frees with orders_free) and *count, or -1. */
int json_parse_orders(const char *s, size_t len, order **out, size_t *count, ms_error *err);

/* f as serde_json prints an f32: the shortest decimal that reads back as f, with ".0" when it is
 * integral ("56.0", "2.5", "1e-7", "3.4028235e38"); null when not finite. */
void json_write_f32(buf *b, float f);
/* s[0..len) as a JSON string, escaped as serde_json does. */
void json_write_string(buf *b, const char *s, size_t len);
/* {"order_id":…,"shipping_address":"…"} with the fields in the original's order. */
void json_write_order(buf *b, const order *o);

#endif
