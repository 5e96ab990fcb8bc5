#include "tools/tspc/broker_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "tools/tspc/settings/config_values.hpp"

namespace tsp::tspc {
namespace {

// Far more than 50 addresses of 254 characters: a bigger file is not one of ours.
constexpr size_t kMaxFileBytes = 64 * 1024;

BrokerFile invalid(std::string problem) {
  BrokerFile f;
  f.state = BrokerFile::State::Invalid;
  f.problem = std::move(problem);
  return f;
}

// The file's bytes; nullopt-like via `missing` when it does not exist.
bool read_whole(const std::string& path, std::string& out, bool& missing, std::string& problem) {
  missing = false;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      missing = true;
    } else {
      problem = path + ": " + std::strerror(errno);
    }
    return false;
  }
  char buf[4096];
  for (;;) {
    const ssize_t got = ::read(fd, buf, sizeof buf);
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      problem = path + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    out.append(buf, static_cast<size_t>(got));
    if (out.size() > kMaxFileBytes) {
      problem = path + ": larger than " + std::to_string(kMaxFileBytes) + " bytes";
      ::close(fd);
      return false;
    }
  }
  ::close(fd);
  return true;
}

BrokerFile read_addresses(const std::string& path, size_t most) {
  std::string text, problem;
  bool missing = false;
  if (!read_whole(path, text, missing, problem)) return missing ? BrokerFile{} : invalid(problem);

  BrokerFile f;
  std::string_view rest = text;
  int line_no = 0;
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    if (line.ends_with('\r')) line.remove_suffix(1);
    line = detail::trim(line);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    ++line_no;
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    if (line.size() > kMaxBrokerAddressLen) {
      return invalid(where + "an address longer than " + std::to_string(kMaxBrokerAddressLen) + " characters");
    }
    if (f.brokers.size() == most) {
      return invalid(where + "more than " + std::to_string(most) + (most == 1 ? " address" : " addresses"));
    }
    try {
      f.brokers.push_back(detail::parse_server_address(line));
    } catch (const detail::BadValue& e) {
      std::string_view why = e.what();
      if (why.starts_with("server: ")) why.remove_prefix(8);
      return invalid(where + std::string(why));
    }
  }
  if (f.brokers.empty()) return invalid(path + ": holds no address");
  f.state = BrokerFile::State::Read;
  return f;
}

std::string save_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return temporary + ": " + std::strerror(errno);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t put = ::write(fd, text.data() + done, text.size() - done);
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) {
      const std::string why = temporary + ": " + std::strerror(put < 0 ? errno : EIO);
      ::close(fd);
      ::unlink(temporary.c_str());
      return why;
    }
    done += static_cast<size_t>(put);
  }
  if (::close(fd) != 0 || ::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = path + ": " + std::strerror(errno);
    ::unlink(temporary.c_str());
    return why;
  }
  return {};
}

}  // namespace

BrokerFile read_broker_list(const std::string& path) { return read_addresses(path, kMaxListedBrokers); }
BrokerFile read_last_server(const std::string& path) { return read_addresses(path, 1); }

std::string save_broker_list(const std::string& path, const std::vector<std::string>& brokers) {
  return save_lines(path, brokers);
}

std::string save_last_server(const std::string& path, const std::string& server) {
  return save_lines(path, {server});
}

}  // namespace tsp::tspc
