#include "download_quota.h"

#include <string>

namespace natomedia::media_gateway {

Migration DownloadQuota::migration() {
  return {2,
          "media_gateway download quota",
          {"CREATE TABLE media_download_quota (account_id BIGINT PRIMARY KEY, day BIGINT NOT NULL, "
           "bytes BIGINT NOT NULL)"},
          {}};
}

Result<bool> DownloadQuota::reserve(Sql& sql, int64_t account_id, uint64_t bytes, uint64_t quota,
                                    std::time_t now) {
  if (bytes > quota) return false;
  const std::string account = std::to_string(account_id);
  const std::string day = std::to_string(day_of(now));
  const std::string n = std::to_string(bytes);
  const std::string limit = std::to_string(quota);
  const std::string day_start = std::to_string(day_of(now) * 86400);
  // The first reservation of a day starts the count at the log's bytes for the day; later ones
  // add to the count, under the row lock that ON CONFLICT DO UPDATE takes (PostgreSQL) or the
  // database's one writer (SQLite). The WHERE clauses refuse a reservation past the quota: then
  // no row changes.
  auto changed = sql.exec(
      "INSERT INTO media_download_quota (account_id, day, bytes) "
      "SELECT CAST(%s AS BIGINT), CAST(%s AS BIGINT), logged.total FROM "
      "(SELECT CAST(%s AS BIGINT) + CAST(COALESCE(SUM(bytes), 0) AS BIGINT) AS total "
      "FROM media_downloads WHERE account_id = CAST(%s AS BIGINT) AND last_at >= CAST(%s AS BIGINT)"
      ") logged WHERE logged.total <= CAST(%s AS BIGINT) "
      "ON CONFLICT (account_id) DO UPDATE SET bytes = CASE WHEN media_download_quota.day = "
      "excluded.day THEN media_download_quota.bytes + CAST(%s AS BIGINT) ELSE excluded.bytes END, "
      "day = excluded.day "
      "WHERE media_download_quota.day <> excluded.day OR "
      "media_download_quota.bytes + CAST(%s AS BIGINT) <= CAST(%s AS BIGINT)",
      {account, day, n, account, day_start, limit, n, n, limit});
  if (!changed.ok()) return changed.status();
  return *changed > 0;
}

Status DownloadQuota::settle(Sql& sql, int64_t account_id, uint64_t reserved, uint64_t sent,
                             std::time_t reserved_at) {
  if (reserved == sent) return Status::Ok();
  const long long delta = static_cast<long long>(sent) - static_cast<long long>(reserved);
  auto changed = sql.exec(
      "UPDATE media_download_quota SET bytes = CASE WHEN bytes + CAST(%s AS BIGINT) > 0 THEN "
      "bytes + CAST(%s AS BIGINT) ELSE 0 END WHERE account_id = CAST(%s AS BIGINT) AND "
      "day = CAST(%s AS BIGINT)",
      {std::to_string(delta), std::to_string(delta), std::to_string(account_id),
       std::to_string(day_of(reserved_at))});
  return changed.ok() ? Status::Ok() : changed.status();
}

Result<int> DownloadQuota::prune(Sql& sql, std::time_t now) {
  return sql.exec("DELETE FROM media_download_quota WHERE day < %s",
                  {std::to_string(day_of(now))});
}

}  // namespace natomedia::media_gateway
