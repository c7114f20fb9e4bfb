// Tests of exec::sim_exchange: latency, fees, post-only, queue positions, matching and the
// order of reports. One component, so one file.
#include "quoter/exec/sim_exchange.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

using namespace quoter;
using namespace quoter::exec;
using core::price;
using core::qty;
using core::side;

namespace {

constexpr core::timestamp_ns ms = core::ns_per_ms;
constexpr core::timestamp_ns us = core::ns_per_us;

struct recording_sink final : exec_report_sink {
    std::vector<exec_report> reports;
    void on_exec_report(const exec_report& report) noexcept override { reports.push_back(report); }
    /// Reports received so far that were not yet taken.
    std::vector<exec_report> take() {
        std::vector<exec_report> out;
        out.swap(reports);
        return out;
    }
};

sim_exchange_config constant_latency(core::duration_ns entry = 1 * ms,
                                     core::duration_ns cancel = 1 * ms,
                                     core::duration_ns md = 500 * us) {
    sim_exchange_config config;
    config.order_entry_latency = {latency_distribution::constant, entry, 0};
    config.cancel_latency = {latency_distribution::constant, cancel, 0};
    config.market_data_latency = {latency_distribution::constant, md, 0};
    config.maker_fee_bps = 0;
    config.taker_fee_bps = 0;
    return config;
}

order_request limit(std::uint64_t id, side s, std::int64_t px, std::int64_t lots,
                    bool post_only = true) {
    order_request request;
    request.id = client_order_id{id};
    request.side = s;
    request.price = price{px};
    request.qty = qty{lots};
    request.post_only = post_only;
    return request;
}

top_of_book tob(std::int64_t bid, std::int64_t ask, std::int64_t bid_qty = 0,
                std::int64_t ask_qty = 0) {
    return {price{bid}, qty{bid_qty}, price{ask}, qty{ask_qty}};
}

/// Fixture: an exchange with a sink, a 100/101 market, and a helper that submits and lets the
/// order arrive.
struct exchange_fixture {
    explicit exchange_fixture(sim_exchange_config config = constant_latency()) : exchange(config) {
        exchange.set_report_sink(&sink);
        exchange.on_top_of_book(0, tob(100, 101), 0);
    }

    /// Submits at the exchange's time and advances until every report is in.
    std::vector<exec_report> place(const order_request& request) {
        REQUIRE(exchange.submit(request, exchange.now()) == gateway_error::none);
        drain();
        return sink.take();
    }
    void drain() { exchange.advance_to(exchange.now() + 100 * ms); }

    recording_sink sink;
    sim_exchange exchange;
};

} // namespace

TEST_CASE("an order is acknowledged after the entry latency, the ack seen after the market-data "
          "latency",
          "[sim_exchange]") {
    exchange_fixture f;
    REQUIRE(f.exchange.submit(limit(1, side::buy, 100, 5), 0) == gateway_error::none);
    CHECK(f.exchange.poll(999 * us) == 0);
    CHECK(f.exchange.find_order(client_order_id{1}) == nullptr); // still on the wire
    CHECK(f.exchange.poll(1 * ms) == 0);
    CHECK(f.exchange.find_order(client_order_id{1}) != nullptr); // resting, ack on the wire
    CHECK(f.exchange.poll(1 * ms + 499 * us) == 0);
    CHECK(f.exchange.poll(1 * ms + 500 * us) == 1);
    REQUIRE(f.sink.reports.size() == 1);
    const exec_report& ack = f.sink.reports[0];
    CHECK(ack.kind == exec_kind::ack);
    CHECK(ack.client_id == client_order_id{1});
    CHECK(ack.exchange_id != 0);
    CHECK(ack.price == price{100});
    CHECK(ack.leaves_qty == qty{5});
    CHECK(ack.exchange_ts == 1 * ms);
    CHECK(ack.local_ts == 1 * ms + 500 * us);
    CHECK(f.exchange.open_order_count() == 1);
}

TEST_CASE("post-only orders that would take liquidity are rejected", "[sim_exchange]") {
    exchange_fixture f;
    for (const auto& [s, px] : {std::pair{side::buy, 101}, std::pair{side::buy, 105},
                                std::pair{side::sell, 100}, std::pair{side::sell, 90}}) {
        const auto reports =
            f.place(limit(static_cast<std::uint64_t>(px) * 10 + (s == side::buy), s, px, 1));
        REQUIRE(reports.size() == 1);
        CHECK(reports[0].kind == exec_kind::reject);
        CHECK(reports[0].reason == reject_reason::post_only_would_cross);
    }
    CHECK(f.exchange.stats().post_only_rejects == 4);
    CHECK(f.exchange.open_order_count() == 0);

    // At or behind the touch they rest.
    CHECK(f.place(limit(1, side::buy, 100, 1))[0].kind == exec_kind::ack);
    CHECK(f.place(limit(2, side::sell, 101, 1))[0].kind == exec_kind::ack);
    CHECK(f.exchange.open_order_count() == 2);
}

