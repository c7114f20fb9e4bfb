// order_api's request handlers (the contract is in order_api.hpp). One piece, about 700 lines:
// every endpoint parses, authenticates and answers through the same request type, order table
// and balances, and the venue's Binance behaviour is checked against it in one place.
#include "order_api.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace quoter::venue {
namespace {

namespace dom = simdjson::dom;

std::string error_frame(const std::string& id, int status, int code, std::string_view msg) {
    std::string out = "{\"id\":" + id + ",\"status\":" + std::to_string(status) +
                      ",\"error\":{\"code\":" + std::to_string(code) + ",\"msg\":\"";
    out += msg;
    out += "\"}}";
    return out;
}

std::string result_frame(const std::string& id, const std::string& result) {
    return "{\"id\":" + id + ",\"status\":200,\"result\":" + result + "}";
}

std::string missing(const std::string& id, std::string_view name) {
    return error_frame(id, 400, -1102,
                       "Mandatory parameter '" + std::string(name) +
                           "' was not sent, was empty/null, or malformed.");
}

/// One half of a cancel-replace: the answer frame of the order.cancel / order.place it ran as.
struct half_answer {
    bool ok = false;
    std::string body; ///< The result (ok) or the error object {"code":..,"msg":..}.
};

half_answer split_answer(const std::string& frame) {
    dom::parser parser;
    dom::object root;
    half_answer out;
    if (parser.parse(frame).get(root) != simdjson::SUCCESS) {
        out.body = R"({"code":-1000,"msg":"Malformed answer."})";
        return out;
    }
    std::int64_t status = 0;
    if (root.at_key("status").get(status) != simdjson::SUCCESS) {
        status = 0;
    }
    out.ok = status == 200;
    dom::element body;
    if (root.at_key(out.ok ? "result" : "error").get(body) == simdjson::SUCCESS) {
        out.body = simdjson::minify(body);
    }
    return out;
}

std::string_view tif_name(exec::time_in_force tif) {
    switch (tif) {
    case exec::time_in_force::gtc:
        return "GTC";
    case exec::time_in_force::ioc:
        return "IOC";
    case exec::time_in_force::fok:
        return "FOK";
    }
    return "GTC";
}

} // namespace

/// A request whose signature has been checked: its id as JSON text, its method, and every
/// parameter as the text that was signed.
struct order_api::parsed_request {
    std::string id = "null";
    std::string method;
    std::map<std::string, std::string> params;

    [[nodiscard]] const std::string* param(const std::string& name) const {
        const auto it = params.find(name);
        return it == params.end() || it->second.empty() ? nullptr : &it->second;
    }
};

order_api::order_api(market_state& market, order_api_options options)
    : market_(market), options_(std::move(options)), signer_(options_.api_secret),
      usage_(market.limits.spot_weight_per_minute, market.limits.spot_orders_per_10s,
             market.limits.spot_orders_per_day, 86'400'000, market.limits.enforced),
      balances_(options_.balances_e8),
      balances_updated_ms_(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count()) {
    if (!options_.api_ed25519_public_pem.empty()) {
        ed25519_ = ed25519_verifier::from_public_pem(options_.api_ed25519_public_pem);
        if (!ed25519_) {
            throw std::invalid_argument("the account's Ed25519 public key is not valid PEM");
        }
    }
}

bool order_api::signature_valid(std::string_view payload, std::string_view signature) const {
    if (ed25519_) {
        return ed25519_->verify(payload, signature);
    }
    return same_hex(signer_.sign(payload).view(), signature);
}

order_api::~order_api() = default;

void order_api::ensure_exchange() {
    if (exchange_ && specs_.size() == market_.size()) {
        return;
    }
    // Symbols are fixed once the venue serves; built on first use so every generator has
    // registered its symbols by then.
    specs_.clear();
    for (std::size_t i = 0; i < market_.size(); ++i) {
        const symbol_state& symbol = market_.at(i);
        specs_.push_back(core::symbol_spec::from_text({.name = symbol.name,
                                                       .tick_size = symbol.tick_size,
                                                       .step_size = symbol.step_size,
                                                       .min_notional = symbol.min_notional})
                             .value_or(core::symbol_spec{}));
    }
    exec::sim_exchange_config config;
    config.order_entry_latency = {exec::latency_distribution::constant, 0, 0};
    config.cancel_latency = {exec::latency_distribution::constant, 0, 0};
    config.market_data_latency = {exec::latency_distribution::constant, 0, 0};
    config.queue_model = false;
    config.max_open_orders = 1000;
    if (!options_.resting_fills) {
        config.cross_fill = exec::cross_fill_rule::never;
    }
    exchange_ = std::make_unique<exec::sim_exchange>(config, specs_);
    exchange_->set_report_sink(this);
}

void order_api::on_exec_report(const exec::exec_report& report) noexcept {
    reports_.push_back(report);
    const auto it = orders_.find(report.client_id.value);
    if (it == orders_.end()) {
        return;
    }
    tracked_order& order = it->second;
    if (!apply_report(order, report)) {
        return; // a refused placement answers with an error, no executionReport
    }
    order.updated_ms = now_ms_;
    const bool trade =
        report.kind == exec::exec_kind::partial_fill || report.kind == exec::exec_kind::fill;
    const std::int64_t trade_id = trade ? next_trade_id_++ : -1;
    if (trade) {
        // The commission: fee_bps_ of the notional, in the quote asset or (fee_asset_price_e8_
        // set) in the fee asset at that price.
        const core::symbol_spec& spec = specs_[order.symbol];
        const auto quote_e8 = static_cast<std::int64_t>(
            std::llround(spec.to_double(report.fill_qty) * spec.to_double(report.price) * 1e8));
        std::int64_t commission_e8 = quote_e8 * fee_bps_ / 10'000;
        std::string commission_asset = assets(order.symbol).second;
        if (fee_asset_price_ > 0) {
            commission_e8 /= fee_asset_price_;
            commission_asset = fee_asset_;
        } else if (fee_in_received_ && order.request.side == core::side::buy) {
            // Out of what the buy received: the base asset.
            const auto base_e8 =
                static_cast<std::int64_t>(std::llround(spec.to_double(report.fill_qty) * 1e8));
            commission_e8 = base_e8 * fee_bps_ / 10'000;
            commission_asset = assets(order.symbol).first;
        }
        if (order.request.side == core::side::buy) {
            ++stats_.buy_trades;
        }
        order.trades.push_back({.trade_id = trade_id,
                                .price = report.price,
                                .qty = report.fill_qty,
                                .time_ms = now_ms_,
                                .maker = report.liquidity != exec::liquidity_role::taker,
                                .commission_e8 = commission_e8,
                                .commission_asset = commission_asset});
    }
    add_execution_report(order, report, trade_id);
    if (report.kind == exec::exec_kind::partial_fill || report.kind == exec::exec_kind::fill) {
        add_account_position(order.symbol);
    }
}

