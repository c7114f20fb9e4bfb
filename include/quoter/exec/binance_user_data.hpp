// binance_user_data: decodes the private user-data events of both markets into exact values.
//
// Spot (WebSocket API subscription, {"subscriptionId":N,"event":{...}}, or a bare event):
//   executionReport          -> order_update. On a cancel Binance puts the cancel's own id in
//                               `c` and the cancelled order's id in `C`: client_id is always the
//                               order's id, cancel_id the cancel's.
//   outboundAccountPosition  -> balances (free and locked, 8 decimals).
// USD-M futures (listenKey stream, bare or combined {"stream":..,"data":{..}}):
//   ORDER_TRADE_UPDATE       -> order_update (fields under "o").
//   ACCOUNT_UPDATE           -> balances (wallet balance) and positions (signed lots).
//   listenKeyExpired         -> listen_key_expired: make a new key and reconcile.
// Anything else is `other`; input that is not a well-formed event of these kinds is `malformed`
// (counted; the caller reconciles by query rather than guess).
//
// Decoding uses one simdjson DOM parser allocated at construction; decode() copies the bytes
// into a padded buffer and does not allocate, lock or throw.
// Thread ownership: one decoder per receiving thread; a result stays valid until the next call.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/exec/binance_order_params.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace quoter::exec {

enum class user_event_kind : std::uint8_t {
    none,
    order_update,       ///< executionReport or ORDER_TRADE_UPDATE.
    account_position,   ///< outboundAccountPosition (spot balances).
    account_update,     ///< ACCOUNT_UPDATE (futures balances and positions).
    listen_key_expired, ///< listenKeyExpired (futures).
    /// eventStreamTerminated (spot WebSocket API): the subscription ended, no more events come
    /// until the session subscribes again.
    stream_terminated,
    other, ///< A valid event this decoder does not use (balanceUpdate, ...).
    malformed,
};

/// executionReport `x` / ORDER_TRADE_UPDATE `x`.
enum class execution_type : std::uint8_t {
    unknown,
    new_order,
    canceled,
    replaced,
    rejected,
    trade,
    expired,
    trade_prevention,
    amendment,
    calculated, ///< Futures: liquidation or ADL execution.
};

/// One order event. Prices in ticks, quantities in lots of the symbol.
struct order_update {
    venue_client_id client_id; ///< The order's own id (spot cancels: from `C`).
    venue_client_id cancel_id; ///< Spot cancels: the cancel request's id (`c`); else empty.
    std::uint64_t order_id = 0;
    std::int64_t trade_id = -1; ///< -1 when no trade (de-duplicates fills).
    std::uint32_t symbol = 0;
    core::side side = core::side::buy;
    execution_type execution = execution_type::unknown;
    venue_order_status status = venue_order_status::unknown;
    bool maker = false;
    bool reduce_only = false; ///< Futures `R`.
    core::price order_price;
    core::qty order_qty;
    core::price last_price; ///< Price of this trade (execution == trade).
    core::qty last_qty;
    core::qty cum_qty;
    /// Commission of this trade in units of 10^-8 of commission_asset (negative: rebate).
    std::int64_t commission_e8 = 0;
    venue_text<16> commission_asset;
    venue_text<32> reject_reason; ///< Spot `r` ("NONE" when not rejected).
    std::int64_t event_time_ms = 0;
    std::int64_t transaction_time_ms = 0;
};

/// Balances and positions of one account event; a fixed number of each is kept (counts say how
/// many arrived, so a cut is visible).
struct account_change {
    static constexpr std::size_t max_balances = 16;
    static constexpr std::size_t max_positions = 16;
    std::array<asset_balance, max_balances> balances{};
    std::array<position_amount, max_positions> positions{};
    std::uint8_t balance_count = 0;  ///< Kept in balances.
    std::uint8_t position_count = 0; ///< Kept in positions (symbols outside the table skipped).
    bool truncated = false;          ///< More entries arrived than fit.
    venue_text<24> reason;           ///< Futures `m` (ORDER, FUNDING_FEE, ...).
    std::int64_t event_time_ms = 0;
    /// Futures `T` (0 when absent): the time the balances and positions are as of (each
    /// entry's update_time_ms carries it).
    std::int64_t transaction_time_ms = 0;
};

struct user_event {
    user_event_kind kind = user_event_kind::none;
    order_update order;
    account_change account;
};

class user_data_decoder {
public:
    static constexpr std::size_t default_max_event_bytes = 64 * 1024;

    /// symbols: the gateway's symbol table; must outlive the decoder. Allocates once.
    explicit user_data_decoder(std::span<const core::symbol_spec> symbols,
                               std::size_t max_event_bytes = default_max_event_bytes);
    ~user_data_decoder();
    user_data_decoder(const user_data_decoder&) = delete;
    user_data_decoder& operator=(const user_data_decoder&) = delete;

    const user_event& decode(std::string_view message) noexcept;

    /// Messages decoded as malformed so far.
    [[nodiscard]] std::uint64_t malformed_count() const noexcept { return malformed_; }

private:
    struct impl;
    std::unique_ptr<impl> impl_;
    user_event event_;
    std::uint64_t malformed_ = 0;
};

} // namespace quoter::exec
