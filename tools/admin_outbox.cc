#include "admin_outbox.h"

#include <ctime>
#include <string>

namespace natomedia::admin {

Status retry_failed_mail(Sql& sql, std::ostream& out) {
  const std::string now = std::to_string(static_cast<long long>(std::time(nullptr)));
  auto changed = sql.exec(
      "UPDATE mail_outbox SET status = 'queued', next_attempt_at = %s, created_at = %s, "
      "attempts = 0, claimed_by = NULL, claimed_until = NULL WHERE status = 'failed'",
      {now, now});
  if (!changed.ok()) return changed.status();
  if (*changed == 0)
    out << "no failed messages: nothing to retry\n";
  else
    out << "re-queued " << *changed << " failed message(s); the mail sender delivers them "
        << "within seconds\n";
  return Status::Ok();
}

}  // namespace natomedia::admin