std::pair<std::string, std::string> order_api::assets(std::size_t symbol) const {
    const std::string& name = market_.at(symbol).name;
    // As render_exchange_info names them.
    const std::string quote = name.ends_with("USDT") ? "USDT" : "USD";
    return {name.substr(0, name.size() - quote.size()), quote};
}

std::int64_t& order_api::balance_e8(const std::string& asset) {
    return balances_.of(asset);
}

void order_api::add_execution_report(const tracked_order& order, const exec::exec_report& report,
                                     std::int64_t trade_id) {
    const core::symbol_spec& spec = specs_[order.symbol];
    std::array<char, 48> price{};
    std::array<char, 48> qty{};
    std::array<char, 48> last_price{};
    std::array<char, 48> last_qty{};
    std::array<char, 48> cum{};
    const bool trade =
        report.kind == exec::exec_kind::partial_fill || report.kind == exec::exec_kind::fill;
    const bool cancel = report.kind == exec::exec_kind::cancelled;
    const bool garbled = trade && garble_trade_events_ > 0;
    if (garbled) {
        --garble_trade_events_;
        ++stats_.trade_events_garbled;
    }
    const std::string execution = trade    ? "TRADE"
                                  : cancel ? (order.status == "EXPIRED" ? "EXPIRED" : "CANCELED")
                                           : "NEW";
    std::string client = order.client_id;
    std::string original;
    if (cancel && order.status == "CANCELED") {
        // As Binance: the cancel's own id in `c`, the order's in `C`.
        original = order.client_id;
        client = cancel_client_id_.empty() ? "venue-cancel-" + std::to_string(order.exchange_id)
                                           : cancel_client_id_;
    }
    std::string out =
        "{\"e\":\"executionReport\",\"E\":" + std::to_string(now_ms_) + ",\"s\":\"" +
        std::string(spec.name().view()) + "\",\"c\":\"" + client + "\",\"S\":\"" +
        (order.request.side == core::side::buy ? "BUY" : "SELL") + "\",\"o\":\"" +
        (order.request.post_only ? "LIMIT_MAKER" : "LIMIT") + "\",\"f\":\"" +
        std::string(tif_name(order.request.tif)) + "\",\"q\":\"" +
        std::string(spec.format_qty(order.request.qty, qty)) + "\",\"p\":\"" +
        std::string(spec.format_price(order.request.price, price)) + "\",\"C\":\"" + original +
        "\",\"x\":\"" + execution + "\",\"X\":\"" + order.status +
        "\",\"r\":\"NONE\",\"i\":" + std::to_string(order.exchange_id) + ",\"l\":\"" +
        std::string(spec.format_qty(trade ? report.fill_qty : core::qty{0}, last_qty)) +
        "\",\"z\":\"" + std::string(spec.format_qty(order.executed, cum)) + "\",\"L\":\"" +
        (garbled
             ? std::string("1.2.3")
             : std::string(spec.format_price(trade ? report.price : core::price{0}, last_price))) +
        "\",\"n\":\"" + (trade ? format_e8(order.trades.back().commission_e8) : "0") + "\",\"N\":" +
        (trade ? "\"" + order.trades.back().commission_asset + "\"" : std::string("null")) +
        ",\"T\":" + std::to_string(now_ms_) + ",\"t\":" + std::to_string(trade_id) +
        ",\"w\":" + (order.open && !trade ? "true" : "false") +
        ",\"m\":" + (trade && report.liquidity != exec::liquidity_role::taker ? "true" : "false") +
        "}";
    if (trade) {
        ++stats_.trades;
        const auto [base, quote] = assets(order.symbol);
        const auto base_e8 =
            static_cast<std::int64_t>(std::llround(spec.to_double(report.fill_qty) * 1e8));
        const auto quote_e8 = static_cast<std::int64_t>(
            std::llround(spec.to_double(report.fill_qty) * spec.to_double(report.price) * 1e8));
        const std::int64_t sign = order.request.side == core::side::buy ? 1 : -1;
        balance_e8(base) += sign * base_e8;
        balance_e8(quote) -= sign * quote_e8;
        balance_e8(order.trades.back().commission_asset) -= order.trades.back().commission_e8;
        balances_updated_ms_ = now_ms_;
    }
    ++stats_.user_events;
    events_.push_back(std::move(out));
}

void order_api::add_account_position(std::size_t symbol) {
    const auto [base, quote] = assets(symbol);
    std::string out = "{\"e\":\"outboundAccountPosition\",\"E\":" + std::to_string(now_ms_) +
                      ",\"u\":" + std::to_string(balances_updated_ms_) + ",\"B\":[";
    bool first = true;
    std::vector<std::string> changed{base, quote};
    if (fee_asset_price_ > 0) {
        changed.push_back(fee_asset_); // the fees came out of it
    }
    for (const std::string& asset : changed) {
        out += std::string(first ? "" : ",") + "{\"a\":\"" + asset + "\",\"f\":\"" +
               format_e8(balance_e8(asset)) + "\",\"l\":\"0.00000000\"}";
        first = false;
    }
    out += "]}";
    ++stats_.user_events;
    events_.push_back(std::move(out));
}

void order_api::set_fees(std::int64_t bps, const std::string& asset, std::int64_t asset_price) {
    fee_bps_ = bps;
    fee_in_received_ = asset == "received";
    fee_asset_ = fee_in_received_ ? std::string{} : asset;
    fee_asset_price_ = fee_asset_.empty() ? 0 : asset_price;
}

