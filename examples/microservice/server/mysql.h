/* mysql: a small MariaDB/MySQL client over the text protocol: handshake v10,
 * mysql_native_password (with the server's auth switch request), COM_QUERY with the parameters
 * escaped into the statement, text result sets with and without DEPRECATE_EOF, OK and ERR
 * packets; and a pool of a few connections that drops broken ones and retries a statement once
 * on a fresh connection (after the database restarted, say). No TLS, no compression. */
#ifndef MS_MYSQL_H
#define MS_MYSQL_H

#include <stddef.h>
#include <stdint.h>

#include "base.h"

/* ms_error.kind after a failure */
enum {
    DB_ERR_SERVER = 1,  /* the server refused the statement (ERR packet; code = its number) */
    DB_ERR_CONNECT = 2, /* no connection: name, connect, handshake or authentication */
    DB_ERR_IO = 3,      /* the connection broke or the server's reply made no sense */
};

#define DB_POOL_MAX      5
#define DB_IO_TIMEOUT_MS 30000
#define DB_IDLE_CHECK_MS 1000        /* an idle connection older than this is checked before use */
#define DB_RESULT_MAX    (64u << 20) /* bytes a result set may hold */

typedef struct db_config {
    char host[256];
    int port;
    char user[128];
    char password[256];
    char database[128];
} db_config;

/* Fills cfg from mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE (user and password
 * percent-decoded; port 3306 by default; a database is required, as the original demands).
 * 0, or -1 with err set. */
int db_config_from_url(db_config *cfg, const char *url, ms_error *err);

/* A statement parameter: a `?` in the statement text becomes its SQL literal. */
typedef struct db_param {
    enum { DB_NULL, DB_INT, DB_FLOAT, DB_STRING } type;
    int64_t i;
    float f;
    const char *s; /* DB_STRING: len bytes, may hold NULs */
    size_t len;
} db_param;

/* A text result set: rows × columns fields, copied out of the protocol. */
typedef struct db_field {
    size_t offset, len; /* into storage */
    int is_null;
} db_field;

typedef struct db_result {
    unsigned columns;
    size_t rows;
    db_field *fields; /* rows * columns, row-major */
    size_t fields_cap;
    buf storage; /* the field bytes, each followed by a NUL */
    uint64_t affected_rows;
} db_result;

void db_result_init(db_result *r);
void db_result_release(db_result *r);
/* The bytes of one field (NUL-terminated), or NULL for SQL NULL. */
const char *db_result_text(const db_result *r, size_t row, unsigned column, size_t *len);

typedef struct db_conn db_conn;

/* Connections to one server; single-threaded, so at most one is in use at a time, but the
 * idle ones are kept for the next statements. */
typedef struct db_pool {
    db_config cfg;
    db_conn *idle[DB_POOL_MAX];
    int n_idle, n_open;
} db_pool;

void db_pool_init(db_pool *pool, const db_config *cfg);
/* Closes every connection (sending COM_QUIT). */
void db_pool_release(db_pool *pool);
/* Runs one statement: `sql` with its `?`s replaced by params[0..nparams) (escaped for the
 * connection's sql_mode). res (initialised by the caller, emptied here) receives the rows or
 * the affected-row count. A connection that turns out broken before the reply began is
 * replaced and the statement sent once more. 0, or -1 with err (kind DB_ERR_*). */
int db_pool_exec(db_pool *pool, const char *sql, const db_param *params, size_t nparams,
                 db_result *res, ms_error *err);

/* mysql_native_password's answer to a 20-byte seed: SHA1(pw) XOR SHA1(seed + SHA1(SHA1(pw))). */
void db_native_password(const char *password, const uint8_t seed[20], uint8_t out[20]);
/* Appends s[0..len) as a quoted SQL string literal; no_backslash_escapes follows the server
 * status flag of that name (then only quotes are doubled). */
void db_quote_string(buf *b, const char *s, size_t len, int no_backslash_escapes);

#endif
