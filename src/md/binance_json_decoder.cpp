// The general decoder: one pass of simdjson On-Demand over each message that the canonical
// reader (binance_canonical_decoder.cpp) does not take in full; it alone decides errors. Fields
// are dispatched on their raw key bytes and in any order; scalar texts (prices of a bookTicker or
// trade) are kept as views into the input and converted once the whole object has been seen,
// while level arrays are converted right after their array has been walked, which needs the
// symbol's spec at that point. Binance sends "s" before the levels, and a combined stream names
// the symbol first; only a message whose symbol is learned after its levels is walked a second
// time (document rewind).
//
// Speed. The walk is one compact loop: a key selects a route (a value kind plus where the value
// goes), and each value kind is read by exactly one inlined piece of simdjson code. Nothing in
// the loop calls an out-of-line function: the symbol names ("s", "stream") are looked up once
// the walk needs them (before levels, or at the end), and level texts are collected first and
// converted after their array. An out-of-line call per field makes the compiler write simdjson's
// iterator back to memory and reload it, which measured about twice as slow per message.
//
// One piece (about 900 lines) for that reason: the field routes, the string and value
// validation and the walker are the parts of that one loop, and the compiler must see them
// together to inline them into it.
#include "quoter/core/decimal.hpp"
#include "quoter/md/binance_decoder.hpp"

#include "binance_decoder_internal.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <span>
#include <utility>

