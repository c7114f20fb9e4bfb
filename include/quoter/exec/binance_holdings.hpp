// binance_holdings: what the venue's balances say the account holds of one symbol, in the units
// the engine's account books (portfolio::account): the base asset in lots of the symbol's
// trading spec, the quote (or margin) asset in notional units, 10^-(price_decimals +
// qty_decimals) of it.
//
// The asset names come from the balances themselves: Binance lists assets by name (BTC, USDT)
// and a symbol's name is its base asset's followed by its quote asset's. The quote asset is the
// listed asset that ends the symbol's name and leaves a listed asset before it; failing that,
// the longest listed one that ends it (a base asset of zero is not listed when zero balances are
// omitted). The base asset is what precedes it.
//
// Rounding: down, to the lot grid and to a notional unit, so the account never books more than
// the venue holds. A negative amount (not a spot balance) counts as zero.
//
// Pure functions, no allocation; any thread.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/exec/binance_order_params.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace quoter::exec {

/// A spot account's holdings of one symbol's two assets.
struct spot_holdings {
    /// The quote asset was identified among the balances (else nothing below is known).
    bool quote_listed = false;
    /// The base asset was listed (unlisted: it holds nothing).
    bool base_listed = false;
    venue_text<16> base_asset;
    venue_text<16> quote_asset;
    /// Base asset held, free + locked, in lots (>= 0, rounded down to the lot grid).
    core::qty base;
    /// Quote asset held, free + locked, in notional units (>= 0, rounded down).
    std::int64_t quote_units = 0;
    /// Venue time (ms) both amounts are as of (asset_balance::update_time_ms; 0: not told).
    std::int64_t as_of_ms = 0;
};

/// The holdings of spec's symbol among a spot account's balances (account.status).
[[nodiscard]] spot_holdings spot_holdings_of(std::span<const asset_balance> balances,
                                             const core::symbol_spec& spec) noexcept;

/// A USD-M futures account's wallet in the symbol's margin asset (its quote asset).
struct futures_wallet {
    bool listed = false; ///< The margin asset was among the balances.
    venue_text<16> asset;
    /// Wallet balance (without unrealized PnL) in notional units of the symbol, rounded down.
    std::int64_t wallet_units = 0;
    /// Venue time (ms) the balance is as of (asset_balance::update_time_ms; 0: not told).
    std::int64_t as_of_ms = 0;
};

/// The margin asset's wallet among a futures account's balances (GET /fapi/v2/balance or an
/// ACCOUNT_UPDATE, where asset_balance::free_e8 is the wallet balance).
[[nodiscard]] futures_wallet futures_wallet_of(std::span<const asset_balance> balances,
                                               const core::symbol_spec& spec) noexcept;

/// The asset a commission was charged in (executionReport `N`, a trade's commissionAsset)
/// relative to spec's symbol, named as Binance names a symbol: quote when the symbol ends with
/// it, base when it begins with it, other for any third asset (BNB); none when empty.
[[nodiscard]] fee_asset fee_asset_of(std::string_view asset,
                                     const core::symbol_spec& spec) noexcept;

/// amount_e8 (10^-8 units) in 10^-decimals units, rounded toward zero; decimals in [0, 18].
[[nodiscard]] std::int64_t scale_e8(std::int64_t amount_e8, int decimals) noexcept;

} // namespace quoter::exec
