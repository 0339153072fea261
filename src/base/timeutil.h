/* RFC 3339 times in UTC, by calendar arithmetic. glibc's gmtime_r and timegm load the time zone
 * database (/etc/localtime) on first use; these never touch it, which saves a file read on every
 * start of a command that stamps or reads a time. */
#ifndef WB_BASE_TIMEUTIL_H
#define WB_BASE_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "YYYY-MM-DDTHH:MM:SSZ" for seconds since the epoch, with ".nnnnnnnnn" before the Z when
 * nsec >= 0. Years 0001..9999. */
void wb_time_format(int64_t sec, long nsec, char *buf, size_t size);
/* The current time, with nanoseconds. */
void wb_time_now(char *buf, size_t size);
/* Parse "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" (the zone may be left out: UTC). The fraction
 * is dropped. False for anything else, or a date that does not exist. */
bool wb_time_parse_checked(const char *text, int64_t *sec);
/* The same, 0 when the text is not a valid time. */
int64_t wb_time_parse(const char *text);

/* Seconds on the monotonic clock (for durations and deadlines, never for dates). */
double wb_mono_seconds(void);

#endif
