#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <variant>

#include "control/auth/base64.hpp"
#include "control/auth/crypto.hpp"
#include "control/auth/digest_md5_client.hpp"
#include "control/auth/digest_md5_hash.hpp"
#include "control/auth/digest_md5_server.hpp"
#include "control/auth/make_credentials.hpp"

using namespace tsp::auth;

namespace {

// A gogoc-shaped exchange: gogoc puts the decimal Unix time in cnonce and "tsp/" + its
// server= setting in digest-uri. Expected hashes computed independently (Python hashlib).
constexpr const char* kRealm = "broker.example";
constexpr const char* kNonce = "3f2a9c0d4b5e6f708192a3b4c5d6e7f8";
constexpr const char* kUser = "alice";
constexpr const char* kPassword = "s3cret";
constexpr const char* kHost = "127.0.0.1:3653";
constexpr const char* kCnonce = "1700000000";
constexpr const char* kGogocResponse =
    "charset=utf-8,username=\"alice\",realm=\"broker.example\","
    "nonce=\"3f2a9c0d4b5e6f708192a3b4c5d6e7f8\",nc=00000001,cnonce=\"1700000000\","
    "digest-uri=\"tsp/127.0.0.1:3653\",response=48215f82f1c342db8f7b7cc9f7cbec89,qop=auth";
constexpr const char* kGogocRspauth = "rspauth=935f4f4a639f62e8d0e2e07c77b3ec10";

std::array<uint8_t, 16> urp(std::string_view user, std::string_view realm,
                            std::string_view password) {
  return crypto::md5(std::string(user) + ":" + std::string(realm) + ":" + std::string(password));
}

DigestResponse parse_ok(const DigestMd5Server& server, std::string_view text) {
  auto result = server.parse_response(text);
  if (auto* err = std::get_if<std::string>(&result)) FAIL("unexpected refusal: " << *err);
  return std::get<DigestResponse>(result);
}

std::string refusal(const DigestMd5Server& server, std::string_view text) {
  auto result = server.parse_response(text);
  return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : "";
}

std::string client_ok(std::string_view challenge, std::string_view user, std::string_view password,
                      std::string_view host = kHost, std::string_view cnonce = kCnonce) {
  auto result = digest_md5_client_response(challenge, user, password, host, cnonce);
  if (auto* err = std::get_if<DigestClientError>(&result)) FAIL("client error: " << err->reason);
  return std::get<std::string>(result);
}

// The gogoc response with one directive replaced (or removed when value is empty).
std::string gogoc_response_with(std::string_view name, std::string_view replacement) {
  std::string text = kGogocResponse;
  const auto start = text.find(std::string(name) + "=");
  REQUIRE(start != std::string::npos);
  auto end = text.find(',', start);
  if (end == std::string::npos) end = text.size();
  if (replacement.empty()) {
    text.erase(start, end - start + (end < text.size() ? 1 : 0));
    if (text.ends_with(',')) text.pop_back();
  } else {
    text.replace(start, end - start, replacement);
  }
  return text;
}

}  // namespace

TEST_CASE("DIGEST-MD5 hash core reproduces the RFC 2831 section 4 example", "[auth][digest]") {
  const auto creds = make_credentials("chris", "elwood.innosoft.com", "secret");
  const detail::DigestMd5Inputs in{"OA6MG9tEQGm2hh", "OA6MHXh6VqTrRk",           "00000001",
                                   "auth",           "imap/elwood.innosoft.com", ""};
  CHECK(detail::digest_md5_response_hex(creds.digest_md5_urp, in) ==
        "d388dad90d4bbd760a152321f2143af7");
  CHECK(detail::digest_md5_rspauth_hex(creds.digest_md5_urp, in) ==
        "ea40f60335c427b5527b84dbabcdfffd");
}

TEST_CASE("DIGEST-MD5 hash core appends authzid to A1", "[auth][digest]") {
  const detail::DigestMd5Inputs in{"OA6MG9tEQGm2hh", "OA6MHXh6VqTrRk",           "00000001",
                                   "auth",           "imap/elwood.innosoft.com", "admin"};
  const auto u = urp("chris", "elwood.innosoft.com", "secret");
  CHECK(detail::digest_md5_response_hex(u, in) == "23e90c577367d8f917efa6ba0cb7eebc");
  CHECK(detail::digest_md5_rspauth_hex(u, in) == "9a3915030cc8922097cd627a25ee2b9e");
}

