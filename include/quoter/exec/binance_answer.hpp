// binance_answer: decodes the venue's answers to order requests (spot WebSocket API frames and
// USD-M REST responses) and maps every error to the one decision the gateway has to take.
//
// Outcomes and what the gateway does with them:
//   ok                -> the request took effect (order accepted, cancelled, query answered)
//   reject            -> refused; the request had no effect (bad parameters, -1022, -2010 other
//                        than a maker refusal, ...)
//   post_only_reject  -> -2010 "Order would immediately match and take." (spot LIMIT_MAKER) or
//                        -5022 (futures GTX): a normal maker refusal, not an error
//   unknown_order     -> -2011 / -2013: no such open order (cancel or status); the user stream
//                        or a query tells whether it filled or was already cancelled
//   clock_skew        -> -1021: resynchronise the server-time offset, then retry once
//   unknown           -> 5xx, -1006, -1007, 409: the request may or may not have executed; resolve
//                        by querying the order, never by resending it
//   retry_after       -> 429: back off until retry_after_ms
//   banned            -> 418: send nothing until retry_after_ms
//   listen_key_invalid-> -1125: make a new listenKey
// The rateLimits array of WebSocket API answers (and, for REST, the X-MBX-USED-WEIGHT-1M and
// X-MBX-ORDER-COUNT-10S headers the transport passes in) fill rate_usage for the limiter.
//
// Decoding uses one simdjson DOM parser allocated at construction for max_answer_bytes, and
// lists (open orders, balances, positions) sized at construction; decode copies the bytes into a
// padded buffer and does not allocate, lock or throw.
// Thread ownership: one decoder per receiving thread; a result stays valid until the next call.
#pragma once

#include "quoter/core/fixed_point.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/exec/binance_order_params.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace quoter::exec {

enum class answer_outcome : std::uint8_t {
    ok,
    reject,
    post_only_reject,
    unknown_order,
    clock_skew,
    unknown,
    retry_after,
    banned,
    listen_key_invalid,
    malformed, ///< Not a Binance answer at all (not JSON, no status): treat as unknown.
};

[[nodiscard]] std::string_view describe(answer_outcome outcome) noexcept;

/// A 429 or 418: the venue refused the request for the request rate.
[[nodiscard]] constexpr bool refused_for_rate(answer_outcome outcome) noexcept {
    return outcome == answer_outcome::retry_after || outcome == answer_outcome::banned;
}

/// Maps an HTTP (or WebSocket API) status and a Binance error code to an outcome. code 0 means
/// no code; msg distinguishes -2010's maker refusal from its other causes.
[[nodiscard]] answer_outcome classify_answer(int status, int code, std::string_view msg) noexcept;

/// Request-rate counters the venue reported; -1 where it reported none.
struct rate_usage {
    std::int64_t weight_1m = -1;  ///< REQUEST_WEIGHT used in the current minute.
    std::int64_t orders_10s = -1; ///< ORDERS placed in the current 10 seconds.
    std::int64_t orders_1m = -1;  ///< ORDERS placed in the current minute (USD-M futures).
    std::int64_t orders_1d = -1;  ///< ORDERS placed in the current day.
};

/// An order as an answer describes it (order.place RESULT, order.cancel, order.status, futures
/// /fapi/v1/order). Prices in ticks and quantities in lots of the symbol.
struct answered_order {
    venue_client_id client_id;      ///< clientOrderId (on a spot cancel: the cancel's own id).
    venue_client_id orig_client_id; ///< origClientOrderId of a spot cancel: the order's id.
    std::uint64_t order_id = 0;
    std::uint32_t symbol = 0; ///< Index into the decoder's symbol table.
    core::side side = core::side::buy;
    venue_order_status status = venue_order_status::unknown;
    core::price price;
    core::qty orig_qty;
    core::qty executed_qty;
    std::int64_t transact_time_ms = 0; ///< transactTime (spot) or updateTime (futures).
};

/// One trade of an order as the venue's trade list tells it (spot myTrades, futures
/// GET /fapi/v1/userTrades): what a fill report needs when no user-data event told it.
struct venue_trade {
    std::int64_t trade_id = 0; ///< id
    std::uint64_t order_id = 0;
    std::uint32_t symbol = 0; ///< Index into the decoder's symbol table.
    core::price price;
    core::qty qty;
    /// Commission in 10^-8 units of commission_asset (futures: negative for a rebate).
    std::int64_t commission_e8 = 0;
    venue_text<16> commission_asset;
    std::int64_t time_ms = 0; ///< The trade's venue time (`time`).
    bool maker = false;       ///< isMaker (spot) / maker (futures).
};

