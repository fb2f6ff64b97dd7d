// GET /account/: the signed-in visitor's address, newsletter state and recent downloads. The
// newsletter and download parts come from other plugins' providers and are left out (with a
// note) when those plugins are not loaded or cannot answer.
#include <cstdio>
#include <ctime>
#include <string>

#include <natomedia/providers.h>
#include <natomedia/text.h>

#include "page_helpers.h"
#include "routes.h"

namespace natomedia::auth {

namespace {

constexpr size_t kRecentDownloads = 10;

// The size as the video page writes it: "70.6 kB" / "70,6 ko" (SI units, French with a comma and
// a no-break space).
std::string human_bytes(uint64_t bytes, const std::string& lang) {
  const bool fr = lang == "fr";
  static const char* kEn[] = {"B", "kB", "MB", "GB", "TB"};
  static const char* kFr[] = {"o", "ko", "Mo", "Go", "To"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1000 && unit + 1 < sizeof kEn / sizeof kEn[0]) {
    value /= 1000;
    ++unit;
  }
  char buf[32];
  snprintf(buf, sizeof buf, unit == 0 || value >= 100 ? "%.0f" : "%.1f", value);
  std::string number = buf;
  if (fr)
    for (char& c : number)
      if (c == '.') c = ',';
  return number + (fr ? "\u00a0" : " ") + (fr ? kFr : kEn)[unit];
}

// When a download started, in the page's language: "6 July 2023, 14:05 UTC" /
// "jeudi 6 juillet 2023 à 14:05 UTC" (the date as the item pages write it), and the same instant
// for <time datetime>.
std::string when_text(const Context& ctx, std::time_t t) {
  const std::string& lang = ctx.request().lang;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char hhmm[32];
  snprintf(hhmm, sizeof hhmm, "%02d:%02d", tm.tm_hour % 24, tm.tm_min % 60);
  return text::fill(ctx.i18n().text(lang, "auth.account.download.when"),
                    {{"date", ctx.i18n().long_date(t, lang)}, {"time", hhmm}});
}

std::string iso_time(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

void add_newsletter(Context& ctx, const Account& account, Vars& vars) {
  auto newsletter =
      find_provider<NewsletterService>(ctx, kNewsletterServiceName, kNewsletterServiceVersion);
  if (!newsletter) return;
  auto subscribed = newsletter->subscribed(ctx, account.id);
  if (!subscribed.ok()) {
    vars["newsletter_unknown"] = true;
    return;
  }
  // The block itself is the newsletter plugin's partial (newsletter/account.html): one consent
  // text, one place to subscribe and to withdraw.
  vars["newsletter"] = true;
  vars["subscribed"] = *subscribed;
}

void add_downloads(Context& ctx, const Account& account, Vars& vars) {
  auto downloads =
      find_provider<DownloadService>(ctx, kDownloadServiceName, kDownloadServiceVersion);
  if (!downloads) return;
  auto recent = downloads->recent(ctx, account.id, kRecentDownloads);
  if (!recent.ok()) {
    vars["downloads_unknown"] = true;
    return;
  }
  // The item's page, from the plugin that owns it (none: no link).
  auto pages = find_provider<PageLinks>(ctx, kItemPagesName, kPageLinksVersion);
  Value::List rows;
  for (const DownloadRecord& d : *recent) {
    Vars row;
    row["title"] = d.title.empty() ? d.item_id : d.title;
    row["video_path"] = pages ? pages->item_page(ctx, d.item_id) : std::string();
    row["rendition"] = d.rendition;
    row["size"] = human_bytes(d.bytes, ctx.request().lang);
    row["date"] = when_text(ctx, d.at);
    row["datetime"] = iso_time(d.at);
    rows.emplace_back(std::move(row));
  }
  vars["downloads_shown"] = true;
  vars["downloads_any"] = !rows.empty();
  vars["downloads"] = Value(std::move(rows));
}

}  // namespace

Response get_account(Context& ctx) {
  auto account = ctx.account();
  if (!account) return ctx.sign_in_required("/account/");
  Vars vars = page_vars(ctx, "auth.account.title");
  vars["email"] = account->email;
  add_account_notice(ctx, vars);
  add_newsletter(ctx, *account, vars);
  add_downloads(ctx, *account, vars);
  Response r = ctx.page(200, "authentication/account.html", std::move(vars));
  r.header("Cache-Control", "no-store");
  return r;
}

}  // namespace natomedia::auth
