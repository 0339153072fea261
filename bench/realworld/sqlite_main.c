/* SQLite workload for bench/realworld.sh: an in-memory database built and queried with SQL
 * (inserts in transactions, an index, joins, GROUP BY, ORDER BY, LIKE, updates, deletes).
 * Built natively and for wasm32-wasi from the same amalgamation with SQLITE_OS_OTHER: the VFS
 * below opens no file (the database and temp storage live in memory) and gives deterministic
 * randomness and time, so both builds run the same code and print the same checksum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite3.h"

/* ---- a VFS without files ---- */

static int vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out) {
    (void)vfs, (void)name, (void)f, (void)flags, (void)out;
    return SQLITE_CANTOPEN;
}
static int vfs_delete(sqlite3_vfs *vfs, const char *name, int sync) {
    (void)vfs, (void)name, (void)sync;
    return SQLITE_IOERR_DELETE;
}
static int vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    (void)vfs, (void)name, (void)flags;
    *out = 0;
    return SQLITE_OK;
}
static int vfs_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out) {
    (void)vfs;
    snprintf(out, (size_t)n, "%s", name);
    return SQLITE_OK;
}
static int vfs_randomness(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    for (int i = 0; i < n; i++) out[i] = (char)(i * 131 + 7);
    return n;
}
static int vfs_sleep(sqlite3_vfs *vfs, int us) {
    (void)vfs;
    return us;
}
static int vfs_current_time(sqlite3_vfs *vfs, double *t) {
    (void)vfs;
    *t = 2460000.5;
    return SQLITE_OK;
}
static int vfs_last_error(sqlite3_vfs *vfs, int n, char *buf) {
    (void)vfs, (void)n, (void)buf;
    return 0;
}
static int vfs_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *t) {
    (void)vfs;
    *t = (sqlite3_int64)2460000 * 86400000 + 43200000;
    return SQLITE_OK;
}

static sqlite3_vfs memory_only_vfs = {
    .iVersion = 2,
    .szOsFile = sizeof(sqlite3_file),
    .mxPathname = 512,
    .zName = "bench",
    .xOpen = vfs_open,
    .xDelete = vfs_delete,
    .xAccess = vfs_access,
    .xFullPathname = vfs_full_pathname,
    .xRandomness = vfs_randomness,
    .xSleep = vfs_sleep,
    .xCurrentTime = vfs_current_time,
    .xGetLastError = vfs_last_error,
    .xCurrentTimeInt64 = vfs_current_time64,
};

int sqlite3_os_init(void) {
    return sqlite3_vfs_register(&memory_only_vfs, 1);
}
int sqlite3_os_end(void) {
    return SQLITE_OK;
}

/* ---- the workload ---- */

static uint64_t checksum = 1469598103934665603ull; /* FNV-1a over every result row */
static int verbose;                                /* argv[2] = "-v": print the rows too */

static void fold(const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) checksum = (checksum ^ b[i]) * 1099511628211ull;
}

static int fold_row(void *unused, int ncols, char **vals, char **names) {
    (void)unused, (void)names;
    for (int i = 0; i < ncols; i++) {
        const char *v = vals[i] ? vals[i] : "NULL";
        fold(v, strlen(v) + 1);
        if (verbose) printf("%s%c", v, i + 1 < ncols ? '|' : '\n');
    }
    return 0;
}

