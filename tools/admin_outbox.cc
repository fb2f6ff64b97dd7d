#include "admin_outbox.h"

#include <ctime>
#include <string>

namespace natomedia::admin {

Status retry_failed_mail(Sql& sql, std::ostream& out) {
  const std::string now = std::to_string(static_cast<long long>(std::time(nullptr)));
  auto changed = sql.exec(
      "UPDATE mail_outbox SET status = 'queued', next_attempt_at = %s, created_at = %s, "
      "attempts = 0, failed_at = NULL, claimed_by = NULL, claimed_until = NULL "
      "WHERE status = 'failed' AND message <> ''",
      {now, now});
  if (!changed.ok()) return changed.status();
  auto lost = sql.query(
      "SELECT COUNT(*) AS n FROM mail_outbox WHERE status = 'failed' AND message = ''", {});
  if (!lost.ok()) return lost.status();
  const long long without_text = lost->empty() ? 0 : lost->integer(0, "n");
  if (*changed == 0 && without_text == 0)
    out << "no failed messages: nothing to retry\n";
  else if (*changed > 0)
    out << "re-queued " << *changed << " failed message(s); the mail sender delivers them "
        << "within seconds\n";
  if (without_text > 0)
    out << without_text << " failed message(s) lost their text 24 hours after they failed "
        << "(no codes are kept at rest) and cannot be sent again\n";
  return Status::Ok();
}

}  // namespace natomedia::admin
