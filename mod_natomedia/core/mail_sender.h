// Delivers the outbox outside the request path: called every second by one process per server
// (the module runs it from a mod_watchdog singleton callback). Messages are taken oldest first,
// claimed atomically (so two servers sharing PostgreSQL never send one twice), delivered through
// the configured transport, and on failure retried with exponential back-off for up to 24 hours,
// then marked failed (failed_at). The statement that marks a message sent also empties its text:
// no code stays at rest (the outbox's pruner, core/mail_outbox.h, handles the failed ones).
//
// Not thread-safe: one MailSender is driven by one thread (the watchdog's) at a time.
#pragma once

#include <ctime>
#include <string>

#include <natomedia/services.h>

#include "core/settings.h"

namespace natomedia::core {

// The gauge deliver_due sets when a run has read the outbox (Unix time): the health page tells
// from it whether the sender is alive, whichever child runs it.
constexpr const char* kMailSenderLastRunGauge = "natomedia_mail_sender_last_run_timestamp_seconds";

struct DeliveryReport {
  int sent = 0;
  int retried = 0;  // failed this time, will be tried again
  int failed = 0;   // given up
};

class MailSender {
 public:
  // How long a claim protects a message from other senders: longer than one SMTP transaction
  // (60 s total timeout), so a claim only lapses when its sender died mid-delivery.
  static constexpr long kClaimSeconds = 300;
  // Messages older than this are given up after their next failed attempt.
  static constexpr long kGiveUpSeconds = 24 * 3600;

  // `envelope_from` is the bare address of NatoMediaMailFrom (the SMTP MAIL FROM).
  MailSender(MailTransport transport, std::string envelope_from, Metrics& metrics,
             const Clock& clock);
  // Delivers at most `max_messages` due messages using `sql` (a connection of its own, outside
  // any transaction). Unavailable when the database cannot be reached; a failed delivery is not
  // an error (it is recorded on the message and counted in the report).
  Result<DeliveryReport> deliver_due(Sql& sql, int max_messages);

  // Seconds to wait after a failed attempt, given the attempts that failed before it:
  // 30 s × 2^previous_attempts, at most one hour.
  static long backoff_seconds(int previous_attempts);

 private:
  enum class Outcome { kSent, kRetry, kFailed, kLost };
  Outcome deliver_one(Sql& sql, const std::string& id, std::time_t now);
  Status send(const std::string& recipient, const std::string& message);
  Status send_smtp(const std::string& recipient, const std::string& message);
  Status send_file(const std::string& message);

  MailTransport transport_;
  std::string envelope_from_;
  Metrics& metrics_;
  const Clock& clock_;
  std::string sender_id_;  // names this process's claims
};

}  // namespace natomedia::core
