// The operations surface of a paper session, end to end through the real binaries: `quoter run
// --mode paper_exchange` with [http] enabled against quoter-venue on 127.0.0.1, watched and
// controlled over HTTP with plain sockets. Every child process runs under a deadline.
#include "net/venue_process.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using quoter::net::testing::venue_process;
using quoter::test::slurp;

constexpr const char* token = "ops-session-test-token-0123456789";

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

/// Polls a text file until it contains needle or the limit passes.
bool wait_for_file_text(const fs::path& path, const std::string& needle,
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

/// A webhook receiver on 127.0.0.1: answers every POST with 200 and keeps the bodies. Serves
/// on its own thread until destroyed; bounded by poll timeouts.
class webhook_receiver {
public:
    webhook_receiver() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0);
        REQUIRE(::listen(fd_, 16) == 0);
        socklen_t len = sizeof(addr);
        REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    webhook_receiver(const webhook_receiver&) = delete;
    webhook_receiver& operator=(const webhook_receiver&) = delete;
    ~webhook_receiver() {
        stop_.store(true);
        thread_.join();
        ::close(fd_);
    }
    [[nodiscard]] std::string url() const {
        return "http://127.0.0.1:" + std::to_string(port_) + "/hooks/secret-path";
    }
    [[nodiscard]] std::string bodies() const {
        const std::lock_guard<std::mutex> lock(mutex_);
        return bodies_;
    }

private:
    void serve() {
        while (!stop_.load()) {
            pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
            if (::poll(&p, 1, 50) <= 0) {
                continue;
            }
            const int client = ::accept(fd_, nullptr, nullptr);
            if (client < 0) {
                continue;
            }
            timeval tv{.tv_sec = 2, .tv_usec = 0};
            ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
            std::string request;
            char buffer[4096];
            for (;;) {
                const auto head_end = request.find("\r\n\r\n");
                if (head_end != std::string::npos) {
                    std::size_t length = 0;
                    for (const char* name : {"Content-Length: ", "content-length: "}) {
                        if (const auto at = request.find(name); at != std::string::npos) {
                            length =
                                std::strtoul(request.c_str() + at + std::strlen(name), nullptr, 10);
                        }
                    }
                    if (request.size() >= head_end + 4 + length) {
                        const std::lock_guard<std::mutex> lock(mutex_);
                        bodies_ += request.substr(head_end + 4, length) + "\n";
                        break;
                    }
                }
                const ssize_t n = ::recv(client, buffer, sizeof(buffer), 0);
                if (n <= 0) {
                    break;
                }
                request.append(buffer, static_cast<std::size_t>(n));
            }
            const std::string reply =
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            (void)::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
            ::close(client);
        }
    }

    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::string bodies_;
    std::thread thread_;
};

} // namespace

TEST_CASE("paper session over HTTP: health, ready, status, metrics; a token-guarded kill cancels "
          "every order",
          "[app][venue][ops]") {
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "21"});
    quoter::test::temp_dir tmp("app-ops");
    const fs::path config = tmp.path() / "paper.toml";
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

TEST_CASE("paper session: POST /flatten engages the kill and is journaled as a flatten command",
          "[app][venue][ops]") {
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "22"});
    quoter::test::temp_dir tmp("app-ops");
    const fs::path journal = tmp.path() / "journal.jsonl";
    const fs::path config = tmp.path() / "paper.toml";
    write_file(config, ops_config(venue, "\n[risk.triggers]\nflatten_on_kill = true\n\n[journal]\n"
                                         "path = \"" +
                                             journal.string() + "\"\n"));
    quoter_child child(
        {"run", "--mode", "paper_exchange", "--config", config.string(), "--duration", "30"},
        {{"QUOTER_HTTP_TOKEN", token}});
    const std::uint16_t port = wait_for_port(child, std::chrono::seconds(15));
    INFO(child.err());
    REQUIRE(port != 0);
    REQUIRE(wait_for_file_text(journal, "\"type\":\"ack\"", std::chrono::seconds(20)));

    const auto anonymous = http_request(port, "POST", "/flatten");
    REQUIRE(anonymous.has_value());
    CHECK(anonymous->status == 401);
    const auto flatten = http_request(port, "POST", "/flatten", token);
    REQUIRE(flatten.has_value());
    CHECK(flatten->status == 202);
    const std::string killed =
        wait_for_body(port, "/status", "\"working_orders\":0", std::chrono::seconds(10));
    INFO(killed);
    CHECK(killed.find("\"state\":\"killed\"") != std::string::npos);
    CHECK(wait_for_file_text(journal,
                             "\"type\":\"command\",\"command\":\"flatten\",\"source\":\"http\"",
                             std::chrono::seconds(5)));

    child.signal(SIGINT);
    CHECK(child.wait(std::chrono::seconds(30)) == 0);
    CHECK_THAT(child.out(), Catch::Contains("final state killed"));
}

