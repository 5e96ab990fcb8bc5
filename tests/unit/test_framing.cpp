#include <catch2/catch.hpp>

#include "control/framing.hpp"
#include "control/status_codes.hpp"

using namespace tsp;

TEST_CASE("server replies count status line and XML after the header") {
  const std::string body = "200 Success\r\n<tunnel action=\"info\"></tunnel>\r\n";
  CHECK(frame_content(body) == "Content-length: " + std::to_string(body.size()) + "\r\n" + body);
  CHECK(frame_content(status_line(Status::NoMoreTunnels)) == "Content-length: 31\r\n301 No more tunnels available\r\n");
}

TEST_CASE("the accept message parses with its exact length") {
  const std::string accept = "Content-length: 35\r\n<tunnel action=\"accept\"></tunnel>\r\n";
  REQUIRE(has_content_length_header(accept));
  auto body = parse_content_framed(accept);
  REQUIRE(std::holds_alternative<std::string_view>(body));
  CHECK(std::get<std::string_view>(body) == "<tunnel action=\"accept\"></tunnel>\r\n");
}

TEST_CASE("wrong Content-length values are errors") {
  CHECK(std::holds_alternative<std::string>(parse_content_framed("Content-length: 36\r\n<tunnel action=\"accept\"></tunnel>\r\n")));
  CHECK(std::holds_alternative<std::string>(parse_content_framed("Content-length: 34\r\n<tunnel action=\"accept\"></tunnel>\r\n")));
  CHECK(std::holds_alternative<std::string>(parse_content_framed("Content-length: x\r\nabc")));
  CHECK(std::holds_alternative<std::string>(parse_content_framed("Content-length: -1\r\n")));
  CHECK(std::holds_alternative<std::string>(parse_content_framed("Content-length: 99999999999999999999\r\n")));
  CHECK(std::holds_alternative<std::string>(parse_content_framed("Content-length: 20000\r\n")));
  CHECK(std::holds_alternative<std::string>(parse_content_framed("Content-length: 3")));
  // A C-string NUL after the body is tolerated.
  CHECK(std::holds_alternative<std::string_view>(parse_content_framed(std::string("Content-length: 3\r\nabc\0", 23))));
}

TEST_CASE("line ends and the C-string NUL are stripped") {
  CHECK(strip_line_end(std::string("AUTHENTICATE PLAIN\r\n\0", 21)) == "AUTHENTICATE PLAIN");
  CHECK(strip_line_end("VERSION=2.0.2\r\n") == "VERSION=2.0.2");
  CHECK(strip_line_end("VERSION=2.0.2\n") == "VERSION=2.0.2");
  CHECK(strip_line_end("ECHO REQUEST") == "ECHO REQUEST");
}

TEST_CASE("TCP splitter cuts lines and frames across segment boundaries") {
  TcpMessageSplitter s;
  s.append("VERSION=2.0");
  CHECK_FALSE(s.next());
  s.append(".2\r\nAUTHENTICATE PLAIN\r\n");
  CHECK(s.next() == std::string("VERSION=2.0.2\r\n"));
  CHECK(s.next() == std::string("AUTHENTICATE PLAIN\r\n"));
  // The AUTHENTICATE line's NUL arrives with the next segment and is dropped.
  s.append(std::string("\0\0bob\0secret\r\n", 14));
  CHECK(s.next() == std::string("\0bob\0secret\r\n", 13));
  s.append("Content-length: 35\r\n<tunnel action=\"accept\">");
  CHECK_FALSE(s.next());
  s.append("</tunnel>\r\n");
  CHECK(s.next() == std::string("Content-length: 35\r\n<tunnel action=\"accept\"></tunnel>\r\n"));
  CHECK(s.buffered() == 0);
  CHECK(s.error().empty());
}

TEST_CASE("TCP splitter refuses endless lines and bad headers") {
  TcpMessageSplitter s;
  s.append(std::string(kMaxLineLength + 1, 'A'));
  CHECK_FALSE(s.next());
  CHECK(s.error() == "line too long");

  TcpMessageSplitter t;
  t.append("Content-length: 999999\r\n");
  CHECK_FALSE(t.next());
  CHECK_FALSE(t.error().empty());
}