std::size_t order_api::open_order_count() const {
    return static_cast<std::size_t>(std::count_if(
        orders_.begin(), orders_.end(), [](const auto& entry) { return entry.second.open; }));
}

void order_api::on_book(std::size_t symbol, std::int64_t wall_now_ms) {
    const std::int64_t now_ms = std::max(wall_now_ms + clock_offset_ms_, engine_ms_);
    engine_ms_ = now_ms;
    const bool resting = std::any_of(orders_.begin(), orders_.end(), [&](const auto& entry) {
        return entry.second.open && entry.second.symbol == symbol;
    });
    if (!resting) {
        return;
    }
    ensure_exchange();
    now_ms_ = now_ms;
    reports_.clear();
    show_book(symbol, now_ms);
    exchange_->advance_to(now_ms * core::ns_per_ms);
}

std::string order_api::open_client_ids_json() const {
    std::string out = "[";
    for (const auto& [key, order] : orders_) {
        if (order.open) {
            out += (out.size() > 1 ? ",\"" : "\"") + order.client_id + "\"";
        }
    }
    return out + "]";
}

std::string order_api::open_orders(const parsed_request& request) {
    std::optional<std::size_t> symbol;
    if (const std::string* name = request.param("symbol"); name != nullptr) {
        symbol = market_.find(*name);
        if (!symbol) {
            return error_frame(request.id, 400, -1121, "Invalid symbol.");
        }
    }
    std::string result = "[";
    for (const auto& [key, order] : orders_) {
        if (order.open && (!symbol || order.symbol == *symbol)) {
            if (result.size() > 1) {
                result += ',';
            }
            result += render_order(order, true, true);
        }
    }
    return result_frame(request.id, result + "]");
}

std::string order_api::account(const parsed_request& request) {
    // updateTime: the last balance change, so every fill stamped (T) no later is in the
    // balances and none stamped later.
    std::string result = "{\"makerCommission\":0,\"takerCommission\":0,\"canTrade\":true,"
                         "\"updateTime\":" +
                         std::to_string(balances_updated_ms_) +
                         ",\"accountType\":\"SPOT\",\"balances\":[";
    for (std::size_t i = 0; i < market_.size(); ++i) {
        const auto [base, quote] = assets(i);
        (void)balance_e8(base);
        (void)balance_e8(quote);
    }
    // As Binance: omitZeroBalances=true leaves out every asset of balance 0 (default false).
    const std::string* omit = request.param("omitZeroBalances");
    const bool omit_zero = omit != nullptr && *omit == "true";
    bool first = true;
    for (const auto& [asset, e8] : balances_.all()) {
        if (omit_zero && e8 == 0) {
            continue;
        }
        result += std::string(first ? "" : ",") + "{\"asset\":\"" + asset + "\",\"free\":\"" +
                  format_e8(e8) + "\",\"locked\":\"0.00000000\"}";
        first = false;
    }
    return result_frame(request.id, result + "]}");
}

void order_api::set_balance(const std::string& asset, std::int64_t amount_e8,
                            std::int64_t wall_now_ms) {
    engine_ms_ = std::max(wall_now_ms + clock_offset_ms_, engine_ms_);
    balances_.of(asset) = amount_e8;
    balances_updated_ms_ = engine_ms_;
}

std::vector<std::string> order_api::take_events() {
    std::vector<std::string> out;
    out.swap(events_);
    return out;
}

std::optional<std::uint64_t> order_api::take_subscription() {
    const auto out = new_subscription_;
    new_subscription_.reset();
    return out;
}

std::string order_api::logon(const parsed_request& request, api_session* session,
                             std::int64_t now_ms) {
    // The key and its signature are checked already; Binance takes only Ed25519 keys here.
    if (!ed25519_) {
        return error_frame(request.id, 400, -1022, "Signature for this request is not valid.");
    }
    ++stats_.logons;
    std::int64_t connected_ms = now_ms;
    if (session != nullptr) {
        session->logged_on = true;
        session->authorized_ms = now_ms;
        connected_ms = session->connected_ms;
    }
    return result_frame(request.id, "{\"apiKey\":\"" + options_.api_key +
                                        "\",\"authorizedSince\":" + std::to_string(now_ms) +
                                        ",\"connectedSince\":" + std::to_string(connected_ms) +
                                        ",\"returnRateLimits\":false,\"serverTime\":" +
                                        std::to_string(now_ms) + ",\"userDataStream\":false}");
}

std::string order_api::subscribe(const parsed_request& request) {
    ++stats_.subscriptions;
    const std::uint64_t id = next_subscription_++;
    new_subscription_ = id;
    return result_frame(request.id, "{\"subscriptionId\":" + std::to_string(id) + "}");
}

void order_api::show_book(std::size_t symbol, std::int64_t now_ms) {
    const core::symbol_spec& spec = specs_[symbol];
    const venue_book& book = market_.at(symbol).book;
    exec::top_of_book top;
    if (const auto bids = book.bids.best(1, true); !bids.empty()) {
        top.bid = spec.parse_price(bids[0].first).value_or(core::price{});
        top.bid_qty = spec.parse_qty(bids[0].second).value_or(core::qty{});
    }
    if (const auto asks = book.asks.best(1, false); !asks.empty()) {
        top.ask = spec.parse_price(asks[0].first).value_or(core::price{});
        top.ask_qty = spec.parse_qty(asks[0].second).value_or(core::qty{});
    }
    exchange_->on_top_of_book(static_cast<std::uint32_t>(symbol), top, now_ms * core::ns_per_ms);
}

