// run_paper_session against quoter-venue (synthetic mode) on 127.0.0.1: the session quotes on
// the simulated exchange, a gap pauses it (no quotes while resyncing) and it quotes again after
// the resync, and a kill from the control channel cancels every open order within 100 ms with
// no order after it, as the journal shows.
#include "live/live_support.hpp"
#include "quoter/engine/paper_session.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace engine = quoter::engine;
namespace live = quoter::live;
namespace net = quoter::net;
namespace ops = quoter::ops;
namespace risk = quoter::risk;

namespace {

/// The status history the session reports, readable from the test thread.
class status_log {
public:
    void add(const engine::paper_status& status) {
        const std::lock_guard lock(mutex_);
        history_.push_back(status);
    }
    [[nodiscard]] engine::paper_status last() const {
        const std::lock_guard lock(mutex_);
        return history_.empty() ? engine::paper_status{} : history_.back();
    }
    [[nodiscard]] std::vector<engine::paper_status> all() const {
        const std::lock_guard lock(mutex_);
        return history_;
    }
    template <class Predicate> bool wait(Predicate done, std::chrono::milliseconds timeout) const {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (done(last())) {
                return true;
            }
            std::this_thread::sleep_for(5ms);
        }
        return done(last());
    }

private:
    mutable std::mutex mutex_;
    std::vector<engine::paper_status> history_;
};

/// A paper session on its own thread (the core), with its status history and, unless told
/// otherwise, a control channel; stopped and joined when it goes out of scope.
class running_session {
public:
    explicit running_session(const engine::paper_session_config& config, bool with_control = true)
        : config_(config), core_([this, with_control] {
              summary_ = engine::run_paper_session(
                  config_, stop_, [this](const engine::paper_status& s) { log.add(s); },
                  with_control ? &control : nullptr);
          }) {}
    running_session(const running_session&) = delete;
    running_session& operator=(const running_session&) = delete;
    ~running_session() { (void)stop(); }

    /// Stops the session and waits for it to end: its summary.
    const engine::paper_summary& stop() {
        stop_ = true;
        if (core_.joinable()) {
            core_.join();
        }
        return summary_;
    }

    ops::control_channel control;
    status_log log;

private:
    engine::paper_session_config config_;
    std::atomic<bool> stop_{false};
    engine::paper_summary summary_;
    std::thread core_; // last: the thread starts once everything it uses is built
};

std::string field(const std::string& line, const std::string& name) {
    const std::string key = "\"" + name + "\":";
    const auto at = line.find(key);
    if (at == std::string::npos) {
        return {};
    }
    auto begin = at + key.size();
    if (line[begin] == '"') {
        ++begin;
        return line.substr(begin, line.find('"', begin) - begin);
    }
    return line.substr(begin, line.find_first_of(",}", begin) - begin);
}

} // namespace

