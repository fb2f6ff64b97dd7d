// The feed loader against the sample feed, generated feeds and hostile documents.
#include "core/feed_loader.h"

#include <cppunit/extensions/HelperMacros.h>
#include <libxml/parser.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "feed_fixtures.h"

namespace natomedia {
namespace core {
namespace {

using testing::feed_xml;
using testing::ItemSpec;
using testing::rendition_xml;

const char kSchemaPath[] = NM_SOURCE_DIR "/schemas/natomedia-feed.xsd";
const char kSamplePath[] = NM_SOURCE_DIR "/conf/sample-feed.xml";

std::shared_ptr<const FeedSchema> schema() {
  static std::shared_ptr<const FeedSchema> loaded = [] {
    auto result = FeedSchema::load(kSchemaPath);
    if (!result.ok()) std::cerr << result.status().message() << "\n";
    return result.ok() ? result.value() : nullptr;
  }();
  CPPUNIT_ASSERT(loaded != nullptr);
  return loaded;
}

Result<std::shared_ptr<const FeedSnapshot>> load(const std::string& xml,
                                                 LoadOptions options = LoadOptions()) {
  return load_feed_memory(xml, *schema(), options);
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Loads `xml`, which must be refused, and returns the reasons.
std::string refusal(const std::string& xml, LoadOptions options = LoadOptions()) {
  auto result = load(xml, options);
  CPPUNIT_ASSERT_MESSAGE("expected a refusal", !result.ok());
  CPPUNIT_ASSERT(result.status().code() == Status::Code::kInvalid);
  return result.status().message();
}

void assert_contains(const std::string& haystack, const std::string& needle) {
  CPPUNIT_ASSERT_MESSAGE("\"" + needle + "\" not in:\n" + haystack, contains(haystack, needle));
}

std::time_t utc(const char* text) {
  std::time_t t = 0;
  CPPUNIT_ASSERT(parse_feed_datetime(text, &t));
  return t;
}

class FeedLoaderTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(FeedLoaderTest);
  CPPUNIT_TEST(testSampleFeed);
  CPPUNIT_TEST(testOrderingOf25Items);
  CPPUNIT_TEST(testWithheldAndCanceledDropped);
  CPPUNIT_TEST(testXxeRefused);
  CPPUNIT_TEST(testBillionLaughsRefused);
  CPPUNIT_TEST(testDtdRefused);
  CPPUNIT_TEST(testUndeclaredEntityRefused);
  CPPUNIT_TEST(testXIncludeNotProcessed);
  CPPUNIT_TEST(testOversizeRefused);
  CPPUNIT_TEST(testMalformedHasLineNumber);
  CPPUNIT_TEST(testSchemaViolationHasLineNumber);
  CPPUNIT_TEST(testDuplicateId);
  CPPUNIT_TEST(testMissingEnglishHeadline);
  CPPUNIT_TEST(testBadHrefs);
  CPPUNIT_TEST(testRenditionChecks);
  CPPUNIT_TEST(testFrenchFallback);
  CPPUNIT_TEST(testDescriptiveElementsInAnyOrder);
  CPPUNIT_TEST(testDates);
  CPPUNIT_TEST(testVersionFollowsContent);
  CPPUNIT_TEST(testValidateFeedFile);
  CPPUNIT_TEST(testMissingSchema);
  CPPUNIT_TEST(testEntityLoaderDeniesEverything);
  CPPUNIT_TEST(testTenThousandItems);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testSampleFeed() {
    auto result = load_feed_file(kSamplePath, *schema(), LoadOptions());
    CPPUNIT_ASSERT_MESSAGE(result.ok() ? "" : result.status().message(), result.ok());
    const FeedSnapshot& feed = **result;
    CPPUNIT_ASSERT_EQUAL(size_t{2}, feed.items.size());
    struct stat st;
    CPPUNIT_ASSERT_EQUAL(0, stat(kSamplePath, &st));
    CPPUNIT_ASSERT_EQUAL(st.st_mtime, feed.modified);
    CPPUNIT_ASSERT_EQUAL(size_t{32}, feed.version.size());

    // Newest first: the video (17:45) before the text (17:30).
    const NewsItem& video = feed.items[0];
    CPPUNIT_ASSERT_EQUAL(std::string("2023-07-06-sweden-membership-video"), video.id);
    CPPUNIT_ASSERT(video.is_video);
    CPPUNIT_ASSERT_EQUAL(std::string("sweden-membership/thumb.jpg"), video.icon_href);
    CPPUNIT_ASSERT_EQUAL(std::string("image/jpeg"), video.icon_content_type);
    CPPUNIT_ASSERT_EQUAL(size_t{2}, video.renditions.size());
    const Rendition* hd = video.rendition("hd720");
    CPPUNIT_ASSERT(hd != nullptr);
    CPPUNIT_ASSERT_EQUAL(std::string("rnd:hd720"), hd->qcode);
    CPPUNIT_ASSERT_EQUAL(std::string("sweden-membership/hd720.mp4"), hd->href);
    CPPUNIT_ASSERT_EQUAL(std::string("video/mp4"), hd->content_type);
    CPPUNIT_ASSERT(hd->size > 0);
    CPPUNIT_ASSERT_EQUAL(1280, hd->width);
    CPPUNIT_ASSERT_EQUAL(720, hd->height);
    CPPUNIT_ASSERT_EQUAL(4.0, hd->duration_seconds);
    CPPUNIT_ASSERT_EQUAL(25.0, hd->frame_rate);
    CPPUNIT_ASSERT_EQUAL(size_t{64}, hd->sha256.size());
    CPPUNIT_ASSERT_EQUAL(std::string("NATO Sweden membership meeting 720p.mp4"), hd->filename);
    CPPUNIT_ASSERT(video.rendition("sd360") != nullptr);
    CPPUNIT_ASSERT(video.rendition("hd1080") == nullptr);
    CPPUNIT_ASSERT(contains(*video.shotlist.get("fr").text, "Extérieur"));
    CPPUNIT_ASSERT(video.body_html.empty());

    const NewsItem& text = feed.items[1];
    CPPUNIT_ASSERT_EQUAL(std::string("2023-07-06-sweden-membership"), text.id);
    CPPUNIT_ASSERT_EQUAL(std::string("urn:natomedia:2023-07-06-sweden-membership"), text.guid);
    CPPUNIT_ASSERT(!text.is_video);
    CPPUNIT_ASSERT_EQUAL(std::string("NATO"), text.provider);
    CPPUNIT_ASSERT_EQUAL(std::string("stat:usable"), text.pub_status);
    CPPUNIT_ASSERT_EQUAL(utc("2023-07-06T17:30:00Z"), text.first_created);
    CPPUNIT_ASSERT_EQUAL(utc("2023-07-06T18:00:00Z"), text.version_created);
    CPPUNIT_ASSERT_EQUAL(utc("2023-07-06T12:00:00Z"), text.content_created);
    CPPUNIT_ASSERT_EQUAL(std::string("Brussels"), *text.located.get("en").text);
    CPPUNIT_ASSERT_EQUAL(std::string("Bruxelles"), *text.located.get("fr").text);
    CPPUNIT_ASSERT(!text.located.get("fr").fallback);
    CPPUNIT_ASSERT_EQUAL(std::string("NATO"), *text.creditline.get("en").text);
    CPPUNIT_ASSERT_EQUAL(std::string("OTAN"), *text.creditline.get("fr").text);
    CPPUNIT_ASSERT_EQUAL(size_t{1}, text.subjects.size());
    CPPUNIT_ASSERT_EQUAL(std::string("Élargissement"), *text.subjects[0].name.get("fr").text);
    CPPUNIT_ASSERT(contains(*text.headline.get("en").text, "Sweden’s membership"));
    CPPUNIT_ASSERT(contains(*text.headline.get("fr").text, "adhésion de la Suède"));
    CPPUNIT_ASSERT_EQUAL(size_t{2}, text.keywords.at("en").size());
    const std::string& body_en = *text.body_html.get("en").text;
    CPPUNIT_ASSERT(body_en.rfind("<p>Secretary General Jens Stoltenberg hosted", 0) == 0);
    assert_contains(body_en, "&quot;All Allies stand together");
    CPPUNIT_ASSERT_EQUAL(size_t{6}, count(body_en, "<p>"));
    const auto body_fr = text.body_html.get("fr");
    CPPUNIT_ASSERT(!body_fr.fallback);
    assert_contains(*body_fr.text, "<p>Le secrétaire général, Jens Stoltenberg");
    CPPUNIT_ASSERT_EQUAL(&feed.items[1], feed.find("2023-07-06-sweden-membership"));
    CPPUNIT_ASSERT(feed.find("nope") == nullptr);
  }

  void testOrderingOf25Items() {
    std::vector<ItemSpec> items;
    for (int i = 0; i < 25; ++i) {
      ItemSpec s;
      int day = (i * 7) % 25 + 1;  // a permutation of 1..25
      s.id = "item-" + std::to_string(day);
      char date[32];
      std::snprintf(date, sizeof date, "2023-05-%02dT10:00:00Z", day);
      s.first_created = date;
      items.push_back(s);
    }
    auto result = load(feed_xml(items));
    CPPUNIT_ASSERT(result.ok());
    const FeedSnapshot& feed = **result;
    CPPUNIT_ASSERT_EQUAL(size_t{25}, feed.items.size());
    for (size_t i = 0; i < 25; ++i) {
      CPPUNIT_ASSERT_EQUAL("item-" + std::to_string(25 - i), feed.items[i].id);
      CPPUNIT_ASSERT_EQUAL(i, feed.by_id.at(feed.items[i].id));
    }
  }

  void testWithheldAndCanceledDropped() {
    ItemSpec shown, withheld, canceled;
    shown.id = "shown";
    withheld.id = "withheld";
    withheld.pub_status = "stat:withheld";
    canceled.id = "canceled";
    canceled.pub_status = "stat:canceled";
    auto result = load(feed_xml({withheld, shown, canceled}));
    CPPUNIT_ASSERT(result.ok());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, (*result)->items.size());
    CPPUNIT_ASSERT((*result)->find("shown") != nullptr);
    CPPUNIT_ASSERT((*result)->find("withheld") == nullptr);
    CPPUNIT_ASSERT((*result)->find("canceled") == nullptr);

    ItemSpec odd;
    odd.pub_status = "stat:maybe";
    assert_contains(refusal(feed_xml({odd})), "pubStatus must be");
  }

