// SecretKeys::load: the checks on NatoMediaSecretFile and the one-key-a-line rotation format.
#include <cppunit/TestFixture.h>
#include <cppunit/extensions/HelperMacros.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <natomedia/text.h>

#include "core/crypto_service.h"
#include "core/secret_keys.h"

using natomedia::Status;
using natomedia::core::SecretKeys;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string key_id(const std::string& material) {
  return natomedia::text::hex_encode(natomedia::core::sha256(material)).substr(0, 8);
}

}  // namespace

class SecretKeysTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(SecretKeysTest);
  CPPUNIT_TEST(testMissingFile);
  CPPUNIT_TEST(testShortFile);
  CPPUNIT_TEST(testEmptyFile);
  CPPUNIT_TEST(testDirectory);
  CPPUNIT_TEST(testOneTextLine);
  CPPUNIT_TEST(testRotationLines);
  CPPUNIT_TEST(testShortLineMakesOneKey);
  CPPUNIT_TEST(testBinaryFile);
  CPPUNIT_TEST(testOpenModesAreRefused);
  CPPUNIT_TEST(testPrivateModesAreAccepted);
  CPPUNIT_TEST_SUITE_END();

 public:
  void setUp() override {
    char tmpl[] = "/tmp/nm-secret-XXXXXX";
    CPPUNIT_ASSERT(mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
  }

  void tearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    CPPUNIT_ASSERT_EQUAL(0, std::system(cmd.c_str()));
  }

  void testMissingFile() {
    std::string path = dir_ + "/absent";
    auto keys = SecretKeys::load(path);
    CPPUNIT_ASSERT(!keys.ok());
    CPPUNIT_ASSERT(keys.status().code() == Status::Code::kInvalid);
    CPPUNIT_ASSERT(contains(keys.status().message(), path));
    CPPUNIT_ASSERT(contains(keys.status().message(),
                            "head -c 48 /dev/urandom | base64 > " + path));
  }

  void testShortFile() {
    std::string path = write("short", "0123456789ab", 0600);
    auto keys = SecretKeys::load(path);
    CPPUNIT_ASSERT(!keys.ok());
    CPPUNIT_ASSERT(keys.status().code() == Status::Code::kInvalid);
    const std::string& m = keys.status().message();
    CPPUNIT_ASSERT_MESSAGE(m, contains(m, path));
    CPPUNIT_ASSERT_MESSAGE(m, contains(m, "is 12 bytes"));
    CPPUNIT_ASSERT_MESSAGE(m, contains(m, "at least 32 bytes of random data"));
    CPPUNIT_ASSERT_MESSAGE(m, contains(m, "head -c 48 /dev/urandom | base64"));
  }

  void testEmptyFile() {
    std::string path = write("empty", "", 0600);
    auto keys = SecretKeys::load(path);
    CPPUNIT_ASSERT(!keys.ok());
    CPPUNIT_ASSERT_MESSAGE(keys.status().message(),
                           contains(keys.status().message(), "is 0 bytes"));
  }

  void testDirectory() {
    auto keys = SecretKeys::load(dir_);
    CPPUNIT_ASSERT(!keys.ok());
    CPPUNIT_ASSERT(contains(keys.status().message(), "not a regular file"));
  }

  void testOneTextLine() {
    std::string line = "correct-horse-battery-staple-0123456789";  // 39 printable characters
    auto keys = SecretKeys::load(write("one", line + "\n", 0600));
    CPPUNIT_ASSERT_MESSAGE(keys.status().message(), keys.ok());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, keys->keys.size());
    CPPUNIT_ASSERT_EQUAL(line, keys->keys[0].material);  // the line end is not key material
    CPPUNIT_ASSERT_EQUAL(key_id(line), keys->keys[0].id);
    CPPUNIT_ASSERT_EQUAL(size_t{8}, keys->keys[0].id.size());
    CPPUNIT_ASSERT(keys->warning.empty());
  }

  void testRotationLines() {
    std::string current(40, 'c');
    std::string old1(32, 'o');
    std::string old2 = "an older key of exactly forty characters";
    // CRLF line ends and blank lines are tolerated.
    std::string content = current + "\r\n\n" + old1 + "\n" + old2;
    auto keys = SecretKeys::load(write("rotation", content, 0600));
    CPPUNIT_ASSERT_MESSAGE(keys.status().message(), keys.ok());
    CPPUNIT_ASSERT_EQUAL(size_t{3}, keys->keys.size());
    CPPUNIT_ASSERT_EQUAL(current, keys->keys[0].material);
    CPPUNIT_ASSERT_EQUAL(old1, keys->keys[1].material);
    CPPUNIT_ASSERT_EQUAL(old2, keys->keys[2].material);
    CPPUNIT_ASSERT_EQUAL(key_id(old1), keys->keys[1].id);
    CPPUNIT_ASSERT(keys->keys[0].id != keys->keys[1].id);
  }

  void testShortLineMakesOneKey() {
    std::string content = std::string(40, 'k') + "\nshort line\n";
    auto keys = SecretKeys::load(write("mixed", content, 0600));
    CPPUNIT_ASSERT_MESSAGE(keys.status().message(), keys.ok());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, keys->keys.size());
    CPPUNIT_ASSERT_EQUAL(content, keys->keys[0].material);
    CPPUNIT_ASSERT(contains(keys->warning, "whole file is used as one key"));
  }

  void testBinaryFile() {
    std::string content;
    for (int i = 0; i < 64; ++i) content += static_cast<char>((i * 37 + 11) & 0xff);
    content[5] = '\n';
    content[9] = '\0';
    auto keys = SecretKeys::load(write("binary", content, 0600));
    CPPUNIT_ASSERT_MESSAGE(keys.status().message(), keys.ok());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, keys->keys.size());
    CPPUNIT_ASSERT_EQUAL(size_t{64}, keys->keys[0].material.size());
    CPPUNIT_ASSERT(content == keys->keys[0].material);
    CPPUNIT_ASSERT_EQUAL(key_id(content), keys->keys[0].id);
    CPPUNIT_ASSERT(keys->warning.empty());
  }

  void testOpenModesAreRefused() {
    const struct {
      mode_t mode;
      const char* octal;
      const char* why;
      const char* fix;
    } cases[] = {
        {0644, "0644", "may be read by every user", "chmod 640"},
        {0604, "0604", "may be read by every user", "chmod 600"},
        {0620, "0620", "may be written by users other than its owner", "chmod 600"},
        {0660, "0660", "may be written by users other than its owner", "chmod 640"},
        {0602, "0602", "may be written by users other than its owner", "chmod 600"},
        {0666, "0666", "may be read by every user and may be written", "chmod 640"},
    };
    for (const auto& c : cases) {
      std::string path = write(std::string("open-") + c.octal, std::string(48, 'x'), c.mode);
      auto keys = SecretKeys::load(path);
      CPPUNIT_ASSERT_MESSAGE(c.octal, !keys.ok());
      CPPUNIT_ASSERT(keys.status().code() == Status::Code::kInvalid);
      const std::string& m = keys.status().message();
      CPPUNIT_ASSERT_MESSAGE(m, contains(m, "secret file '" + path + "'"));
      CPPUNIT_ASSERT_MESSAGE(m, contains(m, c.why));
      CPPUNIT_ASSERT_MESSAGE(m, contains(m, std::string("(mode ") + c.octal + ")"));
      CPPUNIT_ASSERT_MESSAGE(m, contains(m, std::string("`") + c.fix + " " + path + "`"));
    }
  }

  void testPrivateModesAreAccepted() {
    for (mode_t mode : {0600, 0640, 0400, 0440}) {
      auto keys = SecretKeys::load(write("private", std::string(48, 'x'), mode));
      CPPUNIT_ASSERT_MESSAGE(keys.status().message(), keys.ok());
      CPPUNIT_ASSERT(keys->warning.empty());
    }
  }

 private:
  std::string write(const std::string& name, const std::string& content, mode_t mode) {
    std::string path = dir_ + "/" + name;
    {
      std::ofstream out(path, std::ios::binary);
      out << content;
    }
    CPPUNIT_ASSERT_EQUAL(0, chmod(path.c_str(), mode));
    return path;
  }

  std::string dir_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(SecretKeysTest);
