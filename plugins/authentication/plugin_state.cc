#include "plugin_state.h"

namespace natomedia::auth {

Result<bool> DummyHash::verify(Context& ctx, const std::string& password) {
  std::string phc;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    phc = phc_;
  }
  if (phc.empty()) {
    // Racing first callers may each make one; any of them will do.
    std::string secret = ctx.crypto().random_token(32);
    if (secret.empty()) return Status::Unavailable("the CSPRNG failed");
    auto made = ctx.crypto().password_hash(secret);
    if (!made.ok()) return made.status();
    std::lock_guard<std::mutex> lock(mutex_);
    if (phc_.empty()) phc_ = *made;
    phc = phc_;
  }
  return ctx.crypto().password_verify(password, phc);
}

}  // namespace natomedia::auth
