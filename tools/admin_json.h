// natomedia-admin --json: the few pieces of JSON (RFC 8259) the list and show commands write.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <natomedia/json.h>

namespace natomedia::admin {

// "text" as a JSON string literal: the SDK's one JSON escaper (natomedia/json.h).
inline std::string json_string(const std::string& text) { return json::quote(text); }

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