TEST_CASE("DIGEST-MD5 server refuses the RFC example's imap digest-uri", "[auth][digest]") {
  const DigestMd5Server server("elwood.innosoft.com", "OA6MG9tEQGm2hh");
  const auto reason =
      refusal(server,
              "charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\","
              "nonce=\"OA6MG9tEQGm2hh\",nc=00000001,cnonce=\"OA6MHXh6VqTrRk\","
              "digest-uri=\"imap/elwood.innosoft.com\",response=d388dad90d4bbd760a152321f2143af7,"
              "qop=auth");
  CHECK(reason.find("tsp/") != std::string::npos);
}

TEST_CASE("DIGEST-MD5 challenge is exactly what gogoc expects", "[auth][digest]") {
  const DigestMd5Server server(kRealm, kNonce);
  CHECK(server.challenge() ==
        "realm=\"broker.example\",nonce=\"3f2a9c0d4b5e6f708192a3b4c5d6e7f8\",qop=auth,"
        "algorithm=md5-sess,charset=utf-8");
  // Starts with "cmVh", never with digits that gogoc's atoi() could take for a status.
  CHECK(base64_encode(server.challenge()) ==
        "cmVhbG09ImJyb2tlci5leGFtcGxlIixub25jZT0iM2YyYTljMGQ0YjVlNmY3MDgxOTJhM2I0YzVkNmU3Zj"
        "giLHFvcD1hdXRoLGFsZ29yaXRobT1tZDUtc2VzcyxjaGFyc2V0PXV0Zi04");
}

TEST_CASE("DIGEST-MD5 full gogoc-shaped exchange", "[auth][digest]") {
  DigestMd5Server server(kRealm, kNonce);
  const auto creds = make_credentials(kUser, kRealm, kPassword);

  // Over the wire both ways, as base64 lines ending in CRLF.
  const auto challenge = base64_decode(base64_encode(server.challenge()) + "\r\n");
  REQUIRE(challenge);
  const auto response_text = client_ok(*challenge, kUser, kPassword);
  CHECK(response_text == kGogocResponse);
  const auto decoded = base64_decode(base64_encode(response_text) + "\r\n");
  REQUIRE(decoded);

  const auto response = parse_ok(server, *decoded);
  CHECK(response.username == kUser);
  CHECK(response.realm == kRealm);
  CHECK(response.digest_uri == "tsp/127.0.0.1:3653");
  CHECK(response.charset == "utf-8");
  CHECK(response.authzid.empty());
  CHECK_FALSE(server.spent());

  const auto rspauth = server.verify(response, creds);
  REQUIRE(rspauth);
  CHECK(*rspauth == kGogocRspauth);
  CHECK(server.spent());

  CHECK(digest_md5_client_check_rspauth(*rspauth, *challenge, kUser, kPassword, kHost, kCnonce));
  CHECK_FALSE(
      digest_md5_client_check_rspauth(*rspauth, *challenge, kUser, "wrong", kHost, kCnonce));
  CHECK_FALSE(digest_md5_client_check_rspauth("rspauth=00000000000000000000000000000000",
                                              *challenge, kUser, kPassword, kHost, kCnonce));
}

TEST_CASE("DIGEST-MD5 nonce is single use", "[auth][digest]") {
  DigestMd5Server server(kRealm, kNonce);
  const auto u = urp(kUser, kRealm, kPassword);
  const auto response = parse_ok(server, kGogocResponse);
  CHECK(server.verify(response, u));
  CHECK_FALSE(server.verify(response, u));  // replay of a good response

  DigestMd5Server failed_first(kRealm, kNonce);
  CHECK_FALSE(failed_first.verify(response, urp(kUser, kRealm, "guess")));
  CHECK(failed_first.spent());
  CHECK_FALSE(failed_first.verify(response, u));  // no second guess on the same nonce
}

TEST_CASE("DIGEST-MD5 wrong password fails", "[auth][digest]") {
  DigestMd5Server server(kRealm, kNonce);
  const auto text = client_ok(server.challenge(), kUser, "not-the-password");
  const auto response = parse_ok(server, text);
  CHECK_FALSE(server.verify(response, make_credentials(kUser, kRealm, kPassword)));
}

