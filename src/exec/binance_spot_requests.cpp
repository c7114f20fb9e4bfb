#include "quoter/exec/binance_spot_requests.hpp"

#include "exec/binance_params.hpp"

#include <algorithm>

namespace quoter::exec {
namespace {

/// Room for a formatted price or quantity (core::format_decimal needs at most 41).
using number_buffer = std::array<char, 48>;

} // namespace

/// The parameters every signed request carries, plus the writing of the frame.
struct spot_request_encoder::signed_request {
    detail::param_list params;
    detail::integer_text timestamp;
    detail::integer_text recv_window;
    /// false on a session.logon-authenticated connection: no apiKey, no signature.
    bool sign = true;

    signed_request(const spot_request_encoder& encoder, std::int64_t timestamp_ms) noexcept
        : timestamp(timestamp_ms), recv_window(encoder.recv_window_ms_),
          sign(!encoder.session_auth_) {
        if (sign) {
            params.add("apiKey", {encoder.api_key_.data(), encoder.api_key_size_});
        }
        params.add("timestamp", timestamp.view(), false);
        if (encoder.recv_window_ms_ > 0) {
            params.add("recvWindow", recv_window.view(), false);
        }
    }

    /// Sorts the params, signs them with the HMAC key (unless the session is authenticated)
    /// and writes the frame into out.
    std::string_view write(spot_request_encoder& encoder, std::span<char> out,
                           std::uint64_t request_id, std::string_view method) noexcept {
        if (!sign) {
            if (!params.ok()) {
                return {};
            }
            params.sort();
            return write_frame(out, request_id, method, {});
        }
        const std::string_view payload = sorted_payload(encoder);
        if (payload.empty()) {
            return {};
        }
        const hex_signature signature = encoder.signer_->sign(payload);
        return write_frame(out, request_id, method, signature.view());
    }

    /// Sorts the params and writes the signature payload (`k=v` joined by `&`) into the
    /// encoder's scratch buffer; empty when it does not fit.
    std::string_view sorted_payload(spot_request_encoder& encoder) noexcept {
        if (!params.ok()) {
            return {};
        }
        params.sort();
        detail::text_writer payload(encoder.payload_);
        detail::write_query(payload, params);
        return payload.ok() ? payload.text() : std::string_view{};
    }

