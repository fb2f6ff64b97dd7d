// NatoMediaDownloadQuota: the bytes an account may download in a UTC day. Before a file goes
// out, the bytes it may carry are reserved (DownloadQuota::reserve); after it went out, the
// reservation is settled on the bytes really sent (DownloadQuota::settle). The day's count
// lives in one row per account (table media_download_quota), so that a reservation is one
// atomic statement on SQLite and PostgreSQL alike: concurrent requests of one account queue on
// that row, and however many start at once, the bytes reserved never pass the quota.
// Thread-safe: every call takes the connection it works with.
#pragma once

#include <cstdint>
#include <ctime>

#include <natomedia/services.h>

namespace natomedia::media_gateway {

class DownloadQuota {
 public:
  static Migration migration();

  // The UTC day of `t` (days since the epoch): the quota's unit.
  static int64_t day_of(std::time_t t) { return static_cast<int64_t>(t) / 86400; }

  // Reserves `bytes` of the day of `now` for `account_id` when the day's bytes so far, plus
  // `bytes`, stay within `quota`: true when reserved, false when refused. The day's bytes so far
  // are the larger of what is reserved in the count and what the download log holds for the day
  // (rows whose last request was today: transfers finished today, logs older than the count).
  // One statement.
  static Result<bool> reserve(Sql& sql, int64_t account_id, uint64_t bytes, uint64_t quota,
                              std::time_t now);

  // A request that reserved `reserved` bytes at `reserved_at` has sent `sent`: the difference
  // goes back to (or, should httpd have sent more, is added to) that day's count. Nothing when
  // they are equal or the day is over.
  static Status settle(Sql& sql, int64_t account_id, uint64_t reserved, uint64_t sent,
                       std::time_t reserved_at);

  // Deletes the counts of days before the day of `now`: the number of rows deleted.
  static Result<int> prune(Sql& sql, std::time_t now);
};

}  // namespace natomedia::media_gateway
