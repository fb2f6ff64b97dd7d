#include "admin_accounts.h"

#include <unistd.h>

#include <cctype>
#include <ctime>
#include <iostream>
#include <map>

#include <natomedia/providers.h>

#include "admin_json.h"
#include "admin_newsletter.h"  // iso8601_utc

namespace natomedia::admin {

namespace {

using Verb = AccountsCommand::Verb;

const std::map<std::string, Verb>& verbs() {
  static const std::map<std::string, Verb> v = {{"list", Verb::kList},
                                                {"show", Verb::kShow},
                                                {"disable", Verb::kDisable},
                                                {"enable", Verb::kEnable},
                                                {"delete", Verb::kDelete}};
  return v;
}

std::string when(const SqlRows& rows, size_t row, const std::string& column) {
  const std::string t = iso8601_utc(rows.integer(row, column));
  return t.empty() ? "-" : t;
}

// The account row, or NotFound naming the address.
Result<SqlRows> find_account(Sql& sql, const std::string& email) {
  auto rows = sql.query(
      "SELECT id, email, state, lang, created_at, verified_at, password_changed_at "
      "FROM accounts WHERE email = %s",
      {email});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return Status::NotFound("no account with the address " + email);
  return rows;
}

// On a terminal, a destructive command asks first; in scripts (stdin not a terminal) it does not.
bool confirmed(const AccountsCommand& c) {
  if (c.assume_yes || !isatty(STDIN_FILENO)) return true;
  std::cerr << "Erase the account " << c.email << " and all its personal data? This cannot be "
            << "undone. [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

// The authentication plugin's erasure (AccountService::erase), the one POST /account/delete runs:
// every loaded plugin hears the account-deleted event and erases its own rows.
Status delete_account(Sql& sql, const AccountsCommand& c, std::ostream& out,
                      const ErasureTools& erasure) {
  auto row = find_account(sql, c.email);
  if (!row.ok()) return row.status();
  std::shared_ptr<AccountService> accounts;
  if (erasure.context)
    accounts = find_provider<AccountService>(*erasure.context, kAccountServiceName,
                                             kAccountServiceVersion);
  if (!accounts)
    return Status::Invalid(
        "accounts delete runs the plugins' erasure: give --config with the httpd.conf whose "
        "NatoMediaPlugin lines load them (the authentication plugin among them)");
  auto account = accounts->find_by_id(*erasure.context, row->integer(0, "id"));
  if (!account.ok()) return account.status();
  if (!confirmed(c)) return Status::Conflict("not erased: " + c.email);
  auto n = accounts->erase(*erasure.context, *account);
  if (!n.ok()) return n.status();
  std::string told;
  for (const auto& name : erasure.listeners) told += (told.empty() ? "" : ", ") + name;
  out << "erased " << c.email << " (account " << account->id << "): " << n->sessions
      << " session(s), " << n->reset_grants << " reset grant(s) and " << n->mails
      << " mail(s) in the outbox deleted; the account-deleted event told "
      << (told.empty() ? std::string("no plugin") : told) << "\n";
  return Status::Ok();
}

Status set_disabled(Sql& sql, const AccountsCommand& c, bool disable, std::ostream& out) {
  auto account = find_account(sql, c.email);
  if (!account.ok()) return account.status();
  const std::string id = account->text(0, "id");
  const std::string state = account->text(0, "state");
  if (disable == (state == "disabled")) {
    out << c.email << " is already " << (disable ? "disabled" : "enabled (" + state + ")") << "\n";
    return Status::Ok();
  }
  auto tables = existing_tables(sql);
  if (!tables.ok()) return tables.status();
  int ended = 0;
  Status s = transaction(sql, [&]() -> Status {
    // Enabling restores what the account was: verified when it ever verified, else pending.
    // Disabling moves the credential epoch on: the account's signed download links, reset grants
    // and unsubscribe tokens die now and stay dead when it is enabled again (CONTRACT section 12).
    auto changed = sql.exec(
        disable ? "UPDATE accounts SET state = 'disabled', "
                  "credential_epoch = credential_epoch + 1 WHERE id = %s"
                : "UPDATE accounts SET state = CASE WHEN verified_at IS NULL THEN 'pending' "
                  "ELSE 'verified' END WHERE id = %s",
        {id});
    if (!changed.ok()) return changed.status();
    if (!disable || !tables->count("account_sessions")) return Status::Ok();
    auto gone = sql.exec("DELETE FROM account_sessions WHERE account_id = %s", {id});
    if (!gone.ok()) return gone.status();
    ended = *gone;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (disable)
    out << "disabled " << c.email << "; " << ended << " session(s) ended\n";
  else
    out << "enabled " << c.email << "\n";
  return Status::Ok();
}

Status list_accounts(Sql& sql, const AccountsCommand& c, std::ostream& out) {
  const std::string columns = "SELECT id, email, state, created_at, verified_at FROM accounts ";
  auto rows = c.state.empty() ? sql.query(columns + "ORDER BY id", {})
                              : sql.query(columns + "WHERE state = %s ORDER BY id", {c.state});
  if (!rows.ok()) return rows.status();
  if (c.json) {
    std::vector<std::string> items;
    for (size_t i = 0; i < rows->size(); ++i)
      items.push_back(JsonObject()
                          .number("id", rows->integer(i, "id"))
                          .text("email", rows->text(i, "email"))
                          .text("state", rows->text(i, "state"))
                          .text_or_null("created", iso8601_utc(rows->integer(i, "created_at")))
                          .text_or_null("verified", iso8601_utc(rows->integer(i, "verified_at")))
                          .str());
    out << json_array(items) << "\n";
    return Status::Ok();
  }
  for (size_t i = 0; i < rows->size(); ++i)
    out << rows->text(i, "id") << "\t" << rows->text(i, "email") << "\t" << rows->text(i, "state")
        << "\t" << when(*rows, i, "created_at") << "\t" << when(*rows, i, "verified_at") << "\n";
  return Status::Ok();
}

// What show says, in order: written as "name: value" lines or as one JSON object.
using Facts = std::vector<std::pair<std::string, std::string>>;

void line(Facts& out, const std::string& name, const std::string& value) {
  out.emplace_back(name, value);
}

// One "name: value" line per fact, the names padded so the values line up; or, for --json, an
// object whose keys are the names with '_' for spaces ("password_changed").
void print_facts(const Facts& facts, bool json, std::ostream& out) {
  if (json) {
    JsonObject o;
    for (const auto& [name, value] : facts) {
      std::string key = name;
      for (char& ch : key)
        if (ch == ' ') ch = '_';
      o.text(key, value);
    }
    out << o.str() << "\n";
    return;
  }
  for (const auto& [name, value] : facts)
    out << name << ":" << std::string(name.size() < 18 ? 18 - name.size() : 1, ' ') << value
        << "\n";
}

Status show_related(Sql& sql, const std::set<std::string>& tables, const std::string& id,
                    const std::string& email, Facts& out) {
  if (tables.count("account_sessions")) {
    auto r = sql.query(
        "SELECT COUNT(*) AS n, MAX(last_seen) AS last FROM account_sessions "
        "WHERE account_id = %s",
        {id});
    if (!r.ok()) return r.status();
    line(out, "sessions",
         r->text(0, "n") + (r->integer(0, "n") ? ", last seen " + when(*r, 0, "last") : ""));
  }
  if (tables.count("subscriptions")) {
    auto r = sql.query(
        "SELECT state, subscribed_at, unsubscribed_at FROM subscriptions "
        "WHERE account_id = %s",
        {id});
    if (!r.ok()) return r.status();
    line(out, "newsletter",
         r->empty() ? "never subscribed"
         : r->text(0, "state") == "subscribed"
             ? "subscribed since " + when(*r, 0, "subscribed_at")
             : r->text(0, "state") + " since " + when(*r, 0, "unsubscribed_at"));
  }
  if (tables.count("consents")) {
    auto r = sql.query("SELECT COUNT(*) AS n FROM consents WHERE account_id = %s", {id});
    if (!r.ok()) return r.status();
    line(out, "consent records", r->text(0, "n"));
  }
  if (tables.count("media_downloads")) {
    auto r = sql.query(
        "SELECT COUNT(*) AS n, SUM(bytes) AS bytes, MAX(last_at) AS last "
        "FROM media_downloads WHERE account_id = %s",
        {id});
    if (!r.ok()) return r.status();
    line(out, "downloads",
         r->text(0, "n") + (r->integer(0, "n") ? " (" + r->text(0, "bytes") + " bytes, last " +
                                                     when(*r, 0, "last") + ")"
                                               : ""));
  }
  if (tables.count("mail_outbox")) {
    auto r = sql.query(
        "SELECT status, COUNT(*) AS n FROM mail_outbox WHERE LOWER(recipient) = %s "
        "GROUP BY status ORDER BY status",
        {email});
    if (!r.ok()) return r.status();
    std::string mails;
    for (size_t i = 0; i < r->size(); ++i)
      mails += (i ? ", " : "") + r->text(i, "n") + " " + r->text(i, "status");
    line(out, "mails", mails.empty() ? "none in the outbox" : mails);
  }
  return Status::Ok();
}

Status show_account_facts(Sql& sql, const SqlRows& a, const std::set<std::string>& tables,
                          const std::string& email, Facts& out);

Status show_account(Sql& sql, const AccountsCommand& c, std::ostream& out) {
  auto a = find_account(sql, c.email);
  if (!a.ok()) return a.status();
  auto tables = existing_tables(sql);
  if (!tables.ok()) return tables.status();
  Facts facts;
  Status related = show_account_facts(sql, *a, *tables, c.email, facts);
  if (!related.ok()) return related;
  print_facts(facts, c.json, out);
  return Status::Ok();
}

Status show_account_facts(Sql& sql, const SqlRows& a, const std::set<std::string>& tables,
                          const std::string& email, Facts& out) {
  line(out, "id", a.text(0, "id"));
  line(out, "email", a.text(0, "email"));
  line(out, "state", a.text(0, "state"));
  line(out, "language", a.text(0, "lang"));
  line(out, "created", when(a, 0, "created_at"));
  line(out, "verified", when(a, 0, "verified_at"));
  line(out, "password changed", when(a, 0, "password_changed_at"));
  return show_related(sql, tables, a.text(0, "id"), email, out);
}

}  // namespace

std::string normalise_address(const std::string& typed) {
  const char* space = " \t\r\n";
  const size_t first = typed.find_first_not_of(space);
  if (first == std::string::npos) return "";
  std::string s = typed.substr(first, typed.find_last_not_of(space) - first + 1);
  for (char& ch : s)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  return s;
}

Result<std::set<std::string>> existing_tables(Sql& sql) {
  auto rows = sql.driver() == "pgsql"
                  ? sql.query(
                        "SELECT table_name AS name FROM information_schema.tables "
                        "WHERE table_schema = current_schema()",
                        {})
                  : sql.query("SELECT name FROM sqlite_master WHERE type = 'table'", {});
  if (!rows.ok()) return rows.status();
  std::set<std::string> names;
  for (size_t i = 0; i < rows->size(); ++i) names.insert(normalise_address(rows->text(i, "name")));
  return names;
}

Result<AccountsCommand> parse_accounts_command(const std::vector<std::string>& args) {
  if (args.size() < 2)
    return Status::Invalid(
        "accounts needs a sub-command: list, show, "
        "disable, enable or delete");
  auto verb = verbs().find(args[1]);
  if (verb == verbs().end()) return Status::Invalid("unknown accounts sub-command: " + args[1]);
  AccountsCommand c;
  c.verb = verb->second;
  std::vector<std::string> words;
  for (size_t i = 2; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (c.verb == Verb::kList && a == "--state" && i + 1 < args.size()) {
      c.state = args[++i];
      if (c.state != "pending" && c.state != "verified" && c.state != "disabled")
        return Status::Invalid("--state takes pending, verified or disabled, not " + c.state);
    } else if ((c.verb == Verb::kList || c.verb == Verb::kShow) && a == "--json") {
      c.json = true;
    } else if (c.verb == Verb::kDelete && (a == "--yes" || a == "-y")) {
      c.assume_yes = true;
    } else if (!a.empty() && a[0] == '-') {
      return Status::Invalid("unknown option for accounts " + args[1] + ": " + a);
    } else {
      words.push_back(a);
    }
  }
  if (c.verb == Verb::kList) {
    if (!words.empty()) return Status::Invalid("accounts list takes no address");
    return c;
  }
  if (words.size() != 1) return Status::Invalid("accounts " + args[1] + " takes one address");
  c.email = normalise_address(words[0]);
  if (c.email.find('@') == std::string::npos)
    return Status::Invalid("not an e-mail address: " + words[0]);
  return c;
}

Status run_accounts_command(Sql& sql, const AccountsCommand& command, std::ostream& out,
                            const ErasureTools& erasure) {
  auto tables = existing_tables(sql);
  if (!tables.ok()) return tables.status();
  if (!tables->count("accounts"))
    return Status::Invalid(
        "the database has no accounts table: load the authentication plugin "
        "and run `natomedia-admin db migrate` (or start httpd once)");
  switch (command.verb) {
    case Verb::kList:
      return list_accounts(sql, command, out);
    case Verb::kShow:
      return show_account(sql, command, out);
    case Verb::kDisable:
      return set_disabled(sql, command, true, out);
    case Verb::kEnable:
      return set_disabled(sql, command, false, out);
    case Verb::kDelete:
      return delete_account(sql, command, out, erasure);
  }
  return Status::Internal("unknown accounts command");
}

}  // namespace natomedia::admin
