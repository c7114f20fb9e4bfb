#include "quoter/live/subscription.hpp"

#include <chrono>
#include <utility>

namespace quoter::live {

namespace {

std::string case_folded(std::string_view name, bool upper) {
    std::string out(name);
    for (char& c : out) {
        if (upper && c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        } else if (!upper && c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

} // namespace

std::string upper_symbol(std::string_view name) { return case_folded(name, true); }
std::string lower_symbol(std::string_view name) { return case_folded(name, false); }

std::string depth_stream(const subscription_config& config, std::string_view symbol) {
    const std::int32_t default_ms = config.venue == md::market::spot ? 1000 : 250;
    std::string name = lower_symbol(symbol) + "@depth";
    if (config.depth_interval_ms != default_ms) {
        name += '@';
        name += std::to_string(config.depth_interval_ms);
        name += "ms";
    }
    return name;
}

std::vector<stream_set> stream_sets(const subscription_config& config,
                                    const net::binance_endpoints& endpoints) {
    const bool futures = config.venue == md::market::usdm_futures;
    const std::string_view trade_suffix = config.trades == trade_stream::trade ? "@trade"
                                                                               : "@aggTrade";
    stream_set books{futures ? endpoints.futures_public_ws : endpoints.spot_ws, {}};
    stream_set trades{futures ? endpoints.futures_market_ws : endpoints.spot_ws, {}};
    for (const std::string& symbol : config.symbols) {
        const std::string lower = lower_symbol(symbol);
        books.streams.push_back(depth_stream(config, symbol));
        if (config.book_ticker) {
            books.streams.push_back(lower + "@bookTicker");
        }
        if (config.trades != trade_stream::none) {
            (futures ? trades : books).streams.push_back(lower + std::string(trade_suffix));
        }
    }
    std::vector<stream_set> sets;
    sets.push_back(std::move(books));
    if (!trades.streams.empty()) {
        sets.push_back(std::move(trades));
    }
    return sets;
}

const std::string& rest_origin(md::market venue, const net::binance_endpoints& endpoints) noexcept {
    return venue == md::market::spot ? endpoints.spot_rest : endpoints.futures_rest;
}

std::string snapshot_target(md::market venue, std::string_view symbol, std::uint32_t limit) {
    return std::string(venue == md::market::spot ? "/api/v3/depth" : "/fapi/v1/depth") +
           "?symbol=" + upper_symbol(symbol) + "&limit=" + std::to_string(limit);
}

std::string_view exchange_info_target(md::market venue) noexcept {
    return venue == md::market::spot ? "/api/v3/exchangeInfo" : "/fapi/v1/exchangeInfo";
}

std::string_view describe(instruments_error error) noexcept {
    switch (error) {
    case instruments_error::none: return "none";
    case instruments_error::unavailable: return "exchangeInfo unavailable (REST failed, no cache)";
    case instruments_error::unknown_symbol: return "symbol not in exchangeInfo";
    case instruments_error::bad_filters: return "symbol filters invalid";
    case instruments_error::stopped: return "stopped";
    }
    return "unknown";
}

core::result<instruments_source, instruments_error>
load_instruments(net::io_loop& loop, net::rest_client& rest, const subscription_config& config,
                 const instruments_config& source, md::symbol_registry& registry,
                 const std::atomic<bool>* stop_flag) {
    core::result<md::exchange_info, md::exchange_info_error> info =
        core::unexpected{md::exchange_info_error::io};
    instruments_source origin = instruments_source::rest;
    if (!source.offline) {
        bool done = false;
        net::rest_response answer;
        rest.get(std::string(exchange_info_target(config.venue)),
                 [&](net::rest_response&& response) {
                     answer = std::move(response);
                     done = true;
                 });
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(source.timeout_ms);
        while (!done && std::chrono::steady_clock::now() < deadline) {
            if (stop_flag != nullptr && stop_flag->load(std::memory_order_relaxed)) {
                return core::unexpected{instruments_error::stopped};
            }
            loop.run_for(std::chrono::milliseconds(10));
            if (loop.stopped()) {
                loop.restart();
            }
        }
        if (done && answer.ok()) {
            info = md::parse_exchange_info(answer.body, config.venue);
            if (info && !source.cache_path.empty()) {
                // A cache that cannot be written only costs offline runs; live goes on.
                (void)md::save_exchange_info_file(source.cache_path, answer.body);
            }
        }
    }
    if (!info && !source.cache_path.empty()) {
        info = md::load_exchange_info_file(source.cache_path, config.venue);
        origin = instruments_source::cache;
    }
    if (!info) {
        return core::unexpected{instruments_error::unavailable};
    }
    std::vector<std::string> names;
    names.reserve(config.symbols.size());
    for (const std::string& symbol : config.symbols) {
        names.push_back(upper_symbol(symbol));
    }
    const std::vector<std::string_view> views(names.begin(), names.end());
    auto ids = md::register_symbols(registry, *info, views);
    if (!ids) {
        return core::unexpected{ids.error() == md::exchange_info_error::unknown_symbol
                                    ? instruments_error::unknown_symbol
                                    : instruments_error::bad_filters};
    }
    return origin;
}

} // namespace quoter::live
