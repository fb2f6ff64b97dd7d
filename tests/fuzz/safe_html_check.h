// The fuzz oracle for sanitized feed bodies: true when `html` is only escaped text and the
// allow-list's bare tags (a with one http(s) href), i.e. nothing a browser could run.
#pragma once

#include <cstring>
#include <string>
#include <string_view>

namespace natomedia {
namespace fuzz {

inline bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

inline bool is_safe_html(std::string_view html) {
  static const char* const kTags[] = {
      "<p>",          "</p>",          "<br>",  "<em>",  "</em>", "<strong>", "</strong>",
      "</a>",         "<ul>",          "</ul>", "<ol>",  "</ol>", "<li>",     "</li>",
      "<blockquote>", "</blockquote>", "<h2>",  "</h2>", "<h3>",  "</h3>"};
  static const char* const kEntities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
  size_t i = 0;
  while (i < html.size()) {
    std::string_view rest = html.substr(i);
    char c = html[i];
    if (c == '<') {
      size_t matched = 0;
      for (const char* tag : kTags)
        if (starts_with(rest, tag)) matched = std::strlen(tag);
      if (matched == 0) {
        if (!starts_with(rest, "<a href=\"")) return false;
        std::string lower(rest.substr(9, 8));
        for (char& l : lower)
          if (l >= 'A' && l <= 'Z') l = static_cast<char>(l - 'A' + 'a');
        if (!starts_with(lower, "http://") && !starts_with(lower, "https://")) return false;
        size_t end = rest.find("\">", 9);
        if (end == std::string_view::npos) return false;
        std::string_view value = rest.substr(9, end - 9);
        if (value.find_first_of("<>\"' \t\r\n") != std::string_view::npos) return false;
        matched = end + 2;
      }
      i += matched;
    } else if (c == '&') {
      size_t matched = 0;
      for (const char* entity : kEntities)
        if (starts_with(rest, entity)) matched = std::strlen(entity);
      if (matched == 0) return false;
      i += matched;
    } else if (c == '>' || c == '"' || c == '\'') {
      return false;
    } else {
      ++i;
    }
  }
  return true;
}

}  // namespace fuzz
}  // namespace natomedia
