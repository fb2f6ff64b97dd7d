#include <cppunit/extensions/HelperMacros.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "core/plugin_loader.h"

namespace natomedia::core {
namespace {

class PluginLoaderTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(PluginLoaderTest);
  CPPUNIT_TEST(testBareNamesResolveInTheDirectory);
  CPPUNIT_TEST(testUnknownNameListsWhatExists);
  CPPUNIT_TEST(testNotAPluginIsRefused);
  CPPUNIT_TEST(testBadNames);
  CPPUNIT_TEST(testUnmetRequirementsNameBothPlugins);
  CPPUNIT_TEST(testAbiMismatchesNameBothSides);
  CPPUNIT_TEST_SUITE_END();

  std::string dir_;

 public:
  void setUp() override {
    char tmpl[] = "/tmp/nm-plugins-XXXXXX";
    dir_ = mkdtemp(tmpl);
    for (const char* f : {"natomedia_alpha.so", "natomedia_beta.so", "other.so"})
      std::ofstream(dir_ + "/" + f) << "not an ELF file";
  }
  void tearDown() override {
    std::string cmd = "rm -rf '" + dir_ + "'";
    CPPUNIT_ASSERT_EQUAL(0, std::system(cmd.c_str()));
  }

  void testBareNamesResolveInTheDirectory() {
    CPPUNIT_ASSERT_EQUAL(dir_ + "/natomedia_alpha.so", plugin_path("alpha", dir_));
    CPPUNIT_ASSERT_EQUAL(std::string("/x/y.so"), plugin_path("/x/y.so", dir_));
    auto names = available_plugins(dir_);
    CPPUNIT_ASSERT_EQUAL(size_t(2), names.size());
    CPPUNIT_ASSERT_EQUAL(std::string("alpha"), names[0]);
    CPPUNIT_ASSERT_EQUAL(std::string("beta"), names[1]);
  }

  void testUnknownNameListsWhatExists() {
    auto r = load_plugin("gamma", dir_);
    CPPUNIT_ASSERT(!r.ok());
    CPPUNIT_ASSERT(r.status().message().find("plugins found there: alpha, beta") !=
                   std::string::npos);
    auto p = load_plugin(dir_ + "/missing.so", dir_);
    CPPUNIT_ASSERT(p.status().message().find("does not exist") != std::string::npos);
  }

  void testNotAPluginIsRefused() {
    auto r = load_plugin("alpha", dir_);
    CPPUNIT_ASSERT(!r.ok());
    CPPUNIT_ASSERT(r.status().message().find("cannot load plugin") != std::string::npos);
  }

  void testUnmetRequirementsNameBothPlugins() {
    const PluginNeeds auth{"authentication", "httpd.conf:12", {"verification"}};
    const PluginNeeds verification{"verification", "httpd.conf:13", {"authentication"}};
    const PluginNeeds news{"media_gateway", "httpd.conf:14", {}};
    // Both present, in either order: nothing unmet.
    CPPUNIT_ASSERT(unmet_requirements({auth, verification, news}).empty());
    CPPUNIT_ASSERT(unmet_requirements({verification, auth}).empty());
    CPPUNIT_ASSERT(unmet_requirements({news}).empty());
    auto unmet = unmet_requirements({auth, news});
    CPPUNIT_ASSERT_EQUAL(size_t{1}, unmet.size());
    CPPUNIT_ASSERT_EQUAL(std::string("NatoMediaPlugin authentication (httpd.conf:12): the plugin "
                                     "'authentication' needs the plugin 'verification', which is "
                                     "not loaded; add `NatoMediaPlugin verification`"),
                         unmet[0]);
    const PluginNeeds greedy{"greedy", "httpd.conf:20", {"a", "b"}};
    CPPUNIT_ASSERT_EQUAL(size_t{2}, unmet_requirements({greedy}).size());
  }

  void testAbiMismatchesNameBothSides() {
    natomedia_plugin_info good = {NATOMEDIA_ABI_VERSION, NATOMEDIA_CXX_STRING_ABI,
                                  NATOMEDIA_CXX_LIBRARY_RELEASE, "p", "1", nullptr};
    CPPUNIT_ASSERT(check_plugin_abi(good, "/p.so").ok());
    const std::string ours = "libstdc++ " + std::to_string(NATOMEDIA_CXX_LIBRARY_RELEASE) +
                             " with _GLIBCXX_USE_CXX11_ABI=" +
                             std::to_string(NATOMEDIA_CXX_STRING_ABI);

    natomedia_plugin_info old_sdk = good;
    old_sdk.abi_version = 3;
    std::string m = check_plugin_abi(old_sdk, "/p.so").message();
    CPPUNIT_ASSERT(m.find("plugin ABI version 3,") != std::string::npos);
    CPPUNIT_ASSERT(m.find("has ABI version " + std::to_string(NATOMEDIA_ABI_VERSION) + ";") !=
                   std::string::npos);

    natomedia_plugin_info old_strings = good;
    old_strings.cxx_string_abi = 1 - NATOMEDIA_CXX_STRING_ABI;
    m = check_plugin_abi(old_strings, "/p.so").message();
    CPPUNIT_ASSERT(m.find("_GLIBCXX_USE_CXX11_ABI=" +
                          std::to_string(1 - NATOMEDIA_CXX_STRING_ABI) + ", but") !=
                   std::string::npos);
    CPPUNIT_ASSERT(m.find("built for " + ours) != std::string::npos);
    CPPUNIT_ASSERT(m.find("/p.so") != std::string::npos);

    natomedia_plugin_info other_gcc = good;
    other_gcc.cxx_library_release = NATOMEDIA_CXX_LIBRARY_RELEASE + 1;
    m = check_plugin_abi(other_gcc, "/p.so").message();
    CPPUNIT_ASSERT(m.find("libstdc++ " + std::to_string(NATOMEDIA_CXX_LIBRARY_RELEASE + 1)) !=
                   std::string::npos);
    CPPUNIT_ASSERT(m.find("built for " + ours) != std::string::npos);
  }

  void testBadNames() {
    CPPUNIT_ASSERT(!load_plugin("Alpha", dir_).ok());
    CPPUNIT_ASSERT(!load_plugin("", dir_).ok());
    CPPUNIT_ASSERT(!load_plugin("a..b", dir_).ok());
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(PluginLoaderTest);

}  // namespace
}  // namespace natomedia::core