namespace quoter::md {

static_assert(simdjson::SIMDJSON_PADDING <= message_padding,
              "receive buffers must satisfy simdjson");

namespace ondemand = simdjson::ondemand;

using detail::fits_stream;
using detail::max_ms;
using detail::ms_to_ns;

namespace {

/// Raw key equality: raw points just past the opening quote, inside a padded buffer, so reading
/// N bytes is always safe.
template <std::size_t N>
[[gnu::always_inline]] inline bool key_is(const char* raw, const char (&literal)[N]) noexcept {
    return std::memcmp(raw, literal, N - 1) == 0 && raw[N - 1] == '"';
}

[[gnu::always_inline]] constexpr bool is_json_space(char c) noexcept {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/// Text of a JSON string without its quotes and without unescaping (numbers as text never
/// contain escapes; a backslash makes the later decimal parse fail, as it should). token is the
/// value's raw token (from its opening quote to the next structural character), so the length
/// comes from the structural index instead of a byte scan.
[[gnu::always_inline]] inline std::string_view raw_text(ondemand::raw_json_string raw,
                                                        std::string_view token) noexcept {
    while (token.size() > 2 && is_json_space(token.back())) {
        token.remove_suffix(1);
    }
    if (token.size() >= 2 && token.back() == '"') [[likely]] {
        return {token.data() + 1, token.size() - 2};
    }
    const char* begin = raw.raw();
    const char* end = begin;
    while (*end != '"') {
        ++end;
    }
    return {begin, static_cast<std::size_t>(end - begin)};
}

/// True when a string's text (its raw bytes, not unescaped) surely has no backslash and no
/// control character, so it is valid JSON as it stands; false sends it to valid_string_body(),
/// which decides exactly. Eight bytes at a time: the text lies inside a padded message, so
/// whole-word loads past its end are safe (those bytes are masked off).
[[gnu::always_inline]] inline bool plain_text(std::string_view text) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    std::uint64_t flagged = 0;
    for (std::size_t i = 0; i < text.size(); i += 8) {
        std::uint64_t word = core::detail::load8(text.data() + i);
        if (text.size() - i < 8) {
            const std::uint64_t keep = (std::uint64_t{1} << (8 * (text.size() - i))) - 1;
            word = (word & keep) | (~keep & (ones * 'A')); // neutral filler
        }
        const std::uint64_t backslash = word ^ (ones * '\\');
        // High bit of a byte set when the byte may be zero (backslash) or below 0x20; a false
        // alarm only costs the exact check.
        flagged |= ((backslash - ones) & ~backslash) | ((word - ones * 0x20) & ~word);
    }
    return (flagged & highs) == 0;
}

[[gnu::always_inline]] inline int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/// The code unit of a \uXXXX escape at p (pointing at the backslash), or -1.
[[gnu::always_inline]] inline std::int32_t unicode_escape(const char* p) noexcept {
    if (p[0] != '\\' || p[1] != 'u') {
        return -1;
    }
    std::int32_t unit = 0;
    for (int i = 2; i < 6; ++i) {
        const int digit = hex_digit(p[i]);
        if (digit < 0) {
            return -1;
        }
        unit = unit * 16 + digit;
    }
    return unit;
}

/// Checks the body of a JSON string from just past its opening quote to its closing quote: no
/// control character, only the escapes JSON defines, surrogate escapes in pairs (simdjson's
/// rules). Stage 1 has already checked UTF-8 and that the closing quote exists, so the scan
/// stops there. Out of line: only strings that are not plain_text() come here.
[[gnu::noinline]] bool valid_string_body(const char* p) noexcept {
    for (;; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        if (c == '"') {
            return true;
        }
        if (c < 0x20) {
            return false;
        }
        if (c != '\\') {
            continue;
        }
        switch (p[1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            ++p;
            continue;
        case 'u':
            break;
        default:
            return false;
        }
        const std::int32_t unit = unicode_escape(p);
        if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF)) {
            return false; // not hex, or a low surrogate without its high half
        }
        if (unit >= 0xD800 && unit < 0xDC00) {
            const std::int32_t low = unicode_escape(p + 6);
            if (low < 0xDC00 || low > 0xDFFF) {
                return false;
            }
            p += 6;
        }
        p += 5;
    }
}

constexpr int max_skipped_depth = 256;

/// Reads a value the decoder does not use in full, so that only valid JSON is accepted: the
/// iterator would otherwise skip it by its structure alone (an atom like `tru` or `1x` or an
/// invalid escape would pass). Out of line and rare: unknown fields and extra array items.
[[gnu::noinline]] bool valid_skipped(ondemand::value value, int depth) noexcept {
    ondemand::json_type type;
    if (depth > max_skipped_depth || value.type().get(type) != simdjson::SUCCESS) {
        return false;
    }
    switch (type) {
    case ondemand::json_type::object: {
        ondemand::object object;
        if (value.get_object().get(object) != simdjson::SUCCESS) {
            return false;
        }
        for (auto field : object) {
            ondemand::raw_json_string key;
            ondemand::value inner;
            if (field.key().get(key) != simdjson::SUCCESS || !valid_string_body(key.raw()) ||
                field.value().get(inner) != simdjson::SUCCESS || !valid_skipped(inner, depth + 1)) {
                return false;
            }
        }
        return true;
    }
    case ondemand::json_type::array: {
        ondemand::array array;
        if (value.get_array().get(array) != simdjson::SUCCESS) {
            return false;
        }
        for (auto element : array) {
            ondemand::value inner;
            if (element.get(inner) != simdjson::SUCCESS || !valid_skipped(inner, depth + 1)) {
                return false;
            }
        }
        return true;
    }
    case ondemand::json_type::string: {
        std::string_view text;
        return value.get_string().get(text) == simdjson::SUCCESS;
    }
    case ondemand::json_type::number: {
        ondemand::number number;
        return value.get_number().get(number) == simdjson::SUCCESS;
    }
    case ondemand::json_type::boolean: {
        bool flag = false;
        return value.get_bool().get(flag) == simdjson::SUCCESS;
    }
    case ondemand::json_type::null: {
        bool null = false;
        return value.is_null().get(null) == simdjson::SUCCESS && null;
    }
    }
    return false;
}

/// True when the iterator has consumed every token of the document (simdjson 3.0 reports the
/// position past the last token as out of bounds).
[[gnu::always_inline]] inline bool at_document_end(ondemand::document& document) noexcept {
    return document.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

[[gnu::always_inline]] inline decode_error value_error(simdjson::error_code code) noexcept {
    switch (code) {
    case simdjson::INCORRECT_TYPE:
        return decode_error::wrong_type;
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE:
        return decode_error::bad_number;
    default:
        return decode_error::json;
    }
}

enum field_bit : std::uint32_t {
    has_event = 1U << 0,
    has_event_time = 1U << 1,
    has_transaction_time = 1U << 2,
    has_symbol = 1U << 3,
    has_first_id = 1U << 4,
    has_final_id = 1U << 5,
    has_prev_id = 1U << 6,
    has_bid_levels = 1U << 7,
    has_ask_levels = 1U << 8,
    has_bid_price = 1U << 9,
    has_bid_qty = 1U << 10,
    has_ask_price = 1U << 11,
    has_ask_qty = 1U << 12,
    has_price = 1U << 13,
    has_qty = 1U << 14,
    has_maker = 1U << 15,
    has_trade_id = 1U << 16,
    has_agg_id = 1U << 17,
    has_first_trade = 1U << 18,
    has_last_trade = 1U << 19,
    has_last_update_id = 1U << 20,
    has_code = 1U << 21,
    has_reply = 1U << 22,
};

/// The texts of one book level, as found in the message.
struct level_text {
    std::string_view px;
    std::string_view qty;
};

/// Everything one walk over a message collects.
struct message_fields {
    std::uint32_t seen = 0;
    std::string_view event_type;
    std::uint64_t event_time_ms = 0;
    std::uint64_t transaction_time_ms = 0;
    std::uint64_t first_id = 0;
    std::uint64_t final_id = 0;
    std::uint64_t prev_id = 0;
    std::uint64_t last_update_id = 0;
    std::uint64_t trade_id = 0;
    std::uint64_t agg_id = 0;
    std::uint64_t first_trade = 0;
    std::uint64_t last_trade = 0;
    std::string_view bid_price, bid_qty, ask_price, ask_qty, price_text, qty_text;
    std::string_view symbol_name; ///< "s", not yet looked up.
    std::string_view stream_name; ///< "stream", not yet looked up.
    std::string_view stream_text; ///< The whole "stream" name of an envelope.
    bool buyer_is_maker = false;
    std::size_t bid_count = 0;
    std::size_t ask_count = 0;
};

/// How a field's value is read.
enum class value_kind : std::uint8_t {
    ignore,  ///< Unknown field: skipped by the iterator.
    text,    ///< A string, kept as raw text.
    number,  ///< An unsigned integer.
    boolean, ///< true or false.
    side,    ///< "b"/"a": levels (depthUpdate), a price (bookTicker) or a number (aggTrade "a").
    levels,  ///< "bids"/"asks": levels.
    object,  ///< "data"/"event" of an envelope (root only).
    flag,    ///< Presence is all that matters ("result", "id", "code").
    symbol,  ///< "s": text, then the symbol logic.
    stream,  ///< "stream": text, then the stream-name logic (root only).
};

/// Where a field goes.
struct field_route {
    value_kind kind = value_kind::ignore;
    core::side side = core::side::buy;
    std::uint32_t bit = 0;
    std::string_view message_fields::*text = nullptr;
    std::uint64_t message_fields::*number = nullptr;
};

constexpr field_route text_route(std::string_view message_fields::*member, std::uint32_t bit) {
    return {.kind = value_kind::text, .bit = bit, .text = member};
}

constexpr field_route number_route(std::uint64_t message_fields::*member, std::uint32_t bit) {
    return {.kind = value_kind::number, .bit = bit, .number = member};
}

/// Routes of single-letter keys, indexed by the letter.
constexpr std::array<field_route, 128> make_letter_routes() {
    std::array<field_route, 128> routes{};
    routes['e'] = text_route(&message_fields::event_type, has_event);
    routes['E'] = number_route(&message_fields::event_time_ms, has_event_time);
    routes['T'] = number_route(&message_fields::transaction_time_ms, has_transaction_time);
    routes['s'] = {.kind = value_kind::symbol, .bit = has_symbol};
    routes['U'] = number_route(&message_fields::first_id, has_first_id);
    routes['u'] = number_route(&message_fields::final_id, has_final_id);
    routes['b'] = {.kind = value_kind::side, .side = core::side::buy};
    routes['a'] = {.kind = value_kind::side, .side = core::side::sell};
    routes['B'] = text_route(&message_fields::bid_qty, has_bid_qty);
    routes['A'] = text_route(&message_fields::ask_qty, has_ask_qty);
    routes['p'] = text_route(&message_fields::price_text, has_price);
    routes['q'] = text_route(&message_fields::qty_text, has_qty);
    routes['m'] = {.kind = value_kind::boolean, .bit = has_maker};
    routes['t'] = number_route(&message_fields::trade_id, has_trade_id);
    routes['f'] = number_route(&message_fields::first_trade, has_first_trade);
    routes['l'] = number_route(&message_fields::last_trade, has_last_trade);
    return routes;
}

constexpr std::array<field_route, 128> letter_routes = make_letter_routes();

/// Route of a key of two or more characters; root-only keys count only at the root.
field_route long_key_route(const char* key, bool root) noexcept {
    if (key_is(key, "pu")) {
        return number_route(&message_fields::prev_id, has_prev_id);
    }
    if (root) {
        if (key_is(key, "stream")) {
            return {.kind = value_kind::stream};
        }
        if (key_is(key, "data") || key_is(key, "event")) {
            return {.kind = value_kind::object};
        }
        if (key_is(key, "result") || key_is(key, "id")) {
            return {.kind = value_kind::flag, .bit = has_reply};
        }
        if (key_is(key, "code")) {
            return {.kind = value_kind::flag, .bit = has_code};
        }
    }
    if (key_is(key, "lastUpdateId")) {
        return number_route(&message_fields::last_update_id, has_last_update_id);
    }
    if (key_is(key, "bids")) {
        return {.kind = value_kind::levels, .side = core::side::buy};
    }
    if (key_is(key, "asks")) {
        return {.kind = value_kind::levels, .side = core::side::sell};
    }
    return {};
}

/// Converts one side's level texts; the first failing level decides the error.
decode_error parse_levels(const core::symbol_spec& spec, std::span<const level_text> texts,
                          core::book_level* out) noexcept {
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const auto px = spec.parse_price(texts[i].px);
        if (!px) {
            return decode_error::bad_price;
        }
        const auto quantity = spec.parse_qty(texts[i].qty);
        if (!quantity) {
            return decode_error::bad_qty;
        }
        out[i] = {*px, *quantity};
    }
    return decode_error::none;
}

bool all_of(std::uint32_t seen, std::uint32_t required) noexcept {
    return (seen & required) == required;
}

} // namespace

