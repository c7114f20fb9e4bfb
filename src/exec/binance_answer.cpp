#include "quoter/exec/binance_answer.hpp"

#include "exec/binance_json.hpp"

#include <charconv>
#include <system_error>

namespace quoter::exec {

std::string_view describe(answer_outcome outcome) noexcept {
    switch (outcome) {
    case answer_outcome::ok:
        return "ok";
    case answer_outcome::reject:
        return "reject";
    case answer_outcome::post_only_reject:
        return "post_only_reject";
    case answer_outcome::unknown_order:
        return "unknown_order";
    case answer_outcome::clock_skew:
        return "clock_skew";
    case answer_outcome::unknown:
        return "unknown";
    case answer_outcome::retry_after:
        return "retry_after";
    case answer_outcome::banned:
        return "banned";
    case answer_outcome::listen_key_invalid:
        return "listen_key_invalid";
    case answer_outcome::malformed:
        return "malformed";
    }
    return "unknown";
}

answer_outcome classify_answer(int status, int code, std::string_view msg) noexcept {
    // The rate-limit statuses decide first: whatever the code, sending more makes it worse.
    if (status == 429) {
        return answer_outcome::retry_after;
    }
    if (status == 418) {
        return answer_outcome::banned;
    }
    switch (code) {
    case -1021:
        return answer_outcome::clock_skew;
    case -1006: // unexpected response from the message bus: execution status unknown
    case -1007: // timeout waiting for the backend: execution status unknown
        return answer_outcome::unknown;
    case -1125:
        return answer_outcome::listen_key_invalid;
    case -5022:
        return answer_outcome::post_only_reject; // futures GTX would take
    case -2011:
    case -2013:
        return answer_outcome::unknown_order;
    case -2010:
        // NEW_ORDER_REJECTED has many causes; only this one is a maker refusal.
        return msg.find("immediately match") != std::string_view::npos
                   ? answer_outcome::post_only_reject
                   : answer_outcome::reject;
    default:
        break;
    }
    if (status <= 0 || status >= 500 || status == 409 || status == 408) {
        // No answer, a server error, a cancel-replace that partly happened, or a timeout waiting
        // for the backend (USD-M futures answers 408): the venue's state is unknown until
        // queried.
        return answer_outcome::unknown;
    }
    if (status >= 200 && status < 300 && code == 0) {
        return answer_outcome::ok;
    }
    return answer_outcome::reject;
}

struct answer_decoder::impl {
    impl(std::span<const core::symbol_spec> table, std::size_t max_bytes)
        : symbols(table), reader(max_bytes) {
        orders.reserve(max_listed);
        balances.reserve(max_listed);
        positions.reserve(max_listed);
        trades.reserve(max_listed);
    }

    void clear_lists() noexcept {
        orders.clear();
        balances.clear();
        positions.clear();
        trades.clear();
        truncated = false;
    }

    /// Appends within the capacity reserved at construction, so it never allocates.
    template <class T> void add(std::vector<T>& list, const T& item) noexcept {
        if (list.size() == max_listed) {
            truncated = true;
            return;
        }
        list.push_back(item);
    }

