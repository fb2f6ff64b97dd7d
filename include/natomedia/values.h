// Vars: the data a template is rendered with. A small tree of strings, booleans, lists and maps.
// Strings are escaped by the template engine on output; only a value made with Value::TrustedHtml
// (markup the core has already sanitised) is written as it is.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace natomedia {

class Value {
 public:
  enum class Kind { kNull, kString, kTrustedHtml, kBool, kList, kMap };
  using List = std::vector<Value>;
  using Map = std::map<std::string, Value>;

  Value() = default;
  Value(const char* s) : kind_(Kind::kString), str_(s ? s : "") {}  // NOLINT
  Value(std::string s) : kind_(Kind::kString), str_(std::move(s)) {}  // NOLINT
  Value(bool b) : kind_(Kind::kBool), bool_(b) {}  // NOLINT
  Value(std::string_view s) : kind_(Kind::kString), str_(s) {}  // NOLINT
  // Any number (every arithmetic type but bool), as its decimal text: integers exactly, floating
  // point with up to 15 significant digits ("0.5", "1e+20"). (SDK ABI version 4.)
  template <typename T, typename std::enable_if_t<std::is_arithmetic_v<T> &&
                                                      !std::is_same_v<T, bool>, int> = 0>
  Value(T n) : kind_(Kind::kString), str_(number_text(n)) {}  // NOLINT
  Value(List l) : kind_(Kind::kList), list_(std::make_shared<List>(std::move(l))) {}  // NOLINT
  Value(Map m) : kind_(Kind::kMap), map_(std::make_shared<Map>(std::move(m))) {}  // NOLINT

  // Markup that must not be escaped again: only for HTML the core produced or sanitised.
  static Value TrustedHtml(std::string html) {
    Value v(std::move(html));
    v.kind_ = Kind::kTrustedHtml;
    return v;
  }

  Kind kind() const { return kind_; }
  const std::string& str() const { return str_; }
  bool boolean() const { return bool_; }
  const List& list() const { return list_ ? *list_ : kEmptyList(); }
  const Map& map() const { return map_ ? *map_ : kEmptyMap(); }

  // Mustache truthiness: null, false, "" and [] are false.
  bool truthy() const {
    switch (kind_) {
      case Kind::kNull: return false;
      case Kind::kBool: return bool_;
      case Kind::kString:
      case Kind::kTrustedHtml: return !str_.empty();
      case Kind::kList: return list_ && !list_->empty();
      case Kind::kMap: return true;
    }
    return false;
  }

 private:
  template <typename T>
  static std::string number_text(T n) {
    if constexpr (std::is_floating_point_v<T>) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.15g", static_cast<double>(n));
      return buf;
    } else if constexpr (std::is_signed_v<T>) {
      return std::to_string(static_cast<long long>(n));
    } else {
      return std::to_string(static_cast<unsigned long long>(n));
    }
  }
  static const List& kEmptyList() { static const List l; return l; }
  static const Map& kEmptyMap() { static const Map m; return m; }

  Kind kind_ = Kind::kNull;
  std::string str_;
  bool bool_ = false;
  std::shared_ptr<const List> list_;
  std::shared_ptr<const Map> map_;
};

using Vars = Value::Map;

}  // namespace natomedia
