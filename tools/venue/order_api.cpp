#include "order_api.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

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

bool same_hex(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
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
    : market_(market), options_(std::move(options)), signer_(options_.api_secret) {}

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
    switch (report.kind) {
    case exec::exec_kind::ack:
        order.exchange_id = report.exchange_id;
        break;
    case exec::exec_kind::partial_fill:
        order.executed = report.cum_qty;
        order.status = "PARTIALLY_FILLED";
        break;
    case exec::exec_kind::fill:
        order.executed = report.cum_qty;
        order.status = "FILLED";
        order.open = false;
        break;
    case exec::exec_kind::cancelled:
        order.status = report.reason == exec::reject_reason::expired ? "EXPIRED" : "CANCELED";
        order.open = false;
        break;
    case exec::exec_kind::reject:
        order.status = "REJECTED";
        order.open = false;
        break;
    case exec::exec_kind::cancel_reject:
    case exec::exec_kind::unknown:
        break;
    }
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

std::string order_api::render_order(const tracked_order& order, bool full) const {
    const core::symbol_spec& spec = specs_[order.symbol];
    std::array<char, 48> price{};
    std::array<char, 48> orig{};
    std::array<char, 48> executed{};
    std::string out = "{\"symbol\":\"" + std::string(spec.name().view()) +
                      "\",\"orderId\":" + std::to_string(order.exchange_id) +
                      ",\"orderListId\":-1,\"clientOrderId\":\"" + order.client_id +
                      "\",\"transactTime\":" + std::to_string(order.time_ms);
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

std::string order_api::handle(std::string_view request, std::int64_t now_ms) {
    ++stats_.requests;
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
    dom::object params;
    if (root.at_key("method").get(method) != simdjson::SUCCESS ||
        root.at_key("params").get(params) != simdjson::SUCCESS) {
        return error_frame(parsed.id, 400, -1000, "Malformed request.");
    }
    parsed.method = std::string(method);
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

    // Authentication, in Binance's order: key, signature, then time.
    const std::string* api_key = parsed.param("apiKey");
    if (api_key == nullptr || *api_key != options_.api_key) {
        return error_frame(parsed.id, 401, -2015,
                           "Invalid API-key, IP, or permissions for action.");
    }
    if (signature.empty()) {
        return missing(parsed.id, "signature");
    }
    std::string payload; // std::map iterates by name: the sorted payload
    for (const auto& [name, value] : parsed.params) {
        if (!payload.empty()) {
            payload += '&';
        }
        payload += name + "=" + value;
    }
    if (!same_hex(signer_.sign(payload).view(), signature)) {
        ++stats_.signature_failures;
        return error_frame(parsed.id, 400, -1022, "Signature for this request is not valid.");
    }
    const std::string* timestamp = parsed.param("timestamp");
    if (timestamp == nullptr) {
        return missing(parsed.id, "timestamp");
    }
    std::int64_t recv_window = 5000;
    if (const std::string* window = parsed.param("recvWindow"); window != nullptr) {
        recv_window = std::atoll(window->c_str());
        if (recv_window > 60'000 || recv_window <= 0) {
            return error_frame(parsed.id, 400, -1131, "recvWindow must be less than 60000");
        }
    }
    const std::int64_t sent_ms = std::atoll(timestamp->c_str());
    if (sent_ms > now_ms + 1000 || now_ms - sent_ms > recv_window) {
        return error_frame(parsed.id, 400, -1021,
                           "Timestamp for this request is outside of the recvWindow.");
    }

    ensure_exchange();
    reports_.clear();
    // Orders that can no longer change were answered for already; keep only open ones, so a
    // long demo does not grow without bound.
    std::erase_if(orders_, [](const auto& entry) { return !entry.second.open; });
    if (parsed.method == "order.place") {
        std::string answer = place(parsed, now_ms);
        if (drop_place_answers_ > 0) {
            --drop_place_answers_;
            ++stats_.answers_dropped;
            return {};
        }
        return answer;
    }
    if (parsed.method == "order.status") {
        return order_status(parsed);
    }
    if (parsed.method == "order.cancel") {
        return cancel(parsed, now_ms);
    }
    if (parsed.method == "openOrders.cancelAll") {
        return cancel_all(parsed, now_ms);
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
    return result_frame(request.id, render_order(orders_.at(id), full));
}

bool order_api::names_order(const tracked_order& order, std::size_t symbol,
                            const std::string* orig_client_id, const std::string* order_id) {
    return order.symbol == symbol &&
           (orig_client_id == nullptr || order.client_id == *orig_client_id) &&
           (order_id == nullptr || std::to_string(order.exchange_id) == *order_id);
}

std::string order_api::cancel(const parsed_request& request, std::int64_t now_ms) {
    const std::string* symbol_name = request.param("symbol");
    if (symbol_name == nullptr) {
        return missing(request.id, "symbol");
    }
    const auto symbol = market_.find(*symbol_name);
    if (!symbol) {
        return error_frame(request.id, 400, -1121, "Invalid symbol.");
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
    if (exchange_->cancel(static_cast<std::uint32_t>(*symbol), exec::client_order_id{id},
                          now_ms * core::ns_per_ms) != exec::gateway_error::none) {
        return error_frame(request.id, 503, -1006,
                           "An unexpected response was received from the message bus. "
                           "Execution status unknown.");
    }
    exchange_->advance_to(now_ms * core::ns_per_ms);
    const tracked_order& order = orders_.at(id);
    if (order.status != "CANCELED") {
        return error_frame(request.id, 400, -2011, "Unknown order sent.");
    }
    ++stats_.orders_cancelled;
    tracked_order answer = order;
    answer.time_ms = now_ms;
    const std::string* cancel_id = request.param("newClientOrderId");
    answer.client_id = cancel_id != nullptr ? *cancel_id : "venue-cancel-" + std::to_string(id);
    std::string rendered = render_order(answer, true);
    rendered.insert(1, "\"origClientOrderId\":\"" + order.client_id + "\",");
    return result_frame(request.id, rendered);
}

std::string order_api::order_status(const parsed_request& request) {
    const std::string* symbol_name = request.param("symbol");
    if (symbol_name == nullptr) {
        return missing(request.id, "symbol");
    }
    const auto symbol = market_.find(*symbol_name);
    if (!symbol) {
        return error_frame(request.id, 400, -1121, "Invalid symbol.");
    }
    const std::string* orig = request.param("origClientOrderId");
    const std::string* order_id = request.param("orderId");
    if (orig == nullptr && order_id == nullptr) {
        return missing(request.id, "orderId");
    }
    // Finished orders are forgotten (see handle()): like an archived order, they no longer
    // exist for the query.
    for (const auto& [key, order] : orders_) {
        if (names_order(order, *symbol, orig, order_id)) {
            return result_frame(request.id, render_order(order, true));
        }
    }
    return error_frame(request.id, 400, -2013, "Order does not exist.");
}

std::string order_api::cancel_all(const parsed_request& request, std::int64_t now_ms) {
    const std::string* symbol_name = request.param("symbol");
    if (symbol_name == nullptr) {
        return missing(request.id, "symbol");
    }
    const auto symbol = market_.find(*symbol_name);
    if (!symbol) {
        return error_frame(request.id, 400, -1121, "Invalid symbol.");
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