/// One half of an order.cancelReplace (its cancelResult / newOrderResult).
enum class replace_half : std::uint8_t {
    none,          ///< Not a cancel-replace answer, or the venue did not say.
    success,       ///< SUCCESS
    failure,       ///< FAILURE
    not_attempted, ///< NOT_ATTEMPTED: STOP_ON_FAILURE skipped the new order.
};

/// What an order.cancelReplace answer says of each half: the result's halves on success, the
/// error's `data` on -2021 / -2022 (a failed half answers {"code":..,"msg":..} in its place).
/// present is false for any other answer (a whole-request error such as -1021, 429 or 5xx
/// carries no data: the outcome then applies to both halves).
struct replace_answer {
    bool present = false;
    replace_half cancel = replace_half::none;
    replace_half new_order = replace_half::none;
    bool has_cancelled = false;
    answered_order cancelled; ///< cancelResponse of a successful cancel (the order in `orig`).
    int cancel_code = 0;      ///< cancelResponse's code when the cancel failed (-2011 ...).
    int new_order_code = 0;   ///< newOrderResponse's code when the new order failed.
    /// newOrderResponse's error classified as an order.place answer's would be
    /// (post_only_reject for -2010 "would immediately match", ...); ok when it did not fail.
    answer_outcome new_order_outcome = answer_outcome::ok;
};

struct api_answer {
    answer_outcome outcome = answer_outcome::malformed;
    int status = 0;                  ///< HTTP status (REST) or the frame's status (WebSocket API).
    int code = 0;                    ///< Binance error code; 0 when the request succeeded.
    std::uint64_t request_id = 0;    ///< WebSocket API "id" (0 for REST).
    std::int64_t retry_after_ms = 0; ///< Epoch ms until which to wait (429/418); 0 if none.
    rate_usage usage;
    bool has_order = false;
    answered_order order;
    venue_text<96> message; ///< Error message, cut to 96 characters, for the log.
    /// order.cancelReplace: both halves (order then holds newOrderResponse on success).
    replace_answer replace;
};

class answer_decoder {
public:
    static constexpr std::size_t default_max_answer_bytes = 1024 * 1024;
    static constexpr std::size_t max_listed = 1000;

    /// symbols: the gateway's symbol table (index = order_request::symbol); must outlive the
    /// decoder. Allocates the parser and buffer.
    explicit answer_decoder(std::span<const core::symbol_spec> symbols,
                            std::size_t max_answer_bytes = default_max_answer_bytes);
    ~answer_decoder();
    answer_decoder(const answer_decoder&) = delete;
    answer_decoder& operator=(const answer_decoder&) = delete;

    /// One spot WebSocket API answer frame ({"id":..,"status":..,"result"|"error":..}).
    const api_answer& decode_ws(std::string_view frame) noexcept;

    /// The list the last answer carried, if its result was one (empty otherwise): orders of
    /// openOrders.status, openOrders.cancelAll and GET /fapi/v1/openOrders; balances of
    /// account.status and of GET /fapi/v2/account's assets (free_e8 the wallet balance,
    /// locked_e8 the cross wallet balance); positions (with their entry price) of
    /// GET /fapi/v2/account (symbols outside the table and hedge-mode sides are skipped). At
    /// most max_listed entries each; listing_truncated() says when more came. A list of orders
    /// or trades with an entry of a table symbol that cannot be read, or with more entries than
    /// that, makes the answer malformed: no caller takes an incomplete list of open orders as
    /// the venue's whole state.
    [[nodiscard]] std::span<const answered_order> listed_orders() const noexcept;
    [[nodiscard]] std::span<const asset_balance> listed_balances() const noexcept;
    [[nodiscard]] std::span<const position_amount> listed_positions() const noexcept;
    /// Trades of spot myTrades and GET /fapi/v1/userTrades, in the venue's order (ascending
    /// trade id); trades of symbols outside the table are skipped.
    [[nodiscard]] std::span<const venue_trade> listed_trades() const noexcept;
    [[nodiscard]] bool listing_truncated() const noexcept;

    /// One USD-M REST response. headers: the counts of its X-MBX-USED-WEIGHT-1M,
    /// X-MBX-ORDER-COUNT-10S and X-MBX-ORDER-COUNT-1M headers (-1 when absent), which become the
    /// answer's usage; retry_after_s: the Retry-After header in seconds (-1 when absent), turned
    /// into an epoch deadline from now_ms.
    const api_answer& decode_rest(int http_status, std::string_view body, const rate_usage& headers,
                                  std::int64_t retry_after_s, std::int64_t now_ms) noexcept;

    /// Parser and lists; defined in the source (keeps simdjson out of this header).
    struct impl;

private:
    std::unique_ptr<impl> impl_;
    api_answer answer_;
};

} // namespace quoter::exec
