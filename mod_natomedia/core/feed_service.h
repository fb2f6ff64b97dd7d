// The live content feed: the last good snapshot of one feed file, reloaded when the file
// changes. The request thread that first notices the change (at most one stat a second) starts
// the reload: on a thread of its own in background mode (what httpd uses, so no request waits
// for a load), or on itself in inline mode. One reload at a time; every other thread keeps
// getting the previous snapshot meanwhile, and a broken file leaves the last good one serving.
//
// Shared mode (share_loads_in(DIR), what httpd's children use): the processes of one server take
// turns (a lock file in DIR), and the first to load a new version of the file writes what it
// loaded to DIR (feed_snapshot_file.h); the others read that instead of parsing and validating
// the same XML again. A missing, stale or unreadable snapshot just means a parse.
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
  // are returned, not logged. Never uses the shared directory.
  Status load_now();

  // Shared mode from now on, in `dir` (an existing directory only this server's processes can
  // write). Call before the reloads start (httpd: in the parent, before the children fork).
  void share_loads_in(std::string dir);

  // How this process got its snapshots so far: XML parsed, or snapshots read from the shared
  // directory.
  uint64_t parses() const { return parses_.load(); }
  uint64_t shared_loads() const { return shared_loads_.load(); }

 private:
  // Reads and loads the file; publishes on success (and, in shared mode, writes the snapshot
  // for the other processes). Caller holds reload_mutex_.
  Status reload_locked() const;
  // Shared mode: under the lock file, the snapshot another process wrote for `seen`, else
  // reload_locked(). Caller holds reload_mutex_.
  Status reload_shared_locked(const FeedFileInfo& seen) const;
  void publish_locked(std::shared_ptr<const FeedSnapshot> snapshot) const;
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
  std::string shared_base_;             // "DIR/feed-KEY", "" unless in shared mode
  mutable std::atomic<uint64_t> parses_{0};
  mutable std::atomic<uint64_t> shared_loads_{0};
};

}  // namespace core
}  // namespace natomedia
