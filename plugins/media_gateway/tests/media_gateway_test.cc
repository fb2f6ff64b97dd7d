// Unit tests of the media gateway's pure logic: path containment, Content-Disposition, dates,
// ETag matching and signed download links.
#include <cppunit/extensions/HelperMacros.h>

#include "support/fakes.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <algorithm>

#include <natomedia/text.h>

#include "conditional.h"
#include "content_disposition.h"
#include "formatting.h"
#include "media_paths.h"
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
  CPPUNIT_TEST(cleans_download_names);
  CPPUNIT_TEST(builds_rfc6266_dispositions);
  CPPUNIT_TEST(writes_and_reads_http_dates);
  CPPUNIT_TEST(matches_etags_weakly);
  CPPUNIT_TEST(honours_conditional_headers);
  CPPUNIT_TEST(formats_sizes_and_durations);
  CPPUNIT_TEST(signed_links_round_trip);
  CPPUNIT_TEST(signed_links_die_with_the_credential_epoch);
  CPPUNIT_TEST(signed_links_refuse_tampering_and_expiry);
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

 private:
  std::string dir_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(MediaGatewayTest);
