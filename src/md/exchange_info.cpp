#include "quoter/md/exchange_info.hpp"

#include "quoter/core/decimal.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace quoter::md {
namespace {

std::string_view text_of(simdjson::dom::element element, std::string_view key) {
    std::string_view value;
    if (element[key].get(value) != simdjson::SUCCESS) {
        return {};
    }
    return value;
}

// Whether decimal text a is larger than b; false when either cannot be read (the filter
// already taken stays).
bool decimal_above(std::string_view a, std::string_view b) {
    const auto a_decimals = core::significant_decimals(a);
    const auto b_decimals = core::significant_decimals(b);
    if (!a_decimals || !b_decimals) {
        return false;
    }
    const core::decimal_options options{.decimals = std::max(*a_decimals, *b_decimals)};
    const auto a_value = core::parse_decimal(a, options);
    const auto b_value = core::parse_decimal(b, options);
    return a_value && b_value && *a_value > *b_value;
}

} // namespace

std::string_view describe(exchange_info_error error) noexcept {
    switch (error) {
    case exchange_info_error::none: return "no error";
    case exchange_info_error::io: return "cannot read or write the exchangeInfo file";
    case exchange_info_error::json: return "not an exchangeInfo document";
    case exchange_info_error::unknown_symbol: return "symbol not in exchangeInfo";
    case exchange_info_error::bad_filters: return "symbol filters do not form a valid spec";
    }
    return "unknown error";
}

const exchange_symbol* exchange_info::find(std::string_view name) const noexcept {
    for (const exchange_symbol& symbol : symbols) {
        if (symbol.name == name) {
            return &symbol;
        }
    }
    return nullptr;
}

core::result<exchange_info, exchange_info_error> parse_exchange_info(std::string_view body,
                                                                     market venue) {
    simdjson::dom::parser parser;
    const simdjson::padded_string padded(body);
    simdjson::dom::element root;
    if (parser.parse(padded).get(root) != simdjson::SUCCESS) {
        return core::unexpected{exchange_info_error::json};
    }
    simdjson::dom::array symbols;
    if (root["symbols"].get(symbols) != simdjson::SUCCESS) {
        return core::unexpected{exchange_info_error::json};
    }
    exchange_info info;
    info.venue = venue;
    for (simdjson::dom::element entry : symbols) {
        const std::string_view name = text_of(entry, "symbol");
        std::string_view tick_size;
        std::string_view step_size;
        std::string_view min_notional;
        std::string_view max_qty;
        std::string_view max_notional;
        simdjson::dom::array filters;
        if (!name.empty() && entry["filters"].get(filters) == simdjson::SUCCESS) {
            for (simdjson::dom::element filter : filters) {
                const std::string_view type = text_of(filter, "filterType");
                if (type == "PRICE_FILTER") {
                    tick_size = text_of(filter, "tickSize");
                } else if (type == "LOT_SIZE") {
                    step_size = text_of(filter, "stepSize");
                    max_qty = text_of(filter, "maxQty");
                } else if (type == "NOTIONAL" || type == "MIN_NOTIONAL") {
                    // spot: minNotional; USD-M futures: notional. A symbol listing both
                    // filters must meet both: the larger minimum holds.
                    const std::string_view spot = text_of(filter, "minNotional");
                    const std::string_view listed =
                        spot.empty() ? text_of(filter, "notional") : spot;
                    if (min_notional.empty() || decimal_above(listed, min_notional)) {
                        min_notional = listed;
                    }
                    if (type == "NOTIONAL") {
                        max_notional = text_of(filter, "maxNotional"); // limit orders too
                    }
                }
            }
        }
        std::int64_t base_precision = 0;
        if (entry["baseAssetPrecision"].get(base_precision) != simdjson::SUCCESS) {
            base_precision = 8; // Binance's usual asset precision
        }
        auto trading = core::symbol_spec::from_text({.name = name,
                                                     .tick_size = tick_size,
                                                     .step_size = step_size,
                                                     .min_notional = min_notional});
        if (name.empty() || !trading) {
            ++info.skipped;
            continue;
        }
        trading->set_reduce_only_waives_min_notional(venue == market::usdm_futures);
        // Unreadable maximums leave none: the venue's reject then says what the limit was.
        (void)trading->set_venue_maximums(max_qty, max_notional);
        // Book quantities may be finer than today's step (see instrument.hpp), never finer than
        // the asset precision, and never coarser than the step.
        const int qty_decimals = std::max(static_cast<int>(base_precision), trading->qty_decimals());
        const auto book = make_book_spec(name, tick_size, qty_decimals);
        if (!book) {
            ++info.skipped;
            continue;
        }
        exchange_symbol symbol;
        symbol.name = std::string(name);
        symbol.status = std::string(text_of(entry, "status"));
        symbol.info = {.book_spec = *book,
                       .trading_spec = *trading,
                       .venue = venue,
                       .status = parse_symbol_status(symbol.status)};
        info.symbols.push_back(std::move(symbol));
    }
    return info;
}

core::result<exchange_info, exchange_info_error> load_exchange_info_file(const std::string& path,
                                                                         market venue) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        return core::unexpected{exchange_info_error::io};
    }
    std::ostringstream contents;
    contents << file.rdbuf();
    if (!file.good() && !file.eof()) {
        return core::unexpected{exchange_info_error::io};
    }
    return parse_exchange_info(contents.str(), venue);
}

core::result<bool, exchange_info_error> save_exchange_info_file(const std::string& path,
                                                                std::string_view body) {
    if (const auto parsed = parse_exchange_info(body, market::spot); !parsed) {
        return core::unexpected{parsed.error()};
    }
    const std::string temporary = path + ".tmp";
    {
        std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
        if (!file) {
            return core::unexpected{exchange_info_error::io};
        }
        file.write(body.data(), static_cast<std::streamsize>(body.size()));
        file.flush();
        if (!file) {
            std::remove(temporary.c_str());
            return core::unexpected{exchange_info_error::io};
        }
    }
    if (std::rename(temporary.c_str(), path.c_str()) != 0) {
        std::remove(temporary.c_str());
        return core::unexpected{exchange_info_error::io};
    }
    return true;
}

core::result<std::vector<symbol_id>, exchange_info_error>
register_symbols(symbol_registry& registry, const exchange_info& info,
                 std::span<const std::string_view> names) {
    std::vector<symbol_id> ids;
    ids.reserve(names.size());
    for (const std::string_view name : names) {
        const exchange_symbol* symbol = info.find(name);
        if (symbol == nullptr) {
            return core::unexpected{exchange_info_error::unknown_symbol};
        }
        symbol_id id = registry.find(name);
        if (id == invalid_symbol) {
            id = registry.add(symbol->info);
        }
        if (id == invalid_symbol) {
            return core::unexpected{exchange_info_error::bad_filters};
        }
        ids.push_back(id);
    }
    return ids;
}

} // namespace quoter::md