TEST_CASE("invalid orders are rejected with their reason", "[sim_exchange]") {
    sim_exchange_config config = constant_latency();
    config.max_open_orders = 2;
    exchange_fixture f(config);
    const auto reason_of = [&](order_request request) {
        const auto reports = f.place(request);
        REQUIRE(reports.size() == 1);
        CHECK(reports[0].kind == exec_kind::reject);
        return reports[0].reason;
    };
    CHECK(reason_of(limit(1, side::buy, 100, 0)) == reject_reason::invalid_qty);
    CHECK(reason_of(limit(2, side::buy, 0, 1)) == reject_reason::invalid_price);
    CHECK(reason_of(limit(0, side::buy, 100, 1)) == reject_reason::invalid_client_id);
    auto other_symbol = limit(3, side::buy, 100, 1);
    other_symbol.symbol = 1;
    CHECK(reason_of(other_symbol) == reject_reason::unknown_symbol);
    auto reduce = limit(4, side::sell, 105, 1);
    reduce.reduce_only = true;
    CHECK(reason_of(reduce) == reject_reason::reduce_only_would_increase);

    CHECK(f.place(limit(5, side::buy, 99, 1))[0].kind == exec_kind::ack);
    CHECK(reason_of(limit(5, side::buy, 98, 1)) == reject_reason::duplicate_client_id);
    CHECK(f.place(limit(6, side::buy, 98, 1))[0].kind == exec_kind::ack);
    CHECK(reason_of(limit(7, side::buy, 97, 1)) == reject_reason::too_many_open_orders);
}

TEST_CASE("partial fills then a fill walk an order to done", "[sim_exchange]") {
    exchange_fixture f;
    f.place(limit(1, side::buy, 100, 10));
    CHECK(f.exchange.hit_order(0, side::buy, 0, qty{3}, f.exchange.now()) == qty{3});
    f.drain();
    auto reports = f.sink.take();
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].kind == exec_kind::partial_fill);
    CHECK(reports[0].fill_qty == qty{3});
    CHECK(reports[0].cum_qty == qty{3});
    CHECK(reports[0].leaves_qty == qty{7});
    CHECK(reports[0].price == price{100});
    CHECK(reports[0].liquidity == liquidity_role::maker);
    CHECK(f.exchange.find_order(client_order_id{1})->leaves == qty{7});

    // A market sell larger than the order fills what is left and no more.
    CHECK(f.exchange.on_market_order(0, side::sell, qty{50}, f.exchange.now()) == qty{7});
    f.drain();
    reports = f.sink.take();
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].kind == exec_kind::fill);
    CHECK(reports[0].fill_qty == qty{7});
    CHECK(reports[0].cum_qty == qty{10});
    CHECK(reports[0].leaves_qty == qty{0});
    CHECK(f.exchange.find_order(client_order_id{1}) == nullptr);
    CHECK(f.exchange.position(0) == qty{10});
    // Nothing left to hit.
    CHECK(f.exchange.on_market_order(0, side::sell, fill_all, f.exchange.now()) == qty{0});
}

TEST_CASE("synthetic market orders sweep best first; hit_order picks the level", "[sim_exchange]") {
    exchange_fixture f;
    auto level1 = limit(1, side::sell, 103, 4);
    level1.level = 1;
    f.place(level1);
    f.place(limit(2, side::sell, 102, 4)); // level 0
    CHECK(f.exchange.on_market_order(0, side::buy, qty{6}, f.exchange.now()) == qty{6});
    f.drain();
    auto reports = f.sink.take();
    REQUIRE(reports.size() == 2);
    CHECK(reports[0].client_id == client_order_id{2});
    CHECK(reports[0].kind == exec_kind::fill);
    CHECK(reports[0].price == price{102});
    CHECK(reports[1].client_id == client_order_id{1});
    CHECK(reports[1].kind == exec_kind::partial_fill);
    CHECK(reports[1].fill_qty == qty{2});

    f.place(limit(3, side::sell, 102, 4)); // level 0 again
    CHECK(f.exchange.hit_order(0, side::sell, 1, fill_all, f.exchange.now()) == qty{2});
    CHECK(f.exchange.hit_order(0, side::sell, 2, fill_all, f.exchange.now()) == qty{0});
    CHECK(f.exchange.on_market_order(0, side::buy, fill_all, f.exchange.now()) == qty{4});
    f.drain();
    reports = f.sink.take();
    REQUIRE(reports.size() == 2);
    CHECK(reports[0].client_id == client_order_id{1});
    CHECK(reports[0].level == 1);
    CHECK(reports[1].client_id == client_order_id{3});
    CHECK(f.exchange.position(0) == qty{-12});
}