    /// The frame of the sorted params, with `signature` last unless it is empty.
    std::string_view write_frame(std::span<char> out, std::uint64_t request_id,
                                 std::string_view method, std::string_view signature) noexcept {
        detail::text_writer frame(out);
        frame.append(R"({"id":)");
        frame.append(detail::integer_text(static_cast<std::int64_t>(request_id)).view());
        frame.append(R"(,"method":")");
        frame.append(method);
        frame.append(R"(","params":{)");
        bool first = true;
        for (const detail::param& item : params.items()) {
            if (!first) {
                frame.append(',');
            }
            first = false;
            frame.append('"');
            frame.append(item.name);
            frame.append(R"(":)");
            if (item.quoted) {
                frame.append('"');
                frame.append(item.value);
                frame.append('"');
            } else {
                frame.append(item.value);
            }
        }
        if (!signature.empty()) {
            frame.append(R"(,"signature":")");
            frame.append(signature);
            frame.append('"');
        }
        frame.append("}}");
        return frame.text();
    }
};

namespace {

/// Adds the parameters of a new limit order (type, timeInForce, price, quantity, side, symbol,
/// newClientOrderId, newOrderRespType) with the given names for the client id.
void add_order(detail::param_list& params, const core::symbol_spec& spec,
               const order_request& order, std::string_view client_id, order_response_type response,
               number_buffer& price_text, number_buffer& qty_text) noexcept {
    params.add("symbol", spec.name().view());
    params.add("side", side_text(order.side));
    if (order.post_only) {
        params.add("type", "LIMIT_MAKER");
    } else {
        params.add("type", "LIMIT");
        params.add("timeInForce", tif_text(order.tif));
    }
    params.add("price", spec.format_price(order.price, price_text));
    params.add("quantity", spec.format_qty(order.qty, qty_text));
    params.add("newClientOrderId", client_id);
    params.add("newOrderRespType", response_type_text(response));
}

} // namespace

spot_request_encoder::spot_request_encoder(std::string_view api_key, const hmac_signer& signer,
                                           std::int64_t recv_window_ms) noexcept
    : signer_(&signer), recv_window_ms_(recv_window_ms) {
    api_key_size_ = std::min(api_key.size(), api_key_.size());
    std::copy_n(api_key.data(), api_key_size_, api_key_.data());
}

std::string_view spot_request_encoder::place(std::span<char> out, std::uint64_t request_id,
                                             const core::symbol_spec& spec,
                                             const order_request& order, std::string_view client_id,
                                             order_response_type response,
                                             std::int64_t timestamp_ms) noexcept {
    signed_request request(*this, timestamp_ms);
    number_buffer price_text{};
    number_buffer qty_text{};
    add_order(request.params, spec, order, client_id, response, price_text, qty_text);
    return request.write(*this, out, request_id, "order.place");
}

std::string_view spot_request_encoder::cancel(std::span<char> out, std::uint64_t request_id,
                                              std::string_view symbol,
                                              std::string_view orig_client_id,
                                              std::string_view cancel_id,
                                              std::int64_t timestamp_ms) noexcept {
    signed_request request(*this, timestamp_ms);
    request.params.add("symbol", symbol);
    request.params.add("origClientOrderId", orig_client_id);
    request.params.add_optional("newClientOrderId", cancel_id);
    return request.write(*this, out, request_id, "order.cancel");
}

std::string_view spot_request_encoder::cancel_replace(
    std::span<char> out, std::uint64_t request_id, const core::symbol_spec& spec,
    std::string_view cancel_orig_client_id, const order_request& order, std::string_view client_id,
    cancel_replace_mode mode, order_response_type response, std::int64_t timestamp_ms) noexcept {
    signed_request request(*this, timestamp_ms);
    number_buffer price_text{};
    number_buffer qty_text{};
    add_order(request.params, spec, order, client_id, response, price_text, qty_text);
    request.params.add("cancelOrigClientOrderId", cancel_orig_client_id);
    request.params.add("cancelReplaceMode", mode == cancel_replace_mode::stop_on_failure
                                                ? "STOP_ON_FAILURE"
                                                : "ALLOW_FAILURE");
    return request.write(*this, out, request_id, "order.cancelReplace");
}

std::string_view spot_request_encoder::cancel_all(std::span<char> out, std::uint64_t request_id,
                                                  std::string_view symbol,
                                                  std::int64_t timestamp_ms) noexcept {
    signed_request request(*this, timestamp_ms);
    request.params.add("symbol", symbol);
    return request.write(*this, out, request_id, "openOrders.cancelAll");
}

std::string_view spot_request_encoder::order_status(std::span<char> out, std::uint64_t request_id,
                                                    std::string_view symbol,
                                                    std::string_view orig_client_id,
                                                    std::int64_t timestamp_ms) noexcept {
    signed_request request(*this, timestamp_ms);
    request.params.add("symbol", symbol);
    request.params.add("origClientOrderId", orig_client_id);
    return request.write(*this, out, request_id, "order.status");
}

std::string_view spot_request_encoder::my_trades(std::span<char> out, std::uint64_t request_id,
                                                 std::string_view symbol, std::uint64_t order_id,
                                                 std::int64_t timestamp_ms) noexcept {
    const detail::integer_text id(static_cast<std::int64_t>(order_id));
    signed_request request(*this, timestamp_ms);
    request.params.add("symbol", symbol);
    request.params.add("orderId", id.view(), false);
    return request.write(*this, out, request_id, "myTrades");
}

std::string_view spot_request_encoder::open_orders_status(std::span<char> out,
                                                          std::uint64_t request_id,
                                                          std::string_view symbol,
                                                          std::int64_t timestamp_ms) noexcept {
    signed_request request(*this, timestamp_ms);
    request.params.add_optional("symbol", symbol);
    return request.write(*this, out, request_id, "openOrders.status");
}

std::string_view spot_request_encoder::account_status(std::span<char> out, std::uint64_t request_id,
                                                      std::int64_t timestamp_ms) noexcept {
    signed_request request(*this, timestamp_ms);
    // Zero balances too: an account holding the base asset and none of the quote asset must
    // still show the quote asset, or the account could not be valued (omitted, it is unknown).
    request.params.add("omitZeroBalances", "false", false);
    return request.write(*this, out, request_id, "account.status");
}

std::string_view spot_request_encoder::session_logon(std::span<char> out, std::uint64_t request_id,
                                                     ed25519_signer& signer,
                                                     std::int64_t timestamp_ms) noexcept {
    // Always signed, with the key in the params, whatever the session's state.
    signed_request request(*this, timestamp_ms);
    if (!request.sign) {
        request.sign = true;
        request.params.add("apiKey", {api_key_.data(), api_key_size_});
    }
    const std::string_view payload = request.sorted_payload(*this);
    if (payload.empty()) {
        return {};
    }
    const base64_signature signature = signer.sign(payload);
    return request.write_frame(out, request_id, "session.logon", signature.view());
}

std::string_view
spot_request_encoder::session_user_data_subscribe(std::span<char> out,
                                                  std::uint64_t request_id) noexcept {
    detail::text_writer frame(out);
    frame.append(R"({"id":)");
    frame.append(detail::integer_text(static_cast<std::int64_t>(request_id)).view());
    frame.append(R"(,"method":"userDataStream.subscribe"})");
    return frame.text();
}

std::string_view spot_request_encoder::user_data_subscribe(std::span<char> out,
                                                           std::uint64_t request_id,
                                                           std::int64_t timestamp_ms) noexcept {
    signed_request request(*this, timestamp_ms);
    return request.write(*this, out, request_id, "userDataStream.subscribe.signature");
}

} // namespace quoter::exec
