#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/metrics_registry.h"

namespace natomedia::core {
namespace {

class MetricsTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(MetricsTest);
  CPPUNIT_TEST(testCountersAndGauges);
  CPPUNIT_TEST(testAttachMovesToSharedBlock);
  CPPUNIT_TEST(testConcurrentAdds);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testCountersAndGauges() {
    MetricsRegistry m;
    m.declare("natomedia_a_total", "A things");
    m.declare("natomedia_g", "A gauge", true);
    m.add("natomedia_a_total");
    m.add("natomedia_a_total", 4);
    m.add("natomedia_undeclared_total");  // ignored
    m.set("natomedia_g", 7);
    CPPUNIT_ASSERT_EQUAL(uint64_t(5), m.value("natomedia_a_total"));
    std::string text = m.render_prometheus();
    CPPUNIT_ASSERT(text.find("# HELP natomedia_a_total A things\n") != std::string::npos);
    CPPUNIT_ASSERT(text.find("# TYPE natomedia_a_total counter\nnatomedia_a_total 5\n") !=
                   std::string::npos);
    CPPUNIT_ASSERT(text.find("# TYPE natomedia_g gauge\nnatomedia_g 7\n") != std::string::npos);
    CPPUNIT_ASSERT(text.find("undeclared") == std::string::npos);
  }

  void testAttachMovesToSharedBlock() {
    MetricsRegistry m;
    m.declare("natomedia_a_total", "A");
    m.declare("natomedia_b_total", "B");
    std::vector<std::atomic<uint64_t>> block(m.bytes_needed() / sizeof(std::atomic<uint64_t>));
    m.attach(block.data());
    m.add("natomedia_b_total", 3);
    CPPUNIT_ASSERT_EQUAL(uint64_t(3), block[1].load());
    // Another process's increments (here: a write to the block) are what everyone reads.
    block[0].store(11);
    CPPUNIT_ASSERT_EQUAL(uint64_t(11), m.value("natomedia_a_total"));
  }

  void testConcurrentAdds() {
    MetricsRegistry m;
    m.declare("natomedia_c_total", "C");
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 10000; ++i) m.add("natomedia_c_total");
      });
    for (auto& t : threads) t.join();
    CPPUNIT_ASSERT_EQUAL(uint64_t(80000), m.value("natomedia_c_total"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(MetricsTest);

}  // namespace
}  // namespace natomedia::core
