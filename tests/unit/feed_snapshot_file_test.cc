// The binary form of a loaded feed that httpd's children share (feed_snapshot_file.h): what is
// written reads back the same, and anything else (another file version, a short, long or
// corrupted file) is refused without harm.
#include "core/feed_snapshot_file.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>

#include "core/feed_loader.h"

namespace natomedia {
namespace core {
namespace {

const char kSchemaPath[] = NM_SOURCE_DIR "/schemas/natomedia-feed.xsd";
// The demo feed (videos with renditions, an icon) and the fuzz seed (subjects, keywords, bodies).
const char* const kFeeds[] = {NM_SOURCE_DIR "/conf/sample-feed.xml",
                              NM_SOURCE_DIR "/tests/fuzz/corpus/feed/sample-feed.xml"};

FeedFileInfo source_info() {
  FeedFileInfo info;
  info.device = 2049;
  info.inode = 123456;
  info.size = 7500000;
  info.mtime_ns = 1700000000123456789;
  info.ctime_ns = 1700000000223456789;
  return info;
}

class FeedSnapshotFileTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(FeedSnapshotFileTest);
  CPPUNIT_TEST(testRoundTrip);
  CPPUNIT_TEST(testAnotherFileVersionRefused);
  CPPUNIT_TEST(testEveryTruncationRefused);
  CPPUNIT_TEST(testTrailingBytesRefused);
  CPPUNIT_TEST(testHugeLengthsRefused);
  CPPUNIT_TEST(testEmptySnapshot);
  CPPUNIT_TEST(testSourceReadFromTheHeader);
  CPPUNIT_TEST(testRefusedVersionRecord);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    auto schema = FeedSchema::load(kSchemaPath);
    CPPUNIT_ASSERT(schema.ok());
    schema_ = schema.value();
  }

  std::shared_ptr<const FeedSnapshot> load(const char* path) {
    auto loaded = load_feed_file(path, *schema_, LoadOptions());
    CPPUNIT_ASSERT_MESSAGE(loaded.ok() ? "" : loaded.status().message(), loaded.ok());
    return loaded.value();
  }

  void testRoundTrip() {
    bool renditions = false, keywords = false, subjects = false, bodies = false, codecs = false,
         places = false;
    for (const char* path : kFeeds) {
      auto original = load(path);
      const std::string bytes = encode_feed_snapshot(*original, source_info());
      auto decoded = decode_feed_snapshot(bytes, source_info(), 4242);
      CPPUNIT_ASSERT_MESSAGE(decoded.ok() ? "" : decoded.status().message(), decoded.ok());
      const FeedSnapshot& a = *original;
      const FeedSnapshot& b = *decoded.value();
      // The encoding covers every field, so equal encodings mean equal snapshots.
      CPPUNIT_ASSERT(encode_feed_snapshot(b, source_info()) == bytes);
      CPPUNIT_ASSERT_EQUAL(std::time_t{4242}, b.loaded_at);
      CPPUNIT_ASSERT_EQUAL(a.version, b.version);
      CPPUNIT_ASSERT_EQUAL(a.modified, b.modified);
      CPPUNIT_ASSERT_EQUAL(a.items.size(), b.items.size());
      CPPUNIT_ASSERT_EQUAL(a.by_id.size(), b.by_id.size());
      for (size_t i = 0; i < a.items.size(); ++i) {
        const NewsItem& x = a.items[i];
        const NewsItem& y = b.items[i];
        CPPUNIT_ASSERT(b.find(x.id) == &y);
        CPPUNIT_ASSERT_EQUAL(x.guid, y.guid);
        CPPUNIT_ASSERT_EQUAL(x.is_video, y.is_video);
        CPPUNIT_ASSERT_EQUAL(x.first_created, y.first_created);
        CPPUNIT_ASSERT(x.headline.by_lang == y.headline.by_lang);
        CPPUNIT_ASSERT(x.body_html.by_lang == y.body_html.by_lang);
        CPPUNIT_ASSERT(x.keywords == y.keywords);
        CPPUNIT_ASSERT_EQUAL(x.subjects.size(), y.subjects.size());
        for (size_t j = 0; j < x.subjects.size(); ++j) {
          CPPUNIT_ASSERT_EQUAL(x.subjects[j].qcode, y.subjects[j].qcode);
          CPPUNIT_ASSERT(x.subjects[j].name.by_lang == y.subjects[j].name.by_lang);
        }
        CPPUNIT_ASSERT_EQUAL(x.renditions.size(), y.renditions.size());
        for (size_t j = 0; j < x.renditions.size(); ++j) {
          const Rendition& r = x.renditions[j];
          const Rendition& s = y.renditions[j];
          CPPUNIT_ASSERT(r.id == s.id && r.href == s.href && r.size == s.size &&
                         r.width == s.width && r.height == s.height &&
                         r.duration_seconds == s.duration_seconds && r.frame_rate == s.frame_rate &&
                         r.sha256 == s.sha256 && r.content_type == s.content_type &&
                         r.filename == s.filename && r.video_codec == s.video_codec &&
                         r.audio_codec == s.audio_codec && r.bitrate == s.bitrate);
          codecs |= !r.video_codec.empty() && r.bitrate > 0;
        }
        CPPUNIT_ASSERT(x.located.by_lang == y.located.by_lang);
        CPPUNIT_ASSERT(x.creditline.by_lang == y.creditline.by_lang);
        places |= x.located.by_lang.size() > 1;
        renditions |= !x.renditions.empty();
        keywords |= !x.keywords.empty();
        subjects |= !x.subjects.empty();
        bodies |= !x.body_html.empty();
      }
    }
    // The fixtures exercise every kind of field.
    CPPUNIT_ASSERT(renditions && keywords && subjects && bodies && codecs && places);
  }

