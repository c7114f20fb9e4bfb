// The operations surface of a paper session, end to end through the real binaries: `quoter run
// --mode paper_exchange` with [http] enabled against quoter-venue on 127.0.0.1, watched and
// controlled over HTTP with plain sockets. Every child process runs under a deadline.
#include "net/venue_process.hpp"
#include "ops_http_client.hpp"
#include "quoter/ops/state_file.hpp"
#include "support/child_process.hpp"
#include "support/ci.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using quoter::net::testing::venue_process;
using quoter::test::slurp;
using namespace quoter::test::ops_http;

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

    // The kill engages and the cancels come back: nothing left open. (A requote can also show
    // no working orders for a moment, so the kill is waited for first.)
    REQUIRE(wait_for_body(port, "/status", "\"state\":\"killed\"", std::chrono::seconds(10))
                .find("\"state\":\"killed\"") != std::string::npos);
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
    // The snapshot published at the start also shows no working orders: wait for the kill to
    // be published first, then for the cancels to come back.
    const std::string engaged =
        wait_for_body(port, "/status", "\"state\":\"killed\"", std::chrono::seconds(10));
    INFO(engaged);
    CHECK(engaged.find("\"state\":\"killed\"") != std::string::npos);
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
        // The book's last applied update id is saved with the rest.
        CHECK(wait_for_state_md_update_id(state_file, std::chrono::seconds(10)) > 0);
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

TEST_CASE("paper session: a kill restored from the state file flattens the restored position "
          "with what its flatten budget has left",
          "[app][venue][ops][state]") {
    // Nothing spent: the position is flattened on the simulated exchange. The whole budget
    // spent before the restart: no flatten order, the position stays.
    const auto [spent, position_after] = GENERATE(table<std::uint32_t, std::string>(
        {{0, "position BTCUSDT 0 "}, {4, "position BTCUSDT 300 "}}));
    INFO("flatten attempts spent before the restart: " << spent);
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "26"});
    quoter::test::temp_dir tmp("app-ops");
    const fs::path state_dir = tmp.path() / "state";
    fs::create_directories(state_dir);
    const fs::path state_file = state_dir / "quoter-acct1-BTCUSDT.state";
    // A process that died long with a kill latched (and, in the second case, its flattening's
    // budget spent).
    quoter::ops::engine_state saved;
    saved.account = "acct1";
    saved.symbol = "BTCUSDT";
    saved.saved_ns = 1;
    saved.positions = {{"BTCUSDT", 300, 0}};
    saved.cash = 100'000'000'000;
    saved.kill_latched = true;
    saved.kill_reason = "manual_kill";
    saved.flatten_attempts = spent;
    REQUIRE(quoter::ops::save_state(state_file.string(), saved).empty());
    const fs::path config = tmp.path() / "paper.toml";
    write_file(config, ops_config(venue, "\n[state]\ndirectory = \"" + state_dir.string() +
                                             "\"\naccount = \"acct1\"\nsave_interval_ms = 50\n"
                                             "\n[risk.triggers]\nflatten_on_kill = true\n"
                                             "flatten_max_attempts = 4\n"));
    const std::vector<std::string> args{
        "run", "--mode", "paper_exchange", "--config", config.string(), "--duration", "30"};
    quoter_child child(args, {{"QUOTER_HTTP_TOKEN", token}});
    const std::uint16_t port = wait_for_port(child, std::chrono::seconds(15));
    INFO(child.err());
    REQUIRE(port != 0);
    CHECK_THAT(child.err(), Catch::Contains("state: kill latched before the restart"));
    if (spent == 0) {
        // The flatten order is reduce-only: the simulated exchange must know the position.
        CHECK(wait_for_file_text(state_file, position_after, std::chrono::seconds(15)));
    } else {
        CHECK_THAT(child.err(),
                   Catch::Contains("state: kill's flattening had sent 4 of its 4 flatten orders"));
        // Time for the book to sync and a flatten order to go out, were one allowed.
        REQUIRE(wait_for_body(port, "/status", "\"state\":\"killed\"", std::chrono::seconds(10))
                    .find("\"state\":\"killed\"") != std::string::npos);
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        CHECK_THAT(slurp(state_file), Catch::Contains(position_after));
    }
    child.signal(SIGINT);
    CHECK(child.wait(std::chrono::seconds(30)) == 0);
    INFO(child.out());
    // As many orders as the book's depth needed, within the budget; none once it is spent.
    CHECK((child.out().find("flatten on kill: ") != std::string::npos) == (spent == 0));
    const std::string final_state = slurp(state_file);
    const auto at = final_state.find("flatten_attempts ");
    REQUIRE(at != std::string::npos);
    const int attempts = std::stoi(final_state.substr(at + std::strlen("flatten_attempts ")));
    CHECK(attempts >= (spent == 0 ? 1 : 4));
    CHECK(attempts <= 4);
}

namespace {

/// A paper configuration with a state directory, a journal and explicit paper cash (10,000
/// USDT: 1e9 notional units of the synthetic BTCUSDT, tick 0.01, step 0.001).
std::string restart_config(const venue_process& venue, const fs::path& state_dir,
                           const fs::path& journal, const std::string& risk) {
    return ops_config(venue, "\n[state]\ndirectory = \"" + state_dir.string() +
                                 "\"\naccount = \"acct1\"\nsave_interval_ms = 50\n\n[journal]\n"
                                 "path = \"" +
                                 journal.string() +
                                 "\"\n\n[backtest]\ninitial_cash = 10000.0\n\n[risk]\n" + risk);
}

/// A state file as a crashed engine on account acct1, BTCUSDT would have left it.
quoter::ops::engine_state crashed_state() {
    quoter::ops::engine_state s;
    s.account = "acct1";
    s.symbol = "BTCUSDT";
    s.saved_ns = 1;
    s.positions = {{"BTCUSDT", 0, 0}};
    s.cash = 1'000'000'000; // 10,000 USDT
    return s;
}

/// The current trading day of the risk engine (days since the epoch, reset at 00:00 UTC).
std::int32_t today_index() {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<std::int32_t>(std::chrono::duration_cast<std::chrono::hours>(now).count() /
                                     24);
}

/// Waits for /status to hold needle, then returns the body.
std::string status_when(const quoter_child& child, const std::string& needle) {
    const std::uint16_t port = wait_for_port(child, std::chrono::seconds(15));
    REQUIRE(port != 0);
    return wait_for_body(port, "/status", needle, std::chrono::seconds(20));
}

/// Every client_order_id of the journal's order_intent lines.
std::vector<std::uint64_t> intent_ids(const fs::path& journal) {
    std::vector<std::uint64_t> ids;
    std::istringstream lines(slurp(journal));
    const std::string key = "\"client_order_id\":";
    for (std::string line; std::getline(lines, line);) {
        if (line.find("\"type\":\"order_intent\"") == std::string::npos) {
            continue;
        }
        if (const auto at = line.find(key); at != std::string::npos) {
            ids.push_back(std::strtoull(line.c_str() + at + key.size(), nullptr, 10));
        }
    }
    return ids;
}

} // namespace

