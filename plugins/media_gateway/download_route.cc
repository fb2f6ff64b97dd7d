#include "download_route.h"

#include <chrono>
#include <thread>

#include <natomedia/providers.h>
#include <natomedia/text.h>

#include "byte_ranges.h"
#include "conditional.h"
#include "content_disposition.h"
#include "download_log.h"
#include "download_quota.h"
#include "item_view.h"
#include "media_paths.h"
#include "signed_links.h"

namespace natomedia::media_gateway {

namespace {

// Who asks for the file, or the answer that refuses it.
struct Downloader {
  int64_t account_id = 0;
  std::optional<Response> refusal;
};

// A signed link is checked against its account as stored now: the signature binds the account's
// credential epoch, so a link made before the password or address changed, or before the account
// was disabled, is refused at once, not when it expires; so is a link of a deleted account. A
// link whose account cannot be found answers as a forged one does (403), naming no account.
Downloader link_holder(Context& ctx, int64_t account_id, const std::string& path) {
  Downloader d;
  auto accounts = find_provider<AccountService>(ctx, kAccountServiceName, kAccountServiceVersion);
  if (!accounts) {
    ctx.log(LogLevel::kError,
            "signed download links need the natomedia.accounts provider "
            "(NatoMediaPlugin authentication)");
    d.refusal = ctx.unavailable(30);
    return d;
  }
  auto account = accounts->find_by_id(ctx, account_id);
  if (!account.ok() && account.status().code() != Status::Code::kNotFound) {
    ctx.log(LogLevel::kWarning, "signed download link: " + account.status().message());
    d.refusal = ctx.unavailable(30);
    return d;
  }
  const LinkCheck link = account.ok() ? check_link(ctx.crypto(), ctx.request().query, path,
                                                   account->credential_epoch, ctx.clock().now())
                                      : LinkCheck::kBad;
  if (link == LinkCheck::kBad) {
    ctx.log(LogLevel::kInfo, "refused a download link for " + path + " of account " +
                                 std::to_string(account_id) +
                                 (account.ok() ? ": a bad signature, or made before the "
                                                 "account's credentials changed"
                                               : ": no such account"));
    d.refusal = ctx.error(403, "media.download.bad_link");
  } else if (link == LinkCheck::kExpired) {
    d.refusal = ctx.error(410, "media.download.expired_link");
  } else if (account->state != "verified") {
    ctx.log(LogLevel::kInfo, "refused a signed download link for " + path + ": account " +
                                 std::to_string(account_id) + " is " + account->state);
    d.refusal = ctx.error(403, "media.download.link_account");
  } else {
    d.account_id = account_id;
  }
  return d;
}

Downloader identify(Context& ctx, const NewsItem& item, const std::string& path) {
  Downloader d;
  const LinkClaim claim = claimed_account(ctx.request().query);
  if (claim.shape == LinkClaim::Shape::kMalformed) {
    ctx.log(LogLevel::kInfo, "refused a malformed download link for " + path);
    d.refusal = ctx.error(403, "media.download.bad_link");
    return d;
  }
  if (claim.shape == LinkClaim::Shape::kWellFormed) return link_holder(ctx, claim.account_id, path);
  auto account = ctx.account();
  if (!account) {
    d.refusal = ctx.sign_in_required(video_path(item));  // base-relative: the SDK adds the base
  } else if (account->state != "verified") {
    d.refusal = ctx.error(403, "media.download.unverified");
  } else {
    d.account_id = account->id;
  }
  return d;
}

// NatoMediaDownloadQuota: reserves the bytes this answer may carry (the whole file, or the
// range asked for) before httpd sends it; a request that would take the account past its bytes
// for the day is refused. `reserved` gets what was reserved, to be settled after the answer.
std::optional<Response> over_quota(Context& ctx, int64_t account_id, uint64_t bytes,
                                   std::time_t now, uint64_t& reserved) {
  reserved = 0;
  const uint64_t quota = ctx.config().download_quota;
  if (quota == 0 || bytes == 0) return std::nullopt;
  auto granted = DownloadQuota::reserve(ctx.sql(), account_id, bytes, quota, now);
  if (!granted.ok()) {
    ctx.log(LogLevel::kWarning, "download quota: " + granted.status().message());
    return ctx.unavailable(60);
  }
  if (*granted) {
    reserved = bytes;
    return std::nullopt;
  }
  Vars vars;
  vars["title"] = ctx.i18n().text(ctx.request().lang, "media.quota.title");
  Response r = ctx.page(429, "media_gateway/quota.html", std::move(vars));
  r.header("Retry-After", std::to_string(86400 - now % 86400));
  return r;
}

bool plain_media_type(const std::string& t) {
  if (t.empty() || t.size() > 100 || t.find('/') == std::string::npos) return false;
  for (char c : t)
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7F || c == ';' || c == ',') return false;
  return true;
}

std::string file_extension(const std::string& href) {
  size_t slash = href.rfind('/');
  size_t dot = href.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  return href.substr(dot);
}

std::string download_name(const NewsItem& item, const Rendition& rendition) {
  if (!rendition.filename.empty()) return rendition.filename;
  auto headline = item.headline.get("en");
  std::string name = headline.text ? *headline.text : item.id;
  return name + " " + rendition.id + file_extension(rendition.href);
}

// Runs `write` until it succeeds or fails for another reason than a busy database, for about
// 10 s: the answer has gone, and a database busy for a few seconds (another writer on SQLite, a
// PostgreSQL restart) must not lose what it says.
template <typename Write>
auto with_retries(Metrics* metrics, Write write) {
  auto done = write();
  for (int wait_ms : {250, 500, 1000, 1000, 2000, 2000, 3000}) {
    if (done.ok() || done.status().code() != Status::Code::kUnavailable) break;
    metrics->add("natomedia_sql_errors_total");
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    done = write();
  }
  return done;
}

// What a GET reserved of the day's quota, to be settled after the answer.
struct Reservation {
  bool counted = false;  // NatoMediaDownloadQuota is set
  uint64_t bytes = 0;
  std::time_t at = 0;
};

// Records the answer once it has gone out: only bodies of the file (200, 206) count, in the log
// and in the day's quota, where the reservation is settled on the bytes really sent.
std::function<void(Sql&, uint64_t, int)> logger(Context& ctx, DownloadKey key,
                                                Reservation reserved) {
  Metrics* metrics = &ctx.metrics();
  const Clock* clock = &ctx.clock();
  return [metrics, clock, key, reserved](Sql& sql, uint64_t bytes, int status) {
    const bool file_sent = status == 200 || status == 206;
    if (file_sent) {
      metrics->add(kDownloadBytesCounter, bytes);
      const std::time_t at = clock->now();
      Result<bool> started =
          with_retries(metrics, [&] { return DownloadLog::record(sql, key, bytes, status, at); });
      if (started.ok() && *started) metrics->add(kDownloadsCounter);
    }
    if (!reserved.counted) return;
    with_retries(metrics, [&]() -> Result<bool> {
      Status s = DownloadQuota::settle(sql, key.account_id, reserved.bytes, file_sent ? bytes : 0,
                                       reserved.at);
      if (!s.ok()) return s;
      return true;
    });
  };
}

}  // namespace

