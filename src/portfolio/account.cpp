#include "quoter/portfolio/account.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace quoter::portfolio {

static_assert(std::is_trivially_copyable_v<account>);
static_assert(std::is_trivially_copyable_v<fill>);

namespace {

__extension__ using wide = __int128;

constexpr std::int64_t fee_rate_scale = 100'000'000; // rates are in 1e-8 of notional

// Quotient rounded toward +infinity; divisor > 0.
wide ceil_div(wide numerator, wide divisor) noexcept {
    const wide quotient = numerator / divisor;
    return (numerator % divisor != 0 && numerator > 0) ? quotient + 1 : quotient;
}

// Quotient rounded to nearest, halves away from zero; divisor > 0.
wide round_div(wide numerator, wide divisor) noexcept {
    const wide twice = 2 * numerator;
    return numerator >= 0 ? (twice + divisor) / (2 * divisor) : (twice - divisor) / (2 * divisor);
}

// Quotient rounded toward -infinity; divisor > 0.
wide floor_div(wide numerator, wide divisor) noexcept {
    const wide quotient = numerator / divisor;
    return (numerator % divisor != 0 && numerator < 0) ? quotient - 1 : quotient;
}

std::int64_t fee_rate_e8(double bps) noexcept {
    if (!std::isfinite(bps)) {
        return 0;
    }
    return static_cast<std::int64_t>(std::llround(bps * 1e4));
}

} // namespace

account::account(const core::symbol_spec& spec, const account_config& config) noexcept
    : spec_(spec),
      unit_(1.0 / static_cast<double>(core::pow10(spec.price_decimals() + spec.qty_decimals()))),
      maker_rate_e8_(fee_rate_e8(config.maker_fee_bps)),
      taker_rate_e8_(fee_rate_e8(config.taker_fee_bps)) {
    const double scaled = config.initial_cash / unit_;
    if (std::isfinite(scaled) && std::fabs(scaled) < 9.2e18) {
        initial_cash_ = static_cast<std::int64_t>(std::llround(scaled));
    } else {
        overflowed_ = true;
    }
    cash_ = initial_cash_;
}

void account::restore(core::qty position, std::int64_t cost_basis_units,
                      std::int64_t cash_units) noexcept {
    position_ = position;
    position_changed();
    cost_basis_ = position.lots() == 0 ? 0 : cost_basis_units;
    cash_ = cash_units;
    realized_ = narrow(wide{cash_units} - wide{initial_cash_} + wide{cost_basis_});
    fees_paid_ = 0;
    rebates_ = 0;
    spread_capture_half_ = 0;
    // A restored position is what the venue holds, rounded down to the lot: no base asset beyond
    // it can be counted on, or the next base fee could leave more in the position than is held.
    base_fee_credit_e8_ = 0;
}

void account::add_capital(std::int64_t units) noexcept {
    initial_cash_ = narrow(wide{initial_cash_} + units);
    realized_ = narrow(wide{realized_} - units);
}

std::int64_t account::narrow(wide value) const noexcept {
    constexpr wide hi = std::numeric_limits<std::int64_t>::max();
    constexpr wide lo = std::numeric_limits<std::int64_t>::min();
    if (value > hi) {
        overflowed_ = true;
        return std::numeric_limits<std::int64_t>::max();
    }
    if (value < lo) {
        overflowed_ = true;
        return std::numeric_limits<std::int64_t>::min();
    }
    return static_cast<std::int64_t>(value);
}

void account::add(std::int64_t& accumulator, wide delta) noexcept {
    accumulator = narrow(static_cast<wide>(accumulator) + delta);
}

fill_result account::apply(const fill& f) noexcept {
    fill_result result;
    if (f.quantity.lots() <= 0 || f.price.ticks() <= 0) {
        result.position = position_;
        return result;
    }
    const std::int64_t direction = core::sign(f.side);
    const wide price_units = static_cast<wide>(f.price.ticks()) * spec_.tick_units();
    const wide step_units = spec_.step_units();
    const wide notional = price_units * f.quantity.lots() * step_units;

    // Fee, rounded up to a unit: charges round up, rebates toward zero.
    const std::int64_t rate = f.role == liquidity::maker ? maker_rate_e8_ : taker_rate_e8_;
    const wide fee =
        f.fee_given ? static_cast<wide>(f.fee_units) : ceil_div(notional * rate, fee_rate_scale);
    if (f.other_fee_e8 != 0) {
        fee_asset_paid_e8_ += f.other_fee_e8;
        fee_asset_held_e8_ -= f.other_fee_e8;
    }
    add(cash_, -fee);
    if (fee > 0) {
        add(fees_paid_, fee);
    } else {
        add(rebates_, -fee);
    }
    const wide realized = trade(direction, f.quantity.lots(), price_units);
    if (f.base_fee_e8 > 0) {
        take_base_fee(f.base_fee_e8, price_units);
    }

    const std::int64_t mid_half_ticks = f.mid.known() ? f.mid.half_ticks : 2 * f.price.ticks();
    const wide capture =
        static_cast<wide>(direction) *
        (static_cast<wide>(mid_half_ticks) - 2 * static_cast<wide>(f.price.ticks())) *
        spec_.tick_units() * f.quantity.lots() * step_units;
    add(spread_capture_half_, capture);
    add(turnover_, notional);
    volume_ += f.quantity;
    if (f.role == liquidity::maker) {
        ++maker_fills_;
    } else {
        ++taker_fills_;
    }
    if (f.mid.known()) {
        mark_ = f.mid;
    }

    result.fee_units = narrow(fee);
    result.realized_units = narrow(realized);
    result.spread_capture_half_units = narrow(capture);
    result.position = position_;
    result.applied = true;
    return result;
}