TEST_CASE("a cancel confirms with the leaves; a second cancel is rejected", "[sim_exchange]") {
    exchange_fixture f;
    f.place(limit(1, side::sell, 105, 8));
    f.exchange.hit_order(0, side::sell, 0, qty{3}, f.exchange.now());
    f.drain();
    f.sink.take();
    REQUIRE(f.exchange.cancel(0, client_order_id{1}, f.exchange.now()) == gateway_error::none);
    f.drain();
    auto reports = f.sink.take();
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].kind == exec_kind::cancelled);
    CHECK(reports[0].reason == reject_reason::user_cancel);
    CHECK(reports[0].cum_qty == qty{3});
    CHECK(reports[0].leaves_qty == qty{5});
    CHECK(f.exchange.open_order_count() == 0);

    REQUIRE(f.exchange.cancel(0, client_order_id{1}, f.exchange.now()) == gateway_error::none);
    f.drain();
    reports = f.sink.take();
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].kind == exec_kind::cancel_reject);
    CHECK(reports[0].reason == reject_reason::unknown_order);
    CHECK(reports[0].client_id == client_order_id{1});
}

TEST_CASE("cancel_all cancels every open order of the symbol", "[sim_exchange]") {
    exchange_fixture f;
    f.place(limit(1, side::buy, 99, 1));
    f.place(limit(2, side::buy, 100, 1));
    f.place(limit(3, side::sell, 102, 1));
    REQUIRE(f.exchange.cancel_all(0, f.exchange.now()) == gateway_error::none);
    f.drain();
    const auto reports = f.sink.take();
    REQUIRE(reports.size() == 3);
    for (const auto& report : reports) {
        CHECK(report.kind == exec_kind::cancelled);
    }
    CHECK(reports[0].client_id == client_order_id{2}); // best bid first
    CHECK(f.exchange.open_order_count() == 0);
    REQUIRE(f.exchange.cancel_all(all_symbols, f.exchange.now()) == gateway_error::none);
    f.drain();
    CHECK(f.sink.reports.empty());
}

TEST_CASE("a fill before the cancel arrives is reported first; the cancel takes the rest or is "
          "rejected",
          "[sim_exchange]") {
    exchange_fixture f; // cancel latency 1 ms
    f.place(limit(1, side::buy, 100, 10));
    f.place(limit(2, side::buy, 99, 10));
    const core::timestamp_ns t0 = f.exchange.now();
    REQUIRE(f.exchange.cancel(0, client_order_id{1}, t0) == gateway_error::none);
    REQUIRE(f.exchange.cancel(0, client_order_id{2}, t0) == gateway_error::none);
    // While the cancels travel, order 1 trades partly and order 2 completely.
    f.exchange.hit_order(0, side::buy, 0, qty{4}, t0 + 400 * us);
    f.exchange.on_market_order(0, side::sell, qty{6 + 10}, t0 + 600 * us);
    f.drain();
    const auto reports = f.sink.take();
    REQUIRE(reports.size() == 5);
    CHECK(reports[0].kind == exec_kind::partial_fill); // order 1: 4
    CHECK(reports[1].kind == exec_kind::fill);         // order 1: 6
    CHECK(reports[1].client_id == client_order_id{1});
    CHECK(reports[2].kind == exec_kind::fill); // order 2: 10
    CHECK(reports[2].client_id == client_order_id{2});
    CHECK(reports[3].kind == exec_kind::cancel_reject); // both too late
    CHECK(reports[4].kind == exec_kind::cancel_reject);
    for (std::size_t i = 1; i < reports.size(); ++i) {
        CHECK(reports[i].local_ts >= reports[i - 1].local_ts);
    }

    // A partial fill racing the cancel: the cancel takes the remainder.
    f.place(limit(3, side::sell, 104, 10));
    const core::timestamp_ns t1 = f.exchange.now();
    REQUIRE(f.exchange.cancel(0, client_order_id{3}, t1) == gateway_error::none);
    f.exchange.hit_order(0, side::sell, 0, qty{3}, t1 + 999 * us);
    f.drain();
    const auto raced = f.sink.take();
    REQUIRE(raced.size() == 2);
    CHECK(raced[0].kind == exec_kind::partial_fill);
    CHECK(raced[1].kind == exec_kind::cancelled);
    CHECK(raced[1].leaves_qty == qty{7});
    CHECK(raced[1].cum_qty == qty{3});
}