std::string download_etag(const Crypto& crypto, const NewsItem& item, const Rendition& rendition,
                          uint64_t size, std::time_t mtime) {
  const std::string data = item.guid + "\n" + item.version + "\n" + rendition.id + "\n" +
                           std::to_string(size) + "\n" + std::to_string(mtime);
  return "\"" + crypto.sha256_hex(data).substr(0, 32) + "\"";
}

Response download(Context& ctx) {
  auto snapshot = ctx.feed().snapshot();
  const NewsItem* item = snapshot->find(ctx.request().route.get_or("id"));
  const Rendition* rendition =
      item ? item->rendition(ctx.request().route.get_or("rendition")) : nullptr;
  if (!rendition) return ctx.error(404, "error.404.message");
  const std::string path = download_path(*item, *rendition);

  Downloader who = identify(ctx, *item, path);
  if (who.refusal) return std::move(*who.refusal);

  auto file = resolve_under(ctx.config().media_root, rendition->href);
  if (!file.ok()) {
    ctx.log(file.status().code() == Status::Code::kInvalid ? LogLevel::kWarning : LogLevel::kError,
            "download " + path + " refused: " + file.status().message());
    return ctx.error(404, "error.404.message");
  }
  const std::string type = plain_media_type(rendition->content_type) ? rendition->content_type
                                                                     : "application/octet-stream";
  const std::string etag = download_etag(ctx.crypto(), *item, *rendition, file->size, file->mtime);
  Validators validators{etag, file->mtime, "private, no-transform"};
  // The client's copy is current: 304 here, so it needs no quota (httpd would say the same, but
  // only after the file's bytes had been reserved). If-Match and If-Unmodified-Since are left
  // to httpd, which answers them before If-None-Match.
  if (!ctx.request().header("if-match") && !ctx.request().header("if-unmodified-since") &&
      client_copy_current(ctx.request(), validators)) {
    Response r = not_modified(validators);
    r.content_type = type;
    return r;
  }
  const bool get = ctx.request().method == "GET";  // HEAD carries no bytes: it reserves none
  const DownloadKey key{who.account_id, item->id, rendition->id,
                        get ? whole_file_bucket(ctx.crypto().random_bytes(8)) : 0};
  Reservation reserved{ctx.config().download_quota != 0, 0, ctx.clock().now()};
  if (get) {
    const uint64_t bytes = most_bytes_sent(ctx.request(), file->size, etag, type);
    if (auto refusal = over_quota(ctx, who.account_id, bytes, reserved.at, reserved.bytes))
      return std::move(*refusal);
  }

  Response r;
  r.file =
      FileBody{file->path, type, etag, attachment_disposition(download_name(*item, *rendition))};
  r.header("Cache-Control", validators.cache_control);
  if (get) r.after_sent = logger(ctx, key, reserved);
  return r;
}