    std::span<const core::symbol_spec> symbols;
    detail::json_reader reader;
    std::vector<answered_order> orders;
    std::vector<asset_balance> balances;
    std::vector<position_amount> positions;
    std::vector<venue_trade> trades;
    bool truncated = false;
};

namespace {

void read_rate_limits(detail::dom::array limits, rate_usage& usage) noexcept {
    for (const detail::dom::element item : limits) {
        detail::dom::object object;
        if (item.get(object) != simdjson::SUCCESS) {
            continue;
        }
        detail::field_reader limit(object);
        const std::string_view type = limit.text("rateLimitType");
        const std::string_view interval = limit.text("interval");
        const std::int64_t interval_num = limit.integer("intervalNum");
        const std::int64_t count = limit.integer("count");
        if (!limit.ok) {
            continue;
        }
        if (type == "REQUEST_WEIGHT" && interval == "MINUTE" && interval_num == 1) {
            usage.weight_1m = count;
        } else if (type == "ORDERS" && interval == "SECOND" && interval_num == 10) {
            usage.orders_10s = count;
        } else if (type == "ORDERS" && interval == "DAY" && interval_num == 1) {
            usage.orders_1d = count;
        }
    }
}

/// Reads an order object (spot result or futures body). Returns false when it is not one.
bool read_order(detail::dom::object object, std::span<const core::symbol_spec> symbols,
                answered_order& order) noexcept {
    detail::field_reader fields(object);
    if (!fields.has("orderId")) {
        return false;
    }
    order = answered_order{};
    order.order_id = static_cast<std::uint64_t>(fields.integer("orderId"));
    order.symbol = detail::find_symbol(symbols, fields.text("symbol"));
    order.client_id.assign(fields.text("clientOrderId"));
    order.orig_client_id.assign(fields.optional_text("origClientOrderId"));
    if (!fields.ok || order.symbol == symbols.size()) {
        return false;
    }
    const core::symbol_spec& spec = symbols[order.symbol];
    // ACK answers stop here; RESULT answers, cancels and queries carry the order's state.
    order.transact_time_ms = fields.has("transactTime") ? fields.integer("transactTime")
                                                        : fields.optional_integer("updateTime", 0);
    if (fields.has("status")) {
        order.status = parse_venue_order_status(fields.text("status"));
        (void)detail::parse_side(fields.text("side"), order.side);
        order.price = fields.price("price", spec);
        order.orig_qty = fields.qty("origQty", spec);
        order.executed_qty = fields.qty("executedQty", spec);
    }
    return fields.ok;
}

replace_half parse_replace_half(std::string_view text) noexcept {
    if (text == "SUCCESS") {
        return replace_half::success;
    }
    if (text == "FAILURE") {
        return replace_half::failure;
    }
    if (text == "NOT_ATTEMPTED") {
        return replace_half::not_attempted;
    }
    return replace_half::none;
}

/// The halves of an order.cancelReplace result or error `data`; false when it is not one.
bool read_replace(detail::dom::object object, std::span<const core::symbol_spec> symbols,
                  replace_answer& out) noexcept {
    std::string_view cancel_result;
    std::string_view new_result;
    if (object.at_key("cancelResult").get(cancel_result) != simdjson::SUCCESS ||
        object.at_key("newOrderResult").get(new_result) != simdjson::SUCCESS) {
        return false;
    }
    out.present = true;
    out.cancel = parse_replace_half(cancel_result);
    out.new_order = parse_replace_half(new_result);
    detail::dom::object half;
    if (object.at_key("cancelResponse").get(half) == simdjson::SUCCESS) {
        out.has_cancelled = read_order(half, symbols, out.cancelled);
        if (!out.has_cancelled) {
            detail::field_reader error(half);
            out.cancel_code = static_cast<int>(error.optional_integer("code", 0));
        }
    }
    // null when not attempted; an order when placed; {"code":..,"msg":..} when refused.
    if (object.at_key("newOrderResponse").get(half) == simdjson::SUCCESS) {
        detail::field_reader error(half);
        if (error.has("code")) {
            out.new_order_code = static_cast<int>(error.optional_integer("code", 0));
            out.new_order_outcome =
                classify_answer(400, out.new_order_code, error.optional_text("msg"));
        }
    }
    return true;
}

/// One element of spot myTrades or GET /fapi/v1/userTrades; false when it is not a trade of a
/// symbol in the table.
bool read_trade(detail::dom::object object, std::span<const core::symbol_spec> symbols,
                venue_trade& trade) noexcept {
    detail::field_reader fields(object);
    if (!fields.has("id") || !fields.has("orderId") || !fields.has("qty")) {
        return false;
    }
    trade.symbol = detail::find_symbol(symbols, fields.text("symbol"));
    if (!fields.ok || trade.symbol == symbols.size()) {
        return false;
    }
    const core::symbol_spec& spec = symbols[trade.symbol];
    trade.trade_id = fields.integer("id");
    trade.order_id = static_cast<std::uint64_t>(fields.integer("orderId"));
    trade.price = fields.price("price", spec);
    trade.qty = fields.qty("qty", spec);
    trade.commission_e8 = fields.has("commission") ? fields.e8("commission") : 0;
    trade.commission_asset.assign(fields.optional_text("commissionAsset"));
    trade.time_ms = fields.integer("time");
    trade.maker = fields.has("isMaker") ? fields.boolean("isMaker") : fields.boolean("maker");
    return fields.ok;
}

/// Reads the elements of a list result: orders of openOrders.status, openOrders.cancelAll and
/// GET /fapi/v1/openOrders, or trades of myTrades and GET /fapi/v1/userTrades. Entries of
/// symbols outside the table are skipped. Returns false when the list cannot be taken whole: an
/// entry of a table symbol (or of no readable symbol) that is neither an order nor a trade as
/// read here (a price off the symbol's grid, a field missing), or more entries than are kept.
/// What reads such a list must not take it as complete: an order left out of a list of open
/// orders would read as gone, and a kill as confirmed.
[[nodiscard]] bool read_list(detail::dom::array list, answer_decoder::impl& state) noexcept {
    bool complete = true;
    for (const detail::dom::element item : list) {
        detail::dom::object object;
        if (item.get(object) != simdjson::SUCCESS) {
            complete = false;
            continue;
        }
        answered_order order;
        if (read_order(object, state.symbols, order)) {
            state.add(state.orders, order);
            continue;
        }
        venue_trade trade;
        if (read_trade(object, state.symbols, trade)) {
            state.add(state.trades, trade);
            continue;
        }
        detail::field_reader fields(object);
        const std::string_view symbol = fields.text("symbol");
        if (!fields.ok || detail::find_symbol(state.symbols, symbol) != state.symbols.size()) {
            complete = false;
        }
    }
    return complete && !state.truncated;
}

/// entryPrice of a futures position, to the nearest tick (Binance prints it with more decimals
/// than the tick); unknown when absent or unreadable.
void read_entry_price(detail::field_reader& fields, const core::symbol_spec& spec,
                      position_amount& position) noexcept {
    const std::string_view text = fields.optional_text("entryPrice");
    double value = 0.0;
    if (text.empty() ||
        std::from_chars(text.data(), text.data() + text.size(), value).ec != std::errc{}) {
        return;
    }
    position.entry_price = spec.round_nearest(value);
    position.entry_price_known = true;
}

/// GET /fapi/v2/account: the wallet of every asset ("assets": walletBalance, crossWalletBalance,
/// updateTime) and the position of every symbol ("positions": positionAmt, entryPrice,
/// updateTime), all of one state of the account. Positions of symbols outside the table and of
/// a hedge-mode side (LONG, SHORT) are skipped.
void read_futures_account(detail::dom::array assets, detail::dom::array positions,
                          answer_decoder::impl& state) noexcept {
    for (const detail::dom::element item : assets) {
        detail::dom::object object;
        if (item.get(object) != simdjson::SUCCESS) {
            continue;
        }
        detail::field_reader fields(object);
        asset_balance balance;
        balance.asset.assign(fields.text("asset"));
        balance.free_e8 = fields.e8("walletBalance");
        balance.locked_e8 = fields.has("crossWalletBalance") ? fields.e8("crossWalletBalance") : 0;
        balance.update_time_ms = fields.optional_integer("updateTime", 0);
        if (fields.ok) {
            state.add(state.balances, balance);
        }
    }
    for (const detail::dom::element item : positions) {
        detail::dom::object object;
        if (item.get(object) != simdjson::SUCCESS) {
            continue;
        }
        detail::field_reader fields(object);
        const std::string_view side = fields.optional_text("positionSide");
        const std::uint32_t symbol = detail::find_symbol(state.symbols, fields.text("symbol"));
        if (!fields.ok || symbol == state.symbols.size() || (!side.empty() && side != "BOTH")) {
            continue;
        }
        position_amount position;
        position.symbol = symbol;
        position.amount = fields.signed_qty("positionAmt", state.symbols[symbol]);
        position.update_time_ms = fields.optional_integer("updateTime", 0);
        read_entry_price(fields, state.symbols[symbol], position);
        if (fields.ok) {
            state.add(state.positions, position);
        }
    }
}

/// account.status balances; update_time_ms: the account's updateTime, which every balance is
/// as of.
void read_balances(detail::dom::array list, std::int64_t update_time_ms,
                   answer_decoder::impl& state) noexcept {
    for (const detail::dom::element item : list) {
        detail::dom::object object;
        if (item.get(object) != simdjson::SUCCESS) {
            continue;
        }
        detail::field_reader fields(object);
        asset_balance balance;
        balance.asset.assign(fields.text("asset"));
        balance.free_e8 = fields.e8("free");
        balance.locked_e8 = fields.e8("locked");
        balance.update_time_ms = update_time_ms;
        if (fields.ok) {
            state.add(state.balances, balance);
        }
    }
}

} // namespace

std::span<const answered_order> answer_decoder::listed_orders() const noexcept {
    return impl_->orders;
}
std::span<const asset_balance> answer_decoder::listed_balances() const noexcept {
    return impl_->balances;
}
std::span<const position_amount> answer_decoder::listed_positions() const noexcept {
    return impl_->positions;
}
std::span<const venue_trade> answer_decoder::listed_trades() const noexcept {
    return impl_->trades;
}
bool answer_decoder::listing_truncated() const noexcept {
    return impl_->truncated;
}

answer_decoder::answer_decoder(std::span<const core::symbol_spec> symbols,
                               std::size_t max_answer_bytes)
    : impl_(std::make_unique<impl>(symbols, max_answer_bytes)) {}

answer_decoder::~answer_decoder() = default;

const api_answer& answer_decoder::decode_ws(std::string_view frame) noexcept {
    answer_ = api_answer{};
    impl_->clear_lists();
    detail::dom::object root;
    if (impl_->reader.parse(frame).get(root) != simdjson::SUCCESS) {
        return answer_;
    }
    detail::field_reader fields(root);
    answer_.status = static_cast<int>(fields.integer("status"));
    if (!fields.ok) {
        return answer_; // malformed: not an answer
    }
    std::uint64_t id = 0;
    if (root.at_key("id").get(id) == simdjson::SUCCESS) {
        answer_.request_id = id;
    }
    detail::dom::array limits;
    if (root.at_key("rateLimits").get(limits) == simdjson::SUCCESS) {
        read_rate_limits(limits, answer_.usage);
    }
    detail::dom::object error;
    if (root.at_key("error").get(error) == simdjson::SUCCESS) {
        detail::field_reader error_fields(error);
        answer_.code = static_cast<int>(error_fields.optional_integer("code", 0));
        answer_.message.assign(error_fields.optional_text("msg"));
        detail::dom::object data;
        if (error.at_key("data").get(data) == simdjson::SUCCESS) {
            detail::field_reader data_fields(data);
            answer_.retry_after_ms = data_fields.optional_integer("retryAfter", 0);
            (void)read_replace(data, impl_->symbols, answer_.replace);
        }
    }
    answer_.outcome = classify_answer(answer_.status, answer_.code, answer_.message.view());
    detail::dom::object result;
    detail::dom::array list;
    if (answer_.outcome == answer_outcome::ok &&
        root.at_key("result").get(list) == simdjson::SUCCESS) {
        if (!read_list(list, *impl_)) {
            answer_.outcome = answer_outcome::malformed;
        }
    } else if (answer_.outcome == answer_outcome::ok &&
               root.at_key("result").get(result) == simdjson::SUCCESS) {
        detail::dom::array balances;
        if (result.at_key("balances").get(balances) == simdjson::SUCCESS) {
            std::int64_t update_time_ms = 0;
            if (result.at_key("updateTime").get(update_time_ms) != simdjson::SUCCESS) {
                update_time_ms = 0;
            }
            read_balances(balances, update_time_ms, *impl_);
        }
        // order.cancelReplace answers with both halves; the new order is what is tracked next.
        (void)read_replace(result, impl_->symbols, answer_.replace);
        detail::dom::object new_order;
        if (result.at_key("newOrderResponse").get(new_order) == simdjson::SUCCESS) {
            result = new_order;
        }
        answer_.has_order = read_order(result, impl_->symbols, answer_.order);
    }
    return answer_;
}

const api_answer& answer_decoder::decode_rest(int http_status, std::string_view body,
                                              const rate_usage& headers, std::int64_t retry_after_s,
                                              std::int64_t now_ms) noexcept {
    answer_ = api_answer{};
    impl_->clear_lists();
    answer_.status = http_status;
    answer_.usage = headers;
    if (retry_after_s >= 0) {
        answer_.retry_after_ms = now_ms + retry_after_s * 1000;
    }
    detail::dom::element root;
    const bool parsed = impl_->reader.parse(body).get(root) == simdjson::SUCCESS;
    detail::dom::object object;
    if (parsed && root.get(object) == simdjson::SUCCESS) {
        detail::field_reader fields(object);
        // Errors are {"code":-5022,"msg":...}; a few successes answer {"code":200,"msg":...}.
        const std::int64_t code = fields.optional_integer("code", 0);
        answer_.code = code < 0 ? static_cast<int>(code) : 0;
        answer_.message.assign(fields.optional_text("msg"));
    }
    answer_.outcome = classify_answer(http_status, answer_.code, answer_.message.view());
    if (answer_.outcome == answer_outcome::ok) {
        if (!parsed) {
            answer_.outcome = answer_outcome::malformed;
        } else if (root.get(object) == simdjson::SUCCESS) {
            detail::dom::array assets;
            detail::dom::array positions;
            if (object.at_key("assets").get(assets) == simdjson::SUCCESS &&
                object.at_key("positions").get(positions) == simdjson::SUCCESS) {
                read_futures_account(assets, positions, *impl_);
            } else {
                answer_.has_order = read_order(object, impl_->symbols, answer_.order);
            }
        } else if (detail::dom::array list; root.get(list) == simdjson::SUCCESS) {
            if (!read_list(list, *impl_)) {
                answer_.outcome = answer_outcome::malformed;
            }
        }
    }
    return answer_;
}

} // namespace quoter::exec
