#include "search_index.h"

#include <algorithm>
#include <mutex>
#include <set>

namespace natomedia::media_gateway {

namespace {

// Folded forms of U+00C0..U+017F; "" for the signs among them (×, ÷), which separate words.
const char* const kLatin1[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",   // C0
    "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",   // D0
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",   // E0
    "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y"};   // F0

const char* extended_a(uint32_t cp) {  // U+0100..U+017F
  struct Span { uint32_t last; const char* folded; };
  static const Span kSpans[] = {
      {0x105, "a"}, {0x10D, "c"}, {0x111, "d"}, {0x11B, "e"}, {0x123, "g"}, {0x127, "h"},
      {0x131, "i"}, {0x133, "ij"}, {0x135, "j"}, {0x138, "k"}, {0x142, "l"}, {0x14B, "n"},
      {0x151, "o"}, {0x153, "oe"}, {0x159, "r"}, {0x161, "s"}, {0x167, "t"}, {0x173, "u"},
      {0x175, "w"}, {0x178, "y"}, {0x17E, "z"}, {0x17F, "s"}};
  for (const auto& s : kSpans)
    if (cp <= s.last) return s.folded;
  return "";
}

// Decodes one UTF-8 sequence at s[i]; advances i. Invalid bytes come back as U+FFFD.
uint32_t next_code_point(std::string_view s, size_t& i) {
  const auto b = static_cast<unsigned char>(s[i]);
  int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > s.size()) { ++i; return 0xFFFD; }
  uint32_t cp = len == 1 ? b : b & (0xFF >> (len + 1));
  for (int k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c >> 6) != 2) { ++i; return 0xFFFD; }
    cp = (cp << 6) | (c & 0x3F);
  }
  i += len;
  return cp;
}

// What a code point adds to a word: its folded letters, or nullopt-like "" with `separator`.
std::string fold_code_point(uint32_t cp, std::string_view raw, bool* separator) {
  *separator = false;
  if (cp < 0x80) {
    const char c = static_cast<char>(cp);
    if (c >= 'A' && c <= 'Z') return std::string(1, static_cast<char>(c - 'A' + 'a'));
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return std::string(1, c);
    *separator = true;
    return "";
  }
  if (cp >= 0xC0 && cp <= 0xFF) {
    const char* f = kLatin1[cp - 0xC0];
    if (*f == '\0') *separator = true;
    return f;
  }
  if (cp >= 0x100 && cp <= 0x17F) return extended_a(cp);
  // Latin-1 signs, general punctuation (’ “ – …), symbols, invalid bytes: separators.
  if (cp < 0xC0 || (cp >= 0x2000 && cp <= 0x2BFF) || cp == 0xFFFD || (cp >= 0x3000 && cp <= 0x303F)) {
    *separator = true;
    return "";
  }
  return std::string(raw);  // another script's letter: kept as it is
}

void add_words(std::string_view text, bool html, std::vector<std::string>& out) {
  std::string word;
  auto flush = [&] {
    if (!word.empty()) out.push_back(std::move(word));
    word.clear();
  };
  size_t i = 0;
  while (i < text.size()) {
    if (html && text[i] == '<') {  // a tag: skipped, and a word ends there
      flush();
      size_t end = text.find('>', i);
      i = end == std::string_view::npos ? text.size() : end + 1;
      continue;
    }
    if (html && text[i] == '&') {  // an entity: a separator
      flush();
      size_t end = text.find(';', i);
      i = end == std::string_view::npos || end - i > 10 ? i + 1 : end + 1;
      continue;
    }
    const size_t start = i;
    const uint32_t cp = next_code_point(text, i);
    bool separator = false;
    std::string folded = fold_code_point(cp, text.substr(start, i - start), &separator);
    if (separator) flush(); else word += folded;
  }
  flush();
}

std::string text_in(const LocalizedText& t, const std::string& lang) {
  auto p = t.get(lang);
  return p.text ? *p.text : std::string();
}

}  // namespace

std::string fold_for_search(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t start = i;
    const uint32_t cp = next_code_point(text, i);
    bool separator = false;
    std::string f = fold_code_point(cp, text.substr(start, i - start), &separator);
    out += separator ? std::string(text.substr(start, i - start)) : f;
  }
  return out;
}

