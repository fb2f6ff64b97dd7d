#include "core/feed_loader.h"

#include <fcntl.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include "core/xhtml_sanitizer.h"
#include "natomedia/text.h"

namespace natomedia {
namespace core {
namespace {

constexpr char kIptcNamespace[] = "http://iptc.org/std/nar/2006-10-01/";
constexpr char kExtensionNamespace[] = "urn:natomedia:feed:1";

std::string format_issues(const std::string& name, const std::vector<XmlIssue>& issues) {
  std::string out;
  for (const XmlIssue& issue : issues) {
    if (!out.empty()) out += '\n';
    out += name + ":" + std::to_string(issue.line) + ": " + issue.message;
  }
  if (issues.size() >= kMaxXmlIssues) out += "\n" + name + ": (further reasons not shown)";
  return out;
}

const char* str(const xmlChar* s) { return reinterpret_cast<const char*>(s); }

bool is_iptc(const xmlNode* node, const char* name) {
  return node->type == XML_ELEMENT_NODE && node->ns != nullptr &&
         std::strcmp(str(node->ns->href), kIptcNamespace) == 0 &&
         std::strcmp(str(node->name), name) == 0;
}

std::optional<std::string> attribute(const xmlNode* node, const char* name,
                                     const char* ns = nullptr) {
  xmlChar* value = ns == nullptr ? xmlGetNoNsProp(node, BAD_CAST name)
                                 : xmlGetNsProp(node, BAD_CAST name, BAD_CAST ns);
  if (value == nullptr) return std::nullopt;
  std::string out = str(value);
  xmlFree(value);
  return out;
}

std::string attribute_or(const xmlNode* node, const char* name, const char* fallback = "") {
  return attribute(node, name).value_or(fallback);
}

std::string text_of(const xmlNode* node) {
  xmlChar* content = xmlNodeGetContent(node);
  if (content == nullptr) return "";
  std::string out(text::trim(str(content)));
  xmlFree(content);
  return out;
}

// The primary language subtag, lower-case ("en-GB" -> "en"), inherited from ancestors.
std::string lang_of(const xmlNode* node) {
  xmlChar* lang = xmlNodeGetLang(node);
  if (lang == nullptr) return "en";
  std::string out = text::lower_ascii(str(lang));
  xmlFree(lang);
  out = out.substr(0, out.find('-'));
  return out.empty() ? "en" : out;
}

// The code after the QCode's scheme alias, or nullopt when the scheme is not `scheme`.
std::optional<std::string> qcode_code(const std::string& qcode, const std::string& scheme) {
  if (qcode.rfind(scheme + ":", 0) != 0) return std::nullopt;
  return qcode.substr(scheme.size() + 1);
}

bool is_safe_token(const std::string& s) {
  if (s.empty() || s.size() > 200 || s.find_first_not_of('.') == std::string::npos) return false;
  for (unsigned char c : s) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && c != '-' && c != '_' && c != '.' && c != '~') return false;
  }
  return true;
}

// Why `href` cannot name a file under the media root, or "" when it can.
std::string href_problem(const std::string& href) {
  if (href.empty()) return "href is empty";
  if (href[0] == '/') return "href must be relative to the media root, not absolute";
  for (unsigned char c : href) {
    if (c < 0x20 || c == 0x7F) return "href contains a control character";
    if (c == '\\') return "href contains a backslash";
    if (c == '%') return "href must not contain percent escapes";
  }
  size_t first_slash = href.find('/');
  if (href.substr(0, first_slash).find(':') != std::string::npos)
    return "href must be a relative path, not a URL";
  size_t start = 0;
  while (start <= href.size()) {
    size_t end = href.find('/', start);
    if (end == std::string::npos) end = href.size();
    std::string_view segment(href.data() + start, end - start);
    if (segment == "..") return "href must not contain \"..\" segments";
    if (segment.empty() || segment == ".") return "href must not contain empty or \".\" segments";
    start = end + 1;
  }
  return "";
}

bool parse_digits(std::string_view s, size_t at, size_t n, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

std::string sha256_prefix_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return text::hex_encode(std::string_view(reinterpret_cast<char*>(digest), 16));
}

// Turns one validated newsItem element into a NewsItem, appending what is wrong to issues_.
class ItemReader {
 public:
  explicit ItemReader(std::vector<XmlIssue>* issues) : issues_(issues) {}

