// The health answer (CONTRACT section 14, `SetHandler natomedia-health`): whether the services a
// portal needs answer now, for a load balancer or a monitor. 200 with the JSON when all is well,
// 503 with the same JSON naming what is down. Each check is one cheap round trip.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

#include <natomedia/plugin.h>

#include "core/portal.h"

namespace natomedia::core {

// How long the mail sender (a watchdog callback every second) may go without a run before it
// counts as down.
constexpr long kMailSenderStaleSeconds = 120;

struct HealthInputs {
  Sql* sql = nullptr;      // a connection, or nullptr when none could be had
  Cache* cache = nullptr;  // the memcached pool
  bool memcached_configured = false;
  const Feed* feed = nullptr;  // the site's feed
  bool feed_configured = false;
  bool mail_sender_configured = false;
  std::time_t mail_sender_last_run = 0;  // 0: not yet (since this server started)
  std::time_t now = 0;
};

struct HealthReport {
  bool ok = true;
  std::string json;
};

HealthReport check_health(const HealthInputs& in);

}  // namespace natomedia::core
