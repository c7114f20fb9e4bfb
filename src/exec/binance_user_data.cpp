#include "quoter/exec/binance_user_data.hpp"

#include "exec/binance_json.hpp"

#include <charconv>
#include <system_error>

namespace quoter::exec {
namespace {

execution_type parse_execution_type(std::string_view text) noexcept {
    if (text == "NEW") {
        return execution_type::new_order;
    }
    if (text == "TRADE") {
        return execution_type::trade;
    }
    if (text == "CANCELED") {
        return execution_type::canceled;
    }
    if (text == "EXPIRED") {
        return execution_type::expired;
    }
    if (text == "REJECTED") {
        return execution_type::rejected;
    }
    if (text == "REPLACED") {
        return execution_type::replaced;
    }
    if (text == "TRADE_PREVENTION") {
        return execution_type::trade_prevention;
    }
    if (text == "AMENDMENT") {
        return execution_type::amendment;
    }
    if (text == "CALCULATED") {
        return execution_type::calculated;
    }
    return execution_type::unknown;
}

/// Fields executionReport and ORDER_TRADE_UPDATE's "o" share (same letters, same meaning).
bool read_common_order(detail::field_reader& fields, std::span<const core::symbol_spec> symbols,
                       order_update& order) noexcept {
    order.symbol = detail::find_symbol(symbols, fields.text("s"));
    if (!fields.ok || order.symbol == symbols.size()) {
        return false;
    }
    const core::symbol_spec& spec = symbols[order.symbol];
    if (!detail::parse_side(fields.text("S"), order.side)) {
        return false;
    }
    order.execution = parse_execution_type(fields.text("x"));
    order.status = parse_venue_order_status(fields.text("X"));
    order.order_id = static_cast<std::uint64_t>(fields.integer("i"));
    order.order_price = fields.price("p", spec);
    order.order_qty = fields.qty("q", spec);
    order.last_price = fields.price("L", spec);
    order.last_qty = fields.qty("l", spec);
    order.cum_qty = fields.qty("z", spec);
    order.trade_id = fields.integer("t");
    order.maker = fields.boolean("m");
    order.transaction_time_ms = fields.integer("T");
    // Commission: spot always sends "n" (asset "N" null before a trade); futures only on trades.
    if (fields.has("n")) {
        order.commission_e8 = fields.e8("n");
        order.commission_asset.assign(fields.optional_text("N"));
    }
    return fields.ok;
}

} // namespace

struct user_data_decoder::impl {
    impl(std::span<const core::symbol_spec> table, std::size_t max_bytes)
        : symbols(table), reader(max_bytes) {}

    bool execution_report(detail::dom::object event, user_event& out) const noexcept {
        detail::field_reader fields(event);
        order_update& order = out.order;
        order.event_time_ms = fields.integer("E");
        // On a cancel, `c` is the cancel request's id and `C` the cancelled order's own id.
        const std::string_view client = fields.text("c");
        const std::string_view original = fields.optional_text("C");
        if (original.empty()) {
            order.client_id.assign(client);
        } else {
            order.client_id.assign(original);
            order.cancel_id.assign(client);
        }
        order.reject_reason.assign(fields.optional_text("r"));
        if (!read_common_order(fields, symbols, order)) {
            return false;
        }
        out.kind = user_event_kind::order_update;
        return true;
    }

    bool order_trade_update(detail::dom::object event, user_event& out) const noexcept {
        detail::field_reader fields(event);
        out.order.event_time_ms = fields.integer("E");
        detail::field_reader order_fields(fields.object("o"));
        if (!fields.ok) {
            return false;
        }
        out.order.client_id.assign(order_fields.text("c"));
        out.order.reduce_only = order_fields.has("R") && order_fields.boolean("R");
        if (!read_common_order(order_fields, symbols, out.order)) {
            return false;
        }
        out.kind = user_event_kind::order_update;
        return true;
    }

    static void add_balance(account_change& account, const asset_balance& balance) noexcept {
        if (account.balance_count == account_change::max_balances) {
            account.truncated = true;
            return;
        }
        account.balances[account.balance_count++] = balance;
    }

    /// Balances of an account event: {"a": asset, <free_key>: amount, <locked_key>: amount}
    /// (spot: free and locked; futures: wallet balance and cross wallet balance).
    static bool read_balances(detail::dom::array balances, std::string_view free_key,
                              std::string_view locked_key, account_change& account) noexcept {
        for (const detail::dom::element item : balances) {
            detail::dom::object object;
            if (item.get(object) != simdjson::SUCCESS) {
                return false;
            }
            detail::field_reader balance_fields(object);
            asset_balance balance;
            balance.asset.assign(balance_fields.text("a"));
            balance.free_e8 = balance_fields.e8(free_key);
            balance.locked_e8 = balance_fields.e8(locked_key);
            if (!balance_fields.ok) {
                return false;
            }
            add_balance(account, balance);
        }
        return true;
    }