TEST_CASE("paper session: quotes, pauses on a gap, resumes, and a kill cancels everything",
          "[engine][venue]") {
    live::testing::temp_dir dir;
    live::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "5"});
    net::io_loop control_loop;
    net::rest_client control_client(control_loop, net::testing::venue_rest_config(venue));

    engine::paper_session_config config;
    config.market_data.subscription.symbols = {"BTCUSDT"};
    config.market_data.subscription.trades = live::trade_stream::trade;
    config.market_data.session = live::testing::venue_session(venue, dir);
    config.engine.symbol = 0;
    config.engine.journal_path = (dir.path / "journal.jsonl").string();
    // The synthetic book moves fast: quote tight and refresh often.
    config.engine.strategy.linear.spread_bps = 2.0;
    // The venue's feed may pause longer than the default on a loaded machine.
    config.engine.risk.triggers.stale_market_data_ms = 10'000;
    config.status_interval_ms = 5;

    running_session session(config);
    ops::control_channel& control = session.control;
    const status_log& log = session.log;

    // Quotes acknowledged on the simulated exchange.
    REQUIRE(log.wait([](const engine::paper_status& s) { return s.exchange.acks >= 2; }, 20s));
    CHECK(log.last().state == risk::trading_state::running);

    // Gap: paused with every quote pulled, then quoting again after the resync.
    const auto acks_before_gap = log.last().exchange.acks;
    const auto answer =
        net::testing::control(control_loop, control_client, "/control/gap?count=3&symbol=BTCUSDT");
    REQUIRE(answer.ok());
    REQUIRE(log.wait([](const engine::paper_status& s) { return s.feed_paused; }, 10s));
    REQUIRE(log.wait(
        [](const engine::paper_status& s) {
            return !s.feed_paused && s.state == risk::trading_state::running;
        },
        15s));
    REQUIRE(log.wait(
        [&](const engine::paper_status& s) { return s.exchange.acks > acks_before_gap + 1; }, 10s));
    {
        // Within each paused run, after the first snapshot, no order rests and none arrives.
        const auto history = log.all();
        bool in_pause = false;
        std::uint64_t received_at_pause = 0;
        std::size_t paused_snapshots = 0;
        for (const auto& s : history) {
            if (s.feed_paused && in_pause) {
                ++paused_snapshots;
                CHECK(s.open_orders == 0);
                CHECK(s.exchange.orders_received == received_at_pause);
            }
            if (s.feed_paused && !in_pause) {
                received_at_pause = s.exchange.orders_received;
            }
            in_pause = s.feed_paused;
        }
        CHECK(log.last().loop.pauses >= 1);
        CHECK(log.last().market_data.resyncs >= 1);
        WARN("paused snapshots checked: " << paused_snapshots);
    }

    // Kill from the control channel.
    REQUIRE(log.wait([](const engine::paper_status& s) { return s.open_orders > 0; }, 10s));
    control.request_kill(ops::command_source::signal);
    REQUIRE(log.wait(
        [](const engine::paper_status& s) {
            return s.state == risk::trading_state::killed && s.open_orders == 0;
        },
        2s));
    const auto received_after_kill = log.last().exchange.orders_received;
    std::this_thread::sleep_for(300ms);
    CHECK(log.last().exchange.orders_received == received_after_kill);
    CHECK(log.last().state == risk::trading_state::killed);

    const engine::paper_summary& summary = session.stop();
    REQUIRE(summary.ok);

    // The journal: the kill, then a kill-caused confirmed cancel for every order that was open,
    // each within 100 ms, and no order intent after the kill.
    std::ifstream in(config.engine.journal_path);
    REQUIRE(in.good());
    std::string line;
    long long kill_ts = -1;
    std::map<std::string, bool> open; // orders the kill cancelled -> confirmed
    std::size_t intents_after_kill = 0;
    long long worst_cancel_ns = 0;
    while (std::getline(in, line)) {
        const std::string type = field(line, "type");
        const long long ts = std::atoll(field(line, "ts").c_str());
        if (kill_ts < 0) {
            if (type == "state" && field(line, "event") == "kill") {
                kill_ts = ts;
            }
            continue;
        }
        const std::string id = field(line, "client_order_id");
        if (type == "order_intent") {
            ++intents_after_kill;
        }
        if (type != "cancel" || field(line, "cause") != "kill") {
            continue;
        }
        const std::string stage = field(line, "stage");
        if (stage == "requested") {
            open.emplace(id, false);
        } else if (open.count(id) != 0) {
            // confirmed, or rejected when a fill raced the cancel: either way the order is done.
            open[id] = true;
            worst_cancel_ns = std::max(worst_cancel_ns, ts - kill_ts);
        }
    }
    REQUIRE(kill_ts > 0);
    CHECK(intents_after_kill == 0);
    CHECK_FALSE(open.empty());
    for (const auto& [order, cancelled] : open) {
        INFO("order " << order);
        CHECK(cancelled);
    }
    CHECK(worst_cancel_ns <= 100'000'000);
    WARN("kill -> last cancel confirmed: " << worst_cancel_ns / 1000 << " us; " << open.size()
                                           << " orders open at the kill");
}