TEST_CASE("requests keep their order unless fifo_requests is off", "[sim_exchange]") {
    // Orders take 5 ms, cancels 1 ms.
    sim_exchange_config config = constant_latency(5 * ms, 1 * ms);
    SECTION("fifo: the cancel waits behind its order") {
        exchange_fixture f(config);
        REQUIRE(f.exchange.submit(limit(1, side::buy, 100, 1), 0) == gateway_error::none);
        REQUIRE(f.exchange.cancel(0, client_order_id{1}, 0) == gateway_error::none);
        f.drain();
        const auto reports = f.sink.take();
        REQUIRE(reports.size() == 2);
        CHECK(reports[0].kind == exec_kind::ack);
        CHECK(reports[1].kind == exec_kind::cancelled);
        CHECK(reports[1].exchange_ts == 5 * ms);
    }
    SECTION("independent: the cancel overtakes and is rejected; the order rests") {
        config.fifo_requests = false;
        exchange_fixture f(config);
        REQUIRE(f.exchange.submit(limit(1, side::buy, 100, 1), 0) == gateway_error::none);
        REQUIRE(f.exchange.cancel(0, client_order_id{1}, 0) == gateway_error::none);
        f.drain();
        const auto reports = f.sink.take();
        REQUIRE(reports.size() == 2);
        CHECK(reports[0].kind == exec_kind::cancel_reject);
        CHECK(reports[0].exchange_ts == 1 * ms);
        CHECK(reports[1].kind == exec_kind::ack);
        CHECK(f.exchange.open_order_count() == 1);
    }
}

TEST_CASE("reports arrive in exchange order even with random latency", "[sim_exchange]") {
    sim_exchange_config config;
    config.order_entry_latency = {latency_distribution::exponential, 100 * us, 2 * ms};
    config.cancel_latency = {latency_distribution::uniform, 100 * us, 2 * ms};
    config.market_data_latency = {latency_distribution::exponential, 50 * us, 3 * ms};
    config.seed = 11;
    exchange_fixture f(config);
    std::mt19937_64 rng(1);
    core::timestamp_ns t = 0;
    for (std::uint64_t i = 1; i <= 400; ++i) {
        t += static_cast<core::timestamp_ns>(rng() % (300 * us));
        const auto px = static_cast<std::int64_t>(90 + rng() % 10);
        REQUIRE(f.exchange.submit(limit(i, side::buy, px, 3), t) == gateway_error::none);
        if (i % 3 == 0) {
            REQUIRE(f.exchange.cancel(0, client_order_id{i - 1}, t) == gateway_error::none);
        }
        if (i % 5 == 0) {
            f.exchange.on_market_order(0, side::sell, qty{4}, t);
        }
    }
    f.drain();
    const auto& reports = f.sink.reports;
    REQUIRE(reports.size() > 400);
    for (std::size_t i = 1; i < reports.size(); ++i) {
        REQUIRE(reports[i].local_ts >= reports[i - 1].local_ts);
        REQUIRE(reports[i].exchange_ts >= reports[i - 1].exchange_ts);
        REQUIRE(reports[i].local_ts >= reports[i].exchange_ts + 50 * us);
    }
}

