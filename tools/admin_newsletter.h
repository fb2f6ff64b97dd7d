// natomedia-admin's newsletter commands (CONTRACT section 10): `newsletter send [--dry-run]`
// and `subscribers export`. They work on the newsletter plugin's tables (plugins/newsletter/
// schema.cc) and queue mail through the core's outbox, as the module does, with the plugin's
// templates and strings from the share directory.
#pragma once

#include <cstddef>
#include <ctime>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include <natomedia/feed.h>
#include <natomedia/services.h>

namespace natomedia::admin {

struct NewsletterSendOptions {
  bool dry_run = false;           // say what would go; write and queue nothing
  size_t first_issue_items = 10;  // the first issue carries the newest N items
  size_t max_items = 30;          // an issue never carries more (the newest win)
};

// Builds the issue of the feed's items published since the last issue and queues one message
// per subscriber (in the subscriber's language, with its own List-Unsubscribe link). An issue
// interrupted half-way is finished by the next run; a subscriber never gets one issue twice.
// `directives`: httpd.conf directives by lower-case name (ConfigValues::last); it needs
// NatoMediaFeed, NatoMediaPublicURL, NatoMediaSecretFile and NatoMediaMailFrom, and uses
// NatoMediaBasePath, NatoMediaTemplates and ServerRoot (for relative paths) when present.
// `share_dir`: the install's share/natomedia (schemas, templates, i18n). Progress goes to `out`.
// Invalid for configuration problems, Unavailable/Internal for database trouble.
Status send_newsletter(Sql& sql, const std::map<std::string, std::string>& directives,
                       const std::string& share_dir, const NewsletterSendOptions& options,
                       std::ostream& out);

// Writes every subscription as CSV (RFC 4180, CRLF, a header line): address, language,
// subscribed_at (ISO 8601 UTC), consent_version, state, then unsubscribed_at and the latest
// consent's given_at, IP, user agent and source.
Status export_subscribers(Sql& sql, std::ostream& out);

// ---- Pieces, exposed for the unit tests ------------------------------------------------------

// One CSV field: quoted when it holds a comma, quote, CR or LF (quotes doubled); a value that a
// spreadsheet would run as a formula (first character = + - @ TAB CR) gets a leading apostrophe.
std::string csv_field(const std::string& value);

// "2026-11-28T03:22:16Z"; "" for 0.
std::string iso8601_utc(std::time_t t);

// What was sent before: the newest firstCreated of the last issue, the items already sent.
struct IssueHistory {
  bool any = false;
  std::time_t newest_item_at = 0;
  std::set<std::string> sent_ids;
};

// The items of the next issue, newest first: with no history the newest first_issue_items,
// else those published after history.newest_item_at and never sent; at most max_items.
std::vector<const NewsItem*> select_issue_items(const FeedSnapshot& feed,
                                                const IssueHistory& history,
                                                const NewsletterSendOptions& options);

}  // namespace natomedia::admin
