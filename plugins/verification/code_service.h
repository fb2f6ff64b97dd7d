// The "natomedia.codes" v1 provider: issues emailed codes (stored by CodeStore, mailed through the
// outbox in the caller's transaction, in the account's language) and checks them.
#pragma once

#include <string>

#include <natomedia/email.h>
#include <natomedia/providers.h>

#include "code_store.h"

namespace natomedia::verification {

// "This code will expire in 30 minutes." from NatoMediaCodeLifetime, in `lang`.
std::string expiry_sentence(Context& ctx, const std::string& lang);

class CodeServiceImpl : public CodeService {
 public:
  CodeIssue issue(Context& ctx, Sql& sql, CodePurpose purpose, const Account& account) override;
  CodeCheck check(Context& ctx, CodePurpose purpose, const std::string& email,
                  const std::string& typed) override;
  CodeIssue issue_decoy(Context& ctx, Sql& sql, CodePurpose purpose, const std::string& email,
                        const std::string& lang) override;
  // check(), and on kOk *binding is the registration the code was bound to ("" for none).
  CodeCheck check_bound(Context& ctx, CodePurpose purpose, const std::string& email,
                        const std::string& typed, std::string* binding) override;
  // The account-deleted listener: the address's codes die with the account.
  void forget(Context& ctx, const Account& account);
};

}  // namespace natomedia::verification