/// The simdjson state: the parser (allocated once for the largest message) and one side's level
/// texts between walk and conversion.
struct binance_decoder::impl {
    ondemand::parser parser;
    std::vector<level_text> texts;
};

namespace {

/// One decode: walks the document, fills fields and the level arrays.
///
/// The symbol comes out as if "stream" (a stream name in any case: sets the symbol unless an "s"
/// already did) and "s" (sets it, or marks the message as an unknown symbol) were applied in
/// document order. Both are only recorded during the walk and applied when levels need the
/// symbol or at the end of the pass: a later "s" supersedes an earlier stream name, and a second
/// name of the same kind first applies the pending one.
class message_walker {
public:
    message_walker(const symbol_registry& registry, std::vector<core::book_level>& bids,
                   std::vector<core::book_level>& asks, std::vector<level_text>& texts,
                   std::size_t max_levels) noexcept
        : registry_(registry), bids_(bids), asks_(asks), texts_(texts), max_levels_(max_levels) {}

    /// locked: the symbol is final (second pass); stream names no longer override it.
    void start_pass(symbol_id symbol, bool locked) noexcept {
        fields_ = {};
        symbol_ = symbol;
        spec_symbol_ = invalid_symbol;
        symbol_from_s_ = locked;
        deferred_ = false;
        unknown_symbol_ = false;
        pending_symbol_ = false;
        pending_stream_ = false;
    }

