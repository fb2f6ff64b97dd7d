#include "core/feed_snapshot_file.h"

#include <cstdint>
#include <cstring>
#include <utility>

namespace natomedia {
namespace core {

namespace {

// "NMFEED" + the format's version: a change to the model or the order below bumps it.
constexpr char kMagic[8] = {'N', 'M', 'F', 'E', 'E', 'D', '0', '2'};
// "NMREFUSED" record: the magic, then one file version.
constexpr char kRefusedMagic[8] = {'N', 'M', 'R', 'E', 'F', 'U', '0', '1'};
// No count or length in a valid encoding comes near this: a larger one is a broken file.
constexpr uint64_t kMaxCount = uint64_t{1} << 32;

class Writer {
 public:
  void u64(uint64_t v) {
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    out_.append(b, 8);
  }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void f64(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    u64(bits);
  }
  void str(const std::string& s) {
    u64(s.size());
    out_ += s;
  }
  void text(const LocalizedText& t) {
    u64(t.by_lang.size());
    for (const auto& [lang, value] : t.by_lang) {
      str(lang);
      str(value);
    }
  }
  void raw(const char* p, size_t n) { out_.append(p, n); }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool u64(uint64_t* v) {
    if (in_.size() - at_ < 8) return false;
    uint64_t r = 0;
    for (int i = 0; i < 8; ++i) r |= uint64_t{static_cast<unsigned char>(in_[at_ + i])} << (8 * i);
    at_ += 8;
    *v = r;
    return true;
  }
  bool i64(int64_t* v) {
    uint64_t u;
    if (!u64(&u)) return false;
    *v = static_cast<int64_t>(u);
    return true;
  }
  bool time(std::time_t* t) {
    int64_t v;
    if (!i64(&v)) return false;
    *t = static_cast<std::time_t>(v);
    return true;
  }
  bool int32(int* v) {
    int64_t w;
    if (!i64(&w) || w < INT32_MIN || w > INT32_MAX) return false;
    *v = static_cast<int>(w);
    return true;
  }
  bool f64(double* v) {
    uint64_t bits;
    if (!u64(&bits)) return false;
    std::memcpy(v, &bits, sizeof bits);
    return true;
  }
  bool flag(bool* b) {
    uint64_t v;
    if (!u64(&v) || v > 1) return false;
    *b = v == 1;
    return true;
  }
  bool count(uint64_t* n) { return u64(n) && *n < kMaxCount; }
  bool str(std::string* s) {
    uint64_t n;
    if (!u64(&n) || n > in_.size() - at_) return false;
    s->assign(in_.data() + at_, n);
    at_ += n;
    return true;
  }
  bool text(LocalizedText* t) {
    uint64_t n;
    if (!count(&n)) return false;
    for (uint64_t i = 0; i < n; ++i) {
      std::string lang, value;
      if (!str(&lang) || !str(&value)) return false;
      t->by_lang.emplace(std::move(lang), std::move(value));
    }
    return true;
  }
  bool expect(const char* p, size_t n) {
    if (in_.size() - at_ < n || std::memcmp(in_.data() + at_, p, n) != 0) return false;
    at_ += n;
    return true;
  }
  bool done() const { return at_ == in_.size(); }

