#include "download_log.h"

#include <algorithm>

namespace natomedia::media_gateway {

namespace {

constexpr const char* kTableColumns =
    "account_id BIGINT NOT NULL, item_id VARCHAR(255) NOT NULL, rendition VARCHAR(64) NOT NULL, "
    "bucket BIGINT NOT NULL, bytes BIGINT NOT NULL, requests INTEGER NOT NULL, "
    "status INTEGER NOT NULL, started_at BIGINT NOT NULL, last_at BIGINT NOT NULL, "
    "UNIQUE (account_id, item_id, rendition, bucket))";

constexpr size_t kMaxRecent = 50;

}  // namespace

int64_t whole_file_bucket(const std::string& random8) {
  uint64_t v = 0;
  for (size_t i = 0; i < random8.size() && i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(random8[i]);
  return -static_cast<int64_t>(v & 0x3fffffffffffffffULL) - 1;
}

Migration DownloadLog::migration() {
  const std::string index =
      "CREATE INDEX media_downloads_account ON media_downloads (account_id, last_at)";
  return {1, "media_gateway download log",
          {std::string("CREATE TABLE media_downloads (id INTEGER PRIMARY KEY AUTOINCREMENT, ") +
               kTableColumns,
           index},
          {std::string("CREATE TABLE media_downloads (id BIGSERIAL PRIMARY KEY, ") + kTableColumns,
           index}};
}

Result<bool> DownloadLog::record(Sql& sql, const DownloadKey& key, uint64_t bytes, int status,
                                 std::time_t now) {
  const std::string account = std::to_string(key.account_id);
  const std::string n = std::to_string(bytes);
  const std::string st = std::to_string(status);
  const std::string t = std::to_string(now);
  // The whole file sent: a download of its own, in a row of its own (the same video fetched
  // three times is three rows, each with its size).
  if (status == 200 && key.whole_file_bucket != 0) {
    auto own = sql.exec(
        "INSERT INTO media_downloads (account_id, item_id, rendition, bucket, bytes, requests, "
        "status, started_at, last_at) VALUES (%s, %s, %s, %s, %s, 1, %s, %s, %s) "
        "ON CONFLICT (account_id, item_id, rendition, bucket) DO NOTHING",
        {account, key.item_id, key.rendition, std::to_string(key.whole_file_bucket), n, st, t,
         t});
    if (!own.ok()) return own.status();
    if (*own > 0) return true;
    // The same random bucket twice (never in practice): counted as a continuation below.
  }
  // A request continuing an open download adds to it, wherever the hour boundaries fall.
  auto updated = sql.exec(
      "UPDATE media_downloads SET bytes = bytes + %s, requests = requests + 1, status = %s, "
      "last_at = %s WHERE id = (SELECT id FROM media_downloads WHERE account_id = %s AND "
      "item_id = %s AND rendition = %s AND last_at >= %s ORDER BY last_at DESC LIMIT 1)",
      {n, st, t, account, key.item_id, key.rendition, std::to_string(now - kSessionWindow)});
  if (!updated.ok()) return updated.status();
  if (*updated > 0) return false;
  // Otherwise one row per hour bucket. Whoever inserts it started the download: the insert is
  // one statement, so of requests racing to start the same download exactly one gets a row
  // counted, and the others (and any request whose answer was logged a moment later) add to it.
  // (A follow-up SELECT of `requests` could see another request's addition first, and then no
  // request counted the download.)
  const std::string bucket = std::to_string(now / kSessionWindow);
  auto inserted = sql.exec(
      "INSERT INTO media_downloads (account_id, item_id, rendition, bucket, bytes, requests, "
      "status, started_at, last_at) VALUES (%s, %s, %s, %s, %s, 1, %s, %s, %s) "
      "ON CONFLICT (account_id, item_id, rendition, bucket) DO NOTHING",
      {account, key.item_id, key.rendition, bucket, n, st, t, t});
  if (!inserted.ok()) return inserted.status();
  if (*inserted > 0) return true;
  auto added = sql.exec(
      "UPDATE media_downloads SET bytes = bytes + %s, requests = requests + 1, status = %s, "
      "last_at = %s WHERE account_id = %s AND item_id = %s AND rendition = %s AND bucket = %s",
      {n, st, t, account, key.item_id, key.rendition, bucket});
  if (!added.ok()) return added.status();
  return false;
}

Result<int> DownloadLog::prune(Sql& sql, long days, std::time_t now) {
  return sql.exec("DELETE FROM media_downloads WHERE last_at <= %s",
                  {std::to_string(now - static_cast<std::time_t>(days) * 86400)});
}

Result<std::vector<DownloadLog::Row>> DownloadLog::recent(Sql& sql, int64_t account_id,
                                                          size_t limit) {
  // A fixed LIMIT keeps one prepared statement; the caller's limit is applied below.
  auto rows = sql.query(
      "SELECT item_id, rendition, bytes, started_at FROM media_downloads WHERE account_id = %s "
      "ORDER BY last_at DESC, id DESC LIMIT 50",
      {std::to_string(account_id)});
  if (!rows.ok()) return rows.status();
  std::vector<Row> out;
  for (size_t i = 0; i < rows->size() && out.size() < std::min(limit, kMaxRecent); ++i) {
    Row r;
    r.item_id = rows->text(i, "item_id");
    r.rendition = rows->text(i, "rendition");
    r.bytes = static_cast<uint64_t>(std::max(0LL, rows->integer(i, "bytes")));
    r.started_at = static_cast<std::time_t>(rows->integer(i, "started_at"));
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<DownloadRecord>> DownloadServiceImpl::recent(Context& ctx, int64_t account_id,
                                                                size_t limit) {
  auto rows = DownloadLog::recent(ctx.sql(), account_id, limit);
  if (!rows.ok()) return rows.status();
  auto snapshot = ctx.feed().snapshot();
  std::vector<DownloadRecord> out;
  for (const auto& row : *rows) {
    DownloadRecord rec;
    rec.item_id = row.item_id;
    rec.rendition = row.rendition;
    rec.bytes = row.bytes;
    rec.at = row.started_at;
    const NewsItem* item = snapshot->find(row.item_id);
    auto headline = item ? item->headline.get(ctx.request().lang) : LocalizedText::Pick{};
    rec.title = headline.text ? *headline.text : row.item_id;
    out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace natomedia::media_gateway