TEST_CASE("paper session, block policy: the md thread wakes the core, and every tick is stamped "
          "hop by hop",
          "[engine][venue]") {
    live::testing::temp_dir dir;
    live::testing::venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "7"});

    engine::paper_session_config config;
    config.market_data.subscription.symbols = {"BTCUSDT"};
    config.market_data.subscription.trades = live::trade_stream::trade;
    config.market_data.session = live::testing::venue_session(venue, dir);
    config.engine.symbol = 0;
    config.engine.strategy.linear.spread_bps = 2.0;
    config.engine.risk.triggers.stale_market_data_ms = 10'000;
    config.status_interval_ms = 5;
    // Without the md thread's wake-up the core would sleep 30 s at a time.
    config.idle = quoter::core::idle_policy::block;
    config.max_block_us = 30'000'000;

    running_session session(config, /*with_control=*/false);
    const status_log& log = session.log;

    // Woken per event: the core sees the events as they come, in many separate wake-ups.
    REQUIRE(log.wait(
        [](const engine::paper_status& s) {
            return s.exchange.acks >= 2 && s.tick_to_order.end_to_end.count >= 2;
        },
        20s));
    std::size_t progress = 0;
    REQUIRE(log.wait(
        [&](const engine::paper_status&) {
            const auto history = log.all();
            progress = 0;
            for (std::size_t i = 1; i < history.size(); ++i) {
                progress += history[i].loop.events > history[i - 1].loop.events ? 1U : 0U;
            }
            return progress >= 20;
        },
        15s));

    const engine::paper_summary& summary = session.stop();
    REQUIRE(summary.ok);
    const quoter::core::tick_latency_summary& t = summary.last.tick_to_order;
    const auto hop = [&](quoter::core::tick_point p) {
        return t.hops[static_cast<std::size_t>(p)];
    };
    using quoter::core::tick_point;
    // Every event is stamped when pushed and popped; frames carry their read time through.
    CHECK(t.ticks >= summary.last.loop.events);
    CHECK(hop(tick_point::popped).count == t.ticks);
    CHECK(hop(tick_point::decoded).count >= 1);
    CHECK(hop(tick_point::decided).count >= 1);
    // An order that left passed risk first; those sent on a frame's tick (not on a REST
    // snapshot's) have an end-to-end figure from the frame's read.
    CHECK(hop(tick_point::encoded).count == hop(tick_point::risk_passed).count);
    CHECK(t.end_to_end.count <= hop(tick_point::encoded).count);
    CHECK(t.end_to_end.count >= 2);
    CHECK(hop(tick_point::written).count == 0); // the in-process exchange writes nothing
    CHECK(t.end_to_end.max >= t.end_to_end.p50);
}

