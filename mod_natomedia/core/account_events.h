// The account events and the account data export, delivered to what plugins registered: the one
// place both Contexts (a request's, natomedia-admin's) hand them out, so the page's erasure and
// `natomedia-admin accounts delete` tell the same listeners the same way.
#pragma once

#include <natomedia/plugin.h>

#include "core/event_bus.h"

namespace natomedia::core {

// Calls every listener of `event.type`, in plugin load order, with `ctx`. A listener that throws
// is logged with ctx.log and the others still run; the answer is the first such failure (naming
// the plugin), Ok when every listener returned.
Status emit_event(const Extensions& extensions, Context& ctx, const AccountEventData& event);

// The provider a plugin registered under (name, version), or nullptr: Context::provider of both.
std::shared_ptr<void> registered_provider(const Extensions& extensions, const std::string& name,
                                          int version);

// Every exporter's Value under its plugin's name, in load order. The first exporter that fails
// (an error Status, or it threw) ends the collection with that failure, naming the plugin.
Result<Value::Map> collect_account_data(const Extensions& extensions, Context& ctx,
                                        const Account& account);

}  // namespace natomedia::core