std::string order_api::render_order(const tracked_order& order, bool full, bool listed) const {
    const core::symbol_spec& spec = specs_[order.symbol];
    std::array<char, 48> price{};
    std::array<char, 48> orig{};
    std::array<char, 48> executed{};
    // An answer to a request that changed the order has the time of that change; an order as
    // order.status and openOrders.status list it has its placement time and last update.
    std::string out = "{\"symbol\":\"" + std::string(spec.name().view()) +
                      "\",\"orderId\":" + std::to_string(order.exchange_id) +
                      ",\"orderListId\":-1,\"clientOrderId\":\"" + order.client_id + "\"" +
                      (listed ? ",\"time\":" + std::to_string(order.time_ms) + ",\"updateTime\":" +
                                    std::to_string(std::max(order.updated_ms, order.time_ms))
                              : ",\"transactTime\":" + std::to_string(order.time_ms));
    if (full) {
        out += ",\"price\":\"" + std::string(spec.format_price(order.request.price, price)) +
               "\",\"origQty\":\"" + std::string(spec.format_qty(order.request.qty, orig)) +
               "\",\"executedQty\":\"" + std::string(spec.format_qty(order.executed, executed)) +
               "\",\"status\":\"" + order.status + "\",\"timeInForce\":\"" +
               std::string(tif_name(order.request.tif)) + "\",\"type\":\"" +
               (order.request.post_only ? "LIMIT_MAKER" : "LIMIT") + "\",\"side\":\"" +
               (order.request.side == core::side::buy ? "BUY" : "SELL") +
               "\",\"selfTradePreventionMode\":\"NONE\"";
    }
    out += "}";
    return out;
}

void order_api::limit_rate(std::int64_t now_ms, std::int64_t ms, std::int64_t ban_ms,
                           bool ban_now) {
    now_ms += clock_offset_ms_;
    limits_.ban_ms = ban_ms > 0 ? ban_ms : 2 * ms;
    limits_.answered_429 = false;
    limits_.in_flight_until_ms = 0;
    if (ban_now) {
        limits_.banned_until_ms = now_ms + limits_.ban_ms;
        limits_.limited_until_ms = 0;
    } else {
        limits_.limited_until_ms = now_ms + ms;
    }
}

std::string order_api::balances_json() const {
    return balances_.json();
}

namespace {

/// REQUEST_WEIGHT of a WebSocket API request, as Binance's documentation gives it
/// (openOrders.status as quoter sends it: with a symbol; myTrades 5 with an orderId, else 20).
std::int64_t method_weight(std::string_view method, dom::object root) {
    if (method == "myTrades") {
        dom::object params;
        dom::element order_id;
        const bool one_order = root.at_key("params").get(params) == simdjson::SUCCESS &&
                               params.at_key("orderId").get(order_id) == simdjson::SUCCESS;
        return one_order ? 5 : 20;
    }
    if (method == "order.status") {
        return 4;
    }
    if (method == "openOrders.status") {
        return 6;
    }
    if (method == "account.status") {
        return 20;
    }
    if (method == "session.logon" || method.starts_with("userDataStream.")) {
        return 2;
    }
    return 1; // order.place, order.cancel, order.cancelReplace, openOrders.cancelAll, time, ping
}

} // namespace

std::string order_api::render_usage() const {
    const auto entry = [](std::string_view type, std::string_view interval, int number,
                          std::int64_t limit, std::int64_t count) {
        return "{\"rateLimitType\":\"" + std::string(type) + "\",\"interval\":\"" +
               std::string(interval) + "\",\"intervalNum\":" + std::to_string(number) +
               ",\"limit\":" + std::to_string(limit) + ",\"count\":" + std::to_string(count) + "}";
    };
    std::string out =
        "[" + entry("REQUEST_WEIGHT", "MINUTE", 1, usage_.weight_limit(), usage_.weight());
    if (usage_report_ == usage_report::weight_and_orders) {
        out += "," + entry("ORDERS", "SECOND", 10, usage_.orders_10s_limit(), usage_.orders_10s()) +
               "," + entry("ORDERS", "DAY", 1, usage_.orders_long_limit(), usage_.orders_long());
    }
    return out + "]";
}

std::string order_api::handle(std::string_view request, std::int64_t wall_now_ms,
                              api_session* session) {
    usage_report_ = usage_report::none;
    std::string out = answer(request, wall_now_ms, session);
    // Binance adds the counts to every answer of a counted request (returnRateLimits defaults
    // to true); new orders list the ORDERS windows too.
    if (!out.empty() && out.back() == '}' && usage_report_ != usage_report::none) {
        out.pop_back();
        out += ",\"rateLimits\":" + render_usage() + "}";
    }
    return out;
}

void order_api::execute_late_orders(std::int64_t wall_now_ms) {
    std::vector<late_order> due;
    for (auto it = late_requests_.begin(); it != late_requests_.end();) {
        if (it->due_ms <= wall_now_ms) {
            due.push_back(std::move(*it));
            it = late_requests_.erase(it);
        } else {
            ++it;
        }
    }
    executing_late_ = true;
    for (late_order& order : due) {
        const std::uint64_t refused = stats_.clock_rejects;
        (void)answer(order.request, wall_now_ms, &order.session); // its answer went long ago
        if (stats_.clock_rejects != refused) {
            ++stats_.late_orders_expired;
        }
    }
    executing_late_ = false;
}