TEST_CASE("DIGEST-MD5 credentials of another realm fail", "[auth][digest]") {
  DigestMd5Server server(kRealm, kNonce);
  const auto response = parse_ok(server, kGogocResponse);
  auto creds = make_credentials(kUser, kRealm, kPassword);
  creds.realm = "other.example";
  CHECK_FALSE(server.verify(response, creds));
  CHECK(server.spent());
}

TEST_CASE("DIGEST-MD5 wrong nonce, realm or nc is refused", "[auth][digest]") {
  const DigestMd5Server server(kRealm, kNonce);
  CHECK(refusal(server, gogoc_response_with("nonce", "nonce=\"00112233445566778899aabbccddeeff\""))
            .find("nonce") != std::string::npos);
  CHECK(refusal(server, gogoc_response_with("realm", "realm=\"evil.example\"")).find("realm") !=
        std::string::npos);
  CHECK(refusal(server, gogoc_response_with("nc", "nc=00000002")).find("nc") != std::string::npos);
  CHECK_FALSE(refusal(server, gogoc_response_with("nc", "nc=1")).empty());

  // verify() re-checks, so a hand-built response cannot skip parse_response().
  const auto u = urp(kUser, kRealm, kPassword);
  auto forged = parse_ok(server, kGogocResponse);
  forged.nonce = "00112233445566778899aabbccddeeff";
  DigestMd5Server fresh(kRealm, kNonce);
  CHECK_FALSE(fresh.verify(forged, u));
}

TEST_CASE("DIGEST-MD5 response checks", "[auth][digest]") {
  const DigestMd5Server server(kRealm, kNonce);
  CHECK_FALSE(refusal(server, gogoc_response_with("username", "")).empty());
  CHECK_FALSE(refusal(server, gogoc_response_with("username", "username=\"\"")).empty());
  CHECK_FALSE(refusal(server, gogoc_response_with("cnonce", "")).empty());
  CHECK_FALSE(refusal(server, gogoc_response_with("nonce", "")).empty());
  CHECK_FALSE(refusal(server, gogoc_response_with("nc", "")).empty());
  CHECK_FALSE(refusal(server, gogoc_response_with("digest-uri", "")).empty());
  CHECK_FALSE(refusal(server, gogoc_response_with("response", "")).empty());
  CHECK_FALSE(refusal(server, gogoc_response_with("qop", "qop=auth-int")).empty());
  CHECK_FALSE(refusal(server, gogoc_response_with("qop", "qop=auth-conf")).empty());
  CHECK_FALSE(refusal(server, gogoc_response_with("digest-uri", "digest-uri=\"imap/x\"")).empty());
  CHECK_FALSE(refusal(server, gogoc_response_with("digest-uri", "digest-uri=\"TSP/x\"")).empty());
  CHECK_FALSE(refusal(server, gogoc_response_with("response", "response=48215f82")).empty());
  CHECK_FALSE(
      refusal(server, gogoc_response_with("response", "response=g8215f82f1c342db8f7b7cc9f7cbec89"))
          .empty());
  CHECK_FALSE(refusal(server, std::string(kGogocResponse) + ",authzid=\"\"").empty());
  CHECK_FALSE(refusal(server, "").empty());
  CHECK_FALSE(refusal(server, "garbage").empty());
}

TEST_CASE("DIGEST-MD5 refuses any repeated directive", "[auth][digest]") {
  const DigestMd5Server server(kRealm, kNonce);
  CHECK(refusal(server, std::string(kGogocResponse) + ",nc=00000001").find("twice") !=
        std::string::npos);
  CHECK_FALSE(refusal(server, std::string(kGogocResponse) + ",USERNAME=\"bob\"").empty());
  CHECK_FALSE(refusal(server, std::string(kGogocResponse) + ",maxbuf=1,maxbuf=2").empty());
}

