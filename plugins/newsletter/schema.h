// The newsletter's tables (SQLite and PostgreSQL 15):
//   subscriptions           one row per account, kept when it unsubscribes (state says which)
//   consents                every consent given and withdrawn, never deleted: the proof
//   newsletter_issues       each issue sent, with the feed items it carried
//   newsletter_deliveries   (issue, subscription) unique: an issue goes to a subscriber once
#pragma once

#include <vector>

#include <natomedia/services.h>

namespace natomedia::newsletter {

std::vector<Migration> migrations();

}  // namespace natomedia::newsletter
