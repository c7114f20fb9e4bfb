#include "quoter/engine/holdings_adoption.hpp"

#include "quoter/portfolio/account.hpp"
#include "quoter/portfolio/holdings_timeline.hpp"

#include <algorithm>

namespace quoter::engine {

namespace {

/// units of the symbol's quote asset as a number of it.
[[nodiscard]] double quote_of(const core::symbol_spec& spec, std::int64_t units) {
    portfolio::account amount(spec, {});
    amount.restore(core::qty{0}, 0, units);
    return amount.cash();
}

/// The fills booked after a reading as of venue_ms (none for a reading without a time).
[[nodiscard]] portfolio::holdings_timeline::sum booked_after(const core_loop& loop,
                                                             std::int64_t venue_ms) {
    return venue_ms == 0 ? portfolio::holdings_timeline::sum{}
                         : loop.booked_fills().after(venue_ms);
}

/// Why a reading as of venue_ms may not be adopted ("" when it may).
[[nodiscard]] std::string refusal(const core_loop& loop, std::int64_t venue_ms,
                                  const portfolio::holdings_timeline::sum& after) {
    const std::int64_t held_through = loop.booked_fills().held_through_ms();
    if (venue_ms != 0 && venue_ms < held_through) {
        return "the reading (venue time " + std::to_string(venue_ms) +
               ") is older than the holdings adopted before (" + std::to_string(held_through) + ")";
    }
    if (!after.complete) {
        return "more fills were booked since the reading than the loop keeps";
    }
    return {};
}

} // namespace

holdings_adoption adopt_venue_holdings(core_loop& loop, const venue_holdings& venue) {
    const portfolio::account& account = loop.account();
    const core::symbol_spec& trading = account.spec();
    holdings_adoption out;
    const core::qty had = account.position();
    out.had = had;
    out.held = had;
    core::qty held = had;
    std::int64_t cash = account.cash_units();
    std::int64_t cost = account.cost_basis_units();
    std::int64_t fee_asset = account.fee_asset_held_e8();
    std::int64_t as_of_ms = 0;
    if (!venue.futures) {
        if (!venue.quote_listed) {
            return out;
        }
        as_of_ms = venue.balances_as_of_ms;
        const auto after = booked_after(loop, as_of_ms);
        out.not_adopted = refusal(loop, as_of_ms, after);
        out.booked_after = after.change.position;
        held = venue.base + after.change.position;
        cash = venue.quote_units + after.change.cash_units;
        if (venue.fee_asset_listed) {
            fee_asset = venue.fee_asset_e8 + after.change.fee_asset_e8;
        }
        out.description = venue.base_asset + " " + std::to_string(trading.to_double(venue.base)) +
                          ", " + venue.quote_asset + " " +
                          std::to_string(quote_of(trading, venue.quote_units));
        if (venue.fee_asset_listed) {
            out.description += ", " + venue.fee_asset + " " +
                               std::to_string(static_cast<double>(venue.fee_asset_e8) * 1e-8);
        }
        if (held != had) {
            // Inventory that arrived is valued at the mark (no gain), inventory that left takes
            // its share of the cost basis with it.
            portfolio::account added(trading, {});
            added.restore(held - had, 0, 0);
            added.mark(account.current_mark());
            cost = had.lots() > 0 && held < had
                       ? static_cast<std::int64_t>(static_cast<long double>(cost) *
                                                   static_cast<long double>(held.lots()) /
                                                   static_cast<long double>(had.lots()))
                   : held.lots() == 0 ? 0
                                      : cost + added.inventory_value_units();
        }
    } else {
        // Position and wallet are of one state of the account: a fill of the symbol is in both
        // or in neither, and changes the position's time. So the later of the two times is one
        // the whole reading is as of: a fill stamped after it is in neither, one stamped no
        // later is in both.
        as_of_ms = venue.wallet_listed ? std::max(venue.position_as_of_ms, venue.wallet_as_of_ms)
                                       : venue.position_as_of_ms;
        const auto after = booked_after(loop, as_of_ms);
        out.not_adopted = refusal(loop, as_of_ms, after);
        out.booked_after = after.change.position;
        held = venue.position + after.change.position;
        if (held != had) {
            cost =
                trading.notional_units(venue.entry_price, venue.position) + after.change.cost_units;
        }
        if (venue.wallet_listed) {
            cash = venue.wallet_units + after.change.cash_units + after.change.cost_units - cost;
        } else {
            cash += account.cost_basis_units() - cost; // equity kept: the position moves
        }
        out.description = "position " + std::to_string(trading.to_double(venue.position));
        if (venue.wallet_listed) {
            out.description += ", wallet " + std::to_string(quote_of(trading, venue.wallet_units));
        }
        if (venue.fee_asset_listed) {
            // The BNB wallet, out of which BNB fees come: what the fills after the reading paid
            // comes off it, as on spot.
            fee_asset = venue.fee_asset_e8 + after.change.fee_asset_e8;
            out.description += ", " + venue.fee_asset + " wallet " +
                               std::to_string(static_cast<double>(venue.fee_asset_e8) * 1e-8);
        }
    }
    const bool same =
        held == had && cash == account.cash_units() && fee_asset == account.fee_asset_held_e8();
    if (!out.not_adopted.empty()) {
        if (same) {
            out.not_adopted.clear(); // nothing to adopt either way
        }
        return out;
    }
    if (!same) {
        if (held != had || cash != account.cash_units()) {
            // A gain no report explains (a deposit, a fill of a foreign order) is capital, not
            // PnL: it must not widen the daily loss or drawdown the limits allow. A loss no
            // report explains (a withdrawal, a liquidation) stays a loss: the limits see it.
            // Measured on a copy, and added before the restore, so that the equity peak grows
            // by the capital, not to the new equity.
            portfolio::account adopted = account;
            adopted.restore(held, cost, cash);
            const std::int64_t gained = adopted.equity_units() - account.equity_units();
            if (gained > 0) {
                loop.add_capital(gained);
                out.capital_added = gained;
            }
            loop.restore(held, cost, cash, loop.quotes().last_sequence());
        }
        loop.restore_fee_asset(fee_asset);
        out.adopted = true;
        out.held = held;
    }
    // Also when the account held it all already: a report of a fill the reading holds may
    // still be on its way.
    loop.hold_fills_through(as_of_ms);
    return out;
}

} // namespace quoter::engine