account::wide account::trade(std::int64_t direction, std::int64_t lots, wide price_units) noexcept {
    const wide step_units = spec_.step_units();
    add(cash_, -direction * price_units * lots * step_units);
    // Reduce the open position first; whatever is left opens (or extends) one the other way.
    std::int64_t remaining = lots;
    const std::int64_t held = position_.lots();
    wide realized = 0;
    if (held != 0 && (held > 0) != (direction > 0)) {
        const std::int64_t held_abs = held > 0 ? held : -held;
        const std::int64_t closed = std::min(remaining, held_abs);
        const wide removed_basis =
            closed == held_abs ? static_cast<wide>(cost_basis_)
                               : round_div(static_cast<wide>(cost_basis_) * closed, held_abs);
        const wide closed_value = price_units * closed * step_units;
        realized = (held > 0 ? closed_value : -closed_value) - removed_basis;
        add(realized_, realized);
        add(cost_basis_, -removed_basis);
        position_ += core::qty{direction * closed};
        remaining -= closed;
    }
    if (remaining > 0) {
        add(cost_basis_, direction * price_units * remaining * step_units);
        position_ += core::qty{direction * remaining};
    }
    position_changed();
    return realized;
}

void account::position_changed() noexcept {
    std::int64_t units = 0;
    position_value_fits_ =
        !__builtin_mul_overflow(position_.lots(), spec_.step_units(), &units) &&
        !__builtin_mul_overflow(units, spec_.tick_units(), &units);
    position_half_tick_units_ = position_value_fits_ ? units : 0;
}

void account::take_base_fee(std::int64_t fee_e8, wide price_units) noexcept {
    // A lot in 10^-8 units of the base asset; a step finer than that cannot be counted.
    if (spec_.qty_decimals() > 8) {
        return;
    }
    const std::int64_t lot_e8 = spec_.step_units() * core::pow10(8 - spec_.qty_decimals());
    const std::int64_t owed = fee_e8 - base_fee_credit_e8_;
    if (owed <= 0) {
        base_fee_credit_e8_ = -owed;
        return;
    }
    const std::int64_t lots = (owed + lot_e8 - 1) / lot_e8;
    base_fee_credit_e8_ = lots * lot_e8 - owed;
    (void)trade(-1, lots, price_units); // its value came out of cash as the fee
}

fill_result account::count_held(const fill& f) noexcept {
    fill_result result;
    result.position = position_;
    if (f.quantity.lots() <= 0 || f.price.ticks() <= 0) {
        return result;
    }
    add(turnover_, static_cast<wide>(f.price.ticks()) * spec_.tick_units() * f.quantity.lots() *
                       spec_.step_units());
    volume_ += f.quantity;
    if (f.role == liquidity::maker) {
        ++maker_fills_;
    } else {
        ++taker_fills_;
    }
    result.applied = true;
    return result;
}

std::int64_t account::wide_inventory_value_units() const noexcept {
    const wide twice = static_cast<wide>(position_.lots()) * spec_.step_units() * mark_.half_ticks *
                       spec_.tick_units();
    return narrow(floor_div(twice, 2));
}

// Sums in 64 bits when they fit (always, short of an overflow), narrowed from 128 otherwise.
std::int64_t account::unrealized_units() const noexcept {
    const std::int64_t inventory = inventory_value_units();
    std::int64_t out = 0;
    if (__builtin_sub_overflow(inventory, cost_basis_, &out)) [[unlikely]] {
        return narrow(static_cast<wide>(inventory) - cost_basis_);
    }
    return out;
}

std::int64_t account::equity_units() const noexcept {
    const std::int64_t inventory = inventory_value_units();
    std::int64_t out = 0;
    if (__builtin_add_overflow(cash_, inventory, &out)) [[unlikely]] {
        return narrow(static_cast<wide>(cash_) + inventory);
    }
    return out;
}

account_values account::values() const noexcept {
    const mark_values marked = marked_values();
    return {.equity = marked.equity,
            .unrealized_pnl = marked.unrealized_pnl,
            .realized_pnl = to_quote(realized_),
            .fees = to_quote(fees_units())};
}

std::int64_t account::total_pnl_units() const noexcept {
    return narrow(static_cast<wide>(equity_units()) - initial_cash_);
}

std::int64_t account::inventory_pnl_half_units() const noexcept {
    return narrow(2 * (static_cast<wide>(realized_) + unrealized_units()) - spread_capture_half_);
}

double account::average_entry_price() const noexcept {
    if (position_.lots() == 0) {
        return 0.0;
    }
    // cost basis (10^-(pd+qd) quote) / (lots * step_units, 10^-qd base) = 10^-pd quote per base.
    const double price_units =
        static_cast<double>(cost_basis_) /
        (static_cast<double>(position_.lots()) * static_cast<double>(spec_.step_units()));
    return price_units / static_cast<double>(core::pow10(spec_.price_decimals()));
}

} // namespace quoter::portfolio
