#include "core/mail_sender.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <natomedia/text.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace natomedia::core {

namespace {

constexpr size_t kMaxError = 900;  // last_error is VARCHAR(1000)

std::string random_hex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    return {};
  return text::hex_encode(raw);
}

std::string host_name() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  std::string h = buf;
  // Maildir names use '/' and ':' specially; neither belongs in a host name anyway.
  std::replace(h.begin(), h.end(), '/', '_');
  std::replace(h.begin(), h.end(), ':', '_');
  return h;
}

std::string clip(std::string s) {
  for (char& c : s)
    if (c == '\r' || c == '\n') c = ' ';
  if (s.size() > kMaxError) s.resize(kMaxError);
  return s;
}

// libcurl must be initialised once per process before any handle is made.
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t read_upload(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* up = static_cast<Upload*>(userdata);
  size_t n = std::min(size * nitems, up->data->size() - up->offset);
  std::memcpy(buffer, up->data->data() + up->offset, n);
  up->offset += n;
  return n;
}

// Maildir keeps messages with the local line end.
std::string lf_lines(const std::string& crlf) {
  std::string out;
  out.reserve(crlf.size());
  for (size_t i = 0; i < crlf.size(); ++i)
    if (!(crlf[i] == '\r' && i + 1 < crlf.size() && crlf[i + 1] == '\n')) out += crlf[i];
  return out;
}

