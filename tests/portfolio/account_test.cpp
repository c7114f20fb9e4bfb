// Portfolio accounting: hand-computed fills (adds, partial closes, flips, fees and rebates) and
// the exact PnL identities on seeded random fill sequences.
#include "quoter/portfolio/account.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

using namespace quoter;
using namespace quoter::portfolio;

namespace {

// BTCUSDT: tick 0.01 (2 decimals), step 0.00001 (5 decimals): one notional unit is 1e-7 USDT.
core::symbol_spec btcusdt() {
    const auto spec = core::symbol_spec::from_text({.name = "BTCUSDT",
                                                    .tick_size = "0.01000000",
                                                    .step_size = "0.00001000",
                                                    .min_notional = "5.00000000"});
    REQUIRE(spec.has_value());
    return *spec;
}

fill make_fill(core::side side, std::int64_t price_ticks, std::int64_t lots, liquidity role,
               std::int64_t mid_half_ticks) {
    fill f;
    f.side = side;
    f.price = core::price{price_ticks};
    f.quantity = core::qty{lots};
    f.role = role;
    f.mid = mark_price{mid_half_ticks};
    return f;
}

void check_identities(const account& book) {
    // equity = cash + inventory x mark
    REQUIRE(book.equity_units() == book.cash_units() + book.inventory_value_units());
    // equity change = realized + unrealized - fees
    REQUIRE(book.equity_units() - book.initial_cash_units() ==
            book.realized_units() + book.unrealized_units() - book.fees_units());
    REQUIRE(book.total_pnl_units() == book.equity_units() - book.initial_cash_units());
    // gross PnL = spread capture + inventory PnL (half units)
    REQUIRE(2 * (book.realized_units() + book.unrealized_units()) ==
            book.spread_capture_half_units() + book.inventory_pnl_half_units());
    REQUIRE(book.fees_units() == book.fees_paid_units() - book.rebates_units());
    REQUIRE_FALSE(book.overflowed());
}

} // namespace