TEST_CASE("maker and taker fees in bps, rebates negative, rounded for the exchange",
          "[sim_exchange]") {
    const auto spec = core::symbol_spec::from_text(
        {.name = "BTCUSDT", .tick_size = "0.01", .step_size = "0.00001", .min_notional = "5"});
    REQUIRE(spec.has_value());
    const std::array specs{*spec};
    sim_exchange_config config = constant_latency();
    config.maker_fee_bps = -1.0;
    config.taker_fee_bps = 7.5;
    recording_sink sink;
    sim_exchange exchange(config, specs);
    exchange.set_report_sink(&sink);
    exchange.on_top_of_book(0, tob(6'000'000, 6'000'001), 0); // 60000.00 / 60000.01

    // Maker: buy 0.001 BTC at 60000.00 = 60 USDT notional = 6e8 units of 1e-7 USDT; a 1 bps
    // rebate is 0.006 USDT.
    REQUIRE(exchange.submit(limit(1, side::buy, 6'000'000, 100), 0) == gateway_error::none);
    exchange.hit_order(0, side::buy, 0, fill_all, 5 * ms);
    // Taker: a marketable sell at the bid pays 7.5 bps of 60 USDT = 0.045 USDT.
    REQUIRE(exchange.submit(limit(2, side::sell, 6'000'000, 100, false), 5 * ms) ==
            gateway_error::none);
    exchange.advance_to(20 * ms);

    std::vector<exec_report> fills;
    for (const auto& report : sink.reports) {
        if (report.kind == exec_kind::fill) {
            fills.push_back(report);
        }
    }
    REQUIRE(fills.size() == 2);
    CHECK(fills[0].liquidity == liquidity_role::maker);
    CHECK(fills[0].fee_units == -60'000);
    CHECK(fills[1].liquidity == liquidity_role::taker);
    CHECK(fills[1].price == price{6'000'000});
    CHECK(fills[1].fee_units == 450'000);
    CHECK(exchange.position(0) == qty{0});

    // Rounding: one notional unit pays ceil(7.5e-4) = 1 unit as taker and earns
    // ceil(-1e-4) = 0 as maker.
    recording_sink tiny_sink;
    sim_exchange tiny(config, specs);
    tiny.set_report_sink(&tiny_sink);
    tiny.on_top_of_book(0, tob(1, 2), 0);
    REQUIRE(tiny.submit(limit(1, side::buy, 1, 1), 0) == gateway_error::none);
    tiny.hit_order(0, side::buy, 0, fill_all, 5 * ms);
    REQUIRE(tiny.submit(limit(2, side::sell, 1, 1, false), 5 * ms) == gateway_error::none);
    tiny.advance_to(20 * ms);
    std::vector<std::int64_t> fees;
    for (const auto& report : tiny_sink.reports) {
        if (report.kind == exec_kind::fill) {
            fees.push_back(report.fee_units);
        }
    }
    CHECK(fees == std::vector<std::int64_t>{0, 1});
}

TEST_CASE("crossing orders take the displayed book; IOC and FOK expire", "[sim_exchange]") {
    exchange_fixture f;
    const std::array asks{core::book_level{price{101}, qty{2}},
                          core::book_level{price{102}, qty{3}},
                          core::book_level{price{104}, qty{10}}};
    f.exchange.on_book_side(0, side::sell, asks, f.exchange.now());

    SECTION("GTC sweeps the levels within its limit and rests the rest") {
        const auto reports = f.place(limit(1, side::buy, 103, 8, false));
        REQUIRE(reports.size() == 3);
        CHECK(reports[0].kind == exec_kind::ack);
        CHECK(reports[1].kind == exec_kind::partial_fill);
        CHECK(reports[1].price == price{101});
        CHECK(reports[1].fill_qty == qty{2});
        CHECK(reports[1].liquidity == liquidity_role::taker);
        CHECK(reports[2].price == price{102});
        CHECK(reports[2].fill_qty == qty{3});
        CHECK(reports[2].leaves_qty == qty{3});
        REQUIRE(f.exchange.find_order(client_order_id{1}) != nullptr);
        CHECK(f.exchange.find_order(client_order_id{1})->leaves == qty{3});
    }
    SECTION("IOC expires what does not fill") {
        auto ioc = limit(1, side::buy, 102, 8, false);
        ioc.tif = time_in_force::ioc;
        const auto reports = f.place(ioc);
        REQUIRE(reports.size() == 4);
        CHECK(reports[3].kind == exec_kind::cancelled);
        CHECK(reports[3].reason == reject_reason::expired);
        CHECK(reports[3].leaves_qty == qty{3});
        CHECK(f.exchange.open_order_count() == 0);
    }
    SECTION("FOK fills completely or not at all") {
        auto fok = limit(1, side::buy, 102, 6, false);
        fok.tif = time_in_force::fok;
        auto reports = f.place(fok);
        REQUIRE(reports.size() == 2);
        CHECK(reports[1].kind == exec_kind::cancelled);
        CHECK(reports[1].reason == reject_reason::expired);
        CHECK(reports[1].cum_qty == qty{0});
        fok.id = client_order_id{2};
        fok.qty = qty{5};
        reports = f.place(fok);
        REQUIRE(reports.size() == 3);
        CHECK(reports[2].kind == exec_kind::fill);
        CHECK(f.exchange.position(0) == qty{5});
    }
    SECTION("reduce-only may only shrink the position") {
        f.place(limit(1, side::buy, 101, 2, false)); // long 2
        auto reduce = limit(2, side::sell, 105, 3);
        reduce.reduce_only = true;
        CHECK(f.place(reduce)[0].reason == reject_reason::reduce_only_would_increase);
        reduce.id = client_order_id{3};
        reduce.qty = qty{2};
        CHECK(f.place(reduce)[0].kind == exec_kind::ack);
    }
}

TEST_CASE("book moves fill resting orders by the cross rule", "[sim_exchange]") {
    const auto run = [](cross_fill_rule rule) {
        sim_exchange_config config = constant_latency();
        config.cross_fill = rule;
        exchange_fixture f(config);
        f.place(limit(1, side::buy, 100, 5));
        f.place(limit(2, side::sell, 103, 5));
        f.exchange.on_top_of_book(0, tob(98, 100), f.exchange.now()); // ask touches the buy
        f.drain();
        const auto touched = f.sink.take();
        f.exchange.on_top_of_book(0, tob(104, 105), f.exchange.now()); // bid through the sell
        f.drain();
        const auto through = f.sink.take();
        return std::pair{touched, through};
    };
    {
        const auto [touched, through] = run(cross_fill_rule::on_touch);
        REQUIRE(touched.size() == 1);
        CHECK(touched[0].kind == exec_kind::fill);
        CHECK(touched[0].price == price{100}); // at the order's own price, as maker
        CHECK(touched[0].liquidity == liquidity_role::maker);
        REQUIRE(through.size() == 1);
        CHECK(through[0].price == price{103});
    }
    {
        const auto [touched, through] = run(cross_fill_rule::on_through);
        CHECK(touched.empty());
        CHECK(through.size() == 1);
    }
    {
        const auto [touched, through] = run(cross_fill_rule::never);
        CHECK(touched.empty());
        CHECK(through.empty());
    }
}

TEST_CASE("queue position: an order fills only after the queue ahead trades", "[sim_exchange]") {
    exchange_fixture f;
    f.exchange.on_top_of_book(0, tob(100, 102, 5, 4), f.exchange.now());
    f.place(limit(1, side::buy, 100, 2));
    const sim_order* order = f.exchange.find_order(client_order_id{1});
    REQUIRE(order != nullptr);
    CHECK(order->queue_known);
    CHECK(order->queue_ahead == qty{5});

    f.exchange.on_trade(0, price{100}, qty{3}, side::sell, f.exchange.now());
    f.drain();
    CHECK(f.sink.take().empty());
    CHECK(order->queue_ahead == qty{2});
    CHECK(order->level_seen == qty{2});

    // The depth update that shows the trade does not move us again.
    f.exchange.on_book_level(0, side::buy, price{100}, qty{2}, f.exchange.now());
    CHECK(order->queue_ahead == qty{2});

    // Trades at a worse price or on the other side do nothing.
    f.exchange.on_trade(0, price{102}, qty{9}, side::buy, f.exchange.now());
    f.drain();
    CHECK(f.sink.take().empty());

    f.exchange.on_trade(0, price{100}, qty{2}, side::sell, f.exchange.now());
    f.drain();
    CHECK(f.sink.take().empty()); // exactly the queue ahead: nothing reaches us
    CHECK(order->queue_ahead == qty{0});

    f.exchange.on_trade(0, price{100}, qty{1}, side::sell, f.exchange.now());
    f.drain();
    auto reports = f.sink.take();
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].kind == exec_kind::partial_fill);
    CHECK(reports[0].fill_qty == qty{1});
    CHECK(reports[0].price == price{100});

    // A trade through our price fills the rest whatever the queue.
    f.exchange.on_trade(0, price{99}, qty{1}, side::sell, f.exchange.now());
    f.drain();
    reports = f.sink.take();
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].kind == exec_kind::fill);
    CHECK(reports[0].fill_qty == qty{1});
}

