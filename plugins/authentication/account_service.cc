#include "account_service.h"

#include "account_store.h"
#include <natomedia/email.h>
#include "sessions.h"

namespace natomedia::auth {

Result<std::optional<Account>> SessionIdentity::resolve(Context& ctx) {
  return resolve_session(ctx);
}

Result<Account> AccountServiceImpl::find_by_email(Context& ctx, const std::string& email) {
  auto normal = normalize_email(email);
  if (!normal) return Status::NotFound("not an address");
  auto stored = find_account_by_email(ctx.sql(), *normal);
  if (!stored.ok()) return stored.status();
  return with_registration(ctx, *stored);
}

Result<Account> AccountServiceImpl::find_by_id(Context& ctx, int64_t account_id) {
  auto stored = find_account_by_id(ctx.sql(), account_id);
  if (!stored.ok()) return stored.status();
  return with_registration(ctx, *stored);
}

Account with_registration(Context& ctx, const StoredAccount& stored) {
  Account account = stored.account;
  if (account.state == "pending")
    account.registration = registration_of(ctx.crypto(), stored.password_hash);
  return account;
}

Result<Account> AccountServiceImpl::verify_registration(Context& ctx, const std::string& email,
                                                        const std::string& registration) {
  auto normal = normalize_email(email);
  if (!normal) return Status::NotFound("not an address");
  Sql& sql = ctx.sql();
  auto stored = find_account_by_email(sql, *normal);
  if (!stored.ok()) return stored.status();
  if (stored->account.state != "pending" || registration.empty() ||
      !ctx.crypto().equal(registration_of(ctx.crypto(), stored->password_hash), registration))
    return Status::NotFound("the registration is no longer the pending one");
  // The hash read above must still be the stored one when the state changes: a registration
  // that replaced it meanwhile wins, and this code is dead.
  auto changed =
      verify_pending_account(sql, stored->account.id, stored->password_hash, ctx.clock().now());
  if (!changed.ok()) return changed.status();
  if (!*changed) return Status::NotFound("the registration was replaced meanwhile");
  Account account = stored->account;
  account.state = "verified";
  ctx.metrics().add("natomedia_accounts_verified_total");
  ctx.emit({AccountEvent::kVerified, account});
  return account;
}

Result<Account> AccountServiceImpl::mark_verified(Context& ctx, int64_t account_id) {
  auto changed = mark_account_verified(ctx.sql(), account_id, ctx.clock().now());
  if (!changed.ok()) return changed.status();
  auto stored = find_account_by_id(ctx.sql(), account_id);
  if (!stored.ok()) return stored.status();
  if (stored->account.state != "verified") return Status::Invalid("the account is disabled");
  if (*changed) {
    ctx.metrics().add("natomedia_accounts_verified_total");
    ctx.emit({AccountEvent::kVerified, stored->account});
  }
  return stored->account;
}

Status AccountServiceImpl::sign_in(Context& ctx, const Account& account) {
  auto stored = find_account_by_id(ctx.sql(), account.id);
  if (!stored.ok()) return stored.status();
  Status s = start_session(ctx, stored->account);
  if (!s.ok()) return s;
  ctx.metrics().add("natomedia_signins_ok_total");
  ctx.emit({AccountEvent::kSignedIn, stored->account});
  return Status::Ok();
}

}  // namespace natomedia::auth
