#include "quoter/core/clock.hpp"
#include "quoter/ops/http_server.hpp"

#include "quoter/ops/engine_metrics.hpp"

#include "ops/http_test_support.hpp"

#include <simdjson.h>

#include <sys/resource.h>

using namespace quoter;
using namespace quoter::ops::testing;

namespace {

constexpr std::string_view token_text = "s3cret-token-for-tests-0123456789";

struct fixture {
    ops::control_channel control;
    ops::status_board status;
    ops::metrics_registry registry;
    ops::engine_metrics metrics{registry};
    ops::symbol_metrics symbol{registry, "BTCUSDT"};
    std::unique_ptr<ops::http_server> server;

    explicit fixture(ops::http_settings settings = {}, bool with_token = true) {
        settings.enabled = true;
        settings.port = 0;
        auto started = ops::http_server::start(
            settings, with_token ? config::secret(std::string(token_text)) : config::secret(),
            {.control = &control, .status = &status, .metrics = &registry});
        REQUIRE(started.has_value());
        server = std::move(*started);
    }
    [[nodiscard]] std::uint16_t port() const { return server->port(); }
};

std::string bearer(std::string_view token) {
    return "Authorization: Bearer " + std::string(token) + "\r\n";
}

ops::status_snapshot running_status() {
    ops::status_snapshot s;
    s.published_ns = core::wall_clock{}.now();
    s.mode.assign("paper_exchange");
    s.symbol.assign("BTCUSDT");
    s.state = ops::trading_state::running;
    s.book_synced = true;
    s.gateway_connected = true;
    s.best_bid = 100.5;
    s.best_ask = 100.7;
    s.mid = 100.6;
    s.working_orders = 2;
    s.working_bids = 1;
    s.working_asks = 1;
    s.inventory_base = -0.25;
    s.pnl_total_quote = 12.5;
    s.tick_to_order_p99_ns = 14'300;
    return s;
}

} // namespace

