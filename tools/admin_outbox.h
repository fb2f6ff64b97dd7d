// natomedia-admin's `outbox retry`: hands the messages the mail sender gave up on back to it.
#pragma once

#include <ostream>

#include <natomedia/services.h>

namespace natomedia::admin {

// Every message in state 'failed' that still has its text is queued again, due now, with a fresh
// 24-hour retry window (created_at and attempts reset: the sender gives up 24 hours after
// created_at). The message text, its Date and Message-ID are unchanged. A failed message loses
// its text 24 hours after it failed (core/mail_outbox.h, prune_outbox): those cannot be sent
// again, and are counted apart. Writes both numbers to `out`.
Status retry_failed_mail(Sql& sql, std::ostream& out);

}  // namespace natomedia::admin
