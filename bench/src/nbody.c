/* nbody: the classic five-body (Sun and Jovian planets) simulation, n time steps of symplectic
 * Euler. Measures f64 arithmetic, sqrt and array-of-struct field access. */
#include "freestanding.h"

#define BODY_COUNT    5
#define PI            3.141592653589793
#define SOLAR_MASS    (4 * PI * PI)
#define DAYS_PER_YEAR 365.24

struct body {
    double x, y, z;
    double vx, vy, vz;
    double mass;
};

static struct body bodies[BODY_COUNT];

static void init_bodies(void) {
    static const double initial[BODY_COUNT][7] = {
        {0, 0, 0, 0, 0, 0, SOLAR_MASS},
        {4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
         1.66007664274403694e-03 * DAYS_PER_YEAR, 7.69901118419740425e-03 * DAYS_PER_YEAR,
         -6.90460016972063023e-05 * DAYS_PER_YEAR, 9.54791938424326609e-04 * SOLAR_MASS},
        {8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
         -2.76742510726862411e-03 * DAYS_PER_YEAR, 4.99852801234917238e-03 * DAYS_PER_YEAR,
         2.30417297573763929e-05 * DAYS_PER_YEAR, 2.85885980666130812e-04 * SOLAR_MASS},
        {1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
         2.96460137564761618e-03 * DAYS_PER_YEAR, 2.37847173959480950e-03 * DAYS_PER_YEAR,
         -2.96589568540237556e-05 * DAYS_PER_YEAR, 4.36624404335156298e-05 * SOLAR_MASS},
        {1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
         2.68067772490389322e-03 * DAYS_PER_YEAR, 1.62824170038242295e-03 * DAYS_PER_YEAR,
         -9.51592254519715870e-05 * DAYS_PER_YEAR, 5.15138902046611451e-05 * SOLAR_MASS},
    };
    for (int i = 0; i < BODY_COUNT; i++) {
        bodies[i].x = initial[i][0];
        bodies[i].y = initial[i][1];
        bodies[i].z = initial[i][2];
        bodies[i].vx = initial[i][3];
        bodies[i].vy = initial[i][4];
        bodies[i].vz = initial[i][5];
        bodies[i].mass = initial[i][6];
    }
    /* Give the Sun the momentum that makes the system's total zero. */
    double px = 0, py = 0, pz = 0;
    for (int i = 0; i < BODY_COUNT; i++) {
        px += bodies[i].vx * bodies[i].mass;
        py += bodies[i].vy * bodies[i].mass;
        pz += bodies[i].vz * bodies[i].mass;
    }
    bodies[0].vx = -px / SOLAR_MASS;
    bodies[0].vy = -py / SOLAR_MASS;
    bodies[0].vz = -pz / SOLAR_MASS;
}

static void advance(double dt) {
    for (int i = 0; i < BODY_COUNT; i++) {
        struct body *a = &bodies[i];
        for (int j = i + 1; j < BODY_COUNT; j++) {
            struct body *b = &bodies[j];
            double dx = a->x - b->x;
            double dy = a->y - b->y;
            double dz = a->z - b->z;
            double dist2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (dist2 * __builtin_sqrt(dist2));
            a->vx -= dx * b->mass * mag;
            a->vy -= dy * b->mass * mag;
            a->vz -= dz * b->mass * mag;
            b->vx += dx * a->mass * mag;
            b->vy += dy * a->mass * mag;
            b->vz += dz * a->mass * mag;
        }
    }
    for (int i = 0; i < BODY_COUNT; i++) {
        bodies[i].x += dt * bodies[i].vx;
        bodies[i].y += dt * bodies[i].vy;
        bodies[i].z += dt * bodies[i].vz;
    }
}

static double energy(void) {
    double e = 0;
    for (int i = 0; i < BODY_COUNT; i++) {
        const struct body *a = &bodies[i];
        e += 0.5 * a->mass * (a->vx * a->vx + a->vy * a->vy + a->vz * a->vz);
        for (int j = i + 1; j < BODY_COUNT; j++) {
            const struct body *b = &bodies[j];
            double dx = a->x - b->x;
            double dy = a->y - b->y;
            double dz = a->z - b->z;
            e -= a->mass * b->mass / __builtin_sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

int64_t bench_run(int32_t n) {
    init_bodies();
    uint64_t hash = bench_mix64(WB_BENCH_FNV64_INIT, bench_f64_bits(energy()));
    for (int32_t step = 0; step < n; step++) advance(0.01);
    hash = bench_mix64(hash, bench_f64_bits(energy()));
    for (int i = 0; i < BODY_COUNT; i++)
        hash = bench_mix64(hash, bench_f64_bits(bodies[i].x + bodies[i].y + bodies[i].z));
    return (int64_t)hash;
}
