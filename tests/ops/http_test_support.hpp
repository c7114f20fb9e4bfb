// Helpers for the ops network tests: a blocking HTTP/1.1 client on raw sockets and a tiny
// HTTP receiver that records what it was sent. Both use 127.0.0.1 only and bounded waits.
#pragma once

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace quoter::ops::testing {

/// A connected TCP socket to 127.0.0.1:port; -1 on failure.
inline int connect_local(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

inline bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

/// Reads until the peer closes or `timeout` passes; returns what arrived.
inline std::string read_until_close(int fd, std::chrono::milliseconds timeout) {
    std::string out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buffer[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            break;
        }
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            break;
        }
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
            break;
        }
        out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
}

/// True when the peer closed the connection within `timeout` (EOF or reset).
inline bool closed_by_peer(int fd, std::chrono::milliseconds timeout) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
        return false;
    }
    char byte = 0;
    return ::recv(fd, &byte, 1, MSG_PEEK) <= 0;
}

struct http_reply {
    int status = 0;
    std::string head;
    std::string body;

    [[nodiscard]] bool has_header(std::string_view line) const {
        return head.find(line) != std::string::npos;
    }
};

inline http_reply parse_reply(const std::string& raw) {
    http_reply reply;
    const auto end = raw.find("\r\n\r\n");
    if (raw.size() < 12 || end == std::string::npos) {
        return reply;
    }
    reply.status = std::stoi(raw.substr(9, 3));
    reply.head = raw.substr(0, end);
    reply.body = raw.substr(end + 4);
    return reply;
}

/// One request on a fresh connection with "Connection: close".
inline http_reply http_request(std::uint16_t port, std::string_view method, std::string_view target,
                               std::string_view extra_headers = {}, std::string_view body = {}) {
    const int fd = connect_local(port);
    REQUIRE(fd >= 0);
    std::string request = std::string(method) + " " + std::string(target) +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    request += extra_headers;
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    request += body;
    REQUIRE(send_all(fd, request));
    const std::string raw = read_until_close(fd, std::chrono::seconds(5));
    ::close(fd);
    return parse_reply(raw);
}

/// A tiny HTTP server on 127.0.0.1 that records each request and answers with a fixed status.
/// One connection at a time, one request per connection (Connection: close).
class test_http_receiver {
public:
    struct received {
        std::string method;
        std::string target;
        std::string body;
    };

    explicit test_http_receiver(int status = 200) : status_(status) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(listen_fd_ >= 0);
        const int one = 1;
        ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        REQUIRE(::listen(listen_fd_, 16) == 0);
        socklen_t length = sizeof address;
        REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~test_http_receiver() {
        stop_.store(true);
        thread_.join();
        ::close(listen_fd_);
    }
    test_http_receiver(const test_http_receiver&) = delete;
    test_http_receiver& operator=(const test_http_receiver&) = delete;

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] std::string url(std::string_view path = "/") const {
        return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
    }
    void set_status(int status) { status_.store(status); }
    /// Answers each request with the body this returns (default "{}"). Set before requests.
    void set_responder(std::function<std::string(const received&)> responder) {
        std::lock_guard lock(mutex_);
        responder_ = std::move(responder);
    }
    [[nodiscard]] std::vector<received> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    /// Waits until at least n requests arrived; false on timeout.
    [[nodiscard]] bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (requests().size() >= n) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return requests().size() >= n;
    }

private:
    void serve() {
        while (!stop_.load()) {
            pollfd p{listen_fd_, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) {
                continue;
            }
            const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) {
                continue;
            }
            handle(fd);
            ::close(fd);
        }
    }

    void handle(int fd) {
        std::string data;
        std::size_t head_end = std::string::npos;
        std::size_t content_length = 0;
        char buffer[4096];
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (std::chrono::steady_clock::now() < deadline) {
            if (head_end != std::string::npos && data.size() >= head_end + 4 + content_length) {
                break;
            }
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) {
                continue;
            }
            const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n <= 0) {
                return;
            }
            data.append(buffer, static_cast<std::size_t>(n));
            if (head_end == std::string::npos) {
                head_end = data.find("\r\n\r\n");
                if (head_end != std::string::npos) {
                    std::string lower = data.substr(0, head_end);
                    for (char& c : lower) {
                        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                    }
                    const auto at = lower.find("content-length:");
                    if (at != std::string::npos) {
                        content_length = std::stoul(lower.substr(at + 15));
                    }
                }
            }
        }
        if (head_end == std::string::npos) {
            return;
        }
        received r;
        const auto first_space = data.find(' ');
        const auto second_space = data.find(' ', first_space + 1);
        r.method = data.substr(0, first_space);
        r.target = data.substr(first_space + 1, second_space - first_space - 1);
        r.body = data.substr(head_end + 4, content_length);
        std::string body = "{}";
        {
            std::lock_guard lock(mutex_);
            if (responder_) {
                body = responder_(r);
            }
            requests_.push_back(std::move(r));
        }
        const int status = status_.load();
        const std::string reply = "HTTP/1.1 " + std::to_string(status) +
                                  " X\r\nContent-Type: application/json\r\nContent-Length: " +
                                  std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
                                  body;
        send_all(fd, reply);
    }

    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<int> status_;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::vector<received> requests_;
    std::function<std::string(const received&)> responder_;
    std::thread thread_;
};

/// A port on 127.0.0.1 with nothing listening (bound and closed at once).
inline std::uint16_t closed_local_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

} // namespace quoter::ops::testing
