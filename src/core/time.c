#include "internal.h"

#include <string.h>
#include <time.h>

int64_t exhi_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void exhi_today(char *buf, size_t size) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%d", &tm);
}

void exhi_format_time_ms(int64_t ms, char *buf, size_t size) {
  time_t t = (time_t)(ms / 1000);
  int frac = (int)(ms % 1000);
  if (frac < 0) {
    frac += 1000;
    t -= 1;
  }
  struct tm tm;
  if (!gmtime_r(&t, &tm)) {
    exhi_strlcpy(buf, "1970-01-01T00:00:00.000Z", size);
    return;
  }
  /* Digits written by hand: strftime and snprintf were a tenth of writing
   * a finding (several times per finding). Years outside 0..9999 as before. */
  int y = tm.tm_year + 1900;
  if (y < 0 || y > 9999) {
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%03dZ", base, frac);
    return;
  }
  char o[25];
  const int v[] = {y / 100, y % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
  static const char sep[] = {0, 0, '-', '-', 'T', ':', ':'}; /* before each pair */
  size_t n = 0;
  for (int i = 0; i < 7; i++) {
    if (sep[i]) o[n++] = sep[i];
    o[n++] = (char)('0' + v[i] / 10);
    o[n++] = (char)('0' + v[i] % 10);
  }
  o[n++] = '.';
  o[n++] = (char)('0' + frac / 100);
  o[n++] = (char)('0' + frac / 10 % 10);
  o[n++] = (char)('0' + frac % 10);
  o[n++] = 'Z';
  o[n] = '\0';
  exhi_strlcpy(buf, o, size);
}

bool exhi_valid_date(const char *s) {
  if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
  int m = (s[5] - '0') * 10 + (s[6] - '0');
  int d = (s[8] - '0') * 10 + (s[9] - '0');
  return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}