TEST_CASE("DIGEST-MD5 response syntax is read liberally where RFC 2831 allows", "[auth][digest]") {
  DigestMd5Server server(kRealm, kNonce);
  // Upper-case keys and hex, spaces, quoted nc, no realm, no qop, unknown directives.
  const auto response =
      parse_ok(server,
               "USERNAME = \"alice\" , Nonce=\"3f2a9c0d4b5e6f708192a3b4c5d6e7f8\", nc=\"00000001\","
               " cnonce=\"1700000000\", maxbuf=65536, Digest-URI=\"tsp/127.0.0.1:3653\","
               " RESPONSE=48215F82F1C342DB8F7B7CC9F7CBEC89, future-extension=\"x,y\"");
  CHECK(response.realm == kRealm);
  CHECK(response.qop == "auth");
  CHECK(response.response == "48215f82f1c342db8f7b7cc9f7cbec89");
  CHECK(response.charset.empty());
  CHECK(server.verify(response, urp(kUser, kRealm, kPassword)) == kGogocRspauth);
}

TEST_CASE("DIGEST-MD5 any tsp/ digest-uri host is accepted", "[auth][digest]") {
  for (const char* host : {"hexos", "broker.example", "[2001:db8::1]:3653", "127.0.0.1"}) {
    DigestMd5Server server(kRealm, kNonce);
    const auto text = client_ok(server.challenge(), kUser, kPassword, host);
    const auto response = parse_ok(server, text);
    CHECK(response.digest_uri == std::string("tsp/") + host);
    CHECK(server.verify(response, urp(kUser, kRealm, kPassword)));
  }
}

