// holdings_adoption: a reconciliation's reading of the venue's holdings meets fills the loop
// booked around it. The venue's numbers are as of a venue time; a fill report carries the
// trade's venue time. Reports reach the loop through a scripted gateway, as a live gateway's do
// on poll().
#include "engine_test_support.hpp"

#include "quoter/engine/holdings_adoption.hpp"

#include <catch2/catch.hpp>

#include <vector>

namespace {

using namespace quoter;
using namespace quoter::engine;
using namespace quoter::engine::testing;

constexpr std::int64_t btc = 100'000;        // lots of 0.00001
constexpr std::int64_t price_1000 = 100'000; // ticks of 0.01

/// A venue whose reports the test queues; poll() delivers them. Orders are taken and rest.
class scripted_venue final : public exec::order_gateway {
public:
    void set_report_sink(exec::exec_report_sink* sink) noexcept override { sink_ = sink; }
    exec::gateway_error submit(const exec::order_request&, core::timestamp_ns) noexcept override {
        return exec::gateway_error::none;
    }
    exec::gateway_error cancel(std::uint32_t, exec::client_order_id,
                               core::timestamp_ns) noexcept override {
        return exec::gateway_error::none;
    }
    exec::gateway_error cancel_all(std::uint32_t, core::timestamp_ns) noexcept override {
        return exec::gateway_error::none;
    }
    std::size_t poll(core::timestamp_ns now) noexcept override {
        const std::size_t count = queued.size();
        for (exec::exec_report report : queued) {
            report.local_ts = now;
            if (sink_ != nullptr) {
                sink_->on_exec_report(report);
            }
        }
        queued.clear();
        return count;
    }

