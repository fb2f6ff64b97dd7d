// JSON from a Value tree: the one writer of the account export (GET /account/export) and of any
// plugin answer in JSON. Header-only, so a plugin built out of tree writes the very same text.
// Pure and thread-safe. (SDK ABI version 4.)
#pragma once

#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

#include <natomedia/values.h>

namespace natomedia {
namespace json {

// A JSON string literal of UTF-8 text `s`: quotes, backslashes and control characters escaped
// (as \" \\ \n \r \t or \u00XX), everything else passed through.
inline std::string quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

namespace detail {

inline void write(const Value& v, int indent, int depth, std::string& out) {
  const std::string pad = indent > 0
                              ? "\n" + std::string(static_cast<size_t>(indent) * (depth + 1), ' ')
                              : std::string();
  const std::string close =
      indent > 0 ? "\n" + std::string(static_cast<size_t>(indent) * depth, ' ') : std::string();
  switch (v.kind()) {
    case Value::Kind::kNull:
      out += "null";
      return;
    case Value::Kind::kBool:
      out += v.boolean() ? "true" : "false";
      return;
    case Value::Kind::kString:
    case Value::Kind::kTrustedHtml:
      out += quote(v.str());
      return;
    case Value::Kind::kList:
    case Value::Kind::kMap: {
      const bool is_map = v.kind() == Value::Kind::kMap;
      if (is_map ? v.map().empty() : v.list().empty()) {
        out += is_map ? "{}" : "[]";
        return;
      }
      out += is_map ? '{' : '[';
      bool first = true;
      auto member = [&](const std::string* key, const Value& item) {
        if (!first) out += ',';
        first = false;
        out += pad;
        if (key) out += quote(*key) + (indent > 0 ? ": " : ":");
        write(item, indent, depth + 1, out);
      };
      if (is_map)
        for (const auto& [key, item] : v.map()) member(&key, item);
      else
        for (const Value& item : v.list()) member(nullptr, item);
      out += close + (is_map ? "}" : "]");
      return;
    }
  }
}

}  // namespace detail

// A time as the export writes it: "2026-12-03T06:01:00Z" (ISO 8601, UTC); null for a time never
// reached (0 or less).
inline Value utc_time(long long t) {
  if (t <= 0) return Value();
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return Value(std::string(buf));
}

// The JSON text of `v`: maps as objects (keys in sorted order), lists as arrays, strings (numbers
// included: a Value holds a number as its text) as strings, booleans, null. `indent` > 0 puts
// one member a line, indented by that many spaces a level; 0 writes one line.
inline std::string write(const Value& v, int indent = 0) {
  std::string out;
  detail::write(v, indent, 0, out);
  return out;
}

}  // namespace json
}  // namespace natomedia
