// account: one symbol's position, cash, fees and PnL, exact in fixed point and marked to the
// mid, with the PnL split into spread capture and inventory PnL.
//
// Units. Money is int64 notional units of the symbol (symbol_spec): 10^-(price_decimals +
// qty_decimals) of the quote asset, e.g. 1e-7 USDT for BTCUSDT. The position is in lots.
// price * quantity products are formed in 128 bits; a result that does not fit int64 sets the
// sticky overflowed() flag (it needs ~9e11 USDT of turnover on BTCUSDT).
//
// Accounting, average cost:
//   buy  q at p:  cash -= p*q + fee        sell q at p:  cash += p*q - fee
//   cost basis B: signed entry notional of the open position (long > 0, short < 0).
//   A fill that reduces the position by c lots removes b = round(B * c / |Q|) from B and
//   realizes sign(Q) * p * c - b. A fill larger than the position closes it (b = B) and opens
//   the rest at p: a flip. The average entry price is B / Q.
//   inventory value V = floor(Q * mark)  (mark in half ticks, so a mid between two ticks is
//   exact; floor takes the lower of two values half a unit apart)
//   unrealized U = V - B,  equity E = cash + V.
// These make E - initial_cash = R + U - fees hold exactly, whatever the rounding of b.
//
// Fees: maker/taker rates in bps (negative = rebate), exact to 1e-4 bp; each fill's fee is
// notional * rate rounded up to a notional unit (a charge rounds up, a rebate rounds toward 0).
// A fill may instead carry the fee the venue charged: in the quote asset, it replaces the rate's;
// in a third asset (BNB), none is charged to cash and the amount is kept apart, in that asset
// (fee_asset_paid_e8, and the balance held of it), since the account knows no price for it. In
// the base asset (Binance spot takes a buy's commission out of what it bought), its value at the
// fill price is the fee, and the base it took leaves the position in whole lots, rounded up and
// sold back to cash at the fill price, so that the position never counts more than the venue
// holds (a sell of all of it would be refused); what was rounded up is a credit against the
// next such fee (base_fee_credit_e8).
//
// Spread capture: for each fill, (mid at fill - price) * q for a buy and (price - mid) * q for
// a sell; inventory PnL is the rest of the gross PnL: R + U - spread capture. Both are kept in
// half notional units because the mid may lie between two ticks.
//
// Invariants: no allocation, no exceptions, trivially copyable. Core thread only.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/core/time.hpp"

#include <cstdint>

namespace quoter::portfolio {

/// A marking price in half ticks, so that the mid of any book is exact.
struct mark_price {
    std::int64_t half_ticks = 0;

    [[nodiscard]] static constexpr mark_price at(core::price p) noexcept { return {2 * p.ticks()}; }
    [[nodiscard]] static constexpr mark_price mid(core::price best_bid,
                                                  core::price best_ask) noexcept {
        return {best_bid.ticks() + best_ask.ticks()};
    }
    [[nodiscard]] constexpr bool known() const noexcept { return half_ticks > 0; }
    constexpr auto operator<=>(const mark_price&) const noexcept = default;
};

enum class liquidity : std::uint8_t { maker, taker };

/// The account's figures a new mark moves, in the quote asset, from one valuation of the position.
struct mark_values {
    double equity = 0.0;
    double unrealized_pnl = 0.0;
};

/// The account's money figures in the quote asset, from one valuation of the position.
struct account_values {
    double equity = 0.0;
    double unrealized_pnl = 0.0;
    double realized_pnl = 0.0; ///< Before fees.
    double fees = 0.0;         ///< Net of rebates.
};

struct account_config {
    /// Cash at the start, quote asset (rounded to the nearest notional unit).
    double initial_cash = 0.0;
    /// Fee on maker fills, bps of notional; negative = rebate.
    double maker_fee_bps = 0.0;
    /// Fee on taker fills, bps of notional; negative = rebate.
    double taker_fee_bps = 0.0;
};

struct fill {
    core::timestamp_ns time = 0;
    core::side side = core::side::buy;
    core::price price;
    /// Lots, > 0.
    core::qty quantity;
    liquidity role = liquidity::maker;
    /// Mid at the time of the fill, for spread capture; also becomes the mark. Unknown (0):
    /// the fill price stands in for it.
    mark_price mid;
    /// The fee as the venue charged it, notional units (negative: rebate), instead of the
    /// configured rate's; 0 when it was charged in a third asset (other_fee_e8).
    bool fee_given = false;
    std::int64_t fee_units = 0;
    /// A fee charged in a third asset (BNB), 10^-8 units of it: kept apart from the money.
    std::int64_t other_fee_e8 = 0;
    /// A fee the venue took in the base asset, 10^-8 units of it; fee_units is its value.
    std::int64_t base_fee_e8 = 0;
};

/// What one fill did, in notional units.
struct fill_result {
    /// Fee charged (negative = rebate received).
    std::int64_t fee_units = 0;
    /// PnL realized by the reducing part of the fill, before fees.
    std::int64_t realized_units = 0;
    /// Spread capture of the fill, in half notional units.
    std::int64_t spread_capture_half_units = 0;
    /// Position after the fill.
    core::qty position;
    bool applied = false;
};

class account {
public:
    account() = default;
    account(const core::symbol_spec& spec, const account_config& config) noexcept;

