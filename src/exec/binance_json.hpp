// binance_json: what the Binance answer and user-data decoders share: a simdjson DOM parser with
// a padded input buffer (both allocated once), typed field readers that report a missing or
// mistyped field through one `ok` flag, and the exact conversions of Binance's decimal texts.
#pragma once

#include "quoter/core/decimal.hpp"
#include "quoter/core/symbol_spec.hpp"
#include "quoter/exec/binance_order_params.hpp"

#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace quoter::exec::detail {

namespace dom = simdjson::dom;

/// A DOM parser that never grows: inputs larger than its capacity fail with CAPACITY.
class json_reader {
public:
    explicit json_reader(std::size_t max_bytes)
        : buffer_(max_bytes + simdjson::SIMDJSON_PADDING, '\0'), max_bytes_(max_bytes) {
        if (parser_.allocate(max_bytes) != simdjson::SUCCESS) {
            max_bytes_ = 0;
        }
        // The parsed document sizes its buffers on demand to the largest input seen so far:
        // parse an input of the full capacity now ("{}" and spaces), at start-up, so that no
        // decode ever allocates.
        if (max_bytes_ >= 2) {
            std::memset(buffer_.data(), ' ', max_bytes_);
            buffer_[0] = '{';
            buffer_[1] = '}';
            (void)parser_
                .parse(reinterpret_cast<const std::uint8_t*>(buffer_.data()), max_bytes_, false)
                .error();
        }
    }

    [[nodiscard]] simdjson::simdjson_result<dom::element> parse(std::string_view text) noexcept {
        if (text.size() > max_bytes_) {
            return simdjson::CAPACITY;
        }
        if (!text.empty()) {
            std::memcpy(buffer_.data(), text.data(), text.size());
        }
        return parser_.parse(reinterpret_cast<const std::uint8_t*>(buffer_.data()), text.size(),
                             false);
    }

private:
    dom::parser parser_;
    std::vector<char> buffer_;
    std::size_t max_bytes_;
};

/// Field readers: a missing or mistyped field clears ok and gives a neutral value, so a decoder
/// reads every field it needs and checks ok once.
class field_reader {
public:
    explicit field_reader(dom::object object) noexcept : object_(object) {}

    [[nodiscard]] bool has(std::string_view key) const noexcept {
        return object_.at_key(key).error() == simdjson::SUCCESS;
    }
    [[nodiscard]] std::string_view text(std::string_view key) noexcept {
        std::string_view value;
        if (object_.at_key(key).get(value) != simdjson::SUCCESS) {
            ok = false;
        }
        return value;
    }
    /// A string field that may be null or absent (empty then).
    [[nodiscard]] std::string_view optional_text(std::string_view key) const noexcept {
        std::string_view value;
        if (object_.at_key(key).get(value) != simdjson::SUCCESS) {
            return {};
        }
        return value;
    }
    [[nodiscard]] std::int64_t integer(std::string_view key) noexcept {
        const auto element = object_.at_key(key);
        std::int64_t value = 0;
        if (element.get(value) == simdjson::SUCCESS) {
            return value;
        }
        std::uint64_t large = 0;
        if (element.get(large) == simdjson::SUCCESS) {
            return static_cast<std::int64_t>(large);
        }
        // Some events send times as strings ("E":"1736996475556").
        std::string_view text;
        if (element.get(text) == simdjson::SUCCESS) {
            const auto parsed = core::parse_decimal(text, {.decimals = 0, .allow_sign = true});
            if (parsed) {
                return *parsed;
            }
        }
        ok = false;
        return 0;
    }
    [[nodiscard]] std::int64_t optional_integer(std::string_view key,
                                                std::int64_t fallback) noexcept {
        return has(key) ? integer(key) : fallback;
    }
    [[nodiscard]] bool boolean(std::string_view key) noexcept {
        bool value = false;
        if (object_.at_key(key).get(value) != simdjson::SUCCESS) {
            ok = false;
        }
        return value;
    }
    [[nodiscard]] dom::object object(std::string_view key) noexcept {
        dom::object value;
        if (object_.at_key(key).get(value) != simdjson::SUCCESS) {
            ok = false;
        }
        return value;
    }
    [[nodiscard]] dom::array array(std::string_view key) noexcept {
        dom::array value;
        if (object_.at_key(key).get(value) != simdjson::SUCCESS) {
            ok = false;
        }
        return value;
    }

    // Exact conversions; an unparsable or off-grid text clears ok.
    [[nodiscard]] core::price price(std::string_view key, const core::symbol_spec& spec) noexcept {
        const auto parsed = spec.parse_price(text(key));
        ok = ok && parsed.has_value();
        return parsed.value_or(core::price{});
    }
    [[nodiscard]] core::qty qty(std::string_view key, const core::symbol_spec& spec) noexcept {
        const auto parsed = spec.parse_qty(text(key));
        ok = ok && parsed.has_value();
        return parsed.value_or(core::qty{});
    }
    /// A signed quantity (futures position amounts).
    [[nodiscard]] core::qty signed_qty(std::string_view key,
                                       const core::symbol_spec& spec) noexcept {
        const auto units =
            core::parse_decimal(text(key), {.decimals = spec.qty_decimals(), .allow_sign = true});
        if (!units || *units % spec.step_units() != 0) {
            ok = false;
            return core::qty{};
        }
        return core::qty{*units / spec.step_units()};
    }
    /// A signed decimal in units of 10^-8 (balances, commissions).
    [[nodiscard]] std::int64_t e8(std::string_view key) noexcept {
        const auto parsed = core::parse_decimal(text(key), {.decimals = 8, .allow_sign = true});
        ok = ok && parsed.has_value();
        return parsed.value_or(0);
    }

    bool ok = true;

private:
    dom::object object_;
};

/// Index of the symbol called name in symbols; symbols.size() when it is not there.
[[nodiscard]] inline std::uint32_t find_symbol(std::span<const core::symbol_spec> symbols,
                                               std::string_view name) noexcept {
    for (std::size_t i = 0; i < symbols.size(); ++i) {
        if (symbols[i].name().view() == name) {
            return static_cast<std::uint32_t>(i);
        }
    }
    return static_cast<std::uint32_t>(symbols.size());
}

[[nodiscard]] inline bool parse_side(std::string_view text, core::side& side) noexcept {
    if (text == "BUY") {
        side = core::side::buy;
        return true;
    }
    if (text == "SELL") {
        side = core::side::sell;
        return true;
    }
    return false;
}

} // namespace quoter::exec::detail
