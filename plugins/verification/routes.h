// The plugin's route handlers (verify_pages.cc); plugin.cc binds them to their paths.
#pragma once

#include <natomedia/plugin.h>

#include "code_service.h"

namespace natomedia::verification {

// GET /account/verify?email=E: the code form and the "Send new code" form.
Response get_verify(Context& ctx);
Response get_verified(Context& ctx);
// POST /account/verify (email, code): 200 verified and signed in, 422 wrong, 410 dead.
Response post_verify(Context& ctx, CodeServiceImpl& codes);
// POST /account/verify/resend (email): 303 back to the form, 429 inside the cooldown.
Response post_resend(Context& ctx, CodeServiceImpl& codes);

}  // namespace natomedia::verification
