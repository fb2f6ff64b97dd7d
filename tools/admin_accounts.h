// natomedia-admin's account commands (CONTRACT section 10): `accounts list|show|disable|enable|
// delete`. They work on the authentication plugin's tables (plugins/authentication/schema.cc) and,
// where those plugins are installed, on the newsletter's (subscriptions, consents, deliveries),
// the media gateway's download log and the core's mail outbox. A table that does not exist is a
// plugin that is not installed, never an error.
#pragma once

#include <ostream>
#include <set>
#include <string>
#include <vector>

#include <natomedia/plugin.h>

namespace natomedia::admin {

struct AccountsCommand {
  enum class Verb { kList, kShow, kDisable, kEnable, kDelete };
  Verb verb = Verb::kList;
  std::string email;        // normalised (trimmed, ASCII lower-case); empty for list
  std::string state;        // list --state: pending, verified or disabled ("" for all)
  bool assume_yes = false;  // delete --yes: never ask, even on a terminal
  bool json = false;        // list, show --json: one JSON document instead of text
};

// Parses `accounts VERB [ARGS]` (args[0] == "accounts"). Invalid, with a message for the shell
// user, when the words are wrong: the caller answers with exit code 64.
Result<AccountsCommand> parse_accounts_command(const std::vector<std::string>& args);

// What `accounts delete` needs besides the database: a Context over the loaded plugins, on the
// same connection (the erasure is the authentication plugin's AccountService::erase, which tells
// every plugin through the account-deleted event), and the names of the plugins that listen, for
// the report. No context: delete refuses (Invalid), as it could not reach the plugins' data.
struct ErasureTools {
  Context* context = nullptr;
  std::vector<std::string> listeners;
};

// Runs the command; what it did goes to `out`. NotFound when the account does not exist,
// Unavailable/Internal for database trouble, Invalid when the authentication plugin's tables
// are missing (the schema was never migrated).
//
// delete is a GDPR erasure, in one transaction, the same as POST /account/delete's: each plugin
// erases or anonymises its rows (the newsletter deletes the subscription and its deliveries and
// keeps the consent records anonymised; the media gateway keeps download-log rows under a
// pseudonym; a third-party plugin its own), then the account, its sessions, reset grants and
// every mail to its address in the outbox are deleted.
Status run_accounts_command(Sql& sql, const AccountsCommand& command, std::ostream& out,
                            const ErasureTools& erasure = {});

// The tables of the connected database (lower-case names).
Result<std::set<std::string>> existing_tables(Sql& sql);

// "Ann@Example.ORG " -> "ann@example.org", as the authentication plugin keeps addresses.
std::string normalise_address(const std::string& typed);

}  // namespace natomedia::admin
