// Venue market state, book and JSON helpers.
#include "market.hpp"

#include "quoter/core/decimal.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace quoter::venue {

std::optional<std::pair<std::string, channel>> parse_stream(std::string_view name) {
    const std::size_t at = name.find('@');
    if (at == std::string_view::npos || at == 0) {
        return std::nullopt;
    }
    std::string symbol(name.substr(0, at));
    std::transform(symbol.begin(), symbol.end(), symbol.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const std::string_view kind = name.substr(at + 1);
    if (kind == "depth" || kind.starts_with("depth@")) {
        return std::pair{symbol, channel::depth};
    }
    if (kind == "bookTicker") {
        return std::pair{symbol, channel::book_ticker};
    }
    if (kind == "trade") {
        return std::pair{symbol, channel::trade};
    }
    if (kind == "aggTrade") {
        return std::pair{symbol, channel::agg_trade};
    }
    return std::nullopt;
}

bool book_side::set(std::string_view price, std::string_view quantity) {
    const auto key = core::parse_decimal(price, {.decimals = 8});
    const auto amount = core::parse_decimal(quantity, {.decimals = 8});
    if (!key || !amount) {
        return false;
    }
    if (*amount == 0) {
        levels_.erase(*key);
    } else {
        levels_[*key] = {std::string(price), std::string(quantity)};
    }
    return true;
}

level_list book_side::best(std::size_t limit, bool descending) const {
    level_list out;
    out.reserve(std::min(limit, levels_.size()));
    if (descending) {
        for (auto it = levels_.rbegin(); it != levels_.rend() && out.size() < limit; ++it) {
            out.push_back(it->second);
        }
    } else {
        for (auto it = levels_.begin(); it != levels_.end() && out.size() < limit; ++it) {
            out.push_back(it->second);
        }
    }
    return out;
}

void venue_book::apply(const level_list& bid_updates, const level_list& ask_updates) {
    for (const auto& [price, quantity] : bid_updates) {
        bids.set(price, quantity);
    }
    for (const auto& [price, quantity] : ask_updates) {
        asks.set(price, quantity);
    }
}

std::size_t market_state::add_symbol(std::string_view name) {
    std::string upper(name);
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (const auto existing = find(upper)) {
        return *existing;
    }
    symbol_state state;
    state.name = upper;
    state.stream = upper;
    std::transform(state.stream.begin(), state.stream.end(), state.stream.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    symbols_.push_back(std::move(state));
    return symbols_.size() - 1;
}

std::optional<std::size_t> market_state::find(std::string_view name) const {
    for (std::size_t i = 0; i < symbols_.size(); ++i) {
        const std::string& candidate = symbols_[i].name;
        if (candidate.size() == name.size() &&
            std::equal(candidate.begin(), candidate.end(), name.begin(), [](char a, char b) {
                return std::toupper(static_cast<unsigned char>(a)) ==
                       std::toupper(static_cast<unsigned char>(b));
            })) {
            return i;
        }
    }
    return std::nullopt;
}

bool market_state::take_depth_send_permission(std::size_t index) {
    symbol_state& symbol = symbols_[index];
    if (symbol.withhold_depth > 0) {
        --symbol.withhold_depth;
        ++symbol.withheld;
        return false;
    }
    return true;
}

void market_state::inject_gap(std::optional<std::size_t> index, std::uint32_t count) {
    if (index) {
        symbols_[*index].withhold_depth += count;
        return;
    }
    for (auto& symbol : symbols_) {
        symbol.withhold_depth += count;
    }
}

namespace {

void append_int(std::string& out, std::int64_t value) {
    char buffer[24];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    (void)ec;
    out.append(buffer, end);
}

std::size_t decimals_of(std::string_view step) {
    const auto decimals = core::significant_decimals(step);
    return decimals ? static_cast<std::size_t>(*decimals) : 8;
}

} // namespace

void append_levels(std::string& out, const level_list& levels) {
    out += '[';
    for (std::size_t i = 0; i < levels.size(); ++i) {
        if (i != 0) {
            out += ',';
        }
        out += "[\"";
        out += levels[i].first;
        out += "\",\"";
        out += levels[i].second;
        out += "\"]";
    }
    out += ']';
}

std::string market_state::render_snapshot(std::size_t index, std::size_t limit, bool futures_api,
                                          std::int64_t now_ms) const {
    const symbol_state& symbol = symbols_[index];
    std::string out = "{\"lastUpdateId\":";
    append_int(out, symbol.last_update_id);
    if (futures_api) {
        out += ",\"E\":";
        append_int(out, now_ms);
        out += ",\"T\":";
        append_int(out, now_ms);
    }
    out += ",\"bids\":";
    append_levels(out, symbol.book.bids.best(limit, true));
    out += ",\"asks\":";
    append_levels(out, symbol.book.asks.best(limit, false));
    out += '}';
    return out;
}

std::string market_state::render_exchange_info(bool futures_api, std::int64_t now_ms) const {
    std::string out = "{\"timezone\":\"UTC\",\"serverTime\":";
    append_int(out, now_ms);
    const auto rule = [&out](std::string_view type, std::string_view interval, int number,
                             std::int64_t limit) {
        out += "{\"rateLimitType\":\"";
        out += type;
        out += "\",\"interval\":\"";
        out += interval;
        out += "\",\"intervalNum\":" + std::to_string(number) +
               ",\"limit\":" + std::to_string(limit) + "}";
    };
    out += ",\"rateLimits\":[";
    if (futures_api) {
        rule("REQUEST_WEIGHT", "MINUTE", 1, limits.futures_weight_per_minute);
        out += ',';
        rule("ORDERS", "MINUTE", 1, limits.futures_orders_per_minute);
        out += ',';
        rule("ORDERS", "SECOND", 10, limits.futures_orders_per_10s);
    } else {
        rule("REQUEST_WEIGHT", "MINUTE", 1, limits.spot_weight_per_minute);
        out += ',';
        rule("ORDERS", "SECOND", 10, limits.spot_orders_per_10s);
        out += ',';
        rule("ORDERS", "DAY", 1, limits.spot_orders_per_day);
    }
    out += "],\"exchangeFilters\":[],\"symbols\":[";
    for (std::size_t i = 0; i < symbols_.size(); ++i) {
        const symbol_state& symbol = symbols_[i];
        const std::string quote = symbol.name.ends_with("USDT") ? "USDT" : "USD";
        const std::string base = symbol.name.substr(0, symbol.name.size() - quote.size());
        if (i != 0) {
            out += ',';
        }
        const auto status = symbol_status.find(symbol.name);
        out += "{\"symbol\":\"" + symbol.name + "\",\"status\":\"" +
               (status == symbol_status.end() ? std::string("TRADING") : status->second) +
               "\",\"baseAsset\":\"" + base + "\",\"quoteAsset\":\"" + quote + "\",";
        if (futures_api) {
            out += "\"pair\":\"" + symbol.name +
                   "\",\"contractType\":\"PERPETUAL\",\"marginAsset\":\"" + quote +
                   "\",\"pricePrecision\":" + std::to_string(decimals_of(symbol.tick_size)) +
                   ",\"quantityPrecision\":" + std::to_string(decimals_of(symbol.step_size)) + ",";
        } else {
            out += "\"baseAssetPrecision\":8,\"quotePrecision\":8,\"quoteAssetPrecision\":8,"
                   "\"orderTypes\":[\"LIMIT\",\"LIMIT_MAKER\",\"MARKET\"],";
        }
        out += "\"filters\":[{\"filterType\":\"PRICE_FILTER\",\"minPrice\":\"" + symbol.tick_size +
               "\",\"maxPrice\":\"1000000.00000000\",\"tickSize\":\"" + symbol.tick_size +
               "\"},{\"filterType\":\"LOT_SIZE\",\"minQty\":\"" + symbol.step_size +
               "\",\"maxQty\":\"9000.00000000\",\"stepSize\":\"" + symbol.step_size + "\"},";
        if (futures_api) {
            out +=
                "{\"filterType\":\"MIN_NOTIONAL\",\"notional\":\"" + symbol.min_notional + "\"}]}";
        } else {
            out += "{\"filterType\":\"NOTIONAL\",\"minNotional\":\"" + symbol.min_notional +
                   "\",\"applyMinToMarket\":true,\"maxNotional\":\"9000000.00000000\","
                   "\"applyMaxToMarket\":false,\"avgPriceMins\":5}]}";
        }
    }
    out += "]}";
    return out;
}

namespace {

// Position just past `"key":` (optionally followed by spaces), or npos.
std::size_t value_start(std::string_view json, std::string_view key) {
    std::string pattern;
    pattern.reserve(key.size() + 3);
    pattern += '"';
    pattern += key;
    pattern += "\":";
    const std::size_t at = json.find(pattern);
    if (at == std::string_view::npos) {
        return std::string_view::npos;
    }
    std::size_t pos = at + pattern.size();
    while (pos < json.size() && json[pos] == ' ') {
        ++pos;
    }
    return pos;
}

} // namespace

std::optional<std::int64_t> find_int_field(std::string_view json, std::string_view key) {
    const std::size_t pos = value_start(json, key);
    if (pos == std::string_view::npos) {
        return std::nullopt;
    }
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(json.data() + pos, json.data() + json.size(), value);
    if (ec != std::errc{}) {
        return std::nullopt;
    }
    return value;
}

level_list find_levels_field(std::string_view json, std::string_view key) {
    level_list levels;
    std::size_t pos = value_start(json, key);
    if (pos == std::string_view::npos || pos >= json.size() || json[pos] != '[') {
        return levels;
    }
    ++pos;
    // Each level is ["price","quantity"]; the outer array ends at the first ']' not inside one.
    while (pos < json.size()) {
        while (pos < json.size() && (json[pos] == ',' || json[pos] == ' ')) {
            ++pos;
        }
        if (pos >= json.size() || json[pos] == ']') {
            break;
        }
        if (json[pos] != '[') {
            break;
        }
        const std::size_t npos = std::string_view::npos;
        const std::size_t p0 = json.find('"', pos);
        const std::size_t p1 = p0 == npos ? npos : json.find('"', p0 + 1);
        const std::size_t q0 = p1 == npos ? npos : json.find('"', p1 + 1);
        const std::size_t q1 = q0 == npos ? npos : json.find('"', q0 + 1);
        if (p0 == std::string_view::npos || p1 == std::string_view::npos ||
            q0 == std::string_view::npos || q1 == std::string_view::npos) {
            break;
        }
        const std::size_t close = json.find(']', q1 + 1);
        if (close == std::string_view::npos) {
            break;
        }
        levels.emplace_back(std::string(json.substr(p0 + 1, p1 - p0 - 1)),
                            std::string(json.substr(q0 + 1, q1 - q0 - 1)));
        pos = close + 1;
    }
    return levels;
}

} // namespace quoter::venue
