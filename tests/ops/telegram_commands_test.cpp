// Telegram commands against a local Bot API stand-in on 127.0.0.1.
#include "quoter/ops/telegram_commands.hpp"

#include "ops/http_test_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

using namespace quoter;
using namespace quoter::ops;
using namespace quoter::ops::testing;

namespace {

/// Polls until done() or 10 s pass.
template <class Done> bool eventually(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

telegram_command_settings local_settings(const test_http_receiver& server) {
    telegram_command_settings s;
    s.api_url = server.url("/");
    s.bot_token = config::secret("123456:test-token");
    s.allowed_chat_ids = {"111", "-1002"};
    s.poll_timeout = std::chrono::seconds(0);
    s.retry_interval = std::chrono::milliseconds(20);
    return s;
}

} // namespace

TEST_CASE("telegram status: a session of several symbols has a line for each", "[telegram]") {
    ops::status_snapshot s;
    s.symbol.assign("BTCUSDT");
    s.mode.assign("paper_exchange");
    s.state = ops::trading_state::running;
    s.symbol_count = 1;
    s.symbols[0].symbol.assign("BTCUSDT");
    // One symbol: its details once, no list.
    CHECK(ops::telegram_status_text(s).find("\nBTCUSDT: ") == std::string::npos);
    s.symbol_count = 2;
    s.symbols[0].state = ops::trading_state::running;
    s.symbols[0].fills = 4;
    s.symbols[1].symbol.assign("ETHUSDT");
    s.symbols[1].state = ops::trading_state::killed;
    s.symbols[1].halt_reason.assign("inventory_kill");
    s.symbols[1].inventory_base = 1.5;
    s.symbols[1].pnl_total_quote = -2.0;
    const std::string text = ops::telegram_status_text(s);
    CHECK_THAT(text, Catch::Contains("\nBTCUSDT: running, inventory 0, PnL 0.00, fills 4"));
    CHECK_THAT(text, Catch::Contains(
                         "\nETHUSDT: killed (inventory_kill), inventory 1.5, PnL -2.00, fills 0"));
}

TEST_CASE("telegram command words", "[telegram]") {
    CHECK(parse_telegram_command("/status") == telegram_command::status);
    CHECK(parse_telegram_command("  /Kill now") == telegram_command::kill);
    CHECK(parse_telegram_command("/pause@quoter_bot") == telegram_command::pause);
    CHECK(parse_telegram_command("/resume") == telegram_command::resume);
    CHECK(parse_telegram_command("/flatten") == telegram_command::unknown);
    CHECK(parse_telegram_command("kill") == telegram_command::none);
    CHECK(parse_telegram_command("") == telegram_command::none);
}

TEST_CASE("telegram commands: allowed chats are obeyed and answered, other chats ignored",
          "[telegram]") {
    test_http_receiver server;
    server.set_responder([](const test_http_receiver::received& r) -> std::string {
        if (r.target.find("/getUpdates") == std::string::npos) {
            return R"({"ok":true,"result":{"message_id":9}})";
        }
        if (r.target.find("offset=") == std::string::npos) {
            return R"({"ok":true,"result":[)"
                   R"({"update_id":10,"message":{"message_id":1,"chat":{"id":111},"text":"/pause"}},)"
                   R"({"update_id":11,"message":{"message_id":2,"chat":{"id":999},"text":"/kill"}},)"
                   R"({"update_id":12,"message":{"message_id":3,"chat":{"id":-1002},)"
                   R"("text":"/status@quoter_bot"}},)"
                   R"({"update_id":13,"edited_message":{"message_id":3}}]})";
        }
        // A long poll that times out: nothing new.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return R"({"ok":true,"result":[]})";
    });
    control_channel control;
    status_board board;
    status_snapshot snapshot;
    snapshot.published_ns = 1;
    snapshot.symbol.assign("BTCUSDT");
    snapshot.mode.assign("paper_exchange");
    snapshot.state = trading_state::running;
    snapshot.working_orders = 2;
    board.publish(snapshot);

    telegram_commands commands(local_settings(server), control, board);
    REQUIRE(commands.start().empty());
    const auto polled_past = [&] {
        for (const auto& r : server.requests()) {
            if (r.target.find("offset=14") != std::string::npos) {
                return true;
            }
        }
        return false;
    };
    REQUIRE(eventually([&] { return commands.stats().replies >= 2 && polled_past(); }));
    commands.stop();

    // The pause from chat 111 reached the control channel; the kill from 999 did not.
    std::vector<control_message> got;
    (void)control.drain([&](const control_message& m) { got.push_back(m); });
    REQUIRE(got.size() == 1);
    CHECK(got[0].command == control_command::pause);
    CHECK(got[0].source == command_source::telegram);
    CHECK_FALSE(control.kill_requested());
    const telegram_command_stats stats = commands.stats();
    CHECK(stats.accepted == 2);
    CHECK(stats.refused == 1);
    CHECK(stats.failures == 0);

    std::vector<std::string> sent;
    for (const auto& r : server.requests()) {
        if (r.target.find("/getUpdates") != std::string::npos) {
            CHECK(r.method == "GET");
            CHECK(r.target.starts_with("/bot123456:test-token/getUpdates?timeout=0"));
        } else {
            CHECK(r.method == "POST");
            CHECK(r.target == "/bot123456:test-token/sendMessage");
            sent.push_back(r.body);
        }
    }
    REQUIRE(sent.size() == 2);
    CHECK_THAT(sent[0], Catch::Contains(R"("chat_id":111)"));
    CHECK_THAT(sent[0], Catch::Contains("pause requested"));
    CHECK_THAT(sent[1], Catch::Contains(R"("chat_id":-1002)"));
    CHECK_THAT(sent[1], Catch::Contains("BTCUSDT paper_exchange: running"));
    CHECK_THAT(sent[1], Catch::Contains("working orders 2"));
}

TEST_CASE("telegram commands: a backlog sent before the session started is answered, not obeyed",
          "[telegram]") {
    // A /resume of yesterday, kept by the Bot API while nothing polled, must not lift the kill
    // a restarted session restored; a /pause sent now is obeyed.
    const std::int64_t now_s = static_cast<std::int64_t>(std::time(nullptr));
    const std::string backlog =
        R"({"ok":true,"result":[)"
        R"({"update_id":20,"message":{"message_id":1,"chat":{"id":111},"date":)" +
        std::to_string(now_s - 86'400) +
        R"(,"text":"/resume"}},)"
        R"({"update_id":21,"message":{"message_id":2,"chat":{"id":111},"date":)" +
        std::to_string(now_s + 5) + R"(,"text":"/pause"}}]})";
    test_http_receiver server;
    server.set_responder([&](const test_http_receiver::received& r) -> std::string {
        if (r.target.find("/getUpdates") == std::string::npos) {
            return R"({"ok":true,"result":{"message_id":9}})";
        }
        if (r.target.find("offset=") == std::string::npos) {
            return backlog;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        return R"({"ok":true,"result":[]})";
    });
    control_channel control;
    status_board board;
    telegram_commands commands(local_settings(server), control, board);
    REQUIRE(commands.start().empty());
    REQUIRE(eventually([&] { return commands.stats().replies >= 2; }));
    commands.stop();

    std::vector<control_message> got;
    (void)control.drain([&](const control_message& m) { got.push_back(m); });
    REQUIRE(got.size() == 1);
    CHECK(got[0].command == control_command::pause);
    CHECK(commands.stats().stale == 1);
    CHECK(commands.stats().accepted == 1);
    bool told = false;
    for (const auto& r : server.requests()) {
        told = told || r.body.find("sent before this session started") != std::string::npos;
    }
    CHECK(told);
}

TEST_CASE("telegram commands: a Bot API that is down is retried and stop still returns",
          "[telegram]") {
    test_http_receiver server(502);
    control_channel control;
    status_board board;
    telegram_commands commands(local_settings(server), control, board);
    REQUIRE(commands.start().empty());
    REQUIRE(eventually([&] { return commands.stats().failures >= 2; }));
    commands.stop();
    CHECK(commands.stats().polls == 0);
    CHECK_FALSE(control.kill_requested());
}

TEST_CASE("telegram commands: a bad URL or a missing token is refused at start", "[telegram]") {
    control_channel control;
    status_board board;
    telegram_command_settings settings;
    settings.api_url = "ftp://example.com";
    settings.bot_token = config::secret("1:x");
    CHECK_THAT(telegram_commands(settings, control, board).start(),
               Catch::Contains("not an http(s) URL"));
    settings.api_url = "http://127.0.0.1:1";
    settings.bot_token = config::secret();
    CHECK_THAT(telegram_commands(settings, control, board).start(),
               Catch::Contains("need a bot token"));
}
