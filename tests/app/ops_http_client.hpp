// A small HTTP/1.1 client for the tests that watch a running `quoter` over its control plane
// on 127.0.0.1: one request per connection, every wait bounded.
#pragma once

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace quoter::test::ops_http {

struct http_reply {
    int status = 0;
    std::string body;
};

/// One HTTP/1.1 request on a fresh connection to 127.0.0.1:port (Connection: close).
inline std::optional<http_reply> http_request(std::uint16_t port, const std::string& method,
                                              const std::string& target,
                                              const std::string& bearer = {}) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return std::nullopt;
    }
    timeval tv{.tv_sec = 5, .tv_usec = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        ::close(fd);
        return std::nullopt;
    }
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!bearer.empty()) {
        request += "Authorization: Bearer " + bearer + "\r\n";
    }
    request += "Content-Length: 0\r\nConnection: close\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
        ::close(fd);
        return std::nullopt;
    }
    std::string response;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
        if (n <= 0) {
            break;
        }
        response.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    if (response.size() < 12 || response.compare(0, 5, "HTTP/") != 0) {
        return std::nullopt;
    }
    http_reply reply;
    reply.status = std::atoi(response.c_str() + 9);
    const auto head_end = response.find("\r\n\r\n");
    reply.body = head_end == std::string::npos ? std::string{} : response.substr(head_end + 4);
    return reply;
}

/// The port from the session's "http: listening on 127.0.0.1:PORT" line, waiting for it.
inline std::uint16_t wait_for_port(const quoter::test::child_process& child,
                                   std::chrono::seconds limit) {
    const std::string needle = "http: listening on 127.0.0.1:";
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        const std::string err = child.err();
        if (const auto at = err.find(needle); at != std::string::npos) {
            return static_cast<std::uint16_t>(std::atoi(err.c_str() + at + needle.size()));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
}

/// Polls `target` until its body contains needle (or the limit passes); the last body.
inline std::string wait_for_body(std::uint16_t port, const std::string& target,
                                 const std::string& needle, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::string body;
    while (std::chrono::steady_clock::now() < deadline) {
        if (const auto reply = http_request(port, "GET", target)) {
            body = reply->body;
            if (body.find(needle) != std::string::npos) {
                break;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return body;
}

/// The value of a series in a Prometheus text exposition, or -1 if absent: the series named
/// whole ("name{reason=\"x\"}"), or for a bare name the family's first series, whatever its
/// labels (a one-symbol session's symbol="..." series).
inline double metric_value(const std::string& exposition, const std::string& name) {
    const std::string whole = "\n" + name + " ";
    if (const auto at = exposition.find(whole); at != std::string::npos) {
        return std::strtod(exposition.c_str() + at + whole.size(), nullptr);
    }
    if (name.find('{') != std::string::npos) {
        return -1.0;
    }
    const auto labelled = exposition.find("\n" + name + "{");
    const auto labels_end =
        labelled == std::string::npos ? std::string::npos : exposition.find("} ", labelled);
    return labels_end == std::string::npos
               ? -1.0
               : std::strtod(exposition.c_str() + labels_end + 2, nullptr);
}

/// Polls a text file until it contains needle or the limit passes.
inline bool wait_for_file_text(const std::filesystem::path& path, const std::string& needle,
                               std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (slurp(path).find(needle) != std::string::npos) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

/// "127.0.0.1:PORT" of a port that was free a moment ago (bound, then closed): nothing listens
/// there, so a connection to it fails at once.
inline std::string closed_loopback_origin() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return "127.0.0.1:9";
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    const bool bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0 &&
                       ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    ::close(fd);
    return "127.0.0.1:" + std::to_string(bound ? ntohs(addr.sin_port) : 9);
}

/// last_md_update_id of a state file; 0 when the file or the line is missing.
inline unsigned long long state_md_update_id(const std::filesystem::path& state_file) {
    const std::string text = slurp(state_file);
    const std::string key = "\nlast_md_update_id ";
    const auto at = text.find(key);
    return at == std::string::npos ? 0ULL
                                   : std::strtoull(text.c_str() + at + key.size(), nullptr, 10);
}

/// Polls the state file until its last_md_update_id is above 0 or the limit passes; the last
/// value read.
inline unsigned long long wait_for_state_md_update_id(const std::filesystem::path& state_file,
                                                      std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    unsigned long long id = state_md_update_id(state_file);
    while (id == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        id = state_md_update_id(state_file);
    }
    return id;
}

} // namespace quoter::test::ops_http
