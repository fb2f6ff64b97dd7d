// natomedia-admin sessions list|end ACCOUNT (CONTRACT section 14): the authentication plugin's
// sessions (plugins/authentication/sessions.h; table account_sessions) of one account, named by
// its address or its id. Works through the same DBD layer and prepared SQL as the other commands.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <natomedia/services.h>

namespace natomedia::admin {

struct SessionsCommand {
  bool end = false;      // end: delete every session of the account (signs it out everywhere)
  std::string account;   // a normalised address, or the account's id (digits)
  bool json = false;     // list --json
};

// Parses `sessions list|end ACCOUNT [--json]` (args[0] == "sessions"); Invalid for wrong words.
Result<SessionsCommand> parse_sessions_command(const std::vector<std::string>& args);

// list: one session a line, tab-separated: the first 12 hex digits of the session id's hash
// (the id itself is never stored), created, last seen (UTC, ISO 8601); --json an array.
// end: deletes them; says how many ended. NotFound when there is no such account.
Status run_sessions_command(Sql& sql, const SessionsCommand& command, std::ostream& out);

}  // namespace natomedia::admin
