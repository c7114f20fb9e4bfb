// The operations surface of a paper session, end to end through the real binaries: `quoter run
// --mode paper_exchange` with [http] enabled against quoter-venue on 127.0.0.1, watched and
// controlled over HTTP with plain sockets. Every child process runs under a deadline.
#include "net/venue_process.hpp"
#include "support/child_process.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using quoter::net::testing::venue_process;
using quoter::test::slurp;

constexpr const char* token = "ops-session-test-token-0123456789";

struct temp_folder {
    fs::path path;
    temp_folder() {
        std::string pattern = (fs::temp_directory_path() / "quoter-ops-session-XXXXXX").string();
        REQUIRE(mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    temp_folder(const temp_folder&) = delete;
    temp_folder& operator=(const temp_folder&) = delete;
    ~temp_folder() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

class quoter_child : public quoter::test::child_process {
public:
    explicit quoter_child(const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env = {})
        : child_process(QUOTER_EXE, args, env, "app-ops") {}
};

void write_file(const fs::path& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    REQUIRE(static_cast<bool>(out.flush()));
}

/// A paper configuration on the local venue with the HTTP control plane on a free port.
std::string ops_config(const venue_process& venue, const std::string& extra = {}) {
    return "[engine]\nmode = \"paper_exchange\"\nmarket = \"spot\"\nsymbol = \"BTCUSDT\"\n"
           "testnet = false\n\n[exchange.spot]\nrest_url = \"" +
           venue.http_url() + "\"\nws_url = \"" + venue.ws_url() +
           "\"\n\n[strategy.linear]\nspread_bps = 2.0\n\n[ops]\nstatus_interval_ms = 50\n\n"
           "[http]\nenabled = true\nport = 0\n" +
           extra;
}

struct http_reply {
    int status = 0;
    std::string body;
};

/// One HTTP/1.1 request on a fresh connection to 127.0.0.1:port (Connection: close).
std::optional<http_reply> http_request(std::uint16_t port, const std::string& method,
                                       const std::string& target, const std::string& bearer = {}) {
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
std::uint16_t wait_for_port(const quoter_child& child, std::chrono::seconds limit) {
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
std::string wait_for_body(std::uint16_t port, const std::string& target, const std::string& needle,
                          std::chrono::seconds limit) {
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

/// The value of an unlabelled series in a Prometheus text exposition, or -1 if absent.
double metric_value(const std::string& exposition, const std::string& name) {
    const std::string prefix = "\n" + name + " ";
    const auto at = exposition.find(prefix);
    if (at == std::string::npos) {
        return -1.0;
    }
    return std::strtod(exposition.c_str() + at + prefix.size(), nullptr);
}

} // namespace

TEST_CASE("paper session over HTTP: health, ready, status, metrics; a token-guarded kill cancels "
          "every order",
          "[app][venue][ops]") {
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "21"});
    temp_folder tmp;
    const fs::path config = tmp.path / "paper.toml";
    write_file(config, ops_config(venue));
    quoter_child child(
        {"run", "--mode", "paper_exchange", "--config", config.string(), "--duration", "30"},
        {{"QUOTER_HTTP_TOKEN", token}});
    const std::uint16_t port = wait_for_port(child, std::chrono::seconds(15));
    INFO(child.err());
    REQUIRE(port != 0);

    const auto health = http_request(port, "GET", "/health");
    REQUIRE(health.has_value());
    CHECK(health->status == 200);

    // Quoting: orders are working on the simulated exchange before the kill.
    const std::string working =
        wait_for_body(port, "/status", "\"working_orders\":2", std::chrono::seconds(20));
    INFO(working);
    REQUIRE(working.find("\"working_orders\":2") != std::string::npos);
    CHECK(working.find("\"symbol\":\"BTCUSDT\"") != std::string::npos);
    CHECK(working.find("\"state\":\"running\"") != std::string::npos);
    const auto ready = http_request(port, "GET", "/ready");
    REQUIRE(ready.has_value());
    CHECK(ready->status == 200);

    const auto metrics_before = http_request(port, "GET", "/metrics");
    REQUIRE(metrics_before.has_value());
    CHECK(metrics_before->status == 200);
    CHECK(metric_value(metrics_before->body, "quoter_kill_engaged") == 0.0);
    CHECK(metric_value(metrics_before->body, "quoter_md_messages_total") > 0.0);
    CHECK(metric_value(metrics_before->body, "quoter_orders_sent_total") >= 2.0);
    CHECK(metric_value(metrics_before->body, "quoter_book_synced") == 1.0);

    // Writes need the token: none and a wrong one are refused and change nothing.
    const auto anonymous = http_request(port, "POST", "/kill");
    REQUIRE(anonymous.has_value());
    CHECK(anonymous->status == 401);
    const auto wrong = http_request(port, "POST", "/kill", "not-the-token");
    REQUIRE(wrong.has_value());
    CHECK(wrong->status == 401);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto still = http_request(port, "GET", "/status");
    REQUIRE(still.has_value());
    CHECK(still->body.find("\"state\":\"running\"") != std::string::npos);

    const auto kill = http_request(port, "POST", "/kill", token);
    REQUIRE(kill.has_value());
    CHECK(kill->status / 100 == 2);

    // The kill engages and the cancels come back: nothing left open.
    const std::string killed =
        wait_for_body(port, "/status", "\"working_orders\":0", std::chrono::seconds(10));
    INFO(killed);
    CHECK(killed.find("\"state\":\"killed\"") != std::string::npos);
    CHECK(killed.find("\"halt_reason\":\"manual_kill\"") != std::string::npos);
    CHECK(killed.find("\"working_orders\":0") != std::string::npos);
    const auto not_ready = http_request(port, "GET", "/ready");
    REQUIRE(not_ready.has_value());
    CHECK(not_ready->status == 503);
    const auto metrics_after = http_request(port, "GET", "/metrics");
    REQUIRE(metrics_after.has_value());
    CHECK(metric_value(metrics_after->body, "quoter_kill_engaged") == 1.0);
    CHECK(metric_value(metrics_after->body, "quoter_kills_total") == 1.0);
    CHECK(metric_value(metrics_after->body, "quoter_working_orders") == 0.0);

    child.signal(SIGINT);
    const int status = child.wait(std::chrono::seconds(30));
    const std::string out = child.out();
    INFO(out);
    CHECK(status == 0);
    CHECK_THAT(out, Catch::Contains("final state killed"));
    CHECK_THAT(out, Catch::Contains("open orders 0"));
}
