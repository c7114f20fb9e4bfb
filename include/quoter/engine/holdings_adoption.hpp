// holdings_adoption: a later reconciliation's reading of the venue's holdings, adopted into the
// loop's account where the two differ, so the account and the risk views it feeds hold what the
// venue holds.
//
// Fills of a gap reach the account as reports (the reconciliation's queries); what no report
// tells (a deposit, a withdrawal, a fill the venue lost track of) shows only in the holdings.
// Equity the adoption adds is counted as capital, not PnL (core_loop::add_capital), so that a
// deposit never widens the daily loss or drawdown the limits allow; equity it removes stays a
// loss, which the limits judge (a withdrawal may trip them: the safe side of not knowing).
// Spot: the symbol's base and quote balances (inventory that arrived is valued at the mark, so
// it is no gain; inventory that left takes its share of the cost basis), and the third asset
// fees are paid in (BNB), which the account keeps apart from its money. Futures: the position,
// at the venue's entry price, and the margin asset's wallet (the account's cash plus its cost
// basis), both of one reading (GET /fapi/v2/account), as of the later of their two update times;
// without a wallet, the equity is kept.
//
// A reading is as of a venue time, and fill reports cross it in both directions
// (portfolio/holdings_timeline.hpp): what is adopted is the reading plus the fills the account
// booked that the venue stamped after it, and from then on a fill report stamped no later moves
// nothing (core_loop::hold_fills_through). So a fill the venue made after the reading, whose
// report came first, is kept, and one the reading holds, whose report comes after the
// adoption, is not booked twice. A reading older than one adopted before, or one whose later
// fills the loop no longer has all of, is not adopted (the next reconciliation reads anew); a
// reading without a time is adopted as it is.
//
// Threading: the core thread (the loop's); off the order path, once per reconciliation.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/engine/core_loop.hpp"

#include <cstdint>
#include <string>

namespace quoter::engine {

/// What a reconciliation read of the venue's holdings of the loop's symbol.
struct venue_holdings {
    bool futures = false;

    // Spot (account.status).
    /// The quote asset was found among the balances: the spot fields below are known.
    bool quote_listed = false;
    core::qty base;                     ///< Base asset held, lots.
    std::int64_t quote_units = 0;       ///< Quote asset held, notional units.
    std::int64_t balances_as_of_ms = 0; ///< Venue time the balances are as of (0: not told).
    std::string base_asset;             ///< Names, for the log.
    std::string quote_asset;
    /// The third fee asset (BNB): listed among the balances, its amount (free + locked, 10^-8
    /// units, as of balances_as_of_ms) and name.
    bool fee_asset_listed = false;
    std::int64_t fee_asset_e8 = 0;
    std::string fee_asset;

    // Futures (GET /fapi/v2/account, ACCOUNT_UPDATE): position and wallet of one state of the
    // account, which is as of the later of their two times.
    core::qty position;                 ///< Signed lots; zero when none is listed.
    core::price entry_price;            ///< The venue's average entry price.
    std::int64_t position_as_of_ms = 0; ///< Venue time the position is as of (0: not told).
    bool wallet_listed = false;         ///< The margin asset's wallet balance is known.
    std::int64_t wallet_units = 0;      ///< Wallet balance, notional units.
    std::int64_t wallet_as_of_ms = 0;   ///< Venue time the wallet is as of (0: not told).
};

/// What an adoption did.
struct holdings_adoption {
    bool adopted = false; ///< The account took the venue's numbers.
    core::qty had;        ///< The account's position before.
    core::qty held;       ///< Its position after.
    /// Fills booked after the reading's time, kept on top of it (lots).
    core::qty booked_after;
    /// Equity the reading added that no report explains (a deposit), counted as capital, not
    /// PnL (notional units; 0 when none). A loss no report explains stays a loss.
    std::int64_t capital_added = 0;
    std::string description; ///< What the venue holds, for the log.
    /// Why a reading was left alone although it differs ("" when adopted, or when equal).
    std::string not_adopted;
};

/// Adopts venue into loop's account where they differ (see above).
holdings_adoption adopt_venue_holdings(core_loop& loop, const venue_holdings& venue);

} // namespace quoter::engine
