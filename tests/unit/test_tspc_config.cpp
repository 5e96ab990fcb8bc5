// tspc.conf: every key's default, a good value and a bad value with its exact message;
// file-level rules (unknown/repeated keys, comments, CRLF, required keys), validate() and the
// shipped sample file.
#include <catch2/catch.hpp>

#include <string>

#include "tools/tspc/settings/tspc_config.hpp"

using namespace tsp;
using namespace tsp::tspc;

namespace {

// The line under test is line 1; the required keys follow it.
TspcConfig parse_line(const std::string& line) {
  return parse_tspc_config(line + "\nserver=broker.example.net\ntemplate=linux\n", "t.conf");
}

std::string error_of(const std::string& text) {
  try {
    parse_tspc_config(text, "t.conf");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

std::string line_error(const std::string& line) {
  return error_of(line + "\nserver=broker.example.net\ntemplate=linux\n");
}

std::string validate_error(const TspcConfig& cfg) {
  try {
    validate(cfg);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("defaults of every key", "[tspc_config]") {
  const auto cfg = parse_tspc_config("server=broker.example.net\ntemplate=linux\n", "t.conf");
  CHECK(cfg.file == "t.conf");
  CHECK(cfg.tsp_version == "2.0.2");
  CHECK(cfg.tsp_dir == "/usr/local/etc/tsp");
  CHECK(cfg.auth_method == AuthMethod::Any);
  CHECK_FALSE(cfg.client_v4);
  CHECK_FALSE(cfg.if_source);
  CHECK(cfg.userid.empty());
  CHECK(cfg.passwd.empty());
  CHECK(cfg.template_name == "linux");
  CHECK(cfg.server.host == "broker.example.net");
  CHECK(cfg.server.port == 3653);
  CHECK(cfg.retry_delay == 30);
  CHECK(cfg.retry_delay_max == 300);
  CHECK(cfg.auto_retry_connect);
  CHECK(cfg.tunnel_mode == TunnelMode::V6AnyV4);
  CHECK(cfg.if_tunnel_v6v4 == "sit1");
  CHECK(cfg.if_tunnel_v6udpv4 == "tun");
  CHECK(cfg.if_tunnel_v4v6 == "sit0");
  CHECK_FALSE(cfg.client_v6);
  CHECK_FALSE(cfg.proxy_client);
  CHECK(cfg.keepalive);
  CHECK(cfg.keepalive_interval == 30);
  CHECK(cfg.syslog_facility == "USER");
  CHECK(cfg.syslog_level == 0);
  CHECK(cfg.host_type == HostType::Host);
  CHECK(cfg.prefixlen == 64);
  CHECK(cfg.if_prefix.empty());
  CHECK(cfg.dns_server.empty());
  CHECK(cfg.broker_list == "tsp-broker-list.txt");
  CHECK(cfg.last_server == "tsp-last-server.txt");
  CHECK_FALSE(cfg.always_use_same_server);
  CHECK(cfg.log_stderr == 1);
  CHECK(cfg.log_file == 2);
  CHECK(cfg.log_syslog == 0);
  CHECK(cfg.log_console == 0);
  CHECK(cfg.log_filename == "tspc.log");
  CHECK(cfg.log_rotation);
  CHECK(cfg.log_rotation_size == 32);
  CHECK_FALSE(cfg.log_rotation_delete);
  CHECK(cfg.dslite_server.to_string() == "192.0.0.1");
  CHECK(cfg.dslite_client.to_string() == "192.0.0.2");
  CHECK_FALSE(cfg.haccess_proxy_enabled);
  CHECK_FALSE(cfg.haccess_web_enabled);
  CHECK(cfg.haccess_document_root.empty());
  CHECK(uses_anonymous(cfg));
  CHECK_NOTHROW(validate(cfg));
}

TEST_CASE("a good value for every key", "[tspc_config]") {
  CHECK(parse_line("tsp_version=2.0.1").tsp_version == "2.0.1");
  CHECK(parse_line("tsp_version = 1.0.1").tsp_version == "1.0.1");
  CHECK(parse_line("tsp_dir=/opt/tspc").tsp_dir == "/opt/tspc");
  CHECK(parse_line("gogoc_dir=/opt/gogoc").tsp_dir == "/opt/gogoc");
  CHECK(parse_line("auth_method=digest-md5").auth_method == AuthMethod::DigestMd5);
  CHECK(parse_line("auth_method=SCRAM-SHA-256").auth_method == AuthMethod::ScramSha256);
  CHECK(parse_line("auth_method=plain").auth_method == AuthMethod::Plain);
  CHECK(parse_line("auth_method=anonymous").auth_method == AuthMethod::Anonymous);
  CHECK(parse_line("auth_method=ANY").auth_method == AuthMethod::Any);
  CHECK(parse_line("client_v4=192.0.2.7").client_v4->to_string() == "192.0.2.7");
  CHECK_FALSE(parse_line("client_v4=auto").client_v4);
  CHECK(parse_line("if_source=198.51.100.1").if_source->to_string() == "198.51.100.1");
  CHECK(parse_line("userid=alice").userid == "alice");
  CHECK(parse_line("passwd=p#ss word=x").passwd == "p#ss word=x");
  CHECK(parse_tspc_config("server=b\ntemplate=checktunnel\n", "t.conf").template_name == "checktunnel");
  CHECK(parse_line("retry_delay=0").retry_delay == 0);
  CHECK(parse_line("retry_delay=3600").retry_delay == 3600);
  CHECK(parse_line("retry_delay_max=600").retry_delay_max == 600);
  CHECK_FALSE(parse_line("auto_retry_connect=no").auto_retry_connect);
  CHECK(parse_line("tunnel_mode=v6v4").tunnel_mode == TunnelMode::V6V4);
  CHECK(parse_line("tunnel_mode=v6udpv4").tunnel_mode == TunnelMode::V6UdpV4);
  CHECK(parse_line("tunnel_mode=v6anyv4").tunnel_mode == TunnelMode::V6AnyV4);
  CHECK(parse_line("tunnel_mode=v4v6").tunnel_mode == TunnelMode::V4V6);
  CHECK(parse_line("if_tunnel_v6v4=sit9").if_tunnel_v6v4 == "sit9");
  CHECK(parse_line("if_tunnel_v6udpv4=tsp0").if_tunnel_v6udpv4 == "tsp0");
  CHECK(parse_line("if_tunnel_v4v6=ip6tnl1").if_tunnel_v4v6 == "ip6tnl1");
  CHECK(parse_line("client_v6=2001:db8::5").client_v6->to_string() == "2001:db8::5");
  CHECK(parse_line("proxy_client=yes").proxy_client);
  CHECK_FALSE(parse_line("keepalive=no").keepalive);
  CHECK(parse_line("keepalive_interval=5").keepalive_interval == 5);
  CHECK(parse_line("syslog_facility=local3").syslog_facility == "LOCAL3");
  CHECK(parse_line("syslog_level=ERR").syslog_level == 1);
  CHECK(parse_line("syslog_level=WARNING").syslog_level == 1);
  CHECK(parse_line("syslog_level=NOTICE").syslog_level == 2);
  CHECK(parse_line("syslog_level=INFO").syslog_level == 2);
  CHECK(parse_line("syslog_level=DEBUG").syslog_level == 3);
  CHECK(parse_line("syslog_level=3").syslog_level == 3);
  CHECK(parse_line("host_type=router").host_type == HostType::Router);
  CHECK(parse_line("prefixlen=48").prefixlen == 48);
  CHECK(parse_line("prefixlen=0").prefixlen == 0);
  CHECK(parse_line("if_prefix=eth1").if_prefix == "eth1");
  CHECK(parse_line("dns_server=ns1.example.net:ns2.example.net").dns_server ==
        std::vector<std::string>{"ns1.example.net", "ns2.example.net"});
  CHECK(parse_line("broker_list=/var/lib/tspc/brokers").broker_list == "/var/lib/tspc/brokers");
  CHECK(parse_line("last_server=/var/lib/tspc/last").last_server == "/var/lib/tspc/last");
  CHECK(parse_line("always_use_same_server=yes").always_use_same_server);
  CHECK(parse_line("log_stderr=3").log_stderr == 3);
  CHECK(parse_line("log_file=0").log_file == 0);
  CHECK(parse_line("log_syslog=2").log_syslog == 2);
  CHECK(parse_line("log_console=1").log_console == 1);
  CHECK(parse_line("log_filename=/var/log/tspc.log").log_filename == "/var/log/tspc.log");
  CHECK_FALSE(parse_line("log_rotation=no").log_rotation);
  CHECK(parse_line("log_rotation_size=1024").log_rotation_size == 1024);
  CHECK(parse_line("log_rotation_delete=yes").log_rotation_delete);
  CHECK(parse_line("dslite_server=192.0.0.9").dslite_server.to_string() == "192.0.0.9");
  CHECK(parse_line("dslite_client=192.0.0.8").dslite_client.to_string() == "192.0.0.8");
  CHECK(parse_line("haccess_proxy_enabled=yes").haccess_proxy_enabled);
  CHECK(parse_line("haccess_web_enabled=yes").haccess_web_enabled);
  CHECK(parse_line("haccess_document_root=/srv/www").haccess_document_root == "/srv/www");
}

TEST_CASE("server address forms", "[tspc_config]") {
  const auto server = [](const std::string& text) {
    return parse_tspc_config("template=linux\nserver=" + text + "\n", "t.conf").server;
  };
  auto s = server("broker.example.net");
  CHECK((s.host == "broker.example.net" && s.port == 3653 && s.text == "broker.example.net" && !s.is_ipv6));
  s = server("broker.example.net:3654");
  CHECK((s.host == "broker.example.net" && s.port == 3654 && s.text == "broker.example.net:3654"));
  s = server("192.0.2.1");
  CHECK((s.host == "192.0.2.1" && s.port == 3653));
  s = server("192.0.2.1:1");
  CHECK((s.host == "192.0.2.1" && s.port == 1));
  s = server("[2001:db8::1]:4000");
  CHECK((s.host == "2001:db8::1" && s.port == 4000 && s.is_ipv6 && s.text == "[2001:db8::1]:4000"));
  s = server("[2001:db8::1]");
  CHECK((s.host == "2001:db8::1" && s.port == 3653 && s.is_ipv6));
  s = server("2001:db8::2");
  CHECK((s.host == "2001:db8::2" && s.port == 3653 && s.is_ipv6));
}

TEST_CASE("a bad value for every key names file, line, key and what is allowed", "[tspc_config]") {
  CHECK(line_error("tsp_version=3.0") == "t.conf:1: tsp_version: '3.0' is not one of 2.0.2, 2.0.1, 2.0.0, 1.0.1");
  CHECK(line_error("tsp_dir=" + std::string(5000, 'd')) == "t.conf:1: tsp_dir: longer than 4096 characters");
  CHECK(line_error("auth_method=kerberos") ==
        "t.conf:1: auth_method: 'kerberos' is not one of any, scram-sha-256, digest-md5, plain, anonymous");
  CHECK(line_error("auth_method=passdss-3des-1") ==
        "t.conf:1: auth_method: passdss-3des-1 is not supported by this client "
        "(use any, scram-sha-256, digest-md5, plain or anonymous)");
  CHECK(line_error("client_v4=192.0.2") == "t.conf:1: client_v4: '192.0.2' is not 'auto' or an IPv4 address");
  CHECK(line_error("if_source=auto") == "t.conf:1: if_source: 'auto' is not an IPv4 address");
  CHECK(line_error("userid=" + std::string(254, 'u')) == "t.conf:1: userid: longer than 253 characters");
  CHECK(line_error("passwd=" + std::string(129, 'p')) == "t.conf:1: passwd: longer than 128 characters");
  CHECK(error_of("server=b\ntemplate=../evil\n") ==
        "t.conf:2: template: '../evil' is not a script name (letters, digits, '_', '-', '.'; e.g. linux, checktunnel)");
  CHECK(error_of("template=linux\nserver=broker:0\n") ==
        "t.conf:2: server: 'broker:0' has a port that is not 1..65535 "
        "(expected host, host:port, a.b.c.d[:port] or [ipv6][:port])");
  CHECK(error_of("template=linux\nserver=bro ker\n") ==
        "t.conf:2: server: 'bro ker' is not a host name or address "
        "(expected host, host:port, a.b.c.d[:port] or [ipv6][:port])");
  CHECK(error_of("template=linux\nserver=[2001:db8::1\n") ==
        "t.conf:2: server: '[2001:db8::1' has no closing ']' "
        "(expected host, host:port, a.b.c.d[:port] or [ipv6][:port])");
  CHECK(error_of("template=linux\nserver=300.1.1.1\n") ==
        "t.conf:2: server: '300.1.1.1' is not a host name or address "
        "(expected host, host:port, a.b.c.d[:port] or [ipv6][:port])");
  CHECK(error_of("template=linux\nserver=broker:\n") ==
        "t.conf:2: server: 'broker:' has an empty port "
        "(expected host, host:port, a.b.c.d[:port] or [ipv6][:port])");
  CHECK(line_error("retry_delay=3601") == "t.conf:1: retry_delay: '3601' is not a number in 0..3600");
  CHECK(line_error("retry_delay=-1") == "t.conf:1: retry_delay: '-1' is not a number in 0..3600");
  CHECK(line_error("retry_delay=30s") == "t.conf:1: retry_delay: '30s' is not a number in 0..3600");
  CHECK(line_error("retry_delay_max=99999") == "t.conf:1: retry_delay_max: '99999' is not a number in 0..3600");
  CHECK(line_error("auto_retry_connect=true") == "t.conf:1: auto_retry_connect: 'true' is not one of yes, no");
  CHECK(line_error("tunnel_mode=v6only") == "t.conf:1: tunnel_mode: 'v6only' is not one of v6v4, v6udpv4, v6anyv4, v4v6");
  CHECK(line_error("tunnel_mode=dslite") ==
        "t.conf:1: tunnel_mode: dslite is not supported on Linux (use v6anyv4, v6v4, v6udpv4 or v4v6)");
  CHECK(line_error("if_tunnel_v6v4=a/b") ==
        "t.conf:1: if_tunnel_v6v4: 'a/b' is not an interface name (1..15 characters, no '/', ':' or spaces)");
  CHECK(line_error("if_tunnel_v6udpv4=abcdefghijklmnop") ==
        "t.conf:1: if_tunnel_v6udpv4: 'abcdefghijklmnop' is not an interface name (1..15 characters, no '/', ':' or spaces)");
  CHECK(line_error("if_tunnel_v4v6=..") ==
        "t.conf:1: if_tunnel_v4v6: '..' is not an interface name (1..15 characters, no '/', ':' or spaces)");
  CHECK(line_error("client_v6=2001:db8::g") == "t.conf:1: client_v6: '2001:db8::g' is not 'auto' or an IPv6 address");
  CHECK(line_error("proxy_client=maybe") == "t.conf:1: proxy_client: 'maybe' is not one of yes, no");
  CHECK(line_error("keepalive=1") == "t.conf:1: keepalive: '1' is not one of yes, no");
  CHECK(line_error("keepalive_interval=x") == "t.conf:1: keepalive_interval: 'x' is not a number in 0..3600");
  CHECK(line_error("syslog_facility=DAEMON") ==
        "t.conf:1: syslog_facility: 'DAEMON' is not one of USER, LOCAL0, LOCAL1, LOCAL2, LOCAL3, LOCAL4, LOCAL5, LOCAL6, LOCAL7");
  CHECK(line_error("syslog_level=EMERG") ==
        "t.conf:1: syslog_level: 'EMERG' is not one of ERR, WARNING, NOTICE, INFO, DEBUG, 0, 1, 2, 3");
  CHECK(line_error("host_type=gateway") == "t.conf:1: host_type: 'gateway' is not one of host, router");
  CHECK(line_error("prefixlen=56") == "t.conf:1: prefixlen: '56' is not one of 0, 48, 64");
  CHECK(line_error("if_prefix=eth 1") ==
        "t.conf:1: if_prefix: 'eth 1' is not an interface name (1..15 characters, no '/', ':' or spaces)");
  CHECK(line_error("dns_server=ns1.example.net::ns2") ==
        "t.conf:1: dns_server: '' is not a host name (list names separated by ':')");
  CHECK(line_error("broker_list=" + std::string(4097, 'b')) == "t.conf:1: broker_list: longer than 4096 characters");
  CHECK(line_error("last_server=" + std::string(4097, 'l')) == "t.conf:1: last_server: longer than 4096 characters");
  CHECK(line_error("always_use_same_server=0") == "t.conf:1: always_use_same_server: '0' is not one of yes, no");
  CHECK(line_error("log_stderr=4") == "t.conf:1: log_stderr: '4' is not a number in 0..3");
  CHECK(line_error("log_file=debug") == "t.conf:1: log_file: 'debug' is not a number in 0..3");
  CHECK(line_error("log_syslog=9") == "t.conf:1: log_syslog: '9' is not a number in 0..3");
  CHECK(line_error("log_console=-1") == "t.conf:1: log_console: '-1' is not a number in 0..3");
  CHECK(line_error("log_filename=" + std::string(4097, 'f')) == "t.conf:1: log_filename: longer than 4096 characters");
  CHECK(line_error("log_rotation=on") == "t.conf:1: log_rotation: 'on' is not one of yes, no");
  CHECK(line_error("log_rotation_size=64") == "t.conf:1: log_rotation_size: '64' is not one of 16, 32, 128, 1024");
  CHECK(line_error("log_rotation_delete=off") == "t.conf:1: log_rotation_delete: 'off' is not one of yes, no");
  CHECK(line_error("dslite_server=x") == "t.conf:1: dslite_server: 'x' is not an IPv4 address");
  CHECK(line_error("dslite_client=::1") == "t.conf:1: dslite_client: '::1' is not an IPv4 address");
  CHECK(line_error("haccess_proxy_enabled=2") == "t.conf:1: haccess_proxy_enabled: '2' is not one of yes, no");
  CHECK(line_error("haccess_web_enabled=2") == "t.conf:1: haccess_web_enabled: '2' is not one of yes, no");
  CHECK(line_error("haccess_document_root=" + std::string(4097, 'r')) ==
        "t.conf:1: haccess_document_root: longer than 4096 characters");
}

TEST_CASE("file rules: unknown, repeated, syntax, required keys", "[tspc_config]") {
  CHECK(line_error("tunnelmode=v6v4") == "t.conf:1: unknown key 'tunnelmode'");
  CHECK(line_error("Server=x") == "t.conf:1: bad key name 'Server'");
  CHECK(line_error("just some words") == "t.conf:1: expected 'name = value', got 'just some words'");
  CHECK(line_error("=value") == "t.conf:1: bad key name ''");
  CHECK(error_of("server=a\ntemplate=linux\n# again\nserver=b\n") ==
        "t.conf:4: repeated key 'server' (server already set at line 1)");
  CHECK(error_of("server=a\ntemplate=linux\ntsp_dir=/x\ngogoc_dir=/y\n") ==
        "t.conf:4: repeated key 'gogoc_dir' (tsp_dir already set at line 3)");
  CHECK(error_of("server=a\ntemplate=linux\nuserid=\nuserid=bob\n") ==
        "t.conf:4: repeated key 'userid' (userid already set at line 3)");
  CHECK(error_of("template=linux\n") == "t.conf: required key 'server' is missing");
  CHECK(error_of("server=a\n") == "t.conf: required key 'template' is missing");
  CHECK(error_of("") == "t.conf: required key 'server' is missing");
  CHECK(error_of("server=\ntemplate=linux\n") == "t.conf:1: server: a value is required");
  CHECK(error_of("server=a\ntemplate=\n") == "t.conf:2: template: a value is required");
  static const char with_nul[] = "server=a\0b\ntemplate=linux\n";
  CHECK(error_of(std::string(with_nul, sizeof with_nul - 1)) == "t.conf:1: control character in line");
  CHECK(error_of(std::string(1 << 21, '#')) == "t.conf: file larger than 1 MiB");
  CHECK(error_of("server=a\ntemplate=linux\nretry_delay=1\x0b\n") == "t.conf:3: control character in line");
}

TEST_CASE("comments, blank lines, spaces, tabs and CRLF", "[tspc_config]") {
  const auto cfg = parse_tspc_config(
      "# tspc.conf\r\n"
      "\r\n"
      "   # indented comment\r\n"
      "\t server \t=\t broker.example.net:3654 \t\r\n"
      "template=checktunnel\r\n"
      "userid = alice\r\n"
      "passwd=  secret #1  \r\n"
      "retry_delay=5",  // no newline at the end
      "crlf.conf");
  CHECK(cfg.server.host == "broker.example.net");
  CHECK(cfg.server.port == 3654);
  CHECK(cfg.template_name == "checktunnel");
  CHECK(cfg.userid == "alice");
  CHECK(cfg.passwd == "secret #1");
  CHECK(cfg.retry_delay == 5);
  CHECK_FALSE(uses_anonymous(cfg));
  CHECK(error_of("server=a\r\ntemplate=linux\r\nkeepalive=maybe\r\n") ==
        "t.conf:3: keepalive: 'maybe' is not one of yes, no");
  // An empty value keeps the default.
  const auto empty = parse_line("client_v4=");
  CHECK_FALSE(empty.client_v4);
  CHECK(parse_line("tunnel_mode=").tunnel_mode == TunnelMode::V6AnyV4);
}

TEST_CASE("validate: rules between keys", "[tspc_config]") {
  auto base = parse_tspc_config("server=b\ntemplate=linux\n", "v.conf");

  SECTION("anonymous unless a userid is given") {
    auto cfg = base;
    cfg.userid = "alice";
    CHECK(validate_error(cfg) ==
          "v.conf: passwd: required with auth_method=any "
          "(leave userid empty or set auth_method=anonymous for an anonymous tunnel)");
    cfg.passwd = "pw";
    CHECK(validate_error(cfg) == "no error");
    cfg.userid = "Anonymous";
    CHECK(uses_anonymous(cfg));
    cfg.auth_method = AuthMethod::DigestMd5;
    cfg.userid.clear();
    CHECK(validate_error(cfg) == "v.conf: userid: required with auth_method=digest-md5");
    cfg.auth_method = AuthMethod::Anonymous;
    CHECK(validate_error(cfg) == "no error");
    cfg.auth_method = AuthMethod::Plain;
    cfg.userid = "bob";
    cfg.passwd.clear();
    CHECK(validate_error(cfg) ==
          "v.conf: passwd: required with auth_method=plain "
          "(leave userid empty or set auth_method=anonymous for an anonymous tunnel)");
  }
  SECTION("proxy_client limits") {
    auto cfg = base;
    cfg.proxy_client = true;
    CHECK(validate_error(cfg) == "v.conf: proxy_client: 'yes' needs keepalive=no");
    cfg.keepalive = false;
    CHECK(validate_error(cfg) == "no error");
    cfg.tunnel_mode = TunnelMode::V6UdpV4;
    CHECK(validate_error(cfg) == "v.conf: proxy_client: 'yes' cannot be used with tunnel_mode=v6udpv4");
  }
  SECTION("keepalive interval") {
    auto cfg = base;
    cfg.keepalive_interval = 0;
    CHECK(validate_error(cfg) == "v.conf: keepalive_interval: must be greater than 0 when keepalive=yes");
    cfg.keepalive = false;
    CHECK(validate_error(cfg) == "no error");
  }
  SECTION("router needs if_prefix, not the tunnel interface") {
    auto cfg = base;
    cfg.host_type = HostType::Router;
    CHECK(validate_error(cfg) ==
          "v.conf: if_prefix: required with host_type=router (the LAN interface for the prefix; or -s IF)");
    cfg.if_prefix = "tun";
    CHECK(validate_error(cfg) == "v.conf: if_prefix: 'tun' is also the tunnel interface");
    cfg.if_prefix = "eth1";
    CHECK(validate_error(cfg) == "no error");
  }
  SECTION("values a command line can set are checked again") {
    auto cfg = base;
    cfg.if_tunnel_v6v4 = "";
    CHECK(validate_error(cfg) ==
          "v.conf: if_tunnel_v6v4: '' is not an interface name (1..15 characters, no '/', ':' or spaces)");
    cfg = base;
    cfg.retry_delay = 4000;
    CHECK(validate_error(cfg) == "v.conf: retry_delay: 4000 is not in 0..3600");
    cfg = base;
    cfg.file.clear();
    cfg.template_name.clear();
    CHECK(validate_error(cfg) == "configuration: required key 'template' is missing");
  }
}

TEST_CASE("to_string names", "[tspc_config]") {
  CHECK(to_string(TunnelMode::V6V4) == "v6v4");
  CHECK(to_string(TunnelMode::V6UdpV4) == "v6udpv4");
  CHECK(to_string(TunnelMode::V6AnyV4) == "v6anyv4");
  CHECK(to_string(TunnelMode::V4V6) == "v4v6");
  CHECK(to_string(HostType::Host) == "host");
  CHECK(to_string(HostType::Router) == "router");
  CHECK(to_string(AuthMethod::Any) == "any");
  CHECK(to_string(AuthMethod::DigestMd5) == "digest-md5");
  CHECK(to_string(AuthMethod::ScramSha256) == "scram-sha-256");
  CHECK(to_string(AuthMethod::Plain) == "plain");
  CHECK(to_string(AuthMethod::Anonymous) == "anonymous");
}

TEST_CASE("the sample tspc.conf parses to the defaults", "[tspc_config]") {
  const std::string path = std::string(TSP_SOURCE_DIR) + "/tools/tspc/tspc.conf";
  const auto cfg = load_tspc_config(path);
  auto expected = parse_tspc_config("server=broker.example.net\ntemplate=linux\n", path);
  CHECK(cfg.file == path);
  CHECK(cfg.server.text == expected.server.text);
  CHECK(cfg.template_name == expected.template_name);
  CHECK(cfg.tsp_dir == expected.tsp_dir);
  CHECK(cfg.tsp_version == expected.tsp_version);
  CHECK(cfg.tunnel_mode == expected.tunnel_mode);
  CHECK(cfg.if_tunnel_v6v4 == expected.if_tunnel_v6v4);
  CHECK(cfg.if_tunnel_v6udpv4 == expected.if_tunnel_v6udpv4);
  CHECK(cfg.retry_delay == expected.retry_delay);
  CHECK(cfg.retry_delay_max == expected.retry_delay_max);
  CHECK(cfg.keepalive_interval == expected.keepalive_interval);
  CHECK(cfg.log_file == expected.log_file);
  CHECK(cfg.log_filename == expected.log_filename);
  CHECK(cfg.syslog_level == expected.syslog_level);
  CHECK(cfg.dslite_server == expected.dslite_server);
  CHECK(cfg.prefixlen == expected.prefixlen);
  CHECK_NOTHROW(validate(cfg));
}

TEST_CASE("load_tspc_config: a missing file is a clear error", "[tspc_config]") {
  try {
    load_tspc_config("/nonexistent/tspc.conf");
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) == "/nonexistent/tspc.conf: cannot open the configuration file");
  }
}