    /// Books a fill. Fills with a non-positive quantity or price are ignored (applied = false).
    fill_result apply(const fill& f) noexcept;

    /// Counts a fill whose position and money the account holds already (holdings adopted from
    /// the venue included it): its turnover, volume and fill count, nothing else (no fee, no
    /// PnL, no spread capture). Ignored as apply() ignores.
    fill_result count_held(const fill& f) noexcept;

    /// Puts back a position, its cost basis and the cash saved before a restart (paper trading:
    /// the account lives only in the process). What the saved run realized net of fees becomes
    /// the realized PnL, cash - initial cash + cost basis, so equity - initial cash ==
    /// realized + unrealized - fees still holds; fees and spread capture restart at zero, and
    /// so does the base fee credit (the position restored is all that is counted on). Call
    /// before the first fill.
    void restore(core::qty position, std::int64_t cost_basis_units,
                 std::int64_t cash_units) noexcept;

    /// Money that came into the account from outside (a deposit a live reconciliation found in
    /// the venue's balances): the initial capital grows by it, so that equity - initial cash ==
    /// realized + unrealized - fees still holds and none of it counts as PnL.
    void add_capital(std::int64_t units) noexcept;

    /// Sets the price the position is valued at (normally the mid of each book update).
    void mark(mark_price price) noexcept { mark_ = price; }

