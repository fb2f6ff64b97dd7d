#include "reset_grant.h"

namespace natomedia::auth {

namespace {

constexpr size_t kGrantIdBytes = 16;
constexpr size_t kGrantTokenChars = 22;  // base64url of 16 bytes, unpadded

}  // namespace

Status issue_grant(Context& ctx, const Account& account, const std::string& return_to) {
  std::string token = ctx.crypto().random_token(kGrantIdBytes);
  if (token.size() != kGrantTokenChars) return Status::Unavailable("the CSPRNG failed");
  Sql& sql = ctx.sql();
  const std::string id = std::to_string(account.id);
  const std::string now = std::to_string(ctx.clock().now());
  Status s = transaction(sql, [&]() -> Status {
    // Expired grants of anyone, and every earlier grant of this account, go.
    auto swept = sql.exec(
        "DELETE FROM password_reset_grants WHERE account_id = %s OR expires_at <= %s", {id, now});
    if (!swept.ok()) return swept.status();
    auto inserted = sql.exec(
        "INSERT INTO password_reset_grants "
        "(grant_hash, account_id, expires_at, return_to, credential_epoch) "
        "VALUES (%s, %s, %s, %s, %s)",
        {ctx.crypto().sha256_hex(token), id, std::to_string(ctx.clock().now() + kGrantLifetime),
         return_to, std::to_string(account.credential_epoch)});
    return inserted.ok() ? Status::Ok() : inserted.status();
  });
  if (!s.ok()) return s;
  ctx.set_cookie({kGrantCookie, token, kGrantLifetime, true, "Strict"});
  return Status::Ok();
}

std::optional<ResetGrant> find_grant(Context& ctx) {
  auto token = ctx.cookie(kGrantCookie);
  if (!token || token->size() != kGrantTokenChars) return std::nullopt;
  const std::string hash = ctx.crypto().sha256_hex(*token);
  auto rows = ctx.sql().query(
      "SELECT g.account_id, g.return_to FROM password_reset_grants g "
      "JOIN accounts a ON a.id = g.account_id AND a.credential_epoch = g.credential_epoch "
      "WHERE g.grant_hash = %s AND g.expires_at > %s",
      {hash, std::to_string(ctx.clock().now())});
  if (!rows.ok()) {
    ctx.log(LogLevel::kWarning, "reset grant lookup failed: " + rows.status().message());
    return std::nullopt;
  }
  if (rows->empty()) return std::nullopt;
  return ResetGrant{hash, rows->integer(0, "account_id"), rows->text(0, "return_to")};
}

Status consume_grant(Context& ctx, Sql& sql, const ResetGrant& grant) {
  auto deleted = sql.exec(
      "DELETE FROM password_reset_grants WHERE grant_hash = %s AND expires_at > %s "
      "AND credential_epoch = "
      "(SELECT credential_epoch FROM accounts WHERE accounts.id = "
      "password_reset_grants.account_id)",
      {grant.hash, std::to_string(ctx.clock().now())});
  if (!deleted.ok()) return deleted.status();
  return *deleted == 1 ? Status::Ok() : Status::NotFound("the reset grant is gone");
}

void forget_grant_cookie(Context& ctx) { ctx.set_cookie({kGrantCookie, "", 0, true, "Strict"}); }

Result<int> delete_expired_grants(Sql& sql, std::time_t now) {
  // A grant is live while expires_at > now (find_grant, consume_grant).
  return sql.exec("DELETE FROM password_reset_grants WHERE expires_at <= %s",
                  {std::to_string(now)});
}

}  // namespace natomedia::auth
