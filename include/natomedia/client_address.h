// Who a per-client limit counts: one IPv4 address, or one IPv6 /64 (CONTRACT section 12). An
// IPv6 host usually gets a whole /64 and can change address inside it at will, so counting single
// IPv6 addresses would let it escape every per-client limit. Header-only, so the core's tests and
// every plugin use this one implementation. Pure and thread-safe.
#pragma once

#include <arpa/inet.h>

#include <cstring>
#include <string>

namespace natomedia {

// The key of the client at `ip` (Request::client_ip, httpd's r->useragent_ip) for per-client
// counters: an IPv4 address as dotted quad; an IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a
// dual-stack listener reports IPv4 clients) as that IPv4 address; any other IPv6 address as its
// /64 network, e.g. "2001:db8:1:2::/64" (a zone such as "%eth0" is dropped). Text that is no
// address comes back unchanged, so it still counts as one client of its own.
inline std::string client_key(const std::string& ip) {
  const std::string host = ip.substr(0, ip.find('%'));
  char out[INET6_ADDRSTRLEN];
  unsigned char v4[4];
  if (inet_pton(AF_INET, host.c_str(), v4) == 1)
    return inet_ntop(AF_INET, v4, out, sizeof out) ? std::string(out) : ip;
  unsigned char v6[16];
  if (inet_pton(AF_INET6, host.c_str(), v6) != 1) return ip;
  static const unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(v6, kMappedPrefix, sizeof kMappedPrefix) == 0)
    return inet_ntop(AF_INET, v6 + 12, out, sizeof out) ? std::string(out) : ip;
  std::memset(v6 + 8, 0, 8);
  return inet_ntop(AF_INET6, v6, out, sizeof out) ? std::string(out) + "/64" : ip;
}

}  // namespace natomedia