TEST_CASE("adds, a partial close and a flip, by hand", "[portfolio][account]") {
    const auto spec = btcusdt();
    account book(spec, {.initial_cash = 10'000.0, .maker_fee_bps = 1.0, .taker_fee_bps = 5.0});
    CHECK(book.initial_cash_units() == 100'000'000'000); // 10'000 USDT in 1e-7 units
    CHECK(book.maker_fee_rate_e8() == 10'000);
    CHECK(book.taker_fee_rate_e8() == 50'000);

    // 1. Buy 0.01 BTC (1000 lots) at 60'000.00, maker, mid 60'000.01.
    //    notional = 6'000'000 ticks * 1000 lots = 6'000'000'000 units (600 USDT)
    //    fee      = 6e9 * 1 bp = 600'000 units (0.06)
    //    cash     = 1e11 - 6e9 - 6e5 = 93'999'400'000
    //    capture  = (60'000.01 - 60'000.00) * 0.01 = 0.0001 USDT = 2'000 half units
    //    value    = 1000 lots * 60'000.01 = 6'000'001'000, unrealized 1'000 (0.0001)
    auto r = book.apply(make_fill(core::side::buy, 6'000'000, 1'000, liquidity::maker, 12'000'002));
    CHECK(r.applied);
    CHECK(r.fee_units == 600'000);
    CHECK(r.realized_units == 0);
    CHECK(r.spread_capture_half_units == 2'000);
    CHECK(r.position.lots() == 1'000);
    CHECK(book.cash_units() == 93'999'400'000);
    CHECK(book.cost_basis_units() == 6'000'000'000);
    CHECK(book.inventory_value_units() == 6'000'001'000);
    CHECK(book.unrealized_units() == 1'000);
    CHECK(book.equity_units() == 99'999'401'000);
    CHECK(book.total_pnl() == Approx(-0.0599));
    check_identities(book);

    // 2. Buy 0.02 (2000 lots) at 60'010.00, taker, mid 60'005.00.
    //    notional 6'001'000 * 2000 = 12'002'000'000, fee 5 bp = 6'001'000
    //    basis 18'002'000'000 over 3000 lots: average 60'006.666...
    //    capture = (60'005 - 60'010) * 0.02 = -0.1 USDT = -2'000'000 half units
    r = book.apply(make_fill(core::side::buy, 6'001'000, 2'000, liquidity::taker, 12'001'000));
    CHECK(r.fee_units == 6'001'000);
    CHECK(r.spread_capture_half_units == -2'000'000);
    CHECK(book.cost_basis_units() == 18'002'000'000);
    CHECK(book.average_entry_price() == Approx(60'006.666666667));
    check_identities(book);

    // 3. Sell 0.015 (1500 lots) at 60'020.00, maker, mid 60'019.00.
    //    removed basis = 18'002'000'000 * 1500 / 3000 = 9'001'000'000
    //    proceeds      = 6'002'000 * 1500 = 9'003'000'000 -> realized 2'000'000 (0.2 USDT)
    //    fee           = 9'003'000'000 * 1 bp = 900'300
    //    capture       = (60'020 - 60'019) * 0.015 = 0.015 USDT = 300'000 half units
    r = book.apply(make_fill(core::side::sell, 6'002'000, 1'500, liquidity::maker, 12'003'800));
    CHECK(r.realized_units == 2'000'000);
    CHECK(r.fee_units == 900'300);
    CHECK(r.spread_capture_half_units == 300'000);
    CHECK(book.position().lots() == 1'500);
    CHECK(book.cost_basis_units() == 9'001'000'000);
    CHECK(book.average_entry_price() == Approx(60'006.666666667));
    check_identities(book);

    // 4. Sell 0.025 (2500 lots) at 60'000.00, taker, mid 60'001.00: a flip.
    //    closes 1500: realized = 6'000'000 * 1500 - 9'001'000'000 = -1'000'000 (-0.1 USDT)
    //    opens -1000 at 60'000.00: basis -6'000'000'000, average 60'000.00
    //    fee = 15'000'000'000 * 5 bp = 7'500'000
    r = book.apply(make_fill(core::side::sell, 6'000'000, 2'500, liquidity::taker, 12'000'200));
    CHECK(r.realized_units == -1'000'000);
    CHECK(r.fee_units == 7'500'000);
    CHECK(book.position().lots() == -1'000);
    CHECK(book.cost_basis_units() == -6'000'000'000);
    CHECK(book.average_entry_price() == Approx(60'000.0));
    CHECK(book.realized_units() == 1'000'000);
    // Short 0.01 marked at 60'001.00: unrealized -0.01 USDT.
    CHECK(book.unrealized_units() == -100'000);
    check_identities(book);

    // Totals: 4 fills (2 maker, 2 taker), volume 0.07 BTC, turnover 4'200.5 USDT,
    // fees 0.06 + 0.6001 + 0.09003 + 0.75 = 1.50013 USDT.
    CHECK(book.fill_count() == 4);
    CHECK(book.maker_fill_count() == 2);
    CHECK(book.taker_fill_count() == 2);
    CHECK(book.volume().lots() == 7'000);
    CHECK(book.volume_base() == Approx(0.07));
    CHECK(book.turnover_units() == 42'005'000'000);
    CHECK(book.fees_units() == 15'001'300);
    CHECK(book.fees() == Approx(1.50013));
    CHECK(book.rebates_units() == 0);

    // 5. Buy back 0.01 at 59'990.00, maker, mid 59'991.00: flat.
    //    realized = 6'000'000'000 - 5'999'000'000 = 1'000'000 (0.1 USDT)
    r = book.apply(make_fill(core::side::buy, 5'999'000, 1'000, liquidity::maker, 11'998'200));
    CHECK(r.realized_units == 1'000'000);
    CHECK(book.position().is_zero());
    CHECK(book.cost_basis_units() == 0);
    CHECK(book.unrealized_units() == 0);
    CHECK(book.average_entry_price() == 0.0);
    CHECK(book.realized_units() == 2'000'000);
    check_identities(book);
    // Flat: cash change is exactly realized minus fees.
    CHECK(book.cash_units() - book.initial_cash_units() ==
          book.realized_units() - book.fees_units());
}

TEST_CASE("shorts from flat and back", "[portfolio][account]") {
    const auto spec = btcusdt();
    account book(spec, {.initial_cash = 1'000.0});
    // Sell 0.001 at 100.00, buy 0.0004 at 90.00: realized (100 - 90) * 0.0004 = 0.004 USDT.
    book.apply(make_fill(core::side::sell, 10'000, 100, liquidity::maker, 20'000));
    CHECK(book.position().lots() == -100);
    CHECK(book.cost_basis_units() == -1'000'000);
    CHECK(book.average_entry_price() == Approx(100.0));
    auto r = book.apply(make_fill(core::side::buy, 9'000, 40, liquidity::maker, 18'000));
    CHECK(r.realized_units == 40'000);
    CHECK(book.position().lots() == -60);
    CHECK(book.cost_basis_units() == -600'000);
    // Marked at 90.00: unrealized (100 - 90) * 0.0006 = 0.006 USDT.
    CHECK(book.unrealized_units() == 60'000);
    book.mark(mark_price::at(core::price{11'000}));
    CHECK(book.unrealized_units() == -60'000);
    check_identities(book);
}

TEST_CASE("removed cost basis rounds, and the ledger stays exact", "[portfolio][account]") {
    const auto spec = btcusdt();
    account book(spec, {});
    // Three buys with a basis that does not divide evenly: 1 lot at 100.01, 1 at 100.00,
    // 1 at 100.00 -> basis 30'001 units over 3 lots.
    book.apply(make_fill(core::side::buy, 10'001, 1, liquidity::maker, 0));
    book.apply(make_fill(core::side::buy, 10'000, 1, liquidity::maker, 0));
    book.apply(make_fill(core::side::buy, 10'000, 1, liquidity::maker, 0));
    CHECK(book.cost_basis_units() == 30'001);
    // Selling 1 lot removes round(30'001 / 3) = 10'000 units.
    auto r = book.apply(make_fill(core::side::sell, 10'000, 1, liquidity::maker, 0));
    CHECK(r.realized_units == 0);
    CHECK(book.cost_basis_units() == 20'001);
    // Selling the rest removes all that is left: the realized total is exact.
    r = book.apply(make_fill(core::side::sell, 10'000, 2, liquidity::maker, 0));
    CHECK(r.realized_units == -1);
    CHECK(book.realized_units() == -1); // bought for 30'001, sold for 30'000
    CHECK(book.cost_basis_units() == 0);
    check_identities(book);
}

TEST_CASE("fees: charges round up, rebates round toward zero", "[portfolio][account]") {
    const auto spec = btcusdt();
    account book(spec, {.initial_cash = 0.0, .maker_fee_bps = -0.5, .taker_fee_bps = 7.5});
    CHECK(book.maker_fee_rate_e8() == -5'000);
    CHECK(book.taker_fee_rate_e8() == 75'000);
    // Notional 12'345 ticks * 10'000 lots = 123'450'000 units (12.345 USDT).
    // Maker rebate 0.5 bp: 123'450'000 * 5'000 / 1e8 = 6'172.5 -> 6'172 received.
    auto r = book.apply(make_fill(core::side::buy, 12'345, 10'000, liquidity::maker, 24'690));
    CHECK(r.fee_units == -6'172);
    CHECK(book.rebates_units() == 6'172);
    CHECK(book.fees_units() == -6'172);
    CHECK(book.cash_units() == -123'450'000 + 6'172);
    // Taker 7.5 bp: 123'450'000 * 75'000 / 1e8 = 92'587.5 -> 92'588 paid.
    r = book.apply(make_fill(core::side::sell, 12'345, 10'000, liquidity::taker, 24'690));
    CHECK(r.fee_units == 92'588);
    CHECK(book.fees_paid_units() == 92'588);
    CHECK(book.fees_units() == 92'588 - 6'172);
    CHECK(book.rebates() == Approx(0.0006172));
    // Flat, no price change: the whole PnL is fees.
    CHECK(book.total_pnl_units() == -(92'588 - 6'172));
    check_identities(book);

    // Fractional bps are kept to 1e-4 bp.
    account discounted(spec, {.maker_fee_bps = 5.625});
    CHECK(discounted.maker_fee_rate_e8() == 56'250);
}

TEST_CASE("a fee the venue took in the base asset leaves the position in whole lots, rounded "
          "up; what was rounded up is a credit against the next",
          "[portfolio][account]") {
    const auto spec = btcusdt(); // a lot is 0.00001 BTC = 1'000 e8
    account book(spec, {.initial_cash = 1'000.0});
    const std::int64_t cash0 = book.cash_units();
    // 100 lots at 60000.00; the venue keeps 0.0000015 BTC (150 e8), worth 0.09 USDT = 900'000
    // units at the fill price.
    const auto buy_with_base_fee = [&](std::int64_t lots, std::int64_t fee_e8) {
        fill f = make_fill(core::side::buy, 6'000'000, lots, liquidity::maker, 12'000'000);
        f.fee_given = true;
        f.fee_units = fee_e8 * 6'000; // fee_e8 * 1e-8 BTC * 60000 USDT / 1e-7
        f.base_fee_e8 = fee_e8;
        return book.apply(f);
    };
    auto r = buy_with_base_fee(100, 150);
    // The venue holds 99.85 lots: the position counts 99, and one lot went back to cash at the
    // fill price (6'000'000 units) as the fee's 900'000 came out of it.
    CHECK(r.position.lots() == 99);
    CHECK(r.fee_units == 900'000);
    CHECK(book.position().lots() == 99);
    CHECK(book.base_fee_credit_e8() == 850);
    CHECK(book.cash_units() == cash0 - 600'000'000 - 900'000 + 6'000'000);
    CHECK(book.fees_paid_units() == 900'000);
    CHECK(book.fill_count() == 1);
    CHECK(book.volume().lots() == 100);
    CHECK(book.total_pnl_units() == -900'000); // flat prices: only the fee
    check_identities(book);

    // The next fee is covered by the credit: nothing leaves the position.
    r = buy_with_base_fee(100, 150);
    CHECK(r.position.lots() == 199);
    CHECK(book.base_fee_credit_e8() == 700);
    check_identities(book);
    // One beyond it: a lot again (owed 100 e8, rounded up to 1'000).
    r = buy_with_base_fee(100, 800);
    CHECK(r.position.lots() == 298);
    CHECK(book.base_fee_credit_e8() == 900);
    CHECK(book.total_pnl_units() == -(900'000 + 900'000 + 4'800'000));
    check_identities(book);
    // Sold at a higher price: the position and its basis are what the venue's base is worth.
    book.apply(make_fill(core::side::sell, 6'100'000, 298, liquidity::maker, 12'200'000));
    CHECK(book.position().lots() == 0);
    check_identities(book);

    // A reading of the venue's holdings restores the position (rounded down to the lot): the
    // credit is gone with it, so the next fee takes a lot again.
    book.restore(core::qty{1'000}, 6'000'000LL * 1'000, book.cash_units());
    CHECK(book.base_fee_credit_e8() == 0);
    r = buy_with_base_fee(1, 75);
    CHECK(r.position.lots() == 1'000);
    CHECK(book.base_fee_credit_e8() == 925);
    check_identities(book);
}

TEST_CASE("marks between ticks are exact to half a unit", "[portfolio][account]") {
    const auto spec = btcusdt();
    account book(spec, {});
    book.apply(make_fill(core::side::buy, 10'000, 1, liquidity::maker, 0));
    // Mid 100.005 (half ticks 20'001): value 1 lot * 100.005 = 10'000.5 units, floored.
    book.mark(mark_price::mid(core::price{10'000}, core::price{10'001}));
    CHECK(book.mark_value() == Approx(100.005));
    CHECK(book.inventory_value_units() == 10'000);
    book.apply(make_fill(core::side::sell, 10'000, 2, liquidity::maker, 0));
    CHECK(book.inventory_value_units() == -10'001); // -10'000.5 floored
    check_identities(book);
}

TEST_CASE("the position is valued exactly at any mark, however large", "[portfolio][account]") {
    // Tick and step of several units each, so that no factor of the value is 1.
    const auto spec = core::symbol_spec::from_text(
        {.name = "ODD", .tick_size = "0.05", .step_size = "0.002", .min_notional = ""});
    REQUIRE(spec.has_value());
    REQUIRE(spec->tick_units() > 1);
    REQUIRE(spec->step_units() > 1);
    __extension__ using wide = __int128;
    const auto expected = [&](std::int64_t lots, std::int64_t half_ticks) {
        const wide twice = static_cast<wide>(lots) * spec->step_units() * half_ticks *
                           spec->tick_units();
        const wide value = twice >= 0 ? twice / 2 : -((-twice + 1) / 2); // floored
        constexpr wide hi = std::numeric_limits<std::int64_t>::max();
        constexpr wide lo = std::numeric_limits<std::int64_t>::min();
        return static_cast<std::int64_t>(value > hi ? hi : (value < lo ? lo : value));
    };
    std::mt19937_64 rng(11);
    const std::int64_t big = std::numeric_limits<std::int64_t>::max();
    const std::int64_t factor = spec->step_units() * spec->tick_units();
    std::vector<std::int64_t> positions{0, 1, -1, 7, -7, big / factor, -(big / factor),
                                        big / factor + 1, -(big / factor) - 1, big / 2,
                                        -(big / 2)};
    // Marks up to 2^40 half ticks: the 128-bit products stay far from their own limit.
    constexpr std::int64_t highest_mark = std::int64_t{1} << 40;
    std::vector<std::int64_t> marks{0, 1, 2, 3, 12'000'001, highest_mark};
    for (int i = 0; i < 200; ++i) {
        const auto magnitude = static_cast<std::int64_t>(rng() >> (1 + rng() % 63));
        positions.push_back(i % 2 == 0 ? magnitude : -magnitude);
        marks.push_back(static_cast<std::int64_t>(rng() >> (24 + rng() % 40)));
    }
    for (const std::int64_t lots : positions) {
        account book(*spec, {});
        book.restore(core::qty{lots}, 0, 0);
        for (const std::int64_t half_ticks : marks) {
            CAPTURE(lots, half_ticks);
            book.mark(mark_price{half_ticks});
            REQUIRE(book.inventory_value_units() == expected(lots, half_ticks));
            const mark_values marked = book.marked_values();
            REQUIRE(marked.equity == book.equity());
            REQUIRE(marked.unrealized_pnl == book.unrealized_pnl());
        }
    }
    // Fills move the valued position as well.
    account book(*spec, {.initial_cash = 1'000.0});
    book.mark(mark_price{2'001});
    std::int64_t position = 0;
    for (int i = 0; i < 1'000; ++i) {
        const bool buy = rng() % 2 == 0;
        const auto lots = static_cast<std::int64_t>(1 + rng() % 500);
        book.apply(make_fill(buy ? core::side::buy : core::side::sell,
                             static_cast<std::int64_t>(900 + rng() % 200), lots,
                             liquidity::maker, static_cast<std::int64_t>(1'800 + rng() % 400)));
        position += buy ? lots : -lots;
        REQUIRE(book.position().lots() == position);
        REQUIRE(book.inventory_value_units() ==
                expected(position, book.current_mark().half_ticks));
        const account_values values = book.values();
        REQUIRE(values.equity == book.equity());
        REQUIRE(values.unrealized_pnl == book.unrealized_pnl());
        REQUIRE(values.realized_pnl == book.realized_pnl());
        REQUIRE(values.fees == book.fees());
    }
}

TEST_CASE("invalid fills are ignored and overflow is flagged", "[portfolio][account]") {
    const auto spec = btcusdt();
    account book(spec, {.initial_cash = 5.0});
    CHECK_FALSE(book.apply(make_fill(core::side::buy, 10'000, 0, liquidity::maker, 0)).applied);
    CHECK_FALSE(book.apply(make_fill(core::side::buy, 0, 10, liquidity::maker, 0)).applied);
    CHECK(book.fill_count() == 0);
    CHECK(book.cash_units() == 50'000'000);

    // 8 + 8 decimals: a unit is 1e-16, so 10'000 quote asset already exceeds int64.
    const auto fine = core::symbol_spec::from_text(
        {.name = "FINE", .tick_size = "0.00000001", .step_size = "0.00000001", .min_notional = ""});
    REQUIRE(fine.has_value());
    account tiny(*fine, {});
    tiny.apply(make_fill(core::side::buy, 100'000'000, 1'000'000'000'000, liquidity::maker, 0));
    CHECK(tiny.overflowed());
}

TEST_CASE("PnL identities hold exactly on random fill sequences", "[portfolio][account]") {
    const auto spec = btcusdt();
    for (const std::uint64_t seed : {1ULL, 2ULL, 3ULL}) {
        CAPTURE(seed);
        std::mt19937_64 rng(seed);
        std::uniform_int_distribution<int> coin(0, 1);
        std::uniform_int_distribution<std::int64_t> lots(1, 5'000);
        std::uniform_int_distribution<std::int64_t> offset(-30, 30);
        std::uniform_int_distribution<std::int64_t> drift(-200, 200);
        std::uniform_int_distribution<int> flatten_every(0, 40);
        account book(spec,
                     {.initial_cash = 50'000.0, .maker_fee_bps = -0.25, .taker_fee_bps = 4.0});

        __extension__ using wide = __int128;
        wide cash = book.initial_cash_units();
        wide fees = 0;
        wide capture_half = 0;
        wide notional_since_flat = 0; // sells minus buys since the last flat point
        wide realized_at_flat = 0;
        std::int64_t position = 0;
        double ref_cost = 0.0;        // average-cost reference in double
        int reductions = 0;           // partial reductions since the position was opened
        std::int64_t mid = 6'000'000; // ticks
        for (int i = 0; i < 20'000; ++i) {
            mid += drift(rng);
            const bool flatten = position != 0 && flatten_every(rng) == 0;
            const core::side side = flatten ? (position > 0 ? core::side::sell : core::side::buy)
                                            : (coin(rng) ? core::side::buy : core::side::sell);
            const std::int64_t quantity =
                flatten ? (position > 0 ? position : -position) : lots(rng);
            const std::int64_t price = mid + offset(rng);
            const liquidity role = coin(rng) ? liquidity::maker : liquidity::taker;
            const std::int64_t mid_half = 2 * mid + coin(rng); // sometimes between ticks
            const auto r = book.apply(make_fill(side, price, quantity, role, mid_half));
            REQUIRE(r.applied);

            // Independent bookkeeping.
            const wide notional = static_cast<wide>(price) * quantity;
            const std::int64_t rate = role == liquidity::maker ? -2'500 : 40'000;
            const wide fee_scaled = notional * rate;
            wide fee = fee_scaled / 100'000'000;
            if (fee_scaled > 0 && fee_scaled % 100'000'000 != 0) {
                fee += 1;
            }
            const std::int64_t direction = core::sign(side);
            cash += -direction * notional - fee;
            fees += fee;
            capture_half += direction * (static_cast<wide>(mid_half) - 2 * price) * quantity;
            notional_since_flat += -direction * notional;
            // Average cost without rounding, in double. Each partial reduction rounds the removed
            // basis to a unit, so the exact basis may differ by half a unit per reduction.
            const std::int64_t before = position;
            position += direction * quantity;
            if (before == 0 || (before > 0) == (direction > 0)) {
                ref_cost += static_cast<double>(direction * notional);
            } else if ((position > 0) != (before > 0) && position != 0) {
                ref_cost = static_cast<double>(position) * static_cast<double>(price);
                reductions = 0;
            } else {
                ref_cost *= static_cast<double>(position) / static_cast<double>(before);
                ++reductions;
            }

            REQUIRE(book.position().lots() == position);
            REQUIRE(book.cash_units() == static_cast<std::int64_t>(cash));
            REQUIRE(book.fees_units() == static_cast<std::int64_t>(fees));
            REQUIRE(book.spread_capture_half_units() == static_cast<std::int64_t>(capture_half));
            REQUIRE(book.turnover_units() > 0);
            if (position != 0) {
                REQUIRE(std::fabs(static_cast<double>(book.cost_basis_units()) - ref_cost) <=
                        0.5 * reductions + 1e-12 * std::fabs(ref_cost));
                REQUIRE(book.average_entry_price() ==
                        Approx(static_cast<double>(book.cost_basis_units()) /
                               static_cast<double>(position) / 100.0));
            } else {
                // Flat: everything since the last flat point is realized, exactly.
                REQUIRE(book.realized_units() - static_cast<std::int64_t>(realized_at_flat) ==
                        static_cast<std::int64_t>(notional_since_flat));
                REQUIRE(book.cost_basis_units() == 0);
                realized_at_flat = book.realized_units();
                notional_since_flat = 0;
                ref_cost = 0.0;
                reductions = 0;
            }
            if (coin(rng)) {
                book.mark(mark_price{2 * mid + coin(rng)});
            }
            check_identities(book);
        }
    }
}

TEST_CASE("restore puts back a saved account: same equity, PnL and identities",
          "[portfolio][account]") {
    const auto spec = btcusdt();
    const account_config config{.initial_cash = 10'000.0, .maker_fee_bps = 1.0};
    account before(spec, config);
    before.apply(make_fill(core::side::buy, 6'000'000, 20'000, liquidity::maker, 12'000'000));
    before.apply(make_fill(core::side::sell, 6'010'000, 5'000, liquidity::maker, 12'020'000));
    before.mark(mark_price{12'010'000});

    // What a state file keeps: position, cost basis, cash. A fresh account gets them back.
    account after(spec, config);
    after.restore(before.position(), before.cost_basis_units(), before.cash_units());
    after.mark(mark_price{12'010'000});
    CHECK(after.position() == before.position());
    CHECK(after.equity_units() == before.equity_units());
    CHECK(after.total_pnl_units() == before.total_pnl_units());
    CHECK(after.unrealized_units() == before.unrealized_units());
    // Realized PnL is carried net of the fees paid before.
    CHECK(after.realized_units() == before.realized_units() - before.fees_units());
    CHECK(after.fees_units() == 0);
    check_identities(after);
    // And it trades on from there like the original.
    const auto close = make_fill(core::side::sell, 6'020'000, 15'000, liquidity::maker, 12'030'000);
    before.apply(close);
    after.apply(close);
    CHECK(after.position().lots() == 0);
    CHECK(after.equity_units() == before.equity_units());
    check_identities(after);
}

TEST_CASE("a fill the holdings already hold counts as activity and moves no money",
          "[portfolio][account]") {
    account book(btcusdt(), {.initial_cash = 10'000.0, .maker_fee_bps = 1.0});
    (void)book.apply(make_fill(core::side::buy, 100'000, 10'000, liquidity::maker, 200'000));
    const account before = book;
    const fill_result held =
        book.count_held(make_fill(core::side::sell, 100'100, 5'000, liquidity::taker, 200'200));
    CHECK(held.applied);
    CHECK(held.fee_units == 0);
    CHECK(held.position == before.position());
    CHECK(book.position() == before.position());
    CHECK(book.cash_units() == before.cash_units());
    CHECK(book.cost_basis_units() == before.cost_basis_units());
    CHECK(book.fees_units() == before.fees_units());
    CHECK(book.spread_capture_half_units() == before.spread_capture_half_units());
    CHECK(book.fill_count() == 2);
    CHECK(book.taker_fill_count() == 1);
    CHECK(book.volume() == core::qty{15'000});
    CHECK(book.turnover_units() > before.turnover_units());
    check_identities(book);
}