std::string order_api::answer(std::string_view request, std::int64_t wall_now_ms,
                              api_session* session) {
    if (!executing_late_) { // a held request was counted when it arrived
        ++stats_.requests;
    }
    const std::int64_t now_ms = wall_now_ms + clock_offset_ms_;
    dom::parser parser;
    dom::object root;
    if (parser.parse(request.data(), request.size()).get(root) != simdjson::SUCCESS) {
        return error_frame("null", 400, -1000, "Malformed request.");
    }
    parsed_request parsed;
    if (dom::element id; root.at_key("id").get(id) == simdjson::SUCCESS) {
        parsed.id = simdjson::minify(id);
    }
    std::string_view method;
    if (root.at_key("method").get(method) != simdjson::SUCCESS) {
        return error_frame(parsed.id, 400, -1000, "Malformed request.");
    }
    parsed.method = std::string(method);
    if (executing_late_) {
        // Counted, rate-limited and authenticated when it arrived; the engine checks its time.
    } else if (parsed.method == "order.place") {
        ++stats_.place_requests;
    } else if (parsed.method == "order.cancelReplace") {
        ++stats_.replace_requests;
    }
    if (now_ms < silent_until_ms_) {
        ++stats_.silenced_requests; // lost on the way: not executed, never answered
        return {};
    }
    // Rate limits first, as Binance counts every request whatever it is.
    const auto rate_frame = [&](int status, std::int64_t until_ms) {
        return "{\"id\":" + parsed.id + ",\"status\":" + std::to_string(status) +
               ",\"error\":{\"code\":-1003,\"msg\":\"" +
               (status == 418 ? std::string("Way too much request weight used; IP banned until ") +
                                    std::to_string(until_ms) + "."
                              : std::string("Too much request weight used; please back off.")) +
               "\",\"data\":{\"serverTime\":" + std::to_string(now_ms) +
               ",\"retryAfter\":" + std::to_string(until_ms) + "}}}";
    };
    if (const auto verdict = executing_late_
                                 ? rate_limit_windows::verdict{}
                                 : limits_.check(now_ms, stats_.answers_429, stats_.answers_418,
                                                 stats_.requests_in_backoff);
        verdict.status != 0) {
        return rate_frame(verdict.status, verdict.until_ms);
    }
    const bool new_order = parsed.method == "order.place" || parsed.method == "order.cancelReplace";
    const auto usage = executing_late_
                           ? usage_counter::verdict{}
                           : usage_.admit(now_ms, method_weight(parsed.method, root), new_order);
    usage_report_ = new_order ? usage_report::weight_and_orders : usage_report::weight;
    if (usage.code == -1003) {
        ++stats_.weight_limit_answers;
        limits_.told_to_back_off(now_ms, usage.until_ms, market_.limits.ban_ms);
        return "{\"id\":" + parsed.id +
               ",\"status\":429,\"error\":{\"code\":-1003,\"msg\":\"Too much request weight "
               "used; current limit is " +
               std::to_string(usage.limit) +
               " request weight per 1 MINUTE. Please use WebSocket Streams for live updates to "
               "avoid polling the API.\",\"data\":{\"serverTime\":" +
               std::to_string(now_ms) + ",\"retryAfter\":" + std::to_string(usage.until_ms) + "}}}";
    }
    if (usage.code == -1015) {
        ++stats_.order_limit_answers;
        const bool per_day = usage.until_ms - now_ms > 10'000;
        return "{\"id\":" + parsed.id +
               ",\"status\":429,\"error\":{\"code\":-1015,\"msg\":\"Too many new orders; "
               "current limit is " +
               std::to_string(usage.limit) +
               (per_day ? " orders per DAY." : " orders per 10 SECOND.") +
               "\",\"data\":{\"serverTime\":" + std::to_string(now_ms) +
               ",\"retryAfter\":" + std::to_string(usage.until_ms) + "}}}";
    }
    if (parsed.method == "time") {
        ++stats_.time_requests;
        return result_frame(parsed.id, "{\"serverTime\":" + std::to_string(now_ms) + "}");
    }
    if (parsed.method == "ping") {
        return result_frame(parsed.id, "{}");
    }
    if (parsed.method == "userDataStream.subscribe") {
        // No params: the logged-on key's account, so only after session.logon.
        if (session == nullptr || !session->logged_on) {
            ++stats_.unauthenticated;
            return error_frame(parsed.id, 401, -2015,
                               "Invalid API-key, IP, or permissions for action.");
        }
        return subscribe(parsed);
    }
    dom::object params;
    if (root.at_key("params").get(params) != simdjson::SUCCESS) {
        return error_frame(parsed.id, 400, -1000, "Malformed request.");
    }
    std::string signature;
    for (const auto field : params) {
        std::string text;
        std::string_view string_value;
        if (field.value.get(string_value) == simdjson::SUCCESS) {
            text = std::string(string_value);
        } else {
            text = simdjson::minify(field.value); // numbers and booleans as written
        }
        if (field.key == "signature") {
            signature = std::move(text);
        } else {
            parsed.params.emplace(std::string(field.key), std::move(text));
        }
    }

    // Authentication, in Binance's order: key, signature, then time. A connection that logged
    // on may leave out apiKey and signature (the logged-on key signs for it); one that did not
    // must send both.
    const std::string* api_key = parsed.param("apiKey");
    const bool by_session = session != nullptr && session->logged_on && api_key == nullptr &&
                            signature.empty() && parsed.method != "session.logon";
    if (!by_session) {
        if (api_key == nullptr) {
            ++stats_.unauthenticated;
            return missing(parsed.id, "apiKey");
        }
        if (*api_key != options_.api_key) {
            return error_frame(parsed.id, 401, -2015,
                               "Invalid API-key, IP, or permissions for action.");
        }
        if (signature.empty()) {
            ++stats_.unauthenticated;
            return missing(parsed.id, "signature");
        }
        std::string payload; // std::map iterates by name: the sorted payload
        for (const auto& [name, value] : parsed.params) {
            if (!payload.empty()) {
                payload += '&';
            }
            payload += name + "=" + value;
        }
        if (!signature_valid(payload, signature)) {
            ++stats_.signature_failures;
            return error_frame(parsed.id, 400, -1022, "Signature for this request is not valid.");
        }
    }
    const std::string* timestamp = parsed.param("timestamp");
    if (timestamp == nullptr) {
        return missing(parsed.id, "timestamp");
    }
    switch (check_timestamp(*timestamp, parsed.param("recvWindow"), now_ms)) {
    case timestamp_check::ok:
        break;
    case timestamp_check::bad_window:
        return error_frame(parsed.id, 400, -1131, "recvWindow must be less than 60000");
    case timestamp_check::outside:
        ++stats_.clock_rejects;
        return error_frame(parsed.id, 400, -1021,
                           "Timestamp for this request is outside of the recvWindow.");
    }

    if (parsed.method == "session.logon") {
        return logon(parsed, session, now_ms);
    }

    ensure_exchange();
    // The matching engine's clock never runs backwards, even when the clock fault moves the
    // venue's clock back: requests are stamped with the latest time it has seen.
    const std::int64_t engine_ms = std::max(now_ms, engine_ms_);
    engine_ms_ = engine_ms;
    now_ms_ = engine_ms;
    reports_.clear();
    // Orders that can no longer change move to a bounded archive, where order.status still
    // finds them (as Binance's does), so a long demo does not grow without bound.
    for (auto it = orders_.begin(); it != orders_.end();) {
        if (it->second.open) {
            ++it;
            continue;
        }
        finished_.push_back(std::move(it->second));
        it = orders_.erase(it);
        if (finished_.size() > max_finished_orders) {
            finished_.pop_front();
        }
    }
    const auto unknown_status = [&] {
        return error_frame(parsed.id, 503, -1006,
                           "An unexpected response was received from the message bus. "
                           "Execution status unknown.");
    };
    if (parsed.method == "order.place" && late_orders_ > 0 && !executing_late_) {
        // Not executed yet: held on its way to the matching engine, answered "unknown".
        --late_orders_;
        ++stats_.orders_late;
        late_requests_.push_back(
            late_order{.request = std::string(request),
                       .due_ms = wall_now_ms + late_order_ms_,
                       .session = session != nullptr ? *session : api_session{}});
        late_execution_ms_ = std::max<std::int64_t>(late_order_ms_, 1);
        return error_frame(parsed.id, 503, -1007,
                           "Timeout waiting for response from backend server. Send status "
                           "unknown; execution status unknown.");
    }
    if (parsed.method == "order.place" || parsed.method == "order.cancelReplace") {
        // The order faults apply to both: executed, then the answer is lost, 5xx or late.
        std::string answer = parsed.method == "order.place" ? place(parsed, engine_ms)
                                                            : cancel_replace(parsed, engine_ms);
        if (drop_place_answers_ > 0) {
            --drop_place_answers_;
            ++stats_.answers_dropped;
            return {};
        }
        if (fail_after_execute_ > 0) {
            --fail_after_execute_;
            ++stats_.failed_after_execute;
            return unknown_status();
        }
        if (delay_place_answers_ > 0) {
            --delay_place_answers_;
            ++stats_.answers_delayed;
            answer_delay_ms_ = place_answer_delay_ms_;
        }
        return answer;
    }
    if (parsed.method == "order.cancel" && lose_cancels_ > 0) {
        --lose_cancels_;
        ++stats_.cancels_lost;
        return unknown_status();
    }
    if (parsed.method == "openOrders.cancelAll" && lose_cancel_alls_ > 0) {
        --lose_cancel_alls_;
        ++stats_.cancel_alls_lost;
        return unknown_status();
    }
    if (parsed.method == "order.cancel" && fail_after_execute_ > 0) {
        std::string answer = cancel(parsed, engine_ms);
        --fail_after_execute_;
        ++stats_.failed_after_execute;
        (void)answer;
        return unknown_status();
    }
    if (parsed.method == "order.status") {
        if (delay_status_answers_ > 0) {
            --delay_status_answers_;
            ++stats_.status_answers_delayed;
            answer_delay_ms_ = status_answer_delay_ms_;
        }
        return order_status(parsed);
    }
    if (parsed.method == "myTrades") {
        return my_trades(parsed);
    }
    if (parsed.method == "userDataStream.subscribe.signature") {
        return subscribe(parsed);
    }
    if (parsed.method == "openOrders.status") {
        return open_orders(parsed);
    }
    if (parsed.method == "account.status") {
        return account(parsed);
    }
    if (parsed.method == "order.cancel") {
        return cancel(parsed, engine_ms);
    }
    if (parsed.method == "openOrders.cancelAll") {
        return cancel_all(parsed, engine_ms);
    }
    return error_frame(parsed.id, 400, -1000, "Unsupported method.");
}

