#include "core/mail_outbox.h"

#include <natomedia/text.h>

#include <cstdio>

namespace natomedia::core {

namespace {

bool plain_ascii(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

// No header may carry a line break: that would let a value add headers of its own.
std::string one_line(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == '\r' || c == '\n') ? ' ' : c;
  return out;
}

std::string base64(const std::string& data) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    unsigned v = (unsigned char)data[i] << 16 | (unsigned char)data[i + 1] << 8 |
                 (unsigned char)data[i + 2];
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i + 1 == data.size()) {
    unsigned v = (unsigned char)data[i] << 16;
    out += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == data.size()) {
    unsigned v = (unsigned char)data[i] << 16 | (unsigned char)data[i + 1] << 8;
    out += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  return out;
}

std::string base64_lines(const std::string& data) {
  std::string b = base64(data), out;
  for (size_t i = 0; i < b.size(); i += 76) out += b.substr(i, 76) + "\r\n";
  return out;
}

std::string rfc5322_date(std::time_t t) {
  char buf[64];
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string part(const std::string& type, const std::string& body) {
  return "Content-Type: " + type + "; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
         base64_lines(body);
}

}  // namespace

std::string encode_header_value(const std::string& value) {
  const std::string v = one_line(value);
  if (plain_ascii(v)) return v;
  // Encoded words of at most 45 input bytes, split on UTF-8 character boundaries.
  std::string out;
  size_t i = 0;
  while (i < v.size()) {
    size_t end = std::min(v.size(), i + 45);
    while (end < v.size() && (static_cast<unsigned char>(v[end]) & 0xC0) == 0x80) --end;
    out += (out.empty() ? "" : "\r\n ") + std::string("=?UTF-8?B?") + base64(v.substr(i, end - i)) +
           "?=";
    i = end;
  }
  return out;
}

Result<MailIdentity> parse_mail_from(const std::string& value) {
  std::string addr = value;
  size_t lt = value.find('<'), gt = value.rfind('>');
  if (lt != std::string::npos) {
    if (gt == std::string::npos || gt < lt)
      return Status::Invalid("'" + value + "' is not \"Name <address>\" nor a bare address");
    addr = value.substr(lt + 1, gt - lt - 1);
  }
  size_t at = addr.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= addr.size() ||
      addr.find_first_of(" \t\r\n<>\"") != std::string::npos)
    return Status::Invalid("'" + value + "' has no valid address; write e.g. "
                           "\"NATO Multimedia <noreply@example.org>\"");
  return MailIdentity{one_line(value), addr.substr(at + 1), addr};
}

std::string compose_mime(const MailMessage& m, const MailIdentity& from, std::time_t date,
                         const std::string& message_id, const std::string& boundary) {
  std::string out;
  std::string from_header = from.from;
  size_t lt = from_header.find('<');
  if (lt != std::string::npos && lt > 0) {
    std::string name = std::string(text::trim(from_header.substr(0, lt)));
    if (!plain_ascii(name)) from_header = encode_header_value(name) + " " + from_header.substr(lt);
  }
  out += "From: " + from_header + "\r\n";
  out += "To: " + one_line(m.to) + "\r\n";
  out += "Subject: " + encode_header_value(m.subject) + "\r\n";
  out += "Date: " + rfc5322_date(date) + "\r\n";
  out += "Message-ID: <" + message_id + ">\r\n";
  out += "Content-Language: " + one_line(m.lang) + "\r\n";
  out += "Auto-Submitted: auto-generated\r\n";
  for (const auto& [name, value] : m.headers)
    out += one_line(name) + ": " + encode_header_value(value) + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  if (m.html.empty()) return out + part("text/plain", m.text);
  out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  out += "--" + boundary + "\r\n" + part("text/plain", m.text);
  out += "--" + boundary + "\r\n" + part("text/html", m.html);
  out += "--" + boundary + "--\r\n";
  return out;
}

Status SqlOutbox::queue(Sql& sql, const MailMessage& message) {
  if (message.to.empty() || message.to.find_first_of("\r\n<>") != std::string::npos)
    return Status::Invalid("bad recipient address");
  const std::time_t now = clock_.now();
  const std::string id = crypto_.random_token(18) + "@" + from_.domain;
  const std::string boundary = "=_nm_" + crypto_.random_token(12);
  const std::string mime = compose_mime(message, from_, now, id, boundary);
  auto r = sql.exec(
      "INSERT INTO mail_outbox (recipient, subject, message, status, attempts, created_at, "
      "next_attempt_at) VALUES (%s, %s, %s, 'queued', 0, %s, %s)",
      {message.to, message.subject, mime, std::to_string(now), std::to_string(now)});
  if (!r.ok()) return r.status();
  metrics_.add("natomedia_mails_queued_total");
  return Status::Ok();
}

Result<std::vector<Pruned>> prune_outbox(Sql& sql, const SiteConfig&, std::time_t now) {
  auto delivered = sql.exec("DELETE FROM mail_outbox WHERE status = 'sent' AND sent_at <= %s",
                            {std::to_string(now - kDeliveredRetention)});
  if (!delivered.ok()) return delivered.status();
  auto emptied = sql.exec(
      "UPDATE mail_outbox SET message = '' WHERE status = 'failed' AND message <> '' AND "
      "failed_at <= %s",
      {std::to_string(now - kFailedTextRetention)});
  if (!emptied.ok()) return emptied.status();
  auto failed = sql.exec("DELETE FROM mail_outbox WHERE status = 'failed' AND failed_at <= %s",
                         {std::to_string(now - kFailedRetention)});
  if (!failed.ok()) return failed.status();
  return std::vector<Pruned>{
      {"delivered mails", *delivered}, {"failed mail bodies", *emptied}, {"failed mails", *failed}};
}

}  // namespace natomedia::core