TEST_CASE("queue position: unexplained size decreases shrink the queue ahead proportionally",
          "[sim_exchange]") {
    exchange_fixture f;
    const std::array bids{core::book_level{price{100}, qty{20}},
                          core::book_level{price{99}, qty{10}},
                          core::book_level{price{97}, qty{8}}};
    f.exchange.on_book_side(0, side::buy, bids, f.exchange.now());
    f.place(limit(1, side::buy, 99, 1));
    f.place(limit(2, side::buy, 98, 1)); // inside the known depth but empty: front of queue
    f.place(limit(3, side::buy, 96, 1)); // deeper than the known depth: unknown
    const sim_order* at99 = f.exchange.find_order(client_order_id{1});
    const sim_order* at98 = f.exchange.find_order(client_order_id{2});
    const sim_order* at96 = f.exchange.find_order(client_order_id{3});
    CHECK(at99->queue_ahead == qty{10});
    CHECK(at98->queue_ahead == qty{0});
    CHECK_FALSE(at96->queue_known);

    // 10 → 6 (a queue of 10 behind which more joined: 10 → 16, then 16 → 6).
    f.exchange.on_book_level(0, side::buy, price{99}, qty{16}, f.exchange.now());
    CHECK(at99->queue_ahead == qty{10}); // joiners queue behind us
    f.exchange.on_book_level(0, side::buy, price{99}, qty{6}, f.exchange.now());
    // 10 cancelled out of 16, 10 of them ahead: 10 - 10 * 10 / 16 = 3.75 → 4 (rounded for the
    // queue, i.e. conservatively).
    CHECK(at99->queue_ahead == qty{4});
    CHECK(at99->level_seen == qty{6});

    // Unknown until a book update covers its price, then it queues behind the displayed size.
    const std::array deeper{core::book_level{price{100}, qty{20}},
                            core::book_level{price{99}, qty{6}},
                            core::book_level{price{96}, qty{7}}};
    f.exchange.on_book_side(0, side::buy, deeper, f.exchange.now());
    CHECK(at96->queue_known);
    CHECK(at96->queue_ahead == qty{7});
    CHECK(at98->queue_ahead == qty{0});
    CHECK(at99->queue_ahead == qty{4});

    // A level that disappears from the book (all cancelled) puts us first.
    const std::array gone{core::book_level{price{100}, qty{20}},
                          core::book_level{price{96}, qty{7}}};
    f.exchange.on_book_side(0, side::buy, gone, f.exchange.now());
    CHECK(at99->queue_ahead == qty{0});
    f.exchange.on_trade(0, price{99}, qty{1}, side::sell, f.exchange.now());
    f.drain();
    const auto reports = f.sink.take();
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].client_id == client_order_id{1});
    CHECK(reports[0].kind == exec_kind::fill);
}

