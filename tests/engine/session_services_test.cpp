// session_services with several symbols: one persisted lane per symbol, each with its own lock
// and state file, restored into its own loop and saved from it by the one saver thread; a kill
// latched in any symbol's file comes back on the lead. One symbol keeps the one file it had.
#include "engine_test_support.hpp"

#include "ops/http_test_support.hpp"
#include "quoter/engine/core_loop.hpp"
#include "quoter/engine/session_services.hpp"
#include "quoter/exec/sim_exchange.hpp"
#include "quoter/ops/state_file.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include <unistd.h>

namespace quoter::engine {
namespace {

namespace fs = std::filesystem;
using testing::btcusdt;
using testing::ethusdt;

/// A private state directory, removed at the end.
struct state_directory {
    [[nodiscard]] std::string file(const std::string& symbol, const char* kind) const {
        return (tmp.path() / ("quoter-acct1-" + symbol + kind)).string();
    }

    quoter::test::temp_dir tmp{"session-services"};
};

session_services_config services_config(const state_directory& dir) {
    session_services_config config;
    config.mode_name = "paper_exchange";
    config.ops.state.directory = dir.tmp.path().string();
    config.ops.state.account = "acct1";
    config.ops.state.save_interval_ms = std::chrono::milliseconds(10);
    config.alerts_to_stderr = false;
    return config;
}

/// Polls the state file at `path` while a saver runs, until `done(state)` holds for what it
/// holds (nothing while it is absent or unreadable) or `timeout` passes; whether it held.
template <class Done>
bool wait_for_saved(const std::string& path, Done done, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (true) {
        const auto loaded = ops::load_state(path);
        if (loaded.has_value() && loaded->found && done(loaded->state)) {
            return true;
        }
        if (std::chrono::steady_clock::now() >= until) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

/// What a crashed engine on one symbol of account acct1 left: position, cash, order sequence,
/// trading day and orders of the day window (none: no rate line).
ops::engine_state saved_state(const std::string& symbol, std::int64_t position_lots,
                              std::uint64_t last_sequence, std::uint32_t day_orders) {
    ops::engine_state s;
    s.account = "acct1";
    s.symbol = symbol;
    s.saved_ns = 20'000LL * 86'400 * core::ns_per_s + 3'600 * core::ns_per_s; // in that day
    s.positions = {{symbol, position_lots, 0}};
    s.cash = 1'000'000'000;
    s.trading_day = 20'000;
    s.day_start_equity = 1'000'000'000;
    s.last_client_order_seq = last_sequence;
    if (day_orders != 0) {
        s.rate_buckets = {{"orders_per_day", 1'000'000'000, day_orders}};
    }
    return s;
}

std::uint32_t day_orders(const risk::rate_memory& rates) {
    std::uint32_t orders = 0;
    for (std::size_t i = 0; i < rates.count; ++i) {
        orders += rates.buckets[i].window == risk::rate_window::orders_per_day
                      ? rates.buckets[i].events
                      : 0;
    }
    return orders;
}

std::uint32_t day_orders(const ops::engine_state& state) {
    std::uint32_t orders = 0;
    for (const ops::state_rate_bucket& bucket : state.rate_buckets) {
        orders += bucket.window == "orders_per_day" ? bucket.events : 0;
    }
    return orders;
}

/// Two loops on one simulated exchange, as a paper session of BTCUSDT and ETHUSDT runs them.
struct two_loops {
    two_loops()
        : instruments{btcusdt(), ethusdt()}, specs{instruments[0].trading_spec,
                                                   instruments[1].trading_spec},
          exchange(core_loop_config{}.exchange, specs) {
        for (std::uint32_t i = 0; i < 2; ++i) {
            core_loop_config config;
            config.symbol = i;
            set_exchange_lane(config, i);
            loops[i] = std::make_unique<core_loop>(config, instruments[i], exchange, &exchange,
                                                   nullptr, nullptr);
        }
    }

    std::array<md::instrument, 2> instruments;
    std::vector<core::symbol_spec> specs;
    exec::sim_exchange exchange;
    std::array<std::unique_ptr<core_loop>, 2> loops;
};

/// One BTCUSDT loop trading on its own simulated exchange.
struct one_loop {
    explicit one_loop(const core_loop_config& config, md::instrument traded = btcusdt())
        : instrument(std::move(traded)), specs{instrument.trading_spec},
          exchange(config.exchange, specs),
          loop(config, instrument, exchange, &exchange, nullptr, nullptr) {}

    md::instrument instrument;
    std::array<core::symbol_spec, 1> specs;
    exec::sim_exchange exchange;
    core_loop loop;
};

/// A one-symbol session restored from `saved`, written first as its state file in `dir`: the
/// loop, its services and every line they logged.
struct restored_session {
    restored_session(const state_directory& dir, const ops::engine_state& saved,
                     const core_loop_config& config = {}, md::instrument traded = btcusdt())
        : session(config, std::move(traded)), loop(session.loop) {
        REQUIRE(ops::save_state(dir.file(saved.symbol, ".state"), saved).empty());
        session_services_config services_cfg = services_config(dir);
        services_cfg.log = [this](std::string_view line) { lines.emplace_back(line); };
        auto opened = session_services::open(services_cfg, session.specs, 0);
        REQUIRE(opened.has_value());
        services = std::move(*opened);
        services->restore_account(loop, 0);
    }

    one_loop session;
    core_loop& loop;
    std::vector<std::string> lines;
    std::unique_ptr<session_services> services;
};

TEST_CASE("a missing state file is a first run, and the log says so", "[engine][state]") {
    const state_directory dir;
    one_loop session(core_loop_config{});
    std::vector<std::string> lines;
    session_services_config config = services_config(dir);
    config.log = [&](std::string_view line) { lines.emplace_back(line); };
    auto opened = session_services::open(config, session.specs, 0);
    REQUIRE(opened.has_value());
    CHECK((*opened)->restored(0) == nullptr);
    CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& line) {
              return line.find("BTCUSDT.state: a first run, every limit starts afresh") !=
                     std::string::npos;
          }) == 1);
}

TEST_CASE("a restored trading day is the one the save falls in by today's reset time",
          "[engine][state]") {
    // Saved at 09:59 UTC by a run whose day started at 12:00: its index is yesterday's. This
    // run's day starts at 00:00 (the default), so the save falls in today: the saved anchor
    // (and the loss since it) carries on today rather than a fresh day starting at once.
    constexpr std::int64_t today = 20'000;
    const state_directory dir;
    ops::engine_state saved = saved_state("BTCUSDT", 0, 10, 0);
    saved.saved_ns = today * 86'400 * core::ns_per_s + (9 * 60 + 59) * 60 * core::ns_per_s;
    saved.trading_day = static_cast<std::int32_t>(today - 1);
    const restored_session restored(dir, saved);
    CHECK(restored.loop.risk().trading_day() == today);
}

TEST_CASE("session_services with several symbols: a lock and a state file per symbol, each "
          "restored into its own loop and saved from it",
          "[engine][state]") {
    const state_directory dir;
    REQUIRE(ops::save_state(dir.file("BTCUSDT", ".state"), saved_state("BTCUSDT", 300, 700, 5))
                .empty());
    REQUIRE(ops::save_state(dir.file("ETHUSDT", ".state"), saved_state("ETHUSDT", -40, 900, 7))
                .empty());
    two_loops session;
    std::vector<std::string> lines;
    session_services_config config = services_config(dir);
    config.log = [&](std::string_view line) { lines.emplace_back(line); };
    auto opened = session_services::open(config, session.specs, 0);
    REQUIRE(opened.has_value());
    session_services& services = **opened;

    // Every symbol's lock is held: a one-symbol engine on either is refused.
    for (std::size_t i = 0; i < 2; ++i) {
        const auto refused = session_services::open(config, session.specs[i], 0);
        REQUIRE_FALSE(refused.has_value());
        CHECK_THAT(refused.error(),
                   Catch::Contains("another quoter engine is running on account acct1 symbol " +
                                   std::string(session.specs[i].name().view())));
    }

    REQUIRE(services.restored(0) != nullptr);
    REQUIRE(services.restored(1) != nullptr);
    CHECK(services.restored(1)->symbol == "ETHUSDT");
    CHECK(services.restored(2) == nullptr);
    for (std::size_t i = 0; i < 2; ++i) {
        services.restore_account(*session.loops[i], i);
    }
    const core_loop& btc = *session.loops[0];
    const core_loop& eth = *session.loops[1];
    CHECK(btc.account().position().lots() == 300);
    CHECK(eth.account().position().lots() == -40);
    CHECK(btc.quotes().last_sequence() == 700);
    CHECK(eth.quotes().last_sequence() == 900);
    CHECK(btc.risk().trading_day() == 20'000);
    CHECK(eth.risk().trading_day() == 20'000);
    CHECK(day_orders(btc.risk().checker().remembered_rates()) == 5);
    CHECK(day_orders(eth.risk().checker().remembered_rates()) == 7);
    // Each line names the symbol whose file it is about.
    CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& line) {
              return line.starts_with("state: ETHUSDT: restored position -40 lots");
          }) == 1);
    CHECK(std::count_if(lines.begin(), lines.end(), [](const std::string& line) {
              return line.starts_with("state: BTCUSDT: order and cancel rate windows restored; 5");
          }) == 1);

    // No file was latched: the session runs.
    services.restore_kill(*session.loops[0], 1'000);
    CHECK(btc.state() != risk::trading_state::killed);

    core_loop* const loops[] = {session.loops[0].get(), session.loops[1].get()};
    REQUIRE(services.start(loops, nullptr, feed_view{}, venue_view{}).empty());
    services.stop(btc, feed_view{}, venue_view{});
    for (const auto& [symbol, position, sequence, orders] :
         {std::tuple{"BTCUSDT", 300, 700U, 5U}, std::tuple{"ETHUSDT", -40, 900U, 7U}}) {
        INFO(symbol);
        const auto saved = ops::load_state(dir.file(symbol, ".state"));
        REQUIRE(saved.has_value());
        REQUIRE(saved->found);
        CHECK(saved->state.symbol == symbol);
        REQUIRE(saved->state.positions.size() == 1);
        CHECK(saved->state.positions[0].symbol == symbol);
        CHECK(saved->state.positions[0].qty_lots == position);
        CHECK(saved->state.last_client_order_seq == sequence);
        CHECK(saved->state.trading_day == 20'000);
        CHECK(day_orders(saved->state) == orders);
        CHECK_FALSE(saved->state.kill_latched);
        // Counted in the symbol's decimals, which the file names.
        CHECK(saved->state.price_decimals == 2);
        CHECK(saved->state.qty_decimals == (std::string_view(symbol) == "BTCUSDT" ? 5 : 4));
    }
}

TEST_CASE("a state file saved before the symbol's step size changed is read at the new one",
          "[engine][state]") {
    // Saved at BTCUSDT's step 0.00001 (5 decimals, a notional unit of 10^-7 USDT): 0.003 BTC,
    // 120 USDT cash, a day that started at 120 USDT and a peak of 130. The step is now 0.000001.
    const state_directory dir;
    ops::engine_state saved = saved_state("BTCUSDT", 300, 10, 0);
    saved.price_decimals = 2;
    saved.qty_decimals = 5;
    saved.cash = 1'200'000'000;
    saved.day_start_equity = 1'200'000'000;
    saved.peak_equity = 1'300'000'000;
    const restored_session restored(dir, saved, core_loop_config{},
                                    testing::spot_instrument("BTCUSDT", "0.000001"));
    const core_loop& loop = restored.loop;
    CHECK(loop.account().position().lots() == 3'000); // 0.003 BTC
    CHECK(loop.account().cash() == Approx(120.0));
    CHECK(loop.gate().account().peak_equity == Approx(130.0));
    CHECK(loop.risk().today(loop.gate().account()).day_start_equity == Approx(120.0));
    CHECK(std::count_if(restored.lines.begin(), restored.lines.end(), [](const std::string& l) {
              return l.find("was saved at 2 price and 5 quantity decimals") != std::string::npos;
          }) == 1);
}

TEST_CASE("session_services with several symbols: a kill latched in any symbol's file comes back "
          "on the lead",
          "[engine][state]") {
    const state_directory dir;
    ops::engine_state latched = saved_state("ETHUSDT", 0, 10, 0);
    latched.kill_latched = true;
    latched.kill_reason = "daily_loss";
    REQUIRE(ops::save_state(dir.file("ETHUSDT", ".state"), latched).empty());
    two_loops session;
    std::vector<std::string> lines;
    session_services_config config = services_config(dir);
    config.log = [&](std::string_view line) { lines.emplace_back(line); };
    auto opened = session_services::open(config, session.specs, 0);
    REQUIRE(opened.has_value());
    session_services& services = **opened;
    CHECK(services.restored(0) == nullptr); // no file for BTCUSDT yet
    services.restore_kill(*session.loops[0], 1'000);
    CHECK(session.loops[0]->state() == risk::trading_state::killed);
    // With its reason, which the next save keeps.
    CHECK(session.loops[0]->risk().switch_state().kill_reason() == risk::halt_reason::daily_loss);
    REQUIRE_FALSE(lines.empty());
    CHECK(lines.back() == "state: ETHUSDT: kill latched before the restart (reason daily_loss); "
                          "it stays engaged until resume");
}

TEST_CASE("session_services: a restored kill's flattening goes on with the attempts it had left",
          "[engine][state]") {
    // A process restarted in a loop must not get a fresh budget of flatten orders each time.
    core_loop_config base;
    base.risk.triggers.flatten_on_kill = true;
    base.risk.triggers.flatten_max_attempts = 4;
    // The whole budget spent before the restart: no order, the position stays. Three of four
    // spent: one more order, which flattens.
    const auto [spent, orders, position_left] =
        GENERATE(table<std::uint32_t, std::uint64_t, std::int64_t>({{4, 0, 300}, {3, 1, 0}}));
    INFO("flatten attempts spent before the restart: " << spent);
    const state_directory dir;
    ops::engine_state latched = saved_state("BTCUSDT", 300, 700, 0);
    latched.kill_latched = true;
    latched.kill_reason = "manual_kill";
    latched.flatten_attempts = spent;
    latched.cash = 1'000'000'000'000; // 100,000 USDT: one order may flatten it all
    latched.day_start_equity = latched.cash;
    restored_session restored(dir, latched, base);
    session_services& services = *restored.services;
    core_loop& loop = restored.loop;
    const std::vector<std::string>& lines = restored.lines;
    // As a paper session does.
    restored.session.exchange.restore_position(0, loop.account().position());
    core::timestamp_ns t = 1'000 * core::ns_per_s;
    services.restore_kill(loop, t);
    REQUIRE(loop.state() == risk::trading_state::killed);
    REQUIRE(services.start(loop, nullptr, feed_view{}, venue_view{}).empty());
    for (int i = 0; i < 100; ++i, t += 10 * core::ns_per_ms) {
        loop.on_event(testing::book(6'000'000, 6'000'010), t);
        (void)loop.poll(t);
    }
    CHECK(loop.stats().flatten_orders == orders);
    CHECK(loop.account().position().lots() == position_left);
    CHECK(std::count(lines.begin(), lines.end(),
                     "state: kill's flattening had sent " + std::to_string(spent) +
                         " of its 4 flatten orders") == 1);
    services.stop(loop, feed_view{}, venue_view{});
    // The file goes on counting: the next restart finds the budget spent.
    const auto saved = ops::load_state(dir.file("BTCUSDT", ".state"));
    REQUIRE(saved.has_value());
    REQUIRE(saved->found);
    CHECK(saved->state.kill_latched);
    CHECK(saved->state.flatten_attempts == 4);
}

TEST_CASE("session_services says so when the clock is behind a saved rate bucket",
          "[engine][state]") {
    const state_directory dir;
    // Saved an hour ahead of the clock now: the clock was set back since.
    const core::timestamp_ns ahead = core::wall_clock{}.now() + 3'600 * core::ns_per_s;
    ops::engine_state saved = saved_state("BTCUSDT", 0, 10, 0);
    saved.rate_buckets = {{"orders_per_day", 1'000'000'000, 4}, {"orders_per_min", ahead, 3}};
    const restored_session restored(dir, saved);
    const std::vector<std::string>& lines = restored.lines;
    const auto behind = std::find_if(lines.begin(), lines.end(), [](const std::string& line) {
        return line.starts_with("state: the clock is ");
    });
    REQUIRE(behind != lines.end());
    INFO(*behind);
    // 3599 or 3600 s, as the clock moved on meanwhile.
    CHECK_THAT(*behind, Catch::Contains(" s behind the newest saved rate bucket: its orders count "
                                        "against the rate limits until the clock passes it"));
    CHECK_THAT(*behind, Catch::StartsWith("state: the clock is 3599 s") ||
                            Catch::StartsWith("state: the clock is 3600 s"));

    // Buckets all in the past: nothing to say.
    const state_directory other;
    const restored_session again(other, saved_state("BTCUSDT", 0, 10, 4));
    CHECK(std::none_of(again.lines.begin(), again.lines.end(), [](const std::string& line) {
        return line.find("behind the newest saved rate bucket") != std::string::npos;
    }));
}

TEST_CASE("session_services' saves say how much of the engine's activity they may miss; the last "
          "one of a session that stopped, none",
          "[engine][state]") {
    const state_directory dir;
    one_loop session(core_loop_config{});
    session_services_config config = services_config(dir);
    config.ops.status_interval_ms = std::chrono::milliseconds(250);
    auto opened = session_services::open(config, session.specs, 0);
    REQUIRE(opened.has_value());
    session_services& services = **opened;
    REQUIRE(services.start(session.loop, nullptr, feed_view{}, venue_view{}).empty());
    // The core publishes every 250 ms and the saver writes every 10.
    const std::string file = dir.file("BTCUSDT", ".state");
    CHECK(wait_for_saved(
        file, [](const ops::engine_state& state) { return state.unsaved_activity_ms == 260; },
        std::chrono::seconds(5)));
    services.stop(session.loop, feed_view{}, venue_view{});
    const auto saved = ops::load_state(file);
    REQUIRE(saved.has_value());
    CHECK(saved->state.unsaved_activity_ms == 0);
}

TEST_CASE("session_services counts the orders a crashed engine's last save may have missed as the "
          "most its order rate limits allowed",
          "[engine][state]") {
    // Saved 10 s ago by a process that did not stop: up to 1.25 s of its orders after the save
    // are in no file. 10 a second allow 20 within 1.25 s (one window and a bit), under the 30 a
    // minute and the day's limit: 20 count, as sent 1.25 s after the save.
    core_loop_config cfg;
    cfg.risk.limits.max_new_orders_per_s = 10;
    cfg.risk.limits.max_new_orders_per_min = 30;
    cfg.risk.limits.max_orders_per_day = 1'000;
    const core::timestamp_ns saved_at = core::wall_clock{}.now() - 10 * core::ns_per_s;
    const state_directory dir;
    ops::engine_state crashed = saved_state("BTCUSDT", 0, 10, 0);
    crashed.saved_ns = saved_at;
    crashed.unsaved_activity_ms = 1'250;
    // The loop's own 10,000 USDT (1e-7 USDT a notional unit): no drawdown to kill it at once.
    crashed.cash = 100'000'000'000;
    crashed.day_start_equity = crashed.cash;
    crashed.rate_buckets = {{"orders_per_min", saved_at - core::ns_per_s, 9},
                            {"orders_per_day", saved_at - core::ns_per_s, 9}};
    // Two orders worked at the save: each may have been cancelled since, as may the 20.
    crashed.open_orders = {{"0000000000000101", "BTCUSDT", true, 5'999'000, 10, 0},
                           {"0000000000000102", "BTCUSDT", false, 6'001'000, 10, 0}};
    const restored_session restored(dir, crashed, cfg);
    const std::vector<std::string>& lines = restored.lines;
    const risk::rate_memory rates = restored.loop.risk().checker().remembered_rates();
    CHECK(day_orders(rates) == 9 + 20);
    const core::timestamp_ns missed_at = saved_at + 1'250 * core::ns_per_ms;
    CHECK(std::any_of(rates.buckets.begin(), rates.buckets.begin() + rates.count, [&](auto& b) {
        return b.window == risk::rate_window::orders_per_min && b.events == 20 &&
               b.start <= missed_at && missed_at - b.start < core::ns_per_s;
    }));
    CHECK(std::any_of(rates.buckets.begin(), rates.buckets.begin() + rates.count, [&](auto& b) {
        return b.window == risk::rate_window::ratio_cancels && b.events == 22;
    }));
    CHECK(std::count(lines.begin(), lines.end(),
                     "state: the last save may have missed up to 1250 ms of orders (the process "
                     "did not stop): 20 orders, the most the order rate limits allowed in that "
                     "time, count as sent then, and 22 cancels, one for each of them and of the "
                     "orders the save held working, against the cancel/trade ratio") == 1);
    CHECK(std::count(lines.begin(), lines.end(),
                     "state: order and cancel rate windows restored; 29 orders of the saved day "
                     "window still count against max_orders_per_day") == 1);

    // The minute's window holds 29 of its 30: of the first book's two quotes, one passes.
    restored.loop.on_event(testing::book(6'000'000, 6'000'010), core::wall_clock{}.now());
    CHECK(restored.loop.gate().risk_rejects(risk::reject_reason::new_orders_per_min) == 1);
    CHECK(restored.loop.gate().risk_rejects() == 1);
}

TEST_CASE("session_services: an operator's pause holds across a restart until resume",
          "[engine][state]") {
    const state_directory dir;
    one_loop session(core_loop_config{});
    core_loop& loop = session.loop;
    const std::string file = dir.file("BTCUSDT", ".state");
    {
        auto opened = session_services::open(services_config(dir), session.specs, 0);
        REQUIRE(opened.has_value());
        REQUIRE((*opened)->start(loop, nullptr, feed_view{}, venue_view{}).empty());
        loop.risk().pause(1'000);
        (*opened)->stop(loop, feed_view{}, venue_view{});
    }
    const auto saved = ops::load_state(file);
    REQUIRE(saved.has_value());
    CHECK(saved->state.manual_pause);

    one_loop restarted(core_loop_config{});
    std::vector<std::string> lines;
    session_services_config config = services_config(dir);
    config.log = [&](std::string_view line) { lines.emplace_back(line); };
    auto opened = session_services::open(config, restarted.specs, 0);
    REQUIRE(opened.has_value());
    (*opened)->restore_account(restarted.loop, 0);
    (*opened)->restore_kill(restarted.loop, 2'000);
    CHECK(restarted.loop.state() == risk::trading_state::paused);
    CHECK(std::count(lines.begin(), lines.end(),
                     "state: paused by the operator before the restart; it stays paused until "
                     "resume") == 1);
    // The resume lifts it, and the file says so at the next save.
    CHECK(restarted.loop.resume(3'000).outcome == risk::resume_outcome::resumed);
    CHECK(restarted.loop.state() == risk::trading_state::running);
    REQUIRE((*opened)->start(restarted.loop, nullptr, feed_view{}, venue_view{}).empty());
    (*opened)->stop(restarted.loop, feed_view{}, venue_view{});
    const auto resumed = ops::load_state(file);
    REQUIRE(resumed.has_value());
    CHECK_FALSE(resumed->state.manual_pause);
}

TEST_CASE("session_services: a restored kill flattens the position the venue shows, when its file "
          "was flat",
          "[engine][state]") {
    // The kill was saved at position 0, then an order filled before its cancel landed and the
    // process died before the next save: a live start adopts the venue's position after the
    // kill is restored.
    core_loop_config base;
    base.risk.triggers.flatten_on_kill = true;
    const state_directory dir;
    ops::engine_state latched = saved_state("BTCUSDT", 0, 700, 0);
    latched.kill_latched = true;
    latched.kill_reason = "manual_kill";
    latched.cash = 1'000'000'000'000;
    latched.day_start_equity = latched.cash;
    REQUIRE(ops::save_state(dir.file("BTCUSDT", ".state"), latched).empty());
    one_loop session(base);
    auto opened = session_services::open(services_config(dir), session.specs, 0);
    REQUIRE(opened.has_value());
    session_services& services = **opened;
    core_loop& loop = session.loop;
    services.restore_account(loop, 0);
    core::timestamp_ns t = 1'000 * core::ns_per_s;
    services.restore_kill(loop, t);
    REQUIRE(loop.state() == risk::trading_state::killed);
    CHECK(loop.flattener().state() == exec::flatten_state::done); // the file's position: flat
    // The venue's position, adopted as the live session does.
    loop.restore(core::qty{300}, 300 * 6'000'000, loop.account().cash_units(), 0);
    session.exchange.restore_position(0, core::qty{300});
    REQUIRE(services.start(loop, nullptr, feed_view{}, venue_view{}).empty());
    for (int i = 0; i < 100; ++i, t += 10 * core::ns_per_ms) {
        loop.on_event(testing::book(6'000'000, 6'000'010), t);
        (void)loop.poll(t);
    }
    CHECK(loop.stats().flatten_orders >= 1);
    CHECK(loop.account().position().lots() == 0);
    services.stop(loop, feed_view{}, venue_view{});
}

TEST_CASE("session_services with several symbols: a kill in any lane is published at once and "
          "saved in that lane's file",
          "[engine][state]") {
    const state_directory dir;
    two_loops session;
    session_services_config config = services_config(dir);
    config.ops.status_interval_ms = std::chrono::milliseconds(60'000);
    auto opened = session_services::open(config, session.specs, 0);
    REQUIRE(opened.has_value());
    session_services& services = **opened;
    core_loop& btc = *session.loops[0];
    core_loop* const loops[] = {session.loops[0].get(), session.loops[1].get()};
    REQUIRE(services.start(loops, nullptr, feed_view{}, venue_view{}).empty());
    const core::timestamp_ns t = 1'000 * core::ns_per_s;
    CHECK(services.publish_due(btc, t));
    CHECK_FALSE(services.publish_due(btc, t + 1));
    (void)session.loops[1]->risk().trigger_kill_switch(risk::halt_reason::manual_kill, t + 2);
    // Not a status interval later: at once.
    REQUIRE(services.publish_due(btc, t + 3));
    services.publish(btc, feed_view{}, venue_view{});
    CHECK_FALSE(services.publish_due(btc, t + 4));
    services.stop(btc, feed_view{}, venue_view{});
    const auto eth = ops::load_state(dir.file("ETHUSDT", ".state"));
    const auto lead = ops::load_state(dir.file("BTCUSDT", ".state"));
    REQUIRE(eth.has_value());
    REQUIRE(lead.has_value());
    CHECK(eth->state.kill_latched);
    CHECK(eth->state.kill_reason == "manual_kill");
    CHECK_FALSE(lead->state.kill_latched);
}

TEST_CASE("session_services writes a kill to the state file at once, not a save interval later",
          "[engine][state]") {
    const state_directory dir;
    two_loops session;
    session_services_config config = services_config(dir);
    // A long interval: a process that dies within it must still come back killed.
    config.ops.state.save_interval_ms = std::chrono::milliseconds(5'000);
    config.ops.status_interval_ms = std::chrono::milliseconds(60'000);
    const std::array<core::symbol_spec, 1> one{session.specs[0]};
    auto opened = session_services::open(config, one, 0);
    REQUIRE(opened.has_value());
    session_services& services = **opened;
    core_loop& loop = *session.loops[0];
    REQUIRE(services.start(loop, nullptr, feed_view{}, venue_view{}).empty());
    const std::string file = dir.file("BTCUSDT", ".state");
    const auto killed = [](const ops::engine_state& state) { return state.kill_latched; };
    // The saver's first pass writes the file; let it go back to sleep for its interval.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    REQUIRE_FALSE(wait_for_saved(file, killed, std::chrono::milliseconds(0)));
    const core::timestamp_ns t = 1'000 * core::ns_per_s;
    (void)services.publish_due(loop, t);
    (void)loop.risk().trigger_kill_switch(risk::halt_reason::manual_kill, t + 1);
    REQUIRE(services.publish_due(loop, t + 2));
    services.publish(loop, feed_view{}, venue_view{});
    // Read while the services still run: their final save on stop would hide a late one.
    CHECK(wait_for_saved(file, killed, std::chrono::seconds(1)));
    services.stop(loop, feed_view{}, venue_view{});
}

TEST_CASE("session_services: a state file it cannot write raises an alert and is tried again "
          "until it takes",
          "[engine][state]") {
    const state_directory dir;
    two_loops session;
    session_services_config config = services_config(dir);
    const std::string alerts = (dir.tmp.path() / "alerts.log").string();
    config.ops.alerts.file = alerts;
    config.ops.status_interval_ms = std::chrono::milliseconds(60'000);
    // Tried again every interval, where a file saved without change waits ten of them (2 s).
    config.ops.state.save_interval_ms = std::chrono::milliseconds(200);
    std::vector<std::string> lines;
    config.log = [&](std::string_view line) { lines.emplace_back(line); };
    const std::array<core::symbol_spec, 1> one{session.specs[0]};
    auto opened = session_services::open(config, one, 0);
    REQUIRE(opened.has_value());
    session_services& services = **opened;
    core_loop& loop = *session.loops[0];
    const std::string file = dir.file("BTCUSDT", ".state");
    // The save's temporary file cannot be made: a directory of its name is in the way.
    const fs::path blocker = file + ".tmp." + std::to_string(::getpid());
    fs::create_directory(blocker);
    REQUIRE(services.start(loop, nullptr, feed_view{}, venue_view{}).empty());
    const core::timestamp_ns t = 1'000 * core::ns_per_s;
    (void)services.publish_due(loop, t);
    (void)loop.risk().trigger_kill_switch(risk::halt_reason::manual_kill, t + 1);
    REQUIRE(services.publish_due(loop, t + 2));
    services.publish(loop, feed_view{}, venue_view{});
    // Publishes a status interval apart until a line starting with `start` is logged (the saver
    // thread tells its failures and recoveries through the publications), for at most 2 s.
    core::timestamp_ns at = t;
    const auto logged_after_publishing = [&](std::string_view start) {
        const auto logged = [&] {
            return std::any_of(lines.begin(), lines.end(),
                               [&](const std::string& line) { return line.starts_with(start); });
        };
        for (int i = 0; i < 200 && !logged(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            at += 70 * core::ns_per_s;
            REQUIRE(services.publish_due(loop, at));
            services.publish(loop, feed_view{}, venue_view{});
        }
        return logged();
    };
    CHECK(logged_after_publishing("state: cannot save (tried again every 200 ms)"));
    CHECK_FALSE(fs::exists(file));

    // Out of the way: the next try writes the kill.
    fs::remove(blocker);
    const auto killed = [](const ops::engine_state& state) { return state.kill_latched; };
    CHECK(wait_for_saved(file, killed, std::chrono::milliseconds(1'000)));
    CHECK(logged_after_publishing("state: saved again after "));
    services.stop(loop, feed_view{}, venue_view{});
    std::ifstream alert_file(alerts);
    const std::string alert_text((std::istreambuf_iterator<char>(alert_file)),
                                 std::istreambuf_iterator<char>());
    CHECK(alert_text.find("state_not_saved") != std::string::npos);
}

TEST_CASE("session_services with one symbol keeps the one lock and state file and its log lines",
          "[engine][state]") {
    const state_directory dir;
    REQUIRE(ops::save_state(dir.file("BTCUSDT", ".state"), saved_state("BTCUSDT", 300, 700, 5))
                .empty());
    two_loops session;
    std::vector<std::string> lines;
    session_services_config config = services_config(dir);
    config.log = [&](std::string_view line) { lines.emplace_back(line); };
    auto opened = session_services::open(config, session.specs[0], 0);
    REQUIRE(opened.has_value());
    session_services& services = **opened;
    services.restore_account(*session.loops[0]);
    REQUIRE_FALSE(lines.empty());
    CHECK(lines.front().starts_with("state: restored position 300 lots"));
    REQUIRE(services.start(*session.loops[0], nullptr, feed_view{}, venue_view{}).empty());
    services.stop(*session.loops[0], feed_view{}, venue_view{});
    CHECK(fs::exists(dir.file("BTCUSDT", ".lock")));
    CHECK_FALSE(fs::exists(dir.file("ETHUSDT", ".lock")));
    CHECK_FALSE(fs::exists(dir.file("ETHUSDT", ".state")));
    const auto saved = ops::load_state(dir.file("BTCUSDT", ".state"));
    REQUIRE(saved.has_value());
    CHECK(saved->state.last_client_order_seq == 700);
}

TEST_CASE("session_services refuses a state file another kind of session wrote",
          "[engine][state]") {
    // A paper account's day, peak and rate windows are not a live account's, nor a testnet's
    // a mainnet's: the file says which session wrote it, and another kind of session stops at
    // open rather than trade on them.
    const state_directory dir;
    one_loop paper(core_loop_config{});
    {
        auto opened = session_services::open(services_config(dir), paper.specs[0], 0);
        REQUIRE(opened.has_value());
        REQUIRE((*opened)->start(paper.loop, nullptr, feed_view{}, venue_view{}).empty());
        (*opened)->stop(paper.loop, feed_view{}, venue_view{});
    }
    const auto written = ops::load_state(dir.file("BTCUSDT", ".state"));
    REQUIRE(written.has_value());
    CHECK(written->state.session == "paper_exchange");

    session_services_config live = services_config(dir);
    live.mode_name = "live";
    live.state_session = "live:spot:testnet.binance.vision";
    const auto refused = session_services::open(live, paper.specs[0], 0);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().find("was written by a paper_exchange session, and this is a "
                               "live:spot:testnet.binance.vision session") != std::string::npos);
    session_services_config sim = services_config(dir);
    sim.mode_name = "sim";
    CHECK_FALSE(session_services::open(sim, paper.specs[0], 0).has_value());
    // The same kind of session takes it.
    CHECK(session_services::open(services_config(dir), paper.specs[0], 0).has_value());

    // A file of an earlier quoter names no session: taken, and saved with this one's.
    REQUIRE(
        ops::save_state(dir.file("BTCUSDT", ".state"), saved_state("BTCUSDT", 0, 5, 0)).empty());
    {
        auto opened = session_services::open(live, paper.specs[0], 0);
        REQUIRE(opened.has_value());
        REQUIRE((*opened)->start(paper.loop, nullptr, feed_view{}, venue_view{}).empty());
        (*opened)->stop(paper.loop, feed_view{}, venue_view{});
    }
    const auto resaved = ops::load_state(dir.file("BTCUSDT", ".state"));
    REQUIRE(resaved.has_value());
    CHECK(resaved->state.session == "live:spot:testnet.binance.vision");
}

TEST_CASE("session_services saves a new equity peak as a change, not only with the periodic "
          "save",
          "[engine][state]") {
    const state_directory dir;
    two_loops session;
    session_services_config config = services_config(dir);
    // The periodic save comes every 10 intervals: 3 s, well after the change is saved.
    config.ops.state.save_interval_ms = std::chrono::milliseconds(300);
    const std::array<core::symbol_spec, 1> one{session.specs[0]};
    auto opened = session_services::open(config, one, 0);
    REQUIRE(opened.has_value());
    session_services& services = **opened;
    core_loop& loop = *session.loops[0];
    REQUIRE(services.start(loop, nullptr, feed_view{}, venue_view{}).empty());
    const std::string file = dir.file("BTCUSDT", ".state");
    std::int64_t first = -1;
    REQUIRE(wait_for_saved(
        file,
        [&](const ops::engine_state& state) {
            first = state.peak_equity;
            return true;
        },
        std::chrono::seconds(2)));

    // Only the peak moves (the equity rose and fell back, say): saved within an interval or two.
    loop.restore_peak_equity(std::max(loop.gate().account().peak_equity, 100'000.0) * 1.02);
    services.publish(loop, feed_view{}, venue_view{});
    CHECK(wait_for_saved(
        file, [&](const ops::engine_state& state) { return state.peak_equity > first; },
        std::chrono::milliseconds(1'500)));
    services.stop(loop, feed_view{}, venue_view{});
}

} // namespace
} // namespace quoter::engine

namespace quoter::engine {
namespace {

TEST_CASE("session_services: once the intake is closed a command is refused, not accepted and "
          "then lost: every kill answered 202 is in the control channel for the last poll",
          "[engine][state]") {
    const state_directory dir;
    one_loop session(core_loop_config{});
    session_services_config config = services_config(dir);
    config.ops.state.directory.clear();
    config.ops.http.enabled = true;
    config.ops.http.port = 0;
    config.ops.http_token = config::secret(std::string("stop-window-token"));
    auto opened = session_services::open(config, session.specs, 0);
    REQUIRE(opened.has_value());
    session_services& services = **opened;
    ops::control_channel control;
    REQUIRE(services.start(session.loop, &control, feed_view{}, venue_view{}).empty());
    const std::string endpoint = services.http_endpoint();
    REQUIRE_FALSE(endpoint.empty());
    const auto port =
        static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
    const std::string auth = "Authorization: Bearer stop-window-token\r\n";

    CHECK(ops::testing::http_request(port, "POST", "/kill", auth).status == 202);
    services.close_intake();
    CHECK(control.take_kill_request() == ops::command_source::http); // for the last poll
    CHECK(ops::testing::connect_local(port) < 0); // nothing more is accepted to be lost
    services.stop(session.loop, feed_view{}, venue_view{});
}

TEST_CASE("session_services with several symbols: /status lists each symbol, and one whose book "
          "never came is not synced, so the session is not ready",
          "[engine][state]") {
    const state_directory dir;
    two_loops session;
    session_services_config config = services_config(dir);
    config.ops.state.directory.clear(); // no files needed here
    auto opened = session_services::open(config, session.specs, 0);
    REQUIRE(opened.has_value());
    session_services& services = **opened;
    core_loop& btc = *session.loops[0];
    core_loop* const loops[] = {session.loops[0].get(), session.loops[1].get()};
    const feed_view feed{.messages = 1, .synced_symbols = 1};
    REQUIRE(services.start(loops, nullptr, feed, venue_view{}).empty());
    btc.on_event(testing::book(6'000'000, 6'000'001), 1'000 * core::ns_per_s);
    services.publish(btc, feed, venue_view{});

    const ops::status_snapshot& status = services.last();
    REQUIRE(status.listed_symbols() == 2);
    CHECK(status.symbols[0].symbol.view() == "BTCUSDT");
    CHECK(status.symbols[0].book_synced);
    CHECK(status.symbols[0].mid == Approx(60'000.005));
    CHECK(status.symbols[1].symbol.view() == "ETHUSDT");
    CHECK_FALSE(status.symbols[1].book_synced); // the session's feed has one synced book: BTC's
    CHECK(status.book_synced);
    CHECK_FALSE(status.ready());

    // ETHUSDT's book comes: both synced, ready.
    md::md_event eth = testing::book(300'000, 300'001);
    eth.symbol = 1;
    session.loops[1]->on_event(eth, 1'000 * core::ns_per_s + 1);
    services.publish(btc, feed_view{.messages = 2, .synced_symbols = 2}, venue_view{});
    CHECK(services.last().symbols[1].book_synced);
    CHECK(services.last().ready());
    // Both symbols quote a bid and an ask: the working orders by side are every symbol's.
    CHECK(services.last().working_bids == 2);
    CHECK(services.last().working_asks == 2);

    // The md thread's count comes with its periodic stats and can lag the books the loops
    // already quote on: each symbol's entry is its loop's view.
    services.publish(btc, feed_view{.messages = 2, .synced_symbols = 0}, venue_view{});
    CHECK(services.last().symbols[0].book_synced);
    CHECK(services.last().symbols[1].book_synced);
    services.stop(btc, feed_view{}, venue_view{});
}

} // namespace
} // namespace quoter::engine
