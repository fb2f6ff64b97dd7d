#include "core/feed_service.h"

#include "core/feed_snapshot_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <functional>
#include <limits>
#include <utility>

namespace natomedia {
namespace core {

namespace {

// Writes `bytes` to `path` by a temporary file and a rename, so a reader sees the old file or
// the new one, never half of one. Best effort: on failure the next process parses the XML.
void write_whole_file(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp" + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  bool ok = close(fd) == 0 && done == bytes.size();
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) unlink(tmp.c_str());
}

}  // namespace

FeedService::FeedService(std::string path, std::shared_ptr<const FeedSchema> schema,
                         std::function<void(const std::string& message)> log_error,
                         std::function<std::time_t()> now, LoadOptions options,
                         ReloadMode mode)
    : path_(std::move(path)),
      schema_(std::move(schema)),
      log_error_(std::move(log_error)),
      now_(std::move(now)),
      options_(options),
      current_(std::make_shared<const FeedSnapshot>()),
      last_check_(std::numeric_limits<std::time_t>::min()),
      mode_(mode) {}

FeedService::~FeedService() {
  std::lock_guard<std::mutex> lock(thread_mutex_);
  if (!reloader_.joinable()) return;
  // A thread object inherited across fork() names no thread of this process.
  if (reloader_pid_ == getpid())
    reloader_.join();
  else
    reloader_.detach();
}

std::shared_ptr<const FeedSnapshot> FeedService::current() const {
  return std::atomic_load(&current_);
}

std::shared_ptr<const FeedSnapshot> FeedService::snapshot() const {
  check_for_change();
  return std::atomic_load(&current_);
}

void FeedService::check_for_change() const {
  if (path_.empty() || schema_ == nullptr) return;
  std::time_t now = now_();
  std::time_t last = last_check_.load(std::memory_order_relaxed);
  if (last != std::numeric_limits<std::time_t>::min() && now - last < 1 && now >= last) return;
  // One thread a second wins the right to stat; the others serve what they have.
  if (!last_check_.compare_exchange_strong(last, now, std::memory_order_relaxed)) return;
  if (mode_ == ReloadMode::kBackground) {
    struct stat st;
    if (stat(path_.c_str(), &st) != 0) return;
    {
      std::unique_lock<std::mutex> lock(reload_mutex_, std::try_to_lock);
      if (!lock.owns_lock() || (attempted_ && feed_file_info(st) == last_attempt_)) return;
    }
    start_background_reload();
    return;
  }
  std::unique_lock<std::mutex> lock(reload_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;
  reload_if_changed_locked();
}

void FeedService::start_background_reload() const {
  if (reloading_.exchange(true)) return;
  std::lock_guard<std::mutex> lock(thread_mutex_);
  if (reloader_.joinable()) {
    if (reloader_pid_ == getpid())
      reloader_.join();  // the previous reload, finished (reloading_ was false)
    else
      reloader_.detach();
  }
  reloader_pid_ = getpid();
  reloader_ = std::thread([this] {
    // Requests come first: the parse and validation run at a lower CPU priority (Linux takes a
    // thread id here). This is safe only because the thread has a malloc arena of its own (see
    // module.cc): on a shared arena, a request waiting for the arena lock of a preempted,
    // low-priority reload thread waited for the whole reload.
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
    {
      std::lock_guard<std::mutex> reload_lock(reload_mutex_);
      reload_if_changed_locked();
    }
    // Requests hold a snapshot for one request only: after a moment this thread holds the
    // retired one's last reference and frees it here, not on a request's time.
    std::shared_ptr<const FeedSnapshot> retired;
    {
      std::lock_guard<std::mutex> reload_lock(reload_mutex_);
      retired.swap(retired_);
    }
    if (retired) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      retired.reset();
    }
    reloading_.store(false);
  });
}

void FeedService::reload_if_changed_locked() const {
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) return;  // a file being replaced: look again later
  FeedFileInfo seen = feed_file_info(st);
  if (attempted_ && seen == last_attempt_) return;
  attempted_ = true;  // each version of the file is tried, and a failure logged, once
  last_attempt_ = seen;
  Status status = shared_base_.empty() ? reload_locked() : reload_shared_locked(seen);
  if (!status.ok() && log_error_) {
    log_error_("natomedia: feed " + path_ +
               " not reloaded, the last good one stays: " + status.message());
  }
}

Status FeedService::load_now() {
  if (path_.empty()) return Status::Invalid("no feed file configured");
  if (schema_ == nullptr) return Status::Internal("no feed schema");
  std::lock_guard<std::mutex> lock(reload_mutex_);
  last_check_.store(now_(), std::memory_order_relaxed);
  return reload_locked();
}

Status FeedService::reload_locked() const {
  std::string content;
  FeedFileInfo info;
  Status status = read_feed_file(path_, options_.max_bytes, &content, &info);
  if (!status.ok()) return status;
  attempted_ = true;
  last_attempt_ = info;
  auto loaded = load_feed_document(content, path_, info.mtime, now_(), *schema_, options_);
  ++parses_;
  if (!loaded.ok()) return loaded.status();
  if (!shared_base_.empty())
    write_whole_file(shared_base_ + ".snapshot", encode_feed_snapshot(*loaded.value(), info));
  publish_locked(loaded.value());
  return Status::Ok();
}

void FeedService::publish_locked(std::shared_ptr<const FeedSnapshot> snapshot) const {
  // The old snapshot is kept here, not dropped: whoever drops the last reference frees ten
  // thousand items, and that should be the reload thread, not a request.
  retired_ = std::atomic_exchange(&current_, std::move(snapshot));
}

void FeedService::share_loads_in(std::string dir) {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  if (dir.empty()) {
    shared_base_.clear();
    return;
  }
  // One pair of files per feed path; the snapshot inside names the file version it is of.
  char key[17];
  snprintf(key, sizeof key, "%016zx", std::hash<std::string>()(path_));
  shared_base_ = dir + "/feed-" + key;
}

Status FeedService::reload_shared_locked(const FeedFileInfo& seen) const {
  // Processes take turns: whoever holds the lock either finds the snapshot of this version or
  // makes it. A lock file that cannot be opened means loading alone.
  int lock_fd =
      open((shared_base_ + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock_fd < 0) return reload_locked();
  while (flock(lock_fd, LOCK_EX) != 0 && errno == EINTR) {
  }
  std::string bytes;
  FeedFileInfo snapshot_file;
  if (read_feed_file(shared_base_ + ".snapshot", options_.max_bytes * 4, &bytes, &snapshot_file,
                     /*follow_symlinks=*/false)
          .ok()) {
    auto shared = decode_feed_snapshot(bytes, seen, now_());
    if (shared.ok()) {
      ++shared_loads_;
      publish_locked(shared.value());
      close(lock_fd);
      return Status::Ok();
    }
  }
  Status status = reload_locked();
  close(lock_fd);  // releases the lock
  return status;
}

}  // namespace core
}  // namespace natomedia
