// Vars: the data a template is rendered with. A small tree of strings, booleans, lists and maps.
// Strings are escaped by the template engine on output; only a value made with Value::TrustedHtml
// (markup the core has already sanitised) is written as it is.
#pragma once

#include <map>
#include <memory>
#include <string>
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
  Value(int n) : kind_(Kind::kString), str_(std::to_string(n)) {}  // NOLINT
  Value(long n) : kind_(Kind::kString), str_(std::to_string(n)) {}  // NOLINT
  Value(long long n) : kind_(Kind::kString), str_(std::to_string(n)) {}  // NOLINT
  Value(unsigned long n) : kind_(Kind::kString), str_(std::to_string(n)) {}  // NOLINT
  Value(unsigned long long n) : kind_(Kind::kString), str_(std::to_string(n)) {}  // NOLINT
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
