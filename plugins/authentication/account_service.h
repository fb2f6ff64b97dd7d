// What the plugin offers the core and the other plugins: the identity provider (who is signed in)
// and the "natomedia.accounts" v1 AccountService (providers.h), which the verification plugin uses
// to verify an account and sign its owner in.
#pragma once

#include <natomedia/providers.h>

#include "account_store.h"

namespace natomedia::auth {

class SessionIdentity : public IdentityProvider {
 public:
  Result<std::optional<Account>> resolve(Context& ctx) override;
};

class AccountServiceImpl : public AccountService {
 public:
  Result<Account> find_by_email(Context& ctx, const std::string& email) override;
  // Invalid for a disabled account.
  Result<Account> mark_verified(Context& ctx, int64_t account_id) override;
  // Invalid unless the account (as stored now) is verified.
  Status sign_in(Context& ctx, const Account& account) override;
  Result<Account> find_by_id(Context& ctx, int64_t account_id) override;
  Result<Account> verify_registration(Context& ctx, const std::string& email,
                                      const std::string& registration) override;
  Result<AccountErasure> erase(Context& ctx, const Account& account) override;
};

// The account as the providers hand it out: with Account::registration for a pending one.
Account with_registration(Context& ctx, const StoredAccount& stored);

}  // namespace natomedia::auth