    /// Walks an object: the root (root) or the "data"/"event" object of an envelope.
    decode_error walk(ondemand::object object, bool root) noexcept {
        for (auto field : object) {
            ondemand::raw_json_string raw_key;
            if (field.key().get(raw_key) != simdjson::SUCCESS) {
                return decode_error::json;
            }
            ondemand::value value;
            if (field.value().get(value) != simdjson::SUCCESS) {
                return decode_error::json;
            }
            const char* key = raw_key.raw();
            // Single-letter keys are almost every field of a stream message.
            field_route route = key[1] == '"' && static_cast<unsigned char>(key[0]) < 128
                                    ? letter_routes[static_cast<unsigned char>(key[0])]
                                    : long_key_route(key, root);
            value_kind kind = route.kind;
            if (kind == value_kind::side) {
                // "b"/"a" mean different things in different events: decided by the value.
                ondemand::json_type type;
                if (value.type().get(type) != simdjson::SUCCESS) {
                    return decode_error::json;
                }
                const bool bid = route.side == core::side::buy;
                switch (type) {
                case ondemand::json_type::array:
                    kind = value_kind::levels;
                    break;
                case ondemand::json_type::string:
                    route = bid ? text_route(&message_fields::bid_price, has_bid_price)
                                : text_route(&message_fields::ask_price, has_ask_price);
                    kind = value_kind::text;
                    break;
                case ondemand::json_type::number:
                    // The aggregate trade id of an aggTrade; an order id in old trade events.
                    route = bid ? field_route{} : number_route(&message_fields::agg_id, has_agg_id);
                    kind = route.kind;
                    break;
                default:
                    return decode_error::wrong_type;
                }
            }
            switch (kind) {
            case value_kind::ignore:
                // Unused, but it must be valid JSON, key included.
                if (!valid_string_body(key) || !valid_skipped(value, 0)) {
                    return decode_error::json;
                }
                break;
            case value_kind::text:
            case value_kind::symbol:
            case value_kind::stream: {
                ondemand::raw_json_string raw;
                if (const auto code = value.get_raw_json_string().get(raw);
                    code != simdjson::SUCCESS) {
                    return value_error(code);
                }
                const std::string_view text = raw_text(raw, value.raw_json_token());
                if (!plain_text(text) && !valid_string_body(text.data())) [[unlikely]] {
                    return decode_error::json;
                }
                if (kind == value_kind::text) {
                    fields_.*route.text = text;
                    fields_.seen |= route.bit;
                } else if (kind == value_kind::symbol) {
                    on_symbol(text);
                } else {
                    on_stream(text);
                }
                break;
            }
            case value_kind::number: {
                std::uint64_t number = 0;
                if (const auto code = value.get_uint64().get(number); code != simdjson::SUCCESS) {
                    return number_error(value, code);
                }
                fields_.*route.number = number;
                fields_.seen |= route.bit;
                break;
            }
            case value_kind::boolean:
                if (const auto code = value.get_bool().get(fields_.buyer_is_maker);
                    code != simdjson::SUCCESS) {
                    return value_error(code);
                }
                fields_.seen |= route.bit;
                break;
            case value_kind::levels:
                if (const auto error = on_levels(value, route.side); error != decode_error::none) {
                    return error;
                }
                break;
            case value_kind::object: {
                ondemand::object inner;
                if (const auto code = value.get_object().get(inner); code != simdjson::SUCCESS) {
                    return value_error(code);
                }
                if (const auto error = walk(inner, false); error != decode_error::none) {
                    return error;
                }
                break;
            }
            case value_kind::flag:
                if (!valid_skipped(value, 0)) {
                    return decode_error::json;
                }
                fields_.seen |= route.bit;
                break;
            case value_kind::side:
                break; // resolved above
            }
        }
        return decode_error::none;
    }