std::string order_api::place(const parsed_request& request, std::int64_t now_ms) {
    for (const char* name : {"symbol", "side", "type", "quantity", "price"}) {
        if (request.param(name) == nullptr) {
            return missing(request.id, name);
        }
    }
    const auto symbol = market_.find(*request.param("symbol"));
    if (!symbol) {
        return error_frame(request.id, 400, -1121, "Invalid symbol.");
    }
    const core::symbol_spec& spec = specs_[*symbol];
    tracked_order order;
    order.symbol = *symbol;
    order.time_ms = now_ms;
    exec::order_request& req = order.request;
    req.symbol = static_cast<std::uint32_t>(*symbol);
    const std::string& side = *request.param("side");
    if (side != "BUY" && side != "SELL") {
        return error_frame(request.id, 400, -1100, "Illegal characters found in parameter 'side'.");
    }
    req.side = side == "BUY" ? core::side::buy : core::side::sell;
    const std::string& type = *request.param("type");
    bool full = false;
    if (type == "LIMIT_MAKER") {
        req.post_only = true;
    } else if (type == "LIMIT") {
        req.post_only = false;
        full = true; // LIMIT answers FULL by default
        const std::string* tif = request.param("timeInForce");
        if (tif == nullptr) {
            return missing(request.id, "timeInForce");
        }
        if (*tif == "GTC") {
            req.tif = exec::time_in_force::gtc;
        } else if (*tif == "IOC") {
            req.tif = exec::time_in_force::ioc;
        } else if (*tif == "FOK") {
            req.tif = exec::time_in_force::fok;
        } else {
            return error_frame(request.id, 400, -1115, "Invalid timeInForce.");
        }
    } else {
        return error_frame(request.id, 400, -1116, "Invalid orderType.");
    }
    if (const std::string* response = request.param("newOrderRespType"); response != nullptr) {
        full = *response != "ACK";
    }
    const auto price = spec.parse_price(*request.param("price"));
    if (!price || price->ticks() <= 0) {
        return error_frame(request.id, 400, -1013, "Filter failure: PRICE_FILTER");
    }
    const auto qty = spec.parse_qty(*request.param("quantity"));
    if (!qty || qty->lots() <= 0) {
        return error_frame(request.id, 400, -1013, "Filter failure: LOT_SIZE");
    }
    req.price = *price;
    req.qty = *qty;
    if (const std::string* client = request.param("newClientOrderId"); client != nullptr) {
        order.client_id = *client;
    } else {
        order.client_id = "venue-" + std::to_string(next_id_);
    }
    for (const auto& [id, other] : orders_) {
        if (other.open && other.symbol == order.symbol && other.client_id == order.client_id) {
            return error_frame(request.id, 400, -2010, "Duplicate order sent.");
        }
    }
    req.id = exec::client_order_id{next_id_++};
    const std::uint64_t id = req.id.value;
    orders_.emplace(id, order);

    show_book(order.symbol, now_ms);
    if (exchange_->submit(req, now_ms * core::ns_per_ms) != exec::gateway_error::none) {
        orders_.erase(id);
        return error_frame(request.id, 503, -1006,
                           "An unexpected response was received from the message bus. "
                           "Execution status unknown.");
    }
    exchange_->advance_to(now_ms * core::ns_per_ms);
    for (const exec::exec_report& report : reports_) {
        if (report.client_id.value == id && report.kind == exec::exec_kind::reject) {
            ++stats_.orders_rejected;
            orders_.erase(id);
            return error_frame(request.id, 400, -2010,
                               report.reason == exec::reject_reason::post_only_would_cross
                                   ? std::string_view{"Order would immediately match and take."}
                                   : exec::describe(report.reason));
        }
    }
    ++stats_.orders_placed;
    stats_.buy_orders_placed += orders_.at(id).request.side == core::side::buy ? 1 : 0;
    return result_frame(request.id, render_order(orders_.at(id), full));
}

