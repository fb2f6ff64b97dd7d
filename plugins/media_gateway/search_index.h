// News search (CONTRACT 13, `/news/?q=WORDS&topic=QCODE`): an inverted index of a feed
// snapshot's words, per language, built once per snapshot, so a search is a few map lookups and
// never a scan of the items. Words are folded (ASCII lower case, Latin accents removed) so the
// search is case- and accent-insensitive. Immutable once built; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <natomedia/feed.h>

namespace natomedia::media_gateway {

// `text` (UTF-8) folded for search: ASCII letters in lower case, Latin-1 and Latin Extended-A
// letters without their accents ("Türkiye" -> "turkiye", "Œuvre" -> "oeuvre").
std::string fold_for_search(std::string_view text);

// The folded words of `text`: runs of letters and digits (other scripts kept as they are);
// spaces, punctuation and, in HTML, tags and entities separate them.
std::vector<std::string> search_words(std::string_view text, bool html = false);

class SearchIndex {
 public:
  explicit SearchIndex(const FeedSnapshot& snapshot);

  // Positions in snapshot.items (ascending: newest first) of the items whose headline, summary,
  // keywords or body in `lang` (English where the item lacks `lang`) hold a word starting with
  // each of `words` (folded), and, when `topic` is not empty, with a subject of that qcode.
  std::vector<uint32_t> find(const std::string& lang, const std::vector<std::string>& words,
                             const std::string& topic) const;

  // The name of the subject `qcode` in `lang` (English fallback); "" when no item has it.
  std::string topic_name(const std::string& qcode, const std::string& lang) const;

 private:
  using Postings = std::map<std::string, std::vector<uint32_t>>;
  std::map<std::string, Postings> by_lang_;  // language -> word -> items
  std::map<std::string, std::vector<uint32_t>> by_topic_;
  std::map<std::string, LocalizedText> topic_names_;
};

// The name the plugin's feed deriver (PluginHost::on_feed_load) gives the index it builds with
// each snapshot, when the snapshot is loaded and before it is served.
constexpr const char* kSearchIndexName = "media_gateway.search";

// The index of `snapshot`: the one built with it at load time; for a snapshot loaded without
// the deriver (the empty feed, a test's own), built on first use and kept while it is the one
// asked for.
std::shared_ptr<const SearchIndex> search_index(
    const std::shared_ptr<const FeedSnapshot>& snapshot);

}  // namespace natomedia::media_gateway