    /// Applies the symbol names recorded so far; call before reading symbol().
    void resolve_names() noexcept {
        if (pending_stream_) {
            apply_stream();
        }
        if (pending_symbol_) {
            apply_symbol();
        }
    }

    [[nodiscard]] const message_fields& fields() const noexcept { return fields_; }
    [[nodiscard]] symbol_id symbol() const noexcept { return symbol_; }
    [[nodiscard]] bool deferred() const noexcept { return deferred_; }
    [[nodiscard]] bool unknown_symbol() const noexcept { return unknown_symbol_; }

private:
    /// A number that does not fit (negative, fractional, too big) is a bad number, not a wrong
    /// type.
    [[gnu::always_inline]] static decode_error number_error(ondemand::value& value,
                                                            simdjson::error_code code) noexcept {
        if (code == simdjson::INCORRECT_TYPE) {
            const std::string_view token = value.raw_json_token();
            if (!token.empty() && (token[0] == '-' || (token[0] >= '0' && token[0] <= '9'))) {
                return decode_error::bad_number;
            }
        }
        return value_error(code);
    }

    void on_symbol(std::string_view name) noexcept {
        fields_.seen |= has_symbol;
        if (pending_symbol_) {
            apply_symbol();
        }
        // "s" decides from here on, whatever an earlier stream name said.
        pending_stream_ = false;
        fields_.symbol_name = name;
        pending_symbol_ = true;
    }

    void on_stream(std::string_view stream) noexcept {
        fields_.stream_text = stream;
        resolve_names(); // an earlier "s" decides whether this name still counts
        if (symbol_from_s_) {
            return;
        }
        std::size_t at = 0; // a loop, not find(): no out-of-line call inside the walk
        while (at < stream.size() && stream[at] != '@') {
            ++at;
        }
        fields_.stream_name = {stream.data(), at};
        pending_stream_ = true;
    }

