// binance_spot_requests: spot WebSocket API (/ws-api/v3) requests, written and HMAC-signed into
// a caller buffer.
//
// Every request is one JSON text frame {"id":N,"method":"...","params":{...}} whose params are
// written sorted by name, so that the signature payload (every param but `signature`, sorted,
// `k=v` joined by `&`) is produced in the same pass. Prices and quantities are printed from
// ticks and lots by the symbol's spec, never through double. Post-only orders are LIMIT_MAKER
// (no timeInForce); other limit orders are LIMIT with their time in force.
//
// With session authentication (an Ed25519 key logged on with session.logon) requests carry
// neither apiKey nor signature; the logon itself is signed with the Ed25519 key.
//
// Each call returns the request text, or an empty view when out is too small or a value holds a
// character outside [A-Za-z0-9.:/_-] (nothing needs escaping, so the signed text is the sent
// text). No allocation, no exceptions.
//
// Thread ownership: one encoder per sending thread (it keeps a scratch buffer for the payload).
#pragma once

#include "quoter/core/symbol_spec.hpp"
#include "quoter/exec/binance_order_params.hpp"
#include "quoter/exec/binance_signer.hpp"
#include "quoter/exec/order_types.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace quoter::exec {

/// order.cancelReplace's cancelReplaceMode.
enum class cancel_replace_mode : std::uint8_t {
    stop_on_failure, ///< No new order when the cancel fails.
    allow_failure,   ///< The new order is placed even when the cancel fails.
};

class spot_request_encoder {
public:
    static constexpr std::size_t max_api_key = 128;

    /// signer must outlive the encoder. recv_window_ms: 0 omits recvWindow (venue default 5000).
    spot_request_encoder(std::string_view api_key, const hmac_signer& signer,
                         std::int64_t recv_window_ms) noexcept;

    /// order.place for a limit order (LIMIT_MAKER when post_only). client_id becomes
    /// newClientOrderId.
    [[nodiscard]] std::string_view place(std::span<char> out, std::uint64_t request_id,
                                         const core::symbol_spec& spec, const order_request& order,
                                         std::string_view client_id, order_response_type response,
                                         std::int64_t timestamp_ms) noexcept;

    /// order.cancel by origClientOrderId. cancel_id (may be empty) names the cancel itself: the
    /// executionReport of the cancel then carries it in `c` and the order's id in `C`.
    [[nodiscard]] std::string_view cancel(std::span<char> out, std::uint64_t request_id,
                                          std::string_view symbol, std::string_view orig_client_id,
                                          std::string_view cancel_id,
                                          std::int64_t timestamp_ms) noexcept;

    /// order.cancelReplace: cancels cancel_orig_client_id and places order as client_id.
    [[nodiscard]] std::string_view
    cancel_replace(std::span<char> out, std::uint64_t request_id, const core::symbol_spec& spec,
                   std::string_view cancel_orig_client_id, const order_request& order,
                   std::string_view client_id, cancel_replace_mode mode,
                   order_response_type response, std::int64_t timestamp_ms) noexcept;

    /// openOrders.cancelAll for one symbol.
    [[nodiscard]] std::string_view cancel_all(std::span<char> out, std::uint64_t request_id,
                                              std::string_view symbol,
                                              std::int64_t timestamp_ms) noexcept;

    /// order.status by origClientOrderId: how an unknown outcome is resolved.
    [[nodiscard]] std::string_view order_status(std::span<char> out, std::uint64_t request_id,
                                                std::string_view symbol,
                                                std::string_view orig_client_id,
                                                std::int64_t timestamp_ms) noexcept;

    /// myTrades of one order (by the venue's orderId; weight 5): its trades with their ids,
    /// times and commissions.
    [[nodiscard]] std::string_view my_trades(std::span<char> out, std::uint64_t request_id,
                                             std::string_view symbol, std::uint64_t order_id,
                                             std::int64_t timestamp_ms) noexcept;

    /// openOrders.status; an empty symbol asks for every symbol (weight 80 instead of 6).
    [[nodiscard]] std::string_view open_orders_status(std::span<char> out, std::uint64_t request_id,
                                                      std::string_view symbol,
                                                      std::int64_t timestamp_ms) noexcept;

    /// account.status with omitZeroBalances=true (balances for reconciliation).
    [[nodiscard]] std::string_view account_status(std::span<char> out, std::uint64_t request_id,
                                                  std::int64_t timestamp_ms) noexcept;

    /// Session authentication (Ed25519 keys): true once the connection's session.logon
    /// succeeded (and for every connection that will log on before anything else is sent):
    /// requests then go without apiKey and signature, timestamp and recvWindow only.
    void set_session_auth(bool on) noexcept { session_auth_ = on; }
    [[nodiscard]] bool session_auth() const noexcept { return session_auth_; }

    /// session.logon: apiKey, timestamp (and recvWindow), sorted, signed with the Ed25519 key
    /// (base64). Signed whatever set_session_auth says.
    [[nodiscard]] std::string_view session_logon(std::span<char> out, std::uint64_t request_id,
                                                 ed25519_signer& signer,
                                                 std::int64_t timestamp_ms) noexcept;

    /// userDataStream.subscribe (no params): the user-data stream of a logged-on session.
    [[nodiscard]] std::string_view session_user_data_subscribe(std::span<char> out,
                                                               std::uint64_t request_id) noexcept;

    /// userDataStream.subscribe.signature: the user-data stream on this connection for an HMAC
    /// key (Ed25519 keys may use session.logon then userDataStream.subscribe instead).
    [[nodiscard]] std::string_view user_data_subscribe(std::span<char> out,
                                                       std::uint64_t request_id,
                                                       std::int64_t timestamp_ms) noexcept;

private:
    struct signed_request;

    std::array<char, max_api_key> api_key_{};
    std::size_t api_key_size_ = 0;
    const hmac_signer* signer_;
    std::int64_t recv_window_ms_;
    bool session_auth_ = false;
    std::array<char, max_request_bytes> payload_{};
};

} // namespace quoter::exec