TEST_CASE("http: GET endpoints answer with JSON and the Prometheus exposition", "[http]") {
    fixture f;

    const auto health = http_request(f.port(), "GET", "/health");
    CHECK(health.status == 200);
    CHECK(health.body == R"({"status":"ok"})");

    // Nothing published yet: not ready, with the reasons.
    auto ready = http_request(f.port(), "GET", "/ready");
    CHECK(ready.status == 503);
    CHECK(ready.body.find("no status published yet") != std::string::npos);

    f.status.publish(running_status());
    ready = http_request(f.port(), "GET", "/ready");
    CHECK(ready.status == 200);
    CHECK(ready.body == R"({"ready":true,"reasons":[]})");

    // A session of two symbols whose second book is not synced is not ready, and says which.
    ops::status_snapshot two = running_status();
    two.symbol_count = 2;
    two.symbols[0].symbol.assign("BTCUSDT");
    two.symbols[0].book_synced = true;
    two.symbols[1].symbol.assign("ETHUSDT");
    f.status.publish(two);
    ready = http_request(f.port(), "GET", "/ready");
    CHECK(ready.status == 503);
    CHECK(ready.body == R"({"ready":false,"reasons":["ETHUSDT book not synced"]})");
    f.status.publish(running_status());

    const auto status = http_request(f.port(), "GET", "/status?pretty=0");
    REQUIRE(status.status == 200);
    CHECK(status.has_header("Content-Type: application/json"));
    simdjson::dom::parser parser;
    const simdjson::dom::element doc = parser.parse(status.body);
    CHECK(std::string_view(doc["symbol"]) == "BTCUSDT");
    CHECK(std::string_view(doc["state"]) == "running");
    CHECK(double(doc["mid"]) == Approx(100.6));
    CHECK(int64_t(doc["working_asks"]) == 1);
    CHECK(int64_t(doc["tick_to_order_p99_ns"]) == 14'300);
    CHECK(bool(doc["ready"]));

    f.symbol.fills.add(3);
    f.symbol.count_refusal(risk::reject_reason::price_band);
    const auto metrics = http_request(f.port(), "GET", "/metrics");
    REQUIRE(metrics.status == 200);
    CHECK(metrics.has_header("Content-Type: text/plain; version=0.0.4"));
    CHECK(metrics.body.find("\nquoter_fills_total{symbol=\"BTCUSDT\"} 3\n") != std::string::npos);
    CHECK(metrics.body.find("quoter_risk_refusals_total{symbol=\"BTCUSDT\",reason=\"price_band\"} "
                            "1\n") != std::string::npos);
}

TEST_CASE("http: writes need the bearer token and reach the control channel", "[http]") {
    fixture f;

    SECTION("no token") {
        const auto reply = http_request(f.port(), "POST", "/kill");
        CHECK(reply.status == 401);
        CHECK(reply.has_header("WWW-Authenticate: Bearer"));
        CHECK(reply.body.find("missing bearer token") != std::string::npos);
        CHECK_FALSE(f.control.kill_requested());
    }
    SECTION("wrong token, including a prefix of the right one") {
        for (const std::string_view wrong :
             {std::string_view("nope"), token_text.substr(0, token_text.size() - 1),
              std::string_view("s3cret-token-for-tests-0123456789X")}) {
            const auto reply = http_request(f.port(), "POST", "/kill", bearer(wrong));
            CHECK(reply.status == 401);
            CHECK(reply.body.find("invalid bearer token") != std::string::npos);
        }
        CHECK_FALSE(f.control.kill_requested());
        CHECK(f.server->stats().auth_failures == 3);
    }
    SECTION("kill") {
        const auto reply = http_request(f.port(), "POST", "/kill", bearer(token_text));
        CHECK(reply.status == 202);
        CHECK(reply.body == R"({"accepted":"kill","source":"http"})");
        REQUIRE(f.control.kill_requested());
        CHECK(f.control.take_kill_request() == ops::command_source::http);
    }
    SECTION("flatten") {
        CHECK(http_request(f.port(), "POST", "/flatten", bearer(token_text)).status == 202);
        CHECK(f.control.flatten_requested());
        CHECK(f.control.take_flatten_request() == ops::command_source::http);
        CHECK_FALSE(f.control.flatten_requested());
    }
    SECTION("pause and resume are queued in order with source http") {
        CHECK(http_request(f.port(), "POST", "/pause", bearer(token_text)).status == 202);
        CHECK(http_request(f.port(), "POST", "/resume", bearer(token_text)).status == 202);
        std::vector<ops::control_message> seen;
        (void)f.control.drain([&](const ops::control_message& m) { seen.push_back(m); });
        REQUIRE(seen.size() == 2);
        CHECK(seen[0].command == ops::control_command::pause);
        CHECK(seen[1].command == ops::control_command::resume);
        CHECK(seen[0].source == ops::command_source::http);
        CHECK(seen[0].wall_time > 0);
    }
}

TEST_CASE("http: writes are disabled when no token is configured", "[http]") {
    fixture f({}, false);
    const auto reply = http_request(f.port(), "POST", "/kill", bearer("anything"));
    CHECK(reply.status == 403);
    CHECK(reply.body.find("no HTTP token is configured") != std::string::npos);
    CHECK_FALSE(f.control.kill_requested());
    CHECK(http_request(f.port(), "GET", "/health").status == 200);
}

TEST_CASE("http: bad requests get 4xx with a JSON error", "[http]") {
    fixture f;
    const auto not_found = http_request(f.port(), "GET", "/nope");
    CHECK(not_found.status == 404);
    CHECK(not_found.body == R"({"error":"no endpoint /nope"})");

    const auto wrong_method = http_request(f.port(), "GET", "/kill");
    CHECK(wrong_method.status == 405);
    CHECK(wrong_method.has_header("Allow: POST"));
    CHECK(http_request(f.port(), "POST", "/metrics", bearer(token_text)).status == 405);

    const auto big_body =
        http_request(f.port(), "POST", "/kill", bearer(token_text), std::string(4096, 'x'));
    CHECK(big_body.status == 413);
    CHECK_FALSE(f.control.kill_requested());

    const auto huge_header =
        http_request(f.port(), "GET", "/health", "X-Filler: " + std::string(20'000, 'y') + "\r\n");
    CHECK(huge_header.status == 413);

    const int fd = connect_local(f.port());
    REQUIRE(fd >= 0);
    REQUIRE(send_all(fd, "THIS IS NOT HTTP\r\n\r\n"));
    const auto garbage = parse_reply(read_until_close(fd, std::chrono::seconds(5)));
    ::close(fd);
    CHECK(garbage.status == 400);
    CHECK(garbage.body.find("\"error\":\"malformed request") != std::string::npos);
}

TEST_CASE("http: the loopback host names", "[http]") {
    for (const std::string_view host : {"localhost", "LocalHost:9464", "localhost.", "127.0.0.1",
                                        "127.0.0.1:9464", "127.1.2.3", "[::1]", "[::1]:9464"}) {
        INFO(host);
        CHECK(ops::is_loopback_host(host));
    }
    for (const std::string_view host :
         {"", "attacker.example", "attacker.example:9464", "localhost.attacker.example",
          "127.0.0.1.attacker.example", "10.0.0.5:9464", "[::2]:9464", "[::1", "[::1]x", "::1",
          "localhost:9464:1"}) {
        INFO(host);
        CHECK_FALSE(ops::is_loopback_host(host));
    }
}

TEST_CASE("http: a loopback server answers no other Host (DNS rebinding)", "[http]") {
    fixture f;
    f.status.publish(running_status());
    const auto request_for = [&](std::string_view host_line, std::string_view method,
                                 std::string_view target, std::string_view headers = {}) {
        const int fd = connect_local(f.port());
        REQUIRE(fd >= 0);
        std::string request = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\n" +
                              std::string(host_line) + "Connection: close\r\n" +
                              std::string(headers) + "Content-Length: 0\r\n\r\n";
        REQUIRE(send_all(fd, request));
        const auto reply = parse_reply(read_until_close(fd, std::chrono::seconds(5)));
        ::close(fd);
        return reply;
    };

    // A page served as attacker.example whose name now resolves to 127.0.0.1.
    for (const std::string_view target : {"/status", "/metrics", "/health"}) {
        const auto reply = request_for("Host: attacker.example:9464\r\n", "GET", target);
        CHECK(reply.status == 421);
        CHECK(reply.body.find("\"error\":\"Host \\\"attacker.example:9464\\\" is not this "
                              "server") != std::string::npos);
        CHECK(reply.body.find("BTCUSDT") == std::string::npos);
    }
    const auto kill =
        request_for("Host: attacker.example\r\n", "POST", "/kill", bearer(token_text));
    CHECK(kill.status == 421);
    CHECK_FALSE(f.control.kill_requested());
    CHECK(f.server->stats().foreign_hosts == 4);

    CHECK(request_for("Host: localhost:9464\r\n", "GET", "/status").status == 200);
    CHECK(request_for("Host: [::1]:9464\r\n", "GET", "/status").status == 200);
    // HTTP/1.0 tools may send no Host at all.
    CHECK(request_for("", "GET", "/status").status == 200);
    CHECK(f.server->stats().foreign_hosts == 4);
}

TEST_CASE("http: a non-loopback bind without a token is refused", "[http]") {
    ops::control_channel control;
    ops::http_settings settings;
    settings.port = 0;
    settings.bind_address = "0.0.0.0";
    auto refused = ops::http_server::start(settings, config::secret(), {.control = &control});
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().find("refusing to serve HTTP on 0.0.0.0 without a token") !=
          std::string::npos);

    settings.bind_address = "localhost-ish";
    auto bad = ops::http_server::start(settings, config::secret(), {.control = &control});
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().find("is not an IP address") != std::string::npos);

    CHECK(ops::is_loopback_address("127.0.0.1"));
    CHECK(ops::is_loopback_address("127.3.2.1"));
    CHECK(ops::is_loopback_address("::1"));
    CHECK(ops::is_loopback_address("::ffff:127.0.0.1"));
    CHECK_FALSE(ops::is_loopback_address("0.0.0.0"));
    CHECK_FALSE(ops::is_loopback_address("::"));
    CHECK_FALSE(ops::is_loopback_address("10.0.0.1"));
}

TEST_CASE("http: token comparison", "[http]") {
    const config::secret expected(std::string("abc"));
    CHECK(ops::token_matches(expected, "abc"));
    CHECK_FALSE(ops::token_matches(expected, "abd"));
    CHECK_FALSE(ops::token_matches(expected, "ab"));
    CHECK_FALSE(ops::token_matches(expected, ""));
    CHECK_FALSE(ops::token_matches(config::secret(), ""));
}

TEST_CASE("http: 1000 idle connections and slow clients do not stop service", "[http]") {
    rlimit limit{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
    if (limit.rlim_cur < 2300 && limit.rlim_max >= 2300) {
        limit.rlim_cur = 2300;
        REQUIRE(::setrlimit(RLIMIT_NOFILE, &limit) == 0);
    }
    REQUIRE(limit.rlim_cur >= 2300);

    ops::http_settings settings;
    settings.request_timeout_ms = std::chrono::milliseconds(3000);
    fixture f(settings);

    std::vector<int> idle;
    for (int i = 0; i < 1000; ++i) {
        const int fd = connect_local(f.port());
        REQUIRE(fd >= 0);
        idle.push_back(fd);
    }
    // A slow client: half a request line, then nothing.
    const int slow = connect_local(f.port());
    REQUIRE(slow >= 0);
    REQUIRE(send_all(slow, "GET /hea"));

    // Service goes on while they all hang around: every request is answered while the idle
    // connections are still open, i.e. before their request deadline.
    for (int i = 0; i < 20; ++i) {
        REQUIRE(http_request(f.port(), "GET", "/health").status == 200);
    }
    CHECK(f.server->stats().connections_open >= 1000);

    // The deadline closes the slow client and the idle connections.
    CHECK(closed_by_peer(slow, std::chrono::seconds(10)));
    CHECK(closed_by_peer(idle.front(), std::chrono::seconds(10)));
    CHECK(closed_by_peer(idle.back(), std::chrono::seconds(10)));
    ::close(slow);
    for (const int fd : idle) {
        ::close(fd);
    }
    CHECK(f.server->stats().timeouts >= 2);
    CHECK(http_request(f.port(), "GET", "/health").status == 200);
}

TEST_CASE("http: connections beyond max_connections are closed on accept", "[http]") {
    ops::http_settings settings;
    settings.max_connections = 4;
    fixture f(settings);
    std::vector<int> held;
    for (int i = 0; i < 4; ++i) {
        held.push_back(connect_local(f.port()));
        REQUIRE(held.back() >= 0);
    }
    // Wait until the server has accepted the four.
    for (int i = 0; i < 200 && f.server->stats().connections_open < 4; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    REQUIRE(f.server->stats().connections_open == 4);
    const int extra = connect_local(f.port());
    REQUIRE(extra >= 0);
    CHECK(closed_by_peer(extra, std::chrono::seconds(5)));
    CHECK(f.server->stats().connections_refused == 1);
    ::close(extra);
    for (const int fd : held) {
        ::close(fd);
    }
}

TEST_CASE("http: connections never take more than half the process's descriptors", "[http]") {
    CHECK(ops::connection_cap(4096, 1024) == 512);
    CHECK(ops::connection_cap(100, 1024) == 100);
    CHECK(ops::connection_cap(4096, 1) == 1);

    // Under a low limit the configured 4,096 would let unauthenticated connections take every
    // descriptor, and a kill could not be written to the state file.
    rlimit limit{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
    const rlimit original = limit;
    limit.rlim_cur = 200;
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &limit) == 0);
    {
        fixture f(ops::http_settings{});
        CHECK(f.server->max_connections() == 100);
        CHECK(http_request(f.port(), "GET", "/health").status == 200);
    }
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &original) == 0);
}

TEST_CASE("http: keep-alive serves several requests on one connection", "[http]") {
    fixture f;
    const int fd = connect_local(f.port());
    REQUIRE(fd >= 0);
    REQUIRE(send_all(fd, "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                         "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
    const std::string raw = read_until_close(fd, std::chrono::seconds(5));
    ::close(fd);
    std::size_t count = 0;
    for (auto at = raw.find("HTTP/1.1 200"); at != std::string::npos;
         at = raw.find("HTTP/1.1 200", at + 1)) {
        ++count;
    }
    CHECK(count == 2);
}
