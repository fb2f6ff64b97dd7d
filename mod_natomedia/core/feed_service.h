// The live content feed: the last good snapshot of one feed file, reloaded when the file
// changes; a broken file leaves the last good one serving.
//
// Who looks at the file:
//  - inline (tools, tests, and a child whose watcher could not start): snapshot() stats the file
//    at most once a second and reloads it on the calling thread;
//  - watched (httpd's children, start_watching()): a thread of the process's own looks every
//    period (half a second in httpd) and loads what changed while requests keep the old
//    snapshot; snapshot() never touches the disk. So a child that gets no request for a while
//    has the current version all the same when its next one comes.
//
// Shared mode (share_loads_in(DIR), what httpd's children use): the last good version is the
// server's, not each process's. DIR holds it (feed_snapshot_file.h), with the last file version
// refused; the processes of one server take turns on a ProcessLock (httpd: its `natomedia-feed`
// mutex, which the `Mutex` directive configures; others: a lock file there). A process that sees a
// change (of the feed file or of the shared snapshot) takes the lock, then: serves the shared
// snapshot when it is of the file's current version, or when that version was refused, or when
// the file is gone; otherwise parses the file, and on success makes that the shared snapshot,
// or on refusal records the refused version and serves the shared snapshot. So every process
// serves the same version, and no process falls back to an older one it once had.
#pragma once

#include <sys/types.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/feed_loader.h"
#include "natomedia/feed.h"
#include "natomedia/status.h"

namespace natomedia {
namespace core {

// No feed at all: one empty snapshot, for a site without NatoMediaFeed and for natomedia-admin.
class EmptyFeed : public Feed {
 public:
  EmptyFeed() : snapshot_(std::make_shared<FeedSnapshot>()) {}
  std::shared_ptr<const FeedSnapshot> snapshot() const override { return snapshot_; }

 private:
  std::shared_ptr<const FeedSnapshot> snapshot_;
};

// How the processes of one server take turns in shared mode. httpd's module passes its global
// mutex; without one, FeedService flocks DIR/feed-KEY.lock.
class ProcessLock {
 public:
  virtual ~ProcessLock() = default;
  // Waits for the lock; false when it cannot be taken (the caller then loads alone).
  virtual bool lock() = 0;
  virtual void unlock() = 0;
};

class FeedService : public Feed {
 public:
  // `log_error` gets one message per refused version of the file (the reasons with line
  // numbers; in shared mode, from the one process that tried it); it may be called from any
  // thread. `now` is the clock (seconds) used for the inline rate limit and
  // FeedSnapshot::loaded_at. An empty `path` means no feed: snapshot() stays empty.
  FeedService(std::string path, std::shared_ptr<const FeedSchema> schema,
              std::function<void(const std::string& message)> log_error,
              std::function<std::time_t()> now, LoadOptions options = LoadOptions());
  // Stops the watcher of this process.
  ~FeedService() override;

  // The current snapshot, never null. Inline: may first run check_for_change(). Thread-safe.
  std::shared_ptr<const FeedSnapshot> snapshot() const override;
  // The current snapshot without looking at the file (for the counters).
  std::shared_ptr<const FeedSnapshot> current() const;

  // Inline: at most once a second, sync_now(). Thread-safe; returns at once when another
  // thread is already at it.
  void check_for_change() const;

  // Looks now: the feed file (and in shared mode the shared snapshot); loads what changed.
  // A failure is logged once per version of the file. Thread-safe (one at a time).
  void sync_now() const;

  // Loads the file now (start-up, in httpd's parent). On failure the current snapshot is kept
  // and the reasons are returned, not logged. Never uses the shared directory.
  Status load_now();

  // Called with every snapshot this service is about to serve, before any request sees it (the
  // plugins' feed derivers: FeedSnapshot::derived). Set it before the first load; it runs on the
  // loading thread, under the reload lock.
  void derive_with(std::function<void(const FeedSnapshot&)> derive) {
    std::lock_guard<std::mutex> lock(reload_mutex_);
    derive_ = std::move(derive);
  }

