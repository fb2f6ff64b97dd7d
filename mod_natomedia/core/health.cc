#include "core/health.h"

#include <string>
#include <vector>

namespace natomedia::core {

namespace {

// The JSON holds only fixed names and numbers, so nothing needs escaping.
class JsonObject {
 public:
  JsonObject& field(const std::string& name, const std::string& raw_value) {
    body_ += (body_.empty() ? "\"" : ",\"") + name + "\":" + raw_value;
    return *this;
  }
  JsonObject& boolean(const std::string& name, bool v) { return field(name, v ? "true" : "false"); }
  JsonObject& number(const std::string& name, long long v) {
    return field(name, std::to_string(v));
  }
  JsonObject& null(const std::string& name) { return field(name, "null"); }
  // Appends the other object's fields after this one's.
  JsonObject& merge(const JsonObject& other) {
    if (!other.body_.empty()) body_ += (body_.empty() ? "" : ",") + other.body_;
    return *this;
  }
  std::string str() const { return "{" + body_ + "}"; }

 private:
  std::string body_;
};

struct Check {
  std::string name;
  bool ok;
  JsonObject details;
};

Check check_sql(Sql* sql) {
  Check c{"sql", false, {}};
  if (!sql) return c;
  auto rows = sql->query("SELECT 1 AS one");
  c.ok = rows.ok() && rows->size() == 1;
  return c;
}

Check check_memcached(Cache* cache, bool configured) {
  Check c{"memcached", !configured, {}};
  c.details.boolean("configured", configured);
  if (configured && cache) c.ok = cache->get("health-probe").outcome != CacheOutcome::kError;
  return c;
}

Check check_feed(const Feed* feed, bool configured, std::time_t now) {
  Check c{"feed", true, {}};
  c.details.boolean("configured", configured);
  auto snap = feed ? feed->snapshot() : nullptr;
  const long long items = snap ? static_cast<long long>(snap->items.size()) : 0;
  c.details.number("items", items);
  if (snap && snap->modified > 0)
    c.details.number("age_seconds", static_cast<long long>(now - snap->modified));
  else
    c.details.null("age_seconds");
  // A configured feed that never loaded leaves the portal without news.
  c.ok = !configured || (snap && snap->loaded_at > 0);
  return c;
}

Check check_outbox(Sql* sql, std::time_t now) {
  Check c{"outbox", false, {}};
  if (!sql) return c;
  auto rows = sql->query(
      "SELECT COUNT(*) AS backlog, MIN(created_at) AS oldest FROM mail_outbox "
      "WHERE status = 'queued'");
  if (!rows.ok() || rows->size() != 1) return c;
  c.ok = true;
  c.details.number("backlog", rows->integer(0, "backlog"));
  const long long oldest = rows->integer(0, "oldest");
  if (oldest > 0)
    c.details.number("oldest_age_seconds", static_cast<long long>(now) - oldest);
  else
    c.details.null("oldest_age_seconds");
  return c;
}

Check check_mail_sender(bool configured, std::time_t last_run, std::time_t now) {
  Check c{"mail_sender", true, {}};
  c.details.boolean("configured", configured);
  if (last_run > 0) {
    c.details.number("last_run", static_cast<long long>(last_run));
    c.details.number("age_seconds", static_cast<long long>(now - last_run));
  } else {
    c.details.null("last_run");
  }
  // Not run yet is no failure: the watchdog starts it within a second of the children.
  c.ok = !configured || last_run == 0 || now - last_run <= kMailSenderStaleSeconds;
  return c;
}

}  // namespace

HealthReport check_health(const HealthInputs& in) {
  std::vector<Check> checks;
  checks.push_back(check_sql(in.sql));
  checks.push_back(check_memcached(in.cache, in.memcached_configured));
  checks.push_back(check_feed(in.feed, in.feed_configured, in.now));
  checks.push_back(check_outbox(in.sql, in.now));
  checks.push_back(check_mail_sender(in.mail_sender_configured, in.mail_sender_last_run, in.now));

  HealthReport report;
  std::string down;
  JsonObject services;
  for (const auto& c : checks) {
    if (!c.ok) {
      report.ok = false;
      down += (down.empty() ? "\"" : ",\"") + c.name + "\"";
    }
    JsonObject one;
    one.boolean("ok", c.ok).merge(c.details);
    services.field(c.name, one.str());
  }
  JsonObject top;
  top.field("status", report.ok ? "\"ok\"" : "\"down\"").field("down", "[" + down + "]");
  report.json = top.merge(services).str() + "\n";
  return report;
}

}  // namespace natomedia::core
