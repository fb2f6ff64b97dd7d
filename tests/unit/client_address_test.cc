// Tests of include/natomedia/client_address.h: whom a per-client limit counts (IPv4 address,
// IPv6 /64, IPv4-mapped IPv6 as its IPv4 address).
#include <cppunit/extensions/HelperMacros.h>
#include <natomedia/client_address.h>

#include <string>

using natomedia::client_key;

class ClientAddressTest : public CppUnit::TestFixture {
  CPPUNIT_TEST_SUITE(ClientAddressTest);
  CPPUNIT_TEST(testIpv4IsItself);
  CPPUNIT_TEST(testIpv6CountsByItsSlash64);
  CPPUNIT_TEST(testIpv6OtherNetworksDiffer);
  CPPUNIT_TEST(testIpv4MappedIsTheIpv4Address);
  CPPUNIT_TEST(testNotAnAddress);
  CPPUNIT_TEST_SUITE_END();

 public:
  void testIpv4IsItself() {
    CPPUNIT_ASSERT_EQUAL(std::string("198.51.100.7"), client_key("198.51.100.7"));
    CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), client_key("127.0.0.1"));
    CPPUNIT_ASSERT(client_key("198.51.100.7") != client_key("198.51.100.8"));
  }

  void testIpv6CountsByItsSlash64() {
    const std::string net = "2001:db8:1:2::/64";
    CPPUNIT_ASSERT_EQUAL(net, client_key("2001:db8:1:2::1"));
    CPPUNIT_ASSERT_EQUAL(net, client_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"));
    CPPUNIT_ASSERT_EQUAL(net, client_key("2001:0DB8:0001:0002:ffff:ffff:ffff:ffff"));
    CPPUNIT_ASSERT_EQUAL(std::string("fe80::/64"), client_key("fe80::1:2:3:4%eth0"));
    CPPUNIT_ASSERT_EQUAL(std::string("::/64"), client_key("::1"));
  }

  void testIpv6OtherNetworksDiffer() {
    CPPUNIT_ASSERT(client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1"));
    CPPUNIT_ASSERT(client_key("2001:db8:1:2::1") != client_key("2001:db9:1:2::1"));
  }

  void testIpv4MappedIsTheIpv4Address() {
    CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.33"), client_key("::ffff:192.0.2.33"));
    CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.33"), client_key("::FFFF:c000:0221"));
    // Two mapped addresses of one /64 are still two IPv4 clients.
    CPPUNIT_ASSERT(client_key("::ffff:192.0.2.33") != client_key("::ffff:192.0.2.34"));
  }

  void testNotAnAddress() {
    CPPUNIT_ASSERT_EQUAL(std::string(""), client_key(""));
    CPPUNIT_ASSERT_EQUAL(std::string("unix:/run/x"), client_key("unix:/run/x"));
    CPPUNIT_ASSERT_EQUAL(std::string("1.2.3"), client_key("1.2.3"));
  }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ClientAddressTest);
