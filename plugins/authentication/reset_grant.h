// The right to set a new password, earned by a correct reset code (CONTRACT section 4): single
// use, short-lived, bound to the browser that typed the code. The browser holds a random grant
// id in the nm_reset cookie; the database holds only its SHA-256, the account, the return_to and
// the account's credential epoch at issue: once the epoch moves on (the password or address
// changed, the account was disabled) the grant is dead (CONTRACT section 12).
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

#include <natomedia/plugin.h>

namespace natomedia::auth {

inline constexpr const char* kGrantCookie = "nm_reset";
inline constexpr long kGrantLifetime = 600;  // seconds

struct ResetGrant {
  std::string hash;  // what identifies the row
  int64_t account_id = 0;
  std::string return_to;
};

// Stores a new grant for the account at its credential epoch (earlier grants of the account are
// dropped) and sets the cookie on this answer.
Status issue_grant(Context& ctx, const Account& account, const std::string& return_to);

// This browser's live grant, or nullopt (none, unknown, expired, or the account's epoch moved
// on). Does not consume it.
std::optional<ResetGrant> find_grant(Context& ctx);

// Consumes the grant with `sql` (call inside the transaction that uses it): Ok for exactly one
// caller even when two race, NotFound for the others or when it has expired or the account's
// epoch has moved on meanwhile.
Status consume_grant(Context& ctx, Sql& sql, const ResetGrant& grant);

// Clears the grant cookie on this answer.
void forget_grant_cookie(Context& ctx);

// Deletes every grant expired at `now`; returns how many went.
Result<int> delete_expired_grants(Sql& sql, std::time_t now);

}  // namespace natomedia::auth