std::vector<std::string> search_words(std::string_view text, bool html) {
  std::vector<std::string> out;
  add_words(text, html, out);
  return out;
}

SearchIndex::SearchIndex(const FeedSnapshot& snapshot) {
  std::set<std::string> langs{"en"};
  for (const auto& item : snapshot.items) {
    for (const LocalizedText* t : {&item.headline, &item.summary, &item.body_html})
      for (const auto& [lang, text] : t->by_lang) langs.insert(lang);
    for (const auto& [lang, words] : item.keywords) langs.insert(lang);
  }
  for (const std::string& lang : langs) {
    Postings& postings = by_lang_[lang];
    for (uint32_t n = 0; n < snapshot.items.size(); ++n) {
      const NewsItem& item = snapshot.items[n];
      std::vector<std::string> words;
      add_words(text_in(item.headline, lang), false, words);
      add_words(text_in(item.summary, lang), false, words);
      add_words(text_in(item.body_html, lang), true, words);
      auto kw = item.keywords.find(lang);
      if (kw == item.keywords.end()) kw = item.keywords.find("en");
      if (kw != item.keywords.end())
        for (const auto& k : kw->second) add_words(k, false, words);
      std::sort(words.begin(), words.end());
      words.erase(std::unique(words.begin(), words.end()), words.end());
      for (auto& w : words) postings[std::move(w)].push_back(n);  // n ascends: lists stay sorted
    }
  }
  for (uint32_t n = 0; n < snapshot.items.size(); ++n)
    for (const auto& s : snapshot.items[n].subjects) {
      auto& list = by_topic_[s.qcode];
      if (list.empty() || list.back() != n) list.push_back(n);
      if (!topic_names_.count(s.qcode)) topic_names_[s.qcode] = s.name;
    }
}

std::vector<uint32_t> SearchIndex::find(const std::string& lang,
                                        const std::vector<std::string>& words,
                                        const std::string& topic) const {
  std::vector<uint32_t> result;
  bool first = true;
  auto narrow = [&](std::vector<uint32_t> hits) {
    if (first) {
      result = std::move(hits);
      first = false;
      return;
    }
    std::vector<uint32_t> both;
    std::set_intersection(result.begin(), result.end(), hits.begin(), hits.end(),
                          std::back_inserter(both));
    result = std::move(both);
  };
  if (!topic.empty()) {
    auto it = by_topic_.find(topic);
    narrow(it == by_topic_.end() ? std::vector<uint32_t>{} : it->second);
  }
  auto lang_it = by_lang_.find(lang);
  if (lang_it == by_lang_.end()) lang_it = by_lang_.find("en");
  for (const std::string& w : words) {
    if (!first && result.empty()) break;
    std::vector<uint32_t> hits;
    if (lang_it != by_lang_.end()) {
      const Postings& p = lang_it->second;
      for (auto it = p.lower_bound(w); it != p.end() && it->first.compare(0, w.size(), w) == 0;
           ++it)
        hits.insert(hits.end(), it->second.begin(), it->second.end());
      std::sort(hits.begin(), hits.end());
      hits.erase(std::unique(hits.begin(), hits.end()), hits.end());
    }
    narrow(std::move(hits));
  }
  return result;
}

std::string SearchIndex::topic_name(const std::string& qcode, const std::string& lang) const {
  auto it = topic_names_.find(qcode);
  return it == topic_names_.end() ? std::string() : text_in(it->second, lang);
}

std::shared_ptr<const SearchIndex> search_index(
    const std::shared_ptr<const FeedSnapshot>& snapshot) {
  if (auto built = snapshot->derived_as<SearchIndex>(kSearchIndexName)) return built;
  static std::mutex mutex;
  static std::weak_ptr<const FeedSnapshot> indexed;
  static std::shared_ptr<const SearchIndex> index;
  std::lock_guard<std::mutex> lock(mutex);
  if (index && indexed.lock() == snapshot) return index;
  index = std::make_shared<const SearchIndex>(*snapshot);
  indexed = snapshot;
  return index;
}

}  // namespace natomedia::media_gateway