TEST_CASE("paper session of two symbols: each loop quotes its own book, an operator's kill and "
          "pause reach both, and each gets its report",
          "[engine][venue]") {
    live::testing::temp_dir dir;
    live::testing::venue_process venue(
        {"--symbols", "BTCUSDT,ETHUSDT", "--rate-hz", "50", "--seed", "11"});

    engine::paper_session_config config;
    config.market_data.subscription.symbols = {"BTCUSDT", "ETHUSDT"};
    config.market_data.subscription.trades = live::trade_stream::trade;
    config.market_data.session = live::testing::venue_session(venue, dir);
    config.engine.journal_path = (dir.path / "journal.jsonl").string();
    config.engine.strategy.linear.spread_bps = 2.0;
    config.engine.risk.triggers.stale_market_data_ms = 10'000;
    config.engine.account.initial_cash = 50'000.0;
    for (std::uint32_t i = 0; i < 2; ++i) {
        engine::core_loop_config loop = config.engine;
        loop.symbol = i;
        config.symbols.push_back(loop);
    }
    config.status_interval_ms = 5;
    config.keep_report = true;

    running_session session(config);
    ops::control_channel& control = session.control;
    const status_log& log = session.log;

    // Both symbols quote: orders of each rest on the one simulated exchange.
    const auto both = [](const engine::paper_status& s, auto&& predicate) {
        return s.symbols.size() == 2 && predicate(s.symbols[0]) && predicate(s.symbols[1]);
    };
    REQUIRE(log.wait(
        [&](const engine::paper_status& s) {
            return both(s, [](const engine::paper_symbol_status& x) {
                return x.orders_sent >= 2 && x.open_orders > 0 && x.loop.book_events > 0;
            });
        },
        20s));
    CHECK(log.last().symbols[0].symbol == 0);
    CHECK(log.last().symbols[1].symbol == 1);

    // A pause from the control channel pauses both loops; a resume resumes both.
    control.request_pause_toggle(ops::command_source::signal);
    REQUIRE(log.wait(
        [&](const engine::paper_status& s) {
            return both(s, [](const engine::paper_symbol_status& x) {
                return x.state == risk::trading_state::paused;
            });
        },
        5s));
    control.request_pause_toggle(ops::command_source::signal);
    REQUIRE(log.wait(
        [&](const engine::paper_status& s) {
            return both(s, [](const engine::paper_symbol_status& x) {
                return x.state == risk::trading_state::running;
            });
        },
        5s));

    // A kill reaches both loops: every order of both symbols is cancelled.
    REQUIRE(log.wait(
        [&](const engine::paper_status& s) {
            return both(s, [](const engine::paper_symbol_status& x) { return x.open_orders > 0; });
        },
        10s));
    control.request_kill(ops::command_source::signal);
    REQUIRE(log.wait(
        [&](const engine::paper_status& s) {
            return s.open_orders == 0 && both(s, [](const engine::paper_symbol_status& x) {
                       return x.state == risk::trading_state::killed;
                   });
        },
        5s));

    const engine::paper_summary& summary = session.stop();
    REQUIRE(summary.ok);
    REQUIRE(summary.reports.size() == 2);
    for (const auto& report : summary.reports) {
        CHECK(report.activity.orders_submitted > 0);
        CHECK_FALSE(report.orders.empty());
        CHECK(report.initial_cash == 50'000.0);
    }
    // The journal holds both symbols' orders.
    std::ifstream in(config.engine.journal_path);
    REQUIRE(in.good());
    std::map<std::string, std::size_t> intents;
    std::string line;
    while (std::getline(in, line)) {
        if (field(line, "type") == "order_intent") {
            ++intents[field(line, "symbol")];
        }
    }
    CHECK(intents["BTCUSDT"] > 0);
    CHECK(intents["ETHUSDT"] > 0);
}

TEST_CASE("paper session of two symbols: the first symbol's own limit kill stops the second, "
          "and an operator's kill after it reaches both",
          "[engine][venue]") {
    live::testing::temp_dir dir;
    live::testing::venue_process venue(
        {"--symbols", "BTCUSDT,ETHUSDT", "--rate-hz", "50", "--seed", "12"});

    engine::paper_session_config config;
    config.market_data.subscription.symbols = {"BTCUSDT", "ETHUSDT"};
    config.market_data.session = live::testing::venue_session(venue, dir);
    config.engine.strategy.linear.spread_bps = 2.0;
    config.engine.risk.triggers.stale_market_data_ms = 10'000;
    config.engine.account.initial_cash = 50'000.0;
    // Every acknowledgement takes 5 ms: the first symbol's 1 ms limit kills it at its first.
    config.engine.exchange.order_entry_latency = {quoter::exec::latency_distribution::constant,
                                                  5 * quoter::core::ns_per_ms, 0};
    for (std::uint32_t i = 0; i < 2; ++i) {
        engine::core_loop_config loop = config.engine;
        loop.symbol = i;
        loop.risk.triggers.max_ack_delay_ms = i == 0 ? 1 : 0;
        config.symbols.push_back(loop);
    }
    config.status_interval_ms = 5;

    running_session session(config);
    ops::control_channel& control = session.control;
    const status_log& log = session.log;

    // The first symbol killed by its own limit: the session is one kill domain, so the second
    // is killed with it and its orders are cancelled.
    REQUIRE(log.wait(
        [&](const engine::paper_status& s) {
            return s.symbols.size() == 2 && s.symbols[0].state == risk::trading_state::killed;
        },
        20s));
    CHECK(log.wait(
        [&](const engine::paper_status& s) {
            return s.symbols.size() == 2 && s.symbols[1].state == risk::trading_state::killed &&
                   s.symbols[1].open_orders == 0;
        },
        5s));
    // The operator's kill on top: the first latches no new reason, and both stay killed.
    control.request_kill(ops::command_source::signal);
    CHECK(log.wait(
        [&](const engine::paper_status& s) {
            return s.symbols.size() == 2 && s.symbols[0].state == risk::trading_state::killed &&
                   s.symbols[1].state == risk::trading_state::killed && s.open_orders == 0;
        },
        5s));
    const engine::paper_summary& summary = session.stop();
    CHECK(summary.ok);
}