    std::vector<exec::exec_report> queued;

private:
    exec::exec_report_sink* sink_ = nullptr;
};

/// A whole fill of an order of another run (the loop books every fill it is told of).
exec::exec_report fill(core::side side, std::int64_t lots, std::int64_t venue_ms,
                       std::int64_t trade_id) {
    exec::exec_report r;
    r.kind = exec::exec_kind::fill;
    r.client_id = exec::client_order_id{static_cast<std::uint64_t>(trade_id)};
    r.side = side;
    r.price = core::price{price_1000};
    r.fill_qty = core::qty{lots};
    r.cum_qty = core::qty{lots};
    r.trade_id = trade_id;
    r.liquidity = exec::liquidity_role::maker;
    r.venue_time_ms = venue_ms;
    return r;
}

core_loop_config no_fees() {
    core_loop_config config;
    config.account = {.initial_cash = 100'000.0, .maker_fee_bps = 0.0, .taker_fee_bps = 0.0};
    return config;
}

md::instrument btcusdt_on(md::market market) {
    md::instrument out = btcusdt();
    out.venue = market;
    return out;
}

struct fixture {
    explicit fixture(core_loop_config cfg = no_fees(), md::market market = md::market::spot)
        : instrument(btcusdt_on(market)), config(cfg), loop(config, instrument, venue, nullptr) {
        loop.on_event(book(price_1000 - 1, price_1000 + 1), now);
    }

    const core::symbol_spec& spec() const { return instrument.trading_spec; }
    std::int64_t usdt(double amount) const {
        return static_cast<std::int64_t>(amount * 1e7); // notional units of 1e-7 USDT
    }
    /// Starts the account at base BTC (cost: at 1000) and quote USDT.
    void start_spot(std::int64_t base_lots, double quote) {
        loop.restore(core::qty{base_lots},
                     spec().notional_units(core::price{price_1000}, core::qty{base_lots}),
                     usdt(quote), 0);
    }
    void deliver(const exec::exec_report& report) {
        venue.queued.push_back(report);
        now += core::ns_per_ms;
        (void)loop.poll(now);
    }
    venue_holdings spot(std::int64_t base_lots, double quote, std::int64_t as_of_ms) const {
        venue_holdings v;
        v.quote_listed = true;
        v.base = core::qty{base_lots};
        v.quote_units = usdt(quote);
        v.balances_as_of_ms = as_of_ms;
        v.base_asset = "BTC";
        v.quote_asset = "USDT";
        return v;
    }
    venue_holdings futures(std::int64_t position_lots, std::int64_t position_as_of_ms,
                           double wallet, std::int64_t wallet_as_of_ms) const {
        venue_holdings v;
        v.futures = true;
        v.position = core::qty{position_lots};
        v.entry_price = core::price{position_lots == 0 ? 0 : price_1000};
        v.position_as_of_ms = position_as_of_ms;
        v.wallet_listed = true;
        v.wallet_units = usdt(wallet);
        v.wallet_as_of_ms = wallet_as_of_ms;
        return v;
    }
    /// Futures: the wallet as the account keeps it (cash + cost basis of the position).
    std::int64_t wallet_units() const {
        return loop.account().cash_units() + loop.account().cost_basis_units();
    }

    md::instrument instrument;
    core_loop_config config;
    scripted_venue venue;
    core_loop loop;
    core::timestamp_ns now = 1'000 * core::ns_per_ms;
};

} // namespace

TEST_CASE("spot: a fill the venue made after its balances were read, booked before they are "
          "adopted, stays in the account",
          "[engine][holdings]") {
    fixture f;
    f.start_spot(1 * btc, 100'000.0);
    // The balances are read at venue time 5000; the quote rests and fills at 5001, and its
    // report reaches the loop before the reconciliation's answer does.
    f.deliver(fill(core::side::buy, btc / 10, 5'001, 1));
    REQUIRE(f.loop.account().position() == core::qty{btc + btc / 10});
    const holdings_adoption adoption =
        adopt_venue_holdings(f.loop, f.spot(1 * btc, 100'000.0, 5'000));
    CHECK(f.loop.account().position() == core::qty{btc + btc / 10});
    CHECK(f.loop.account().cash_units() == f.usdt(99'900.0));
    CHECK(adoption.held == core::qty{btc + btc / 10});
}

TEST_CASE("spot: a fill the venue's balances already hold, reported after they are adopted, is "
          "not booked into the holdings again",
          "[engine][holdings]") {
    fixture f;
    f.start_spot(1 * btc, 100'000.0);
    // The fill at 4990 is in the balances read at 5000; its report comes after the adoption.
    const holdings_adoption adoption =
        adopt_venue_holdings(f.loop, f.spot(btc + btc / 10, 99'900.0, 5'000));
    CHECK(adoption.adopted);
    REQUIRE(f.loop.account().position() == core::qty{btc + btc / 10});
    const std::uint64_t fills_before = f.loop.stats().fills;
    f.deliver(fill(core::side::buy, btc / 10, 4'990, 2));
    CHECK(f.loop.account().position() == core::qty{btc + btc / 10});
    CHECK(f.loop.account().cash_units() == f.usdt(99'900.0));
    // Still a fill of the run: counted, journaled, its volume in the account's activity.
    CHECK(f.loop.stats().fills == fills_before + 1);
    CHECK(f.loop.account().volume() == core::qty{btc / 10});
    // A later one moves the holdings as always.
    f.deliver(fill(core::side::sell, btc / 10, 5'002, 3));
    CHECK(f.loop.account().position() == core::qty{btc});
    CHECK(f.loop.account().cash_units() == f.usdt(100'000.0));
}

TEST_CASE("spot: a fill stamped the same millisecond as the balances counts as held in them",
          "[engine][holdings]") {
    fixture f;
    f.start_spot(1 * btc, 100'000.0);
    SECTION("booked before the adoption: not added on top of the balances") {
        f.deliver(fill(core::side::buy, btc / 10, 5'000, 4));
        (void)adopt_venue_holdings(f.loop, f.spot(btc + btc / 10, 99'900.0, 5'000));
        CHECK(f.loop.account().position() == core::qty{btc + btc / 10});
    }
    SECTION("reported after the adoption: not booked again") {
        (void)adopt_venue_holdings(f.loop, f.spot(btc + btc / 10, 99'900.0, 5'000));
        f.deliver(fill(core::side::buy, btc / 10, 5'000, 5));
        CHECK(f.loop.account().position() == core::qty{btc + btc / 10});
    }
}

TEST_CASE("spot: a deposit no report tells is adopted, fills around the reading kept exact",
          "[engine][holdings]") {
    fixture f;
    f.start_spot(1 * btc, 100'000.0);
    // 2 BTC deposited before the reading at 5000; a fill at 5003 booked before the adoption,
    // one at 4999 (in the reading) reported after it.
    f.deliver(fill(core::side::sell, btc / 10, 5'003, 6));
    const holdings_adoption adoption =
        adopt_venue_holdings(f.loop, f.spot(3 * btc + btc / 10, 99'900.0, 5'000));
    CHECK(adoption.adopted);
    CHECK(f.loop.account().position() == core::qty{3 * btc});
    CHECK(f.loop.account().cash_units() == f.usdt(100'000.0));
    f.deliver(fill(core::side::buy, btc / 10, 4'999, 7));
    CHECK(f.loop.account().position() == core::qty{3 * btc});
    CHECK(f.loop.account().cash_units() == f.usdt(100'000.0));
}

TEST_CASE("spot: a reading older than the holdings adopted before is not adopted",
          "[engine][holdings]") {
    fixture f;
    f.start_spot(1 * btc, 100'000.0);
    (void)adopt_venue_holdings(f.loop, f.spot(btc + btc / 10, 99'900.0, 5'000));
    const holdings_adoption stale = adopt_venue_holdings(f.loop, f.spot(1 * btc, 100'000.0, 4'000));
    CHECK_FALSE(stale.adopted);
    CHECK(f.loop.account().position() == core::qty{btc + btc / 10});
}

TEST_CASE("futures: the position read before a fill, adopted after its report, keeps the fill",
          "[engine][holdings]") {
    fixture f;
    // Flat, the wallet at the account's 100,000 USDT; a sell at 7001 after the reading at 7000.
    f.deliver(fill(core::side::sell, btc / 10, 7'001, 8));
    REQUIRE(f.loop.account().position() == core::qty{-btc / 10});
    (void)adopt_venue_holdings(f.loop, f.futures(0, 7'000, 100'000.0, 7'000));
    CHECK(f.loop.account().position() == core::qty{-btc / 10});
    CHECK(f.wallet_units() == f.usdt(100'000.0));
}

TEST_CASE("futures: a fill the position already holds, reported after the adoption, is not "
          "booked again",
          "[engine][holdings]") {
    fixture f;
    (void)adopt_venue_holdings(f.loop, f.futures(-btc / 10, 7'000, 100'000.0, 7'000));
    REQUIRE(f.loop.account().position() == core::qty{-btc / 10});
    f.deliver(fill(core::side::sell, btc / 10, 6'990, 9));
    CHECK(f.loop.account().position() == core::qty{-btc / 10});
    f.deliver(fill(core::side::buy, btc / 10, 7'002, 10));
    CHECK(f.loop.account().position() == core::qty{0});
}

TEST_CASE("futures: the wallet is adopted, the fills after its reading kept on top",
          "[engine][holdings]") {
    fixture f;
    // Long 0.1 at 1000 (cost 100 USDT: cash 99,900), then 500 USDT arrive in the wallet (a
    // transfer, or PnL the venue realized that no report told) before the reading at 8000.
    f.deliver(fill(core::side::buy, btc / 10, 7'500, 11));
    REQUIRE(f.wallet_units() == f.usdt(100'000.0));
    // A fill at 8001: closes at 1000, so the wallet moves by nothing but the position does.
    f.deliver(fill(core::side::sell, btc / 10, 8'001, 12));
    const double equity_before = f.loop.account().equity();
    const holdings_adoption adoption =
        adopt_venue_holdings(f.loop, f.futures(btc / 10, 8'000, 100'500.0, 8'000));
    CHECK(adoption.adopted);
    CHECK(f.loop.account().position() == core::qty{0});
    CHECK(f.wallet_units() == f.usdt(100'500.0));
    CHECK(f.loop.account().equity() == Approx(equity_before + 500.0));
}

TEST_CASE("futures: position and wallet of one reading are as of the later of their times: a "
          "wallet unchanged since before more fills than the loop keeps is adopted",
          "[engine][holdings]") {
    fixture f;
    // The wallet is as of venue time 1 (no fill changed it since: no fee, nothing realized);
    // 300 round-trip fills since, each in the reading's position time.
    std::int64_t venue_ms = 10;
    for (int i = 0; i < 150; ++i) {
        f.deliver(fill(core::side::buy, btc / 100, ++venue_ms, 100 + 2 * i));
        f.deliver(fill(core::side::sell, btc / 100, ++venue_ms, 101 + 2 * i));
    }
    REQUIRE(f.loop.account().position() == core::qty{0});
    const double equity_before = f.loop.account().equity();
    // A fill the position reading (as of venue_ms + 1) holds and the account has not booked.
    // The wallet holds 500 USDT more than the account: a transfer at venue time 1 no report told.
    const holdings_adoption adoption =
        adopt_venue_holdings(f.loop, f.futures(btc / 10, venue_ms + 1, 100'500.0, 1));
    CHECK(adoption.adopted);
    CHECK(adoption.not_adopted.empty());
    CHECK(f.loop.account().position() == core::qty{btc / 10});
    CHECK(f.wallet_units() == f.usdt(100'500.0));
    CHECK(f.loop.account().equity() == Approx(equity_before + 500.0));
    f.deliver(fill(core::side::buy, btc / 10, venue_ms + 1, 999));
    CHECK(f.loop.account().position() == core::qty{btc / 10});
}

namespace {

/// A fill whose commission the venue charged in BNB (10^-8 units).
exec::exec_report fill_paid_in_bnb(core::side side, std::int64_t lots, std::int64_t venue_ms,
                                   std::int64_t trade_id, std::int64_t bnb_e8) {
    exec::exec_report r = fill(side, lots, venue_ms, trade_id);
    r.commission_asset = exec::fee_asset::other;
    r.commission_e8 = bnb_e8;
    return r;
}

} // namespace

TEST_CASE("spot: fees in BNB come out of the BNB held, apart from the money; the venue's BNB is "
          "adopted with the fees booked after the reading on top",
          "[engine][holdings]") {
    fixture f;
    f.start_spot(1 * btc, 100'000.0);
    f.loop.restore_fee_asset(10'00000000); // 10 BNB
    const std::int64_t cash_before = f.loop.account().cash_units();
    // A sell of 0.1 BTC at 1000, its fee 0.02 BNB: cash gets the whole notional.
    f.deliver(fill_paid_in_bnb(core::side::sell, btc / 10, 9'000, 21, 2'000'000));
    CHECK(f.loop.account().cash_units() == cash_before + f.usdt(100.0));
    CHECK(f.loop.account().fees_units() == 0);
    CHECK(f.loop.account().fee_asset_paid_e8() == 2'000'000);
    CHECK(f.loop.account().fee_asset_held_e8() == 9'98000000);
    // Another at 9002, after the reading at 9001, which shows 9.5 BNB (0.48 BNB left the
    // account on the venue: a transfer no report told) and the first sell.
    f.deliver(fill_paid_in_bnb(core::side::sell, btc / 10, 9'002, 22, 3'000'000));
    venue_holdings reading = f.spot(btc - btc / 10, 100'100.0, 9'001);
    reading.fee_asset_listed = true;
    reading.fee_asset_e8 = 9'50000000;
    reading.fee_asset = "BNB";
    const holdings_adoption adoption = adopt_venue_holdings(f.loop, reading);
    CHECK(adoption.adopted);
    CHECK(f.loop.account().position() == core::qty{btc - 2 * (btc / 10)});
    CHECK(f.loop.account().fee_asset_held_e8() == 9'47000000); // 9.5 less the later fee
    CHECK(f.loop.account().fee_asset_paid_e8() == 5'000'000);
    // The first sell's report again (held by the reading): no BNB taken twice.
    f.deliver(fill_paid_in_bnb(core::side::sell, btc / 10, 9'000, 21, 2'000'000));
    CHECK(f.loop.account().fee_asset_held_e8() == 9'47000000);
}

TEST_CASE("futures: the BNB wallet is adopted with the fees booked after the reading on top",
          "[engine][holdings]") {
    fixture f(no_fees(), md::market::usdm_futures);
    f.loop.restore_fee_asset(10'00000000); // 10 BNB
    // A buy at 7500 and its fee of 0.02 BNB; another at 8001, after the reading at 8000 which
    // shows 9.5 BNB in the wallet (a transfer no report told, and the first fee).
    f.deliver(fill_paid_in_bnb(core::side::buy, btc / 10, 7'500, 31, 2'000'000));
    f.deliver(fill_paid_in_bnb(core::side::sell, btc / 10, 8'001, 32, 3'000'000));
    CHECK(f.loop.account().fee_asset_held_e8() == 9'95000000);
    venue_holdings reading = f.futures(btc / 10, 8'000, 100'000.0, 8'000);
    reading.fee_asset_listed = true;
    reading.fee_asset_e8 = 9'50000000;
    reading.fee_asset = "BNB";
    const holdings_adoption adoption = adopt_venue_holdings(f.loop, reading);
    CHECK(adoption.adopted);
    CHECK(adoption.description.find("BNB wallet 9.5") != std::string::npos);
    CHECK(f.loop.account().position() == core::qty{0});
    CHECK(f.loop.account().fee_asset_held_e8() == 9'47000000); // 9.5 less the later fee
    CHECK(f.loop.account().fee_asset_paid_e8() == 5'000'000);
}

TEST_CASE("fees the venue charged replace the configured rates: quote exact, base at the fill "
          "price",
          "[engine][holdings]") {
    core_loop_config config;
    config.account = {.initial_cash = 100'000.0, .maker_fee_bps = 5.0, .taker_fee_bps = 5.0};
    fixture f(config);
    f.start_spot(1 * btc, 100'000.0);
    // 0.1 BTC at 1000 with 0.01234567 USDT charged: exactly that, not 5 bp (0.05 USDT).
    exec::exec_report quote_fee = fill(core::side::sell, btc / 10, 9'000, 31);
    quote_fee.commission_asset = exec::fee_asset::quote;
    quote_fee.commission_e8 = 1'234'567;
    f.deliver(quote_fee);
    CHECK(f.loop.account().fees_units() == 123'457); // 1e-7 USDT units, rounded up
    // A buy whose 0.0001 BTC fee is worth 0.1 USDT at 1000.
    exec::exec_report base_fee = fill(core::side::buy, btc / 10, 9'001, 32);
    base_fee.commission_asset = exec::fee_asset::base;
    base_fee.commission_e8 = 10'000;
    f.deliver(base_fee);
    CHECK(f.loop.account().fees_units() == 123'457 + f.usdt(0.1));
    // Not told (a simulated venue): the configured 5 bp of 100 USDT.
    f.deliver(fill(core::side::sell, btc / 10, 9'002, 33));
    CHECK(f.loop.account().fees_units() == 123'457 + f.usdt(0.1) + f.usdt(0.05));
}

TEST_CASE("a spot buy's commission in the base asset leaves the position, rounded up to the lot, "
          "and a later reading does not count it twice; a futures position never pays",
          "[engine][holdings]") {
    fixture f;
    f.start_spot(1 * btc, 100'000.0);
    // 0.1 BTC bought at 1000 for a fee of 0.0001005 BTC (10.05 lots): 11 lots leave.
    exec::exec_report buy = fill(core::side::buy, btc / 10, 9'001, 41);
    buy.commission_asset = exec::fee_asset::base;
    buy.commission_e8 = 10'050;
    f.deliver(buy);
    CHECK(f.loop.account().position() == core::qty{btc + btc / 10 - 11});
    CHECK(f.loop.account().base_fee_credit_e8() == 950);
    // The venue's balances as of before the fill: the booked fill comes on top of them, with
    // its fee's lots.
    const holdings_adoption adoption =
        adopt_venue_holdings(f.loop, f.spot(1 * btc, 100'000.0, 9'000));
    CHECK(adoption.not_adopted.empty());
    CHECK(f.loop.account().position() == core::qty{btc + btc / 10 - 11});

    // The same fill on a USD-M futures position (BNB fees on BNBUSDT): valued, never taken out.
    fixture futures(no_fees(), md::market::usdm_futures);
    futures.deliver(buy);
    CHECK(futures.loop.account().position() == core::qty{btc / 10});
    CHECK(futures.loop.account().fees_units() == 1'005'000); // 0.1005 USDT
}

TEST_CASE("a deposit adopted at a reconciliation is capital, not PnL: the loss limits allow no "
          "more than before; a withdrawal stays a loss",
          "[engine][holdings]") {
    fixture f;
    f.start_spot(1 * btc, 100'000.0);
    const double pnl_before = f.loop.account().realized_pnl() + f.loop.account().unrealized_pnl();
    const double peak_before = f.loop.gate().account().peak_equity;
    // 10,000 USDT deposited: the venue's balance says so, no report does.
    const holdings_adoption deposit = adopt_venue_holdings(f.loop, f.spot(1 * btc, 110'000.0, 0));
    REQUIRE(deposit.adopted);
    CHECK(deposit.capital_added == f.usdt(10'000.0));
    CHECK(f.loop.account().cash_units() == f.usdt(110'000.0));
    CHECK(f.loop.account().realized_pnl() + f.loop.account().unrealized_pnl() ==
          Approx(pnl_before));
    // The drawdown is measured from a peak the deposit raised too: no recovery is seen.
    CHECK(f.loop.gate().account().peak_equity == Approx(peak_before + 10'000.0));
    CHECK(f.loop.gate().account().equity == Approx(f.loop.gate().account().peak_equity));

    // 20,000 USDT withdrawn: a loss the limits see.
    const holdings_adoption withdrawal = adopt_venue_holdings(f.loop, f.spot(1 * btc, 90'000.0, 0));
    REQUIRE(withdrawal.adopted);
    CHECK(withdrawal.capital_added == 0);
    CHECK(f.loop.account().realized_pnl() + f.loop.account().unrealized_pnl() ==
          Approx(pnl_before - 20'000.0));
}