  std::optional<NewsItem> read(const xmlNode* item_node) {
    size_t issues_before = issues_->size();
    NewsItem item;
    item.guid = attribute_or(item_node, "guid");
    item.id = item.guid.substr(item.guid.rfind(':') + 1);
    if (!is_safe_token(item.id))
      fail(item_node, "the guid must end in an id of letters, digits, '-', '_', '.' or '~'");
    item.version = attribute_or(item_node, "version");
    for (const xmlNode* n = item_node->children; n != nullptr; n = n->next) {
      if (is_iptc(n, "itemMeta")) read_item_meta(n, &item);
      if (is_iptc(n, "contentMeta")) read_content_meta(n, &item);
      if (is_iptc(n, "contentSet")) read_content_set(n, &item);
    }
    if (item.headline.by_lang.count("en") == 0)
      fail(item_node, "at least one headline in English (xml:lang=\"en\") is required");
    if (issues_->size() != issues_before) return std::nullopt;
    return item;
  }

 private:
  void fail(const xmlNode* node, const std::string& why) {
    if (issues_->size() >= kMaxXmlIssues) return;
    long line = xmlGetLineNo(node);
    issues_->push_back({static_cast<int>(line > 0 ? line : 0),
                        "element " + std::string(str(node->name)) + ": " + why});
  }

  std::time_t date(const xmlNode* node) {
    std::time_t t = 0;
    if (!parse_feed_datetime(text_of(node), &t))
      fail(node, "not a date and time with a time zone (2023-07-06T18:00:00Z)");
    return t;
  }

  void read_item_meta(const xmlNode* meta, NewsItem* item) {
    for (const xmlNode* n = meta->children; n != nullptr; n = n->next) {
      if (is_iptc(n, "itemClass")) {
        std::string qcode = attribute_or(n, "qcode");
        if (qcode != "ninat:text" && qcode != "ninat:video")
          fail(n, "itemClass must be ninat:text or ninat:video, not " + qcode);
        item->is_video = qcode == "ninat:video";
      } else if (is_iptc(n, "provider")) {
        item->provider = attribute(n, "literal").value_or(attribute_or(n, "qcode"));
        if (item->provider.empty()) fail(n, "a literal or qcode attribute is required");
      } else if (is_iptc(n, "versionCreated")) {
        item->version_created = date(n);
      } else if (is_iptc(n, "firstCreated")) {
        item->first_created = date(n);
      } else if (is_iptc(n, "pubStatus")) {
        item->pub_status = attribute_or(n, "qcode");
        if (item->pub_status != "stat:usable" && item->pub_status != "stat:withheld" &&
            item->pub_status != "stat:canceled")
          fail(n, "pubStatus must be stat:usable, stat:withheld or stat:canceled");
      }
    }
  }

  void read_content_meta(const xmlNode* meta, NewsItem* item) {
    for (const xmlNode* n = meta->children; n != nullptr; n = n->next) {
      if (n->type != XML_ELEMENT_NODE) continue;
      if (is_iptc(n, "icon")) {
        read_icon(n, item);
      } else if (is_iptc(n, "contentCreated")) {
        item->content_created = date(n);
      } else if (is_iptc(n, "located")) {
        item->located = names_of(n);
        const std::string literal = attribute_or(n, "literal");
        if (item->located.empty() && !literal.empty()) item->located.by_lang.emplace("en", literal);
      } else if (is_iptc(n, "subject")) {
        item->subjects.push_back({attribute_or(n, "qcode"), names_of(n)});
      } else if (is_iptc(n, "headline")) {
        add_text(n, &item->headline);
      } else if (is_iptc(n, "dateline")) {
        add_text(n, &item->dateline);
      } else if (is_iptc(n, "description")) {
        std::string role = attribute_or(n, "role", "descrole:summary");
        if (role == "descrole:summary") add_text(n, &item->summary);
        if (role == "descrole:shotlist") add_text(n, &item->shotlist);
      } else if (is_iptc(n, "keyword")) {
        std::string word = text_of(n);
        if (!word.empty()) item->keywords[lang_of(n)].push_back(word);
      } else if (is_iptc(n, "creditline")) {
        add_text(n, &item->creditline);
      }
    }
  }