Status ensure_dir(const std::string& path) {
  if (mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return Status::Ok();
  return Status::Unavailable("cannot create " + path + ": " + std::strerror(errno));
}

Status write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::Unavailable(std::string("write failed: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

MailSender::MailSender(MailTransport transport, std::string envelope_from, Metrics& metrics,
                       const Clock& clock)
    : transport_(std::move(transport)), envelope_from_(std::move(envelope_from)),
      metrics_(metrics), clock_(clock) {}

long MailSender::backoff_seconds(int previous_attempts) {
  long wait = 30;
  for (int i = 0; i < previous_attempts && wait < 3600; ++i) wait *= 2;
  return std::min(wait, 3600L);
}

Result<DeliveryReport> MailSender::deliver_due(Sql& sql, int max_messages) {
  // A fresh id per run names this run's claims (the sender is built in httpd's parent and runs
  // in a forked child, so nothing computed at construction would tell processes apart).
  sender_id_ = host_name().substr(0, 40) + ":" + std::to_string(getpid()) + ":" + random_hex(6);
  DeliveryReport report;
  const std::time_t now = clock_.now();
  auto due = sql.query(
      "SELECT id FROM mail_outbox WHERE status = 'queued' AND next_attempt_at <= %s"
      " AND (claimed_until IS NULL OR claimed_until < %s) ORDER BY id LIMIT 100",
      {std::to_string(now), std::to_string(now)});
  if (!due.ok()) return due.status();
  metrics_.set(kMailSenderLastRunGauge, static_cast<uint64_t>(now));
  for (size_t i = 0; i < due->size() && report.sent + report.retried + report.failed <
                                             max_messages; ++i) {
    switch (deliver_one(sql, due->text(i, "id"), clock_.now())) {
      case Outcome::kSent: ++report.sent; break;
      case Outcome::kRetry: ++report.retried; break;
      case Outcome::kFailed: ++report.failed; break;
      case Outcome::kLost: break;
    }
  }
  return report;
}

// Claim, deliver, record. A claim is an UPDATE that only one sender can win; when recording
// the result fails the claim lapses after kClaimSeconds and the message is tried again.
MailSender::Outcome MailSender::deliver_one(Sql& sql, const std::string& id, std::time_t now) {
  const std::string t = std::to_string(now);
  auto claimed = sql.exec(
      "UPDATE mail_outbox SET claimed_by = %s, claimed_until = %s WHERE id = %s"
      " AND status = 'queued' AND next_attempt_at <= %s"
      " AND (claimed_until IS NULL OR claimed_until < %s)",
      {sender_id_, std::to_string(now + kClaimSeconds), id, t, t});
  if (!claimed.ok() || *claimed != 1) return Outcome::kLost;
  auto row = sql.query(
      "SELECT recipient, message, attempts, created_at FROM mail_outbox"
      " WHERE id = %s AND claimed_by = %s",
      {id, sender_id_});
  if (!row.ok() || row->empty()) return Outcome::kLost;

  Status sent = send(row->text(0, "recipient"), row->text(0, "message"));
  const std::time_t done = clock_.now();
  if (sent.ok()) {
    sql.exec(
        "UPDATE mail_outbox SET status = 'sent', sent_at = %s, attempts = attempts + 1,"
        " message = '', last_error = NULL, claimed_until = NULL"
        " WHERE id = %s AND claimed_by = %s",
        {std::to_string(done), id, sender_id_});
    metrics_.add("natomedia_mails_sent_total");
    return Outcome::kSent;
  }
  metrics_.add("natomedia_mail_attempt_errors_total");
  const int attempts = static_cast<int>(row->integer(0, "attempts"));
  const bool give_up = done - row->integer(0, "created_at") >= kGiveUpSeconds;
  sql.exec(
      "UPDATE mail_outbox SET status = %s, attempts = attempts + 1, next_attempt_at = %s,"
      " failed_at = %s, last_error = %s, claimed_until = NULL WHERE id = %s AND claimed_by = %s",
      {give_up ? "failed" : "queued", std::to_string(done + backoff_seconds(attempts)),
       give_up ? SqlValue(std::to_string(done)) : SqlValue(), clip(sent.message()), id,
       sender_id_});
  if (!give_up) return Outcome::kRetry;
  metrics_.add("natomedia_mails_failed_total");
  return Outcome::kFailed;
}

Status MailSender::send(const std::string& recipient, const std::string& message) {
  if (transport_.kind == MailTransport::Kind::kFile) return send_file(message);
  return send_smtp(recipient, message);
}

Status MailSender::send_smtp(const std::string& recipient, const std::string& message) {
  init_curl_once();
  CURL* curl = curl_easy_init();
  if (!curl) return Status::Unavailable("smtp: cannot make a libcurl handle");
  char errbuf[CURL_ERROR_SIZE] = {0};
  Upload upload{&message};
  const std::string from = "<" + envelope_from_ + ">";
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + recipient + ">").c_str());

  // AUTH comes from user:password in the URL; certificates are always checked.
  curl_easy_setopt(curl, CURLOPT_URL, transport_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  if (transport_.kind == MailTransport::Kind::kSmtp)
    curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));

  CURLcode rc = curl_easy_perform(curl);
  long response = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  if (rc == CURLE_OK) return Status::Ok();
  std::string why = "smtp: " + std::string(curl_easy_strerror(rc));
  if (errbuf[0]) why += ": " + std::string(errbuf);
  if (response) why += " (last reply " + std::to_string(response) + ")";
  return Status::Unavailable(why);
}

// Maildir delivery: the whole file appears in new/ at once (rename), never half written.
Status MailSender::send_file(const std::string& message) {
  const std::string& dir = transport_.dir;
  for (const std::string& sub : {dir, dir + "/tmp", dir + "/new"}) {
    Status s = ensure_dir(sub);
    if (!s.ok()) return s;
  }
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  const std::string unique = std::to_string(tv.tv_sec) + ".M" + std::to_string(tv.tv_usec) + "P" +
                             std::to_string(getpid()) + "R" + random_hex(8) + "." + host_name();
  const std::string tmp = dir + "/tmp/" + unique;
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Unavailable("cannot create " + tmp + ": " + std::strerror(errno));
  Status w = write_all(fd, lf_lines(message));
  if (w.ok() && fsync(fd) != 0) w = Status::Unavailable("fsync " + tmp + ": " + strerror(errno));
  close(fd);
  if (w.ok() && rename(tmp.c_str(), (dir + "/new/" + unique).c_str()) != 0)
    w = Status::Unavailable("cannot move " + tmp + " into new/: " + std::strerror(errno));
  if (!w.ok()) unlink(tmp.c_str());
  return w;
}

}  // namespace natomedia::core
