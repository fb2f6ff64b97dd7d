// The download log (table media_downloads): one row per logical download. A request answered
// with the whole file (200) is a download of its own; a partial answer (206) continues the
// latest download of the same (account, item, rendition) whose requests kept coming within
// kSessionWindow of each other (or starts one when there is none), so a download manager's many
// range requests add up to one download with the bytes they carried, and the same file fetched
// three times is three downloads.
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
  // This request's own row key (`bucket`) should it send the whole file: a random negative
  // number (hour buckets, which range requests share, are positive). 0: none, the request can
  // only join or start the hour's download (unit tests).
  int64_t whole_file_bucket = 0;
};

// A fresh whole_file_bucket from 8 random bytes.
int64_t whole_file_bucket(const std::string& random8);

class DownloadLog {
 public:
  static Migration migration();

  // Adds one answered request to its logical download (or starts one: always for a 200 with
  // key.whole_file_bucket set). Returns true when it started a new logical download.
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
