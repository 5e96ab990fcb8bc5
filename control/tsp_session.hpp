// One TSP session's state machine, independent of sockets: a complete client message goes in,
// the replies to send come out. The UDP and TCP servers own the sockets, the RUDP header and
// the stream framing; everything the protocol decides lives here (tsp-protocol.md §1-§4).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/broker_config.hpp"
#include "control/auth_lockout.hpp"
#include "control/password_checker.hpp"
#include "control/metrics/control_counters.hpp"
#include "control/status_codes.hpp"
#include "control/tunnel_service.hpp"

namespace tsp {

namespace auth {
class DigestMd5Server;
class ScramSha256Server;
}

struct SessionEnv {
  const config::Config& cfg;  // at start; a reload swaps tunnels.config(), which sessions read
  store::Store& store;
  TunnelService& tunnels;
  std::function<int64_t()> now;  // unix seconds
  metrics::ControlCounters* counters = nullptr;  // session outcomes and authentications; optional
  AuthLockout* lockout = nullptr;                // password guessing per address; optional
  // Set: PLAIN's password checks leave the session (SessionOutput::password_check) for the
  // server to run there. Null: the session checks inline (tests, tools).
  PasswordChecker* password_checker = nullptr;
  // The key of SCRAM's fake salts for unknown names. The daemon keeps it in the store, so a
  // name's fake salt stays the same across restarts; empty: one drawn for this process.
  std::vector<uint8_t> scram_fake_salt_secret;
};


// One reply. Over UDP an empty payload is a header-only datagram (an acknowledgement); over
// TCP it is not sent at all. `delay` asks the server to wait before sending (DIGEST-MD5's
// final status over TCP must not share a segment with the rspauth line, §2.4).
struct Outgoing {
  std::string payload;
  std::chrono::milliseconds delay{0};
};

struct SessionOutput {
  std::vector<Outgoing> replies;
  bool close = false;  // the server drops the session (TCP: closes the socket after sending)
  // Set: no replies yet; the session waits for this check's verdict and takes no message
  // meanwhile (UDP: retransmissions get nothing; TCP: the server reads on afterwards).
  std::optional<PasswordCheck> password_check;
};

class TspSession {
 public:
  TspSession(SessionEnv& env, Peer peer);
  ~TspSession();
  TspSession(const TspSession&) = delete;
  TspSession& operator=(const TspSession&) = delete;

  SessionOutput on_message(std::string_view msg);
  // The verdict of the check this session handed out; a stale ticket (the client started
  // over meanwhile) gets nothing.
  SessionOutput on_password_checked(uint64_t ticket, PasswordVerdict verdict);
  bool awaiting_password_check() const { return state_ == State::PlainChecking; }

  // The tunnel this session put live still forwards. False once it is deleted, expires, is
  // kicked or replaced: the TCP server then stops holding the connection open for it.
  bool tunnel_established() const;
  // The tunnel this session put live, while the session still counts it as its own (state
  // Established); it may have stopped forwarding since (tunnel_established() says).
  const std::optional<LiveTunnel>& tunnel() const { return tunnel_; }
  // This session put a tunnel live at some point (its outcome was counted then).
  bool tunnel_went_live() const { return tunnel_went_live_; }
  std::string_view state_name() const;
  const Peer& peer() const { return peer_; }
  // Who logged in: empty before a login, and for ANONYMOUS.
  const Identity& identity() const { return identity_; }

 private:
  enum class State {
    ExpectVersion,
    ExpectAuth,
    PlainCredentials,
    PlainChecking,  // the password check runs on the server's checker
    DigestResponse,
    ScramResponse,
    DigestFinal,  // UDP only: the client's header-only "read" gets the final status (SCRAM too)
    Authenticated,
    Offered,
    Established,
  };

  SessionOutput on_version(std::string_view line);
  SessionOutput on_authenticate(std::string_view line);
  // Refuses a password mechanism unchecked while the peer's address is locked out.
  // Refusals before any credential is checked: the peer's address is locked out, or (once the
  // client has named it) the user is, for this address.
  std::optional<SessionOutput> refuse_if_locked(config::AuthMechanism mechanism);
  std::optional<SessionOutput> refuse_if_user_locked(config::AuthMechanism mechanism, std::string_view user);
  SessionOutput password_failed(config::AuthMechanism mechanism, std::string_view why, std::string_view user);
  void password_succeeded(config::AuthMechanism mechanism, std::string_view user);
  SessionOutput on_plain(std::string_view msg);
  SessionOutput on_digest_response(std::string_view msg);
  SessionOutput on_scram_start(std::string_view initial_response);
  SessionOutput on_scram_response(std::string_view line);
  // The verified password's last step: the proof of the server's own knowledge (DIGEST-MD5's
  // rspauth, SCRAM's server-final), then the status (UDP: to the next read; TCP: pushed).
  SessionOutput proven(std::string user, config::AuthMechanism mechanism, std::string proof_line,
                       std::chrono::milliseconds tcp_gap);
  SessionOutput on_framed(std::string_view msg);
  SessionOutput on_create(const xml::TunnelRequest& req);
  SessionOutput on_accept();
  std::string capability_line() const;
  void authenticated(std::string user, std::string_view mechanism);
  // Back to Authenticated when this session's tunnel is no longer live.
  void forget_gone_tunnel();
  void reset();

  // Reply helpers: a line as is, a Content-length framed body, the UDP-only acknowledgement.
  static SessionOutput say(std::string payload, bool close = false);
  static SessionOutput say_framed(Status s);
  SessionOutput ack() const;
  SessionOutput nothing() const { return {}; }

  SessionEnv& env_;
  // The configuration this session started with: a reload meanwhile does not change its rules.
  std::shared_ptr<const config::Config> cfg_;
  Peer peer_;
  State state_ = State::ExpectVersion;
  int major_version_ = 2;
  Identity identity_;
  std::unique_ptr<auth::DigestMd5Server> digest_;
  std::unique_ptr<auth::ScramSha256Server> scram_;
  // PLAIN: the name whose password is being checked, whether it names a usable user (an
  // unknown one is checked against a decoy, so that both cost the same), the check's ticket.
  std::string plain_user_;
  bool plain_user_known_ = false;
  uint64_t plain_ticket_ = 0;
  std::optional<PendingTunnel> pending_;
  std::optional<LiveTunnel> tunnel_;  // set in state Established
  bool tunnel_went_live_ = false;
};

}  // namespace tsp
