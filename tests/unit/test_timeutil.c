/* RFC 3339 times without the C library's time zone machinery (base/timeutil.h): formatting and
 * parsing against glibc's gmtime_r/timegm over four centuries, leap days, fractions, offsets and
 * malformed text. */
#include <time.h>

#include "harness.h"

#include "base/timeutil.h"

TEST(time_format_known_points) {
    char buf[64];
    wb_time_format(0, -1, buf, sizeof buf);
    ASSERT_STR_EQ(buf, "1970-01-01T00:00:00Z");
    wb_time_format(951782400, -1, buf, sizeof buf); /* a leap day in a century year */
    ASSERT_STR_EQ(buf, "2000-02-29T00:00:00Z");
    wb_time_format(1795824000 + 3599, 5, buf, sizeof buf);
    ASSERT_STR_EQ(buf, "2026-11-28T00:59:59.000000005Z");
    wb_time_format(-1, -1, buf, sizeof buf);
    ASSERT_STR_EQ(buf, "1969-12-31T23:59:59Z");
    wb_time_format(253402300799, -1, buf, sizeof buf);
    ASSERT_STR_EQ(buf, "9999-12-31T23:59:59Z");
}

TEST(time_format_matches_gmtime) {
    /* every 0.7 days or so from 1900 to 2300: the calendar arithmetic agrees with glibc */
    for (int64_t t = -2208988800LL; t < 10413792000LL; t += 61237) {
        time_t tt = (time_t)t;
        struct tm tm;
        ASSERT_TRUE(gmtime_r(&tt, &tm) != NULL);
        char want[64], got[64];
        strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
        wb_time_format(t, -1, got, sizeof got);
        ASSERT_STR_EQ(got, want);
        ASSERT_EQ(wb_time_parse(got), t);
        ASSERT_EQ(wb_time_parse(want), (int64_t)timegm(&tm));
    }
}

TEST(time_parse_forms) {
    ASSERT_EQ(wb_time_parse("1970-01-01T00:00:00Z"), 0);
    ASSERT_EQ(wb_time_parse("2026-11-28T00:00:00.123456789Z"), 1795824000);
    ASSERT_EQ(wb_time_parse("2026-11-28T01:30:00+01:30"), 1795824000);
    ASSERT_EQ(wb_time_parse("2026-11-27T22:00:00-02:00"), 1795824000);
    ASSERT_EQ(wb_time_parse("2026-11-28t00:00:00z"), 1795824000);
    ASSERT_EQ(wb_time_parse("2026-11-28T00:00:00"), 1795824000); /* no zone: UTC */
    ASSERT_EQ(wb_time_parse("2024-02-29T12:00:00Z"), 1709208000);
    ASSERT_EQ(wb_time_parse("0001-01-01T00:00:00Z"), -62135596800LL); /* Docker's zero time */
}

TEST(time_parse_rejects_malformed) {
    const char *bad[] = {NULL,
                         "",
                         "2026",
                         "2026-11-28",
                         "2026-13-01T00:00:00Z",
                         "2026-02-30T00:00:00Z",
                         "2023-02-29T00:00:00Z",
                         "2026-11-28T24:00:00Z",
                         "2026-11-28T00:60:00Z",
                         "2026-11-28 00:00:00Z",
                         "2026-11-28T00:00:00.Z",
                         "2026-11-28T00:00:00Zjunk",
                         "2026-11-28T00:00:00+0100",
                         "x026-11-28T00:00:00Z"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int64_t t = 12345;
        if (wb_time_parse_checked(bad[i], &t))
            wb_test_fail(__FILE__, __LINE__, "accepted %s", bad[i]);
    }
    ASSERT_EQ(wb_time_parse("garbage"), 0);
}
