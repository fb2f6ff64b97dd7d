// Well-known providers: services one plugin offers the others through PluginHost::provide and
// Context::provider(name, version), as httpd modules do with ap_register_provider. A plugin that
// needs one checks for nullptr (the plugin that offers it may not be loaded) and answers 503.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <natomedia/plugin.h>

namespace natomedia {

// ---- "natomedia.codes" v1: emailed one-time codes (the verification plugin) --------------------

// kChangeEmail (ABI 4): the code that confirms a signed-in account's new address, mailed to
// that address (Account::email of the account given to issue() is the new address) and bound to
// Account::registration as given (the account's own name for the change, so that only the account
// that asked can use it).
enum class CodePurpose { kVerifyAccount, kResetPassword, kChangeEmail };

struct CodeIssue {
  enum class Outcome {
    kSent,         // a code is stored and its mail queued (in the caller's transaction)
    kCooldown,     // inside NatoMediaResendCooldown: retry_after says when
    kRateLimited,  // hourly limit per address, account or client IP: retry_after says when
    kUnavailable,  // memcached (or SQL) could not be reached: answer 503
  };
  Outcome outcome = Outcome::kUnavailable;
  long retry_after = 0;  // seconds
};

enum class CodeCheck {
  kOk,           // right code: consumed (no second use, even racing)
  kWrong,        // wrong code, still alive
  kDead,         // expired, used, replaced, killed by too many tries, or never issued
  kUnavailable,  // memcached could not be reached
};

class CodeService {
 public:
  virtual ~CodeService() = default;
  // Issues a code for `purpose` to `account` and queues its mail with `sql` (the caller's
  // connection, so the mail commits with the caller's transaction), in the account's language.
  // A kVerifyAccount or kChangeEmail code is bound to account.registration: it verifies only
  // that registration (or change).
  virtual CodeIssue issue(Context& ctx, Sql& sql, CodePurpose purpose, const Account& account) = 0;
  // Checks and, when right, consumes the code typed for `email` (spaces and dashes ignored).
  virtual CodeCheck check(Context& ctx, CodePurpose purpose, const std::string& email,
                          const std::string& typed) = 0;
  // The decoy for an address that must get no code (no account, or one that may not have this
  // code): the same cooldown, limits, stored code state (with the same lifetime) and mail
  // composition as issue(), but the state matches no code and the mail is discarded, so every
  // later answer (422 up to the 5th wrong entry, then 410; 429 inside the cooldown) is the one a
  // real code gets (ABI 3). `lang` is the language a real mail would be in.
  virtual CodeIssue issue_decoy(Context& ctx, Sql& sql, CodePurpose purpose,
                                const std::string& email, const std::string& lang) = 0;
  // check(), and on kOk *binding (when given) is the Account::registration the code was issued
  // with ("" for none) (ABI 4).
  virtual CodeCheck check_bound(Context& ctx, CodePurpose purpose, const std::string& email,
                                const std::string& typed, std::string* binding) = 0;
};

constexpr const char* kCodeServiceName = "natomedia.codes";
constexpr int kCodeServiceVersion = 1;

// ---- "natomedia.accounts" v1: accounts and sessions (the authentication plugin) ----------------

// What AccountService::erase removed of the authentication plugin's own (the other plugins' rows
// went through their account-deleted listeners), for natomedia-admin's report. (SDK ABI 4.)
struct AccountErasure {
  int64_t sessions = 0;      // sign-in sessions ended
  int64_t reset_grants = 0;  // password-reset grants dropped
  int64_t mails = 0;         // mails to the address removed from the outbox (unsent or kept)
};

class AccountService {
 public:
  virtual ~AccountService() = default;
  // The account with this address (normalised as the plugin does), NotFound when none.
  virtual Result<Account> find_by_email(Context& ctx, const std::string& email) = 0;
  // pending -> verified (emits AccountEvent::kVerified); Ok when it already was verified.
  virtual Result<Account> mark_verified(Context& ctx, int64_t account_id) = 0;
  // Starts a new session for the account in this browser (a new id, the cookie set).
  virtual Status sign_in(Context& ctx, const Account& account) = 0;
  // The account with this id as stored now (with its credential epoch), NotFound when none.
  virtual Result<Account> find_by_id(Context& ctx, int64_t account_id) = 0;
  // pending -> verified only while the address's latest registration is `registration` (the
  // Account::registration a verification code was bound to), in one statement, so a registration
  // that replaces the pending account meanwhile wins. NotFound when the account is gone, no
  // longer pending or was registered again (ABI 3).
  virtual Result<Account> verify_registration(Context& ctx, const std::string& email,
                                              const std::string& registration) = 0;
  // The one erasure of an account (CONTRACT section 13), for POST /account/delete and for
  // `natomedia-admin accounts delete`: in one transaction on ctx.sql(), AccountEvent::kDeleted
  // is emitted (every plugin's listener erases or anonymises its own rows, the account row still
  // there), then the account's sessions, reset grants, outbox mail and the account itself go.
  // A listener that fails rolls the whole erasure back (the answer names it); NotFound when the
  // account is already gone. Sends no mail: the goodbye mail is the caller's (SDK ABI 4).
  virtual Result<AccountErasure> erase(Context& ctx, const Account& account) = 0;
};

constexpr const char* kAccountServiceName = "natomedia.accounts";
constexpr int kAccountServiceVersion = 1;

// ---- "natomedia.newsletter" v1 (the newsletter plugin) -----------------------------------------

class NewsletterService {
 public:
  virtual ~NewsletterService() = default;
  virtual Result<bool> subscribed(Context& ctx, int64_t account_id) = 0;
};

constexpr const char* kNewsletterServiceName = "natomedia.newsletter";
constexpr int kNewsletterServiceVersion = 1;

// ---- "natomedia.downloads" v1 (the media_gateway plugin) ---------------------------------------

struct DownloadRecord {
  std::string item_id;
  std::string rendition;
  std::string title;       // the item's headline in the visitor's language
  uint64_t bytes = 0;
  std::time_t at = 0;
};

class DownloadService {
 public:
  virtual ~DownloadService() = default;
  virtual Result<std::vector<DownloadRecord>> recent(Context& ctx, int64_t account_id,
                                                     size_t limit) = 0;
};

constexpr const char* kDownloadServiceName = "natomedia.downloads";
constexpr int kDownloadServiceVersion = 1;

// ---- "natomedia.pages" v1: where a page is, without knowing the route (SDK ABI version 4) -----
// Each plugin that owns pages registers its own PageLinks under its own name below; a plugin that
// links to another one's page asks it, and leaves the link out when the provider is absent.
// Every answer is a base-relative path (pass it to ctx.url() or ctx.absolute_url()), or "" when
// there is no such page (an item no longer in the feed).
class PageLinks {
 public:
  virtual ~PageLinks() = default;
  // The page of a feed item (`ctx.feed()`'s item with that id): "/videos/ID" for a video,
  // "/news/ID" for a story.
  virtual std::string item_page(const Context& ctx, const std::string& item_id) const = 0;
  // The signed-in visitor's account page ("/account/").
  virtual std::string account_page(const Context& ctx) const = 0;
};

// The pages of feed items (media_gateway) and of the account (authentication): the same
// interface under two names; each plugin answers "" for the kind it does not own.
constexpr const char* kItemPagesName = "natomedia.pages.items";
constexpr const char* kAccountPagesName = "natomedia.pages.account";
constexpr int kPageLinksVersion = 1;

// A provider as its interface, or nullptr when no loaded plugin offers it.
template <typename T>
std::shared_ptr<T> find_provider(const Context& ctx, const char* name, int version) {
  return std::static_pointer_cast<T>(ctx.provider(name, version));
}

}  // namespace natomedia