    // Exact values, notional units unless stated otherwise.
    [[nodiscard]] core::qty position() const noexcept { return position_; }
    [[nodiscard]] std::int64_t initial_cash_units() const noexcept { return initial_cash_; }
    [[nodiscard]] std::int64_t cash_units() const noexcept { return cash_; }
    /// Signed entry notional of the open position.
    [[nodiscard]] std::int64_t cost_basis_units() const noexcept { return cost_basis_; }
    [[nodiscard]] std::int64_t realized_units() const noexcept { return realized_; }
    /// Net fees: paid minus rebates received.
    [[nodiscard]] std::int64_t fees_units() const noexcept { return fees_paid_ - rebates_; }
    [[nodiscard]] std::int64_t fees_paid_units() const noexcept { return fees_paid_; }
    [[nodiscard]] std::int64_t rebates_units() const noexcept { return rebates_; }
    /// Position valued at the mark (floored to a unit).
    [[nodiscard]] std::int64_t inventory_value_units() const noexcept {
        // Valued on every mark: one multiplication by the position's value per half tick when
        // the product fits (any realistic position); an arithmetic shift floors.
        std::int64_t twice = 0;
        if (position_value_fits_ &&
            !__builtin_mul_overflow(position_half_tick_units_, mark_.half_ticks, &twice))
            [[likely]] {
            return twice >> 1;
        }
        return wide_inventory_value_units();
    }
    [[nodiscard]] std::int64_t unrealized_units() const noexcept;
    /// cash + inventory value.
    [[nodiscard]] std::int64_t equity_units() const noexcept;
    /// equity - initial cash == realized + unrealized - fees.
    [[nodiscard]] std::int64_t total_pnl_units() const noexcept;
    [[nodiscard]] std::int64_t spread_capture_half_units() const noexcept {
        return spread_capture_half_;
    }
    /// (realized + unrealized) * 2 - spread capture, in half notional units.
    [[nodiscard]] std::int64_t inventory_pnl_half_units() const noexcept;
    /// Sum of fill notionals.
    [[nodiscard]] std::int64_t turnover_units() const noexcept { return turnover_; }
    /// Sum of fill quantities, lots.
    [[nodiscard]] core::qty volume() const noexcept { return volume_; }
    [[nodiscard]] std::uint64_t fill_count() const noexcept { return maker_fills_ + taker_fills_; }
    [[nodiscard]] std::uint64_t maker_fill_count() const noexcept { return maker_fills_; }
    [[nodiscard]] std::uint64_t taker_fill_count() const noexcept { return taker_fills_; }
    [[nodiscard]] mark_price current_mark() const noexcept { return mark_; }
    /// Fee rates in units of 1e-8 of notional (1 bp = 10'000).
    [[nodiscard]] std::int64_t maker_fee_rate_e8() const noexcept { return maker_rate_e8_; }
    [[nodiscard]] std::int64_t taker_fee_rate_e8() const noexcept { return taker_rate_e8_; }
    /// Fees paid in a third asset (BNB), 10^-8 units of it: not in cash, fees or PnL.
    [[nodiscard]] std::int64_t fee_asset_paid_e8() const noexcept { return fee_asset_paid_e8_; }
    /// The third fee asset held, 10^-8 units: what the venue last said, less the fees since.
    [[nodiscard]] std::int64_t fee_asset_held_e8() const noexcept { return fee_asset_held_e8_; }
    /// Sets the third fee asset held (a reading of the venue's balances).
    void restore_fee_asset(std::int64_t held_e8) noexcept { fee_asset_held_e8_ = held_e8; }
    /// Base asset taken out of the position beyond the base fees charged so far (rounded up to
    /// whole lots), 10^-8 units: the venue holds this much more than the position.
    [[nodiscard]] std::int64_t base_fee_credit_e8() const noexcept { return base_fee_credit_e8_; }
    /// True once any value left the int64 range; the exact values are then unreliable.
    [[nodiscard]] bool overflowed() const noexcept { return overflowed_; }

