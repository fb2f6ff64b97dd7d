#include "admin_newsletter.h"

#include <natomedia/text.h>

#include <algorithm>
#include <memory>
#include <sstream>

#include "core/clock.h"
#include "core/crypto_service.h"
#include "core/feed_loader.h"
#include "core/i18n_catalogue.h"
#include "core/mail_outbox.h"
#include "core/metrics_registry.h"
#include "core/secret_keys.h"
#include "core/template_engine.h"
#include "core/xml_safe_parser.h"
#include "newsletter/unsubscribe_token.h"

namespace natomedia::admin {

namespace {

// ---- Configuration ------------------------------------------------------------------------------

struct SendSettings {
  std::string public_url, base_path, secret_file, mail_from, feed, templates_dir;
};

std::string without_trailing_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// A directive's value, a relative path taken from ServerRoot as httpd does.
std::string directive(const std::map<std::string, std::string>& d, const std::string& name,
                      bool is_path) {
  auto it = d.find(name);
  if (it == d.end()) return "";
  std::string v = it->second;
  if (!is_path || v.empty() || v[0] == '/') return v;
  auto root = d.find("serverroot");
  return root == d.end() ? v : root->second + "/" + v;
}

Result<SendSettings> read_settings(const std::map<std::string, std::string>& d) {
  SendSettings s;
  s.public_url = without_trailing_slash(directive(d, "natomediapublicurl", false));
  s.base_path = without_trailing_slash(directive(d, "natomediabasepath", false));
  s.secret_file = directive(d, "natomediasecretfile", true);
  s.mail_from = directive(d, "natomediamailfrom", false);
  s.feed = directive(d, "natomediafeed", true);
  s.templates_dir = directive(d, "natomediatemplates", true);
  std::string missing;
  if (s.feed.empty()) missing += " NatoMediaFeed";
  if (s.public_url.empty()) missing += " NatoMediaPublicURL";
  if (s.secret_file.empty()) missing += " NatoMediaSecretFile";
  if (s.mail_from.empty()) missing += " NatoMediaMailFrom";
  if (!missing.empty())
    return Status::Invalid(
        "newsletter send needs these directives in the httpd.conf given with "
        "--config:" +
        missing);
  return s;
}

Result<std::shared_ptr<const FeedSnapshot>> load_feed(const SendSettings& s,
                                                      const std::string& share_dir) {
  core::init_xml_library();
  const std::string xsd = share_dir + "/schemas/natomedia-feed.xsd";
  auto schema = core::FeedSchema::load(xsd);
  if (!schema.ok()) return Status::Invalid("feed schema " + xsd + ": " + schema.status().message());
  auto feed = core::load_feed_file(s.feed, **schema, core::LoadOptions{});
  if (!feed.ok())
    return Status::Invalid("NatoMediaFeed " + s.feed + ":\n" + feed.status().message());
  return *feed;
}

// ---- Issues and recipients ----------------------------------------------------------------------

struct OpenIssue {
  int64_t id = 0;  // 0: a new issue, not yet written
  std::vector<const NewsItem*> items;
};

std::string join_ids(const std::vector<const NewsItem*>& items) {
  std::string out;
  for (const NewsItem* item : items) out += (out.empty() ? "" : "\n") + item->id;
  return out;
}

std::vector<std::string> split_ids(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

Status schema_missing(const Status& s) {
  return Status(s.code() == Status::Code::kUnavailable
                    ? s
                    : Status::Invalid("cannot read the newsletter tables (" + s.message() +
                                      "); is the newsletter plugin loaded and `natomedia-admin "
                                      "db migrate` run?"));
}

// The issue to send: the last one when an earlier run stopped before finishing it, else a new
// one made of the items published since the last issue (no items: an empty OpenIssue).
Result<OpenIssue> next_issue(Sql& sql, const FeedSnapshot& feed,
                             const NewsletterSendOptions& options) {
  auto rows = sql.query(
      "SELECT id, sent_at, items, newest_item_at FROM newsletter_issues ORDER BY id DESC", {});
  if (!rows.ok()) return schema_missing(rows.status());
  OpenIssue issue;
  if (!rows->empty() && !rows->get(0, "sent_at")) {
    issue.id = rows->integer(0, "id");
    for (const auto& id : split_ids(rows->text(0, "items")))
      if (const NewsItem* item = feed.find(id)) issue.items.push_back(item);
    return issue;
  }
  IssueHistory history;
  history.any = !rows->empty();
  if (history.any) history.newest_item_at = rows->integer(0, "newest_item_at");
  for (size_t i = 0; i < rows->size(); ++i)
    for (const auto& id : split_ids(rows->text(i, "items"))) history.sent_ids.insert(id);
  issue.items = select_issue_items(feed, history, options);
  return issue;
}

struct Recipient {
  int64_t subscription_id = 0;
  std::string email, lang;
  int64_t account_id = 0;
  int64_t credential_epoch = 0;  // the account's now: its unsubscribe token is bound to it
};

// Subscribers the issue has not reached yet (every subscriber for a new issue).
Result<std::vector<Recipient>> pending_recipients(Sql& sql, int64_t issue_id) {
  auto rows = sql.query(
      "SELECT s.id, s.email, s.lang, s.account_id, a.credential_epoch FROM subscriptions s "
      "JOIN accounts a ON a.id = s.account_id WHERE s.state = 'subscribed' AND s.id NOT IN "
      "(SELECT subscription_id FROM newsletter_deliveries WHERE issue_id = CAST(%s AS BIGINT)) "
      "ORDER BY s.id",
      {std::to_string(issue_id)});
  if (!rows.ok()) return schema_missing(rows.status());
  std::vector<Recipient> out;
  for (size_t i = 0; i < rows->size(); ++i)
    out.push_back({rows->integer(i, "id"), rows->text(i, "email"), rows->text(i, "lang"),
                   rows->integer(i, "account_id"), rows->integer(i, "credential_epoch")});
  return out;
}

// Writes a new issue and returns its id. newest_item_at is unique, so two runs racing to create
// the same issue cannot both succeed.
Result<int64_t> create_issue(Sql& sql, const std::vector<const NewsItem*>& items, std::time_t now) {
  std::time_t newest = 0;
  for (const NewsItem* item : items) newest = std::max(newest, item->first_created);
  auto r = sql.exec(
      "INSERT INTO newsletter_issues (created_at, sent_at, items, newest_item_at) "
      "VALUES (CAST(%s AS BIGINT), NULL, %s, CAST(%s AS BIGINT))",
      {std::to_string(now), join_ids(items), std::to_string(newest)});
  if (!r.ok()) {
    if (r.status().code() == Status::Code::kConflict)
      return Status::Conflict("another newsletter send is creating this issue right now");
    return r.status();
  }
  auto rows =
      sql.query("SELECT id FROM newsletter_issues WHERE newest_item_at = CAST(%s AS BIGINT)",
                {std::to_string(newest)});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::Internal("the new issue vanished");
  return static_cast<int64_t>(rows->integer(0, "id"));
}

// ---- Composing ----------------------------------------------------------------------------------

class IssueComposer {
 public:
  IssueComposer(const SendSettings& settings, std::shared_ptr<core::Catalogue> catalogue,
                std::vector<std::string> template_dirs, const Crypto& crypto, std::string list_id)
      : settings_(settings),
        catalogue_(catalogue),
        templates_(std::move(template_dirs), catalogue),
        crypto_(crypto),
        list_id_(std::move(list_id)) {}

  Result<MailMessage> compose(const std::vector<const NewsItem*>& items, const Recipient& to,
                              std::time_t now) const {
    const std::string lang = to.lang == "fr" ? "fr" : "en";
    const std::string token =
        newsletter::make_unsubscribe_token(crypto_, to.account_id, to.credential_epoch);
    const std::string unsubscribe =
        newsletter::unsubscribe_url(settings_.public_url, settings_.base_path, token);
    Vars vars;
    vars["date"] = catalogue_->long_date(now, lang);
    vars["items"] = item_vars(items, lang);
    vars["news_url"] = site_url("/news/");
    vars["unsubscribe_url"] = unsubscribe;
    auto m = compose_mail(templates_, to.email, lang, "newsletter/mail/issue",
                          subject(items, lang), std::move(vars));
    if (!m.ok()) return m.status();
    m->headers = {{"List-Id", list_id_},
                  {"List-Unsubscribe", "<" + unsubscribe + ">"},
                  {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}};
    return m;
  }

 private:
  // "NATO Multimedia newsletter: <the newest headline>": issues differ, so clients do not
  // thread them together.
  std::string subject(const std::vector<const NewsItem*>& items, const std::string& lang) const {
    std::string s = catalogue_->text(lang, "newsletter.mail.subject");
    if (items.empty()) return s;
    auto headline = items.front()->headline.get(lang);
    return headline.text ? s + " " + *headline.text : s;
  }

  std::string site_url(const std::string& path) const {
    return settings_.public_url + settings_.base_path + path;
  }

  Value item_vars(const std::vector<const NewsItem*>& items, const std::string& lang) const {
    Value::List list;
    for (const NewsItem* item : items) {
      Vars v;
      auto headline = item->headline.get(lang);
      auto summary = item->summary.get(lang);
      v["headline"] = headline.text ? *headline.text : item->id;
      if (summary.text) v["summary"] = *summary.text;
      v["fallback"] = headline.fallback || (summary.text && summary.fallback);
      v["url"] = site_url("/news/" + text::url_encode(item->id));
      if (item->is_video && !item->icon_href.empty())
        v["thumbnail_url"] = site_url("/videos/" + text::url_encode(item->id) + "/thumbnail");
      list.emplace_back(std::move(v));
    }
    return list;
  }

  const SendSettings& settings_;
  std::shared_ptr<core::Catalogue> catalogue_;
  core::TemplateEngine templates_;
  const Crypto& crypto_;
  std::string list_id_;
};

// ---- Sending ------------------------------------------------------------------------------------

// The delivery row and the message commit together, so each recipient has the issue exactly once
// even when runs overlap or stop half-way. False when the recipient already had it.
Result<bool> deliver(Sql& sql, Outbox& outbox, int64_t issue_id, const Recipient& to,
                     const MailMessage& message, std::time_t now) {
  Status s = transaction(sql, [&]() -> Status {
    auto r = sql.exec(
        "INSERT INTO newsletter_deliveries (issue_id, subscription_id, queued_at) "
        "VALUES (CAST(%s AS BIGINT), CAST(%s AS BIGINT), CAST(%s AS BIGINT))",
        {std::to_string(issue_id), std::to_string(to.subscription_id), std::to_string(now)});
    if (!r.ok()) return r.status();
    return outbox.queue(sql, message);
  });
  if (s.code() == Status::Code::kConflict) return false;
  if (!s.ok()) return s;
  return true;
}

void describe(const OpenIssue& issue, const std::vector<Recipient>& recipients, std::ostream& out) {
  out << (issue.id ? "issue #" + std::to_string(issue.id) + " (unfinished)" : "new issue") << ": "
      << issue.items.size() << " item(s)\n";
  for (const NewsItem* item : issue.items) {
    auto h = item->headline.get("en");
    out << "  " << iso8601_utc(item->first_created) << "  " << item->id << "  "
        << (h.text ? *h.text : "") << "\n";
  }
  out << recipients.size() << " recipient(s)\n";
  for (const auto& r : recipients) out << "  " << r.email << " (" << r.lang << ")\n";
}

struct SendTools {
  std::unique_ptr<core::CryptoService> crypto;
  std::unique_ptr<IssueComposer> composer;
  core::MailIdentity from;
};

Result<SendTools> make_tools(const SendSettings& s, const std::string& share_dir) {
  auto keys = core::SecretKeys::load(s.secret_file);
  if (!keys.ok()) return Status::Invalid("NatoMediaSecretFile: " + keys.status().message());
  auto from = core::parse_mail_from(s.mail_from);
  if (!from.ok()) return Status::Invalid("NatoMediaMailFrom: " + from.status().message());
  std::vector<std::string> template_dirs, i18n_dirs;
  if (!s.templates_dir.empty()) {
    template_dirs.push_back(s.templates_dir);
    i18n_dirs.push_back(s.templates_dir + "/i18n");
  }
  template_dirs.push_back(share_dir + "/templates");
  i18n_dirs.push_back(share_dir + "/i18n");
  auto catalogue = core::Catalogue::load(i18n_dirs);
  if (!catalogue.ok()) return Status::Invalid("string catalogues: " + catalogue.status().message());
  SendTools t;
  t.crypto = std::make_unique<core::CryptoService>(*keys);
  t.from = *from;
  t.composer = std::make_unique<IssueComposer>(s, *catalogue, template_dirs, *t.crypto,
                                               "<newsletter." + from->domain + ">");
  return t;
}

}  // namespace

std::string csv_field(const std::string& value) {
  std::string v = value;
  if (!v.empty() && std::string("=+-@\t\r").find(v[0]) != std::string::npos) v = "'" + v;
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string iso8601_utc(std::time_t t) {
  if (t == 0) return "";
  char buf[32];
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::vector<const NewsItem*> select_issue_items(const FeedSnapshot& feed,
                                                const IssueHistory& history,
                                                const NewsletterSendOptions& options) {
  const size_t limit = history.any ? options.max_items : options.first_issue_items;
  std::vector<const NewsItem*> out;
  for (const NewsItem& item : feed.items) {  // newest first
    if (out.size() >= limit) break;
    if (history.any &&
        (item.first_created <= history.newest_item_at || history.sent_ids.count(item.id)))
      continue;
    out.push_back(&item);
  }
  return out;
}

Status send_newsletter(Sql& sql, const std::map<std::string, std::string>& directives,
                       const std::string& share_dir, const NewsletterSendOptions& options,
                       std::ostream& out) {
  auto settings = read_settings(directives);
  if (!settings.ok()) return settings.status();
  auto feed = load_feed(*settings, share_dir);
  if (!feed.ok()) return feed.status();
  auto issue = next_issue(sql, **feed, options);
  if (!issue.ok()) return issue.status();
  auto recipients = pending_recipients(sql, issue->id);
  if (!recipients.ok()) return recipients.status();

  if (issue->items.empty() && issue->id == 0) {
    out << "nothing to send: no feed item was published since the last issue\n";
    return Status::Ok();
  }
  if (options.dry_run) {
    out << "dry run, nothing is queued\n";
    describe(*issue, *recipients, out);
    return Status::Ok();
  }
  auto tools = make_tools(*settings, share_dir);
  if (!tools.ok()) return tools.status();
  core::SystemClock clock;
  core::MetricsRegistry metrics;
  core::SqlOutbox outbox(tools->from, *tools->crypto, clock, metrics);
  const std::time_t now = clock.now();
  if (issue->id == 0) {
    auto id = create_issue(sql, issue->items, now);
    if (!id.ok()) return id.status();
    issue->id = *id;
  }

  size_t queued = 0, skipped = 0;
  if (!issue->items.empty()) {
    for (const Recipient& to : *recipients) {
      auto message = tools->composer->compose(issue->items, to, now);
      if (!message.ok())
        return Status::Invalid("newsletter mail template: " + message.status().message());
      auto sent = deliver(sql, outbox, issue->id, to, *message, now);
      if (!sent.ok()) return sent.status();
      ++(*sent ? queued : skipped);
    }
  }
  auto done = sql.exec(
      "UPDATE newsletter_issues SET sent_at = CAST(%s AS BIGINT) WHERE id = CAST(%s AS BIGINT)",
      {std::to_string(clock.now()), std::to_string(issue->id)});
  if (!done.ok()) return done.status();
  out << "issue #" << issue->id << ": " << issue->items.size() << " item(s), queued " << queued
      << " message(s)";
  if (skipped) out << ", " << skipped << " recipient(s) already had it";
  out << "\n";
  return Status::Ok();
}

Status export_subscribers(Sql& sql, std::ostream& out) {
  auto subs = sql.query(
      "SELECT id, email, lang, state, subscribed_at, unsubscribed_at FROM subscriptions "
      "ORDER BY id",
      {});
  if (!subs.ok()) return schema_missing(subs.status());
  // The latest consent given per subscription: later rows win.
  auto consents = sql.query(
      "SELECT subscription_id, recorded_at, ip, user_agent, text_version, source FROM consents "
      "WHERE action = 'given' ORDER BY subscription_id, recorded_at, id",
      {});
  if (!consents.ok()) return schema_missing(consents.status());
  std::map<long long, size_t> latest;
  for (size_t i = 0; i < consents->size(); ++i) latest[consents->integer(i, "subscription_id")] = i;

  out << "address,language,subscribed_at,consent_version,state,unsubscribed_at,"
         "consent_given_at,consent_ip,consent_user_agent,consent_source\r\n";
  for (size_t i = 0; i < subs->size(); ++i) {
    auto c = latest.find(subs->integer(i, "id"));
    auto consent = [&](const char* column) {
      return c == latest.end() ? std::string() : consents->text(c->second, column);
    };
    const std::string given_at =
        c == latest.end() ? "" : iso8601_utc(consents->integer(c->second, "recorded_at"));
    std::vector<std::string> fields = {subs->text(i, "email"),
                                       subs->text(i, "lang"),
                                       iso8601_utc(subs->integer(i, "subscribed_at")),
                                       consent("text_version"),
                                       subs->text(i, "state"),
                                       iso8601_utc(subs->integer(i, "unsubscribed_at")),
                                       given_at,
                                       consent("ip"),
                                       consent("user_agent"),
                                       consent("source")};
    for (size_t f = 0; f < fields.size(); ++f) out << (f ? "," : "") << csv_field(fields[f]);
    out << "\r\n";
  }
  out.flush();
  return out ? Status::Ok() : Status::Internal("cannot write the CSV to standard output");
}

}  // namespace natomedia::admin
