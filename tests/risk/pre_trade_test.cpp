// One test per pre-trade check, each at, just below and just above its threshold.
#include "quoter/risk/pre_trade.hpp"

#include "risk/risk_test_support.hpp"
#include "support/random_steps.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <utility>
#include <vector>

using namespace quoter;
using namespace quoter::risk;
using namespace quoter::risk::testing;
using core::ns_per_ms;
using core::ns_per_s;

namespace {

constexpr core::timestamp_ns start = 1'000 * ns_per_s;

struct fixture {
    explicit fixture(const risk_limits& l = {}) : limits(l), checker(limits, sink) {}

    reject_reason check(const order_request& o, const market_view& m = mid_1000(),
                        const account_view& a = flat_account(), core::timestamp_ns t = start) {
        return checker.check(spec, o, m, a, t);
    }

    risk_limits limits;
    rejection_recorder sink;
    pre_trade_checker checker;
    core::symbol_spec spec = integer_spec();
};

risk_limits generous() {
    risk_limits l;
    l.order_notional_pct = 100.0;
    return l;
}

/// The events of one window that a checker's state file would save: its own.
std::uint64_t saved_events(const pre_trade_checker& checker, rate_window window) {
    const rate_memory memory = checker.remembered_rates();
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < memory.count; ++i) {
        n += memory.buckets[i].window == window ? memory.buckets[i].events : 0;
    }
    return n;
}

} // namespace