  void testAnotherFileVersionRefused() {
    const std::string bytes = encode_feed_snapshot(*load(kFeeds[0]), source_info());
    for (int field = 0; field < 5; ++field) {
      FeedFileInfo other = source_info();
      switch (field) {
        case 0:
          ++other.device;
          break;
        case 1:
          ++other.inode;
          break;
        case 2:
          ++other.size;
          break;
        case 3:
          ++other.mtime_ns;
          break;
        default:
          ++other.ctime_ns;
          break;
      }
      CPPUNIT_ASSERT(!decode_feed_snapshot(bytes, other, 0).ok());
    }
  }

  void testEveryTruncationRefused() {
    const std::string bytes = encode_feed_snapshot(*load(kFeeds[1]), source_info());
    for (size_t n = 0; n < bytes.size(); ++n)
      CPPUNIT_ASSERT(!decode_feed_snapshot(bytes.substr(0, n), source_info(), 0).ok());
  }

  void testTrailingBytesRefused() {
    const std::string bytes = encode_feed_snapshot(*load(kFeeds[0]), source_info());
    CPPUNIT_ASSERT(!decode_feed_snapshot(bytes + std::string(1, '\0'), source_info(), 0).ok());
  }

  // Every aligned 8 bytes in turn set to all ones (where that is a length or count: 2^64 - 1):
  // no crash and no attempt to allocate that much (run under ASan and valgrind too). Where it
  // lands is a length or count for sure, it must be refused.
  void testHugeLengthsRefused() {
    auto snapshot = load(kFeeds[1]);
    const std::string bytes = encode_feed_snapshot(*snapshot, source_info());
    auto ones_at = [&bytes](size_t at) {
      std::string broken = bytes;
      broken.replace(at, 8, std::string(8, '\xff'));
      return broken;
    };
    for (size_t at = 8; at + 8 <= bytes.size(); at += 8) {
      auto decoded = decode_feed_snapshot(ones_at(at), source_info(), 0);
      if (decoded.ok()) CPPUNIT_ASSERT(decoded.value()->items.size() <= snapshot->items.size());
    }
    // magic, source info (5 fields), version length + bytes, modified, item count, first id length
    const size_t version_at = 8 + 5 * 8;
    const size_t count_at = version_at + 8 + snapshot->version.size() + 8;
    for (size_t at = 8; at <= version_at; at += 8)
      CPPUNIT_ASSERT(!decode_feed_snapshot(ones_at(at), source_info(), 0).ok());
    CPPUNIT_ASSERT(!decode_feed_snapshot(ones_at(count_at), source_info(), 0).ok());
    CPPUNIT_ASSERT(!decode_feed_snapshot(ones_at(count_at + 8), source_info(), 0).ok());
  }

  void testEmptySnapshot() {
    FeedSnapshot empty;
    auto decoded =
        decode_feed_snapshot(encode_feed_snapshot(empty, source_info()), source_info(), 1);
    CPPUNIT_ASSERT(decoded.ok());
    CPPUNIT_ASSERT(decoded.value()->items.empty());
    CPPUNIT_ASSERT(!decode_feed_snapshot("", source_info(), 1).ok());
    CPPUNIT_ASSERT(!decode_feed_snapshot("NMFEED00", source_info(), 1).ok());
  }

  // What a snapshot says it was made from, from its first 48 bytes (FeedService reads only
  // those to decide whether the whole decode is needed).
  void testSourceReadFromTheHeader() {
    const std::string bytes = encode_feed_snapshot(*load(kFeeds[0]), source_info());
    auto source = feed_snapshot_source(bytes.substr(0, 48));
    CPPUNIT_ASSERT(source.ok());
    CPPUNIT_ASSERT(source.value() == source_info());
    CPPUNIT_ASSERT(!feed_snapshot_source(bytes.substr(0, 47)).ok());
    CPPUNIT_ASSERT(!feed_snapshot_source("NMFEED00" + bytes.substr(8)).ok());
    CPPUNIT_ASSERT(!feed_snapshot_source(encode_refused_version(source_info())).ok());
  }

  // The record of a refused file version: exactly its 48 bytes, nothing shorter or longer, and
  // a snapshot is not one.
  void testRefusedVersionRecord() {
    const std::string bytes = encode_refused_version(source_info());
    CPPUNIT_ASSERT_EQUAL(size_t{48}, bytes.size());
    auto refused = decode_refused_version(bytes);
    CPPUNIT_ASSERT(refused.ok());
    CPPUNIT_ASSERT(refused.value() == source_info());
    for (size_t n = 0; n < bytes.size(); ++n)
      CPPUNIT_ASSERT(!decode_refused_version(bytes.substr(0, n)).ok());
    CPPUNIT_ASSERT(!decode_refused_version(bytes + "x").ok());
    FeedSnapshot empty;
    CPPUNIT_ASSERT(!decode_refused_version(encode_feed_snapshot(empty, source_info())).ok());
  }

 private:
  std::shared_ptr<const FeedSchema> schema_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(FeedSnapshotFileTest);

}  // namespace
}  // namespace core
}  // namespace natomedia