    // The same in the quote asset (base asset for position_base), for reports.
    [[nodiscard]] double cash() const noexcept { return to_quote(cash_); }
    [[nodiscard]] double equity() const noexcept { return to_quote(equity_units()); }
    [[nodiscard]] double realized_pnl() const noexcept { return to_quote(realized_); }
    [[nodiscard]] double unrealized_pnl() const noexcept { return to_quote(unrealized_units()); }
    [[nodiscard]] double fees() const noexcept { return to_quote(fees_units()); }
    [[nodiscard]] double fees_paid() const noexcept { return to_quote(fees_paid_); }
    [[nodiscard]] double rebates() const noexcept { return to_quote(rebates_); }
    [[nodiscard]] double total_pnl() const noexcept { return to_quote(total_pnl_units()); }
    [[nodiscard]] double spread_capture_pnl() const noexcept {
        return 0.5 * to_quote(spread_capture_half_);
    }
    [[nodiscard]] double inventory_pnl() const noexcept {
        return 0.5 * to_quote(inventory_pnl_half_units());
    }
    [[nodiscard]] double turnover() const noexcept { return to_quote(turnover_); }
    /// equity(), unrealized_pnl(), realized_pnl() and fees() at once (the position valued once),
    /// for a caller that needs them on every market update.
    [[nodiscard]] account_values values() const noexcept;
    /// equity() and unrealized_pnl() at once: what a caller that follows every mark needs when
    /// nothing but the mark moved. Inline: called on every book update.
    [[nodiscard]] mark_values marked_values() const noexcept {
        const std::int64_t inventory = inventory_value_units();
        std::int64_t equity = 0;
        if (__builtin_add_overflow(cash_, inventory, &equity)) [[unlikely]] {
            equity = narrow(static_cast<wide>(cash_) + inventory);
        }
        std::int64_t unrealized = 0;
        if (__builtin_sub_overflow(inventory, cost_basis_, &unrealized)) [[unlikely]] {
            unrealized = narrow(static_cast<wide>(inventory) - cost_basis_);
        }
        return {.equity = to_quote(equity), .unrealized_pnl = to_quote(unrealized)};
    }
    [[nodiscard]] double position_base() const noexcept { return spec_.to_double(position_); }
    [[nodiscard]] double volume_base() const noexcept { return spec_.to_double(volume_); }
    /// Average entry price of the open position, quote asset per base unit; 0 when flat.
    [[nodiscard]] double average_entry_price() const noexcept;
    /// The mark, quote asset per base unit.
    [[nodiscard]] double mark_value() const noexcept {
        return 0.5 * static_cast<double>(mark_.half_ticks) * spec_.tick_size();
    }

    [[nodiscard]] const core::symbol_spec& spec() const noexcept { return spec_; }
    /// Notional units in the quote asset.
    [[nodiscard]] double units_to_quote(std::int64_t units) const noexcept {
        return to_quote(units);
    }

private:
    __extension__ using wide = __int128;

    [[nodiscard]] double to_quote(std::int64_t units) const noexcept {
        return static_cast<double>(units) * unit_;
    }
    void add(std::int64_t& accumulator, wide delta) noexcept;
    [[nodiscard]] std::int64_t narrow(wide value) const noexcept;
    /// Moves cash, cost basis and position by `lots` bought (direction +1) or sold (-1) at
    /// price_units (notional units per unit of qty step); returns the PnL realized.
    wide trade(std::int64_t direction, std::int64_t lots, wide price_units) noexcept;
    /// Takes a base fee out of the position (see the header comment).
    void take_base_fee(std::int64_t fee_e8, wide price_units) noexcept;
    /// inventory_value_units() formed in 128 bits: floor(position * step_units * half_ticks *
    /// tick_units / 2), the same value the one multiplication gives when it fits.
    [[nodiscard]] std::int64_t wide_inventory_value_units() const noexcept;
    /// Keeps position_half_tick_units_ with the position; call whenever position_ changes.
    void position_changed() noexcept;

    core::symbol_spec spec_;
    double unit_ = 1.0; // quote asset per notional unit
    std::int64_t maker_rate_e8_ = 0;
    std::int64_t taker_rate_e8_ = 0;

    core::qty position_;
    /// position * step_units * tick_units: the position's value per half tick of mark, so that
    /// valuing it at a new mark is one multiplication. Valid while position_value_fits_ (the
    /// product fits int64); otherwise the value is formed in 128 bits.
    std::int64_t position_half_tick_units_ = 0;
    bool position_value_fits_ = true;
    mark_price mark_;
    std::int64_t initial_cash_ = 0;
    std::int64_t cash_ = 0;
    std::int64_t cost_basis_ = 0;
    std::int64_t realized_ = 0;
    std::int64_t fees_paid_ = 0;
    std::int64_t rebates_ = 0;
    std::int64_t spread_capture_half_ = 0;
    std::int64_t turnover_ = 0;
    core::qty volume_;
    std::uint64_t maker_fills_ = 0;
    std::uint64_t taker_fills_ = 0;
    std::int64_t fee_asset_paid_e8_ = 0;
    std::int64_t fee_asset_held_e8_ = 0;
    std::int64_t base_fee_credit_e8_ = 0;
    mutable bool overflowed_ = false;
};

} // namespace quoter::portfolio
