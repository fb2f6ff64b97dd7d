// Where a visitor goes after signing in: a local path only, so no link can bounce them to another
// site ("open redirect"). Pure, thread-safe.
//
// The rules are the SAME as natomedia::core::safe_return_to (mod_natomedia/core/
// request_parsing.cc), copied on purpose: a plugin builds against the SDK alone and cannot link
// the core. Change both together.
#pragma once

#include <string>
#include <string_view>

namespace natomedia::auth {

// `candidate` when it is a local absolute path (one leading '/', not "//", no backslash, only
// printable ASCII without spaces, at most 2048 bytes, and still all that after each of up to 4
// rounds of percent-decoding), else "/". Safe to put in a Location header as it is.
std::string safe_return_to(std::string_view candidate);

}  // namespace natomedia::auth