  void add_text(const xmlNode* n, LocalizedText* text) {
    std::string value = text_of(n);
    if (!value.empty()) text->by_lang.emplace(lang_of(n), std::move(value));
  }

  LocalizedText names_of(const xmlNode* concept) {
    LocalizedText names;
    for (const xmlNode* n = concept->children; n != nullptr; n = n->next)
      if (is_iptc(n, "name")) add_text(n, &names);
    return names;
  }

  void read_icon(const xmlNode* n, NewsItem* item) {
    if (!item->icon_href.empty()) return;  // the first icon is the item's thumbnail
    std::string href = attribute_or(n, "href");
    std::string problem = href_problem(href);
    if (!problem.empty()) return fail(n, problem);
    item->icon_href = href;
    item->icon_content_type = attribute_or(n, "contenttype", "image/jpeg");
  }

  void read_content_set(const xmlNode* set, NewsItem* item) {
    for (const xmlNode* n = set->children; n != nullptr; n = n->next) {
      if (is_iptc(n, "inlineXML")) {
        std::string body;
        for (const xmlNode* c = n->children; c != nullptr; c = c->next)
          if (c->type == XML_ELEMENT_NODE) body += sanitize_xhtml(c);
        item->body_html.by_lang.emplace(lang_of(n), std::string(text::trim(body)));
      } else if (is_iptc(n, "remoteContent")) {
        read_rendition(n, item);
      }
    }
  }

  void read_rendition(const xmlNode* n, NewsItem* item) {
    Rendition r;
    r.qcode = attribute_or(n, "rendition");
    std::optional<std::string> id = qcode_code(r.qcode, "rnd");
    if (!id || !is_safe_token(*id) || id->find('.') != std::string::npos)
      return fail(n,
                  "rendition must be a QCode rnd:NAME (letters, digits, '-', '_'), not " + r.qcode);
    r.id = *id;
    if (item->rendition(r.id) != nullptr)
      return fail(n, "rendition " + r.qcode + " appears twice in this item");
    r.href = attribute_or(n, "href");
    std::string problem = href_problem(r.href);
    if (!problem.empty()) return fail(n, problem);
    r.content_type = attribute_or(n, "contenttype");
    r.size = std::strtoull(attribute_or(n, "size", "0").c_str(), nullptr, 10);
    r.width = static_cast<int>(std::strtol(attribute_or(n, "width", "0").c_str(), nullptr, 10));
    r.height = static_cast<int>(std::strtol(attribute_or(n, "height", "0").c_str(), nullptr, 10));
    r.frame_rate = std::strtod(attribute_or(n, "videoframerate", "0").c_str(), nullptr);
    r.duration_seconds = std::strtod(attribute_or(n, "duration", "0").c_str(), nullptr);
    std::string unit = attribute_or(n, "durationunit", "timeunit:seconds");
    if (unit == "timeunit:milliseconds") {
      r.duration_seconds /= 1000;
    } else if (unit != "timeunit:seconds") {
      return fail(n, "durationunit must be timeunit:seconds or timeunit:milliseconds");
    }
    r.sha256 = text::lower_ascii(attribute(n, "sha256", kExtensionNamespace).value_or(""));
    r.filename = attribute(n, "filename", kExtensionNamespace).value_or("");
    r.video_codec = attribute(n, "videocodec", kExtensionNamespace).value_or("");
    r.audio_codec = attribute(n, "audiocodec", kExtensionNamespace).value_or("");
    r.bitrate = std::strtoull(
        attribute(n, "bitrate", kExtensionNamespace).value_or("0").c_str(), nullptr, 10);
    item->renditions.push_back(std::move(r));
  }

