// The key material of NatoMediaSecretFile: the keys behind every HMAC and signature.
#pragma once

#include <string>
#include <vector>

#include <natomedia/status.h>

namespace natomedia {
namespace core {

// Loaded once at configuration time (in the parent, before it drops privileges) and then only
// read, so it is safe to share between threads.
struct SecretKeys {
  struct Key {
    std::string id;        // first 8 hex digits of SHA-256(material): names the key in signatures
    std::string material;  // raw key bytes, never logged
  };

  // keys[0] is the current key (used to make HMACs and signatures); later keys are old ones
  // still accepted when verifying a signature, so the secret can rotate without breaking links.
  std::vector<Key> keys;
  // Something the sysadmin should fix but that does not stop start-up (a text file whose lines
  // could not all be keys). Empty when there is nothing to say.
  std::string warning;

  // Reads `path`. A text file whose non-empty lines each hold at least kMinKeyBytes printable
  // characters gives one key a line, the first the current one; any other file (binary random
  // data, say) is one key made of all its bytes. Invalid, naming the path and the fix, when the
  // file is missing, unreadable, too large, holds fewer than kMinKeyBytes bytes, or when its
  // mode lets every user read it (o+r) or anyone but its owner write it (g+w, o+w): then the
  // message gives the mode in octal and the chmod (600, or 640 when the group reads it).
  static Result<SecretKeys> load(const std::string& path);

  // The same rules applied to content already read; `path` only names it in messages.
  static Result<SecretKeys> parse(const std::string& content, const std::string& path);

  static constexpr size_t kMinKeyBytes = 32;
  static constexpr size_t kMaxFileBytes = 64 * 1024;
};

}  // namespace core
}  // namespace natomedia