TEST_CASE("paper session restart: the saved position is restored and the position limits see it",
          "[app][venue][ops][state]") {
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "25"});
    quoter::test::temp_dir tmp("app-ops");
    const fs::path state_dir = tmp.path() / "state";
    fs::create_directories(state_dir);
    const fs::path state_file = state_dir / "quoter-acct1-BTCUSDT.state";
    const fs::path journal = tmp.path() / "journal.jsonl";
    // Long 1.5 BTC bought at 1,000.00 (the synthetic mid): 15% of the 10,000 USDT equity, above
    // the 10% net-position limit, so only orders that reduce the position may pass.
    quoter::ops::engine_state saved = crashed_state();
    saved.positions = {{"BTCUSDT", 1'500, 100'000LL * 1'500}};
    saved.cash = 1'000'000'000 - 150'000'000;
    saved.last_client_order_seq = 5'000;
    saved.open_orders = {{"00000000001387ff", "BTCUSDT", false, 100'010, 10, 0}};
    REQUIRE(quoter::ops::save_state(state_file.string(), saved).empty());
    const fs::path config = tmp.path() / "paper.toml";
    write_file(config,
               restart_config(venue, state_dir, journal, "symbol_net_notional_pct = 10.0\n"));
    quoter_child child(
        {"run", "--mode", "paper_exchange", "--config", config.string(), "--duration", "30"},
        {{"QUOTER_HTTP_TOKEN", token}});
    const std::string status = status_when(child, "\"working_orders\":1");
    INFO(child.err());
    INFO(status);
    CHECK_THAT(child.err(), Catch::Contains("state: restored position 1500 lots"));
    CHECK_THAT(child.err(), Catch::Contains("1 orders open before the restart are gone"));
    // Restored, and only the reducing side quotes.
    CHECK(status.find("\"inventory_base\":1.5") != std::string::npos);
    CHECK(status.find("\"working_orders\":1") != std::string::npos);
    CHECK(status.find("\"working_bids\":0") != std::string::npos);
    const auto metrics =
        http_request(wait_for_port(child, std::chrono::seconds(1)), "GET", "/metrics");
    REQUIRE(metrics.has_value());
    CHECK(metric_value(metrics->body,
                       "quoter_risk_refusals_total{symbol=\"BTCUSDT\",reason=\"symbol_net_notional\"}") > 0.0);
    // Client order ids continue above the saved sequence (bits 55..8 of the id).
    const std::vector<std::uint64_t> ids = intent_ids(journal);
    REQUIRE_FALSE(ids.empty());
    for (const std::uint64_t id : ids) {
        CHECK(((id >> 8U) & ((std::uint64_t{1} << 48U) - 1)) > 5'000U);
    }
    child.signal(SIGINT);
    CHECK(child.wait(std::chrono::seconds(30)) == 0);
    // Saved again at stop, with the position it ran with.
    const auto reloaded = quoter::ops::load_state(state_file.string());
    REQUIRE(reloaded.has_value());
    REQUIRE(reloaded->state.positions.size() == 1);
    CHECK(reloaded->state.positions[0].qty_lots <= 1'500);
    CHECK(reloaded->state.positions[0].qty_lots > 0);
    CHECK(reloaded->state.last_client_order_seq > 5'000U);
    CHECK(reloaded->state.trading_day == today_index());
}

namespace {

/// Waits (bounded) for a metric of the child's /metrics to exceed zero; returns its last value.
double metric_when_positive(const quoter_child& child, const std::string& name) {
    const std::uint16_t port = wait_for_port(child, std::chrono::seconds(15));
    REQUIRE(port != 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(45);
    double value = 0.0;
    while (std::chrono::steady_clock::now() < deadline) {
        if (const auto metrics = http_request(port, "GET", "/metrics")) {
            value = metric_value(metrics->body, name);
            if (value > 0.0) {
                break;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return value;
}

/// A venue and a paper configuration with a state directory, a journal and the given [risk]
/// keys, as every restart test below runs them, on account acct1, BTCUSDT.
struct restart_session {
    restart_session(const std::string& seed, const std::string& risk)
        : venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", seed}), tmp("app-ops"),
          state_dir(tmp.path() / "state"), state_file(state_dir / "quoter-acct1-BTCUSDT.state"),
          journal(tmp.path() / "journal.jsonl"), config(tmp.path() / "paper.toml"),
          args{"run", "--mode", "paper_exchange", "--config", config.string(), "--duration", "30"} {
        fs::create_directories(state_dir);
        write_file(config, restart_config(venue, state_dir, journal, risk));
    }

    venue_process venue;
    quoter::test::temp_dir tmp;
    fs::path state_dir;
    fs::path state_file;
    fs::path journal;
    fs::path config;
    std::vector<std::string> args;
    std::map<std::string, std::string> env{{"QUOTER_HTTP_TOKEN", token}};
};

} // namespace

TEST_CASE("paper session restart: orders sent before the restart still count against "
          "max_orders_per_day",
          "[app][venue][ops][state]") {
    const restart_session session("27", "max_orders_per_day = 2\n");
    const auto& [args, env] = std::tie(session.args, session.env);
    const std::string refused =
        "quoter_risk_refusals_total{symbol=\"BTCUSDT\",reason=\"orders_per_day\"}";
    {
        // The first run sends the day's two orders (its first bid and ask); the requotes after
        // them are refused.
        quoter_child child(args, env);
        CHECK(metric_when_positive(child, refused) > 0.0);
        // The refusal holds new orders for the rest of the day, and /metrics says so.
        CHECK(metric_when_positive(child, "quoter_quote_rate_holds_total") > 0.0);
        CHECK(metric_when_positive(child, "quoter_quote_rate_held_seconds_total") > 0.0);
        const std::string status = status_when(child, "\"orders_sent\":2");
        INFO(child.err());
        CHECK(status.find("\"orders_sent\":2") != std::string::npos);
        child.signal(SIGINT);
        CHECK(child.wait(std::chrono::seconds(30)) == 0);
    }
    const auto saved = quoter::ops::load_state(session.state_file.string());
    REQUIRE(saved.has_value());
    std::uint32_t saved_day_orders = 0;
    for (const auto& bucket : saved->state.rate_buckets) {
        saved_day_orders += bucket.window == "orders_per_day" ? bucket.events : 0;
    }
    CHECK(saved_day_orders == 2);
    // Restarted within the day: the limit is still used up, so nothing more goes out.
    quoter_child child(args, env);
    CHECK(metric_when_positive(child, refused) > 0.0);
    const std::string status = status_when(child, "\"orders_sent\":");
    INFO(child.err());
    INFO(status);
    CHECK_THAT(child.err(), Catch::Contains("2 orders of the saved day window still count"));
    CHECK(status.find("\"orders_sent\":0") != std::string::npos);
    child.signal(SIGINT);
    CHECK(child.wait(std::chrono::seconds(30)) == 0);
}

TEST_CASE("paper session restart: the drawdown limits measure from the equity peak saved before "
          "the restart",
          "[app][venue][ops][state]") {
    const restart_session session("28", "drawdown_hard_pct = 15.0\n");
    const auto& [args, env, state_file] = std::tie(session.args, session.env, session.state_file);
    // Flat at 10,000 USDT after a peak of 12,000: 16.7% below it, past the 15% hard limit.
    quoter::ops::engine_state saved = crashed_state();
    saved.peak_equity = 1'200'000'000;
    REQUIRE(quoter::ops::save_state(state_file.string(), saved).empty());
    quoter_child child(args, env);
    const std::string status = status_when(child, "\"halt_reason\":\"drawdown_hard\"");
    INFO(child.err());
    INFO(status);
    CHECK(status.find("\"state\":\"killed\"") != std::string::npos);
    CHECK(status.find("\"halt_reason\":\"drawdown_hard\"") != std::string::npos);
    CHECK_THAT(child.err(), Catch::Contains("equity peak 12000"));
    child.signal(SIGINT);
    CHECK(child.wait(std::chrono::seconds(30)) == 0);
    // The peak is kept on: the file holds it still.
    const auto reloaded = quoter::ops::load_state(state_file.string());
    REQUIRE(reloaded.has_value());
    CHECK(reloaded->state.peak_equity == 1'200'000'000);
}

TEST_CASE("paper session restart: a daily loss made before the restart still kills; a new day "
          "starts afresh",
          "[app][venue][ops][state]") {
    const restart_session session("26", "daily_loss_pct = 1.0\n");
    const auto& [args, env, state_file] = std::tie(session.args, session.env, session.state_file);
    // Flat after losing 200 USDT today: 2% of the day's 10,000 start, above the 1% limit.
    quoter::ops::engine_state saved = crashed_state();
    saved.cash = 1'000'000'000 - 20'000'000;
    saved.trading_day = today_index();
    saved.saved_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    saved.daily_pnl_base = 0;
    saved.day_start_equity = 1'000'000'000;
    SECTION("same day: the loss counts and the daily-loss limit kills") {
        REQUIRE(quoter::ops::save_state(state_file.string(), saved).empty());
        quoter_child child(args, env);
        const std::string status = status_when(child, "\"halt_reason\":\"daily_loss\"");
        INFO(child.err());
        INFO(status);
        CHECK(status.find("\"state\":\"killed\"") != std::string::npos);
        CHECK(status.find("\"halt_reason\":\"daily_loss\"") != std::string::npos);
        CHECK(status.find("\"orders_sent\":0") != std::string::npos);
        child.signal(SIGINT);
        CHECK(child.wait(std::chrono::seconds(30)) == 0);
    }
    SECTION("the loss was yesterday: today starts at the restored equity and quotes") {
        saved.trading_day = today_index() - 1;
        saved.saved_ns -= 86'400LL * 1'000'000'000;
        REQUIRE(quoter::ops::save_state(state_file.string(), saved).empty());
        quoter_child child(args, env);
        const std::string status = status_when(child, "\"working_orders\":2");
        INFO(child.err());
        INFO(status);
        CHECK(status.find("\"state\":\"running\"") != std::string::npos);
        CHECK(status.find("\"working_orders\":2") != std::string::npos);
        child.signal(SIGINT);
        CHECK(child.wait(std::chrono::seconds(30)) == 0);
        const auto reloaded = quoter::ops::load_state(state_file.string());
        REQUIRE(reloaded.has_value());
        CHECK(reloaded->state.trading_day == today_index());
        // Today's start is the equity the engine came back with (9,800 USDT), not 10,000.
        CHECK(reloaded->state.day_start_equity < 990'000'000);
        CHECK(reloaded->state.day_start_equity > 970'000'000);
    }
}

namespace {

/// `quoter run` of a paper session for 30 s, its reports in out.
std::vector<std::string> paper_run_args(const fs::path& config, const fs::path& out) {
    return {"run",        "--mode", "paper_exchange", "--config",  config.string(),
            "--duration", "30",     "--out",          out.string()};
}

/// A venue serving BTCUSDT and ETHUSDT and a paper session trading both in one process (one loop
/// each), with a state directory and a journal on account acct1, and the given [risk] keys.
struct two_symbol_session {
    two_symbol_session(const std::string& seed, const std::string& risk)
        : venue({"--symbols", "BTCUSDT,ETHUSDT", "--rate-hz", "50", "--seed", seed}),
          tmp("app-ops"), state_dir(tmp.path() / "state"), journal(tmp.path() / "journal.jsonl"),
          config(tmp.path() / "two.toml"), args(paper_run_args(config, tmp.path() / "report")) {
        fs::create_directories(state_dir);
        write_file(config,
                   "[engine]\nmode = \"paper_exchange\"\nmarket = \"spot\"\n"
                   "symbols = [\"BTCUSDT\", \"ETHUSDT\"]\ntestnet = false\n\n[exchange.spot]\n"
                   "rest_url = \"" +
                       venue.http_url() + "\"\nws_url = \"" + venue.ws_url() +
                       "\"\n\n[strategy.linear]\nspread_bps = 2.0\n\n[ops]\n"
                       "status_interval_ms = 50\n\n[http]\nenabled = true\nport = 0\n\n"
                       "[state]\ndirectory = \"" +
                       state_dir.string() +
                       "\"\naccount = \"acct1\"\nsave_interval_ms = 50\n\n[journal]\npath = \"" +
                       journal.string() + "\"\n\n[backtest]\ninitial_cash = 20000.0\n\n[risk]\n" +
                       risk);
    }

    /// The state file of one symbol of the session.
    [[nodiscard]] fs::path state_file(const std::string& symbol) const {
        return state_dir / ("quoter-acct1-" + symbol + ".state");
    }

    venue_process venue;
    quoter::test::temp_dir tmp;
    fs::path state_dir;
    fs::path journal;
    fs::path config;
    std::vector<std::string> args;
    std::map<std::string, std::string> env{{"QUOTER_HTTP_TOKEN", token}};
};

/// The journal's lines of one type and symbol that also hold needle.
std::size_t journal_lines(const fs::path& journal, const std::string& type,
                          const std::string& symbol, const std::string& needle = {}) {
    std::size_t count = 0;
    std::istringstream lines(slurp(journal));
    for (std::string line; std::getline(lines, line);) {
        if (line.find("\"type\":\"" + type + "\"") != std::string::npos &&
            line.find("\"symbol\":\"" + symbol + "\"") != std::string::npos &&
            line.find(needle) != std::string::npos) {
            ++count;
        }
    }
    return count;
}

/// Waits (bounded) until the journal holds an orders_per_day refusal for every symbol named.
bool wait_for_day_refusals(const fs::path& journal, const std::vector<std::string>& symbols,
                           std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (std::all_of(symbols.begin(), symbols.end(), [&](const std::string& symbol) {
                return journal_lines(journal, "risk_reject", symbol,
                                     "\"reason\":\"orders_per_day\"") > 0;
            })) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

/// The orders a state file's orders_per_day window still counts.
std::uint32_t saved_day_orders(const fs::path& state_file) {
    const auto saved = quoter::ops::load_state(state_file.string());
    REQUIRE(saved.has_value());
    std::uint32_t orders = 0;
    for (const auto& bucket : saved->state.rate_buckets) {
        orders += bucket.window == "orders_per_day" ? bucket.events : 0;
    }
    return orders;
}

} // namespace

TEST_CASE("paper session of several symbols restart: the session's orders before the restart "
          "still count against max_orders_per_day",
          "[app][venue][ops][state]") {
    // max_orders_per_day counts the orders of every symbol together.
    const two_symbol_session session("31", "max_orders_per_day = 4\n");
    const auto& [args, env, journal] = std::tie(session.args, session.env, session.journal);
    const std::vector<std::string> symbols{"BTCUSDT", "ETHUSDT"};
    // Each symbol's journal lines and state file: its own orders.
    const auto orders_of = [&](const std::string& symbol) {
        const std::size_t intents = journal_lines(journal, "order_intent", symbol);
        const std::uint32_t saved = saved_day_orders(session.state_file(symbol));
        CHECK(intents == saved);
        return saved;
    };
    std::map<std::string, std::uint32_t> first_run;
    {
        // The first run sends the day's four orders, shared by the symbols in whatever order
        // their books came; every quote after them is refused, on both symbols.
        quoter_child child(args, env);
        const bool refused = wait_for_day_refusals(journal, symbols, std::chrono::seconds(45));
        INFO(child.err());
        REQUIRE(refused);
        child.signal(SIGINT);
        CHECK(child.wait(std::chrono::seconds(30)) == 0);
    }
    for (const std::string& symbol : symbols) {
        INFO(symbol);
        first_run[symbol] = orders_of(symbol);
    }
    CHECK(first_run["BTCUSDT"] + first_run["ETHUSDT"] == 4);
    const fs::path first_journal = session.tmp.path() / "first.jsonl";
    fs::rename(journal, first_journal);

    // Restarted within the day: the symbols' saved orders add up to the limit again, so nothing
    // goes out on either.
    quoter_child child(args, env);
    const bool refused = wait_for_day_refusals(journal, symbols, std::chrono::seconds(45));
    INFO(child.err());
    CHECK(refused);
    for (const std::string& symbol : symbols) {
        INFO(symbol);
        if (first_run[symbol] != 0) {
            CHECK_THAT(child.err(), Catch::Contains("state: " + symbol +
                                                    ": order and cancel rate windows restored; " +
                                                    std::to_string(first_run[symbol]) +
                                                    " orders of the saved day window still count"));
        }
        CHECK_THAT(child.err(), Catch::Contains("state: " + symbol + ": restored position"));
    }
    child.signal(SIGINT);
    CHECK(child.wait(std::chrono::seconds(30)) == 0);
    for (const std::string& symbol : symbols) {
        INFO(symbol);
        CHECK(journal_lines(journal, "order_intent", symbol) == 0);
        CHECK(saved_day_orders(session.state_file(symbol)) == first_run[symbol]);
    }
}

TEST_CASE("paper session of several symbols: each symbol's lock keeps a one-symbol engine on it "
          "out, and the other way round",
          "[app][venue][ops][state]") {
    const two_symbol_session session("32", "");
    const std::string lock_message =
        "another quoter engine is running on account acct1 symbol ETHUSDT";
    // A one-symbol session on the second symbol, on the same state directory and account.
    const fs::path single_config = session.tmp.path() / "eth.toml";
    write_file(single_config,
               "[engine]\nmode = \"paper_exchange\"\nmarket = \"spot\"\nsymbol = \"ETHUSDT\"\n"
               "testnet = false\n\n[exchange.spot]\nrest_url = \"" +
                   session.venue.http_url() + "\"\nws_url = \"" + session.venue.ws_url() +
                   "\"\n\n[ops]\nstatus_interval_ms = 50\n\n[http]\nenabled = true\nport = 0\n"
                   "\n[state]\ndirectory = \"" +
                   session.state_dir.string() + "\"\naccount = \"acct1\"\n");
    const std::vector<std::string> single_args =
        paper_run_args(single_config, session.tmp.path() / "eth-report");
    {
        quoter_child both(session.args, session.env);
        INFO(both.err());
        // The locks are taken before the HTTP server starts.
        REQUIRE(wait_for_port(both, std::chrono::seconds(15)) != 0);
        quoter_child single(single_args, session.env);
        const int refused = single.wait(std::chrono::seconds(30));
        INFO(single.err());
        CHECK(refused != 0);
        CHECK(refused != -1);
        CHECK_THAT(single.err(), Catch::Contains(lock_message));
        both.signal(SIGINT);
        CHECK(both.wait(std::chrono::seconds(30)) == 0);
    }
    quoter_child single(single_args, session.env);
    INFO(single.err());
    REQUIRE(wait_for_port(single, std::chrono::seconds(15)) != 0);
    quoter_child both(session.args, session.env);
    const int refused = both.wait(std::chrono::seconds(30));
    INFO(both.err());
    CHECK(refused != 0);
    CHECK(refused != -1);
    CHECK_THAT(both.err(), Catch::Contains(lock_message));
    single.signal(SIGINT);
    CHECK(single.wait(std::chrono::seconds(30)) == 0);
}

TEST_CASE("paper session of several symbols: a kill latched in one symbol's file halts the whole "
          "session until resume",
          "[app][venue][ops][state]") {
    const two_symbol_session session("33", "");
    // The second symbol's file alone says killed, as a crash right after its kill leaves it.
    quoter::ops::engine_state saved;
    saved.account = "acct1";
    saved.symbol = "ETHUSDT";
    saved.saved_ns = 1;
    saved.positions = {{"ETHUSDT", 0, 0}};
    saved.cash = 1'000'000'000; // 10,000 USDT (tick 0.01, step 0.001)
    saved.open_orders = {{"0000000000000a01", "ETHUSDT", true, 100'000, 10, 0}};
    saved.kill_latched = true;
    saved.kill_reason = "daily_loss";
    REQUIRE(quoter::ops::save_state(session.state_file("ETHUSDT").string(), saved).empty());
    quoter_child child(session.args, session.env);
    const std::uint16_t port = wait_for_port(child, std::chrono::seconds(15));
    INFO(child.err());
    REQUIRE(port != 0);
    CHECK_THAT(child.err(), Catch::Contains("state: ETHUSDT: kill latched before the restart "
                                            "(reason daily_loss)"));
    CHECK_THAT(child.err(), Catch::Contains("state: ETHUSDT: 1 orders open before the restart are "
                                            "gone with the simulated exchange"));
    // The lead's file follows: the session is one kill domain.
    CHECK(wait_for_file_text(session.state_file("BTCUSDT"), "kill_latched 1",
                             std::chrono::seconds(10)));
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    const auto status = http_request(port, "GET", "/status");
    REQUIRE(status.has_value());
    INFO(status->body);
    CHECK(status->body.find("\"state\":\"killed\"") != std::string::npos);
    for (const char* symbol : {"BTCUSDT", "ETHUSDT"}) {
        INFO(symbol);
        CHECK(journal_lines(session.journal, "order_intent", symbol) == 0);
    }
    // An explicit resume lifts it for every symbol, and both files follow.
    const auto resume = http_request(port, "POST", "/resume", token);
    REQUIRE(resume.has_value());
    CHECK(resume->status == 202);
    for (const char* symbol : {"BTCUSDT", "ETHUSDT"}) {
        INFO(symbol);
        CHECK(wait_for_file_text(session.state_file(symbol), "kill_latched 0",
                                 std::chrono::seconds(10)));
    }
    child.signal(SIGINT);
    CHECK(child.wait(std::chrono::seconds(30)) == 0);
}

namespace {

std::string find_promtool() {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
        if (::access((dir + "/promtool").c_str(), X_OK) == 0) {
            return dir + "/promtool";
        }
    }
    return {};
}

/// The value of one labelled series ("name{reason=\"x\"}"), or -1 if absent.
double series_value(const std::string& exposition, const std::string& series) {
    return metric_value(exposition, series);
}

} // namespace

TEST_CASE("paper session metrics: venue rejects by reason, order round trips, and promtool "
          "accepts the exposition",
          "[app][venue][ops][metrics]") {
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "27"});
    quoter::test::temp_dir tmp("app-ops");
    const fs::path config = tmp.path() / "paper.toml";
    // One open order at a time: the simulated exchange rejects the second quote.
    write_file(config, ops_config(venue, "\n[sim_exchange]\nmax_open_orders = 1\n"));
    quoter_child child(
        {"run", "--mode", "paper_exchange", "--config", config.string(), "--duration", "30"},
        {{"QUOTER_HTTP_TOKEN", token}});
    const std::uint16_t port = wait_for_port(child, std::chrono::seconds(15));
    INFO(child.err());
    REQUIRE(port != 0);
    const std::string reject_series = "quoter_order_rejects_total{reason=\"too_many_open_orders\"}";
    std::string exposition;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
        if (const auto reply = http_request(port, "GET", "/metrics")) {
            exposition = reply->body;
            if (series_value(exposition, reject_series) > 0.0 &&
                metric_value(exposition, "quoter_order_round_trip_seconds_count") > 0.0 &&
                metric_value(exposition, "quoter_tick_to_order_seconds_count") > 0.0) {
                break;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    INFO(exposition);
    CHECK(series_value(exposition, reject_series) > 0.0);
    CHECK(metric_value(exposition, "quoter_order_round_trip_seconds_count") > 0.0);
    // The simulated order-entry latency is 1 ms each way: every round trip is above zero.
    CHECK(metric_value(exposition, "quoter_order_round_trip_seconds_sum") > 0.0);
    CHECK(metric_value(exposition, "quoter_api_errors_total") == 0.0);
    // Every tick that sent an order: socket read to the order, from the core's per-hop stamps.
    CHECK(metric_value(exposition, "quoter_tick_to_order_seconds_count") > 0.0);
    CHECK(metric_value(exposition, "quoter_tick_to_order_seconds_sum") > 0.0);
    // The kernel stamps loopback receives: the md frames' kernel -> read hop reaches the core.
    CHECK(metric_value(exposition, "quoter_kernel_to_read_seconds_count") > 0.0);
    // /status is a snapshot the core publishes every status interval: the round trips the
    // metrics counted reach it at the next one.
    std::string status;
    double p50 = 0.0;
    double p99 = 0.0;
    for (const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
         p50 <= 0.0 && std::chrono::steady_clock::now() < until;) {
        status = wait_for_body(port, "/status", "\"round_trip_p50_ns\":", std::chrono::seconds(5));
        const auto p50_at = status.find("\"round_trip_p50_ns\":");
        const auto p99_at = status.find("\"round_trip_p99_ns\":");
        REQUIRE(p50_at != std::string::npos);
        REQUIRE(p99_at != std::string::npos);
        p50 = std::strtod(status.c_str() + p50_at + 20, nullptr);
        p99 = std::strtod(status.c_str() + p99_at + 20, nullptr);
        if (p50 <= 0.0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    INFO(status);
    CHECK(p50 > 0.0);
    CHECK(p99 >= p50);
    // Tick to order: socket read to the order the paper exchange took, from the core's stamps.
    const auto t2o_at = status.find("\"tick_to_order_p50_ns\":");
    REQUIRE(t2o_at != std::string::npos);
    CHECK(std::strtod(status.c_str() + t2o_at + 23, nullptr) > 0.0);

    const std::string promtool = find_promtool();
    if (promtool.empty()) {
        quoter::test::skip_unless_ci("promtool not installed (package prometheus), so the "
                                     "exposition was not checked by it");
    } else {
        const fs::path file = tmp.path() / "metrics.txt";
        write_file(file, exposition);
        const std::string command = promtool + " check metrics < " + file.string() + " > " +
                                    (tmp.path() / "promtool.out").string() + " 2>&1";
        const int rc = std::system(command.c_str());
        INFO(slurp(tmp.path() / "promtool.out"));
        CHECK(WIFEXITED(rc));
        CHECK(WEXITSTATUS(rc) == 0);
    }
    // The status line (every 5 s without a terminal) shows the market, our quotes, the
    // inventory, the risk state and the round trips, not only orders and PnL.
    const auto line_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (child.err().find("paper 5s") == std::string::npos &&
           std::chrono::steady_clock::now() < line_deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const std::string err = child.err();
    const auto line_at = err.find("paper 5s");
    REQUIRE(line_at != std::string::npos);
    const std::string line = err.substr(line_at, err.find('\n', line_at) - line_at);
    INFO(line);
    // The risk state, then the mid (a number: the book is synced). Here the rejects of the
    // one-order exchange may have tripped the error-storm kill; the state shows either way.
    const auto mid_at = line.find("  mid ");
    REQUIRE(mid_at != std::string::npos);
    CHECK(std::isdigit(static_cast<unsigned char>(line[mid_at + 6])) != 0);
    CHECK((line.find("s  running  mid ") != std::string::npos ||
           line.find("s  killed  mid ") != std::string::npos));
    CHECK_THAT(line, Catch::Contains("  quotes "));
    CHECK_THAT(line, Catch::Contains("  inv "));
    // Acks have come back by now: the round-trip percentiles are numbers, not "-".
    const auto rtt_at = line.find("  rtt p50/p99 ");
    REQUIRE(rtt_at != std::string::npos);
    CHECK(std::isdigit(static_cast<unsigned char>(line[rtt_at + 14])) != 0);
    // So has the kernel's receive time of the frames, carried with each event to the core.
    const auto kernel_at = line.find("  kernel->read p50 ");
    REQUIRE(kernel_at != std::string::npos);
    CHECK(std::isdigit(static_cast<unsigned char>(line[kernel_at + 19])) != 0);
    child.signal(SIGINT);
    CHECK(child.wait(std::chrono::seconds(30)) == 0);
}

TEST_CASE("paper session: SIGUSR2 pauses and resumes without a terminal, journaled with source "
          "signal",
          "[app][venue][ops][signal]") {
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "28"});
    quoter::test::temp_dir tmp("app-ops");
    const fs::path journal = tmp.path() / "journal.jsonl";
    const fs::path config = tmp.path() / "paper.toml";
    write_file(config, ops_config(venue, "\n[journal]\npath = \"" + journal.string() + "\"\n"));
    quoter_child child(
        {"run", "--mode", "paper_exchange", "--config", config.string(), "--duration", "30"},
        {{"QUOTER_HTTP_TOKEN", token}});
    const std::uint16_t port = wait_for_port(child, std::chrono::seconds(15));
    INFO(child.err());
    REQUIRE(port != 0);
    REQUIRE(wait_for_body(port, "/status", "\"working_orders\":2", std::chrono::seconds(20))
                .find("\"working_orders\":2") != std::string::npos);

    child.signal(SIGUSR2);
    const std::string paused =
        wait_for_body(port, "/status", "\"state\":\"paused\"", std::chrono::seconds(10));
    INFO(paused);
    CHECK(paused.find("\"state\":\"paused\"") != std::string::npos);
    CHECK(wait_for_file_text(journal,
                             "\"type\":\"command\",\"command\":\"pause\",\"source\":"
                             "\"signal\"",
                             std::chrono::seconds(5)));
    // The pause pulls the quotes.
    CHECK(wait_for_body(port, "/status", "\"working_orders\":0", std::chrono::seconds(10))
              .find("\"working_orders\":0") != std::string::npos);

    child.signal(SIGUSR2);
    const std::string resumed =
        wait_for_body(port, "/status", "\"state\":\"running\"", std::chrono::seconds(10));
    INFO(resumed);
    CHECK(resumed.find("\"state\":\"running\"") != std::string::npos);
    CHECK(wait_for_file_text(journal,
                             "\"type\":\"command\",\"command\":\"resume\",\"source\":"
                             "\"signal\"",
                             std::chrono::seconds(5)));

    child.signal(SIGINT);
    CHECK(child.wait(std::chrono::seconds(30)) == 0);
    // One journal line per signal.
    const std::string text = slurp(journal);
    std::size_t commands = 0;
    for (auto at = text.find("\"type\":\"command\""); at != std::string::npos;
         at = text.find("\"type\":\"command\"", at + 1)) {
        ++commands;
    }
    CHECK(commands == 2);
}

TEST_CASE("paper session start-up: an unreachable exchangeInfo and an unknown symbol are told "
          "apart",
          "[app][venue][ops][startup]") {
    quoter::test::temp_dir tmp("app-ops");
    const fs::path config = tmp.path() / "paper.toml";
    SECTION("the venue lists other symbols: the symbol is unknown") {
        venue_process venue({"--symbols", "ETHUSDT", "--rate-hz", "50", "--seed", "29"});
        write_file(config, ops_config(venue));
        quoter_child child(
            {"run", "--mode", "paper_exchange", "--config", config.string(), "--duration", "30"});
        const int status = child.wait(std::chrono::seconds(60));
        INFO(child.err());
        CHECK(status != 0);
        CHECK(status != -1);
        CHECK_THAT(child.err(), Catch::Contains("not in exchangeInfo"));
        CHECK(child.err().find("exchangeInfo unavailable") == std::string::npos);
    }
    SECTION("nothing listens at rest_url: the connection failed") {
        const std::string origin = quoter::test::ops_http::closed_loopback_origin();
        write_file(config, "[engine]\nmode = \"paper_exchange\"\nmarket = \"spot\"\nsymbol = "
                           "\"BTCUSDT\"\ntestnet = false\n\n[exchange.spot]\nrest_url = \"http://" +
                               origin + "\"\nws_url = \"ws://" + origin + "\"\n");
        quoter_child child(
            {"run", "--mode", "paper_exchange", "--config", config.string(), "--duration", "30"});
        const int status = child.wait(std::chrono::seconds(60));
        INFO(child.err());
        CHECK(status != 0);
        CHECK(status != -1);
        CHECK_THAT(child.err(),
                   Catch::Contains("exchangeInfo unavailable: the REST request failed"));
        CHECK(child.err().find("symbol unknown") == std::string::npos);
    }
}

TEST_CASE("run --mode sim serves /status and /metrics over HTTP, obeys a token-guarded POST /kill "
          "and writes the state file",
          "[app][ops][sim]") {
    quoter::test::temp_dir tmp("app-ops");
    const fs::path state_dir = tmp.path() / "state";
    fs::create_directories(state_dir);
    const fs::path state_file = state_dir / "quoter-sim1-BTCUSDT.state";
    const fs::path alerts_file = tmp.path() / "alerts.jsonl";
    // config/sim.toml with the ops sections appended (it has none of its own).
    const fs::path config = tmp.path() / "sim.toml";
    write_file(config, slurp(fs::path(QUOTER_SOURCE_DIR) / "config/sim.toml") +
                           "\n[ops]\nstatus_interval_ms = 50\n\n[http]\nenabled = true\nport = "
                           "0\n\n[state]\ndirectory = \"" +
                           state_dir.string() +
                           "\"\naccount = \"sim1\"\nsave_interval_ms = 50\n\n[alerts]\nfile = "
                           "\"" +
                           alerts_file.string() + "\"\n");
    quoter_child child({"run", "--mode", "sim", "--config", config.string(), "--duration", "60",
                        "--out", (tmp.path() / "out").string()},
                       {{"QUOTER_HTTP_TOKEN", token}});
    const std::uint16_t port = wait_for_port(child, std::chrono::seconds(15));
    INFO(child.err());
    REQUIRE(port != 0);

    const std::string quoting =
        wait_for_body(port, "/status", "\"working_orders\":2", std::chrono::seconds(20));
    INFO(quoting);
    REQUIRE(quoting.find("\"working_orders\":2") != std::string::npos);
    CHECK(quoting.find("\"mode\":\"sim\"") != std::string::npos);
    CHECK(quoting.find("\"symbol\":\"BTCUSDT\"") != std::string::npos);
    CHECK(quoting.find("\"state\":\"running\"") != std::string::npos);
    const auto metrics = http_request(port, "GET", "/metrics");
    REQUIRE(metrics.has_value());
    CHECK(metric_value(metrics->body, "quoter_orders_sent_total") >= 2.0);
    CHECK(metric_value(metrics->body, "quoter_kill_engaged") == 0.0);
    CHECK(wait_for_file_text(state_file, "kill_latched 0", std::chrono::seconds(10)));

    const auto anonymous = http_request(port, "POST", "/kill");
    REQUIRE(anonymous.has_value());
    CHECK(anonymous->status == 401);
    const auto kill = http_request(port, "POST", "/kill", token);
    REQUIRE(kill.has_value());
    CHECK(kill->status == 202);
    REQUIRE(wait_for_body(port, "/status", "\"state\":\"killed\"", std::chrono::seconds(10))
                .find("\"state\":\"killed\"") != std::string::npos);
    const std::string killed =
        wait_for_body(port, "/status", "\"working_orders\":0", std::chrono::seconds(10));
    INFO(killed);
    CHECK(killed.find("\"working_orders\":0") != std::string::npos);
    const auto after = http_request(port, "GET", "/metrics");
    REQUIRE(after.has_value());
    CHECK(metric_value(after->body, "quoter_kill_engaged") == 1.0);
    CHECK(wait_for_file_text(state_file, "kill_latched 1", std::chrono::seconds(10)));
    CHECK(wait_for_file_text(alerts_file, "manual_kill", std::chrono::seconds(10)));

    child.signal(SIGINT);
    CHECK(child.wait(std::chrono::seconds(30)) == 0);
    CHECK_THAT(child.out(), Catch::Contains("state killed"));
}

TEST_CASE("run --mode sim with several symbols keeps a state file per symbol, and a kill any of "
          "them latched halts every symbol after the restart",
          "[app][ops][sim]") {
    quoter::test::temp_dir tmp("app-ops");
    const fs::path state_dir = tmp.path() / "state";
    fs::create_directories(state_dir);
    std::string text = slurp(fs::path(QUOTER_SOURCE_DIR) / "config/sim.toml");
    const std::string single = "symbol = \"BTCUSDT\"\n";
    const auto at = text.find(single);
    REQUIRE(at != std::string::npos);
    text.replace(at, single.size(), "symbols = [\"BTCUSDT\", \"ETHUSDT\"]\n");
    text += "\n[symbol.BTCUSDT]\n\n[symbol.ETHUSDT]\nstep_size = \"0.0001\"\nstart_price = "
            "3000.0\n\n[state]\ndirectory = \"" +
            state_dir.string() + "\"\naccount = \"sim2\"\nsave_interval_ms = 50\n";
    const fs::path config = tmp.path() / "two.toml";
    write_file(config, text);
    const std::string out = (tmp.path() / "out").string();
    const std::vector<std::string> run{"run",           "--mode",     "sim", "--config",
                                       config.string(), "--duration", "1",   "--speed",
                                       "100",           "--out",      out};

    quoter_child first(run);
    REQUIRE(first.wait(std::chrono::seconds(60)) == 0);
    INFO(first.err());
    const fs::path eth_file = state_dir / "quoter-sim2-ETHUSDT.state";
    for (const char* symbol : {"BTCUSDT", "ETHUSDT"}) {
        const fs::path file = state_dir / (std::string("quoter-sim2-") + symbol + ".state");
        REQUIRE(fs::exists(file));
        const auto loaded = quoter::ops::load_state(file.string());
        REQUIRE(loaded.has_value());
        CHECK(loaded->state.symbol == symbol);
        CHECK_FALSE(loaded->state.kill_latched);
    }

    // ETHUSDT alone stopped on its own limit before the restart.
    auto eth = quoter::ops::load_state(eth_file.string());
    REQUIRE(eth.has_value());
    eth->state.kill_latched = true;
    eth->state.kill_reason = "daily_loss";
    REQUIRE(quoter::ops::save_state(eth_file.string(), eth->state).empty());

    quoter_child second(run);
    REQUIRE(second.wait(std::chrono::seconds(60)) == 0);
    INFO(second.err());
    CHECK_THAT(second.err(),
               Catch::Contains("state: ETHUSDT: kill latched before the restart (reason "
                               "daily_loss)"));
    CHECK_THAT(second.out(), Catch::Contains("risk: state killed"));
    CHECK(second.out().find("state running") == std::string::npos);
    for (const char* symbol : {"BTCUSDT", "ETHUSDT"}) {
        const auto loaded = quoter::ops::load_state(
            (state_dir / (std::string("quoter-sim2-") + symbol + ".state")).string());
        REQUIRE(loaded.has_value());
        CHECK(loaded->state.kill_latched);
    }
}

TEST_CASE("paper session of several symbols: /metrics and /status have each symbol, and a kill "
          "shows on every one",
          "[app][venue][ops][metrics]") {
    const two_symbol_session session("33", "");
    quoter_child child(session.args, session.env);
    const std::uint16_t port = wait_for_port(child, std::chrono::seconds(15));
    INFO(child.err());
    REQUIRE(port != 0);
    const auto series = [](const std::string& family, const std::string& symbol) {
        return family + "{symbol=\"" + symbol + "\"}";
    };
    // Polls /metrics (bounded) until every symbol's series of family meets want.
    const auto wait_for = [&](const std::string& family, auto want) {
        std::string exposition;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (std::chrono::steady_clock::now() < deadline) {
            if (const auto reply = http_request(port, "GET", "/metrics")) {
                exposition = reply->body;
                if (want(metric_value(exposition, series(family, "BTCUSDT"))) &&
                    want(metric_value(exposition, series(family, "ETHUSDT")))) {
                    break;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return exposition;
    };
    const std::string quoting =
        wait_for("quoter_orders_sent_total", [](double sent) { return sent > 0.0; });
    INFO(quoting);
    for (const std::string symbol : {"BTCUSDT", "ETHUSDT"}) {
        INFO(symbol);
        CHECK(metric_value(quoting, series("quoter_orders_sent_total", symbol)) > 0.0);
        CHECK(metric_value(quoting, series("quoter_kill_engaged", symbol)) == 0.0);
        CHECK(metric_value(quoting, series("quoter_book_synced", symbol)) == 1.0);
        CHECK(metric_value(quoting, series("quoter_pnl_quote", symbol)) > -1.0);
    }
    // The session's own series carry no symbol.
    CHECK(quoting.find("\nquoter_gateway_connected 1\n") != std::string::npos);

    const auto kill = http_request(port, "POST", "/kill", token);
    REQUIRE(kill.has_value());
    CHECK(kill->status == 202);
    const std::string killed =
        wait_for("quoter_kill_engaged", [](double engaged) { return engaged == 1.0; });
    INFO(killed);
    for (const std::string symbol : {"BTCUSDT", "ETHUSDT"}) {
        INFO(symbol);
        CHECK(metric_value(killed, series("quoter_kill_engaged", symbol)) == 1.0);
        CHECK(metric_value(killed, series("quoter_kills_total", symbol)) == 1.0);
    }
    // /status lists both symbols, killed.
    const std::string status =
        wait_for_body(port, "/status", "\"symbol\":\"ETHUSDT\",\"state\":\"killed\"",
                      std::chrono::seconds(10));
    INFO(status);
    CHECK(status.find("\"symbols\":[{\"symbol\":\"BTCUSDT\",\"state\":\"killed\"") !=
          std::string::npos);
    CHECK(status.find("{\"symbol\":\"ETHUSDT\",\"state\":\"killed\",\"halt_reason\":\"manual_kill\"") !=
          std::string::npos);
    const std::string promtool = find_promtool();
    if (promtool.empty()) {
        quoter::test::skip_unless_ci("promtool not installed (package prometheus), so the "
                                     "exposition was not checked by it");
    } else {
        const fs::path file = session.tmp.path() / "metrics.txt";
        write_file(file, killed);
        const std::string command = promtool + " check metrics < " + file.string() + " > " +
                                    (session.tmp.path() / "promtool.out").string() + " 2>&1";
        const int rc = std::system(command.c_str());
        INFO(slurp(session.tmp.path() / "promtool.out"));
        CHECK(WIFEXITED(rc));
        CHECK(WEXITSTATUS(rc) == 0);
    }
    child.signal(SIGINT);
    CHECK(child.wait(std::chrono::seconds(30)) == 0);
}