TEST_CASE("DIGEST-MD5 escaped user names", "[auth][digest]") {
  const std::string user = "we\"ird\\na,me";
  DigestMd5Server server(kRealm, kNonce);
  const auto text = client_ok(server.challenge(), user, kPassword);
  CHECK(text.find(R"(username="we\"ird\\na,me")") != std::string::npos);
  const auto response = parse_ok(server, text);
  CHECK(response.username == user);
  const auto rspauth = server.verify(response, make_credentials(user, kRealm, kPassword));
  REQUIRE(rspauth);
  CHECK(digest_md5_client_check_rspauth(*rspauth, server.challenge(), user, kPassword, kHost,
                                        kCnonce));
}

TEST_CASE("DIGEST-MD5 authzid takes part in the hash", "[auth][digest]") {
  const auto u = urp(kUser, kRealm, kPassword);
  const detail::DigestMd5Inputs in{kNonce, kCnonce, "00000001", "auth", "tsp/h", "admin"};
  const auto text = std::string("username=\"alice\",nonce=\"") + kNonce +
                    "\",nc=00000001,cnonce=\"" + kCnonce +
                    "\",digest-uri=\"tsp/h\",authzid=\"admin\",response=" +
                    detail::digest_md5_response_hex(u, in);
  DigestMd5Server server(kRealm, kNonce);
  const auto response = parse_ok(server, text);
  CHECK(response.authzid == "admin");
  CHECK(server.verify(response, u) == "rspauth=" + detail::digest_md5_rspauth_hex(u, in));

  DigestMd5Server stripped(kRealm, kNonce);
  auto without = parse_ok(stripped, text);
  without.authzid.clear();
  CHECK_FALSE(stripped.verify(without, u));
}

TEST_CASE("DIGEST-MD5 server refuses a realm or nonce gogoc cannot parse", "[auth][digest]") {
  CHECK_THROWS_AS(DigestMd5Server("", kNonce), std::invalid_argument);
  CHECK_THROWS_AS(DigestMd5Server(kRealm, ""), std::invalid_argument);
  CHECK_THROWS_AS(DigestMd5Server("a,b", kNonce), std::invalid_argument);
  CHECK_THROWS_AS(DigestMd5Server("a\"b", kNonce), std::invalid_argument);
  CHECK_THROWS_AS(DigestMd5Server(kRealm, "n\\x"), std::invalid_argument);
  CHECK_THROWS_AS(DigestMd5Server(kRealm, "n\r\n"), std::invalid_argument);
  CHECK_NOTHROW(DigestMd5Server("tsp broker", kNonce));
}

TEST_CASE("DIGEST-MD5 client against the RFC 2831 challenge", "[auth][digest]") {
  // RFC 2831 section 4's challenge (quoted qop list); our client always says tsp/<host>.
  const char* challenge =
      "realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\",qop=\"auth\","
      "algorithm=md5-sess,charset=utf-8";
  CHECK(client_ok(challenge, "chris", "secret", "elwood.innosoft.com", "OA6MHXh6VqTrRk") ==
        "charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\","
        "nonce=\"OA6MG9tEQGm2hh\",nc=00000001,cnonce=\"OA6MHXh6VqTrRk\","
        "digest-uri=\"tsp/elwood.innosoft.com\",response=5bb3fe2a48e64e54cda63bfe841614b2,"
        "qop=auth");
  CHECK(digest_md5_client_check_rspauth("rspauth=5ae013c6c47349b3d6789feb4618f291", challenge,
                                        "chris", "secret", "elwood.innosoft.com",
                                        "OA6MHXh6VqTrRk"));
}

TEST_CASE("DIGEST-MD5 client accepts what RFC 2831 servers may send", "[auth][digest]") {
  // A qop list, several realms (first wins), no charset (left out of the response).
  const auto text =
      client_ok("nonce=\"abc\",realm=\"first\",realm=\"second\",qop=\"auth,auth-int\",stale=false",
                "u", "p", "h", "c");
  CHECK(text.starts_with("username=\"u\",realm=\"first\",nonce=\"abc\",nc=00000001,"));
  CHECK(text.ends_with(",qop=auth"));
  // [TSPS]-style charset spelling is echoed as is.
  CHECK(client_ok("realm=\"cdpatsps\",nonce=\"0000BEEF\",qop=auth,algorithm=md5-sess,"
                  "charset=utf8",
                  "u", "p")
            .starts_with("charset=utf8,username="));
}

TEST_CASE("DIGEST-MD5 client reports bad challenges and arguments", "[auth][digest]") {
  const DigestMd5Server server(kRealm, kNonce);
  const auto good = server.challenge();
  auto fails = [](std::string_view challenge, std::string_view user = kUser,
                  std::string_view host = kHost, std::string_view cnonce = kCnonce) {
    auto r = digest_md5_client_response(challenge, user, kPassword, host, cnonce);
    return std::holds_alternative<DigestClientError>(r) &&
           !std::get<DigestClientError>(r).reason.empty();
  };
  CHECK(fails("nonce=\"x\",qop=auth"));                     // no realm
  CHECK(fails("realm=\"r\",qop=auth"));                     // no nonce
  CHECK(fails("realm=\"r\",nonce=\"\""));                   // empty nonce
  CHECK(fails("realm=\"r\",nonce=\"x\",qop=auth-int"));     // auth not offered
  CHECK(fails("realm=\"r\",nonce=\"x\",algorithm=md5"));    // not md5-sess
  CHECK(fails("realm=\"r\",nonce=\"x\",nonce=\"y\""));      // repeated nonce
  CHECK(fails("realm=\"r\",nonce=\"x\",charset=\"a,b\""));  // charset not a token
  CHECK(fails("realm=\"r\",nonce=\"x"));                    // unterminated quote
  CHECK(fails("200 Success"));
  CHECK(fails(""));
  CHECK(fails(good, ""));
  CHECK(fails(good, kUser, ""));
  CHECK(fails(good, kUser, kHost, ""));
  CHECK_FALSE(fails(good));
}

TEST_CASE("DIGEST-MD5 client refuses malformed rspauth lines", "[auth][digest]") {
  DigestMd5Server server(kRealm, kNonce);
  const auto good = server.challenge();
  auto ok = [&](std::string_view rspauth) {
    return digest_md5_client_check_rspauth(rspauth, good, kUser, kPassword, kHost, kCnonce);
  };
  CHECK(ok(kGogocRspauth));
  CHECK(ok("RSPAUTH=935F4F4A639F62E8D0E2E07C77B3EC10"));
  CHECK_FALSE(ok(""));
  CHECK_FALSE(ok("300 Authentication failed"));
  CHECK_FALSE(ok("rspauth="));
  CHECK_FALSE(ok("rspauth=935f4f4a639f62e8d0e2e07c77b3ec1"));
  CHECK_FALSE(ok(std::string(kGogocRspauth) + "," + kGogocRspauth));
  CHECK_FALSE(ok("response=935f4f4a639f62e8d0e2e07c77b3ec10"));
  CHECK_FALSE(
      digest_md5_client_check_rspauth(kGogocRspauth, "garbage", kUser, kPassword, kHost, kCnonce));
}