  // Shared mode from now on, in `dir` (an existing directory only this server's processes can
  // write), the processes taking turns on `lock` (null: a lock file in `dir`). Call before the
  // reloads start (httpd: in the parent, before the children fork).
  void share_loads_in(std::string dir, std::shared_ptr<ProcessLock> lock = nullptr);

  // Watched mode for this process (httpd: each child, at its start): sync_now() at once, so
  // that the process serves the server's version from its first request, then every `period`
  // on a thread of its own, at a lower CPU priority. An error when the thread cannot start
  // (the service stays inline).
  Status start_watching(std::chrono::milliseconds period);
  // Stops and joins the watcher (httpd: child exit). Idempotent.
  void stop_watching();

  // How this process got its snapshots so far: XML parsed, or snapshots read from the shared
  // directory.
  uint64_t parses() const { return parses_.load(); }
  uint64_t shared_loads() const { return shared_loads_.load(); }

 private:
  // Unshared: stats the file and reloads it when it changed. Caller holds reload_mutex_.
  void reload_if_changed_locked() const;
  // Reads and loads the file; publishes on success. `info` gets the version read (when it
  // could be). Caller holds reload_mutex_.
  Status reload_locked(FeedFileInfo* info) const;
  // Shared: the sync described at the top, when the file or the shared snapshot moved.
  // Caller holds reload_mutex_.
  void sync_shared_locked() const;
  // Without the lock: this process loads the file for itself.
  void load_alone(bool have_file, bool have_shared, const FeedFileInfo& shared) const;
  // Under the lock: what sync_shared_locked() does once it knows something moved.
  void sync_shared_under_lock(bool have_file, const FeedFileInfo& seen) const;
  // Publishes the shared snapshot unless it is already the one served. False when it cannot be
  // read whole.
  bool adopt_shared_locked() const;
  // The file version the shared snapshot says it was made from (its header only).
  bool shared_source_locked(FeedFileInfo* source) const;
  void publish_locked(std::shared_ptr<const FeedSnapshot> snapshot,
                      const FeedFileInfo& source) const;
  void log_refusal(const Status& status) const;
  void watch_loop(std::chrono::milliseconds period);

  const std::string path_;
  const std::shared_ptr<const FeedSchema> schema_;
  const std::function<void(const std::string&)> log_error_;
  const std::function<std::time_t()> now_;
  const LoadOptions options_;

  mutable std::shared_ptr<const FeedSnapshot> current_;  // std::atomic_load/atomic_store only
  mutable std::atomic<std::time_t> last_check_;
  mutable std::mutex reload_mutex_;
  // Guarded by reload_mutex_: the file version current_ was made from (when has_source_, else
  // current_ is the empty snapshot), the file version last looked at, the shared snapshot file
  // as last read or written, whether the feed file was there at the last sync, and whether a
  // shared sync has run at all.
  mutable FeedFileInfo current_source_;
  mutable bool has_source_ = false;
  mutable FeedFileInfo last_attempt_;
  mutable bool attempted_ = false;
  mutable bool last_refused_ = false;  // last_attempt_ was parsed and refused
  mutable FeedFileInfo shared_seen_;
  mutable bool shared_seen_valid_ = false;
  mutable bool file_seen_valid_ = false;
  mutable bool synced_ = false;
  mutable std::shared_ptr<const FeedSnapshot> retired_;  // the one replaced, freed off-request
  std::function<void(const FeedSnapshot&)> derive_;     // guarded by reload_mutex_

  std::string shared_base_;  // "DIR/feed-KEY", "" unless in shared mode
  std::shared_ptr<ProcessLock> shared_lock_;  // null: flock on shared_base_ + ".lock"

  std::atomic<bool> watching_{false};
  std::mutex watch_mutex_;
  std::condition_variable watch_wake_;
  bool watch_stop_ = false;  // guarded by watch_mutex_
  std::thread watcher_;      // guarded by watch_mutex_
  pid_t watcher_pid_ = 0;    // the process that started watcher_

  mutable std::atomic<uint64_t> parses_{0};
  mutable std::atomic<uint64_t> shared_loads_{0};
};

}  // namespace core
}  // namespace natomedia
