#include "core/feed_service.h"

#include "core/feed_snapshot_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <functional>
#include <limits>
#include <string_view>
#include <system_error>
#include <utility>

namespace natomedia {
namespace core {

namespace {

// Writes `bytes` to `path` by a temporary file and a rename, so a reader sees the old file or
// the new one, never half of one. False when it could not.
bool write_whole_file(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp" + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  bool ok = close(fd) == 0 && done == bytes.size();
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

// What lstat says about `path`, when it is there.
bool file_version(const std::string& path, FeedFileInfo* info) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return false;
  *info = feed_file_info(st);
  return true;
}

}  // namespace

FeedService::FeedService(std::string path, std::shared_ptr<const FeedSchema> schema,
                         std::function<void(const std::string& message)> log_error,
                         std::function<std::time_t()> now, LoadOptions options)
    : path_(std::move(path)),
      schema_(std::move(schema)),
      log_error_(std::move(log_error)),
      now_(std::move(now)),
      options_(options),
      current_(std::make_shared<const FeedSnapshot>()),
      last_check_(std::numeric_limits<std::time_t>::min()) {}

FeedService::~FeedService() { stop_watching(); }

std::shared_ptr<const FeedSnapshot> FeedService::current() const {
  return std::atomic_load(&current_);
}

std::shared_ptr<const FeedSnapshot> FeedService::snapshot() const {
  // Watched: the request path never touches the disk; the watcher has loaded what changed.
  if (!watching_.load(std::memory_order_relaxed)) check_for_change();
  return std::atomic_load(&current_);
}

void FeedService::check_for_change() const {
  if (path_.empty() || schema_ == nullptr) return;
  std::time_t now = now_();
  std::time_t last = last_check_.load(std::memory_order_relaxed);
  if (last != std::numeric_limits<std::time_t>::min() && now - last < 1 && now >= last) return;
  // One thread a second wins the right to look; the others serve what they have.
  if (!last_check_.compare_exchange_strong(last, now, std::memory_order_relaxed)) return;
  std::unique_lock<std::mutex> lock(reload_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  if (shared_base_.empty())
    reload_if_changed_locked();
  else
    sync_shared_locked();
}

void FeedService::sync_now() const {
  if (path_.empty() || schema_ == nullptr) return;
  std::lock_guard<std::mutex> lock(reload_mutex_);
  if (shared_base_.empty())
    reload_if_changed_locked();
  else
    sync_shared_locked();
}

void FeedService::reload_if_changed_locked() const {
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) return;  // a file being replaced: look again later
  FeedFileInfo seen = feed_file_info(st);
  if (attempted_ && seen == last_attempt_) return;
  attempted_ = true;  // each version of the file is tried, and a failure logged, once
  last_attempt_ = seen;
  Status status = reload_locked(&seen);
  if (!status.ok()) log_refusal(status);
}

Status FeedService::load_now() {
  if (path_.empty()) return Status::Invalid("no feed file configured");
  if (schema_ == nullptr) return Status::Internal("no feed schema");
  std::lock_guard<std::mutex> lock(reload_mutex_);
  last_check_.store(now_(), std::memory_order_relaxed);
  FeedFileInfo info;
  return reload_locked(&info);
}

Status FeedService::reload_locked(FeedFileInfo* info) const {
  std::string content;
  Status status = read_feed_file(path_, options_.max_bytes, &content, info);
  if (!status.ok()) return status;
  attempted_ = true;
  last_attempt_ = *info;
  auto loaded = load_feed_document(content, path_, info->mtime, now_(), *schema_, options_);
  ++parses_;
  last_refused_ = !loaded.ok();
  if (!loaded.ok()) return loaded.status();
  publish_locked(loaded.value(), *info);
  return Status::Ok();
}

void FeedService::publish_locked(std::shared_ptr<const FeedSnapshot> snapshot,
                                 const FeedFileInfo& source) const {
  // What the plugins derive from it (a search index) is made now, before it is served, so no
  // request waits for it and each snapshot carries its own.
  if (derive_ && snapshot) derive_(*snapshot);
  // The old snapshot is kept here, not dropped: whoever drops the last reference frees ten
  // thousand items, and that should be the watcher (or the reloading caller), not a request.
  retired_ = std::atomic_exchange(&current_, std::move(snapshot));
  current_source_ = source;
  has_source_ = true;
}

void FeedService::log_refusal(const Status& status) const {
  if (log_error_) log_error_(status.message());
}

void FeedService::share_loads_in(std::string dir, std::shared_ptr<ProcessLock> lock) {
  std::lock_guard<std::mutex> guard(reload_mutex_);
  if (dir.empty()) {
    shared_base_.clear();
    shared_lock_.reset();
    return;
  }
  shared_lock_ = std::move(lock);
  // One set of files per feed path: DIR/feed-KEY.{snapshot,refused} (and .lock without a
  // ProcessLock).
  char key[17];
  snprintf(key, sizeof key, "%016zx", std::hash<std::string>()(path_));
  shared_base_ = dir + "/feed-" + key;
}

void FeedService::sync_shared_locked() const {
  // Two stats decide whether there is anything to do: the feed file and the shared snapshot.
  struct stat st;
  const bool have_file = stat(path_.c_str(), &st) == 0;
  const FeedFileInfo seen = have_file ? feed_file_info(st) : FeedFileInfo();
  FeedFileInfo shared;
  const bool have_shared = file_version(shared_base_ + ".snapshot", &shared);
  if (synced_ && have_file == file_seen_valid_ && (!have_file || seen == last_attempt_) &&
      have_shared == shared_seen_valid_ && (!have_shared || shared == shared_seen_))
    return;
  synced_ = true;
  file_seen_valid_ = have_file;
  // Processes take turns. A lock that cannot be taken means loading alone.
  if (shared_lock_) {
    if (!shared_lock_->lock()) {
      load_alone(have_file, have_shared, shared);
      return;
    }
    struct Unlock {
      ProcessLock& lock;
      ~Unlock() { lock.unlock(); }  // also when a load throws
    } unlock{*shared_lock_};
    sync_shared_under_lock(have_file, seen);
    shared_seen_valid_ = file_version(shared_base_ + ".snapshot", &shared_seen_);
    return;
  }
  int lock_fd =
      open((shared_base_ + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock_fd < 0) {
    load_alone(have_file, have_shared, shared);
    return;
  }
  while (flock(lock_fd, LOCK_EX) != 0 && errno == EINTR) {
  }
  sync_shared_under_lock(have_file, seen);
  // Whatever the shared snapshot is now (another process's or this one's) has been looked at.
  shared_seen_valid_ = file_version(shared_base_ + ".snapshot", &shared_seen_);
  close(lock_fd);  // releases the lock
}

void FeedService::load_alone(bool have_file, bool have_shared, const FeedFileInfo& shared) const {
  shared_seen_valid_ = have_shared;
  shared_seen_ = shared;
  if (have_file) reload_if_changed_locked();
}

void FeedService::sync_shared_under_lock(bool have_file, const FeedFileInfo& seen) const {
  if (!have_file) {
    // A file being replaced, or gone: the server's last good version, never a re-parse.
    adopt_shared_locked();
    return;
  }
  // This process refused this very version already: httpd's parent did at start-up (before
  // the children forked) and logged why. It is recorded for the others, not parsed nor logged
  // again by each child.
  const bool refused_here = attempted_ && last_attempt_ == seen && last_refused_;
  attempted_ = true;
  last_attempt_ = seen;
  FeedFileInfo shared_source;
  if (shared_source_locked(&shared_source) && shared_source == seen && adopt_shared_locked())
    return;  // another process loaded this version (or this one did, earlier)
  if (has_source_ && current_source_ == seen) {
    // This process has the file's current version already (httpd's parent loaded it at
    // start-up): it becomes the server's, with no parse.
    write_whole_file(shared_base_ + ".snapshot", encode_feed_snapshot(*current(), seen));
    return;
  }
  if (refused_here) {
    write_whole_file(shared_base_ + ".refused", encode_refused_version(seen));
    adopt_shared_locked();
    return;
  }
  std::string bytes;
  FeedFileInfo record;
  if (read_feed_file(shared_base_ + ".refused", 4096, &bytes, &record,
                     /*follow_symlinks=*/false)
          .ok()) {
    auto refused = decode_refused_version(bytes);
    if (refused.ok() && refused.value() == seen) {
      adopt_shared_locked();  // another process refused this version: the last good one
      return;
    }
  }
  FeedFileInfo read = seen;
  Status status = reload_locked(&read);
  if (status.ok()) {
    // Best effort: when it cannot be written, the others parse the same file themselves.
    write_whole_file(shared_base_ + ".snapshot", encode_feed_snapshot(*current(), read));
    return;
  }
  write_whole_file(shared_base_ + ".refused", encode_refused_version(read));
  log_refusal(status);
  adopt_shared_locked();
}

bool FeedService::shared_source_locked(FeedFileInfo* source) const {
  // Only the header: 8 bytes of magic and 5 numbers.
  int fd = open((shared_base_ + ".snapshot").c_str(),
                O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) return false;
  struct stat st;
  char header[48];
  ssize_t n = -1;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    while ((n = pread(fd, header, sizeof header, 0)) < 0 && errno == EINTR) {
    }
  }
  close(fd);
  if (n != static_cast<ssize_t>(sizeof header)) return false;
  auto read = feed_snapshot_source(std::string_view(header, sizeof header));
  if (!read.ok()) return false;
  *source = read.value();
  return true;
}

bool FeedService::adopt_shared_locked() const {
  FeedFileInfo source;
  if (!shared_source_locked(&source)) return false;
  if (has_source_ && current_source_ == source) return true;  // served already
  std::string bytes;
  FeedFileInfo file;
  if (!read_feed_file(shared_base_ + ".snapshot", options_.max_bytes * 4, &bytes, &file,
                      /*follow_symlinks=*/false)
           .ok())
    return false;
  auto whole = feed_snapshot_source(bytes);
  if (!whole.ok()) return false;
  auto shared = decode_feed_snapshot(bytes, whole.value(), now_());
  if (!shared.ok()) return false;
  ++shared_loads_;
  publish_locked(shared.value(), whole.value());
  return true;
}

Status FeedService::start_watching(std::chrono::milliseconds period) {
  if (path_.empty() || schema_ == nullptr) return Status::Ok();
  sync_now();
  std::lock_guard<std::mutex> lock(watch_mutex_);
  if (watching_.load()) return Status::Ok();
  if (watcher_.joinable()) watcher_.detach();  // inherited across fork(): no thread of ours
  watch_stop_ = false;
  try {
    watcher_ = std::thread([this, period] { watch_loop(period); });
  } catch (const std::system_error& e) {
    return Status::Internal(std::string("cannot start the feed watcher: ") + e.what());
  }
  watcher_pid_ = getpid();
  watching_.store(true);
  return Status::Ok();
}

void FeedService::stop_watching() {
  std::thread watcher;
  {
    std::lock_guard<std::mutex> lock(watch_mutex_);
    watch_stop_ = true;
    if (watcher_pid_ == getpid()) watcher = std::move(watcher_);
  }
  watch_wake_.notify_all();
  if (watcher.joinable()) watcher.join();
  watching_.store(false);
}

void FeedService::watch_loop(std::chrono::milliseconds period) {
  // httpd's signals are for its own threads.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  // Requests come first: the parse and validation run at a lower CPU priority (Linux takes a
  // thread id here). This is safe only because the thread has a malloc arena of its own (see
  // module.cc): on a shared arena, a request waiting for the arena lock of a preempted,
  // low-priority thread waited for the whole reload.
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
  // start_watching() has just synced: the first look is a period later.
  std::unique_lock<std::mutex> lock(watch_mutex_);
  while (!watch_wake_.wait_for(lock, period, [this] { return watch_stop_; })) {
    lock.unlock();
    // Requests hold a snapshot for one request only: a period after it was replaced, this
    // thread holds the old one's last reference and frees it here, not on a request's time.
    std::shared_ptr<const FeedSnapshot> retired;
    {
      std::lock_guard<std::mutex> reload_lock(reload_mutex_);
      retired.swap(retired_);
    }
    retired.reset();
    sync_now();
    lock.lock();
  }
}

}  // namespace core
}  // namespace natomedia