  std::vector<XmlIssue>* issues_;
};

const xmlNode* first_child(const xmlNode* node, const char* name) {
  for (const xmlNode* n = node->children; n != nullptr; n = n->next)
    if (is_iptc(n, name)) return n;
  return nullptr;
}

// Reads every item, checks ids across items, and keeps the usable ones, newest first.
void build_items(const xmlNode* root, FeedSnapshot* snapshot, std::vector<XmlIssue>* issues) {
  const xmlNode* item_set = root != nullptr ? first_child(root, "itemSet") : nullptr;
  if (item_set == nullptr) {
    issues->push_back({0, "element newsMessage: no itemSet"});
    return;
  }
  ItemReader reader(issues);
  std::map<std::string, long> first_line_of_id;
  std::vector<NewsItem> shown;
  for (const xmlNode* n = item_set->children; n != nullptr; n = n->next) {
    if (!is_iptc(n, "newsItem")) continue;
    std::optional<NewsItem> item = reader.read(n);
    if (!item) continue;
    auto [it, inserted] = first_line_of_id.emplace(item->id, xmlGetLineNo(n));
    if (!inserted) {
      if (issues->size() < kMaxXmlIssues)
        issues->push_back({static_cast<int>(xmlGetLineNo(n)), "element newsItem: id " + item->id +
                                                                  " is already used on line " +
                                                                  std::to_string(it->second)});
      continue;
    }
    if (item->pub_status == "stat:usable") shown.push_back(std::move(*item));
  }
  // Sorted by index, then moved once into place: sorting the items themselves moves each of
  // these large structs many times.
  std::vector<size_t> order(shown.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&shown](size_t a, size_t b) {
    return shown[a].first_created > shown[b].first_created;
  });
  snapshot->items.reserve(shown.size());
  for (size_t i : order) snapshot->items.push_back(std::move(shown[i]));
  for (size_t i = 0; i < snapshot->items.size(); ++i) snapshot->by_id[snapshot->items[i].id] = i;
}

std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

}  // namespace

bool parse_feed_datetime(std::string_view s, std::time_t* out) {
  int year, month, day, hour, minute, second;
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
      !parse_digits(s, 0, 4, &year) || !parse_digits(s, 5, 2, &month) ||
      !parse_digits(s, 8, 2, &day) || !parse_digits(s, 11, 2, &hour) ||
      !parse_digits(s, 14, 2, &minute) || !parse_digits(s, 17, 2, &second))
    return false;
  size_t at = 19;
  if (s[at] == '.') {
    ++at;
    size_t digits_start = at;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') ++at;
    if (at == digits_start) return false;
  }
  long offset = 0;
  if (at + 1 == s.size() && s[at] == 'Z') {
    offset = 0;
  } else if (at + 6 == s.size() && (s[at] == '+' || s[at] == '-') && s[at + 3] == ':') {
    int oh, om;
    if (!parse_digits(s, at + 1, 2, &oh) || !parse_digits(s, at + 4, 2, &om) || oh > 14 || om > 59)
      return false;
    offset = (oh * 3600L + om * 60L) * (s[at] == '+' ? 1 : -1);
  } else {
    return false;
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > kDays[month - 1] ||
      (month == 2 && day == 29 && !leap) || minute > 59 || second > 59 ||
      (hour > 23 && !(hour == 24 && minute == 0 && second == 0)))
    return false;
  struct tm tm {};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  *out = timegm(&tm) - offset;
  return true;
}

Result<std::shared_ptr<const FeedSchema>> FeedSchema::load(const std::string& xsd_path) {
  init_xml_library();
  size_t slash = xsd_path.rfind('/');
  ScopedSchemaDirAccess access(slash == std::string::npos ? "." : xsd_path.substr(0, slash + 1));
  std::vector<XmlIssue> issues;
  xmlSchemaParserCtxtPtr parser = xmlSchemaNewParserCtxt(xsd_path.c_str());
  if (parser == nullptr) return Status::Internal("cannot create a schema parser");
  xmlSchemaSetParserStructuredErrors(
      parser,
      [](void* data, xmlErrorPtr error) {
        append_xml_issue(error, static_cast<std::vector<XmlIssue>*>(data));
      },
      &issues);
  xmlSchemaPtr schema = xmlSchemaParse(parser);
  xmlSchemaFreeParserCtxt(parser);
  if (schema == nullptr) {
    if (issues.empty()) issues.push_back({0, "cannot read the schema"});
    return Status::Invalid(format_issues(xsd_path, issues));
  }
  return std::shared_ptr<const FeedSchema>(new FeedSchema(schema));
}

FeedSchema::~FeedSchema() { xmlSchemaFree(schema_); }

