// The content feed as plugins see it: an immutable snapshot of the last good NewsML-G2 document
// (CONTRACT section 8). A snapshot never changes; a reload publishes a new one. Thread-safe.
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace natomedia {

// Text in several languages (xml:lang). get() falls back to English and says so.
struct LocalizedText {
  std::map<std::string, std::string> by_lang;

  struct Pick {
    const std::string* text = nullptr;  // nullptr when there is none at all
    bool fallback = false;              // true when English stands in for the language asked
  };
  Pick get(const std::string& lang) const {
    auto it = by_lang.find(lang);
    if (it != by_lang.end()) return {&it->second, false};
    it = by_lang.find("en");
    if (it != by_lang.end()) return {&it->second, lang != "en"};
    if (!by_lang.empty()) return {&by_lang.begin()->second, true};
    return {};
  }
  bool empty() const { return by_lang.empty(); }
};

struct Rendition {
  std::string id;            // "hd1080" (the QCode after ':')
  std::string qcode;         // "rnd:hd1080"
  std::string href;          // relative to NatoMediaMediaRoot, as written in the feed
  std::string content_type;  // "video/mp4"
  uint64_t size = 0;         // bytes, from the feed
  int width = 0, height = 0;
  double duration_seconds = 0;
  double frame_rate = 0;
  std::string sha256;        // hex, from nm:sha256 (may be empty)
  std::string filename;      // nm:filename (may be empty)
  std::string video_codec;   // nm:videocodec, "H.264" (may be empty; SDK ABI 4)
  std::string audio_codec;   // nm:audiocodec, "AAC" (may be empty)
  uint64_t bitrate = 0;      // nm:bitrate, bits per second of the whole file (0: not given)
};

struct Subject {
  std::string qcode;
  LocalizedText name;
};

struct NewsItem {
  std::string id;            // the guid after its last ':'
  std::string guid;
  std::string version;
  bool is_video = false;     // itemClass ninat:video
  std::string provider;
  std::time_t version_created = 0;
  std::time_t first_created = 0;
  std::time_t content_created = 0;  // 0 when absent
  std::string pub_status;    // "stat:usable" (withheld and canceled items are not in a snapshot)
  std::string icon_href;     // relative to NatoMediaMediaRoot, "" when none
  std::string icon_content_type;
  LocalizedText located;     // the place's names per language (a `literal` alone: as "en")
  std::vector<Subject> subjects;
  LocalizedText headline;
  LocalizedText dateline;
  LocalizedText summary;     // description role="descrole:summary"
  LocalizedText shotlist;    // description role="descrole:shotlist"
  std::map<std::string, std::vector<std::string>> keywords;  // by language
  LocalizedText creditline;  // per language (xml:lang), the first of each
  LocalizedText body_html;   // the inlineXML body, already reduced to the allow-list (safe HTML)
  std::vector<Rendition> renditions;

  const Rendition* rendition(const std::string& rid) const {
    for (const auto& r : renditions)
      if (r.id == rid) return &r;
    return nullptr;
  }
};

// What the plugins derive from one snapshot when it is loaded (PluginHost::on_feed_load), by the
// name each gave: a search index… Filled before the snapshot is served, read-only after.
struct FeedDerived {
  std::map<std::string, std::shared_ptr<const void>> by_name;
};

struct FeedSnapshot {
  std::vector<NewsItem> items;         // shown items only, newest first by first_created
  std::map<std::string, size_t> by_id; // id -> index in items
  std::string version;                 // changes whenever the content changes (for ETags)
  std::time_t loaded_at = 0;           // when this snapshot became current
  std::time_t modified = 0;            // the feed file's mtime (for Last-Modified)

  // Filled by the core before the snapshot is served (SDK ABI 4); empty for a snapshot no
  // feed service loaded (the empty feed, a test's own).
  std::shared_ptr<FeedDerived> derived = std::make_shared<FeedDerived>();

  const NewsItem* find(const std::string& id) const {
    auto it = by_id.find(id);
    return it == by_id.end() ? nullptr : &items[it->second];
  }

  // What the deriver registered as `name` made of this snapshot (null: none). T must be the
  // type that deriver made.
  template <class T>
  std::shared_ptr<const T> derived_as(const std::string& name) const {
    if (!derived) return nullptr;
    auto it = derived->by_name.find(name);
    return it == derived->by_name.end() ? nullptr : std::static_pointer_cast<const T>(it->second);
  }
};

class Feed {
 public:
  virtual ~Feed() = default;
  // The current snapshot; never null (an empty snapshot when no feed is configured or none
  // has loaded yet). Cheap: callers take one per request.
  virtual std::shared_ptr<const FeedSnapshot> snapshot() const = 0;
};

}  // namespace natomedia
