#include "control/tsp_session.hpp"

#include <spdlog/spdlog.h>

#include <cctype>

#include "control/auth/base64.hpp"
#include "control/auth/crypto.hpp"
#include "control/auth/digest_md5_server.hpp"
#include "control/auth/make_credentials.hpp"
#include "control/auth/nonce.hpp"
#include "control/auth/sasl_plain.hpp"
#include "control/auth/scram_server.hpp"
#include "control/framing.hpp"
#include "control/log_text.hpp"

namespace tsp {

namespace {
using config::AuthMechanism;

bool starts_with_icase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(text[i])) != std::toupper(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// "2.0.x" or "1.0.x" with x a number: the versions legacy clients speak (§1.6).
int supported_major(std::string_view v) {
  auto digits_only = [](std::string_view s) {
    if (s.empty() || s.size() > 3) return false;
    for (char c : s)
      if (c < '0' || c > '9') return false;
    return true;
  };
  if (v.size() < 5 || !digits_only(v.substr(4)) || v[1] != '.' || v[3] != '.' || v[2] != '0') return 0;
  if (v[0] == '2') return 2;
  if (v[0] == '1') return 1;
  return 0;
}

std::string_view wire_name(AuthMechanism m) {
  switch (m) {
    case AuthMechanism::DigestMd5: return "DIGEST-MD5";
    case AuthMechanism::Plain: return "PLAIN";
    case AuthMechanism::Anonymous: return "ANONYMOUS";
    case AuthMechanism::ScramSha256: return "SCRAM-SHA-256";
  }
  return "";
}

constexpr std::chrono::milliseconds kTcpFinalStatusGap{100};

// The key of SCRAM's fake salts for unknown users when the environment brings none: random per
// process, so the salt a name gets cannot be told from a real one, yet stays the same for the
// same name while the process lives.
std::span<const uint8_t> process_scram_fake_salt_secret() {
  static const std::vector<uint8_t> secret = auth::crypto::random_bytes(32);
  return secret;
}

// What an unknown or disabled user's PLAIN password is checked against: the same PBKDF2 work
// as a real user's, so the time to the answer does not tell which names exist. No password
// matches it (its own is random and forgotten).
const StoredCredentials& plain_decoy_credentials() {
  static const StoredCredentials decoy = [] {
    const auto secret = auth::crypto::random_bytes(32);
    return auth::make_credentials("", "", auth::base64_encode(std::string_view(
                                              reinterpret_cast<const char*>(secret.data()), secret.size())));
  }();
  return decoy;
}

// The counters are optional (tests and tools run sessions without them).
void count_refusal(const SessionEnv& env, Status s) {
  if (env.counters) env.counters->refused(s);
}
void count_result(const SessionEnv& env, metrics::SessionResult r) {
  if (env.counters) env.counters->session(r);
}
void count_auth(const SessionEnv& env, AuthMechanism m, bool success) {
  if (env.counters) env.counters->authentication(m, success ? metrics::AuthResult::success : metrics::AuthResult::failure);
}
}  // namespace

TspSession::TspSession(SessionEnv& env, Peer peer) : env_(env), cfg_(env.tunnels.config()), peer_(peer) {}

TspSession::~TspSession() { reset(); }

void TspSession::reset() {
  if (pending_) env_.tunnels.abandon(*pending_, env_.now());
  pending_.reset();
  digest_.reset();
  scram_.reset();
  plain_user_.clear();
  plain_user_known_ = false;
  identity_ = {};
  tunnel_.reset();
  state_ = State::ExpectVersion;
}

bool TspSession::tunnel_established() const {
  return state_ == State::Established && tunnel_ && env_.tunnels.is_live(*tunnel_);
}

void TspSession::forget_gone_tunnel() {
  if (state_ != State::Established || tunnel_established()) return;
  // Deleted, expired, kicked or replaced: nothing holds the session open for it any more,
  // and the client may ask for a tunnel again.
  tunnel_.reset();
  state_ = State::Authenticated;
}

std::string_view TspSession::state_name() const {
  switch (state_) {
    case State::ExpectVersion: return "expect-version";
    case State::ExpectAuth: return "expect-auth";
    case State::PlainCredentials: return "plain-credentials";
    case State::PlainChecking: return "plain-checking";
    case State::DigestResponse: return "digest-response";
    case State::ScramResponse: return "scram-response";
    case State::DigestFinal: return "digest-final";
    case State::Authenticated: return "authenticated";
    case State::Offered: return "offered";
    case State::Established: return "established";
  }
  return "?";
}

SessionOutput TspSession::say(std::string payload, bool close) {
  SessionOutput out;
  out.replies.push_back({std::move(payload), {}});
  out.close = close;
  return out;
}

SessionOutput TspSession::say_framed(Status s) { return say(frame_content(status_line(s))); }

SessionOutput TspSession::ack() const { return peer_.udp ? say(std::string()) : SessionOutput{}; }

std::string TspSession::capability_line() const {
  std::string line = "CAPABILITY TUNNEL=V6V4";
  if (cfg_->tsp().udp_port) line += " TUNNEL=V6UDPV4";
  for (auto m : cfg_->tsp().auth) {
    line += " AUTH=";
    line += wire_name(m);
  }
  return line + "\r\n";
}

SessionOutput TspSession::on_message(std::string_view msg) {
  const auto line = strip_line_end(msg);
  // Broker-distance probes (§6) and version restarts are valid in every state.
  if (line == "ECHO REQUEST") return say(status_line(Status::Success));
  if (line.substr(0, 8) == "VERSION=") return on_version(line);
  forget_gone_tunnel();

  switch (state_) {
    case State::ExpectVersion:
      // A message with a NUL may be SASL PLAIN credentials sent out of turn: never echo it.
      spdlog::debug("{}: expected VERSION, got '{}'", peer_.addr.to_string(),
                    line.find('\0') == std::string_view::npos ? printable(line) : "<credentials?, not shown>");
      count_refusal(env_, Status::InvalidRequest);
      return say(status_line(Status::InvalidRequest), true);
    case State::ExpectAuth:
      return on_authenticate(line);
    case State::PlainCredentials:
      return on_plain(msg);
    case State::PlainChecking:
      return nothing();  // the verdict answers (the servers hold TCP's next messages back)
    case State::DigestResponse:
      return on_digest_response(line);
    case State::ScramResponse:
      return on_scram_response(line);
    case State::DigestFinal:
      state_ = State::Authenticated;
      return say(status_line(Status::Success));
    case State::Authenticated:
    case State::Offered:
      return on_framed(msg);
    case State::Established:
      // The client writes whatever it receives into its tunnel interface: stay silent (§5.3).
      if (line.empty()) return nothing();
      return on_framed(msg);
  }
  return nothing();
}

SessionOutput TspSession::on_version(std::string_view line) {
  reset();
  cfg_ = env_.tunnels.config();  // a new negotiation follows the configuration in force now
  const auto version = line.substr(8);
  major_version_ = supported_major(version);
  if (major_version_ == 0) {
    spdlog::info("{}: refused TSP version '{}'", peer_.addr.to_string(), printable(version));
    count_refusal(env_, Status::UnsupportedVersion);
    return say(status_line(Status::UnsupportedVersion));
  }
  state_ = State::ExpectAuth;
  return say(capability_line());
}

SessionOutput TspSession::on_authenticate(std::string_view line) {
  if (!starts_with_icase(line, "AUTHENTICATE ")) return say(status_line(Status::InvalidRequest));
  // "AUTHENTICATE <mechanism>[ <initial response>]": only SCRAM-SHA-256 takes one (README).
  const auto rest = line.substr(13);
  const auto space = rest.find(' ');
  const auto mech = upper(rest.substr(0, space));
  const auto initial = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  if (space != std::string_view::npos && mech != "SCRAM-SHA-256") {
    spdlog::info("{}: AUTHENTICATE {} with an initial response", peer_.addr.to_string(), printable(mech));
    count_refusal(env_, Status::AuthenticationFailed);
    return say(status_line(Status::AuthenticationFailed));
  }
  const auto& offered = cfg_->tsp().auth;
  auto is_offered = [&](AuthMechanism m) { return std::find(offered.begin(), offered.end(), m) != offered.end(); };

  if (mech == "ANONYMOUS" && is_offered(AuthMechanism::Anonymous)) {
    count_auth(env_, AuthMechanism::Anonymous, true);
    authenticated({}, "ANONYMOUS");
    return say(status_line(Status::Success));
  }
  if (mech == "PLAIN" && is_offered(AuthMechanism::Plain)) {
    if (auto locked = refuse_if_locked(AuthMechanism::Plain)) return std::move(*locked);
    state_ = State::PlainCredentials;
    return ack();  // UDP: header-only; TCP: silence (§2.3)
  }
  if (mech == "DIGEST-MD5" && is_offered(AuthMechanism::DigestMd5)) {
    if (auto locked = refuse_if_locked(AuthMechanism::DigestMd5)) return std::move(*locked);
    digest_ = std::make_unique<auth::DigestMd5Server>(cfg_->tsp().realm, auth::make_nonce());
    state_ = State::DigestResponse;
    return say(auth::base64_encode(digest_->challenge()) + "\r\n");
  }
  if (mech == "SCRAM-SHA-256" && is_offered(AuthMechanism::ScramSha256)) {
    if (auto locked = refuse_if_locked(AuthMechanism::ScramSha256)) return std::move(*locked);
    return on_scram_start(initial);
  }
  spdlog::info("{}: mechanism '{}' not offered", peer_.addr.to_string(), printable(mech));
  count_refusal(env_, Status::AuthenticationFailed);
  return say(status_line(Status::AuthenticationFailed));
}

void TspSession::authenticated(std::string user, std::string_view mechanism) {
  spdlog::info("{}:{}: authenticated {} as {}", peer_.addr.to_string(), peer_.port, mechanism,
               user.empty() ? std::string("anonymous") : "'" + printable(user) + "'");
  identity_.user = std::move(user);
  state_ = State::Authenticated;
}

std::optional<SessionOutput> TspSession::refuse_if_locked(AuthMechanism mechanism) {
  if (env_.lockout == nullptr) return std::nullopt;
  const int64_t left = env_.lockout->locked_for(peer_.addr, env_.now());
  if (left == 0) return std::nullopt;
  spdlog::info("{}: {} refused unchecked: the address is locked out for {} more s after failed logins",
               peer_.addr.to_string(), wire_name(mechanism), left);
  if (env_.counters) env_.counters->authentication(mechanism, metrics::AuthResult::locked_out);
  count_refusal(env_, Status::AuthenticationFailed);
  return say(status_line(Status::AuthenticationFailed), true);
}

std::optional<SessionOutput> TspSession::refuse_if_user_locked(AuthMechanism mechanism, std::string_view user) {
  if (env_.lockout == nullptr || user.empty()) return std::nullopt;
  const int64_t left = env_.lockout->user_locked_for(user, peer_.addr, env_.now());
  if (left == 0) return std::nullopt;
  spdlog::info("{}: {} login as '{}' refused unchecked: the user is locked out for {} more s after failed logins",
               peer_.addr.to_string(), wire_name(mechanism), printable(user), left);
  if (env_.counters) env_.counters->authentication(mechanism, metrics::AuthResult::locked_out);
  count_refusal(env_, Status::AuthenticationFailed);
  state_ = State::ExpectAuth;
  return say(status_line(Status::AuthenticationFailed));
}

SessionOutput TspSession::password_failed(AuthMechanism mechanism, std::string_view why, std::string_view user) {
  spdlog::info("{}: {} authentication failed for '{}': {}", peer_.addr.to_string(), wire_name(mechanism),
               printable(user), why);
  count_auth(env_, mechanism, false);
  count_refusal(env_, Status::AuthenticationFailed);
  state_ = State::ExpectAuth;
  if (env_.lockout && !user.empty() && env_.lockout->user_failed(user, env_.now())) {
    const auto policy = env_.lockout->policy();
    spdlog::warn("user '{}' locked out for {} s: {} failed logins within {} s, the last from {}", printable(user),
                 policy.duration, policy.user_failures, policy.user_window, peer_.addr.to_string());
  }
  if (env_.lockout && env_.lockout->failed(peer_.addr, env_.now())) {
    const auto policy = env_.lockout->policy();
    spdlog::warn("{}: locked out for {} s: {} failed logins within {} s", peer_.addr.to_string(), policy.duration,
                 policy.failures, policy.window);
    return say(status_line(Status::AuthenticationFailed), true);
  }
  return say(status_line(Status::AuthenticationFailed));
}

void TspSession::password_succeeded(AuthMechanism mechanism, std::string_view user) {
  count_auth(env_, mechanism, true);
  if (env_.lockout == nullptr) return;
  env_.lockout->succeeded(peer_.addr);
  env_.lockout->user_succeeded(user, peer_.addr, env_.now());
}

SessionOutput TspSession::on_plain(std::string_view msg) {
  auto refuse = [&](std::string_view why, std::string_view user) {
    return password_failed(AuthMechanism::Plain, why, user);
  };
  const auto plain = auth::parse_sasl_plain(msg);
  if (!plain) return refuse("malformed PLAIN message", "");
  if (!plain->authzid.empty() && plain->authzid != plain->authcid)
    return refuse("authorization identity differs", plain->authcid);
  if (auto locked = refuse_if_user_locked(AuthMechanism::Plain, plain->authcid)) return std::move(*locked);
  const auto user = env_.store.find_user(plain->authcid);
  plain_user_ = plain->authcid;
  plain_user_known_ = user && user->enabled;
  PasswordCheck check{++plain_ticket_, plain_user_known_ ? user->credentials : plain_decoy_credentials(),
                      plain->password};
  // A customer reconnecting from where it proved the password before is checked first.
  check.trusted = plain_user_known_ && env_.lockout && env_.lockout->trusted_source(plain->authcid, peer_.addr);
  state_ = State::PlainChecking;
  if (env_.password_checker == nullptr) {
    const bool right = auth::verify_password(check.credentials, check.password);
    return on_password_checked(check.ticket, right ? PasswordVerdict::Right : PasswordVerdict::Wrong);
  }
  SessionOutput out;
  out.password_check = std::move(check);
  return out;
}

SessionOutput TspSession::on_password_checked(uint64_t ticket, PasswordVerdict verdict) {
  if (state_ != State::PlainChecking || ticket != plain_ticket_) return nothing();
  const std::string user = std::move(plain_user_);
  plain_user_.clear();
  if (verdict == PasswordVerdict::Unchecked) {
    // The broker's fault, not the client's: no failure toward its lockout.
    spdlog::warn("{}: PLAIN login of '{}' refused unchecked: the password checker is full", peer_.addr.to_string(),
                 printable(user));
    if (env_.counters) env_.counters->authentication(AuthMechanism::Plain, metrics::AuthResult::busy);
    count_refusal(env_, Status::AuthenticationFailed);
    state_ = State::ExpectAuth;
    return say(status_line(Status::AuthenticationFailed));
  }
  if (!plain_user_known_) return password_failed(AuthMechanism::Plain, "no such user", user);
  if (verdict != PasswordVerdict::Right) return password_failed(AuthMechanism::Plain, "wrong password", user);
  password_succeeded(AuthMechanism::Plain, user);
  authenticated(user, "PLAIN");
  return say(status_line(Status::Success));
}

SessionOutput TspSession::on_digest_response(std::string_view line) {
  // The challenge's nonce is spent by this one answer, right or wrong.
  auto digest = std::move(digest_);
  auto refuse = [&](std::string_view why, std::string_view user) {
    return password_failed(AuthMechanism::DigestMd5, why, user);
  };
  const auto decoded = auth::base64_decode(line);
  if (!decoded) return refuse("response is not base64", "");
  auto parsed = digest->parse_response(*decoded);
  if (auto* err = std::get_if<std::string>(&parsed)) return refuse(*err, "");
  const auto& response = std::get<auth::DigestResponse>(parsed);
  if (auto locked = refuse_if_user_locked(AuthMechanism::DigestMd5, response.username)) return std::move(*locked);
  const auto user = env_.store.find_user(response.username);
  if (!user || !user->enabled) return refuse("no such user", response.username);
  if (user->credentials.realm != cfg_->tsp().realm)
    return refuse("user was registered under realm '" + user->credentials.realm + "'", response.username);
  const auto rspauth = digest->verify(response, user->credentials.digest_md5_urp);
  if (!rspauth) return refuse("wrong response (password)", response.username);

  return proven(response.username, AuthMechanism::DigestMd5, auth::base64_encode(*rspauth) + "\r\n",
                kTcpFinalStatusGap);
}

SessionOutput TspSession::proven(std::string user, AuthMechanism mechanism, std::string proof_line,
                                 std::chrono::milliseconds tcp_gap) {
  password_succeeded(mechanism, user);
  SessionOutput out = say(std::move(proof_line));
  if (peer_.udp) {
    state_ = State::DigestFinal;  // the client's next, header-only datagram reads the status
    spdlog::info("{}:{}: authenticated {} as '{}'", peer_.addr.to_string(), peer_.port, wire_name(mechanism),
                 printable(user));
    identity_.user = std::move(user);
  } else {
    // Over TCP the client only reads: push the status ourselves (gogoc's DIGEST-MD5 needs it
    // in a segment of its own).
    authenticated(std::move(user), wire_name(mechanism));
    out.replies.push_back({status_line(Status::Success), tcp_gap});
  }
  return out;
}

// SCRAM-SHA-256 (RFC 5802/7677) over TSP, our addition (README): the client-first message
// rides on the AUTHENTICATE line, the server-first comes back as a base64 line, the
// client-final goes as one, then the server-final and the status as for DIGEST-MD5.
SessionOutput TspSession::on_scram_start(std::string_view initial_response) {
  auto refuse = [&](std::string_view why, std::string_view user) {
    return password_failed(AuthMechanism::ScramSha256, why, user);
  };
  if (initial_response.empty()) return refuse("no client-first message on the AUTHENTICATE line", "");
  const auto decoded = auth::base64_decode(initial_response);
  if (!decoded) return refuse("client-first message is not base64", "");
  auto parsed = auth::parse_scram_client_first(*decoded);
  if (auto* err = std::get_if<auth::ScramFailure>(&parsed)) return refuse(err->reason, "");
  auto& first = std::get<auth::ScramClientFirst>(parsed);
  if (auto locked = refuse_if_user_locked(AuthMechanism::ScramSha256, first.user)) return std::move(*locked);

  const auto user = env_.store.find_user(first.user);
  const bool usable = user && user->enabled && !user->credentials.scram_salt.empty() &&
                      user->credentials.scram_iterations > 0 &&
                      user->credentials.scram_iterations <= auth::kMaxScramIterations;
  // An unknown name gets a salt and count that look like a real user's (RFC 5802 §5.1); the
  // final step then fails on the name, or on the proof if the user appeared meanwhile.
  const std::span<const uint8_t> fake_salt_secret = env_.scram_fake_salt_secret.empty()
                                                        ? process_scram_fake_salt_secret()
                                                        : std::span<const uint8_t>(env_.scram_fake_salt_secret);
  auto salt = usable ? user->credentials.scram_salt : auth::scram_fake_salt(fake_salt_secret, first.user);
  const uint32_t iterations = usable ? user->credentials.scram_iterations : auth::kScramIterations;
  scram_ = std::make_unique<auth::ScramSha256Server>(std::move(first), std::move(salt), iterations, auth::make_nonce());
  state_ = State::ScramResponse;
  return say(auth::base64_encode(scram_->server_first()) + "\r\n");
}

SessionOutput TspSession::on_scram_response(std::string_view line) {
  auto scram = std::move(scram_);  // one answer per server-first message, right or wrong
  auto refuse = [&](std::string_view why) {
    return password_failed(AuthMechanism::ScramSha256, why, scram->user());
  };
  // Locked since its client-first (sessions opened in parallel before the lock): refused too.
  if (auto locked = refuse_if_user_locked(AuthMechanism::ScramSha256, scram->user())) return std::move(*locked);
  const auto decoded = auth::base64_decode(line);
  if (!decoded) return refuse("client-final message is not base64");
  const auto user = env_.store.find_user(scram->user());
  if (!user || !user->enabled) return refuse("no such user");
  auto verified = scram->verify_client_final(*decoded, user->credentials.scram_stored_key,
                                             user->credentials.scram_server_key);
  if (auto* err = std::get_if<auth::ScramFailure>(&verified)) return refuse(err->reason);
  // Our tspc reads the stream line by line: the status needs no gap of its own.
  return proven(scram->user(), AuthMechanism::ScramSha256,
                auth::base64_encode(std::get<std::string>(verified)) + "\r\n", std::chrono::milliseconds{0});
}

SessionOutput TspSession::on_framed(std::string_view msg) {
  if (!has_content_length_header(msg)) {
    spdlog::debug("{}: expected a Content-length message in state {}", peer_.addr.to_string(), state_name());
    return say_framed(Status::InvalidRequest);
  }
  auto body = parse_content_framed(msg);
  if (auto* err = std::get_if<std::string>(&body)) {
    spdlog::info("{}: bad framing: {}", peer_.addr.to_string(), *err);
    return say_framed(Status::InvalidRequest);
  }
  auto parsed = xml::parse_tunnel_request(std::get<std::string_view>(body));
  if (auto* err = std::get_if<std::string>(&parsed)) {
    spdlog::info("{}: bad tunnel request: {}", peer_.addr.to_string(), printable(*err, 160));
    return say_framed(Status::InvalidRequest);
  }
  const auto& req = std::get<xml::TunnelRequest>(parsed);
  switch (req.action) {
    case xml::TunnelAction::Create:
      if (state_ != State::Authenticated) return say_framed(Status::RequestInProgress);
      return on_create(req);
    case xml::TunnelAction::Accept:
      if (state_ != State::Offered) return say_framed(Status::InvalidRequest);
      return on_accept();
    case xml::TunnelAction::Reject:
      if (state_ != State::Offered) return say_framed(Status::InvalidRequest);
      env_.tunnels.abandon(*pending_, env_.now());
      pending_.reset();
      state_ = State::Authenticated;
      count_result(env_, metrics::SessionResult::rejected);
      return ack();
    case xml::TunnelAction::Delete:
      if (!env_.tunnels.remove_for(identity_, peer_, env_.now())) return say_framed(Status::ServerError);
      forget_gone_tunnel();
      return say_framed(Status::Success);
    case xml::TunnelAction::Info:
      return say_framed(Status::ServerError);  // not offered by this broker (§3.2: 200 or 310)
  }
  return say_framed(Status::InvalidRequest);
}

SessionOutput TspSession::on_create(const xml::TunnelRequest& req) {
  auto result = env_.tunnels.prepare(identity_, req, peer_, env_.now());
  const std::string who = identity_.anonymous() ? "anonymous" : "'" + printable(identity_.user) + "'";
  if (result.status == Status::Redirect) {
    spdlog::info("{}: {} redirected: {}", peer_.addr.to_string(), who, result.reason);
    count_result(env_, metrics::SessionResult::redirected);
    return say(frame_content(status_line(Status::Redirect) +
                             xml::write_redirect_xml(result.redirect_to, cfg_->tunnel_server().lifetime)));
  }
  if (result.status != Status::Success) {
    spdlog::info("{}: {} refused {}: {}", peer_.addr.to_string(), who, static_cast<int>(result.status), printable(result.reason, 160));
    count_refusal(env_, result.status);
    return say_framed(result.status);
  }
  auto reply = say(frame_content(status_line(Status::Success) + xml::write_offer_xml(result.offer)));
  spdlog::info("{}:{}: offered {} {} to {}{}", peer_.addr.to_string(), peer_.port, result.offer.type,
               result.offer.client_v6.to_string(), who,
               result.offer.prefix ? " with " + result.offer.prefix->to_string() : std::string());
  pending_ = std::move(result.pending);
  state_ = State::Offered;
  if (major_version_ == 1) on_accept();  // TSP 1.0 has no accept: the offer is the tunnel
  return reply;
}

SessionOutput TspSession::on_accept() {
  tunnel_ = env_.tunnels.commit(*pending_, env_.now());
  pending_.reset();
  if (!tunnel_) {
    state_ = State::Authenticated;
    count_refusal(env_, Status::ServerError);
    if (peer_.udp) return say_framed(Status::ServerError);
    // Over TCP the client reads nothing after its accept (§1.4), so a status would go unread:
    // closing is the one signal it can get, and a session whose tunnel never went live is
    // not kept open as if it had.
    spdlog::info("{}:{}: tunnel not committed, closing the TCP session", peer_.addr.to_string(), peer_.port);
    SessionOutput out;
    out.close = true;
    return out;
  }
  state_ = State::Established;
  tunnel_went_live_ = true;
  count_result(env_, metrics::SessionResult::accepted);
  return ack();
}

}  // namespace tsp
