#include "tests/unit/control_test_support.hpp"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <variant>

#include "control/auth/base64.hpp"
#include "control/auth/digest_md5_client.hpp"
#include "control/auth/make_credentials.hpp"
#include "shared/rcu.hpp"

namespace tsp::test {

// ---- Values -------------------------------------------------------------------------------

Ipv4Addr v4(std::string_view text) {
  auto a = Ipv4Addr::parse(text);
  REQUIRE(a.has_value());
  return *a;
}

Ipv6Addr v6(std::string_view text) {
  auto a = Ipv6Addr::parse(text);
  REQUIRE(a.has_value());
  return *a;
}

Ipv6Prefix prefix(std::string_view text) {
  auto p = Ipv6Prefix::parse(text);
  REQUIRE(p.has_value());
  return *p;
}

Peer udp_peer(std::string_view addr, uint16_t port) { return Peer{true, v4(addr), port}; }
Peer tcp_peer(std::string_view addr, uint16_t port) { return Peer{false, v4(addr), port}; }

// ---- Configuration ------------------------------------------------------------------------

std::string ConfigText::render() const {
  std::string t;
  t += "ipv6 local pool P_Endpoints " + endpoints + " 128\n";
  if (!prefixes48.empty()) t += "ipv6 local pool P_Sites48 " + prefixes48 + " 48\n";
  if (!prefixes64.empty()) t += "ipv6 local pool P_Sites64 " + prefixes64 + " 64\n";
  t += "tsp TSP_Main\n";
  t += std::string("  ip address ") + kServerV4 + "\n";
  if (udp) t += "  transport udp 3653\n";
  if (tcp) t += "  transport tcp 3653\n";
  t += "  authentication " + auth + "\n";
  t += std::string("  realm ") + kRealm + "\n";
  t += "  keepalive interval " + std::to_string(keepalive_interval) + "\n";
  t += "  keepalive missed " + std::to_string(keepalive_missed) + "\n";
  t += "  lockout failures " + std::to_string(lockout_failures) + "\n";
  t += "  lockout user-failures " + std::to_string(lockout_user_failures) + "\n";
  t += "tunnel server TS_Main\n";
  t += std::string("  ip address ") + kServerV4 + "\n";
  // The server's own address defaults to block 1 of the endpoints pool: kServerV6 for the
  // 2001:db8:f001:1:: ranges the tests use.
  t += "  ipv6 pool endpoints P_Endpoints\n";
  if (!prefixes48.empty()) t += "  ipv6 pool prefix P_Sites48\n";
  if (!prefixes64.empty()) t += "  ipv6 pool prefix P_Sites64\n";
  t += std::string("  ipv6 dns-server ") + kDnsServer + "\n";
  t += "tunnel broker TB_Main\n";
  t += "  set tsp TSP_Main\n";
  t += "  set tunnel server TS_Main\n";
  for (const auto& b : redirect_brokers) t += "  redirect broker " + b + "\n";
  if (limit_tunnels) t += "limit tunnels " + std::to_string(*limit_tunnels) + "\n";
  if (limit_anonymous_per_address)
    t += "limit anonymous per-address " + std::to_string(*limit_anonymous_per_address) + "\n";
  return t;
}

config::Config parse_test_config(const ConfigText& text) {
  const auto rendered = text.render();
  INFO("config:\n" << rendered);
  try {
    return config::parse_config(rendered, "test.conf");
  } catch (const config::ConfigError& e) {
    FAIL("test config refused: " << e.what());
    throw;
  }
}

// ---- The broker ---------------------------------------------------------------------------

BrokerFixture::BrokerFixture(const ConfigText& text) : cfg_(parse_test_config(text)) {
  char templ[] = "/tmp/tsp-control-test-XXXXXX";
  REQUIRE(mkdtemp(templ) != nullptr);
  dir_ = templ;
  db_path_ = dir_ + "/broker.db";
  build();
}

BrokerFixture::~BrokerFixture() {
  env_.reset();
  service_.reset();
  table_.reset();
  store_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void BrokerFixture::build() {
  store_ = store::Store::open_sqlite(db_path_);
  table_ = std::make_unique<TunnelTable>(cfg_.max_tunnels);
  service_ = std::make_unique<TunnelService>(cfg_, *store_, *table_);
  lockout_ = std::make_unique<AuthLockout>(lockout_policy(cfg_.tsp()));
  env_ = std::make_unique<SessionEnv>(SessionEnv{cfg_, *store_, *service_, [this] { return now_; }});
  env_->lockout = lockout_.get();
}

void BrokerFixture::add_user(const std::string& name, const std::string& password, bool enabled) {
  store::UserRecord user;
  user.name = name;
  user.credentials = auth::make_credentials(name, cfg_.tsp().realm, password);
  user.enabled = enabled;
  user.created_at = now_;
  REQUIRE(store_->add_user(user));
}

size_t BrokerFixture::restart() {
  env_.reset();
  service_.reset();
  table_.reset();
  store_.reset();
  build();
  return service_->load_from_store(now_);
}

// ---- The dataplane's view -----------------------------------------------------------------

namespace {
template <typename Lookup>
std::optional<TunnelEntry> read_side(Lookup lookup) {
  RcuReaderThread reader;
  const TunnelEntry* e = lookup();
  return e ? std::optional<TunnelEntry>(*e) : std::nullopt;
}
}  // namespace

std::optional<TunnelEntry> encap_lookup(const TunnelTable& table, const Ipv6Addr& dst) {
  return read_side([&] { return table.find_encap(dst); });
}

std::optional<TunnelEntry> decap_proto41_lookup(const TunnelTable& table, Ipv4Addr outer_src) {
  return read_side([&] { return table.find_decap_proto41(outer_src); });
}

std::optional<TunnelEntry> decap_udp_lookup(const TunnelTable& table, Ipv4Addr outer_src, uint16_t port) {
  return read_side([&] { return table.find_decap_udp(outer_src, port); });
}

// ---- Wire text ----------------------------------------------------------------------------

std::string client_framed(std::string_view xml) {
  return "Content-length: " + std::to_string(xml.size()) + "\r\n" + std::string(xml);
}

std::string framed_reply(std::string_view status_line_text) {
  return "Content-length: " + std::to_string(status_line_text.size()) + "\r\n" + std::string(status_line_text);
}

FramedReply split_framed_reply(const std::string& payload) {
  INFO("reply: " << payload);
  constexpr std::string_view kHeader = "Content-length: ";  // gogoc wants exactly this spelling
  REQUIRE(payload.substr(0, kHeader.size()) == kHeader);
  const auto header_end = payload.find("\r\n");
  REQUIRE(header_end != std::string::npos);
  const std::string count = payload.substr(kHeader.size(), header_end - kHeader.size());
  REQUIRE(!count.empty());
  REQUIRE(count.find_first_not_of("0123456789") == std::string::npos);
  const std::string body = payload.substr(header_end + 2);
  REQUIRE(std::stoul(count) == body.size());
  const auto status_end = body.find("\r\n");
  REQUIRE(status_end != std::string::npos);
  return {body.substr(0, status_end + 2), body.substr(status_end + 2)};
}

xml::ParsedOffer parse_offer_reply(const std::string& payload) {
  const auto reply = split_framed_reply(payload);
  auto parsed = xml::parse_offer_xml(reply.xml);
  if (auto* err = std::get_if<std::string>(&parsed)) FAIL("offer XML refused: " << *err << "\n" << reply.xml);
  return std::get<xml::ParsedOffer>(parsed);
}

xml::RequestSpec host_request(std::string_view declared_v4, std::string_view type) {
  xml::RequestSpec spec;
  spec.type = std::string(type);
  spec.client_ipv4 = std::string(declared_v4);
  spec.keepalive_interval = 30;
  return spec;
}

xml::RequestSpec router_request(std::string_view declared_v4, unsigned length, std::string_view type) {
  auto spec = host_request(declared_v4, type);
  spec.router = true;
  spec.prefix_length = length;
  return spec;
}

// ---- A client -----------------------------------------------------------------------------

namespace {
// gogoc ends every AUTHENTICATE line with its C string NUL (§2.1); over TCP the stream
// splitter has already taken it off when the session sees the line.
std::string authenticate_line(const Peer& peer, std::string_view mechanism) {
  std::string line = "AUTHENTICATE " + std::string(mechanism) + "\r\n";
  if (peer.udp) line.push_back('\0');
  return line;
}
}  // namespace

TestClient::TestClient(BrokerFixture& fx, Peer peer)
    : fx_(fx), peer_(peer), session_(std::make_unique<TspSession>(fx.env(), peer)) {}

SessionOutput TestClient::send(std::string_view message) { return session_->on_message(message); }

std::string TestClient::exchange(std::string_view message) {
  const auto out = send(message);
  INFO("sent: " << message);
  REQUIRE(out.replies.size() == 1);
  CHECK_FALSE(out.close);
  return out.replies[0].payload;
}

void TestClient::hello(std::string_view version) {
  const auto reply = exchange("VERSION=" + std::string(version) + "\r\n");
  REQUIRE(reply.substr(0, 11) == "CAPABILITY ");
}

void TestClient::login_anonymous() {
  REQUIRE(exchange(authenticate_line(peer_, "ANONYMOUS")) == "200 Success\r\n");
}

void TestClient::login_plain(const std::string& user, const std::string& password) {
  const auto ack = send(authenticate_line(peer_, "PLAIN"));
  REQUIRE(ack.replies.size() == (peer_.udp ? 1u : 0u));
  std::string blob;
  blob += '\0';
  blob += user;
  blob += '\0';
  blob += password;
  blob += "\r\n";
  REQUIRE(exchange(blob) == "200 Success\r\n");
}

void TestClient::login_digest(const std::string& user, const std::string& password) {
  const auto challenge_line = exchange(authenticate_line(peer_, "DIGEST-MD5"));
  const auto challenge = auth::base64_decode(challenge_line);
  REQUIRE(challenge.has_value());
  const std::string host = "192.0.2.1:3653";
  const std::string cnonce = std::to_string(fx_.now());
  auto response = auth::digest_md5_client_response(*challenge, user, password, host, cnonce);
  REQUIRE(std::holds_alternative<std::string>(response));
  const auto out = send(auth::base64_encode(std::get<std::string>(response)) + "\r\n");
  REQUIRE(out.replies.size() == (peer_.udp ? 1u : 2u));
  const auto rspauth = auth::base64_decode(out.replies[0].payload);
  REQUIRE(rspauth.has_value());
  REQUIRE(auth::digest_md5_client_check_rspauth(*rspauth, *challenge, user, password, host, cnonce));
  if (peer_.udp) REQUIRE(exchange("") == "200 Success\r\n");  // the header-only "read" (§2.4 step 6)
  else REQUIRE(out.replies[1].payload == "200 Success\r\n");
}

std::string TestClient::create(const xml::RequestSpec& spec) {
  return exchange(client_framed(xml::write_request_xml(spec)));
}

xml::ParsedOffer TestClient::create_ok(const xml::RequestSpec& spec) {
  const auto reply = create(spec);
  INFO("reply: " << reply);
  REQUIRE(split_framed_reply(reply).status_line == "200 Success\r\n");
  return parse_offer_reply(reply);
}

void TestClient::accept() {
  const auto out = send(kAcceptMessage);
  if (peer_.udp) {
    REQUIRE(out.replies.size() == 1);
    REQUIRE(out.replies[0].payload.empty());
  } else {
    REQUIRE(out.replies.empty());
  }
  REQUIRE(session_->tunnel_established());
}

xml::ParsedOffer TestClient::anonymous_tunnel(const xml::RequestSpec& spec) {
  hello();
  login_anonymous();
  auto offer = create_ok(spec);
  accept();
  return offer;
}

xml::ParsedOffer TestClient::digest_tunnel(const std::string& user, const std::string& password,
                                           const xml::RequestSpec& spec) {
  hello();
  login_digest(user, password);
  auto offer = create_ok(spec);
  accept();
  return offer;
}

}  // namespace tsp::test