TEST_CASE("paper session: a kill alert reaches a local webhook", "[app][venue][ops]") {
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "23"});
    webhook_receiver receiver;
    quoter::test::temp_dir tmp("app-ops");
    const fs::path config = tmp.path() / "paper.toml";
    write_file(config, ops_config(venue, "\n[alerts]\nretry_base_ms = 50\n"));
    quoter_child child(
        {"run", "--mode", "paper_exchange", "--config", config.string(), "--duration", "30"},
        {{"QUOTER_HTTP_TOKEN", token}, {"QUOTER_ALERTS_WEBHOOK_URL", receiver.url()}});
    const std::uint16_t port = wait_for_port(child, std::chrono::seconds(15));
    INFO(child.err());
    REQUIRE(port != 0);
    // The target is announced masked: the secret path never shows.
    CHECK_THAT(child.err(), Catch::Contains("alerts: webhook http://127.0.0.1:"));
    CHECK(child.err().find("secret-path") == std::string::npos);

    const auto kill = http_request(port, "POST", "/kill", token);
    REQUIRE(kill.has_value());
    CHECK(kill->status == 202);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (receiver.bodies().find("manual_kill") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const std::string bodies = receiver.bodies();
    INFO(bodies);
    CHECK_THAT(bodies, Catch::Contains("\"reason\":\"manual_kill\""));
    CHECK_THAT(bodies, Catch::Contains("critical"));
    // stderr still gets the alert.
    CHECK_THAT(child.err(), Catch::Contains("quoter alert: critical kill"));

    child.signal(SIGINT);
    CHECK(child.wait(std::chrono::seconds(30)) == 0);
}

TEST_CASE("paper session: a kill survives kill -9 and a restart; a second engine on the same "
          "lock is refused",
          "[app][venue][ops]") {
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "24"});
    quoter::test::temp_dir tmp("app-ops");
    const fs::path state_dir = tmp.path() / "state";
    fs::create_directories(state_dir);
    const fs::path state_file = state_dir / "quoter-acct1-BTCUSDT.state";
    const fs::path config = tmp.path() / "paper.toml";
    write_file(config, ops_config(venue, "\n[state]\ndirectory = \"" + state_dir.string() +
                                             "\"\naccount = \"acct1\"\nsave_interval_ms = 50\n"));
    const std::vector<std::string> args{
        "run", "--mode", "paper_exchange", "--config", config.string(), "--duration", "30"};
    const std::map<std::string, std::string> env{{"QUOTER_HTTP_TOKEN", token}};
    {
        quoter_child first(args, env);
        const std::uint16_t port = wait_for_port(first, std::chrono::seconds(15));
        INFO(first.err());
        REQUIRE(port != 0);
        REQUIRE(wait_for_body(port, "/status", "\"working_orders\":2", std::chrono::seconds(20))
                    .find("\"working_orders\":2") != std::string::npos);
        CHECK(wait_for_file_text(state_file, "kill_latched 0", std::chrono::seconds(5)));
        const auto kill = http_request(port, "POST", "/kill", token);
        REQUIRE(kill.has_value());
        REQUIRE(wait_for_file_text(state_file, "kill_latched 1", std::chrono::seconds(10)));
        first.signal(SIGKILL);
        CHECK(first.wait(std::chrono::seconds(10)) == 128 + SIGKILL);
    }
    CHECK_THAT(slurp(state_file), Catch::Contains("kill_reason manual_kill"));

    quoter_child second(args, env);
    const std::uint16_t port = wait_for_port(second, std::chrono::seconds(15));
    INFO(second.err());
    REQUIRE(port != 0);
    CHECK_THAT(second.err(), Catch::Contains("state: kill latched before the restart"));
    // Latched from the start: the engine never quotes.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    const auto status = http_request(port, "GET", "/status");
    REQUIRE(status.has_value());
    INFO(status->body);
    CHECK(status->body.find("\"state\":\"killed\"") != std::string::npos);
    CHECK(status->body.find("\"orders_sent\":0") != std::string::npos);
    const auto metrics = http_request(port, "GET", "/metrics");
    REQUIRE(metrics.has_value());
    CHECK(metric_value(metrics->body, "quoter_kill_engaged") == 1.0);

    // A third engine on the same account and symbol is refused while the second runs.
    quoter_child third(args, env);
    const int refused = third.wait(std::chrono::seconds(30));
    INFO(third.err());
    CHECK(refused != 0);
    CHECK(refused != -1);
    CHECK_THAT(third.err(), Catch::Contains("another quoter engine is running on account acct1 "
                                            "symbol BTCUSDT"));

    // An explicit resume unlatches it, and the state file follows.
    const auto resume = http_request(port, "POST", "/resume", token);
    INFO("second engine: " << second.err() << second.out());
    REQUIRE(resume.has_value());
    CHECK(resume->status == 202);
    CHECK(wait_for_body(port, "/status", "\"state\":\"running\"", std::chrono::seconds(10))
              .find("\"state\":\"running\"") != std::string::npos);
    CHECK(wait_for_file_text(state_file, "kill_latched 0", std::chrono::seconds(10)));
    second.signal(SIGINT);
    const int second_status = second.wait(std::chrono::seconds(30));
    INFO("second engine at exit: " << second.err() << second.out());
    CHECK(second_status == 0);
}
