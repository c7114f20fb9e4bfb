#include "quoter/exec/binance_futures_requests.hpp"

#include "exec/binance_params.hpp"

#include <array>

namespace quoter::exec {
namespace {

using number_buffer = std::array<char, 48>;

/// Writes path?query&signature=... into out, the signature covering the query as written.
rest_request write_signed(std::span<char> out, http_method method, std::string_view path,
                          detail::param_list& params, std::int64_t recv_window_ms,
                          std::int64_t timestamp_ms, const hmac_signer& signer) noexcept {
    const detail::integer_text recv_window(recv_window_ms);
    const detail::integer_text timestamp(timestamp_ms);
    if (recv_window_ms > 0) {
        params.add("recvWindow", recv_window.view(), false);
    }
    params.add("timestamp", timestamp.view(), false);
    if (!params.ok()) {
        return {method, {}};
    }
    detail::text_writer target(out);
    target.append(path);
    target.append('?');
    const std::size_t query_start = target.size();
    detail::write_query(target, params);
    if (!target.ok()) {
        return {method, {}};
    }
    const hex_signature signature = signer.sign(target.text(query_start));
    target.append("&signature=");
    target.append(signature.view());
    return {method, target.text()};
}

} // namespace

rest_request futures_request_encoder::place(std::span<char> out, const core::symbol_spec& spec,
                                            const order_request& order, std::string_view client_id,
                                            order_response_type response,
                                            std::int64_t timestamp_ms) const noexcept {
    number_buffer price_text{};
    number_buffer qty_text{};
    detail::param_list params;
    params.add("symbol", spec.name().view());
    params.add("side", side_text(order.side));
    params.add("type", "LIMIT");
    params.add("timeInForce", order.post_only ? std::string_view{"GTX"} : tif_text(order.tif));
    params.add("quantity", spec.format_qty(order.qty, qty_text));
    params.add("price", spec.format_price(order.price, price_text));
    if (order.reduce_only) {
        params.add("reduceOnly", "true");
    }
    params.add("newClientOrderId", client_id);
    params.add("newOrderRespType", response_type_text(response));
    return write_signed(out, http_method::post, "/fapi/v1/order", params, recv_window_ms_,
                        timestamp_ms, *signer_);
}

rest_request futures_request_encoder::cancel(std::span<char> out, std::string_view symbol,
                                             std::string_view orig_client_id,
                                             std::int64_t timestamp_ms) const noexcept {
    detail::param_list params;
    params.add("symbol", symbol);
    params.add("origClientOrderId", orig_client_id);
    return write_signed(out, http_method::del, "/fapi/v1/order", params, recv_window_ms_,
                        timestamp_ms, *signer_);
}

rest_request futures_request_encoder::cancel_all(std::span<char> out, std::string_view symbol,
                                                 std::int64_t timestamp_ms) const noexcept {
    detail::param_list params;
    params.add("symbol", symbol);
    return write_signed(out, http_method::del, "/fapi/v1/allOpenOrders", params, recv_window_ms_,
                        timestamp_ms, *signer_);
}

rest_request futures_request_encoder::order_status(std::span<char> out, std::string_view symbol,
                                                   std::string_view orig_client_id,
                                                   std::int64_t timestamp_ms) const noexcept {
    detail::param_list params;
    params.add("symbol", symbol);
    params.add("origClientOrderId", orig_client_id);
    return write_signed(out, http_method::get, "/fapi/v1/order", params, recv_window_ms_,
                        timestamp_ms, *signer_);
}

rest_request futures_request_encoder::open_orders(std::span<char> out, std::string_view symbol,
                                                  std::int64_t timestamp_ms) const noexcept {
    detail::param_list params;
    params.add_optional("symbol", symbol);
    return write_signed(out, http_method::get, "/fapi/v1/openOrders", params, recv_window_ms_,
                        timestamp_ms, *signer_);
}

rest_request futures_request_encoder::user_trades(std::span<char> out, std::string_view symbol,
                                                  std::uint64_t order_id,
                                                  std::int64_t timestamp_ms) const noexcept {
    const detail::integer_text id(static_cast<std::int64_t>(order_id));
    detail::param_list params;
    params.add("symbol", symbol);
    params.add("orderId", id.view(), false);
    return write_signed(out, http_method::get, "/fapi/v1/userTrades", params, recv_window_ms_,
                        timestamp_ms, *signer_);
}

rest_request futures_request_encoder::account(std::span<char> out,
                                              std::int64_t timestamp_ms) const noexcept {
    detail::param_list params;
    return write_signed(out, http_method::get, "/fapi/v2/account", params, recv_window_ms_,
                        timestamp_ms, *signer_);
}

rest_request futures_request_encoder::position_mode(std::span<char> out,
                                                    std::int64_t timestamp_ms) const noexcept {
    detail::param_list params;
    return write_signed(out, http_method::get, "/fapi/v1/positionSide/dual", params,
                        recv_window_ms_, timestamp_ms, *signer_);
}

rest_request
futures_request_encoder::countdown_cancel_all(std::span<char> out, std::string_view symbol,
                                              std::int64_t countdown_ms,
                                              std::int64_t timestamp_ms) const noexcept {
    const detail::integer_text countdown(countdown_ms);
    detail::param_list params;
    params.add("symbol", symbol);
    params.add("countdownTime", countdown.view(), false);
    return write_signed(out, http_method::post, "/fapi/v1/countdownCancelAll", params,
                        recv_window_ms_, timestamp_ms, *signer_);
}

} // namespace quoter::exec