    bool account_position(detail::dom::object event, user_event& out) const noexcept {
        detail::field_reader fields(event);
        out.account.event_time_ms = fields.integer("E");
        const detail::dom::array balances = fields.array("B");
        if (!fields.ok) {
            return false;
        }
        if (!read_balances(balances, "f", "l", out.account)) {
            return false;
        }
        out.kind = user_event_kind::account_position;
        return true;
    }

    bool account_update(detail::dom::object event, user_event& out) const noexcept {
        detail::field_reader fields(event);
        out.account.event_time_ms = fields.integer("E");
        out.account.transaction_time_ms = fields.optional_integer("T", 0);
        detail::field_reader update(fields.object("a"));
        if (!fields.ok) {
            return false;
        }
        out.account.reason.assign(update.optional_text("m"));
        const detail::dom::array balances = update.array("B");
        const detail::dom::array positions = update.array("P");
        if (!update.ok) {
            return false;
        }
        if (!read_balances(balances, "wb", "cw", out.account)) {
            return false;
        }
        for (std::size_t i = 0; i < out.account.balance_count; ++i) {
            out.account.balances[i].update_time_ms = out.account.transaction_time_ms;
        }
        for (const detail::dom::element item : positions) {
            detail::dom::object object;
            if (item.get(object) != simdjson::SUCCESS) {
                return false;
            }
            detail::field_reader position_fields(object);
            const std::uint32_t symbol = detail::find_symbol(symbols, position_fields.text("s"));
            if (!position_fields.ok) {
                return false;
            }
            if (symbol == symbols.size()) {
                continue; // a symbol this engine does not trade
            }
            const core::qty amount = position_fields.signed_qty("pa", symbols[symbol]);
            if (!position_fields.ok) {
                return false;
            }
            if (out.account.position_count == account_change::max_positions) {
                out.account.truncated = true;
                continue;
            }
            // The entry price goes with the amount: a new amount beside the entry price of an
            // older reading would value the position at the wrong cost.
            const std::string_view entry_text = position_fields.optional_text("ep");
            double entry = 0.0;
            const bool entry_known =
                !entry_text.empty() &&
                std::from_chars(entry_text.data(), entry_text.data() + entry_text.size(), entry)
                        .ec == std::errc{};
            out.account.positions[out.account.position_count++] = {
                .symbol = symbol,
                .amount = amount,
                .update_time_ms = out.account.transaction_time_ms,
                .entry_price = entry_known ? symbols[symbol].round_nearest(entry) : core::price{},
                .entry_price_known = entry_known};
        }
        out.kind = user_event_kind::account_update;
        return true;
    }

    std::span<const core::symbol_spec> symbols;
    detail::json_reader reader;
};

user_data_decoder::user_data_decoder(std::span<const core::symbol_spec> symbols,
                                     std::size_t max_event_bytes)
    : impl_(std::make_unique<impl>(symbols, max_event_bytes)) {}

user_data_decoder::~user_data_decoder() = default;

const user_event& user_data_decoder::decode(std::string_view message) noexcept {
    event_ = user_event{};
    detail::dom::object root;
    bool ok = impl_->reader.parse(message).get(root) == simdjson::SUCCESS;
    // WebSocket API subscriptions wrap the event in "event", combined streams in "data".
    detail::dom::object event = root;
    if (ok) {
        detail::dom::object inner;
        if (root.at_key("event").get(inner) == simdjson::SUCCESS ||
            root.at_key("data").get(inner) == simdjson::SUCCESS) {
            event = inner;
        }
    }
    std::string_view type;
    ok = ok && event.at_key("e").get(type) == simdjson::SUCCESS;
    if (ok) {
        if (type == "executionReport") {
            ok = impl_->execution_report(event, event_);
        } else if (type == "ORDER_TRADE_UPDATE") {
            ok = impl_->order_trade_update(event, event_);
        } else if (type == "outboundAccountPosition") {
            ok = impl_->account_position(event, event_);
        } else if (type == "ACCOUNT_UPDATE") {
            ok = impl_->account_update(event, event_);
        } else if (type == "listenKeyExpired") {
            event_.kind = user_event_kind::listen_key_expired;
        } else if (type == "eventStreamTerminated") {
            event_.kind = user_event_kind::stream_terminated;
        } else {
            event_.kind = user_event_kind::other;
        }
    }
    if (!ok) {
        event_ = user_event{};
        event_.kind = user_event_kind::malformed;
        ++malformed_;
    }
    return event_;
}

} // namespace quoter::exec