bool order_api::names_order(const tracked_order& order, std::size_t symbol,
                            const std::string* orig_client_id, const std::string* order_id) {
    return order.symbol == symbol &&
           (orig_client_id == nullptr || order.client_id == *orig_client_id) &&
           (order_id == nullptr || std::to_string(order.exchange_id) == *order_id);
}

std::string order_api::cancel(const parsed_request& request, std::int64_t now_ms) {
    std::string refusal;
    const auto symbol = required_symbol(request, refusal);
    if (!symbol) {
        return refusal;
    }
    const std::string* orig = request.param("origClientOrderId");
    const std::string* order_id = request.param("orderId");
    if (orig == nullptr && order_id == nullptr) {
        return missing(request.id, "orderId");
    }
    std::uint64_t id = 0;
    for (const auto& [key, order] : orders_) {
        if (order.open && names_order(order, *symbol, orig, order_id)) {
            id = key;
        }
    }
    if (id == 0) {
        return error_frame(request.id, 400, -2011, "Unknown order sent.");
    }
    show_book(*symbol, now_ms);
    const std::string* cancel_id = request.param("newClientOrderId");
    cancel_client_id_ = cancel_id != nullptr ? *cancel_id : std::string{};
    if (exchange_->cancel(static_cast<std::uint32_t>(*symbol), exec::client_order_id{id},
                          now_ms * core::ns_per_ms) != exec::gateway_error::none) {
        cancel_client_id_.clear();
        return error_frame(request.id, 503, -1006,
                           "An unexpected response was received from the message bus. "
                           "Execution status unknown.");
    }
    exchange_->advance_to(now_ms * core::ns_per_ms);
    cancel_client_id_.clear();
    const tracked_order& order = orders_.at(id);
    if (order.status != "CANCELED") {
        return error_frame(request.id, 400, -2011, "Unknown order sent.");
    }
    ++stats_.orders_cancelled;
    tracked_order answer = order;
    answer.time_ms = now_ms;
    answer.client_id = cancel_id != nullptr ? *cancel_id : "venue-cancel-" + std::to_string(id);
    std::string rendered = render_order(answer, true);
    rendered.insert(1, "\"origClientOrderId\":\"" + order.client_id + "\",");
    return result_frame(request.id, rendered);
}

std::string order_api::cancel_replace(const parsed_request& request, std::int64_t now_ms) {
    const std::string* mode = request.param("cancelReplaceMode");
    if (mode == nullptr) {
        return missing(request.id, "cancelReplaceMode");
    }
    if (*mode != "STOP_ON_FAILURE" && *mode != "ALLOW_FAILURE") {
        return error_frame(request.id, 400, -1100,
                           "Illegal characters found in parameter 'cancelReplaceMode'.");
    }
    // Binance checks the new order's parameters before it cancels anything.
    for (const char* name : {"symbol", "side", "type", "quantity", "price"}) {
        if (request.param(name) == nullptr) {
            return missing(request.id, name);
        }
    }
    const std::string* cancel_orig = request.param("cancelOrigClientOrderId");
    const std::string* cancel_order_id = request.param("cancelOrderId");
    if (cancel_orig == nullptr && cancel_order_id == nullptr) {
        return missing(request.id, "cancelOrderId");
    }
    parsed_request cancel_half;
    cancel_half.id = request.id;
    cancel_half.method = "order.cancel";
    cancel_half.params["symbol"] = *request.param("symbol");
    if (cancel_orig != nullptr) {
        cancel_half.params["origClientOrderId"] = *cancel_orig;
    }
    if (cancel_order_id != nullptr) {
        cancel_half.params["orderId"] = *cancel_order_id;
    }
    if (const std::string* id = request.param("cancelNewClientOrderId"); id != nullptr) {
        cancel_half.params["newClientOrderId"] = *id;
    }
    const half_answer cancelled = split_answer(cancel(cancel_half, now_ms));
    const auto frame = [&](int status, int code, std::string_view msg, std::string_view data) {
        return "{\"id\":" + request.id + ",\"status\":" + std::to_string(status) +
               ",\"error\":{\"code\":" + std::to_string(code) + ",\"msg\":\"" + std::string(msg) +
               "\",\"data\":" + std::string(data) + "}}";
    };
    if (!cancelled.ok && *mode == "STOP_ON_FAILURE") {
        ++stats_.orders_rejected; // the new order, not attempted (Binance counts it as an order)
        return frame(
            400, -2022, "Order cancel-replace failed.",
            R"({"cancelResult":"FAILURE","newOrderResult":"NOT_ATTEMPTED","cancelResponse":)" +
                cancelled.body + R"(,"newOrderResponse":null})");
    }
    parsed_request place_half;
    place_half.id = request.id;
    place_half.method = "order.place";
    for (const auto& [name, value] : request.params) {
        if (!name.starts_with("cancel")) {
            place_half.params.emplace(name, value);
        }
    }
    const half_answer placed = split_answer(place(place_half, now_ms));
    const std::string halves = std::string(R"({"cancelResult":")") +
                               (cancelled.ok ? "SUCCESS" : "FAILURE") + R"(","newOrderResult":")" +
                               (placed.ok ? "SUCCESS" : "FAILURE") + R"(","cancelResponse":)" +
                               cancelled.body + R"(,"newOrderResponse":)" + placed.body + "}";
    if (cancelled.ok && placed.ok && unknown_replace_halves_ > 0) {
        // The new order rests, but its half says "execution status unknown".
        --unknown_replace_halves_;
        ++stats_.replace_halves_unknown;
        ++stats_.replaces_done;
        return frame(409, -2021, "Order cancel-replace partially failed.",
                     std::string(R"({"cancelResult":"SUCCESS","newOrderResult":"FAILURE",)") +
                         R"("cancelResponse":)" + cancelled.body +
                         R"(,"newOrderResponse":{"code":-1007,"msg":"Timeout waiting for )"
                         R"(response from backend server. Send status unknown; execution status )"
                         R"(unknown."}})");
    }
    if (cancelled.ok && placed.ok) {
        ++stats_.replaces_done;
        return result_frame(request.id, halves);
    }
    if (cancelled.ok || placed.ok) {
        return frame(409, -2021, "Order cancel-replace partially failed.", halves);
    }
    return frame(400, -2022, "Order cancel-replace failed.", halves);
}

