// The live content feed: the last good snapshot of one feed file, reloaded when the file
// changes. The request thread that first notices the change (at most one stat a second) starts
// the reload: on a thread of its own in background mode (what httpd uses, so no request waits
// for a load), or on itself in inline mode. One reload at a time; every other thread keeps
// getting the previous snapshot meanwhile, and a broken file leaves the last good one serving.
#pragma once

#include <atomic>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <thread>

#include "core/feed_loader.h"
#include "natomedia/feed.h"
#include "natomedia/status.h"

namespace natomedia {
namespace core {

class FeedService : public Feed {
 public:
  // `log_error` gets one message per failed reload (the reasons with line numbers); it may be
  // called from any request thread. `now` is the clock (seconds) used for rate limiting and
  // FeedSnapshot::loaded_at. An empty `path` means no feed: snapshot() stays empty.
  enum class ReloadMode { kInline, kBackground };

  FeedService(std::string path, std::shared_ptr<const FeedSchema> schema,
              std::function<void(const std::string& message)> log_error,
              std::function<std::time_t()> now, LoadOptions options = LoadOptions(),
              ReloadMode mode = ReloadMode::kInline);
  // Waits for a background reload of this process to finish.
  ~FeedService() override;

  // The current snapshot, never null. May first run check_for_change(). Thread-safe.
  std::shared_ptr<const FeedSnapshot> snapshot() const override;
  // The current snapshot without looking at the file (for the counters).
  std::shared_ptr<const FeedSnapshot> current() const;

  // Stats the file at most once a second and reloads it when its inode, size or mtime moved
  // since the last attempt; a failure is logged once per version of the file. Thread-safe;
  // returns at once when another thread is already reloading.
  void check_for_change() const;

  // Loads the file now (start-up). On failure the current snapshot is kept and the reasons
  // are returned, not logged.
  Status load_now();

 private:
  // Reads and loads the file; publishes on success. Caller holds reload_mutex_.
  Status reload_locked() const;
  // Stats the file and reloads it when it changed. Caller holds reload_mutex_.
  void reload_if_changed_locked() const;
  void start_background_reload() const;

  const std::string path_;
  const std::shared_ptr<const FeedSchema> schema_;
  const std::function<void(const std::string&)> log_error_;
  const std::function<std::time_t()> now_;
  const LoadOptions options_;

  mutable std::shared_ptr<const FeedSnapshot> current_;  // std::atomic_load/atomic_store only
  mutable std::atomic<std::time_t> last_check_;
  mutable std::mutex reload_mutex_;
  mutable FeedFileInfo last_attempt_;  // guarded by reload_mutex_
  mutable bool attempted_ = false;     // guarded by reload_mutex_
  mutable std::shared_ptr<const FeedSnapshot> retired_;  // the one replaced; reload_mutex_
  const ReloadMode mode_;
  mutable std::atomic<bool> reloading_{false};  // a background reload is running
  mutable std::mutex thread_mutex_;
  mutable std::thread reloader_;        // guarded by thread_mutex_
  mutable pid_t reloader_pid_ = 0;      // the process that started reloader_
};

}  // namespace core
}  // namespace natomedia
