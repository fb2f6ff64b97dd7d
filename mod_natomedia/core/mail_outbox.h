// The durable outbox: messages are composed (RFC 5322, multipart text + HTML) when they are
// queued and stored whole in mail_outbox, in the caller's transaction. No codes at rest (CONTRACT
// section 12): the sender empties a message's text (the `message` column) in the statement that
// marks it sent (core/mail_sender.h); the row keeps recipient, subject, times and status.
#pragma once

#include <ctime>
#include <string>

#include <natomedia/plugin.h>
#include <natomedia/services.h>

namespace natomedia::core {

struct MailIdentity {
  std::string from;  // "Name <addr>" as NatoMediaMailFrom
  std::string domain;  // for Message-ID: the From address's domain
  std::string address;  // the bare address, for the SMTP envelope
};

// Parses NatoMediaMailFrom: "Name <addr@domain>" or a bare "addr@domain". Invalid says the form.
Result<MailIdentity> parse_mail_from(const std::string& value);

// The whole message, CRLF line ends, ready for SMTP. `message_id` without the angle brackets.
std::string compose_mime(const MailMessage& message, const MailIdentity& from, std::time_t date,
                         const std::string& message_id, const std::string& boundary);

// RFC 2047 encoded-word for a header value that is not plain ASCII.
std::string encode_header_value(const std::string& value);

// How long the outbox keeps what (CONTRACT section 12).
inline constexpr std::time_t kDeliveredRetention = 7 * 86400;  // a delivered row, from sent_at
inline constexpr std::time_t kFailedTextRetention = 86400;     // a failed message's text, for
                                                               // `outbox retry`, from failed_at
inline constexpr std::time_t kFailedRetention = 7 * 86400;     // a failed row, from failed_at

// The core's pruner (registered by PluginRegistry): deletes rows delivered kDeliveredRetention
// ago, empties the text of messages that failed kFailedTextRetention ago and deletes failed rows
// after kFailedRetention. Counts "delivered mails", "failed mail bodies", "failed mails".
Result<std::vector<Pruned>> prune_outbox(Sql& sql, const SiteConfig& config, std::time_t now);

class SqlOutbox : public Outbox {
 public:
  SqlOutbox(MailIdentity from, Crypto& crypto, const Clock& clock, Metrics& metrics)
      : from_(std::move(from)), crypto_(crypto), clock_(clock), metrics_(metrics) {}
  Status queue(Sql& sql, const MailMessage& message) override;

 private:
  MailIdentity from_;
  Crypto& crypto_;
  const Clock& clock_;
  Metrics& metrics_;
};

}  // namespace natomedia::core