TEST_CASE("queue position: an order deeper than the known book waits until the book covers it",
          "[sim_exchange]") {
    exchange_fixture f;
    const std::array bids{core::book_level{price{100}, qty{20}},
                          core::book_level{price{99}, qty{10}}};
    f.exchange.on_book_side(0, side::buy, bids, f.exchange.now());
    f.place(limit(1, side::buy, 97, 2));
    const sim_order* order = f.exchange.find_order(client_order_id{1});
    CHECK_FALSE(order->queue_known);
    f.exchange.on_trade(0, price{97}, qty{5}, side::sell, f.exchange.now());
    f.drain();
    CHECK(f.sink.take().empty()); // unknown queue: no fill at its price
    f.exchange.on_book_level(0, side::buy, price{97}, qty{7}, f.exchange.now());
    CHECK(order->queue_known);
    CHECK(order->queue_ahead == qty{7});
    f.exchange.on_trade(0, price{97}, qty{8}, side::sell, f.exchange.now());
    f.drain();
    const auto reports = f.sink.take();
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].fill_qty == qty{1});
}

TEST_CASE("without the queue model a trade at the order's price fills it at once",
          "[sim_exchange]") {
    sim_exchange_config config = constant_latency();
    config.queue_model = false;
    exchange_fixture f(config);
    f.exchange.on_top_of_book(0, tob(100, 102, 50, 50), f.exchange.now());
    f.place(limit(1, side::buy, 100, 5));
    f.exchange.on_trade(0, price{100}, qty{3}, side::sell, f.exchange.now());
    f.drain();
    const auto reports = f.sink.take();
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].fill_qty == qty{3});
}

namespace {

/// A random session: submits, cancels and market events with random latencies; returns every
/// report in delivery order.
std::vector<exec_report> random_session(std::uint64_t seed) {
    sim_exchange_config config;
    config.order_entry_latency = {latency_distribution::exponential, 200 * us, 1 * ms};
    config.cancel_latency = {latency_distribution::uniform, 200 * us, 1 * ms};
    config.market_data_latency = {latency_distribution::exponential, 100 * us, 500 * us};
    config.fifo_requests = false;
    config.seed = seed;
    recording_sink sink;
    sim_exchange exchange(config);
    exchange.set_report_sink(&sink);
    std::mt19937_64 driver(99); // the same market and orders for every seed
    core::timestamp_ns t = 0;
    std::int64_t mid = 1000;
    for (std::uint64_t i = 1; i <= 2000; ++i) {
        t += static_cast<core::timestamp_ns>(driver() % (500 * us));
        mid += static_cast<std::int64_t>(driver() % 3) - 1;
        exchange.on_top_of_book(0, tob(mid - 1, mid + 1, 5, 5), t);
        const side s = driver() % 2 == 0 ? side::buy : side::sell;
        const std::int64_t px = s == side::buy ? mid - 1 - static_cast<std::int64_t>(driver() % 3)
                                               : mid + 1 + static_cast<std::int64_t>(driver() % 3);
        (void)exchange.submit(limit(i, s, px, 1 + static_cast<std::int64_t>(driver() % 4)), t);
        if (driver() % 2 == 0) {
            (void)exchange.cancel(0, client_order_id{i - driver() % 4}, t);
        }
        exchange.on_trade(0, price{mid - 1}, qty{static_cast<std::int64_t>(driver() % 8)},
                          side::sell, t);
        exchange.on_market_order(0, side::buy, qty{static_cast<std::int64_t>(driver() % 3)}, t);
    }
    exchange.advance_to(t + 1000 * ms);
    return sink.reports;
}

bool same_reports(const std::vector<exec_report>& a, const std::vector<exec_report>& b) {
    if (a.size() != b.size()) {
        return false;
    }
    const auto fields = [](const exec_report& r) {
        return std::tuple{r.client_id,  r.exchange_id, r.price,       r.fill_qty, r.cum_qty,
                          r.leaves_qty, r.fee_units,   r.exchange_ts, r.local_ts, r.symbol,
                          r.kind,       r.reason,      r.liquidity,   r.side,     r.level};
    };
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (fields(a[i]) != fields(b[i])) {
            return false;
        }
    }
    return true;
}

} // namespace

