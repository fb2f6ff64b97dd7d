// Unit tests of the media gateway's pure logic: path containment, Content-Disposition, dates,
// ETag matching, signed download links, image types from magic numbers and byte-range sizes.
#include <cppunit/extensions/HelperMacros.h>

#include <natomedia/testing/doubles.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <vector>

#include <natomedia/text.h>

#include "byte_ranges.h"
#include "conditional.h"
#include "content_disposition.h"
#include "formatting.h"
#include "image_types.h"
#include "media_paths.h"
#include "search_index.h"
#include "signed_links.h"

namespace mg = natomedia::media_gateway;
using natomedia::Params;
using natomedia::Request;
using natomedia::Result;
using natomedia::Status;

namespace {

using natomedia::testing::FakeCrypto;

Params query_of(const std::string& q) {
  Params p;
  size_t start = 0;
  while (start < q.size()) {
    size_t amp = q.find('&', start);
    if (amp == std::string::npos) amp = q.size();
    std::string pair = q.substr(start, amp - start);
    size_t eq = pair.find('=');
    std::string value;
    natomedia::text::url_decode(pair.substr(eq + 1), value, true);
    p.add(pair.substr(0, eq), value);
    start = amp + 1;
  }
  return p;
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

}  // namespace

class MediaGatewayTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(MediaGatewayTest);
  CPPUNIT_TEST(resolves_files_inside_the_root);
  CPPUNIT_TEST(refuses_paths_leading_outside);
  CPPUNIT_TEST(a_kept_resolution_never_leads_outside);
  CPPUNIT_TEST(cleans_download_names);
  CPPUNIT_TEST(builds_rfc6266_dispositions);
  CPPUNIT_TEST(writes_and_reads_http_dates);
  CPPUNIT_TEST(matches_etags_weakly);
  CPPUNIT_TEST(honours_conditional_headers);
  CPPUNIT_TEST(formats_sizes_and_durations);
  CPPUNIT_TEST(signed_links_round_trip);
  CPPUNIT_TEST(signed_links_die_with_the_credential_epoch);
  CPPUNIT_TEST(signed_links_refuse_tampering_and_expiry);
  CPPUNIT_TEST(sniffs_the_four_image_formats);
  CPPUNIT_TEST(refuses_whatever_is_no_image);
  CPPUNIT_TEST(sniffed_types_follow_the_file);
  CPPUNIT_TEST(ranges_never_undercount_bytes);
  CPPUNIT_TEST(folds_case_and_accents);
  CPPUNIT_TEST(search_finds_every_word_and_topic);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    char tmpl[] = "/tmp/mg-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    mkdir((dir_ + "/root").c_str(), 0755);
    mkdir((dir_ + "/root/item").c_str(), 0755);
    write_file(dir_ + "/root/item/video.mp4", "0123456789");
    write_file(dir_ + "/secret.txt", "outside");
    symlink((dir_ + "/secret.txt").c_str(), (dir_ + "/root/item/escape.mp4").c_str());
    symlink("video.mp4", (dir_ + "/root/item/alias.mp4").c_str());
  }
  void tearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    CPPUNIT_ASSERT_EQUAL(0, std::system(cmd.c_str()));
  }

  void resolves_files_inside_the_root() {
    auto f = mg::resolve_under(dir_ + "/root", "item/video.mp4");
    CPPUNIT_ASSERT(f.ok());
    CPPUNIT_ASSERT_EQUAL(uint64_t{10}, f->size);
    CPPUNIT_ASSERT(f->path.find("/root/item/video.mp4") != std::string::npos);
    auto alias = mg::resolve_under(dir_ + "/root", "item/alias.mp4");  // a symlink inside
    CPPUNIT_ASSERT(alias.ok());
    CPPUNIT_ASSERT_EQUAL(f->path, alias->path);
    CPPUNIT_ASSERT(mg::resolve_under(dir_ + "/root", "item/../item/video.mp4").ok());
  }

  void refuses_paths_leading_outside() {
    const std::string root = dir_ + "/root";
    auto code = [&](const std::string& href) { return mg::resolve_under(root, href).status().code(); };
    CPPUNIT_ASSERT(code("../secret.txt") == Status::Code::kInvalid);
    CPPUNIT_ASSERT(code("item/../../secret.txt") == Status::Code::kInvalid);
    CPPUNIT_ASSERT(code("item/escape.mp4") == Status::Code::kInvalid);
    CPPUNIT_ASSERT(code(dir_ + "/secret.txt") == Status::Code::kInvalid);
    CPPUNIT_ASSERT(code("/etc/passwd") == Status::Code::kInvalid);
    CPPUNIT_ASSERT(code("") == Status::Code::kInvalid);
    CPPUNIT_ASSERT(code(std::string("item/video.mp4\0x", 16)) == Status::Code::kInvalid);
    CPPUNIT_ASSERT(code("item") == Status::Code::kNotFound);  // a directory
    CPPUNIT_ASSERT(code(".") == Status::Code::kInvalid);      // the root itself
    CPPUNIT_ASSERT(code("item/missing.mp4") == Status::Code::kNotFound);
    CPPUNIT_ASSERT(mg::resolve_under("", "item/video.mp4").status().code() ==
                   Status::Code::kInvalid);
  }

  // Resolutions are kept for two seconds: a symlink inside the root swapped to lead outside
  // meanwhile still gives the file it led to (inside), never the new target; a file removed is
  // judged again at once; once forgotten, the swapped link is refused.
  void a_kept_resolution_never_leads_outside() {
    const std::string root = dir_ + "/root";
    write_file(root + "/item/other.mp4", "other");
    symlink("video.mp4", (root + "/item/moving.mp4").c_str());
    auto first = mg::resolve_under(root, "item/moving.mp4");
    CPPUNIT_ASSERT(first.ok());
    CPPUNIT_ASSERT_EQUAL(uint64_t{10}, first->size);
    CPPUNIT_ASSERT_EQUAL(0, unlink((root + "/item/moving.mp4").c_str()));
    CPPUNIT_ASSERT_EQUAL(0, symlink((dir_ + "/secret.txt").c_str(),
                                    (root + "/item/moving.mp4").c_str()));
    auto kept = mg::resolve_under(root, "item/moving.mp4");
    CPPUNIT_ASSERT(kept.ok());
    CPPUNIT_ASSERT_EQUAL(first->path, kept->path);
    CPPUNIT_ASSERT(kept->path.find(dir_ + "/root/") == 0);
    // The file it led to is gone: judged afresh, and the new link leads outside.
    CPPUNIT_ASSERT_EQUAL(0, unlink((root + "/item/video.mp4").c_str()));
    CPPUNIT_ASSERT(mg::resolve_under(root, "item/moving.mp4").status().code() ==
                   Status::Code::kInvalid);
    // Kept, then the link swapped while its old target stays: forgotten, it is refused.
    CPPUNIT_ASSERT(mg::resolve_under(root, "item/other.mp4").ok());
    symlink("other.mp4", (root + "/item/second.mp4").c_str());
    CPPUNIT_ASSERT(mg::resolve_under(root, "item/second.mp4").ok());
    CPPUNIT_ASSERT_EQUAL(0, unlink((root + "/item/second.mp4").c_str()));
    CPPUNIT_ASSERT_EQUAL(0, symlink((dir_ + "/secret.txt").c_str(),
                                    (root + "/item/second.mp4").c_str()));
    CPPUNIT_ASSERT_EQUAL(uint64_t{5}, mg::resolve_under(root, "item/second.mp4")->size);
    mg::forget_resolved_paths();
    CPPUNIT_ASSERT(mg::resolve_under(root, "item/second.mp4").status().code() ==
                   Status::Code::kInvalid);
  }

  void cleans_download_names() {
    CPPUNIT_ASSERT_EQUAL(std::string("NATO Sweden.mp4"), mg::safe_filename("NATO Sweden.mp4"));
    CPPUNIT_ASSERT_EQUAL(std::string("etcpasswd"), mg::safe_filename("../etc/passwd"));
    CPPUNIT_ASSERT_EQUAL(std::string("ab c"), mg::safe_filename("a\"b\r\n c\\"));
    CPPUNIT_ASSERT_EQUAL(std::string("xy"), mg::safe_filename("x\xC2\x85y"));  // C1 NEL
    CPPUNIT_ASSERT_EQUAL(std::string("ok"), mg::safe_filename("o\xFFk"));     // bad UTF-8
    CPPUNIT_ASSERT_EQUAL(std::string("download"), mg::safe_filename(" ../ "));
    CPPUNIT_ASSERT_EQUAL(std::string("T_rkiye _.mp4"),
                         mg::ascii_filename("Türkiye %.mp4"));
  }

  void builds_rfc6266_dispositions() {
    CPPUNIT_ASSERT_EQUAL(
        std::string("attachment; filename=\"Vid_o : Su_de.mp4\"; "
                    "filename*=UTF-8''Vid%C3%A9o%20%3A%20Su%C3%A8de.mp4"),
        mg::attachment_disposition("Vidéo : Suède.mp4"));
    std::string d = mg::attachment_disposition("evil\"; filename=x.exe\r\nSet-Cookie: a");
    CPPUNIT_ASSERT(d.find('\r') == std::string::npos && d.find('\n') == std::string::npos);
    CPPUNIT_ASSERT_EQUAL(std::string::size_type(2), std::string::size_type(
        std::count(d.begin(), d.end(), '"')));
  }

  void writes_and_reads_http_dates() {
    CPPUNIT_ASSERT_EQUAL(std::string("Thu, 06 Jul 2023 17:30:00 GMT"), mg::http_date(1688664600));
    CPPUNIT_ASSERT_EQUAL(std::string("2023-07-06T17:30:00Z"), mg::rfc3339(1688664600));
    auto t = mg::parse_http_date("Thu, 06 Jul 2023 17:30:00 GMT");
    CPPUNIT_ASSERT(t && *t == 1688664600);
    CPPUNIT_ASSERT(!mg::parse_http_date("Thursday, 06-Jul-23 17:30:00 GMT"));
    CPPUNIT_ASSERT(!mg::parse_http_date("Thu, 06 Foo 2023 17:30:00 GMT"));
    CPPUNIT_ASSERT(!mg::parse_http_date(""));
  }

  void matches_etags_weakly() {
    CPPUNIT_ASSERT(mg::etag_matches("W/\"a-1\"", "W/\"a-1\""));
    CPPUNIT_ASSERT(mg::etag_matches("\"a-1\"", "W/\"a-1\""));
    CPPUNIT_ASSERT(mg::etag_matches("\"x\", W/\"a-1\"", "W/\"a-1\""));
    CPPUNIT_ASSERT(mg::etag_matches("*", "\"b\""));
    CPPUNIT_ASSERT(!mg::etag_matches("\"a-2\"", "W/\"a-1\""));
    CPPUNIT_ASSERT(!mg::etag_matches("", "\"a\""));
    CPPUNIT_ASSERT(!mg::etag_matches("a-1", "\"a-1\""));
  }

  void honours_conditional_headers() {
    mg::Validators v{mg::weak_etag("news-v1-en-anon"), 1688664600, "private"};
    Request req;
    CPPUNIT_ASSERT(!mg::client_copy_current(req, v));
    req.headers["if-modified-since"] = "Thu, 06 Jul 2023 17:30:00 GMT";
    CPPUNIT_ASSERT(mg::client_copy_current(req, v));
    req.headers["if-none-match"] = "W/\"news-v2-en-anon\"";  // If-None-Match wins
    CPPUNIT_ASSERT(!mg::client_copy_current(req, v));
    req.headers["if-none-match"] = "W/\"news-v1-en-anon\"";
    CPPUNIT_ASSERT(mg::client_copy_current(req, v));
    auto r = mg::not_modified(v);
    CPPUNIT_ASSERT_EQUAL(304, r.status);
    CPPUNIT_ASSERT(r.body.empty());
  }

  void formats_sizes_and_durations() {
    CPPUNIT_ASSERT_EQUAL(std::string("70.6 kB"), mg::human_size(70569, "en"));
    CPPUNIT_ASSERT_EQUAL(std::string("734 MB"), mg::human_size(734003200, "en"));
    CPPUNIT_ASSERT_EQUAL(std::string("70,6\u00a0ko"), mg::human_size(70569, "fr"));
    CPPUNIT_ASSERT_EQUAL(std::string("12 B"), mg::human_size(12, "en"));
    CPPUNIT_ASSERT_EQUAL(std::string("7:26"), mg::clock_duration(446));
    CPPUNIT_ASSERT_EQUAL(std::string("1:02:03"), mg::clock_duration(3723));
    CPPUNIT_ASSERT_EQUAL(std::string("MP4"), mg::format_name("video/mp4"));
    CPPUNIT_ASSERT(mg::all_digits("123", 3) && !mg::all_digits("1234", 3) &&
                   !mg::all_digits("", 3) && !mg::all_digits("-1", 3));
  }

  static natomedia::Account account(int64_t id, int64_t epoch) {
    natomedia::Account a;
    a.id = id;
    a.credential_epoch = epoch;
    return a;
  }

  void signed_links_round_trip() {
    FakeCrypto crypto;
    const std::time_t now = 1700000000;
    const std::time_t expires = mg::link_expiry(now);
    CPPUNIT_ASSERT(expires >= now + mg::kLinkLifetime && expires % 3600 == 0);
    const std::string q = mg::signed_query(crypto, "/download/a/hd", account(42, 3), expires);
    CPPUNIT_ASSERT(q.find("epoch") == std::string::npos && q.find("&a=42&") != std::string::npos);
    auto claim = mg::claimed_account(query_of(q));
    CPPUNIT_ASSERT(claim.shape == mg::LinkClaim::Shape::kWellFormed);
    CPPUNIT_ASSERT_EQUAL(int64_t{42}, claim.account_id);
    CPPUNIT_ASSERT(mg::check_link(crypto, query_of(q), "/download/a/hd", 3, now) ==
                   mg::LinkCheck::kOk);
    CPPUNIT_ASSERT(mg::claimed_account(Params()).shape == mg::LinkClaim::Shape::kAbsent);
    CPPUNIT_ASSERT(mg::check_link(crypto, Params(), "/download/a/hd", 3, now) ==
                   mg::LinkCheck::kAbsent);
  }

  void signed_links_die_with_the_credential_epoch() {
    FakeCrypto crypto;
    const std::time_t now = 1700000000;
    const std::string q = mg::signed_query(crypto, "/download/a/hd", account(42, 3), now + 100);
    for (int64_t other : {0, 2, 4, 1000})
      CPPUNIT_ASSERT(mg::check_link(crypto, query_of(q), "/download/a/hd", other, now) ==
                     mg::LinkCheck::kBad);
    // An expired link of another epoch is bad, not expired: it says nothing about the account.
    CPPUNIT_ASSERT(mg::check_link(crypto, query_of(q), "/download/a/hd", 4, now + 101) ==
                   mg::LinkCheck::kBad);
  }

  void signed_links_refuse_tampering_and_expiry() {
    FakeCrypto crypto;
    const std::time_t now = 1700000000;
    const std::string q = mg::signed_query(crypto, "/download/a/hd", account(42, 0), now + 100);
    using O = mg::LinkCheck;
    auto outcome = [&](const std::string& query, const std::string& path, std::time_t at) {
      return mg::check_link(crypto, query_of(query), path, 0, at);
    };
    CPPUNIT_ASSERT(outcome(q, "/download/a/sd", now) == O::kBad);       // another rendition
    CPPUNIT_ASSERT(outcome(q, "/download/a/hd", now + 101) == O::kExpired);
    std::string other_account = q;
    other_account.replace(other_account.find("&a=42"), 5, "&a=43");
    CPPUNIT_ASSERT(outcome(other_account, "/download/a/hd", now) == O::kBad);
    std::string later = q;
    later.replace(later.find("expires=") + 8, 10, std::to_string(now + 999999));
    CPPUNIT_ASSERT(outcome(later, "/download/a/hd", now) == O::kBad);
    CPPUNIT_ASSERT(outcome("expires=abc&a=42&sig=x", "/download/a/hd", now) == O::kBad);
    CPPUNIT_ASSERT(outcome("sig=", "/download/a/hd", now) == O::kBad);
    CPPUNIT_ASSERT(mg::claimed_account(query_of("sig=")).shape == mg::LinkClaim::Shape::kMalformed);
  }

  void sniffs_the_four_image_formats() {
    using namespace std::string_literals;
    CPPUNIT_ASSERT_EQUAL("image/jpeg"s, mg::sniff_image_type("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"s));
    CPPUNIT_ASSERT_EQUAL("image/jpeg"s, mg::sniff_image_type("\xFF\xD8\xFF"s));
    CPPUNIT_ASSERT_EQUAL("image/png"s,
                         mg::sniff_image_type("\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR"s));
    CPPUNIT_ASSERT_EQUAL("image/gif"s, mg::sniff_image_type("GIF89a\x01\x00\x01\x00"s));
    CPPUNIT_ASSERT_EQUAL("image/gif"s, mg::sniff_image_type("GIF87a"s));
    CPPUNIT_ASSERT_EQUAL("image/webp"s, mg::sniff_image_type("RIFF\x24\x00\x00\x00WEBPVP8 "s));
    CPPUNIT_ASSERT_EQUAL("image/webp"s, mg::sniff_image_type("RIFF\x24\x00\x00\x00WEBPVP8L"s));
    // A GIF/HTML polyglot is a GIF: served as image/gif (with nosniff and a sandbox) it is
    // never read as a page.
    CPPUNIT_ASSERT_EQUAL("image/gif"s, mg::sniff_image_type("GIF89a<script>alert(1)</script>"s));
  }

  void refuses_whatever_is_no_image() {
    using namespace std::string_literals;
    const std::vector<std::string> not_images = {
        "",                                                                 // empty
        "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",  // SVG
        "<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>",
        "<!DOCTYPE html><html><script>alert(1)</script></html>",  // HTML
        "  \n\t<html><body>hi</body></html>",                     // HTML after whitespace
        "\xEF\xBB\xBF<html>"s,                                    // HTML after a BOM
        "<html>\xFF\xD8\xFF"s,                                    // a JPEG signature too late
        "\xFF\xD8"s,                                              // truncated JPEG
        "\x89PNG\r\n\x1A"s,                                       // truncated PNG
        "GIF89"s,
        "GIF88a"s,                        // truncated or no GIF
        "RIFF\x24\x00\x00\x00WEBP"s,      // truncated WebP
        "RIFF\x24\x00\x00\x00WAVEfmt "s,  // a RIFF that is no WebP
        "BM\x36\x00\x00\x00"s,            // BMP: not allowed
        "\x00\x00\x01\x00\x01\x00"s,      // ICO: not allowed
        "%PDF-1.7\n"s,                    // PDF
        "\x00\x00\x00\x18\x66typmp42"s,   // MP4
    };
    for (const auto& head : not_images)
      CPPUNIT_ASSERT_EQUAL_MESSAGE(natomedia::text::url_encode(head), std::string(),
                                   mg::sniff_image_type(head));
  }

  void sniffed_types_follow_the_file() {
    const std::string root = dir_ + "/root";
    write_file(root + "/item/thumb.png", "\x89PNG\r\n\x1A\n-rest-of-a-png");
    mg::ImageTypeCache cache;
    auto file = mg::resolve_under(root, "item/thumb.png");
    CPPUNIT_ASSERT(file.ok());
    CPPUNIT_ASSERT_EQUAL(std::string("image/png"), *cache.type_of(*file));
    CPPUNIT_ASSERT_EQUAL(std::string("image/png"), *cache.type_of(*file));  // from the cache
    // The same name with other bytes (a new inode, as a feed update writes it): sniffed again.
    write_file(root + "/item/thumb.tmp", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    CPPUNIT_ASSERT_EQUAL(
        0, rename((root + "/item/thumb.tmp").c_str(), (root + "/item/thumb.png").c_str()));
    auto svg = mg::resolve_under(root, "item/thumb.png");
    CPPUNIT_ASSERT(svg.ok());
    CPPUNIT_ASSERT_EQUAL(std::string(""), *cache.type_of(*svg));
    // Rewritten in place (the same inode, another size and change time): sniffed again.
    write_file(root + "/item/thumb.png", "GIF89a....");
    auto gif = mg::resolve_under(root, "item/thumb.png");
    CPPUNIT_ASSERT_EQUAL(std::string("image/gif"), *cache.type_of(*gif));
    mg::MediaFile gone = *gif;
    gone.path = root + "/item/missing.png";
    CPPUNIT_ASSERT(cache.type_of(gone).status().code() == Status::Code::kNotFound);
  }

  void ranges_never_undercount_bytes() {
    const std::string etag = "\"0123abcd\"";
    auto sent = [&](std::map<std::string, std::string> headers, uint64_t size = 1000) {
      Request req;
      req.method = "GET";
      req.headers = std::move(headers);
      return mg::most_bytes_sent(req, size, etag, "video/mp4");
    };
    CPPUNIT_ASSERT_EQUAL(uint64_t{1000}, sent({}));
    CPPUNIT_ASSERT_EQUAL(uint64_t{100}, sent({{"range", "bytes=100-199"}}));
    CPPUNIT_ASSERT_EQUAL(uint64_t{100}, sent({{"range", "Bytes=900-"}}));
    CPPUNIT_ASSERT_EQUAL(uint64_t{100}, sent({{"range", "bytes=900-5000"}}));
    CPPUNIT_ASSERT_EQUAL(uint64_t{10}, sent({{"range", "bytes=-10"}}));
    CPPUNIT_ASSERT_EQUAL(uint64_t{1000}, sent({{"range", "bytes=-5000"}}));
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, sent({{"range", "bytes=1000-"}}));  // 416
    CPPUNIT_ASSERT_EQUAL(uint64_t{50}, sent({{"request-range", "bytes=0-49"}}));
    // Ranges httpd ignores (it sends the whole file): the whole file.
    for (const char* ignored :
         {"bytes=5-1", "bytes=-0", "bytes=a-b", "bytes=", "bits=0-1", "bytes=--1", "bytes= 1-2",
          "bytes=+1-2", "bytes=1", "bytes=99999999999999999999-", "0-10"})
      CPPUNIT_ASSERT_EQUAL_MESSAGE(ignored, uint64_t{1000}, sent({{"range", ignored}}));
    // If-Range: only our exact strong ETag keeps the range.
    CPPUNIT_ASSERT_EQUAL(uint64_t{10}, sent({{"range", "bytes=0-9"}, {"if-range", etag}}));
    CPPUNIT_ASSERT_EQUAL(uint64_t{1000}, sent({{"range", "bytes=0-9"}, {"if-range", "\"x\""}}));
    CPPUNIT_ASSERT_EQUAL(uint64_t{1000}, sent({{"range", "bytes=0-9"}, {"if-range", "W/" + etag}}));
    CPPUNIT_ASSERT_EQUAL(uint64_t{1000}, sent({{"range", "bytes=0-9"},
                                               {"if-range", "Thu, 06 Jul 2023 17:30:00 GMT"}}));
    // Several ranges (or repeated Range headers, joined): the file plus every part's framing.
    const uint64_t two = sent({{"range", "bytes=0-1,10-11"}});
    CPPUNIT_ASSERT(two >= 1000 + 2 * (100 + 9));
    CPPUNIT_ASSERT(sent({{"range", "bytes=0-1, bytes=5-6"}}) >= two);
    CPPUNIT_ASSERT_EQUAL(uint64_t{0}, sent({{"range", "bytes=0-"}}, 0));
  }

 private:
  std::string dir_;

  void folds_case_and_accents() {
    CPPUNIT_ASSERT_EQUAL(std::string("turkiye elargissement oeuvre ss"),
                         mg::fold_for_search("Türkiye Élargissement Œuvre ß"));
    auto words = mg::search_words("<p>Sweden&#8217;s <b>NATO</b>-membership, “Suède”</p>", true);
    std::string joined;
    for (const auto& w : words) joined += (joined.empty() ? "" : "|") + w;
    CPPUNIT_ASSERT_EQUAL(std::string("sweden|s|nato|membership|suede"), joined);
  }

  void search_finds_every_word_and_topic() {
    natomedia::FeedSnapshot snap;
    auto add = [&](const std::string& id, const std::string& en, const std::string& fr,
                   const std::string& topic) {
      natomedia::NewsItem item;
      item.id = id;
      item.headline.by_lang["en"] = en;
      if (!fr.empty()) item.headline.by_lang["fr"] = fr;
      if (!topic.empty()) item.subjects.push_back({topic, {}});
      snap.items.push_back(item);
    };
    add("a", "Sweden joins NATO", "La Suède rejoint l’OTAN", "t:enlargement");
    add("b", "Finland and Sweden meet", "", "t:enlargement");
    add("c", "Exercise in Finland", "", "t:exercises");
    mg::SearchIndex index(snap);
    using V = std::vector<uint32_t>;
    CPPUNIT_ASSERT(index.find("en", {"sweden"}, "") == (V{0, 1}));
    CPPUNIT_ASSERT(index.find("en", {"swe", "finland"}, "") == (V{1}));
    CPPUNIT_ASSERT(index.find("en", {"finland"}, "t:exercises") == (V{2}));
    CPPUNIT_ASSERT(index.find("en", {}, "t:enlargement") == (V{0, 1}));
    CPPUNIT_ASSERT(index.find("en", {"nowhere"}, "") == V{});
    // French: the item's French text, English where it has none; accents folded.
    CPPUNIT_ASSERT(index.find("fr", {"suede"}, "") == (V{0}));
    CPPUNIT_ASSERT(index.find("fr", {"sweden"}, "") == (V{1}));
    CPPUNIT_ASSERT(index.find("de", {"sweden"}, "") == (V{0, 1}));  // no German: English
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MediaGatewayTest);
