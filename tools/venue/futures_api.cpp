// futures_api's handlers (the contract is in futures_api.hpp): quoter-venue's USD-M futures order
// endpoints, listenKeys, the countdown and their faults. One piece, about 750 lines: every
// endpoint authenticates and answers through the same order table, position book and event
// queue, as order_api does for spot.
#include "futures_api.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>

namespace quoter::venue {
namespace {

constexpr std::int64_t listen_key_lifetime_ms = 60 * 60 * 1'000;

futures_answer error(int status, int code, std::string_view msg) {
    futures_answer out;
    out.status = status;
    out.body = "{\"code\":" + std::to_string(code) + ",\"msg\":\"" + std::string(msg) + "\"}";
    return out;
}

/// A 429 or 418 -1003 whose Retry-After (whole seconds, at least 1) runs from venue_ms to
/// until_ms.
futures_answer rate_refusal(int status, std::int64_t venue_ms, std::int64_t until_ms) {
    futures_answer out =
        error(status, -1003,
              status == 418 ? "Way too many requests; IP banned until " + std::to_string(until_ms) +
                                  ". Please use the websocket for live updates to avoid bans."
                            : std::string("Too many requests; current limit is 2400 requests per "
                                          "minute. Please use the websocket for live updates to "
                                          "avoid polling the API."));
    out.retry_after_s = std::max<std::int64_t>(1, (until_ms - venue_ms + 999) / 1000);
    return out;
}

futures_answer ok(std::string body) {
    futures_answer out;
    out.body = std::move(body);
    return out;
}

futures_answer missing(std::string_view name) {
    return error(400, -1102,
                 "Mandatory parameter '" + std::string(name) +
                     "' was not sent, was empty/null, or malformed.");
}

futures_answer unknown_status() {
    return error(503, -1006,
                 "An unexpected response was received from the message bus. Execution status "
                 "unknown.");
}

std::string_view tif_name(const exec::order_request& order) {
    if (order.post_only) {
        return "GTX";
    }
    switch (order.tif) {
    case exec::time_in_force::gtc:
        return "GTC";
    case exec::time_in_force::ioc:
        return "IOC";
    case exec::time_in_force::fok:
        return "FOK";
    }
    return "GTC";
}

/// Adds the k=v pairs of text (no percent-decoding: quoter's clients never encode).
void add_params(std::string_view text, std::map<std::string, std::string, std::less<>>& out) {
    while (!text.empty()) {
        const std::size_t amp = text.find('&');
        const std::string_view pair = text.substr(0, amp);
        const std::size_t eq = pair.find('=');
        if (!pair.empty()) {
            out[std::string(pair.substr(0, eq))] =
                eq == std::string_view::npos ? std::string{} : std::string(pair.substr(eq + 1));
        }
        if (amp == std::string_view::npos) {
            break;
        }
        text = text.substr(amp + 1);
    }
}

/// Removes "signature=..." from a query or body; returns its value ("" when absent).
std::string take_signature(std::string& text) {
    std::size_t at = text.starts_with("signature=") ? 0 : text.find("&signature=");
    if (at == std::string::npos) {
        return {};
    }
    const std::size_t value = text.find('=', at) + 1;
    const std::size_t end = std::min(text.find('&', value), text.size());
    std::string signature = text.substr(value, end - value);
    if (at == 0 && end < text.size()) {
        text.erase(0, end + 1); // "signature=..&rest" -> "rest"
    } else {
        text.erase(at, end - at);
    }
    return signature;
}

const std::string* param(const std::map<std::string, std::string, std::less<>>& p,
                         std::string_view name) {
    const auto it = p.find(name);
    return it == p.end() || it->second.empty() ? nullptr : &it->second;
}

} // namespace

futures_api::futures_api(market_state& market, order_api_options options)
    : market_(market), options_(std::move(options)), signer_(options_.api_secret),
      wallet_(options_.balances_e8),
      started_ms_(std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count()),
      usage_(market.limits.futures_weight_per_minute, market.limits.futures_orders_per_10s,
             market.limits.futures_orders_per_minute, 60'000, market.limits.enforced) {}

futures_api::~futures_api() = default;

bool futures_api::serves(std::string_view path) {
    return path == "/fapi/v1/order" || path == "/fapi/v1/allOpenOrders" ||
           path == "/fapi/v1/openOrders" || path == "/fapi/v2/account" ||
           path == "/fapi/v1/userTrades" || path == "/fapi/v1/countdownCancelAll" ||
           path == "/fapi/v1/listenKey" || path == "/fapi/v1/positionSide/dual";
}

void futures_api::ensure_exchange() {
    if (exchange_ && specs_.size() == market_.size()) {
        return;
    }
    specs_.clear();
    for (std::size_t i = 0; i < market_.size(); ++i) {
        const symbol_state& symbol = market_.at(i);
        specs_.push_back(core::symbol_spec::from_text({.name = symbol.name,
                                                       .tick_size = symbol.tick_size,
                                                       .step_size = symbol.step_size,
                                                       .min_notional = symbol.min_notional})
                             .value_or(core::symbol_spec{}));
    }
    positions_.resize(specs_.size(), 0);
    positions_updated_ms_.resize(specs_.size(), 0);
    entry_prices_.resize(specs_.size(), 0.0);
    countdown_at_ms_.resize(specs_.size(), 0);
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

void futures_api::show_book(std::size_t symbol, std::int64_t now_ms) {
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

void futures_api::on_exec_report(const exec::exec_report& report) noexcept {
    reports_.push_back(report);
    const auto it = orders_.find(report.client_id.value);
    if (it == orders_.end()) {
        return;
    }
    tracked_order& order = it->second;
    if (!apply_report(order, report)) {
        return; // a refused placement answers with an error, no event
    }
    if (report.kind == exec::exec_kind::partial_fill || report.kind == exec::exec_kind::fill) {
        const std::int64_t sign = order.request.side == core::side::buy ? 1 : -1;
        std::int64_t& position = positions_[order.symbol];
        double& entry = entry_prices_[order.symbol];
        const std::int64_t before = position;
        position += sign * report.fill_qty.lots();
        positions_updated_ms_[order.symbol] = now_ms_;
        const double price = specs_[order.symbol].to_double(report.price);
        if (before != 0 && (before > 0) != (sign > 0)) {
            // Reduced (or closed, before flipping): the PnL realized goes to the wallet.
            const std::int64_t closed = std::min(std::abs(before), report.fill_qty.lots());
            const double pnl = (price - entry) * (before > 0 ? 1.0 : -1.0) *
                               specs_[order.symbol].to_double(core::qty{closed});
            wallet_.of(margin_asset(order.symbol)) += std::llround(pnl * 1e8);
            wallet_updated_ms_[margin_asset(order.symbol)] = now_ms_;
        }
        if (before == 0 || (before > 0) != (position > 0)) {
            entry = position == 0 ? 0.0 : price; // opened, or flipped through zero
        } else if (std::abs(position) > std::abs(before)) {
            // Grown: the average entry of the whole position.
            entry = (entry * static_cast<double>(std::abs(before)) +
                     price * static_cast<double>(report.fill_qty.lots())) /
                    static_cast<double>(std::abs(position));
        }
    }
    order.updated_ms = now_ms_;
    const bool trade =
        report.kind == exec::exec_kind::partial_fill || report.kind == exec::exec_kind::fill;
    const std::int64_t trade_id = trade ? next_trade_id_++ : 0;
    if (trade) {
        ++stats_.trades; // made, whether or not a stream listens
        order.trades.push_back({.trade_id = trade_id,
                                .price = report.price,
                                .qty = report.fill_qty,
                                .time_ms = now_ms_,
                                .maker = report.liquidity != exec::liquidity_role::taker,
                                .commission_e8 = 0,
                                .commission_asset = margin_asset(order.symbol)});
    }
    add_order_event(order, report, trade_id);
    if (report.kind == exec::exec_kind::partial_fill || report.kind == exec::exec_kind::fill) {
        add_account_event(order.symbol);
    }
}

std::string futures_api::format_position(std::size_t symbol) const {
    std::array<char, 48> text{};
    const std::int64_t lots = positions_[symbol];
    const std::string amount(specs_[symbol].format_qty(core::qty{lots < 0 ? -lots : lots}, text));
    return (lots < 0 ? "-" : "") + amount;
}

void futures_api::add_order_event(const tracked_order& order, const exec::exec_report& report,
                                  std::int64_t trade_id) {
    if (listen_key_.empty()) {
        return;
    }
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
    std::string out =
        "{\"e\":\"ORDER_TRADE_UPDATE\",\"E\":" + std::to_string(now_ms_) +
        ",\"T\":" + std::to_string(now_ms_) + ",\"o\":{\"s\":\"" + std::string(spec.name().view()) +
        "\",\"c\":\"" + order.client_id + "\",\"S\":\"" +
        (order.request.side == core::side::buy ? "BUY" : "SELL") + "\",\"o\":\"LIMIT\",\"f\":\"" +
        std::string(tif_name(order.request)) + "\",\"q\":\"" +
        std::string(spec.format_qty(order.request.qty, qty)) + "\",\"p\":\"" +
        std::string(spec.format_price(order.request.price, price)) +
        "\",\"ap\":\"0\",\"sp\":\"0\",\"x\":\"" + execution + "\",\"X\":\"" + order.status +
        "\",\"i\":" + std::to_string(order.exchange_id) + ",\"l\":\"" +
        std::string(spec.format_qty(trade ? report.fill_qty : core::qty{0}, last_qty)) +
        "\",\"z\":\"" + std::string(spec.format_qty(order.executed, cum)) + "\",\"L\":\"" +
        (garbled
             ? std::string("1.2.3")
             : std::string(spec.format_price(trade ? report.price : core::price{0}, last_price))) +
        "\"" + (trade ? ",\"N\":\"USDT\",\"n\":\"0\"" : "") + ",\"T\":" + std::to_string(now_ms_) +
        ",\"t\":" + std::to_string(trade_id) + ",\"b\":\"0\",\"a\":\"0\",\"m\":" +
        (trade && report.liquidity != exec::liquidity_role::taker ? "true" : "false") +
        ",\"R\":" + (order.request.reduce_only ? "true" : "false") +
        ",\"wt\":\"CONTRACT_PRICE\",\"ot\":\"LIMIT\",\"ps\":\"BOTH\",\"cp\":false,\"rp\":\"0\","
        "\"pP\":false,\"si\":0,\"ss\":0}}";
    ++stats_.user_events;
    events_.emplace_back(listen_key_, std::move(out));
}

void futures_api::add_account_event(std::size_t symbol) {
    if (listen_key_.empty()) {
        return;
    }
    const std::string wallet = format_e8(wallet_.of(margin_asset(symbol)));
    std::string out =
        "{\"e\":\"ACCOUNT_UPDATE\",\"E\":" + std::to_string(now_ms_) +
        ",\"T\":" + std::to_string(now_ms_) + ",\"a\":{\"m\":\"ORDER\",\"B\":[{\"a\":\"" +
        margin_asset(symbol) + "\",\"wb\":\"" + wallet + "\",\"cw\":\"" + wallet +
        "\",\"bc\":\"0\"}],\"P\":[{\"s\":\"" + std::string(specs_[symbol].name().view()) +
        "\",\"pa\":\"" + format_position(symbol) + "\",\"ep\":\"" +
        std::to_string(entry_prices_[symbol]) +
        "\",\"cr\":\"0\",\"up\":\"0\",\"mt\":\"cross\",\"iw\":\"0\","
        "\"ps\":\"BOTH\"}]}}";
    ++stats_.user_events;
    events_.emplace_back(listen_key_, std::move(out));
}

std::string futures_api::render_order(const tracked_order& order) const {
    const core::symbol_spec& spec = specs_[order.symbol];
    std::array<char, 48> price{};
    std::array<char, 48> orig{};
    std::array<char, 48> executed{};
    return "{\"orderId\":" + std::to_string(order.exchange_id) + ",\"symbol\":\"" +
           std::string(spec.name().view()) + "\",\"status\":\"" + order.status +
           "\",\"clientOrderId\":\"" + order.client_id + "\",\"price\":\"" +
           std::string(spec.format_price(order.request.price, price)) +
           "\",\"avgPrice\":\"0\",\"origQty\":\"" +
           std::string(spec.format_qty(order.request.qty, orig)) + "\",\"executedQty\":\"" +
           std::string(spec.format_qty(order.executed, executed)) +
           "\",\"cumQuote\":\"0\",\"timeInForce\":\"" + std::string(tif_name(order.request)) +
           "\",\"type\":\"LIMIT\",\"reduceOnly\":" +
           (order.request.reduce_only ? "true" : "false") + ",\"closePosition\":false,\"side\":\"" +
           (order.request.side == core::side::buy ? "BUY" : "SELL") +
           "\",\"positionSide\":\"BOTH\",\"stopPrice\":\"0\",\"workingType\":\"CONTRACT_PRICE\","
           "\"priceProtect\":false,\"origType\":\"LIMIT\",\"time\":" +
           std::to_string(order.time_ms) +
           ",\"updateTime\":" + std::to_string(std::max(order.updated_ms, order.time_ms)) + "}";
}

std::int64_t futures_api::request_weight(std::string_view method, std::string_view path,
                                         std::string_view query) {
    if (path == "/fapi/v1/order" && method == "POST") {
        return 0; // counted by the ORDERS windows only
    }
    if (path == "/fapi/v1/openOrders") {
        return query.find("symbol=") == std::string_view::npos ? 40 : 1;
    }
    if (path == "/fapi/v2/account" || path == "/fapi/v1/userTrades") {
        return 5;
    }
    if (path == "/fapi/v1/countdownCancelAll") {
        return 10;
    }
    if (path == "/fapi/v1/positionSide/dual") {
        return 30;
    }
    return 1;
}

futures_answer futures_api::handle(std::string_view method, std::string_view path,
                                   std::string_view query, std::string_view body,
                                   std::string_view api_key, std::int64_t now_ms) {
    if (now_ms < silent_until_ms_) {
        ++stats_.silenced;
        futures_answer out;
        out.withheld = true;
        return out;
    }
    ++stats_.requests;
    // Rate limits first: Binance counts every request, whatever it is. Retry-After in seconds.
    const std::int64_t venue_ms = now_ms + clock_offset_ms_;
    if (const auto verdict = limits_.check(venue_ms, stats_.answers_429, stats_.answers_418,
                                           stats_.requests_in_backoff);
        verdict.status != 0) {
        return rate_refusal(verdict.status, venue_ms, verdict.until_ms);
    }
    const bool new_order = path == "/fapi/v1/order" && method == "POST";
    const auto usage = usage_.admit(venue_ms, request_weight(method, path, query), new_order);
    futures_answer out = [&] {
        if (usage.code == -1003) {
            ++stats_.weight_limit_answers;
            limits_.told_to_back_off(venue_ms, usage.until_ms, market_.limits.ban_ms);
            return error(429, -1003,
                         "Too many requests; current limit is " + std::to_string(usage.limit) +
                             " requests per minute. Please use the websocket for live updates "
                             "to avoid polling the API.");
        }
        if (usage.code == -1015) {
            ++stats_.order_limit_answers;
            return error(429, -1015,
                         "Too many new orders; current limit is " + std::to_string(usage.limit) +
                             (usage.until_ms - venue_ms > 10'000 ? " orders per MINUTE."
                                                                 : " orders per TEN_SECONDS."));
        }
        return answer(method, path, query, body, api_key, now_ms);
    }();
    if (usage.code != 0) {
        out.retry_after_s = std::max<std::int64_t>(1, (usage.until_ms - venue_ms + 999) / 1000);
    }
    out.used_weight_1m = usage_.weight();
    out.order_count_10s = usage_.orders_10s();
    out.order_count_1m = usage_.orders_long();
    return out;
}

futures_answer futures_api::answer(std::string_view method, std::string_view path,
                                   std::string_view query, std::string_view body,
                                   std::string_view api_key, std::int64_t now_ms) {
    if (api_key != options_.api_key) {
        return error(401, -2015, "Invalid API-key, IP, or permissions for action.");
    }
    ensure_exchange();
    now_ms_ = now_ms;
    if (path == "/fapi/v1/listenKey") {
        return listen_key(method, now_ms);
    }
    return signed_request(method, path, query, body, now_ms);
}

futures_answer futures_api::listen_key(std::string_view method, std::int64_t now_ms) {
    (void)now_ms;
    if (method == "POST") {
        if (listen_key_.empty()) {
            // 64 characters, different for every key.
            listen_key_ = std::string(signer_
                                          .sign("listenKey" + std::to_string(next_listen_key_++) +
                                                "/" + std::to_string(now_ms))
                                          .view());
            ++stats_.listen_keys_created;
        }
        return ok("{\"listenKey\":\"" + listen_key_ + "\"}");
    }
    if (listen_key_.empty()) {
        return error(400, -1125, "This listenKey does not exist.");
    }
    if (method == "PUT") {
        ++stats_.keepalives;
        return ok("{\"listenKey\":\"" + listen_key_ + "\"}");
    }
    if (method == "DELETE") {
        expired_keys_.push_back(listen_key_);
        listen_key_.clear();
        return ok("{}");
    }
    return error(405, -1, "Method not allowed.");
}

std::optional<futures_answer> futures_api::refuse_time_request(std::int64_t now_ms) {
    if (time_limits_ == 0) {
        return std::nullopt;
    }
    --time_limits_;
    ++stats_.requests;
    ++stats_.answers_429;
    // On the venue's clock without the clock fault: a test that skews the clock to have an
    // order refused -1021, then sets it right, gets the backoff it asked for.
    limits_.told_to_back_off(now_ms, now_ms + time_limit_ms_, market_.limits.ban_ms);
    return rate_refusal(429, now_ms, now_ms + time_limit_ms_);
}

void futures_api::limit_rate(std::int64_t now_ms, std::int64_t ms, std::int64_t ban_ms,
                             bool ban_now) {
    const std::int64_t venue_ms = now_ms + clock_offset_ms_;
    limits_.ban_ms = ban_ms;
    limits_.answered_429 = false;
    limits_.in_flight_until_ms = 0;
    if (ban_now) {
        limits_.banned_until_ms = venue_ms + ban_ms;
        return;
    }
    limits_.limited_until_ms = venue_ms + ms;
}

void futures_api::expire_listen_key(std::int64_t now_ms) {
    if (listen_key_.empty()) {
        return;
    }
    ++stats_.listen_keys_expired;
    events_.emplace_back(listen_key_,
                         "{\"e\":\"listenKeyExpired\",\"E\":" + std::to_string(now_ms) +
                             ",\"listenKey\":\"" + listen_key_ + "\"}");
    expired_keys_.push_back(listen_key_);
    listen_key_.clear();
}

void futures_api::lose_listen_key() {
    if (listen_key_.empty()) {
        return;
    }
    ++stats_.listen_keys_lost;
    listen_key_.clear();
}

bool futures_api::is_listen_key(std::string_view key) const {
    return !listen_key_.empty() && key == listen_key_;
}

std::vector<std::pair<std::string, std::string>> futures_api::take_events() {
    std::vector<std::pair<std::string, std::string>> out;
    out.swap(events_);
    return out;
}

std::vector<std::string> futures_api::take_expired_keys() {
    std::vector<std::string> out;
    out.swap(expired_keys_);
    return out;
}

futures_answer futures_api::signed_request(std::string_view method, std::string_view path,
                                           std::string_view query_text, std::string_view body_text,
                                           std::int64_t now_ms) {
    // Binance signs the query string as sent followed by the body as sent.
    std::string query(query_text);
    std::string body(body_text);
    std::string signature = take_signature(query);
    if (signature.empty()) {
        signature = take_signature(body);
    }
    if (signature.empty()) {
        return missing("signature");
    }
    if (!same_hex(signer_.sign(query + body).view(), signature)) {
        ++stats_.signature_failures;
        return error(400, -1022, "Signature for this request is not valid.");
    }
    params p;
    add_params(query, p);
    add_params(body, p);
    const std::string* timestamp = param(p, "timestamp");
    if (timestamp == nullptr) {
        return missing("timestamp");
    }
    // The clock fault moves the venue's clock for this check only (the matching engine's time
    // never runs backwards).
    switch (check_timestamp(*timestamp, param(p, "recvWindow"), now_ms + clock_offset_ms_)) {
    case timestamp_check::ok:
        break;
    case timestamp_check::bad_window:
        return error(400, -1131, "recvWindow must be less than 60000");
    case timestamp_check::outside:
        ++stats_.clock_rejects;
        return error(400, -1021, "Timestamp for this request is outside of the recvWindow.");
    }
    reports_.clear();
    forget_finished();
    if (path == "/fapi/v1/order" && method == "POST" && late_orders_ > 0 && !executing_late_) {
        // Not executed yet: held on its way to the matching engine, answered "unknown".
        --late_orders_;
        ++stats_.orders_late;
        late_requests_.push_back(late_order{.query = std::string(query_text),
                                            .body = std::string(body_text),
                                            .due_ms = now_ms + late_order_ms_});
        return error(503, -1007,
                     "Timeout waiting for response from backend server. Send status unknown; "
                     "execution status unknown.");
    }
    if (path == "/fapi/v1/order" && method == "POST") {
        futures_answer answer = place(p, now_ms);
        if (answer.status == 200 && drop_place_answers_ > 0) {
            --drop_place_answers_;
            ++stats_.answers_dropped;
            answer.withheld = true;
        } else if (answer.status == 200 && fail_after_execute_ > 0) {
            --fail_after_execute_;
            ++stats_.failed_after_execute;
            return unknown_status();
        } else if (answer.status == 200 && delay_place_answers_ > 0) {
            --delay_place_answers_;
            ++stats_.answers_delayed;
            answer.delay_ms = place_answer_delay_ms_;
        }
        return answer;
    }
    if (path == "/fapi/v1/order" && method == "DELETE") {
        return cancel(p, now_ms);
    }
    if (path == "/fapi/v1/order" && method == "GET") {
        futures_answer answer = query_order(p);
        if (delay_status_answers_ > 0) {
            --delay_status_answers_;
            ++stats_.status_answers_delayed;
            answer.delay_ms = status_answer_delay_ms_;
        }
        return answer;
    }
    if (path == "/fapi/v1/allOpenOrders" && method == "DELETE") {
        if (lose_cancel_alls_ > 0) {
            --lose_cancel_alls_;
            ++stats_.cancel_alls_lost;
            return unknown_status();
        }
        return cancel_all(p, now_ms);
    }
    if (path == "/fapi/v1/openOrders" && method == "GET") {
        return open_orders(p);
    }
    if (path == "/fapi/v2/account" && method == "GET") {
        return account();
    }
    if (path == "/fapi/v1/userTrades" && method == "GET") {
        return user_trades(p);
    }
    if (path == "/fapi/v1/countdownCancelAll" && method == "POST") {
        return countdown(p, now_ms);
    }
    if (path == "/fapi/v1/positionSide/dual" && method == "GET") {
        return ok(std::string("{\"dualSidePosition\":") + (options_.hedge_mode ? "true" : "false") +
                  "}");
    }
    return error(405, -1, "Method not allowed.");
}

void futures_api::forget_finished() {
    // Finished orders stay queryable (as on Binance, for a while): keep the last 10,000.
    std::size_t finished = 0;
    for (const auto& [id, order] : orders_) {
        finished += order.open ? 0 : 1;
    }
    for (auto it = orders_.begin(); it != orders_.end() && finished > 10'000;) {
        if (!it->second.open) {
            it = orders_.erase(it);
            --finished;
        } else {
            ++it;
        }
    }
}

futures_answer futures_api::place(const params& p, std::int64_t now_ms) {
    for (const char* name : {"symbol", "side", "type", "quantity", "price", "timeInForce"}) {
        if (param(p, name) == nullptr) {
            return missing(name);
        }
    }
    const auto symbol = market_.find(*param(p, "symbol"));
    if (!symbol) {
        return error(400, -1121, "Invalid symbol.");
    }
    const core::symbol_spec& spec = specs_[*symbol];
    tracked_order order;
    order.symbol = *symbol;
    order.time_ms = now_ms;
    exec::order_request& req = order.request;
    req.symbol = static_cast<std::uint32_t>(*symbol);
    const std::string& side = *param(p, "side");
    if (side != "BUY" && side != "SELL") {
        return error(400, -1100, "Illegal characters found in parameter 'side'.");
    }
    req.side = side == "BUY" ? core::side::buy : core::side::sell;
    if (*param(p, "type") != "LIMIT") {
        return error(400, -1116, "Invalid orderType.");
    }
    const std::string& tif = *param(p, "timeInForce");
    req.post_only = tif == "GTX";
    if (tif == "GTC" || tif == "GTX") {
        req.tif = exec::time_in_force::gtc;
    } else if (tif == "IOC") {
        req.tif = exec::time_in_force::ioc;
    } else if (tif == "FOK") {
        req.tif = exec::time_in_force::fok;
    } else {
        return error(400, -1115, "Invalid timeInForce.");
    }
    const auto price = spec.parse_price(*param(p, "price"));
    if (!price || price->ticks() <= 0) {
        return error(400, -4014, "Price not increased by tick size.");
    }
    const auto qty = spec.parse_qty(*param(p, "quantity"));
    if (!qty || qty->lots() <= 0) {
        return error(400, -4003, "Quantity less than or equal to zero.");
    }
    req.price = *price;
    req.qty = *qty;
    const std::string* position_side = param(p, "positionSide");
    const bool one_way_side = position_side == nullptr || *position_side == "BOTH";
    if (options_.hedge_mode == one_way_side) {
        ++stats_.orders_rejected;
        return error(400, -4061, "Order's position side does not match user's setting.");
    }
    const std::string* reduce = param(p, "reduceOnly");
    req.reduce_only = reduce != nullptr && *reduce == "true";
    if (req.reduce_only) {
        // Reduce-only: the order must shrink the position, never open or grow one.
        const std::int64_t position = positions_[order.symbol];
        const std::int64_t signed_qty = req.side == core::side::buy ? qty->lots() : -qty->lots();
        if (position == 0 || (position > 0) == (signed_qty > 0) ||
            std::abs(signed_qty) > std::abs(position)) {
            ++stats_.orders_rejected;
            return error(400, -2022, "ReduceOnly Order is rejected.");
        }
    }
    const std::string* client = param(p, "newClientOrderId");
    order.client_id = client != nullptr ? *client : "venue-" + std::to_string(next_id_);
    for (const auto& [id, other] : orders_) {
        if (other.client_id == order.client_id && other.symbol == order.symbol) {
            return error(400, -4116, "ClientOrderId is duplicated.");
        }
    }
    req.id = exec::client_order_id{next_id_++};
    const std::uint64_t id = req.id.value;
    orders_.emplace(id, order);
    show_book(order.symbol, now_ms);
    if (exchange_->submit(req, now_ms * core::ns_per_ms) != exec::gateway_error::none) {
        orders_.erase(id);
        return unknown_status();
    }
    exchange_->advance_to(now_ms * core::ns_per_ms);
    for (const exec::exec_report& report : reports_) {
        if (report.client_id.value == id && report.kind == exec::exec_kind::reject) {
            ++stats_.orders_rejected;
            orders_.erase(id);
            if (report.reason == exec::reject_reason::post_only_would_cross) {
                return error(400, -5022,
                             "Due to the order could not be executed as maker, the Post Only "
                             "order will be rejected. The order will not be recorded in the "
                             "order history");
            }
            return error(400, -2010, exec::describe(report.reason));
        }
    }
    ++stats_.orders_placed;
    return ok(render_order(orders_.at(id)));
}

const tracked_order* futures_api::find_order(std::size_t symbol, const params& p) const {
    const std::string* orig = param(p, "origClientOrderId");
    const std::string* order_id = param(p, "orderId");
    const tracked_order* found = nullptr;
    for (const auto& [key, order] : orders_) {
        if (order.symbol == symbol && (orig == nullptr || order.client_id == *orig) &&
            (order_id == nullptr || std::to_string(order.exchange_id) == *order_id)) {
            found = &order; // the latest of that name
        }
    }
    return found;
}

std::optional<std::size_t> futures_api::required_symbol(const params& p,
                                                        futures_answer& refusal) const {
    const std::string* name = param(p, "symbol");
    if (name == nullptr) {
        refusal = missing("symbol");
        return std::nullopt;
    }
    const auto symbol = market_.find(*name);
    if (!symbol) {
        refusal = error(400, -1121, "Invalid symbol.");
    }
    return symbol;
}

futures_answer futures_api::cancel(const params& p, std::int64_t now_ms) {
    futures_answer refusal;
    const auto symbol = required_symbol(p, refusal);
    if (!symbol) {
        return refusal;
    }
    if (param(p, "origClientOrderId") == nullptr && param(p, "orderId") == nullptr) {
        return missing("orderId");
    }
    const tracked_order* order = find_order(*symbol, p);
    if (order == nullptr || !order->open) {
        return error(400, -2011, "Unknown order sent.");
    }
    show_book(*symbol, now_ms);
    const exec::client_order_id id = order->request.id;
    if (exchange_->cancel(static_cast<std::uint32_t>(*symbol), id, now_ms * core::ns_per_ms) !=
        exec::gateway_error::none) {
        return unknown_status();
    }
    exchange_->advance_to(now_ms * core::ns_per_ms);
    const tracked_order& after = orders_.at(id.value);
    if (after.status != "CANCELED") {
        return error(400, -2011, "Unknown order sent."); // filled meanwhile
    }
    ++stats_.orders_cancelled;
    return ok(render_order(after));
}

std::size_t futures_api::cancel_symbol(std::size_t symbol, std::int64_t now_ms) {
    show_book(symbol, now_ms);
    reports_.clear();
    if (exchange_->cancel_all(static_cast<std::uint32_t>(symbol), now_ms * core::ns_per_ms) !=
        exec::gateway_error::none) {
        return 0;
    }
    exchange_->advance_to(now_ms * core::ns_per_ms);
    std::size_t cancelled = 0;
    for (const exec::exec_report& report : reports_) {
        if (report.kind == exec::exec_kind::cancelled &&
            orders_.find(report.client_id.value) != orders_.end()) {
            ++cancelled;
        }
    }
    stats_.orders_cancelled += cancelled;
    return cancelled;
}

futures_answer futures_api::cancel_all(const params& p, std::int64_t now_ms) {
    futures_answer refusal;
    const auto symbol = required_symbol(p, refusal);
    if (!symbol) {
        return refusal;
    }
    (void)cancel_symbol(*symbol, now_ms);
    return ok(R"({"code":200,"msg":"The operation of cancel all open order is done."})");
}

futures_answer futures_api::query_order(const params& p) const {
    futures_answer refusal;
    const auto symbol = required_symbol(p, refusal);
    if (!symbol) {
        return refusal;
    }
    if (param(p, "origClientOrderId") == nullptr && param(p, "orderId") == nullptr) {
        return missing("orderId");
    }
    const tracked_order* order = find_order(*symbol, p);
    if (order == nullptr) {
        return error(400, -2013, "Order does not exist.");
    }
    return ok(render_order(*order));
}

futures_answer futures_api::user_trades(const params& p) {
    futures_answer refusal;
    const auto symbol = required_symbol(p, refusal);
    if (!symbol) {
        return refusal;
    }
    ++stats_.trade_lists;
    const std::string* order_id = param(p, "orderId");
    std::vector<std::pair<const order_trade*, const tracked_order*>> listed;
    for (const auto& [key, order] : orders_) {
        if (order.symbol != *symbol ||
            (order_id != nullptr && std::to_string(order.exchange_id) != *order_id)) {
            continue;
        }
        for (const order_trade& trade : order.trades) {
            listed.emplace_back(&trade, &order);
        }
    }
    std::sort(listed.begin(), listed.end(),
              [](const auto& a, const auto& b) { return a.first->trade_id < b.first->trade_id; });
    const core::symbol_spec& spec = specs_[*symbol];
    std::string out = "[";
    for (const auto& [trade, order] : listed) {
        std::array<char, 48> price{};
        std::array<char, 48> qty{};
        const bool buyer = order->request.side == core::side::buy;
        out += std::string(out.size() > 1 ? "," : "") + "{\"buyer\":" + (buyer ? "true" : "false") +
               ",\"commission\":\"" + format_e8(trade->commission_e8) +
               "\",\"commissionAsset\":\"" + trade->commission_asset +
               "\",\"id\":" + std::to_string(trade->trade_id) +
               ",\"maker\":" + (trade->maker ? "true" : "false") +
               ",\"orderId\":" + std::to_string(order->exchange_id) + ",\"price\":\"" +
               std::string(spec.format_price(trade->price, price)) + "\",\"qty\":\"" +
               std::string(spec.format_qty(trade->qty, qty)) + "\",\"quoteQty\":\"" +
               format_e8(
                   std::llround(spec.to_double(trade->qty) * spec.to_double(trade->price) * 1e8)) +
               "\",\"realizedPnl\":\"0\",\"side\":\"" + (buyer ? "BUY" : "SELL") +
               "\",\"positionSide\":\"BOTH\",\"symbol\":\"" + std::string(spec.name().view()) +
               "\",\"time\":" + std::to_string(trade->time_ms) + "}";
    }
    return ok(out + "]");
}

futures_answer futures_api::open_orders(const params& p) const {
    std::optional<std::size_t> symbol;
    if (const std::string* name = param(p, "symbol"); name != nullptr) {
        symbol = market_.find(*name);
        if (!symbol) {
            return error(400, -1121, "Invalid symbol.");
        }
    }
    std::string out = "[";
    for (const auto& [key, order] : orders_) {
        if (order.open && (!symbol || order.symbol == *symbol)) {
            if (out.size() > 1) {
                out += ',';
            }
            out += render_order(order);
        }
    }
    return ok(out + "]");
}

std::string futures_api::margin_asset(std::size_t symbol) const {
    // As render_exchange_info names it.
    return market_.at(symbol).name.ends_with("USDT") ? "USDT" : "USD";
}

futures_answer futures_api::account() {
    ++stats_.account_reads;
    for (std::size_t i = 0; i < specs_.size(); ++i) {
        (void)wallet_.of(margin_asset(i));
    }
    // Wallets and positions of one state: the venue handles one request at a time, so no fill
    // falls between the two lists.
    std::string assets;
    std::int64_t total_e8 = 0;
    for (const auto& [asset, e8] : wallet_.all()) {
        const std::string amount = format_e8(e8);
        const auto updated = wallet_updated_ms_.find(asset);
        const std::int64_t update_ms =
            updated != wallet_updated_ms_.end() ? updated->second : started_ms_;
        if (asset == "USDT") {
            total_e8 = e8;
        }
        assets += std::string(assets.empty() ? "" : ",") + "{\"asset\":\"" + asset +
                  "\",\"walletBalance\":\"" + amount +
                  "\",\"unrealizedProfit\":\"0.00000000\",\"marginBalance\":\"" + amount +
                  "\",\"maintMargin\":\"0.00000000\",\"initialMargin\":\"0.00000000\","
                  "\"positionInitialMargin\":\"0.00000000\",\"openOrderInitialMargin\":"
                  "\"0.00000000\",\"crossWalletBalance\":\"" +
                  amount + "\",\"crossUnPnl\":\"0.00000000\",\"availableBalance\":\"" + amount +
                  "\",\"maxWithdrawAmount\":\"" + amount +
                  "\",\"marginAvailable\":true,\"updateTime\":" + std::to_string(update_ms) + "}";
    }
    std::string positions;
    for (std::size_t i = 0; i < specs_.size(); ++i) {
        positions += std::string(positions.empty() ? "" : ",") + "{\"symbol\":\"" +
                     std::string(specs_[i].name().view()) +
                     "\",\"initialMargin\":\"0\",\"maintMargin\":\"0\",\"unrealizedProfit\":"
                     "\"0.00000000\",\"positionInitialMargin\":\"0\",\"openOrderInitialMargin\":"
                     "\"0\",\"leverage\":\"20\",\"isolated\":false,\"entryPrice\":\"" +
                     std::to_string(entry_prices_[i]) +
                     "\",\"breakEvenPrice\":\"0.0\",\"maxNotional\":\"1000000\",\"bidNotional\":"
                     "\"0\",\"askNotional\":\"0\",\"positionSide\":\"BOTH\",\"positionAmt\":\"" +
                     format_position(i) +
                     "\",\"updateTime\":" + std::to_string(positions_updated_ms_[i]) + "}";
    }
    const std::string total = format_e8(total_e8);
    return ok("{\"feeTier\":0,\"feeBurn\":true,\"canTrade\":true,\"canDeposit\":true,"
              "\"canWithdraw\":true,\"updateTime\":0,\"multiAssetsMargin\":false,"
              "\"tradeGroupId\":-1,\"totalInitialMargin\":\"0.00000000\",\"totalMaintMargin\":"
              "\"0.00000000\",\"totalWalletBalance\":\"" +
              total + "\",\"totalUnrealizedProfit\":\"0.00000000\",\"totalMarginBalance\":\"" +
              total +
              "\",\"totalPositionInitialMargin\":\"0.00000000\",\"totalOpenOrderInitialMargin\":"
              "\"0.00000000\",\"totalCrossWalletBalance\":\"" +
              total + "\",\"totalCrossUnPnl\":\"0.00000000\",\"availableBalance\":\"" + total +
              "\",\"maxWithdrawAmount\":\"" + total + "\",\"assets\":[" + assets +
              "],\"positions\":[" + positions + "]}");
}

void futures_api::set_wallet(const std::string& asset, std::int64_t amount_e8,
                             std::int64_t wall_now_ms) {
    wallet_.of(asset) = amount_e8;
    wallet_updated_ms_[asset] = std::max(wall_now_ms + clock_offset_ms_, now_ms_);
}

futures_answer futures_api::countdown(const params& p, std::int64_t now_ms) {
    const std::string* symbol_name = param(p, "symbol");
    if (symbol_name == nullptr) {
        return missing("symbol");
    }
    const std::string* time = param(p, "countdownTime");
    if (time == nullptr) {
        return missing("countdownTime");
    }
    const auto symbol = market_.find(*symbol_name);
    if (!symbol) {
        return error(400, -1121, "Invalid symbol.");
    }
    const std::int64_t countdown_ms = std::atoll(time->c_str());
    countdown_at_ms_[*symbol] = countdown_ms > 0 ? now_ms + countdown_ms : 0;
    ++stats_.heartbeats;
    return ok("{\"symbol\":\"" + *symbol_name + "\",\"countdownTime\":\"" + *time + "\"}");
}

void futures_api::tick(std::int64_t now_ms) {
    if (!exchange_) {
        return;
    }
    if (!late_requests_.empty()) {
        // Held placements whose time has come reach the matching engine; their answers went
        // long ago.
        std::vector<late_order> due;
        std::erase_if(late_requests_, [&](late_order& order) {
            if (order.due_ms > now_ms) {
                return false;
            }
            due.push_back(std::move(order));
            return true;
        });
        executing_late_ = true;
        for (const late_order& order : due) {
            const std::uint64_t refused = stats_.clock_rejects;
            now_ms_ = now_ms;
            (void)signed_request("POST", "/fapi/v1/order", order.query, order.body, now_ms);
            if (stats_.clock_rejects != refused) {
                ++stats_.late_orders_expired;
            }
        }
        executing_late_ = false;
    }
    for (std::size_t symbol = 0; symbol < countdown_at_ms_.size(); ++symbol) {
        if (countdown_at_ms_[symbol] == 0 || now_ms < countdown_at_ms_[symbol]) {
            continue;
        }
        countdown_at_ms_[symbol] = 0;
        now_ms_ = now_ms;
        stats_.countdown_cancels += cancel_symbol(symbol, now_ms);
    }
}

void futures_api::on_book(std::size_t symbol, std::int64_t now_ms) {
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

std::optional<std::string> futures_api::outside_market_order(std::size_t symbol,
                                                             core::side aggressor,
                                                             std::string_view qty,
                                                             std::int64_t now_ms) {
    ensure_exchange();
    if (symbol >= specs_.size()) {
        return std::nullopt;
    }
    const core::symbol_spec& spec = specs_[symbol];
    const auto amount = spec.parse_qty(qty);
    if (!amount || amount->lots() <= 0) {
        return std::nullopt;
    }
    now_ms_ = now_ms;
    reports_.clear();
    const core::qty filled = exchange_->on_market_order(
        static_cast<std::uint32_t>(symbol), aggressor, *amount, now_ms * core::ns_per_ms);
    exchange_->advance_to(now_ms * core::ns_per_ms);
    std::array<char, 48> text{};
    return std::string(spec.format_qty(filled, text));
}

std::size_t futures_api::open_order_count() const {
    return static_cast<std::size_t>(std::count_if(
        orders_.begin(), orders_.end(), [](const auto& entry) { return entry.second.open; }));
}

std::string futures_api::open_client_ids_json() const {
    std::string out = "[";
    for (const auto& [key, order] : orders_) {
        if (order.open) {
            out += (out.size() > 1 ? ",\"" : "\"") + order.client_id + "\"";
        }
    }
    return out + "]";
}

std::string futures_api::positions_json() const {
    std::string out = "{";
    for (std::size_t i = 0; i < positions_.size(); ++i) {
        out += (i == 0 ? "\"" : ",\"") + std::string(specs_[i].name().view()) + "\":\"" +
               format_position(i) + "\"";
    }
    return out + "}";
}

std::size_t futures_api::countdowns_armed() const {
    return static_cast<std::size_t>(std::count_if(countdown_at_ms_.begin(), countdown_at_ms_.end(),
                                                  [](std::int64_t at) { return at != 0; }));
}

} // namespace quoter::venue
