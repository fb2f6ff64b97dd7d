// What the plugin's handlers share, built once in setup and read-only afterwards (the dummy
// hash aside, which is made once per process under its own lock).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <natomedia/plugin.h>

#include "password_policy.h"
#include "sign_in_throttle.h"

namespace natomedia::auth {

// An argon2id hash of a random password nobody knows, made with the current parameters on first
// use. Sign-in verifies against it when the address has no account, so an unknown address costs
// the same time as a wrong password.
class DummyHash {
 public:
  // The result of verifying `password` against the dummy hash (always false when Ok), or
  // Unavailable when no hash slot was free.
  Result<bool> verify(Context& ctx, const std::string& password);

 private:
  std::mutex mutex_;
  std::string phc_;
};

struct PluginState {
  std::shared_ptr<const DenyList> deny_list;
  SignInThrottle throttle;
  DummyHash dummy_hash;
};

}  // namespace natomedia::auth