static void exec(sqlite3 *db, const char *sql) {
    char *msg = NULL;
    if (sqlite3_exec(db, sql, fold_row, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s\n  in: %s\n", msg ? msg : "?", sql);
        exit(1);
    }
}

static uint32_t rng = 12345;
static uint32_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static const char *const words[] = {"alpha", "bravo",    "charlie", "delta",  "echo",   "foxtrot",
                                    "golf",  "hotel",    "india",   "juliet", "kilo",   "lima",
                                    "mike",  "november", "oscar",   "papa",   "quebec", "romeo"};
#define NWORDS (sizeof words / sizeof *words)

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 100000;
    verbose = argc > 2 && strcmp(argv[2], "-v") == 0;
    sqlite3 *db;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
        fprintf(stderr, "sqlite: cannot open an in-memory database\n");
        return 1;
    }
    exec(db, "PRAGMA cache_size=-65536");
    exec(db, "CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT, city TEXT, score REAL)");
    exec(db, "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER, item TEXT, "
             "qty INTEGER, price INTEGER)");

    sqlite3_stmt *ins;
    exec(db, "BEGIN");
    sqlite3_prepare_v2(db, "INSERT INTO customer(name, city, score) VALUES(?1, ?2, ?3)", -1, &ins,
                       NULL);
    int ncust = n / 10 + 1;
    for (int i = 0; i < ncust; i++) {
        /* one call per statement: argument evaluation order differs between compilers */
        char name[64], city[32];
        uint32_t w1 = next_rand() % NWORDS, w2 = next_rand() % NWORDS, k = next_rand() % 1000;
        snprintf(name, sizeof name, "%s-%s-%u", words[w1], words[w2], k);
        snprintf(city, sizeof city, "%s", words[next_rand() % 7]);
        sqlite3_bind_text(ins, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 2, city, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(ins, 3, (double)(next_rand() % 100000) / 100.0);
        sqlite3_step(ins);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    sqlite3_prepare_v2(db, "INSERT INTO orders(customer, item, qty, price) VALUES(?1, ?2, ?3, ?4)",
                       -1, &ins, NULL);
    for (int i = 0; i < n; i++) {
        char item[32];
        uint32_t w = next_rand() % NWORDS, k = next_rand() % 50;
        snprintf(item, sizeof item, "%s %u", words[w], k);
        sqlite3_bind_int(ins, 1, (int)(next_rand() % (uint32_t)ncust) + 1);
        sqlite3_bind_text(ins, 2, item, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(ins, 3, (int)(next_rand() % 20) + 1);
        sqlite3_bind_int(ins, 4, (int)(next_rand() % 10000));
        sqlite3_step(ins);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    exec(db, "COMMIT");

    exec(db, "CREATE INDEX orders_customer ON orders(customer)");
    exec(db, "CREATE INDEX customer_city ON customer(city, score)");
    exec(db, "SELECT city, count(*), round(avg(score), 3), max(name) FROM customer GROUP BY city "
             "ORDER BY city");
    exec(db, "SELECT c.city, count(*), sum(o.qty * o.price) FROM orders o JOIN customer c ON "
             "c.id = o.customer GROUP BY c.city ORDER BY 3 DESC");
    exec(db, "SELECT item, sum(qty) AS q FROM orders GROUP BY item ORDER BY q DESC, item LIMIT 20");
    exec(db, "SELECT c.name, sum(o.price) AS t FROM customer c JOIN orders o ON o.customer = c.id "
             "WHERE c.city = 'charlie' GROUP BY c.id ORDER BY t DESC, c.name LIMIT 25");
    exec(db, "SELECT count(*), sum(length(name)) FROM customer WHERE name LIKE '%o-k%'");
    exec(db, "SELECT substr(item, 1, 3) AS p, count(DISTINCT customer) FROM orders GROUP BY p");
    exec(db, "UPDATE orders SET price = price * 2 WHERE qty > 15");
    exec(db, "DELETE FROM orders WHERE price % 7 = 0");
    exec(db, "SELECT count(*), sum(price), min(item), max(item) FROM orders");
    exec(db, "SELECT o.id, upper(o.item), printf('%08.2f', c.score) FROM orders o, customer c "
             "WHERE c.id = o.customer ORDER BY o.price DESC, o.id LIMIT 30");
    exec(db, "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 20000) "
             "SELECT sum(x * x % 97), group_concat(x % 10, '') LIKE '%1234%' FROM r");

    sqlite3_close(db);
    printf("sqlite %s n=%d checksum %016llx\n", sqlite3_libversion(), n,
           (unsigned long long)checksum);
    return 0;
}
