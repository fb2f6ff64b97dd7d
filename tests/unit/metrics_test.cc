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
  CPPUNIT_TEST(testBlockOutlivesRegistryFoundByName);
  CPPUNIT_TEST(testRequestSeriesAndHistogram);
  CPPUNIT_TEST(testLabelValuesEscaped);
  CPPUNIT_TEST(testConcurrentObservations);
  CPPUNIT_TEST(testSeriesTableFull);
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
    m.add("natomedia_a_total", 2);  // private memory: not carried into the block
    std::vector<uint64_t> block(MetricsRegistry::bytes_needed() / sizeof(uint64_t) + 1, 0);
    m.attach(block.data());
    CPPUNIT_ASSERT_EQUAL(uint64_t(0), m.value("natomedia_a_total"));
    m.add("natomedia_b_total", 3);
    // Another registry on the same block (another process) reads and writes the same slots.
    MetricsRegistry other;
    other.declare("natomedia_b_total", "B");
    other.declare("natomedia_a_total", "A");
    other.attach(block.data());
    CPPUNIT_ASSERT_EQUAL(uint64_t(3), other.value("natomedia_b_total"));
    other.add("natomedia_a_total", 11);
    CPPUNIT_ASSERT_EQUAL(uint64_t(11), m.value("natomedia_a_total"));
  }

  // A graceful restart: a new configuration (other plugins, other order) on the kept block.
  void testBlockOutlivesRegistryFoundByName() {
    std::vector<uint64_t> block(MetricsRegistry::bytes_needed() / sizeof(uint64_t) + 1, 0);
    {
      MetricsRegistry first;
      first.declare("natomedia_a_total", "A");
      first.declare("natomedia_b_total", "B");
      first.attach(block.data());
      first.add("natomedia_a_total", 5);
      first.add("natomedia_b_total", 7);
      first.observe_request("/news/{id}", 200, 0.003);
      first.observe_request("/news/{id}", 200, 0.003);
    }
    MetricsRegistry second;
    second.declare("natomedia_new_total", "New");
    second.declare("natomedia_b_total", "B");
    second.declare("natomedia_a_total", "A");
    second.attach(block.data());
    CPPUNIT_ASSERT_EQUAL(uint64_t(5), second.value("natomedia_a_total"));
    CPPUNIT_ASSERT_EQUAL(uint64_t(7), second.value("natomedia_b_total"));
    CPPUNIT_ASSERT_EQUAL(uint64_t(0), second.value("natomedia_new_total"));
    CPPUNIT_ASSERT_EQUAL(uint64_t(2), second.requests("/news/{id}", 200));
    second.observe_request("/news/{id}", 200, 0.003);
    CPPUNIT_ASSERT_EQUAL(uint64_t(3), second.requests("/news/{id}", 200));
  }

  void testRequestSeriesAndHistogram() {
    MetricsRegistry m;
    m.observe_request("/news/{id}", 200, 0.004);   // le 0.005
    m.observe_request("/news/{id}", 200, 0.2);     // le 0.25
    m.observe_request("/news/{id}", 200, 30.0);    // only +Inf
    m.observe_request("/news/{id}", 404, 0.001);
    m.observe_request("unmatched", 404, 0.001);
    CPPUNIT_ASSERT_EQUAL(uint64_t(3), m.requests("/news/{id}", 200));
    CPPUNIT_ASSERT_EQUAL(uint64_t(1), m.requests("/news/{id}", 404));
    CPPUNIT_ASSERT_EQUAL(uint64_t(0), m.requests("/news/{id}", 500));
    const std::string text = m.render_prometheus();
    auto has = [&text](const std::string& line) {
      return text.find("\n" + line + "\n") != std::string::npos;
    };
    CPPUNIT_ASSERT(has("# TYPE natomedia_http_requests_total counter"));
    CPPUNIT_ASSERT(has("natomedia_http_requests_total{route=\"/news/{id}\",code=\"200\"} 3"));
    CPPUNIT_ASSERT(has("natomedia_http_requests_total{route=\"unmatched\",code=\"404\"} 1"));
    CPPUNIT_ASSERT(has("# TYPE natomedia_http_request_duration_seconds histogram"));
    const std::string l = "{route=\"/news/{id}\",code=\"200\"";
    CPPUNIT_ASSERT(has("natomedia_http_request_duration_seconds_bucket" + l + ",le=\"0.005\"} 1"));
    CPPUNIT_ASSERT(has("natomedia_http_request_duration_seconds_bucket" + l + ",le=\"0.1\"} 1"));
    CPPUNIT_ASSERT(has("natomedia_http_request_duration_seconds_bucket" + l + ",le=\"0.25\"} 2"));
    CPPUNIT_ASSERT(has("natomedia_http_request_duration_seconds_bucket" + l + ",le=\"10\"} 2"));
    CPPUNIT_ASSERT(has("natomedia_http_request_duration_seconds_bucket" + l + ",le=\"+Inf\"} 3"));
    CPPUNIT_ASSERT(has("natomedia_http_request_duration_seconds_sum" + l + "} 30.204000"));
    CPPUNIT_ASSERT(has("natomedia_http_request_duration_seconds_count" + l + "} 3"));
  }

  void testLabelValuesEscaped() {
    MetricsRegistry m;
    m.observe_request("/a\"b\\c\nd", 200, 0.0);
    const std::string text = m.render_prometheus();
    CPPUNIT_ASSERT(text.find("route=\"/a\\\"b\\\\c\\nd\"") != std::string::npos);
  }

  void testConcurrentObservations() {
    MetricsRegistry m;
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&m, t] {
        for (int i = 0; i < 5000; ++i) m.observe_request("/r" + std::to_string(i % 4), 200 + t % 2, 0.01);
      });
    for (auto& t : threads) t.join();
    uint64_t total = 0;
    for (int r = 0; r < 4; ++r)
      for (int code = 200; code <= 201; ++code) total += m.requests("/r" + std::to_string(r), code);
    CPPUNIT_ASSERT_EQUAL(uint64_t(40000), total);
    CPPUNIT_ASSERT_EQUAL(uint64_t(5000), m.requests("/r0", 200));
  }

  void testSeriesTableFull() {
    MetricsRegistry m;
    for (size_t i = 0; i < MetricsRegistry::kSeriesCapacity + 3; ++i)
      m.observe_request("/r" + std::to_string(i), 200, 0.0);
    CPPUNIT_ASSERT(m.render_prometheus().find("natomedia_metrics_series_dropped_total 3\n") !=
                   std::string::npos);
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
