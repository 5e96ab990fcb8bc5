// Test support for the control plane without sockets: a broker built from config text on a
// throw-away SQLite file, a clock the test moves by hand, and a client that drives one
// TspSession message by message the way gogoc does (tsp-protocol.md §1-§3).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/broker_config.hpp"
#include "control/store/store.hpp"
#include "control/tsp_session.hpp"
#include "control/tunnel_service.hpp"
#include "control/xml/tunnel_xml.hpp"
#include "shared/net_types.hpp"
#include "shared/tunnel_table.hpp"

namespace tsp::test {

// ---- Values -------------------------------------------------------------------------------

Ipv4Addr v4(std::string_view text);
Ipv6Addr v6(std::string_view text);
Ipv6Prefix prefix(std::string_view text);

Peer udp_peer(std::string_view addr, uint16_t port = 40001);
Peer tcp_peer(std::string_view addr, uint16_t port = 50001);

// The broker every test starts from (documentation addresses, see render()).
inline constexpr const char* kServerV4 = "192.0.2.1";
inline constexpr const char* kServerV6 = "2001:db8:f001:1::1";
inline constexpr const char* kDnsServer = "2001:db8::53";
inline constexpr const char* kRealm = "broker.example.net";
inline constexpr int64_t kStartTime = 1'700'000'000;

// ---- Configuration ------------------------------------------------------------------------

// The text of a complete broker config, with knobs for what the tests vary.
struct ConfigText {
  std::string endpoints = "2001:db8:f001:1::/64";  // the /128 pool
  std::string prefixes48 = "2001:db8:f100::/40";   // empty: no /48 pool
  std::string prefixes64 = "2001:db8:f200::/48";   // empty: no /64 pool
  std::string auth = "digest-md5 plain anonymous";
  bool udp = true;
  bool tcp = true;
  unsigned keepalive_interval = 30;
  unsigned keepalive_missed = 3;
  unsigned lockout_failures = 5;  // window and duration keep their defaults (60 s, 300 s)
  unsigned lockout_user_failures = 20;  // the user window keeps its default (3600 s)
  std::optional<uint32_t> limit_tunnels;
  std::optional<uint32_t> limit_anonymous_per_address;  // unset: the default (256)
  std::vector<std::string> redirect_brokers;
  std::string render() const;
};

config::Config parse_test_config(const ConfigText& text);

// ---- The broker ---------------------------------------------------------------------------

// Config, store, table, service and the SessionEnv the sessions see, with a hand-moved clock.
// Not movable: the SessionEnv's clock and references point into it.
class BrokerFixture {
 public:
  explicit BrokerFixture(const ConfigText& text = {});
  ~BrokerFixture();
  BrokerFixture(const BrokerFixture&) = delete;
  BrokerFixture& operator=(const BrokerFixture&) = delete;

  const config::Config& config() const { return cfg_; }
  store::Store& store() { return *store_; }
  TunnelTable& table() { return *table_; }
  TunnelService& service() { return *service_; }
  SessionEnv& env() { return *env_; }
  AuthLockout& lockout() { return *lockout_; }
  const std::string& db_path() const { return db_path_; }

  int64_t now() const { return now_; }
  void advance(int64_t seconds) { now_ += seconds; }

  // A registered user whose credentials are made for this broker's realm.
  void add_user(const std::string& name, const std::string& password, bool enabled = true);

  // What a daemon restart does: drops service, table and store, opens the same database
  // file again and reloads. Returns load_from_store()'s count. No session may outlive this.
  size_t restart();

 private:
  void build();

  std::string dir_;
  std::string db_path_;
  config::Config cfg_;
  int64_t now_ = kStartTime;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<TunnelTable> table_;
  std::unique_ptr<TunnelService> service_;
  std::unique_ptr<AuthLockout> lockout_;
  std::unique_ptr<SessionEnv> env_;
};

// ---- The dataplane's view -----------------------------------------------------------------
// Lookups as a DPDK worker makes them: the test thread is an RCU reader for the call only,
// and the entry is copied out before it goes offline.

std::optional<TunnelEntry> encap_lookup(const TunnelTable& table, const Ipv6Addr& dst);
std::optional<TunnelEntry> decap_proto41_lookup(const TunnelTable& table, Ipv4Addr outer_src);
std::optional<TunnelEntry> decap_udp_lookup(const TunnelTable& table, Ipv4Addr outer_src, uint16_t port);

// ---- Wire text ----------------------------------------------------------------------------

// Client to server: "Content-length: N\r\n" + xml, N = the XML's size (§3.1).
std::string client_framed(std::string_view xml);
// Exactly what gogoc sends to accept an offer (§3.4).
inline constexpr std::string_view kAcceptMessage = "Content-length: 35\r\n<tunnel action=\"accept\"></tunnel>\r\n";
inline constexpr std::string_view kRejectMessage = "Content-length: 35\r\n<tunnel action=\"reject\"></tunnel>\r\n";

// Server to client: the framed reply for a status line alone, N counting that line.
std::string framed_reply(std::string_view status_line_text);

// A framed server reply, checked and cut: Content-length must count everything after the
// first line (§3.1). `xml` is what follows the status line.
struct FramedReply {
  std::string status_line;  // with its CRLF
  std::string xml;
};
FramedReply split_framed_reply(const std::string& payload);
// The same, and the XML parsed as an offer (or redirect) the way our client reads it.
xml::ParsedOffer parse_offer_reply(const std::string& payload);

// gogoc's create request (§3.2) for a host, or a router asking for a prefix of `length`.
xml::RequestSpec host_request(std::string_view declared_v4, std::string_view type = "v6anyv4");
xml::RequestSpec router_request(std::string_view declared_v4, unsigned length, std::string_view type = "v6anyv4");

// ---- A client -----------------------------------------------------------------------------

// One TSP session seen from the client side. Helpers REQUIRE every step to succeed.
class TestClient {
 public:
  TestClient(BrokerFixture& fx, Peer peer);

  SessionOutput send(std::string_view message);
  // Sends and REQUIREs exactly one reply; returns its payload.
  std::string exchange(std::string_view message);

  void hello(std::string_view version = "2.0.2");  // VERSION=..., expects CAPABILITY
  void login_anonymous();
  void login_plain(const std::string& user, const std::string& password);
  void login_digest(const std::string& user, const std::string& password);
  // Sends the create request; returns the one reply's payload.
  std::string create(const xml::RequestSpec& spec);
  // create() that REQUIREs a 200 offer and returns it parsed.
  xml::ParsedOffer create_ok(const xml::RequestSpec& spec);
  // Sends the accept and REQUIREs the transport's answer: one empty reply (UDP), none (TCP).
  void accept();
  // hello + anonymous login + create_ok + accept.
  xml::ParsedOffer anonymous_tunnel(const xml::RequestSpec& spec);
  xml::ParsedOffer digest_tunnel(const std::string& user, const std::string& password,
                                 const xml::RequestSpec& spec);

  TspSession& session() { return *session_; }
  const Peer& peer() const { return peer_; }
  // Closes the session (the server drops it, e.g. on a TCP close).
  void disconnect() { session_.reset(); }

 private:
  BrokerFixture& fx_;
  Peer peer_;
  std::unique_ptr<TspSession> session_;
};

}  // namespace tsp::test