    void apply_symbol() noexcept {
        pending_symbol_ = false;
        const symbol_id id = registry_.find(fields_.symbol_name);
        if (id == invalid_symbol) {
            unknown_symbol_ = true;
            symbol_ = invalid_symbol;
            return;
        }
        if (spec_symbol_ != invalid_symbol && spec_symbol_ != id) {
            deferred_ = true; // levels were read with another symbol's spec
        }
        symbol_ = id;
        symbol_from_s_ = true;
    }

    void apply_stream() noexcept {
        pending_stream_ = false;
        const symbol_id id = registry_.find_lower(fields_.stream_name);
        if (id != invalid_symbol && !symbol_from_s_) {
            symbol_ = id;
        }
    }

    [[gnu::noinline]] decode_error on_levels(ondemand::value& value, core::side s) noexcept {
        const bool bid = s == core::side::buy;
        fields_.seen |= bid ? has_bid_levels : has_ask_levels;
        resolve_names();
        if (symbol_ == invalid_symbol) {
            // Symbol not known yet: read the levels on a second pass, once it is. They must be
            // valid JSON even if no second pass comes.
            deferred_ = true;
            return valid_skipped(value, 0) ? decode_error::none : decode_error::json;
        }
        ondemand::array levels;
        if (const auto code = value.get_array().get(levels); code != simdjson::SUCCESS) {
            return value_error(code);
        }
        spec_symbol_ = symbol_;
        const core::symbol_spec& spec = registry_.at(symbol_).book_spec;
        // First the walk, which only collects the texts, then the conversion: the walk loop
        // makes no out-of-line call. Errors keep the order of a single pass: a level's
        // conversion error comes before a later level's structural error.
        std::size_t count = 0;
        decode_error walk_error = decode_error::none;
        for (auto element : levels) {
            ondemand::array pair;
            if (const auto code = element.get_array().get(pair); code != simdjson::SUCCESS) {
                walk_error = value_error(code);
                break;
            }
            std::string_view texts[2];
            std::size_t index = 0;
            for (auto item : pair) {
                ondemand::value text_value;
                if (std::move(item).get(text_value) != simdjson::SUCCESS) {
                    walk_error = decode_error::json;
                    break;
                }
                if (index < 2) {
                    ondemand::raw_json_string raw;
                    if (const auto code = text_value.get_raw_json_string().get(raw);
                        code != simdjson::SUCCESS) {
                        walk_error = value_error(code);
                        break;
                    }
                    // A backslash or control character fails the decimal conversion.
                    texts[index] = raw_text(raw, text_value.raw_json_token());
                } else if (!valid_skipped(text_value, 0)) {
                    walk_error = decode_error::json;
                    break;
                }
                ++index;
            }
            if (walk_error != decode_error::none) {
                break;
            }
            if (index < 2) {
                walk_error = decode_error::missing_field;
                break;
            }
            if (count == max_levels_) {
                walk_error = decode_error::too_many_levels;
                break;
            }
            texts_[count++] = {texts[0], texts[1]};
        }
        std::vector<core::book_level>& out = bid ? bids_ : asks_;
        if (const auto error = parse_levels(spec, {texts_.data(), count}, out.data());
            error != decode_error::none) {
            return error;
        }
        if (walk_error != decode_error::none) {
            return walk_error;
        }
        (bid ? fields_.bid_count : fields_.ask_count) = count;
        return decode_error::none;
    }

    const symbol_registry& registry_;
    std::vector<core::book_level>& bids_;
    std::vector<core::book_level>& asks_;
    std::vector<level_text>& texts_;
    std::size_t max_levels_;
    message_fields fields_;
    symbol_id symbol_ = invalid_symbol;
    symbol_id spec_symbol_ = invalid_symbol; ///< Symbol whose spec read the levels so far.
    bool symbol_from_s_ = false;
    bool deferred_ = false;
    bool unknown_symbol_ = false;
    bool pending_symbol_ = false; ///< fields_.symbol_name awaits apply_symbol().
    bool pending_stream_ = false; ///< fields_.stream_name awaits apply_stream().
};

} // namespace

