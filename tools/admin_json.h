// natomedia-admin --json: the few pieces of JSON (RFC 8259) the list and show commands write.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace natomedia::admin {

// "text" as a JSON string literal: quotes, backslashes and control characters escaped.
inline std::string json_string(const std::string& text) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// One JSON object, its members in the order they were added; values are already JSON.
class JsonObject {
 public:
  JsonObject& raw(const std::string& key, const std::string& json) {
    members_.emplace_back(key, json);
    return *this;
  }
  JsonObject& text(const std::string& key, const std::string& value) {
    return raw(key, json_string(value));
  }
  // A string, or null when `value` is empty (a time that never happened).
  JsonObject& text_or_null(const std::string& key, const std::string& value) {
    return raw(key, value.empty() ? "null" : json_string(value));
  }
  JsonObject& number(const std::string& key, int64_t value) {
    return raw(key, std::to_string(value));
  }
  std::string str() const {
    std::string out = "{";
    for (size_t i = 0; i < members_.size(); ++i)
      out += (i ? "," : "") + json_string(members_[i].first) + ":" + members_[i].second;
    return out + "}";
  }

 private:
  std::vector<std::pair<std::string, std::string>> members_;
};

inline std::string json_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "]";
}

}  // namespace natomedia::admin
