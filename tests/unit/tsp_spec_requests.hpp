// The create requests of tsp-protocol.md §3.5, byte for byte: what the broker's parser reads
// (test_tunnel_xml) and what tspc must write (test_tspc_request).
#pragma once

#include <string>

namespace tsp::test {

// §3.5 (a): the anonymous v6anyv4 request behind NAT, 217 bytes.
inline const std::string kSpecRequestA =
    "<tunnel action=\"create\" type=\"v6anyv4\" proxy=\"no\">\r\n"
    " <client>\r\n"
    "  <address type=\"ipv4\">192.168.1.10</address>\r\n"
    "  <keepalive interval=\"30\">\r\n"
    "    <address type=\"ipv6\">::</address>\r\n"
    "  </keepalive>\r\n"
    " </client>\r\n"
    "</tunnel>\r\n";

// §3.5 (b): the router asking for a /64 with two reverse-DNS servers.
inline const std::string kSpecRequestB =
    "<tunnel action=\"create\" type=\"v6v4\" proxy=\"no\">\r\n"
    " <client>\r\n"
    "  <address type=\"ipv4\">198.51.100.7</address>\r\n"
    "  <keepalive interval=\"30\">\r\n"
    "    <address type=\"ipv6\">::</address>\r\n"
    "  </keepalive>\r\n"
    "  <router>\r\n"
    "   <prefix length=\"64\"/>\r\n"
    "   <dns_server>\r\n"
    "     <address type=\"dn\">ns1.example.net</address>\r\n"
    "     <address type=\"dn\">ns2.example.net</address>\r\n"
    "   </dns_server>\r\n"
    "  </router>\r\n"
    " </client>\r\n"
    "</tunnel>\r\n";

}  // namespace tsp::test