TEST_CASE("the same seed gives the same reports; another seed other timings", "[sim_exchange]") {
    const auto first = random_session(5);
    const auto again = random_session(5);
    const auto other = random_session(6);
    REQUIRE(first.size() > 2000);
    CHECK(same_reports(first, again));
    CHECK_FALSE(same_reports(first, other));
}

TEST_CASE("a full event queue refuses requests instead of allocating", "[sim_exchange]") {
    sim_exchange_config config = constant_latency();
    config.max_pending_events = 16;
    exchange_fixture f(config);
    std::size_t accepted = 0;
    for (std::uint64_t i = 1; i <= 40; ++i) {
        if (f.exchange.submit(limit(i, side::buy, 90, 1), f.exchange.now()) ==
            gateway_error::none) {
            ++accepted;
        }
    }
    CHECK(accepted == 8); // half: requests must leave room for the reports they cause
    f.drain();
    CHECK(f.sink.reports.size() == 8);
    CHECK(f.exchange.stats().dropped_reports == 0);
    CHECK(f.exchange.submit(limit(100, side::buy, 90, 1), f.exchange.now()) == gateway_error::none);
}

namespace {

/// A session whose book moves through resting orders, fed one level a side either with
/// on_book() or with on_book_side(buy) then on_book_side(sell); returns every report.
std::vector<exec_report> top_of_book_session(sim_exchange_config config, bool both_sides_at_once) {
    recording_sink sink;
    sim_exchange exchange(config);
    exchange.set_report_sink(&sink);
    std::mt19937_64 driver(17);
    core::timestamp_ns t = 0;
    std::int64_t mid = 1000;
    for (std::uint64_t i = 1; i <= 3000; ++i) {
        t += static_cast<core::timestamp_ns>(driver() % (3 * ms));
        mid += static_cast<std::int64_t>(driver() % 5) - 2;
        const std::array bid{core::book_level{price{mid - 1}, qty{5}}};
        const std::array ask{core::book_level{price{mid + 1}, qty{5}}};
        if (both_sides_at_once) {
            exchange.on_book(0, bid, ask, t);
        } else {
            exchange.on_book_side(0, side::buy, bid, t);
            exchange.on_book_side(0, side::sell, ask, t);
        }
        const side s = driver() % 2 == 0 ? side::buy : side::sell;
        const std::int64_t px = s == side::buy ? mid - 1 - static_cast<std::int64_t>(driver() % 3)
                                               : mid + 1 + static_cast<std::int64_t>(driver() % 3);
        (void)exchange.submit(limit(i, s, px, 1 + static_cast<std::int64_t>(driver() % 4)), t);
        if (driver() % 3 == 0) {
            (void)exchange.cancel(0, client_order_id{i - driver() % 4}, t);
        }
    }
    exchange.advance_to(t + 1000 * ms);
    return sink.reports;
}

} // namespace

TEST_CASE("a one-level book without the queue model fills as its two sides fed in turn",
          "[sim_exchange]") {
    for (const cross_fill_rule rule :
         {cross_fill_rule::on_touch, cross_fill_rule::on_through, cross_fill_rule::never}) {
        for (const core::duration_ns latency : {core::duration_ns{0}, 1 * ms}) {
            sim_exchange_config config = constant_latency(latency, latency, latency);
            config.queue_model = false;
            config.cross_fill = rule;
            const auto at_once = top_of_book_session(config, true);
            const auto in_turn = top_of_book_session(config, false);
            CHECK(at_once.size() > 3000);
            CHECK(same_reports(at_once, in_turn));
            if (rule != cross_fill_rule::never) {
                CHECK(std::count_if(at_once.begin(), at_once.end(), [](const exec_report& r) {
                          return r.kind == exec_kind::fill;
                      }) > 100);
            }
        }
    }
}
