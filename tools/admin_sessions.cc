#include "admin_sessions.h"

#include "admin_accounts.h"    // normalise_address, existing_tables
#include "admin_json.h"
#include "admin_newsletter.h"  // iso8601_utc

namespace natomedia::admin {

namespace {

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

Result<SessionsCommand> parse_sessions_command(const std::vector<std::string>& args) {
  if (args.size() < 2 || (args[1] != "list" && args[1] != "end"))
    return Status::Invalid(args.size() < 2 ? "sessions needs a sub-command: list or end"
                                           : "unknown sessions sub-command: " + args[1]);
  SessionsCommand c;
  c.end = args[1] == "end";
  std::vector<std::string> words;
  for (size_t i = 2; i < args.size(); ++i) {
    if (args[i] == "--json" && !c.end)
      c.json = true;
    else if (!args[i].empty() && args[i][0] == '-')
      return Status::Invalid("unknown option for sessions " + args[1] + ": " + args[i]);
    else
      words.push_back(args[i]);
  }
  if (words.size() != 1)
    return Status::Invalid("sessions " + args[1] + " takes one account (address or id)");
  c.account = all_digits(words[0]) ? words[0] : normalise_address(words[0]);
  if (!all_digits(c.account) && c.account.find('@') == std::string::npos)
    return Status::Invalid("not an e-mail address or account id: " + words[0]);
  return c;
}

Status run_sessions_command(Sql& sql, const SessionsCommand& c, std::ostream& out) {
  auto tables = existing_tables(sql);
  if (!tables.ok()) return tables.status();
  if (!tables->count("accounts") || !tables->count("account_sessions"))
    return Status::Invalid(
        "the database has no sessions table: load the authentication plugin "
        "and run `natomedia-admin db migrate` (or start httpd once)");
  auto account = all_digits(c.account)
                     ? sql.query("SELECT id, email FROM accounts WHERE id = %s", {c.account})
                     : sql.query("SELECT id, email FROM accounts WHERE email = %s", {c.account});
  if (!account.ok()) return account.status();
  if (account->empty()) return Status::NotFound("no account " + c.account);
  const std::string id = account->text(0, "id");
  const std::string email = account->text(0, "email");
  if (c.end) {
    auto gone = sql.exec("DELETE FROM account_sessions WHERE account_id = %s", {id});
    if (!gone.ok()) return gone.status();
    out << "ended " << *gone << " session(s) of " << email << " (account " << id << ")\n";
    return Status::Ok();
  }
  auto rows = sql.query(
      "SELECT id_hash, created_at, last_seen FROM account_sessions WHERE account_id = %s "
      "ORDER BY last_seen DESC, id_hash",
      {id});
  if (!rows.ok()) return rows.status();
  std::vector<std::string> items;
  for (size_t i = 0; i < rows->size(); ++i) {
    const std::string hash = rows->text(i, "id_hash").substr(0, 12);
    const std::string created = iso8601_utc(rows->integer(i, "created_at"));
    const std::string seen = iso8601_utc(rows->integer(i, "last_seen"));
    if (c.json)
      items.push_back(JsonObject()
                          .text("session", hash)
                          .number("account_id", account->integer(0, "id"))
                          .text("email", email)
                          .text_or_null("created", created)
                          .text_or_null("last_seen", seen)
                          .str());
    else
      out << hash << "\t" << (created.empty() ? "-" : created) << "\t"
          << (seen.empty() ? "-" : seen) << "\n";
  }
  if (c.json) out << json_array(items) << "\n";
  return Status::Ok();
}

}  // namespace natomedia::admin