  void testXxeRefused() {
    ItemSpec s;
    s.headlines = "<headline xml:lang=\"en\">&xxe;</headline>";
    std::string why = refusal(
        feed_xml({s}, "<!DOCTYPE newsMessage [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"));
    assert_contains(why, "DOCTYPE");
    CPPUNIT_ASSERT(!contains(why, "root:"));
    // An external parameter entity is refused the same way.
    refusal(feed_xml({s},
                     "<!DOCTYPE newsMessage [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> "
                     "%p;]>\n"));
  }

  void testBillionLaughsRefused() {
    std::string dtd = "<!DOCTYPE newsMessage [\n<!ENTITY lol \"lol\">\n";
    for (int i = 1; i <= 9; ++i) {
      std::string prev = i == 1 ? "lol" : "lol" + std::to_string(i - 1);
      dtd += "<!ENTITY lol" + std::to_string(i) + " \"";
      for (int k = 0; k < 10; ++k) dtd += "&" + prev + ";";
      dtd += "\">\n";
    }
    dtd += "]>\n";
    ItemSpec s;
    s.headlines = "<headline xml:lang=\"en\">&lol9;</headline>";
    auto start = std::chrono::steady_clock::now();
    assert_contains(refusal(feed_xml({s}, dtd)), "DOCTYPE");
    CPPUNIT_ASSERT(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  }

  void testDtdRefused() {
    ItemSpec s;
    assert_contains(refusal(feed_xml({s}, "<!DOCTYPE newsMessage>\n")), "feed:2: a DOCTYPE");
    assert_contains(refusal(feed_xml({s},
                                     "<!DOCTYPE newsMessage SYSTEM "
                                     "\"http://127.0.0.1:9/x.dtd\">\n")),
                    "DOCTYPE");
    assert_contains(refusal(feed_xml({s},
                                     "<!DOCTYPE newsMessage SYSTEM "
                                     "\"file:///etc/passwd\">\n")),
                    "DOCTYPE");
  }

  void testUndeclaredEntityRefused() {
    ItemSpec s;
    s.headlines = "<headline xml:lang=\"en\">A &nbsp; B</headline>";
    assert_contains(refusal(feed_xml({s})), "entity reference &nbsp; is not allowed");
    // The five predefined entities and character references are ordinary text.
    s.headlines = "<headline xml:lang=\"en\">&lt;&amp;&gt;&quot;&apos;&#233;</headline>";
    auto result = load(feed_xml({s}));
    CPPUNIT_ASSERT(result.ok());
    CPPUNIT_ASSERT_EQUAL(std::string("<&>\"'é"), *(*result)->items[0].headline.get("en").text);
  }

  void testXIncludeNotProcessed() {
    ItemSpec s;
    s.content =
        "<inlineXML contenttype=\"application/xhtml+xml\"><html "
        "xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:xi=\"http://www.w3.org/2001/XInclude\">"
        "<body><p>a<xi:include href=\"file:///etc/passwd\" parse=\"text\"/>b</p></body></html>"
        "</inlineXML>\n";
    auto result = load(feed_xml({s}));
    CPPUNIT_ASSERT(result.ok());
    CPPUNIT_ASSERT_EQUAL(std::string("<p>ab</p>"), *(*result)->items[0].body_html.get("en").text);
  }

  void testOversizeRefused() {
    std::string xml = feed_xml({ItemSpec()});
    LoadOptions small;
    small.max_bytes = xml.size() - 1;
    assert_contains(refusal(xml, small), "over the limit of");
    small.max_bytes = xml.size();
    CPPUNIT_ASSERT(load(xml, small).ok());

    // A file is refused from its size alone (the check comes before reading).
    small.max_bytes = 1000;
    auto result = load_feed_file(kSamplePath, *schema(), small);
    CPPUNIT_ASSERT(!result.ok());
    assert_contains(result.status().message(), "over the limit of 1000");
  }

  void testMalformedHasLineNumber() {
    std::string xml = feed_xml({ItemSpec()});
    size_t at = xml.find("</itemMeta>");
    xml.replace(at, 11, "</itemMet>");
    std::string why = refusal(xml);
    int line = 1 + static_cast<int>(std::count(xml.begin(), xml.begin() + at, '\n'));
    assert_contains(why, "feed:" + std::to_string(line) + ":");
    assert_contains(refusal("<newsMessage"), "feed:1:");
    refusal("");
    refusal(std::string("<a>\0</a>", 8));
  }

  void testSchemaViolationHasLineNumber() {
    ItemSpec s;
    s.extra_meta = "        <located><name>Brussels</name></located>\n";  // after a headline
    std::string xml = feed_xml({s});
    int line =
        1 + static_cast<int>(std::count(xml.begin(), xml.begin() + xml.find("<located"), '\n'));
    assert_contains(refusal(xml), "feed:" + std::to_string(line) + ": element located:");

    ItemSpec bad_size;
    bad_size.content =
        "<remoteContent rendition=\"rnd:hd\" href=\"a.mp4\" contenttype=\"video/mp4\" "
        "size=\"big\"/>\n";
    assert_contains(refusal(feed_xml({bad_size})), "element remoteContent, attribute size:");

    ItemSpec no_class;
    no_class.item_class = "ninat:picture";
    assert_contains(refusal(feed_xml({no_class})), "itemClass must be ninat:text or ninat:video");
  }

  void testDuplicateId() {
    ItemSpec a, b;
    a.id = b.id = "same";
    std::string xml = feed_xml({a, b});
    std::string why = refusal(xml);
    assert_contains(why, "feed:19: element newsItem: id same is already used on line 6");
    // Ids are unique across withheld items too.
    b.pub_status = "stat:withheld";
    refusal(feed_xml({a, b}));
  }

  void testMissingEnglishHeadline() {
    ItemSpec s;
    s.headlines = "<headline xml:lang=\"fr\">Titre</headline>";
    assert_contains(refusal(feed_xml({s})),
                    "feed:6: element newsItem: at least one headline in English");
    // Inherited from the item's xml:lang="en", or given as en-GB: both count as English.
    s.headlines = "<headline>Title</headline>";
    CPPUNIT_ASSERT(load(feed_xml({s})).ok());
    s.headlines = "<headline xml:lang=\"en-GB\">Title</headline>";
    CPPUNIT_ASSERT(load(feed_xml({s})).ok());
  }

  void testBadHrefs() {
    const char* bad[] = {"../etc/passwd",
                         "a/../../b.mp4",
                         "a/..",
                         "/etc/passwd",
                         "http://evil.example/x.mp4",
                         "file:///etc/passwd",
                         "c:/x.mp4",
                         "a//b.mp4",
                         "./a.mp4",
                         "a\\..\\b.mp4",
                         "%2e%2e/a.mp4"};
    for (const char* href : bad) {
      ItemSpec s;
      s.item_class = "ninat:video";
      s.content = rendition_xml("rnd:hd720", href);
      std::string why = refusal(feed_xml({s}));
      assert_contains(why, "element remoteContent: href");
      ItemSpec icon;
      icon.headlines = std::string("<headline>h</headline>");
      icon.extra_meta.clear();
      std::string xml = feed_xml({icon});
      xml.replace(xml.find("<headline>"), 0,
                  std::string("<icon href=\"") + href + "\" contenttype=\"image/jpeg\"/>");
      assert_contains(refusal(xml), "element icon: href");
    }
    ItemSpec good;
    good.content =
        rendition_xml("rnd:hd720", "613342/hd720.mp4") + rendition_xml("rnd:sd", "a..b/c.d.mp4");
    CPPUNIT_ASSERT(load(feed_xml({good})).ok());
  }

  void testRenditionChecks() {
    ItemSpec twice;
    twice.content = rendition_xml("rnd:hd720", "a.mp4") + rendition_xml("rnd:hd720", "b.mp4");
    assert_contains(refusal(feed_xml({twice})), "rendition rnd:hd720 appears twice");
    ItemSpec unknown_scheme;
    unknown_scheme.content = rendition_xml("xyz:hd720", "a.mp4");
    assert_contains(refusal(feed_xml({unknown_scheme})), "rendition must be a QCode rnd:NAME");
    ItemSpec bad_name;
    bad_name.content = rendition_xml("rnd:a/b", "a.mp4");
    assert_contains(refusal(feed_xml({bad_name})), "rendition must be a QCode rnd:NAME");
    // Two items may use the same rendition names.
    ItemSpec a, b;
    a.id = "a";
    b.id = "b";
    a.content = b.content = rendition_xml("rnd:hd720", "a.mp4");
    CPPUNIT_ASSERT(load(feed_xml({a, b})).ok());
    ItemSpec bad_guid;
    bad_guid.id = "x/y";
    assert_contains(refusal(feed_xml({bad_guid})), "the guid must end in an id");
  }

  void testFrenchFallback() {
    ItemSpec s;
    s.headlines =
        "<headline xml:lang=\"en\">Title</headline><headline xml:lang=\"fr\">Titre</headline>";
    s.extra_meta = "<description role=\"descrole:summary\">Summary</description>\n";
    auto result = load(feed_xml({s}));
    CPPUNIT_ASSERT(result.ok());
    const NewsItem& item = (*result)->items[0];
    auto headline = item.headline.get("fr");
    CPPUNIT_ASSERT_EQUAL(std::string("Titre"), *headline.text);
    CPPUNIT_ASSERT(!headline.fallback);
    auto summary = item.summary.get("fr");
    CPPUNIT_ASSERT_EQUAL(std::string("Summary"), *summary.text);
    CPPUNIT_ASSERT(summary.fallback);
    CPPUNIT_ASSERT(item.dateline.get("fr").text == nullptr);
  }

  void testDescriptiveElementsInAnyOrder() {
    ItemSpec s;
    s.headlines =
        "<keyword xml:lang=\"en\">k</keyword><creditline>NATO</creditline>"
        "<headline xml:lang=\"en\">Title</headline>"
        "<subject qcode=\"nmtopic:x\"><name>X</name></subject>"
        "<description role=\"descrole:shotlist\">1. Shot</description>"
        "<dateline>Brussels</dateline><keyword xml:lang=\"fr\">mot</keyword>";
    auto result = load(feed_xml({s}));
    CPPUNIT_ASSERT_MESSAGE(result.ok() ? "" : result.status().message(), result.ok());
    const NewsItem& item = (*result)->items[0];
    CPPUNIT_ASSERT_EQUAL(std::string("1. Shot"), *item.shotlist.get("en").text);
    CPPUNIT_ASSERT_EQUAL(std::string("mot"), item.keywords.at("fr").at(0));
    CPPUNIT_ASSERT_EQUAL(std::string("nmtopic:x"), item.subjects.at(0).qcode);
  }

  void testDates() {
    CPPUNIT_ASSERT_EQUAL(std::time_t{1688664600}, utc("2023-07-06T17:30:00Z"));
    CPPUNIT_ASSERT_EQUAL(std::time_t{1688664600}, utc("2023-07-06T19:30:00+02:00"));
    CPPUNIT_ASSERT_EQUAL(std::time_t{1688664600}, utc("2023-07-06T12:00:00.250-05:30"));
    CPPUNIT_ASSERT_EQUAL(std::time_t{951782400}, utc("2000-02-29T00:00:00Z"));
    std::time_t t;
    for (const char* bad :
         {"2023-07-06T17:30:00", "2023-07-06", "2023-02-29T00:00:00Z", "2023-13-01T00:00:00Z",
          "2023-07-06T17:30:00+15:00", "2023-07-06T17:30:00.Z", "2023-07-06 17:30:00Z", ""})
      CPPUNIT_ASSERT_MESSAGE(bad, !parse_feed_datetime(bad, &t));

    ItemSpec offset;
    offset.first_created = "2023-07-06T19:30:00+02:00";
    auto result = load(feed_xml({offset}));
    CPPUNIT_ASSERT(result.ok());
    CPPUNIT_ASSERT_EQUAL(std::time_t{1688664600}, (*result)->items[0].first_created);
    ItemSpec no_zone;
    no_zone.first_created = "2023-07-06T19:30:00";
    assert_contains(refusal(feed_xml({no_zone})), "element firstCreated:");
  }

  void testVersionFollowsContent() {
    ItemSpec a;
    auto first = load(feed_xml({a}));
    auto again = load(feed_xml({a}));
    a.headlines = "<headline xml:lang=\"en\">Other</headline>";
    auto changed = load(feed_xml({a}));
    CPPUNIT_ASSERT(first.ok() && again.ok() && changed.ok());
    CPPUNIT_ASSERT_EQUAL((*first)->version, (*again)->version);
    CPPUNIT_ASSERT((*first)->version != (*changed)->version);
  }

  void testValidateFeedFile() {
    CPPUNIT_ASSERT(validate_feed_file(kSamplePath, *schema()).ok());
    Status missing = validate_feed_file("/nonexistent/feed.xml", *schema());
    CPPUNIT_ASSERT(!missing.ok());
    assert_contains(missing.message(), "/nonexistent/feed.xml: cannot open");
    char dir[] = "/tmp/nm_feed_loader_XXXXXX";
    CPPUNIT_ASSERT(mkdtemp(dir) != nullptr);
    std::string path = std::string(dir) + "/feed.xml";
    std::ofstream(path) << "<?xml version=\"1.0\"?>\n<newsMessage>\n<oops>\n</newsMessage>\n";
    Status bad = validate_feed_file(path, *schema());
    assert_contains(bad.message(), path + ":4:");
    std::remove(path.c_str());
    rmdir(dir);
  }

  void testMissingSchema() {
    auto result = FeedSchema::load("/nonexistent/natomedia-feed.xsd");
    CPPUNIT_ASSERT(!result.ok());
  }

  void testEntityLoaderDeniesEverything() {
    init_xml_library();
    const int quiet = XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    const std::string schemas = NM_SOURCE_DIR "/schemas";
    CPPUNIT_ASSERT(xmlReadFile(kSamplePath, nullptr, quiet) == nullptr);
    CPPUNIT_ASSERT(xmlReadFile((schemas + "/xml.xsd").c_str(), nullptr, quiet) == nullptr);
    {
      ScopedSchemaDirAccess access(schemas);
      xmlDoc* xsd = xmlReadFile((schemas + "/xml.xsd").c_str(), nullptr, quiet);
      CPPUNIT_ASSERT(xsd != nullptr);
      xmlFreeDoc(xsd);
      CPPUNIT_ASSERT(xmlReadFile(kSamplePath, nullptr, quiet) == nullptr);
      CPPUNIT_ASSERT(xmlReadFile((schemas + "/../conf/sample-feed.xml").c_str(), nullptr, quiet) ==
                     nullptr);
      CPPUNIT_ASSERT(xmlReadFile("file:///etc/passwd", nullptr, quiet) == nullptr);
    }
    CPPUNIT_ASSERT(xmlReadFile((schemas + "/xml.xsd").c_str(), nullptr, quiet) == nullptr);
  }

  void testTenThousandItems() {
    std::vector<ItemSpec> items;
    const std::string body =
        "<inlineXML contenttype=\"application/xhtml+xml\"><html xmlns=\"http://www.w3.org/1999/"
        "xhtml\"><body><p>Secretary General Jens Stoltenberg hosted a meeting of senior "
        "officials on <em>Sweden’s</em> membership.</p><p>Second paragraph with a "
        "<a href=\"https://www.nato.int/\">link</a>.</p></body></html></inlineXML>\n";
    for (int i = 0; i < 10000; ++i) {
      ItemSpec s;
      s.id = "item-" + std::to_string(i);
      char date[32];
      std::snprintf(date, sizeof date, "2023-%02d-%02dT%02d:%02d:00Z", i % 12 + 1, i % 28 + 1,
                    i % 24, i % 60);
      s.first_created = date;
      s.headlines = "<headline xml:lang=\"en\">Headline " + std::to_string(i) +
                    "</headline><headline xml:lang=\"fr\">Titre</headline>";
      s.extra_meta =
          "<description role=\"descrole:summary\" xml:lang=\"en\">A summary.</description>\n";
      if (i % 2 == 0) {
        s.content = body;
      } else {
        s.item_class = "ninat:video";
        s.content = rendition_xml("rnd:hd720", "v/" + s.id + "/hd720.mp4") +
                    rendition_xml("rnd:sd360", "v/" + s.id + "/sd360.mp4");
      }
      items.push_back(s);
    }
    std::string xml = feed_xml(items);
    auto start = std::chrono::steady_clock::now();
    auto result = load(xml);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "\n  10,000 items (" << xml.size() / 1024 << " KiB) loaded in " << seconds
              << " s\n";
    CPPUNIT_ASSERT_MESSAGE(result.ok() ? "" : result.status().message(), result.ok());
    CPPUNIT_ASSERT_EQUAL(size_t{10000}, (*result)->items.size());
    // The time is printed, not asserted: the "under 2 s" goal is judged by bench/feed_reload.sh
    // on an idle machine, not by a test that also runs under ASan, valgrind and a busy CI.
    for (size_t i = 1; i < (*result)->items.size(); ++i)
      CPPUNIT_ASSERT((*result)->items[i - 1].first_created >= (*result)->items[i].first_created);
  }

 private:
  static size_t count(const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(FeedLoaderTest);

}  // namespace
}  // namespace core
}  // namespace natomedia
