#include "quoter/ops/alert_dispatcher.hpp"

#include "ops/http_test_support.hpp"
#include "ops/ops_test_support.hpp"

#include <fmt/format.h>
#include <simdjson.h>

using namespace quoter;
using namespace quoter::ops::testing;
using namespace std::chrono_literals;

namespace {

risk::alert kill_alert(risk::halt_reason reason = risk::halt_reason::daily_loss) {
    risk::alert a;
    a.time = 123;
    a.kind = risk::alert_kind::kill;
    a.severity = risk::alert_severity::critical;
    a.reason = reason;
    a.value = -512.5;
    a.threshold = 500;
    return a;
}

risk::alert info_alert() {
    risk::alert a;
    a.kind = risk::alert_kind::resume;
    a.severity = risk::alert_severity::info;
    return a;
}

ops::alert_target_settings webhook(const std::string& url,
                                   risk::alert_severity min = risk::alert_severity::warning) {
    ops::alert_target_settings t;
    t.kind = ops::alert_target_kind::webhook;
    t.url = url;
    t.min_severity = min;
    return t;
}

ops::alert_dispatcher_settings quick_settings() {
    ops::alert_dispatcher_settings s;
    s.instance = "test BTCUSDT";
    s.retry_base_ms = 20ms;
    s.retry_max_ms = 80ms;
    s.request_timeout_ms = 1000ms;
    s.drain_timeout_ms = 200ms;
    return s;
}

} // namespace

TEST_CASE("alerts: a webhook receives the alert as JSON", "[alerts]") {
    test_http_receiver receiver;
    auto settings = quick_settings();
    settings.targets.push_back(webhook(receiver.url("/hooks/abc?token=zzz")));
    ops::alert_dispatcher dispatcher(settings);

    dispatcher.raise(kill_alert());
    dispatcher.raise(info_alert()); // below the webhook's minimum severity
    REQUIRE(dispatcher.wait_idle(5s));
    const auto got = receiver.requests();
    REQUIRE(got.size() == 1);
    CHECK(got[0].method == "POST");
    CHECK(got[0].target == "/hooks/abc?token=zzz");
    simdjson::dom::parser parser;
    const simdjson::dom::element doc = parser.parse(got[0].body);
    CHECK(std::string_view(doc["severity"]) == "critical");
    CHECK(std::string_view(doc["kind"]) == "kill");
    CHECK(std::string_view(doc["reason"]) == "daily_loss");
    CHECK(std::string_view(doc["instance"]) == "test BTCUSDT");
    CHECK(double(doc["value"]) == -512.5);
    CHECK(std::string_view(doc["time_utc"]).ends_with("Z"));
    CHECK(std::string_view(doc["text"])
              .starts_with("[test BTCUSDT] critical kill reason=daily_loss"));
    CHECK(dispatcher.stats().delivered == 1);
}

