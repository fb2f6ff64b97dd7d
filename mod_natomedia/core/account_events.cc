#include "core/account_events.h"

#include <exception>
#include <string>

namespace natomedia::core {

Status emit_event(const Extensions& extensions, Context& ctx, const AccountEventData& event) {
  Status first = Status::Ok();
  for (const auto& [type, entry] : extensions.listeners) {
    if (type != event.type) continue;
    std::string failure;
    try {
      entry.second(ctx, event);
      continue;
    } catch (const std::exception& e) {
      failure = "event listener of plugin " + entry.first + " failed: " + e.what();
    } catch (...) {
      failure = "event listener of plugin " + entry.first + " failed";
    }
    ctx.log(LogLevel::kError, failure);
    if (first.ok()) first = Status::Internal(failure);
  }
  return first;
}

Result<Value::Map> collect_account_data(const Extensions& extensions, Context& ctx,
                                        const Account& account) {
  Value::Map out;
  for (const auto& [plugin, exporter] : extensions.exporters) {
    std::string failure;
    try {
      Result<Value> part = exporter(ctx, account);
      if (part.ok()) {
        out[plugin] = std::move(*part);
        continue;
      }
      if (part.status().code() == Status::Code::kUnavailable)
        return Status::Unavailable("the export of plugin " + plugin + ": " +
                                   part.status().message());
      failure = part.status().message();
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "unknown exception";
    }
    return Status::Internal("the export of plugin " + plugin + " failed: " + failure);
  }
  return out;
}

std::shared_ptr<void> registered_provider(const Extensions& extensions, const std::string& name,
                                          int version) {
  auto it = extensions.providers.find({name, version});
  return it == extensions.providers.end() ? nullptr : it->second;
}

}  // namespace natomedia::core