 private:
  std::string_view in_;
  size_t at_ = 0;
};

void write_source(Writer& w, const FeedFileInfo& s) {
  w.u64(s.device);
  w.u64(s.inode);
  w.u64(s.size);
  w.i64(s.mtime_ns);
  w.i64(s.ctime_ns);
}

bool read_source(Reader& r, FeedFileInfo* s) {
  return r.u64(&s->device) && r.u64(&s->inode) && r.u64(&s->size) && r.i64(&s->mtime_ns) &&
         r.i64(&s->ctime_ns);
}

bool same_source(Reader& r, const FeedFileInfo& s) {
  FeedFileInfo read;
  return read_source(r, &read) && read == s;
}

void write_item(Writer& w, const NewsItem& item) {
  w.str(item.id);
  w.str(item.guid);
  w.str(item.version);
  w.u64(item.is_video ? 1 : 0);
  w.str(item.provider);
  w.i64(item.version_created);
  w.i64(item.first_created);
  w.i64(item.content_created);
  w.str(item.pub_status);
  w.str(item.icon_href);
  w.str(item.icon_content_type);
  w.text(item.located);
  w.u64(item.subjects.size());
  for (const Subject& s : item.subjects) {
    w.str(s.qcode);
    w.text(s.name);
  }
  w.text(item.headline);
  w.text(item.dateline);
  w.text(item.summary);
  w.text(item.shotlist);
  w.u64(item.keywords.size());
  for (const auto& [lang, words] : item.keywords) {
    w.str(lang);
    w.u64(words.size());
    for (const std::string& word : words) w.str(word);
  }
  w.text(item.creditline);
  w.text(item.body_html);
  w.u64(item.renditions.size());
  for (const Rendition& r : item.renditions) {
    w.str(r.id);
    w.str(r.qcode);
    w.str(r.href);
    w.str(r.content_type);
    w.u64(r.size);
    w.i64(r.width);
    w.i64(r.height);
    w.f64(r.duration_seconds);
    w.f64(r.frame_rate);
    w.str(r.sha256);
    w.str(r.filename);
    w.str(r.video_codec);
    w.str(r.audio_codec);
    w.u64(r.bitrate);
  }
}

bool read_item(Reader& r, NewsItem* item) {
  uint64_t n;
  if (!r.str(&item->id) || !r.str(&item->guid) || !r.str(&item->version) ||
      !r.flag(&item->is_video) || !r.str(&item->provider) || !r.time(&item->version_created) ||
      !r.time(&item->first_created) || !r.time(&item->content_created) ||
      !r.str(&item->pub_status) || !r.str(&item->icon_href) || !r.str(&item->icon_content_type) ||
      !r.text(&item->located) || !r.count(&n))
    return false;
  for (uint64_t i = 0; i < n; ++i) {
    Subject s;
    if (!r.str(&s.qcode) || !r.text(&s.name)) return false;
    item->subjects.push_back(std::move(s));
  }
  if (!r.text(&item->headline) || !r.text(&item->dateline) || !r.text(&item->summary) ||
      !r.text(&item->shotlist) || !r.count(&n))
    return false;
  for (uint64_t i = 0; i < n; ++i) {
    std::string lang;
    uint64_t words;
    if (!r.str(&lang) || !r.count(&words)) return false;
    std::vector<std::string>& list = item->keywords[lang];
    for (uint64_t j = 0; j < words; ++j) {
      std::string word;
      if (!r.str(&word)) return false;
      list.push_back(std::move(word));
    }
  }
  if (!r.text(&item->creditline) || !r.text(&item->body_html) || !r.count(&n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    Rendition d;
    if (!r.str(&d.id) || !r.str(&d.qcode) || !r.str(&d.href) || !r.str(&d.content_type) ||
        !r.u64(&d.size) || !r.int32(&d.width) || !r.int32(&d.height) ||
        !r.f64(&d.duration_seconds) || !r.f64(&d.frame_rate) || !r.str(&d.sha256) ||
        !r.str(&d.filename) || !r.str(&d.video_codec) || !r.str(&d.audio_codec) ||
        !r.u64(&d.bitrate))
      return false;
    item->renditions.push_back(std::move(d));
  }
  return true;
}

}  // namespace

std::string encode_feed_snapshot(const FeedSnapshot& snapshot, const FeedFileInfo& source) {
  Writer w;
  w.raw(kMagic, sizeof kMagic);
  write_source(w, source);
  w.str(snapshot.version);
  w.i64(snapshot.modified);
  w.u64(snapshot.items.size());
  for (const NewsItem& item : snapshot.items) write_item(w, item);
  return w.take();
}

Result<std::shared_ptr<const FeedSnapshot>> decode_feed_snapshot(std::string_view bytes,
                                                                 const FeedFileInfo& source,
                                                                 std::time_t loaded_at) {
  Reader r(bytes);
  if (!r.expect(kMagic, sizeof kMagic))
    return Status::Invalid("not a feed snapshot of this version");
  if (!same_source(r, source)) return Status::Invalid("a snapshot of another version of the feed");
  auto snapshot = std::make_shared<FeedSnapshot>();
  uint64_t n;
  if (!r.str(&snapshot->version) || !r.time(&snapshot->modified) || !r.count(&n))
    return Status::Invalid("a broken feed snapshot");
  snapshot->items.reserve(n < 100000 ? n : 100000);
  for (uint64_t i = 0; i < n; ++i) {
    NewsItem item;
    if (!read_item(r, &item)) return Status::Invalid("a broken feed snapshot");
    snapshot->items.push_back(std::move(item));
  }
  if (!r.done()) return Status::Invalid("a broken feed snapshot");
  for (size_t i = 0; i < snapshot->items.size(); ++i) {
    if (!snapshot->by_id.emplace(snapshot->items[i].id, i).second)
      return Status::Invalid("a broken feed snapshot");
  }
  snapshot->loaded_at = loaded_at;
  return std::shared_ptr<const FeedSnapshot>(std::move(snapshot));
}

Result<FeedFileInfo> feed_snapshot_source(std::string_view bytes) {
  Reader r(bytes);
  FeedFileInfo source;
  if (!r.expect(kMagic, sizeof kMagic) || !read_source(r, &source))
    return Status::Invalid("not a feed snapshot of this version");
  return source;
}

std::string encode_refused_version(const FeedFileInfo& refused) {
  Writer w;
  w.raw(kRefusedMagic, sizeof kRefusedMagic);
  write_source(w, refused);
  return w.take();
}

Result<FeedFileInfo> decode_refused_version(std::string_view bytes) {
  Reader r(bytes);
  FeedFileInfo refused;
  if (!r.expect(kRefusedMagic, sizeof kRefusedMagic) || !read_source(r, &refused) || !r.done())
    return Status::Invalid("not a refused feed version record");
  return refused;
}

}  // namespace core
}  // namespace natomedia