std::optional<std::size_t> order_api::required_symbol(const parsed_request& request,
                                                      std::string& refusal) const {
    const std::string* name = request.param("symbol");
    if (name == nullptr) {
        refusal = missing(request.id, "symbol");
        return std::nullopt;
    }
    const auto symbol = market_.find(*name);
    if (!symbol) {
        refusal = error_frame(request.id, 400, -1121, "Invalid symbol.");
    }
    return symbol;
}

std::string order_api::order_status(const parsed_request& request) {
    std::string refusal;
    const auto symbol = required_symbol(request, refusal);
    if (!symbol) {
        return refusal;
    }
    const std::string* orig = request.param("origClientOrderId");
    const std::string* order_id = request.param("orderId");
    if (orig == nullptr && order_id == nullptr) {
        return missing(request.id, "orderId");
    }
    for (const auto& [key, order] : orders_) {
        if (names_order(order, *symbol, orig, order_id)) {
            return result_frame(request.id, render_order(order, true, true));
        }
    }
    // Finished orders (see handle()), newest first; the oldest are forgotten.
    for (auto it = finished_.rbegin(); it != finished_.rend(); ++it) {
        if (names_order(*it, *symbol, orig, order_id)) {
            return result_frame(request.id, render_order(*it, true, true));
        }
    }
    return error_frame(request.id, 400, -2013, "Order does not exist.");
}

std::string order_api::my_trades(const parsed_request& request) {
    std::string refusal;
    const auto symbol = required_symbol(request, refusal);
    if (!symbol) {
        return refusal;
    }
    ++stats_.trade_lists;
    const std::string* order_id = request.param("orderId");
    std::vector<std::pair<const order_trade*, const tracked_order*>> listed;
    const auto collect = [&](const tracked_order& order) {
        if (order.symbol != *symbol ||
            (order_id != nullptr && std::to_string(order.exchange_id) != *order_id)) {
            return;
        }
        for (const order_trade& trade : order.trades) {
            listed.emplace_back(&trade, &order);
        }
    };
    for (const auto& [key, order] : orders_) {
        collect(order);
    }
    for (const tracked_order& order : finished_) {
        collect(order);
    }
    std::sort(listed.begin(), listed.end(),
              [](const auto& a, const auto& b) { return a.first->trade_id < b.first->trade_id; });
    const core::symbol_spec& spec = specs_[*symbol];
    std::string result = "[";
    for (const auto& [trade, order] : listed) {
        std::array<char, 48> price{};
        std::array<char, 48> qty{};
        const bool buyer = order->request.side == core::side::buy;
        result +=
            std::string(result.size() > 1 ? "," : "") + "{\"symbol\":\"" +
            std::string(spec.name().view()) + "\",\"id\":" + std::to_string(trade->trade_id) +
            ",\"orderId\":" + std::to_string(order->exchange_id) +
            ",\"orderListId\":-1,\"price\":\"" +
            std::string(spec.format_price(trade->price, price)) + "\",\"qty\":\"" +
            std::string(spec.format_qty(trade->qty, qty)) + "\",\"quoteQty\":\"" +
            format_e8(
                std::llround(spec.to_double(trade->qty) * spec.to_double(trade->price) * 1e8)) +
            "\",\"commission\":\"" + format_e8(trade->commission_e8) + "\",\"commissionAsset\":\"" +
            trade->commission_asset + "\",\"time\":" + std::to_string(trade->time_ms) +
            ",\"isBuyer\":" + (buyer ? "true" : "false") +
            ",\"isMaker\":" + (trade->maker ? "true" : "false") + ",\"isBestMatch\":true}";
    }
    return result_frame(request.id, result + "]");
}

std::string order_api::cancel_all(const parsed_request& request, std::int64_t now_ms) {
    std::string refusal;
    const auto symbol = required_symbol(request, refusal);
    if (!symbol) {
        return refusal;
    }
    show_book(*symbol, now_ms);
    if (exchange_->cancel_all(static_cast<std::uint32_t>(*symbol), now_ms * core::ns_per_ms) !=
        exec::gateway_error::none) {
        return error_frame(request.id, 503, -1006,
                           "An unexpected response was received from the message bus. "
                           "Execution status unknown.");
    }
    exchange_->advance_to(now_ms * core::ns_per_ms);
    std::string result = "[";
    for (const exec::exec_report& report : reports_) {
        const auto it = orders_.find(report.client_id.value);
        if (report.kind != exec::exec_kind::cancelled || it == orders_.end()) {
            continue;
        }
        ++stats_.orders_cancelled;
        tracked_order answer = it->second;
        answer.time_ms = now_ms;
        std::string rendered = render_order(answer, true);
        rendered.insert(1, "\"origClientOrderId\":\"" + it->second.client_id + "\",");
        result += (result.size() > 1 ? "," : "") + rendered;
    }
    if (result.size() == 1) {
        return error_frame(request.id, 400, -2011, "Unknown order sent.");
    }
    return result_frame(request.id, result + "]");
}

} // namespace quoter::venue