binance_decoder::binance_decoder(const symbol_registry& registry, decoder_config config)
    : registry_(registry), config_(config), impl_(std::make_unique<impl>()),
      report_limiter_(config.reports_burst, config.report_interval_ms * core::ns_per_ms),
      reports_(std::clamp<std::uint32_t>(config.reports_burst, 1, 64)),
      copy_buffer_(config.max_message_bytes + message_padding, '\0') {
    // Allocate the parser once for the largest message, so that no decode allocates.
    // On failure the parser allocates on first use instead; decoding still works.
    if (impl_->parser.allocate(config_.max_message_bytes) != simdjson::SUCCESS) {
        config_.max_message_bytes = std::min<std::size_t>(config_.max_message_bytes, 1U << 16U);
    }
    bids_.resize(config_.max_levels_per_side);
    asks_.resize(config_.max_levels_per_side);
    impl_->texts.resize(config_.max_levels_per_side);
}

binance_decoder::~binance_decoder() = default;

const decoded_message& binance_decoder::decode_json(padded_view message,
                                                    core::timestamp_ns local_ns,
                                                    symbol_id default_symbol) noexcept {
    const auto fail = [&](decode_error error) -> const decoded_message& {
        message_.kind = message_kind::malformed;
        message_.error = error;
        finish(local_ns, message);
        return message_;
    };

    ondemand::document document;
    if (impl_->parser.iterate(message.data, message.size, message.capacity).get(document) !=
        simdjson::SUCCESS) {
        return fail(decode_error::json);
    }
    message_walker walker(registry_, bids_, asks_, impl_->texts, config_.max_levels_per_side);
    const symbol_id fallback = registry_.contains(default_symbol) ? default_symbol : invalid_symbol;
    walker.start_pass(fallback, false);
    {
        ondemand::object root;
        if (document.get_object().get(root) != simdjson::SUCCESS) {
            return fail(decode_error::json);
        }
        if (const auto error = walker.walk(root, true); error != decode_error::none) {
            return fail(error);
        }
        walker.resolve_names();
    }
    if (!at_document_end(document)) {
        return fail(decode_error::json); // trailing content after the root object
    }
    if (walker.deferred() && walker.symbol() != invalid_symbol) {
        // The symbol was learned after the levels: read again knowing it.
        const symbol_id symbol = walker.symbol();
        document.rewind();
        walker.start_pass(symbol, true);
        ondemand::object root;
        if (document.get_object().get(root) != simdjson::SUCCESS) {
            return fail(decode_error::json);
        }
        if (const auto error = walker.walk(root, true); error != decode_error::none) {
            return fail(error);
        }
        walker.resolve_names();
    }
    if (!at_document_end(document)) {
        return fail(decode_error::json); // trailing content after the root object
    }

    const message_fields& f = walker.fields();
    const std::uint32_t seen = f.seen;
    const auto symbol = walker.symbol();
    message_.symbol = symbol;

    if ((seen & (has_event_time | has_transaction_time)) != 0 &&
        (f.event_time_ms > max_ms || f.transaction_time_ms > max_ms)) {
        return fail(decode_error::bad_number);
    }

    // What kind of message is it?
    message_kind kind = message_kind::ignored;
    if ((seen & has_event) != 0) {
        const std::string_view type = f.event_type;
        if (type == "depthUpdate") {
            kind = message_kind::depth_update;
        } else if (type == "bookTicker") {
            kind = message_kind::book_ticker;
        } else if (type == "trade") {
            kind = message_kind::trade;
        } else if (type == "aggTrade") {
            kind = message_kind::agg_trade;
        } else if (type == "serverShutdown") {
            kind = message_kind::server_shutdown;
        }
    } else if ((seen & has_last_update_id) != 0) {
        kind = message_kind::depth_snapshot;
    } else if ((seen & has_code) != 0) {
        return fail(decode_error::rest_error);
    } else if ((seen & has_final_id) != 0) {
        kind = message_kind::book_ticker; // spot bookTicker carries no "e"
    }

    if (!fits_stream(f.stream_text, kind)) {
        return fail(decode_error::wrong_stream);
    }
    if (kind == message_kind::ignored || kind == message_kind::server_shutdown) {
        message_.kind = kind;
        finish(local_ns, message);
        return message_;
    }
    if (walker.unknown_symbol()) {
        message_.kind = message_kind::unknown_symbol;
        finish(local_ns, message);
        return message_;
    }
    if (symbol == invalid_symbol) {
        return fail(decode_error::no_symbol);
    }
    const core::symbol_spec& spec = registry_.at(symbol).book_spec;

    switch (kind) {
    case message_kind::depth_update:
    case message_kind::depth_snapshot: {
        const bool snapshot = kind == message_kind::depth_snapshot;
        const std::uint32_t required =
            snapshot ? (has_last_update_id | has_bid_levels | has_ask_levels)
                     : (has_first_id | has_final_id | has_bid_levels | has_ask_levels);
        if (!all_of(seen, required)) {
            return fail(decode_error::missing_field);
        }
        decoded_depth& depth = message_.depth;
        depth.first_update_id = snapshot ? f.last_update_id : f.first_id;
        depth.final_update_id = snapshot ? f.last_update_id : f.final_id;
        if (!snapshot && depth.first_update_id > depth.final_update_id) {
            return fail(decode_error::bad_number);
        }
        depth.has_prev_final_update_id = (seen & has_prev_id) != 0;
        depth.prev_final_update_id = f.prev_id;
        depth.exchange_ns = ms_to_ns(f.event_time_ms);
        depth.transaction_ns = ms_to_ns(f.transaction_time_ms);
        depth.bids = {bids_.data(), f.bid_count};
        depth.asks = {asks_.data(), f.ask_count};
        break;
    }
    case message_kind::book_ticker: {
        if (!all_of(seen,
                    has_final_id | has_bid_price | has_bid_qty | has_ask_price | has_ask_qty)) {
            return fail(decode_error::missing_field);
        }
        decoded_book_ticker& ticker = message_.ticker;
        ticker.update_id = f.final_id;
        const auto bid_px = spec.parse_price(f.bid_price);
        const auto ask_px = spec.parse_price(f.ask_price);
        if (!bid_px || !ask_px) {
            return fail(decode_error::bad_price);
        }
        const auto bid_qty = spec.parse_qty(f.bid_qty);
        const auto ask_qty = spec.parse_qty(f.ask_qty);
        if (!bid_qty || !ask_qty) {
            return fail(decode_error::bad_qty);
        }
        ticker.bid = {*bid_px, *bid_qty};
        ticker.ask = {*ask_px, *ask_qty};
        ticker.exchange_ns = ms_to_ns(f.event_time_ms);
        ticker.transaction_ns = ms_to_ns(f.transaction_time_ms);
        break;
    }
    case message_kind::trade:
    case message_kind::agg_trade: {
        const bool aggregated = kind == message_kind::agg_trade;
        const std::uint32_t required =
            has_price | has_qty | has_maker | (aggregated ? has_agg_id : has_trade_id);
        if (!all_of(seen, required)) {
            return fail(decode_error::missing_field);
        }
        decoded_trade& trade = message_.trade;
        const std::uint64_t id = aggregated ? f.agg_id : f.trade_id;
        if (id > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return fail(decode_error::bad_number);
        }
        trade.trade_id = static_cast<std::int64_t>(id);
        const auto px = spec.parse_price(f.price_text);
        if (!px) {
            return fail(decode_error::bad_price);
        }
        const auto quantity = spec.parse_qty(f.qty_text);
        if (!quantity) {
            return fail(decode_error::bad_qty);
        }
        trade.px = *px;
        trade.qty = *quantity;
        trade.aggressor = f.buyer_is_maker ? core::side::sell : core::side::buy;
        trade.count = 1;
        if (aggregated && all_of(seen, has_first_trade | has_last_trade)) {
            if (f.last_trade < f.first_trade ||
                f.last_trade - f.first_trade >= std::numeric_limits<std::uint32_t>::max()) {
                return fail(decode_error::bad_number);
            }
            trade.count = static_cast<std::uint32_t>(f.last_trade - f.first_trade + 1);
        }
        trade.trade_ns =
            ms_to_ns((seen & has_transaction_time) != 0 ? f.transaction_time_ms : f.event_time_ms);
        trade.exchange_ns = ms_to_ns(f.event_time_ms);
        break;
    }
    default:
        break;
    }
    message_.kind = kind;
    finish(local_ns, message);
    return message_;
}

} // namespace quoter::md