TEST_CASE("alerts: Telegram sendMessage goes to /bot<token>/sendMessage", "[alerts]") {
    test_http_receiver receiver;
    auto settings = quick_settings();
    ops::alert_target_settings t;
    t.kind = ops::alert_target_kind::telegram;
    t.url = receiver.url("");
    t.bot_token = config::secret(std::string("123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
    t.chat_id = "-100200300";
    t.min_severity = risk::alert_severity::critical;
    settings.targets.push_back(std::move(t));
    ops::alert_dispatcher dispatcher(settings);

    dispatcher.raise(kill_alert());
    REQUIRE(dispatcher.wait_idle(5s));
    const auto got = receiver.requests();
    REQUIRE(got.size() == 1);
    CHECK(got[0].target == "/bot123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ/sendMessage");
    simdjson::dom::parser parser;
    const simdjson::dom::element doc = parser.parse(got[0].body);
    CHECK(std::string_view(doc["chat_id"]) == "-100200300");
    CHECK(std::string_view(doc["text"]).find("critical kill reason=daily_loss") !=
          std::string_view::npos);

    // The token never shows in what is printed.
    const auto described = dispatcher.describe_targets();
    REQUIRE(described.size() == 1);
    CHECK(described[0].find("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string::npos);
    CHECK(described[0].find("/bot1234") != std::string::npos);
}

TEST_CASE("alerts: a receiver that is down gets bounded retries and never stalls the producer",
          "[alerts]") {
    const std::uint16_t dead_port = closed_local_port();
    auto settings = quick_settings();
    settings.max_attempts = 3;
    settings.targets.push_back(webhook(fmt::format("http://127.0.0.1:{}/hook", dead_port)));
    ops::alert_dispatcher dispatcher(settings);

    // The producer's side is a ring push: time many raises, none may wait on the network.
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 1000; ++i) {
        risk::alert a = kill_alert(static_cast<risk::halt_reason>(1 + i % 8));
        a.symbol_id = static_cast<std::uint16_t>(i); // distinct, so not de-duplicated
        dispatcher.raise(a);
    }
    const auto producer_time = std::chrono::steady_clock::now() - start;
    CHECK(producer_time < 50ms);

    REQUIRE(dispatcher.wait_idle(20s));
    const auto stats = dispatcher.stats();
    CHECK(stats.raised == 1000);
    CHECK(stats.delivered == 0);
    // The rate limit (20 a minute) admits 20; each is tried exactly max_attempts times.
    CHECK(stats.rate_limited == 1000 - stats.dropped_full - 20);
    CHECK(stats.failed == 20);
    CHECK(stats.attempts == 20 * 3);
}

TEST_CASE("alerts: retries with backoff reach a receiver that recovers", "[alerts]") {
    test_http_receiver receiver(503);
    auto settings = quick_settings();
    settings.max_attempts = 10;
    settings.targets.push_back(webhook(receiver.url("/hook")));
    ops::alert_dispatcher dispatcher(settings);

    dispatcher.raise(kill_alert());
    REQUIRE(receiver.wait_for(2, 5s));
    receiver.set_status(200);
    REQUIRE(dispatcher.wait_idle(5s));
    const auto stats = dispatcher.stats();
    CHECK(stats.delivered == 1);
    CHECK(stats.attempts >= 3);
    CHECK(stats.failed == 0);
}

TEST_CASE("alerts: a 4xx answer is not retried", "[alerts]") {
    test_http_receiver receiver(400);
    auto settings = quick_settings();
    settings.targets.push_back(webhook(receiver.url("/hook")));
    ops::alert_dispatcher dispatcher(settings);
    dispatcher.raise(kill_alert());
    REQUIRE(dispatcher.wait_idle(5s));
    CHECK(dispatcher.stats().attempts == 1);
    CHECK(dispatcher.stats().failed == 1);
    CHECK(receiver.requests().size() == 1);
}

TEST_CASE("alerts: de-duplication, routing by severity and the file sink", "[alerts]") {
    scratch_dir dir;
    auto settings = quick_settings();
    ops::alert_target_settings file;
    file.kind = ops::alert_target_kind::file;
    file.path = dir.file("alerts.jsonl");
    file.min_severity = risk::alert_severity::info;
    settings.targets.push_back(file);
    ops::alert_dispatcher dispatcher(settings);

    dispatcher.raise(kill_alert());
    dispatcher.raise(kill_alert()); // the same alert again: suppressed
    dispatcher.raise(kill_alert(risk::halt_reason::api_error_storm));
    dispatcher.raise(info_alert());
    REQUIRE(dispatcher.wait_idle(5s));
    const auto lines = read_lines(file.path);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].find("\"reason\":\"daily_loss\"") != std::string::npos);
    CHECK(lines[1].find("\"reason\":\"api_error_storm\"") != std::string::npos);
    CHECK(lines[2].find("\"kind\":\"resume\"") != std::string::npos);
    CHECK(dispatcher.stats().deduplicated == 1);
}

TEST_CASE("alerts: URLs and tokens are masked when printed", "[alerts]") {
    CHECK(ops::masked_url("https://hooks.example.com/services/T000/B000/XXXX") ==
          "https://hooks.example.com/****");
    CHECK(ops::masked_url("https://user:pass@hooks.example.com:8443/x?token=1") ==
          "https://hooks.example.com:8443/****");
    CHECK(ops::masked_url("http://127.0.0.1:9000") == "http://127.0.0.1:9000");
    CHECK(ops::masked_url("http://127.0.0.1:9000/") == "http://127.0.0.1:9000");
    CHECK(ops::masked_url("garbage") == "****");

    ops::alert_dispatcher_settings settings;
    settings.targets.push_back(webhook("https://hooks.example.com/services/SECRET"));
    const auto problems = ops::check_alert_settings(settings);
    CHECK(problems.empty());
    settings.targets.push_back(webhook("ftp://host/SECRET"));
    ops::alert_target_settings telegram;
    telegram.kind = ops::alert_target_kind::telegram;
    telegram.url = "https://api.telegram.org";
    settings.targets.push_back(telegram);
    const auto more = ops::check_alert_settings(settings);
    REQUIRE(more.size() == 3);
    for (const auto& problem : more) {
        CHECK(problem.find("SECRET") == std::string::npos);
    }
}
