// The `--help` text of each natomedia-admin command (`natomedia-admin accounts --help`).
#pragma once

#include <string>

namespace natomedia::admin {

// The help of `command` ("accounts", "outbox", ...), or "" when there is no such command.
std::string command_help(const std::string& command);

}  // namespace natomedia::admin
