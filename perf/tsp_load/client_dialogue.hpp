// One emulated TSP client's dialogue, without sockets: which message to send next and what
// the broker's answer means (tsp-protocol.md §1.6-§3.4, as gogoc 1.2 runs it). The load
// runner owns the sockets, the RUDP header and the clock; tests drive it against TspSession.
//
//   VERSION=2.0.2 -> CAPABILITY
//   AUTHENTICATE ANONYMOUS -> 200            | AUTHENTICATE DIGEST-MD5 -> challenge
//                                            | response -> rspauth; (UDP: empty read) -> 200
//                                            | AUTHENTICATE PLAIN -> (UDP: header-only ack)
//                                            | \0user\0password -> 200
//   Content-length create -> 200 offer
//   Content-length accept -> UDP: header-only ack; TCP: nothing (see TcpFinish)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tsp::load {

enum class Transport : uint8_t { Udp, Tcp };
enum class AuthKind : uint8_t { Anonymous, DigestMd5, Plain };
enum class HostType : uint8_t { Host, Router };

// How a TCP session counts as complete: the broker never answers an accept over TCP (§3.4).
enum class TcpFinish : uint8_t {
  EchoConfirm,  // send "ECHO REQUEST" after the accept; its 200 proves the accept was handled
  AcceptSent,   // as gogoc: done once the accept is written
};

struct ClientSpec {
  Transport transport = Transport::Udp;
  AuthKind auth = AuthKind::Anonymous;
  HostType host_type = HostType::Host;  // Router needs a user (anonymous gets no prefix)
  std::string tunnel_type = "v6anyv4";
  std::string declared_ipv4;            // <client><address type="ipv4">
  unsigned prefix_length = 64;          // router only
  std::string user, password;           // DigestMd5 and Plain
  std::string digest_uri_host = "127.0.0.1";
  std::string cnonce = "1";             // any non-empty text (gogoc: the unix time)
  TcpFinish tcp_finish = TcpFinish::EchoConfirm;
};

// What happened to a session that did not complete.
enum class FailureKind : uint8_t {
  None,
  Status,      // the broker answered a status code other than the one expected (status())
  Protocol,    // an answer we could not read (bad base64, wrong rspauth, bad framing)
  Timeout,     // no answer in time (set by the runner)
  Transport,   // socket error, connection refused or closed early (set by the runner)
};

class ClientDialogue {
 public:
  explicit ClientDialogue(ClientSpec spec);

  // The first message: "VERSION=2.0.2\r\n".
  const std::string& start();
  // One complete broker message (a UDP payload after the header, or one message cut from the
  // TCP stream). Afterwards: done(), failed(), or next() holds the message to send.
  void on_reply(std::string_view msg);
  // The runner wrote next() completely. Over TCP with TcpFinish::AcceptSent this completes
  // the session once the accept is out.
  void on_sent();

  // The message to send now. Empty: over UDP a header-only datagram (the "read" after
  // rspauth); over TCP nothing is sent (the broker pushes its final status by itself).
  const std::string& next() const { return next_; }
  bool done() const { return done_; }
  bool failed() const { return failure_ != FailureKind::None; }
  FailureKind failure() const { return failure_; }
  int status() const { return status_; }  // with FailureKind::Status
  const std::string& failure_text() const { return failure_text_; }
  void fail(FailureKind kind, std::string text);
  const ClientSpec& spec() const { return spec_; }

 private:
  enum class Step : uint8_t {
    Version, Authenticate, PlainCredentials, DigestResponse, DigestFinal, Create, Accept, Echo, Finished
  };

  void send(Step step, std::string msg);
  void expect_status(std::string_view line, int wanted, Step next_step, std::string next_msg);
  void on_challenge(std::string_view line);
  void on_rspauth(std::string_view line);
  void on_offer(std::string_view msg);
  std::string create_message() const;
  std::string plain_blob() const;

  ClientSpec spec_;
  Step step_ = Step::Version;
  std::string next_;
  std::string challenge_;  // decoded DIGEST-MD5 challenge, for the rspauth check
  bool done_ = false;
  FailureKind failure_ = FailureKind::None;
  int status_ = 0;
  std::string failure_text_;
};

// The leading decimal status code of a line ("530 Server too busy" -> 530), -1 if none.
int leading_status(std::string_view line);

// Cuts the broker's TCP byte stream into messages: a Content-length frame (header line plus
// N bytes) or one CRLF-ended line. Broker messages announce which by their first bytes.
class ReplySplitter {
 public:
  void append(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete message, or false when more bytes are needed. error() is set when the
  // stream cannot be a broker's (oversize line, bad Content-length).
  bool next(std::string& out);
  const std::string& error() const { return error_; }

 private:
  std::string buffer_;
  std::string error_;
};

}  // namespace tsp::load
