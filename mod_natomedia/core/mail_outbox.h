// The durable outbox: messages are composed (RFC 5322, multipart text + HTML) when they are
// queued and stored whole in mail_outbox, in the caller's transaction.
#pragma once

#include <ctime>
#include <string>

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