bool FeedSchema::validate(xmlDoc* doc, std::vector<XmlIssue>* issues) const {
  xmlSchemaValidCtxtPtr ctxt = xmlSchemaNewValidCtxt(schema_);
  if (ctxt == nullptr) {
    issues->push_back({0, "out of memory"});
    return false;
  }
  size_t before = issues->size();
  xmlSchemaSetValidStructuredErrors(
      ctxt,
      [](void* data, xmlErrorPtr error) {
        append_xml_issue(error, static_cast<std::vector<XmlIssue>*>(data));
      },
      issues);
  int rc = xmlSchemaValidateDoc(ctxt, doc);
  xmlSchemaFreeValidCtxt(ctxt);
  if (rc != 0 && issues->size() == before) issues->push_back({0, "not valid against the schema"});
  return rc == 0;
}

FeedFileInfo feed_file_info(const struct stat& st) {
  FeedFileInfo info;
  info.device = static_cast<uint64_t>(st.st_dev);
  info.inode = static_cast<uint64_t>(st.st_ino);
  info.size = static_cast<uint64_t>(st.st_size);
  info.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  info.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  info.mtime = st.st_mtim.tv_sec;
  return info;
}

Status read_feed_file(const std::string& path, size_t max_bytes, std::string* content,
                      FeedFileInfo* info, bool follow_symlinks) {
  int fd = open(path.c_str(),
                O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (follow_symlinks ? 0 : O_NOFOLLOW));
  if (fd < 0) return Status::Invalid(path + ": cannot open: " + std::strerror(errno));
  struct stat st;
  Status status;
  if (fstat(fd, &st) != 0) {
    status = Status::Invalid(path + ": cannot stat: " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    status = Status::Invalid(path + ": not a regular file");
  } else if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    status = Status::Invalid(path + ": the feed is " + std::to_string(st.st_size) +
                             " bytes, over the limit of " + std::to_string(max_bytes));
  } else {
    content->resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (got < content->size()) {
      ssize_t n = read(fd, &(*content)[got], content->size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    content->resize(got);  // a file that shrank while read is then refused as malformed
    *info = feed_file_info(st);
  }
  close(fd);
  return status;
}

Result<std::shared_ptr<const FeedSnapshot>> load_feed_document(
    std::string_view xml, const std::string& name, std::time_t modified, std::time_t loaded_at,
    const FeedSchema& schema, const LoadOptions& options) {
  if (xml.size() > options.max_bytes)
    return Status::Invalid(name + ": the feed is " + std::to_string(xml.size()) +
                           " bytes, over the limit of " + std::to_string(options.max_bytes));
  std::vector<XmlIssue> issues;
  XmlDocPtr doc = parse_untrusted_xml(xml, base_name(name), &issues);
  if (doc == nullptr || !schema.validate(doc.get(), &issues))
    return Status::Invalid(format_issues(name, issues));
  auto snapshot = std::make_shared<FeedSnapshot>();
  build_items(xmlDocGetRootElement(doc.get()), snapshot.get(), &issues);
  if (!issues.empty()) return Status::Invalid(format_issues(name, issues));
  snapshot->version = sha256_prefix_hex(xml);
  snapshot->modified = modified;
  snapshot->loaded_at = loaded_at;
  return std::shared_ptr<const FeedSnapshot>(std::move(snapshot));
}

Result<std::shared_ptr<const FeedSnapshot>> load_feed_file(const std::string& path,
                                                           const FeedSchema& schema,
                                                           const LoadOptions& options) {
  std::string content;
  FeedFileInfo info;
  Status status = read_feed_file(path, options.max_bytes, &content, &info);
  if (!status.ok()) return status;
  return load_feed_document(content, path, info.mtime, std::time(nullptr), schema, options);
}

Result<std::shared_ptr<const FeedSnapshot>> load_feed_memory(std::string_view xml,
                                                             const FeedSchema& schema,
                                                             const LoadOptions& options) {
  return load_feed_document(xml, "feed", 0, std::time(nullptr), schema, options);
}

Status validate_feed_file(const std::string& path, const FeedSchema& schema) {
  auto result = load_feed_file(path, schema, LoadOptions());
  return result.ok() ? Status::Ok() : result.status();
}

}  // namespace core
}  // namespace natomedia