TEST_CASE("an armed percentage limit gives exceeds_pct's verdict for every input", "[pre_trade]") {
    const double inf = std::numeric_limits<double>::infinity();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double pcts[] = {-5.0, -0.0, 0.0, 1e-300, 0.1, 1.0, 15.0, 50.0, 100.0, 1e300, inf, nan};
    const double values[] = {-inf, -1e300, -1'001.0, -1.0, -0.0, 0.0, 1e-300, 0.1,  999.0,
                             1'000.0, 1'000.0000000001, 1'001.0, 1e300, inf, nan};
    for (const double pct : pcts) {
        const armed_pct limit(pct);
        for (const double value : values) {
            for (const double base : values) {
                INFO("pct " << pct << " value " << value << " base " << base);
                CHECK(limit.exceeded_by(value, base) == exceeds_pct(value, base, pct));
            }
        }
    }
    // Random doubles near the threshold of 1 %, where the products' rounding decides.
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> jitter(-1e-9, 1e-9);
    const armed_pct one(1.0);
    for (int i = 0; i < 10'000; ++i) {
        const double base = 1e5 * (1.0 + jitter(rng) * 1e6);
        const double value = base / 100.0 * (1.0 + jitter(rng));
        CHECK(one.exceeded_by(value, base) == exceeds_pct(value, base, 1.0));
    }
}

TEST_CASE("measure values the position at the mid, at the one side there is, or not at all",
          "[pre_trade]") {
    const core::symbol_spec spec = integer_spec();
    const account_view account = with_position(-3);
    const auto mid_of = [&](std::int64_t bid, std::int64_t ask) {
        const exposure e = measure(spec, book(bid, ask), account);
        CHECK(e.position_notional == 3.0 * e.mid);
        return e.mid;
    };
    CHECK(mid_of(999, 1'001) == 1'000.0);
    CHECK(mid_of(1'000, 1'001) == 1'000.5);
    CHECK(mid_of(999, 0) == 999.0);
    CHECK(mid_of(999, -5) == 999.0);
    CHECK(mid_of(0, 1'001) == 1'001.0);
    CHECK(mid_of(-5, 1'001) == 1'001.0);
    CHECK(mid_of(0, 0) == 0.0);
    CHECK(mid_of(-7, -5) == 0.0);
}

TEST_CASE("a plain order inside every limit passes and is not recorded", "[pre_trade]") {
    fixture f;
    CHECK(f.check(buy(1000, 1, true)) == reject_reason::none);
    CHECK(f.check(sell(1000, 1, true)) == reject_reason::none);
    CHECK(f.sink.records.empty());
    CHECK(f.checker.passed() == 2);
    CHECK(f.checker.total_rejections() == 0);
}

TEST_CASE("a rejection is counted by reason and recorded with the values that failed",
          "[pre_trade]") {
    fixture f; // max notional 5 % of 100000 = 5000
    auto o = buy(1000, 6, true);
    o.client_order_id = 7;
    o.symbol_id = 3;
    REQUIRE(f.check(o) == reject_reason::max_order_notional);
    REQUIRE(f.sink.records.size() == 1);
    const rejection_record& r = f.sink.records.front();
    CHECK(r.reason == reject_reason::max_order_notional);
    CHECK(r.limit_value == 5000.0);
    CHECK(r.actual_value == 6000.0);
    CHECK(r.client_order_id == 7);
    CHECK(r.symbol_id == 3);
    CHECK(r.side == core::side::buy);
    CHECK(r.price == core::price{1000});
    CHECK(r.qty == core::qty{6});
    CHECK(r.post_only);
    CHECK(r.time == start);
    CHECK(f.checker.rejections(reject_reason::max_order_notional) == 1);
    CHECK(f.checker.total_rejections() == 1);
    CHECK(to_string(r.reason) == "max_order_notional");
    CHECK(value_unit(r.reason) == "quote");
}

TEST_CASE("max order notional: equity * order_notional_pct", "[pre_trade]") {
    fixture f;
    CHECK(f.check(buy(1000, 4)) == reject_reason::none);
    CHECK(f.check(buy(1000, 5)) == reject_reason::none); // 5000: at the limit
    CHECK(f.check(buy(1000, 6)) == reject_reason::max_order_notional);
}

TEST_CASE("max order quantity", "[pre_trade]") {
    risk_limits l = generous();
    l.max_order_qty_base = 3.0;
    fixture f(l);
    CHECK(f.check(buy(1000, 2)) == reject_reason::none);
    CHECK(f.check(buy(1000, 3)) == reject_reason::none);
    CHECK(f.check(buy(1000, 4)) == reject_reason::max_order_qty);
    CHECK(f.sink.records.back().limit_value == 3.0);
    CHECK(f.sink.records.back().actual_value == 4.0);
}

TEST_CASE("largest_order_qty: the biggest order the size limits pass", "[pre_trade]") {
    const core::symbol_spec spec = integer_spec();
    risk_limits l; // 5 % of 100000 = 5000 notional
    l.max_order_qty_base = 0.0;
    const auto by_notional = largest_order_qty(spec, l, core::price{1000}, 100'000.0);
    REQUIRE(by_notional);
    CHECK(by_notional->lots() == 5);
    // At that size the checker passes; one lot more is refused.
    fixture f(l);
    CHECK(f.check(sell(1000, 5)) == reject_reason::none);
    CHECK(f.check(sell(1000, 6)) == reject_reason::max_order_notional);

    l.max_order_qty_base = 3.0;
    CHECK(largest_order_qty(spec, l, core::price{1000}, 100'000.0)->lots() == 3);
    l.max_order_qty_base = 0.0;
    l.order_notional_pct = 0.0;
    CHECK_FALSE(largest_order_qty(spec, l, core::price{1000}, 100'000.0));
    // A limit that allows less than one lot caps at zero.
    l.order_notional_pct = 0.5; // 500 < one lot at 1000
    CHECK(largest_order_qty(spec, l, core::price{1000}, 100'000.0)->lots() == 0);
}

TEST_CASE("largest_order_qty on a fractional lot: the order it sizes at max_order_qty_base "
          "passes, one lot more does not",
          "[pre_trade]") {
    // 0.3 BTC is 30000 lots of 0.00001, and 30000 * 0.00001 is 0.30000000000000004 as a double:
    // judged in doubles, the largest order the limit allows (a flatten's size) was refused.
    const auto spec = core::symbol_spec::from_text(
        {.name = "BTCUSDT", .tick_size = "0.01", .step_size = "0.00001", .min_notional = "5"});
    REQUIRE(spec.has_value());
    for (const double max_qty : {0.3, 1.5, 0.7}) {
        risk_limits l;
        l.order_notional_pct = 1000.0;
        l.max_order_qty_base = max_qty;
        rejection_recorder sink;
        pre_trade_checker checker(l, sink);
        const market_view market{core::price{6'000'000}, core::price{6'000'010}};
        account_view account;
        account.position = core::qty{200'000}; // long 2 BTC
        account.equity = 1'000'000.0;
        const core::price limit{5'999'998};
        const std::optional<core::qty> cap = largest_order_qty(*spec, l, limit, account.equity);
        REQUIRE(cap);
        CHECK(cap->lots() == std::llround(max_qty * 1e5));
        order_request order;
        order.side = core::side::sell;
        order.price = limit;
        order.qty = *cap;
        order.reduce_only = true;
        order.intent = order_intent::flatten;
        INFO("max_order_qty_base " << max_qty);
        CHECK(checker.check(*spec, order, market, account, start) == reject_reason::none);
        order.qty = core::qty{cap->lots() + 1};
        CHECK(checker.check(*spec, order, market, account, start) == reject_reason::max_order_qty);
    }
}

TEST_CASE("exchange filters: positive price, positive quantity, minimum notional", "[pre_trade]") {
    fixture f; // min notional 1000
    CHECK(f.check(buy(0, 1)) == reject_reason::invalid_price);
    CHECK(f.check(buy(-5, 1)) == reject_reason::invalid_price);
    CHECK(f.check(buy(1000, 0)) == reject_reason::invalid_qty);
    CHECK(f.check(buy(1000, -1)) == reject_reason::invalid_qty);
    CHECK(f.check(sell(999, 1)) == reject_reason::below_min_notional);
    CHECK(f.sink.records.back().limit_value == 1000.0);
    CHECK(f.sink.records.back().actual_value == 999.0);
    CHECK(f.check(sell(1000, 1)) == reject_reason::none);
    CHECK(f.check(sell(1001, 1)) == reject_reason::none);

    // A reduce-only flatten order of a long position below the minimum: refused where the venue
    // (spot) refuses it, passed where the venue (USD-M futures) waives the minimum for it.
    order_request close = sell(999, 1);
    close.reduce_only = true;
    close.intent = order_intent::flatten;
    CHECK(f.check(close, mid_1000(), with_position(1)) == reject_reason::below_min_notional);
    f.spec.set_reduce_only_waives_min_notional(true);
    CHECK(f.check(close, mid_1000(), with_position(1)) == reject_reason::none);
    CHECK(f.check(sell(999, 1), mid_1000(), with_position(1)) ==
          reject_reason::below_min_notional); // not reduce-only: the minimum holds
}

TEST_CASE("exchange filters: the venue's largest order, in quantity and in notional",
          "[pre_trade]") {
    fixture f(generous());
    REQUIRE(f.spec.set_venue_maximums("5", "4000"));
    CHECK(f.check(buy(999, 4)) == reject_reason::none);
    CHECK(f.check(buy(999, 5)) == reject_reason::venue_max_notional); // 4995 > 4000
    CHECK(f.sink.records.back().limit_value == 4000.0);
    CHECK(f.check(buy(500, 6)) == reject_reason::venue_max_qty);
    CHECK(f.sink.records.back().limit_value == 5.0);
    CHECK(f.sink.records.back().actual_value == 6.0);

    // A flatten is sized to what the venue takes: the largest order passes, one more lot not.
    risk_limits none;
    none.order_notional_pct = 0.0;
    const auto cap = largest_order_qty(f.spec, none, core::price{1000}, 1e9);
    REQUIRE(cap);
    CHECK(cap->lots() == 4); // 4000 / 1000
    REQUIRE(f.spec.set_venue_maximums("3", ""));
    CHECK(largest_order_qty(f.spec, none, core::price{1000}, 1e9)->lots() == 3);
    CHECK_FALSE(f.spec.set_venue_maximums("x", ""));
    CHECK(f.spec.max_qty() == core::qty{3}); // unchanged
}

TEST_CASE("price band: a bid at most price_band_bps below the best bid", "[pre_trade]") {
    fixture f(generous()); // 50 bps of 10000 = 50 ticks
    const auto m = book(10'000, 10'002);
    CHECK(f.check(buy(9'951, 1), m) == reject_reason::none);
    CHECK(f.check(buy(9'950, 1), m) == reject_reason::none);
    CHECK(f.check(buy(9'949, 1), m) == reject_reason::price_band);
    CHECK(f.sink.records.back().limit_value == 50.0);
    CHECK(f.sink.records.back().actual_value == Approx(51.0));
}

TEST_CASE("price band: an ask at most price_band_bps above the best ask", "[pre_trade]") {
    fixture f(generous());
    const auto m = book(9'998, 10'000);
    CHECK(f.check(sell(10'049, 1), m) == reject_reason::none);
    CHECK(f.check(sell(10'050, 1), m) == reject_reason::none);
    CHECK(f.check(sell(10'051, 1), m) == reject_reason::price_band);
}

TEST_CASE("price band: a marketable order reaches at most price_band_bps through the touch",
          "[pre_trade]") {
    fixture f(generous());
    const auto asks = book(9'998, 10'000);
    CHECK(f.check(buy(10'049, 1), asks) == reject_reason::none);
    CHECK(f.check(buy(10'050, 1), asks) == reject_reason::none);
    CHECK(f.check(buy(10'051, 1), asks) == reject_reason::price_through_market);
    const auto bids = book(10'000, 10'002);
    CHECK(f.check(sell(9'951, 1), bids) == reject_reason::none);
    CHECK(f.check(sell(9'950, 1), bids) == reject_reason::none);
    CHECK(f.check(sell(9'949, 1), bids) == reject_reason::price_through_market);
}

TEST_CASE("a post-only order never crosses", "[pre_trade]") {
    fixture f;
    const auto m = book(999, 1001);
    CHECK(f.check(buy(1000, 1, true), m) == reject_reason::none);
    CHECK(f.check(buy(1001, 1, true), m) == reject_reason::post_only_would_cross);
    CHECK(f.sink.records.back().limit_value == 1001.0);
    CHECK(f.check(buy(1002, 1, true), m) == reject_reason::post_only_would_cross);
    CHECK(f.check(sell(1000, 1, true), m) == reject_reason::none);
    CHECK(f.check(sell(999, 2, true), m) == reject_reason::post_only_would_cross);
    CHECK(f.check(sell(998, 2, true), m) == reject_reason::post_only_would_cross);
    // The same prices without post-only are ordinary marketable orders.
    CHECK(f.check(buy(1001, 1), m) == reject_reason::none);
    CHECK(f.check(sell(999, 2), m) == reject_reason::none);
}

TEST_CASE("an empty side of the book refuses every order", "[pre_trade]") {
    fixture f;
    CHECK(f.check(buy(1000, 1), book(0, 1001)) == reject_reason::no_market);
    CHECK(f.check(sell(1000, 1), book(999, 0)) == reject_reason::no_market);
}

TEST_CASE("per-symbol net notional includes resting orders on the order's side", "[pre_trade]") {
    fixture f(generous()); // 30 % of 100000 = 30000 = 30 lots at mid 1000
    account_view a = with_position(20);
    a.open_buy_qty = core::qty{5};
    CHECK(f.check(buy(1000, 4), mid_1000(), a) == reject_reason::none);
    CHECK(f.check(buy(1000, 5), mid_1000(), a) == reject_reason::none);
    CHECK(f.check(buy(1000, 6), mid_1000(), a) == reject_reason::symbol_net_notional);
    CHECK(f.sink.records.back().limit_value == 30'000.0);
    CHECK(f.sink.records.back().actual_value == 31'000.0);
    // Short side, symmetric.
    account_view s = with_position(-20);
    s.open_sell_qty = core::qty{5};
    CHECK(f.check(sell(1000, 5), mid_1000(), s) == reject_reason::none);
    CHECK(f.check(sell(1000, 6), mid_1000(), s) == reject_reason::symbol_net_notional);
}

TEST_CASE("per-symbol gross notional counts the position and both sides' resting orders",
          "[pre_trade]") {
    fixture f(generous()); // 60 % = 60 lots
    account_view a = flat_account();
    a.open_buy_qty = core::qty{10};
    a.open_sell_qty = core::qty{45};
    CHECK(f.check(buy(1000, 4), mid_1000(), a) == reject_reason::none);
    CHECK(f.check(buy(1000, 5), mid_1000(), a) == reject_reason::none);
    CHECK(f.check(buy(1000, 6), mid_1000(), a) == reject_reason::symbol_gross_notional);
    CHECK(f.sink.records.back().actual_value == 61'000.0);
}

TEST_CASE("portfolio net notional adds the other symbols", "[pre_trade]") {
    fixture f(generous()); // 50 % = 50000
    account_view a = flat_account();
    a.other_symbols_net_notional = 40'000.0;
    CHECK(f.check(buy(1000, 9), mid_1000(), a) == reject_reason::none);
    CHECK(f.check(buy(1000, 10), mid_1000(), a) == reject_reason::none);
    CHECK(f.check(buy(1000, 11), mid_1000(), a) == reject_reason::portfolio_net_notional);
    CHECK(f.sink.records.back().actual_value == 51'000.0);
}

TEST_CASE("portfolio net notional is a percentage of the portfolio's equity when there is one",
          "[pre_trade]") {
    fixture f(generous()); // 50 % of the portfolio's 200000 = 100000
    account_view a = flat_account();
    a.other_symbols_net_notional = 90'000.0;
    a.in_portfolio = true;
    a.portfolio_equity = 200'000.0;
    CHECK(f.check(buy(1000, 10), mid_1000(), a) == reject_reason::none);
    CHECK(f.check(buy(1000, 11), mid_1000(), a) == reject_reason::portfolio_net_notional);
    CHECK(f.sink.records.back().limit_value == 100'000.0);
    CHECK(f.sink.records.back().actual_value == 101'000.0);
}

TEST_CASE("a portfolio whose equity is gone takes no order that adds exposure", "[pre_trade]") {
    fixture f(generous());
    account_view a = flat_account(); // this symbol's equity: 100000
    a.in_portfolio = true;
    a.portfolio_equity = -50'000.0; // the other symbols lost more than this one holds
    CHECK(f.check(buy(1000, 1), mid_1000(), a) == reject_reason::portfolio_net_notional);
}

TEST_CASE("orders that reduce the position are exempt from position limits", "[pre_trade]") {
    fixture f(generous());
    account_view a = with_position(35); // already above the 30-lot net limit
    a.open_buy_qty = core::qty{30};
    CHECK(f.check(sell(1000, 5), mid_1000(), a) == reject_reason::none);
    CHECK(f.check(buy(1000, 1), mid_1000(), a) == reject_reason::symbol_net_notional);
}

TEST_CASE("daily loss: realized + unrealized against daily_loss_pct of start-of-day equity",
          "[pre_trade]") {
    fixture f; // 1 % of 100000 = 1000
    account_view a = flat_account();
    a.realized_pnl_today = -600.0;
    a.unrealized_pnl = -399.0;
    CHECK(f.check(buy(1000, 1), mid_1000(), a) == reject_reason::none);
    a.unrealized_pnl = -400.0;
    CHECK(f.check(buy(1000, 1), mid_1000(), a) == reject_reason::none);
    a.unrealized_pnl = -401.0;
    CHECK(f.check(buy(1000, 1), mid_1000(), a) == reject_reason::daily_loss);
    CHECK(f.sink.records.back().limit_value == 1000.0);
    CHECK(f.sink.records.back().actual_value == 1001.0);
}

TEST_CASE("soft drawdown enters reduce mode: only reducing orders pass", "[pre_trade]") {
    fixture f; // soft 10 %
    const auto at_equity = [](double equity) {
        account_view a = with_position(2, equity);
        a.peak_equity = 100'000.0;
        return a;
    };
    CHECK(f.check(buy(1000, 1), mid_1000(), at_equity(90'001.0)) == reject_reason::none);
    CHECK(f.check(buy(1000, 1), mid_1000(), at_equity(90'000.0)) == reject_reason::none);
    CHECK(f.checker.mode(f.spec, mid_1000(), at_equity(90'000.0)) == trading_mode::normal);
    CHECK(f.check(buy(1000, 1), mid_1000(), at_equity(89'999.0)) == reject_reason::reduce_mode);
    CHECK(f.checker.mode(f.spec, mid_1000(), at_equity(89'999.0)) == trading_mode::reduce);
    CHECK(f.check(sell(1000, 1), mid_1000(), at_equity(89'999.0)) == reject_reason::none);
}

TEST_CASE("hard drawdown refuses every quote", "[pre_trade]") {
    fixture f; // hard 15 %
    const auto at_equity = [](double equity) {
        account_view a = with_position(-2, equity);
        a.peak_equity = 100'000.0;
        return a;
    };
    // A reducing buy, so that reduce mode (already on at 15 %) does not decide.
    CHECK(f.check(buy(1000, 1), mid_1000(), at_equity(85'001.0)) == reject_reason::none);
    CHECK(f.check(buy(1000, 1), mid_1000(), at_equity(85'000.0)) == reject_reason::none);
    CHECK(f.check(buy(1000, 1), mid_1000(), at_equity(84'999.0)) == reject_reason::drawdown_hard);
}

TEST_CASE("inventory hard limit enters flatten mode: only reducing orders pass", "[pre_trade]") {
    fixture f(generous()); // flatten above 40 % = 40 lots at mid 1000
    CHECK(f.checker.mode(f.spec, mid_1000(), with_position(39)) == trading_mode::normal);
    CHECK(f.checker.mode(f.spec, mid_1000(), with_position(40)) == trading_mode::normal);
    CHECK(f.checker.mode(f.spec, mid_1000(), with_position(41)) == trading_mode::flatten);
    CHECK(f.checker.mode(f.spec, mid_1000(), with_position(-41)) == trading_mode::flatten);
    // At 40 a buy is refused by the net limit, not by flatten mode.
    CHECK(f.check(buy(1000, 1), mid_1000(), with_position(40)) ==
          reject_reason::symbol_net_notional);
    CHECK(f.check(buy(1000, 1), mid_1000(), with_position(41)) == reject_reason::flatten_mode);
    CHECK(f.check(sell(1000, 1), mid_1000(), with_position(41)) == reject_reason::none);
    CHECK(f.check(buy(1000, 1), mid_1000(), with_position(-41)) == reject_reason::none);
}

TEST_CASE("inventory kill limit refuses every quote, even reducing ones", "[pre_trade]") {
    fixture f(generous()); // kill above 50 %
    CHECK(f.check(sell(1000, 1), mid_1000(), with_position(49)) == reject_reason::none);
    CHECK(f.check(sell(1000, 1), mid_1000(), with_position(50)) == reject_reason::none);
    CHECK(f.check(sell(1000, 1), mid_1000(), with_position(51)) == reject_reason::inventory_kill);
    auto flatten = sell(1000, 1);
    flatten.intent = order_intent::flatten;
    CHECK(f.check(flatten, mid_1000(), with_position(51)) == reject_reason::none);
}

TEST_CASE("a reduce-only order must reduce", "[pre_trade]") {
    fixture f(generous());
    auto o = sell(1000, 4);
    o.reduce_only = true;
    CHECK(f.check(o, mid_1000(), with_position(5)) == reject_reason::none);
    o.qty = core::qty{5};
    CHECK(f.check(o, mid_1000(), with_position(5)) == reject_reason::none);
    o.qty = core::qty{6};
    CHECK(f.check(o, mid_1000(), with_position(5)) == reject_reason::reduce_only_would_increase);
    auto b = buy(1000, 1);
    b.reduce_only = true;
    CHECK(f.check(b, mid_1000(), with_position(5)) == reject_reason::reduce_only_would_increase);
}

TEST_CASE("the trading-state gate refuses everything but reducing flatten orders after a kill",
          "[pre_trade]") {
    fixture f;
    f.checker.set_flatten_on_kill(true);
    f.checker.set_gate(order_gate::paused);
    CHECK(f.check(buy(1000, 1)) == reject_reason::paused);
    auto flatten = sell(999, 3);
    flatten.intent = order_intent::flatten;
    CHECK(f.check(flatten, mid_1000(), with_position(3)) == reject_reason::paused);
    f.checker.set_gate(order_gate::killed);
    CHECK(f.check(buy(1000, 1)) == reject_reason::killed);
    CHECK(f.check(flatten, mid_1000(), with_position(3)) == reject_reason::none);
    flatten.qty = core::qty{4}; // would flip the position
    CHECK(f.check(flatten, mid_1000(), with_position(3)) == reject_reason::killed);
    f.checker.set_gate(order_gate::open);
    CHECK(f.check(flatten, mid_1000(), with_position(3)) == reject_reason::flatten_not_reducing);
    // Flatten orders still respect the price band.
    f.checker.set_gate(order_gate::killed);
    auto far = sell(990, 3);
    far.intent = order_intent::flatten;
    CHECK(f.check(far, mid_1000(), with_position(3)) == reject_reason::price_through_market);
    // Without flatten_on_kill nothing leaves after a kill.
    f.checker.set_flatten_on_kill(false);
    CHECK(f.check(flatten, mid_1000(), with_position(3)) == reject_reason::killed);
}

TEST_CASE("new orders per second", "[pre_trade]") {
    fixture f; // 10 per second
    for (int i = 0; i < 9; ++i) {
        REQUIRE(f.check(buy(1000, 1), mid_1000(), flat_account(), start + i * ns_per_ms) ==
                reject_reason::none);
    }
    CHECK(f.check(buy(1000, 1), mid_1000(), flat_account(), start + 9 * ns_per_ms) ==
          reject_reason::none); // the 10th: at the limit
    CHECK(f.check(buy(1000, 1), mid_1000(), flat_account(), start + 10 * ns_per_ms) ==
          reject_reason::new_orders_per_s);
    CHECK(f.sink.records.back().limit_value == 10.0);
    CHECK(f.sink.records.back().actual_value == 11.0);
    // A second (plus one bucket) later the budget is back.
    CHECK(f.check(buy(1000, 1), mid_1000(), flat_account(), start + ns_per_s + 60 * ns_per_ms) ==
          reject_reason::none);
}

TEST_CASE("new orders per minute", "[pre_trade]") {
    fixture f; // 300 per minute, 10 per second
    core::timestamp_ns t = start;
    for (int i = 0; i < 300; ++i) { // 5 per second for a minute
        REQUIRE(f.check(buy(1000, 1), mid_1000(), flat_account(), t) == reject_reason::none);
        t += 200 * ns_per_ms;
    }
    // t = start + 60 s: the first orders are a minute old, but within the conservative bucket.
    CHECK(f.check(buy(1000, 1), mid_1000(), flat_account(), start + 59'900 * ns_per_ms) ==
          reject_reason::new_orders_per_min);
    CHECK(f.sink.records.back().actual_value == 301.0);
    CHECK(f.check(buy(1000, 1), mid_1000(), flat_account(), start + 61'000 * ns_per_ms) ==
          reject_reason::none);
}

TEST_CASE("orders per day", "[pre_trade]") {
    risk_limits l;
    l.max_new_orders_per_s = 0;
    l.max_new_orders_per_min = 0;
    l.max_orders_per_day = 20;
    fixture f(l);
    for (int i = 0; i < 19; ++i) {
        REQUIRE(f.check(buy(1000, 1), mid_1000(), flat_account(), start + i) ==
                reject_reason::none);
    }
    CHECK(f.check(buy(1000, 1), mid_1000(), flat_account(), start + 19) == reject_reason::none);
    CHECK(f.check(buy(1000, 1), mid_1000(), flat_account(), start + 20) ==
          reject_reason::orders_per_day);
    CHECK(f.check(buy(1000, 1), mid_1000(), flat_account(), start + 26 * 3'600 * ns_per_s) ==
          reject_reason::none);
}

TEST_CASE("refused orders do not consume rate budget", "[pre_trade]") {
    fixture f;
    for (int i = 0; i < 50; ++i) {
        REQUIRE(f.check(buy(1000, 100)) == reject_reason::max_order_notional);
    }
    for (int i = 0; i < 10; ++i) {
        REQUIRE(f.check(buy(1000, 1)) == reject_reason::none);
    }
    CHECK(f.check(buy(1000, 1)) == reject_reason::new_orders_per_s);
}

TEST_CASE("the order-rate limits judge every order as windows counting each passed order would",
          "[pre_trade]") {
    // A model of the three limits on plain window counters (count, then add once all pass),
    // against checkers alone and sharing their windows, over times that stay in a bucket, cross
    // buckets, jump past a window or go backwards.
    risk_limits l = generous();
    l.max_new_orders_per_s = 4;
    l.max_new_orders_per_min = 40;
    l.max_orders_per_day = 300;
    const auto judge = [&l](order_rate_windows& model, core::timestamp_ns t) {
        const std::uint64_t in_second = model.per_s.count(t) + 1;
        const std::uint64_t in_minute = model.per_min.count(t) + 1;
        const std::uint64_t in_day = model.per_day.count(t) + 1;
        if (in_second > l.max_new_orders_per_s) {
            return std::pair{reject_reason::new_orders_per_s, static_cast<double>(in_second)};
        }
        if (in_minute > l.max_new_orders_per_min) {
            return std::pair{reject_reason::new_orders_per_min, static_cast<double>(in_minute)};
        }
        if (in_day > l.max_orders_per_day) {
            return std::pair{reject_reason::orders_per_day, static_cast<double>(in_day)};
        }
        model.add(t);
        return std::pair{reject_reason::none, 0.0};
    };
    for (const bool sharing : {false, true}) {
        fixture first(l);
        fixture second(l);
        order_rate_windows shared;
        if (sharing) {
            first.checker.share_order_rates(&shared);
            second.checker.share_order_rates(&shared);
        }
        order_rate_windows model; // every order the limits count: both symbols' when shared
        order_rate_windows first_alone_when_shared;
        order_rate_windows& first_own = sharing ? first_alone_when_shared : model;
        std::mt19937_64 rng(sharing ? 11 : 5);
        constexpr std::array<core::duration_ns, 7> steps{
            1, 20 * ns_per_ms, 130 * ns_per_ms, 2 * ns_per_s, 70 * ns_per_s, -30 * ns_per_ms, 0};
        core::timestamp_ns t = start;
        for (int i = 0; i < 4'000; ++i) {
            t += test::random_step(rng, steps);
            const bool on_first = !sharing || rng() % 2 == 0;
            fixture& f = on_first ? first : second;
            const auto [reason, actual] = judge(model, t);
            if (sharing && on_first && reason == reject_reason::none) {
                first_own.add(t);
            }
            INFO("order " << i << (sharing ? " shared" : " alone"));
            REQUIRE(f.check(buy(1000, 1), mid_1000(), flat_account(), t) == reason);
            if (reason != reject_reason::none) {
                REQUIRE(f.sink.records.back().actual_value == actual);
            }
        }
        // The first checker's own windows hold its own orders alone: what its state file saves.
        std::vector<rate_memory::bucket> expected;
        const auto keep = [&](rate_window window, const auto& counter) {
            counter.for_each_bucket([&](core::timestamp_ns bucket_start, std::uint32_t events) {
                expected.push_back({bucket_start, events, window});
            });
        };
        keep(rate_window::orders_per_s, first_own.per_s);
        keep(rate_window::orders_per_min, first_own.per_min);
        keep(rate_window::orders_per_day, first_own.per_day);
        const rate_memory saved = first.checker.remembered_rates();
        std::vector<rate_memory::bucket> saved_orders;
        for (std::size_t i = 0; i < saved.count; ++i) {
            const rate_window w = saved.buckets[i].window;
            if (w == rate_window::orders_per_s || w == rate_window::orders_per_min ||
                w == rate_window::orders_per_day) {
                saved_orders.push_back(saved.buckets[i]);
            }
        }
        CHECK(saved_orders == expected);
        CHECK(first.checker.passed() + second.checker.passed() > 0);
    }
}

TEST_CASE("most_new_orders_within bounds the orders the order rates let through in a span",
          "[pre_trade]") {
    risk_limits l;
    l.max_new_orders_per_s = 10;
    l.max_new_orders_per_min = 300;
    l.max_orders_per_day = 100'000;
    // 1.25 s holds one whole second and part of another: 10 in each.
    CHECK(most_new_orders_within(l, 1'250 * ns_per_ms) == 20);
    CHECK(most_new_orders_within(l, 0) == 10);
    // Past half a minute the minute's limit binds.
    CHECK(most_new_orders_within(l, 45 * ns_per_s) == 300);
    l.max_new_orders_per_s = 0;
    CHECK(most_new_orders_within(l, 1'250 * ns_per_ms) == 300);
    l.max_new_orders_per_min = 0;
    CHECK(most_new_orders_within(l, 1'250 * ns_per_ms) == 100'000);
    l.max_orders_per_day = 0;
    CHECK(most_new_orders_within(l, 1'250 * ns_per_ms) == 0); // nothing limited
}

TEST_CASE("new_orders_admitted_at is when the order-rate windows let the next order through",
          "[pre_trade]") {
    risk_limits l = generous();
    l.max_new_orders_per_s = 3;
    l.max_new_orders_per_min = 10;
    l.max_orders_per_day = 25;
    fixture f(l);
    const auto is_rate_refusal = [](reject_reason r) {
        return r == reject_reason::new_orders_per_s || r == reject_reason::new_orders_per_min ||
               r == reject_reason::orders_per_day;
    };
    std::mt19937_64 rng(5);
    core::timestamp_ns t = start;
    int refused = 0;
    int admitted_probes = 0;
    for (int i = 0; i < 4'000; ++i) {
        // Mostly quick retries, now and then minutes or hours later: every window binds in turn.
        const std::uint64_t pick = rng() % 100;
        t += pick < 90   ? static_cast<core::timestamp_ns>(rng() % (300 * core::ns_per_ms))
             : pick < 98 ? static_cast<core::timestamp_ns>(rng() % (120 * ns_per_s))
                         : static_cast<core::timestamp_ns>(rng() % (30'000 * ns_per_s));
        const core::timestamp_ns at = f.checker.new_orders_admitted_at();
        if (at > t) {
            // Refused at every time before it, and admitted from it on (probed on copies).
            pre_trade_checker just_before = f.checker;
            REQUIRE(is_rate_refusal(
                just_before.check(f.spec, buy(1000, 1), mid_1000(), flat_account(), at - 1)));
            pre_trade_checker from = f.checker;
            REQUIRE(from.check(f.spec, buy(1000, 1), mid_1000(), flat_account(), at) ==
                    reject_reason::none);
            ++admitted_probes;
        }
        const reject_reason r = f.check(buy(1000, 1), mid_1000(), flat_account(), t);
        if (t < at) {
            REQUIRE(is_rate_refusal(r));
            ++refused;
        } else {
            REQUIRE(r == reject_reason::none);
        }
    }
    CHECK(refused > 100);
    CHECK(admitted_probes > 100);
    CHECK(f.checker.rejections(reject_reason::orders_per_day) > 0);
    CHECK(f.checker.rejections(reject_reason::new_orders_per_min) > 0);
    CHECK(f.checker.rejections(reject_reason::new_orders_per_s) > 0);
}

TEST_CASE("rate windows remembered and restored: a restart keeps the day's order count",
          "[pre_trade]") {
    risk_limits l = generous();
    l.max_new_orders_per_s = 0;
    l.max_new_orders_per_min = 0;
    l.max_orders_per_day = 5;
    fixture before(l);
    for (int i = 0; i < 5; ++i) {
        REQUIRE(before.check(buy(1000, 1), mid_1000(), flat_account(),
                             start + i * 60 * ns_per_s) == reject_reason::none);
    }
    before.checker.note_cancels(start, 3);
    before.checker.note_fill(start + ns_per_s);
    const rate_memory memory = before.checker.remembered_rates();
    std::uint64_t day_orders = 0;
    for (std::size_t i = 0; i < memory.count; ++i) {
        day_orders += memory.buckets[i].window == rate_window::orders_per_day
                          ? memory.buckets[i].events
                          : 0;
    }
    CHECK(day_orders == 5);

    // A fresh checker, as after a restart an hour later: the day's five orders still count.
    fixture after(l);
    after.checker.restore_rates(memory);
    CHECK(after.checker.remembered_rates() == memory);
    const core::timestamp_ns later = start + 3'600 * ns_per_s;
    CHECK(after.check(buy(1000, 1), mid_1000(), flat_account(), later) ==
          reject_reason::orders_per_day);
    // A day later they have left the window, as they would have without the restart.
    const core::timestamp_ns next_day = start + 91'000 * ns_per_s;
    CHECK(after.check(buy(1000, 1), mid_1000(), flat_account(), next_day) ==
          reject_reason::none);
    // Without the restore the limit would have been reset.
    fixture forgetful(l);
    CHECK(forgetful.check(buy(1000, 1), mid_1000(), flat_account(), later) ==
          reject_reason::none);
}

TEST_CASE("checkers sharing their order-rate windows hold the limits for every symbol together",
          "[pre_trade]") {
    risk_limits l = generous();
    l.max_new_orders_per_s = 3;
    l.max_new_orders_per_min = 0;
    l.max_orders_per_day = 7;
    fixture first(l);
    fixture second(l);
    // The first symbol sent one order before the two were joined: it counts for both.
    REQUIRE(first.check(buy(1000, 1), mid_1000(), flat_account(), start) == reject_reason::none);
    order_rate_windows shared;
    first.checker.share_order_rates(&shared);
    second.checker.share_order_rates(&shared);
    first.checker.share_order_rates(&shared); // joining again adds nothing twice

    // Within one second the two symbols together send three orders, not three each.
    CHECK(second.check(buy(1000, 1), mid_1000(), flat_account(), start + 1) ==
          reject_reason::none);
    CHECK(first.check(buy(1000, 1), mid_1000(), flat_account(), start + 2) == reject_reason::none);
    CHECK(second.check(buy(1000, 1), mid_1000(), flat_account(), start + 3) ==
          reject_reason::new_orders_per_s);
    CHECK(first.check(buy(1000, 1), mid_1000(), flat_account(), start + 4) ==
          reject_reason::new_orders_per_s);
    // Both are told the same time of room: the first order leaves the one-second window.
    const core::timestamp_ns room = first.checker.new_orders_admitted_at();
    CHECK(second.checker.new_orders_admitted_at() == room);
    CHECK(room > start + 4);
    CHECK(room <= start + ns_per_s + ns_per_s / 20 + 1);

    // The day's seven orders, in turns, over the next minutes: four more pass, then none.
    int passed = 3;
    for (int i = 0; i < 12; ++i) {
        fixture& f = i % 2 == 0 ? second : first;
        const core::timestamp_ns t = start + (i + 1) * 10 * ns_per_s;
        if (f.check(buy(1000, 1), mid_1000(), flat_account(), t) == reject_reason::none) {
            ++passed;
        } else {
            CHECK(f.checker.rejections(reject_reason::orders_per_day) > 0);
        }
    }
    CHECK(passed == 7);
    CHECK(first.checker.passed() + second.checker.passed() == 7);

    // Each checker's own windows keep only its own orders: what its state file saves.
    const auto day_orders = [](const pre_trade_checker& checker) {
        return saved_events(checker, rate_window::orders_per_day);
    };
    CHECK(day_orders(first.checker) == first.checker.passed());
    CHECK(day_orders(second.checker) == second.checker.passed());
    CHECK(day_orders(first.checker) + day_orders(second.checker) == 7);
}

TEST_CASE("a rehearsal on shared order-rate windows counts nothing in them", "[pre_trade]") {
    risk_limits l = generous();
    l.max_new_orders_per_s = 2;
    l.max_new_orders_per_min = 0;
    l.max_orders_per_day = 0;
    fixture first(l);
    fixture second(l);
    order_rate_windows shared;
    first.checker.share_order_rates(&shared);
    second.checker.share_order_rates(&shared);
    REQUIRE(first.check(buy(1000, 1)) == reject_reason::none);
    pre_trade_checker scratch = second.checker;
    // The rehearsal sees the other symbol's order, and what it passes stays on its scratch.
    CHECK(second.checker.rehearse(second.spec, buy(1000, 1), mid_1000(), flat_account(), start,
                                  scratch) == reject_reason::none);
    CHECK(scratch.check(second.spec, buy(1000, 1), mid_1000(), flat_account(), start) ==
          reject_reason::new_orders_per_s);
    CHECK(second.check(buy(1000, 1)) == reject_reason::none);
    CHECK(first.check(buy(1000, 1)) == reject_reason::new_orders_per_s);
}

TEST_CASE("saved order counts of several symbols add up in their shared windows on restore",
          "[pre_trade]") {
    risk_limits l = generous();
    l.max_new_orders_per_s = 0;
    l.max_new_orders_per_min = 0;
    l.max_orders_per_day = 6;
    // Before the restart: two symbols, two and three orders an hour apart, each saved alone
    // (files written by a version that counted per symbol look the same).
    fixture a_before(l);
    fixture b_before(l);
    for (int i = 0; i < 3; ++i) {
        if (i < 2) {
            REQUIRE(a_before.check(buy(1000, 1), mid_1000(), flat_account(),
                                   start + i * 3'600 * ns_per_s) == reject_reason::none);
        }
        REQUIRE(b_before.check(buy(1000, 1), mid_1000(), flat_account(),
                               start + (2 * i + 1) * 1'800 * ns_per_s) == reject_reason::none);
    }
    const rate_memory a_saved = a_before.checker.remembered_rates();
    const rate_memory b_saved = b_before.checker.remembered_rates();

    // After it, restored before and after joining the shared windows: five orders count.
    for (const bool restore_first : {true, false}) {
        fixture a(l);
        fixture b(l);
        order_rate_windows shared;
        if (restore_first) {
            a.checker.restore_rates(a_saved);
            b.checker.restore_rates(b_saved);
        }
        a.checker.share_order_rates(&shared);
        b.checker.share_order_rates(&shared);
        if (!restore_first) {
            a.checker.restore_rates(a_saved);
            b.checker.restore_rates(b_saved);
        }
        CHECK(a.checker.remembered_rates() == a_saved);
        CHECK(b.checker.remembered_rates() == b_saved);
        const core::timestamp_ns later = start + 4 * 3'600 * ns_per_s;
        CHECK(a.check(buy(1000, 1), mid_1000(), flat_account(), later) == reject_reason::none);
        CHECK(b.check(buy(1000, 1), mid_1000(), flat_account(), later + 1) ==
              reject_reason::orders_per_day);
        // The first order leaves the day window 24 h (and at most one bucket) after it was sent.
        const core::timestamp_ns room = b.checker.new_orders_admitted_at();
        CHECK(room > start + 86'400 * ns_per_s);
        CHECK(room <= start + 90'000 * ns_per_s);
    }
}

TEST_CASE("rate window names round trip", "[pre_trade]") {
    for (std::size_t i = 0; i < rate_window_count; ++i) {
        const auto window = static_cast<rate_window>(i);
        CHECK(rate_window_from(to_string(window)) == window);
    }
    CHECK_FALSE(rate_window_from("orders_per_week").has_value());
}

TEST_CASE("cancels per second: counted, never refused, above the limit reported", "[pre_trade]") {
    fixture f; // 20 per second
    for (int i = 0; i < 19; ++i) {
        REQUIRE_FALSE(f.checker.note_cancel(start + i));
    }
    CHECK_FALSE(f.checker.note_cancel(start + 19));
    CHECK(f.checker.note_cancel(start + 20));
    CHECK(f.checker.cancel_rate_exceeded(start + 20));
    CHECK(f.sink.records.empty()); // a cancel is never a refused order
    CHECK_FALSE(f.checker.cancel_rate_exceeded(start + 2 * ns_per_s));
}

TEST_CASE("checkers sharing their rate windows hold max_cancels_per_s for every symbol together; "
          "each keeps its own cancels and ratio",
          "[pre_trade]") {
    risk_limits l = generous();
    l.max_cancels_per_s = 4;
    l.cancel_trade_min_cancels = 1;
    fixture first(l);
    fixture second(l);
    REQUIRE_FALSE(first.checker.note_cancel(start)); // before sharing: joins the shared count
    order_rate_windows shared;
    first.checker.share_order_rates(&shared);
    second.checker.share_order_rates(&shared);
    // Within one second the two symbols cancel five times together: the fifth is above four,
    // whichever symbol sends it, and both see the session above the limit.
    CHECK_FALSE(second.checker.note_cancel(start + 1));
    CHECK_FALSE(first.checker.note_cancel(start + 2));
    CHECK_FALSE(second.checker.note_cancel(start + 3));
    CHECK(second.checker.note_cancel(start + 4));
    CHECK(first.checker.cancel_rate_exceeded(start + 5));
    CHECK(second.checker.cancel_rate_exceeded(start + 5));
    // Once the second is past (and its last bucket), both are under it again.
    CHECK_FALSE(first.checker.cancel_rate_exceeded(start + 2 * ns_per_s));
    CHECK_FALSE(second.checker.cancel_rate_exceeded(start + 2 * ns_per_s));

    // What each state file saves: its own cancels (two and three).
    CHECK(saved_events(first.checker, rate_window::cancels_per_s) == 2);
    CHECK(saved_events(second.checker, rate_window::cancels_per_s) == 3);
    // Restored after a restart into shared windows, they add up there again.
    risk_limits alone = l;
    fixture restored_first(alone);
    fixture restored_second(alone);
    order_rate_windows restored;
    restored_first.checker.share_order_rates(&restored);
    restored_second.checker.share_order_rates(&restored);
    restored_first.checker.restore_rates(first.checker.remembered_rates());
    restored_second.checker.restore_rates(second.checker.remembered_rates());
    CHECK(restored_first.checker.cancel_rate_exceeded(start + 5));
    CHECK_FALSE(restored_first.checker.cancel_rate_exceeded(start + 2 * ns_per_s));

    // The cancel/trade ratio stays each symbol's: no fills, so cancels over none of its own.
    first.checker.note_fill(start + 6);
    CHECK(first.checker.cancel_trade_ratio(start + 7) == 2.0);
}

TEST_CASE("cancel-to-trade ratio blocks new orders only when configured", "[pre_trade]") {
    risk_limits l;
    l.cancel_trade_ratio_block = 50.0;
    l.cancel_trade_min_cancels = 10;
    fixture f(l);
    f.checker.note_fill(start);
    f.checker.note_fill(start);
    f.checker.note_cancels(start, 99); // 49.5 : 1
    CHECK(f.checker.cancel_trade_ratio(start) == 49.5);
    CHECK(f.check(buy(1000, 1)) == reject_reason::none);
    f.checker.note_cancels(start, 1); // 50 : 1, at the limit
    CHECK(f.check(buy(1000, 1)) == reject_reason::none);
    f.checker.note_cancels(start, 1); // 50.5 : 1
    CHECK(f.check(buy(1000, 1)) == reject_reason::cancel_trade_ratio);
    CHECK(f.sink.records.back().actual_value == 50.5);

    fixture unblocked; // default: alarm only, never block
    unblocked.checker.note_cancels(start, 1'000);
    CHECK(unblocked.check(buy(1000, 1)) == reject_reason::none);
}

TEST_CASE("the cancel-to-trade ratio needs a minimum sample", "[pre_trade]") {
    risk_limits l;
    l.cancel_trade_ratio_block = 50.0;
    l.cancel_trade_min_cancels = 100;
    fixture f(l);
    f.checker.note_cancels(start, 99); // 99 : 0, but too few to judge
    CHECK(f.checker.cancel_trade_ratio(start) == 0.0);
    CHECK(f.check(buy(1000, 1)) == reject_reason::none);
    f.checker.note_cancels(start, 1);
    CHECK(f.checker.cancel_trade_ratio(start) == 100.0);
    CHECK(f.check(buy(1000, 1)) == reject_reason::cancel_trade_ratio);
}

TEST_CASE("every reason has a distinct stable name", "[pre_trade]") {
    std::vector<std::string_view> names;
    for (std::size_t r = 0; r < reject_reason_count; ++r) {
        const auto name = to_string(static_cast<reject_reason>(r));
        CHECK(name != "unknown");
        for (const auto other : names) {
            CHECK(other != name);
        }
        names.push_back(name);
    }
    CHECK(to_string(halt_reason::api_error_storm) == "api_error_storm");
}

TEST_CASE("an order reduces the position only net of the working orders on its side",
          "[pre_trade][reducing]") {
    risk_limits l = generous();
    l.symbol_net_notional_pct = 1.0; // 1000 of 100000: one lot at mid 1000
    l.symbol_gross_notional_pct = 0.0;
    l.portfolio_net_notional_pct = 0.0;
    fixture f(l);
    // Long 1 lot, then one 1-lot ask after another, each working when the next is checked.
    account_view a = with_position(1);
    int passed = 0;
    for (int i = 0; i < 8; ++i) {
        if (f.check(sell(1000, 1), mid_1000(), a) == reject_reason::none) {
            ++passed;
            a.open_sell_qty = core::qty{a.open_sell_qty.lots() + 1};
        }
    }
    // The first ask closes the position, the second would leave it short 1 lot (at the net
    // limit), the third short 2 lots (above it): every ask past the first is judged by the
    // position limits, so the worst case is -1, not -7.
    CHECK(passed == 2);
    CHECK(f.sink.records.back().reason == reject_reason::symbol_net_notional);
    CHECK(f.sink.records.back().actual_value == 2'000.0);

    // reduces_position itself: reaching zero is allowed, crossing it is not; the other side's
    // working orders do not count.
    account_view s = with_position(-3);
    s.open_buy_qty = core::qty{2};
    s.open_sell_qty = core::qty{10};
    CHECK(reduces_position(core::side::buy, core::qty{1}, s));
    CHECK_FALSE(reduces_position(core::side::buy, core::qty{2}, s));
    CHECK_FALSE(reduces_position(core::side::sell, core::qty{1}, s));
    CHECK_FALSE(reduces_position(core::side::buy, core::qty{1}, flat_account()));
}

TEST_CASE("reduce-only and flatten orders count the working orders on their side",
          "[pre_trade][reducing]") {
    fixture f(generous());
    account_view a = with_position(5);
    a.open_sell_qty = core::qty{3};
    order_request reduce_only = sell(1000, 3);
    reduce_only.reduce_only = true;
    CHECK(f.check(reduce_only, mid_1000(), a) == reject_reason::reduce_only_would_increase);
    reduce_only.qty = core::qty{2};
    CHECK(f.check(reduce_only, mid_1000(), a) == reject_reason::none);

    order_request flatten = sell(999, 5);
    flatten.intent = order_intent::flatten;
    CHECK(f.check(flatten, mid_1000(), a) == reject_reason::flatten_not_reducing);
    CHECK(f.sink.records.back().limit_value == 2.0); // what is left to close: 5 - 3 working
    flatten.qty = core::qty{2};
    CHECK(f.check(flatten, mid_1000(), a) == reject_reason::none);
}