const Rendition* preview_rendition(const NewsItem& item, const std::string& named) {
  auto is_video = [](const Rendition& r) { return r.content_type.rfind("video/", 0) == 0; };
  const Rendition* best = nullptr;
  for (const auto& r : item.renditions) {
    if (!is_video(r)) continue;
    if (!named.empty() && r.id == named) return &r;
    const uint64_t pixels = static_cast<uint64_t>(r.width) * static_cast<uint64_t>(r.height);
    if (!best || r.size < best->size ||
        (r.size == best->size &&
         pixels < static_cast<uint64_t>(best->width) * static_cast<uint64_t>(best->height)))
      best = &r;
  }
  return best;
}

Response preview(Context& ctx) {
  auto snapshot = ctx.feed().snapshot();
  const NewsItem* item = snapshot->find(ctx.request().route.get_or("id"));
  const Rendition* rendition =
      item ? preview_rendition(*item, ctx.config().preview_rendition) : nullptr;
  if (!rendition) return ctx.error(404, "error.404.message");
  auto file = resolve_under(ctx.config().media_root, rendition->href);
  if (!file.ok()) {
    ctx.log(file.status().code() == Status::Code::kInvalid ? LogLevel::kWarning : LogLevel::kError,
            "preview of item " + item->id + " refused: " + file.status().message());
    return ctx.error(404, "error.404.message");
  }
  const std::string type = plain_media_type(rendition->content_type) ? rendition->content_type
                                                                     : "application/octet-stream";
  Response r;
  r.file = FileBody{file->path, type,
                    download_etag(ctx.crypto(), *item, *rendition, file->size, file->mtime),
                    "inline"};
  r.header("Cache-Control", "public, max-age=3600");
  return r;
}

}  // namespace natomedia::media_gateway
