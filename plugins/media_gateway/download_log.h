// The download log (table media_downloads): one row per logical download, that is per
// (account, item, rendition) while requests keep coming within kSessionWindow of each other, so
// a download manager's many range requests add up to one download with the bytes they carried.
// Also the "natomedia.downloads" v1 provider that the account page reads. Thread-safe: every
// call takes the connection it works with.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include <natomedia/providers.h>

namespace natomedia::media_gateway {

constexpr std::time_t kSessionWindow = 3600;

constexpr const char* kDownloadsCounter = "natomedia_downloads_total";
constexpr const char* kDownloadBytesCounter = "natomedia_download_bytes_total";

struct DownloadKey {
  int64_t account_id = 0;
  std::string item_id;
  std::string rendition;
};

class DownloadLog {
 public:
  static Migration migration();

  // Adds one answered request to its logical download (or starts one). Returns true when it
  // started a new logical download.
  static Result<bool> record(Sql& sql, const DownloadKey& key, uint64_t bytes, int status,
                             std::time_t now);

  struct Row {
    std::string item_id;
    std::string rendition;
    uint64_t bytes = 0;
    std::time_t started_at = 0;
  };
  // Deletes the rows whose last request is older than `days` days at `now`
  // (NatoMediaDownloadLogDays); returns how many went.
  static Result<int> prune(Sql& sql, long days, std::time_t now);

  // The account's latest logical downloads, newest first.
  static Result<std::vector<Row>> recent(Sql& sql, int64_t account_id, size_t limit);
};

// "natomedia.downloads" v1: titles come from the current feed in the visitor's language.
class DownloadServiceImpl : public DownloadService {
 public:
  Result<std::vector<DownloadRecord>> recent(Context& ctx, int64_t account_id,
                                             size_t limit) override;
};

}  // namespace natomedia::media_gateway
