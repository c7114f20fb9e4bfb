// binance_futures_requests: USD-M futures REST (/fapi) requests, written and HMAC-signed into a
// caller buffer.
//
// A request is a method and a target ("/fapi/v1/order?symbol=...&signature=..."): every
// parameter travels in the query string and the body stays empty, so the signature covers
// exactly the query string as sent. The API key goes in the X-MBX-APIKEY header, which the
// transport adds. Post-only orders are LIMIT with timeInForce=GTX; reduceOnly=true marks
// flatten orders. Prices and quantities are printed from ticks and lots by the symbol's spec.
//
// Each call returns the request, with an empty target when out is too small or a value holds a
// character outside [A-Za-z0-9.:/_-]. No allocation, no exceptions.
#pragma once

#include "quoter/core/symbol_spec.hpp"
#include "quoter/exec/binance_order_params.hpp"
#include "quoter/exec/binance_signer.hpp"
#include "quoter/exec/order_types.hpp"

#include <cstdint>
#include <span>
#include <string_view>

namespace quoter::exec {

enum class http_method : std::uint8_t { get, post, put, del };

[[nodiscard]] constexpr std::string_view method_text(http_method method) noexcept {
    switch (method) {
    case http_method::get:
        return "GET";
    case http_method::post:
        return "POST";
    case http_method::put:
        return "PUT";
    case http_method::del:
        return "DELETE";
    }
    return "GET";
}

/// One REST request: method and target (path and query). An empty target means encoding failed.
struct rest_request {
    http_method method = http_method::get;
    std::string_view target;

    [[nodiscard]] bool ok() const noexcept { return !target.empty(); }
};

class futures_request_encoder {
public:
    /// signer must outlive the encoder. recv_window_ms: 0 omits recvWindow (venue default 5000).
    futures_request_encoder(const hmac_signer& signer, std::int64_t recv_window_ms) noexcept
        : signer_(&signer), recv_window_ms_(recv_window_ms) {}

    /// POST /fapi/v1/order for a limit order (GTX when post_only; reduceOnly when reduce_only).
    [[nodiscard]] rest_request place(std::span<char> out, const core::symbol_spec& spec,
                                     const order_request& order, std::string_view client_id,
                                     order_response_type response,
                                     std::int64_t timestamp_ms) const noexcept;
    /// DELETE /fapi/v1/order by origClientOrderId.
    [[nodiscard]] rest_request cancel(std::span<char> out, std::string_view symbol,
                                      std::string_view orig_client_id,
                                      std::int64_t timestamp_ms) const noexcept;
    /// DELETE /fapi/v1/allOpenOrders for one symbol.
    [[nodiscard]] rest_request cancel_all(std::span<char> out, std::string_view symbol,
                                          std::int64_t timestamp_ms) const noexcept;
    /// GET /fapi/v1/order by origClientOrderId: how an unknown outcome is resolved.
    [[nodiscard]] rest_request order_status(std::span<char> out, std::string_view symbol,
                                            std::string_view orig_client_id,
                                            std::int64_t timestamp_ms) const noexcept;
    /// GET /fapi/v1/openOrders; an empty symbol asks for every symbol.
    [[nodiscard]] rest_request open_orders(std::span<char> out, std::string_view symbol,
                                           std::int64_t timestamp_ms) const noexcept;
    /// GET /fapi/v1/userTrades of one order (by the venue's orderId; weight 5): its trades
    /// with their ids, times and commissions.
    [[nodiscard]] rest_request user_trades(std::span<char> out, std::string_view symbol,
                                           std::uint64_t order_id,
                                           std::int64_t timestamp_ms) const noexcept;
    /// GET /fapi/v2/account: every asset's wallet and every symbol's position (with its entry
    /// price), each with the venue time of its last change, read from one state of the account.
    [[nodiscard]] rest_request account(std::span<char> out,
                                       std::int64_t timestamp_ms) const noexcept;
    /// GET /fapi/v1/positionSide/dual (weight 30): whether the account holds one position a
    /// symbol (one-way mode) or a long and a short one (hedge mode), for every symbol.
    [[nodiscard]] rest_request position_mode(std::span<char> out,
                                             std::int64_t timestamp_ms) const noexcept;
    /// POST /fapi/v1/countdownCancelAll: the venue cancels every order of symbol unless this is
    /// sent again within countdown_ms (0 disarms).
    [[nodiscard]] rest_request countdown_cancel_all(std::span<char> out, std::string_view symbol,
                                                    std::int64_t countdown_ms,
                                                    std::int64_t timestamp_ms) const noexcept;

    /// The listenKey endpoints take only the API key header: POST creates (or returns the
    /// active) key, PUT keeps it alive for 60 more minutes, DELETE closes it.
    [[nodiscard]] static rest_request listen_key(http_method method) noexcept {
        return {method, "/fapi/v1/listenKey"};
    }

private:
    const hmac_signer* signer_;
    std::int64_t recv_window_ms_;
};

} // namespace quoter::exec
