// One pass of simdjson On-Demand over each message. Fields are dispatched on their raw key bytes
// and in any order; scalar texts (prices of a bookTicker or trade) are kept as views into the
// input and converted once the whole object has been seen, while level arrays are converted right
// after their array has been walked, which needs the symbol's spec at that point. Binance sends
// "s" before the levels, and a combined stream names the symbol first; only a message whose
// symbol is learned after its levels is walked a second time (document rewind).
//
// Speed. The walk is one compact loop: a key selects a route (a value kind plus where the value
// goes), and each value kind is read by exactly one inlined piece of simdjson code. Nothing in
// the loop calls an out-of-line function: the symbol names ("s", "stream") are looked up once
// the walk needs them (before levels, or at the end), and level texts are collected first and
// converted after their array. An out-of-line call per field makes the compiler write simdjson's
// iterator back to memory and reload it, which measured about twice as slow per message.
#include "quoter/md/binance_decoder.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <utility>

namespace quoter::md {

static_assert(simdjson::SIMDJSON_PADDING <= message_padding, "receive buffers must satisfy simdjson");

namespace ondemand = simdjson::ondemand;

namespace {

constexpr std::uint64_t max_ms = static_cast<std::uint64_t>(
    std::numeric_limits<std::int64_t>::max() / core::ns_per_ms);

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
    case simdjson::INCORRECT_TYPE: return decode_error::wrong_type;
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE: return decode_error::bad_number;
    default: return decode_error::json;
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
                          book_level* out) noexcept {
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

/// A string literal usable as a template argument, with its little-endian words.
template <std::size_t N> struct fixed_text {
    std::array<char, N> chars{};

    constexpr fixed_text(const char (&text)[N]) noexcept { // NOLINT: implicit by design
        for (std::size_t i = 0; i < N; ++i) {
            chars[i] = text[i];
        }
    }
    [[nodiscard]] static constexpr std::size_t size() noexcept { return N - 1; }
    [[nodiscard]] constexpr std::array<std::uint64_t, (N + 6) / 8> words() const noexcept {
        std::array<std::uint64_t, (N + 6) / 8> out{};
        for (std::size_t i = 0; i < N - 1; ++i) {
            out[i / 8] |= std::uint64_t{static_cast<unsigned char>(chars[i])} << (8 * (i % 8));
        }
        return out;
    }
};

/// A symbol's price and quantity conversions, with a shortcut for the usual book spec: a tick
/// and a step of one unit of their last decimal (0.01 with 2 decimals, 1e-8 with 8), where a text
/// of Binance's shape ("61737.63000000") converts with parse_binance_shape alone. Every other
/// text or spec goes through symbol_spec's parsers, so the results are always theirs.
class unit_grid {
public:
    explicit unit_grid(const core::symbol_spec& spec) noexcept
        : price_decimals_(spec.tick_units() == 1 ? spec.price_decimals() : -1),
          qty_decimals_(spec.step_units() == 1 ? spec.qty_decimals() : -1) {}

    [[nodiscard, gnu::always_inline]] bool read_price(const core::symbol_spec& spec,
                                                      std::string_view text,
                                                      std::int64_t& ticks) const noexcept {
        if (price_decimals_ >= 0 &&
            core::detail::parse_binance_shape(text, price_decimals_, ticks)) {
            return true;
        }
        const std::optional<std::int64_t> slow = read_price_slow(spec, text);
        ticks = slow.value_or(0);
        return slow.has_value();
    }
    [[nodiscard, gnu::always_inline]] bool read_qty(const core::symbol_spec& spec,
                                                    std::string_view text,
                                                    std::int64_t& lots) const noexcept {
        if (qty_decimals_ >= 0 && core::detail::parse_binance_shape(text, qty_decimals_, lots)) {
            return true;
        }
        const std::optional<std::int64_t> slow = read_qty_slow(spec, text);
        lots = slow.value_or(0);
        return slow.has_value();
    }

    /// Decimals of a one-unit tick, or -1.
    [[nodiscard]] int price_decimals() const noexcept { return price_decimals_; }
    /// Decimals of a one-unit step, or -1.
    [[nodiscard]] int qty_decimals() const noexcept { return qty_decimals_; }

private:
    // Out of line, returning by value: no local of the hot loop has its address taken.
    [[gnu::noinline]] static std::optional<std::int64_t>
    read_price_slow(const core::symbol_spec& spec, std::string_view text) noexcept {
        const auto parsed = spec.parse_price(text);
        return parsed ? std::optional<std::int64_t>{parsed->ticks()} : std::nullopt;
    }
    [[gnu::noinline]] static std::optional<std::int64_t>
    read_qty_slow(const core::symbol_spec& spec, std::string_view text) noexcept {
        const auto parsed = spec.parse_qty(text);
        return parsed ? std::optional<std::int64_t>{parsed->lots()} : std::nullopt;
    }

    int price_decimals_; ///< -1: the tick is not one unit.
    int qty_decimals_;   ///< -1: the step is not one unit.
};

/// Strict reader of Binance's compact layouts: every method either consumes exactly the grammar
/// element it names and returns true, or returns false (the message then goes to the general
/// path, so a false costs speed, never correctness). It reads only within [begin, end); the
/// padding after end may be loaded by word-wide reads but never decides a result.
class canonical_reader {
public:
    canonical_reader(const char* begin, const char* end) noexcept : p_(begin), end_(end) {}

    [[nodiscard]] bool at_end() const noexcept { return p_ == end_; }

    /// Exactly the characters of Text, compared a word at a time against constants (the padding
    /// makes the loads safe).
    template <fixed_text Text> [[nodiscard, gnu::always_inline]] bool literal() noexcept {
        constexpr std::size_t size = Text.size();
        constexpr std::array<std::uint64_t, (size + 7) / 8> words = Text.words();
        if (static_cast<std::size_t>(end_ - p_) < size) {
            return false;
        }
        std::uint64_t difference = 0;
        for (std::size_t i = 0; i < words.size(); ++i) {
            constexpr std::size_t tail = size % 8;
            const std::uint64_t mask = i + 1 < words.size() || tail == 0
                                           ? ~std::uint64_t{0}
                                           : (std::uint64_t{1} << (8 * tail)) - 1;
            difference |= (core::detail::load8(p_ + 8 * i) & mask) ^ words[i];
        }
        if (difference != 0) {
            return false;
        }
        p_ += size;
        return true;
    }

    /// A JSON number that is a non-negative integer of at most 19 digits (so below 2^64),
    /// without leading zeros, read eight digits at a time. A fraction or exponent is left unread
    /// and fails the next literal.
    [[nodiscard, gnu::always_inline]] bool unsigned_number(std::uint64_t& value) noexcept {
        using core::detail::eight_digits;
        using core::detail::load8;
        using core::detail::non_digit_bytes;
        const std::uint64_t first = load8(p_);
        const std::uint64_t first_stop = non_digit_bytes(first);
        std::uint64_t number = 0;
        std::size_t digits = 0;
        if (first_stop != 0) {
            digits = static_cast<std::size_t>(std::countr_zero(first_stop)) / 8;
            if (digits == 0) {
                return false;
            }
            number = eight_digits(first << (64 - 8 * digits));
        } else {
            const std::uint64_t second = load8(p_ + 8);
            const std::uint64_t second_stop = non_digit_bytes(second);
            if (second_stop != 0) {
                const auto more = static_cast<unsigned>(std::countr_zero(second_stop)) / 8;
                number = eight_digits(first);
                if (more != 0) {
                    number = number * static_cast<std::uint64_t>(core::detail::pow10_table[more]) +
                             eight_digits(second << (64 - 8 * more));
                }
                digits = 8 + more;
            } else {
                const std::uint64_t third = load8(p_ + 16);
                const auto more =
                    static_cast<unsigned>(std::countr_zero(non_digit_bytes(third))) / 8;
                if (more > 3) {
                    return false; // more than 19 digits
                }
                number = eight_digits(first) * 100'000'000U + eight_digits(second);
                if (more != 0) {
                    number = number * static_cast<std::uint64_t>(core::detail::pow10_table[more]) +
                             eight_digits(third << (64 - 8 * more));
                }
                digits = 16 + more;
            }
        }
        if (static_cast<std::size_t>(end_ - p_) < digits || (digits > 1 && *p_ == '0')) {
            return false;
        }
        value = number;
        p_ += digits;
        return true;
    }

    /// A string of printable ASCII without escapes, quotes included; text excludes them.
    /// Eight characters at a time: the first byte that is a quote, a backslash, a control
    /// character or not ASCII ends the scan, and only a quote inside the message is accepted.
    [[nodiscard, gnu::always_inline]] bool plain_string(std::string_view& text) noexcept {
        if (p_ == end_ || *p_ != '"') {
            return false;
        }
        const char* const begin = p_ + 1;
        for (const char* p = begin; p < end_; p += 8) {
            const std::uint64_t word = core::detail::load8(p);
            const std::uint64_t stops =
                zero_bytes(word ^ repeat('"')) | zero_bytes(word ^ repeat('\\')) |
                zero_bytes(word ^ repeat(0x7F)) | ((word - repeat(0x20)) & ~word) | word;
            const std::uint64_t flagged = stops & repeat(0x80);
            if (flagged == 0) {
                continue;
            }
            const char* const stop = p + std::countr_zero(flagged) / 8;
            if (*stop != '"' || stop >= end_) {
                return false;
            }
            text = {begin, static_cast<std::size_t>(stop - begin)};
            p_ = stop + 1;
            return true;
        }
        return false;
    }

    /// The rest of a decimal string whose opening quote was consumed: digits and points up to the
    /// closing quote, which is consumed too. The usual "61737.63000000" takes two word loads.
    [[nodiscard, gnu::always_inline]] bool decimal_text(std::string_view& text) noexcept {
        const char* const begin = p_;
        const std::uint64_t head = core::detail::non_digit_bytes(core::detail::load8(begin));
        std::size_t size = 0;
        if (head != 0) {
            const auto integer = static_cast<std::size_t>(std::countr_zero(head)) / 8;
            if (begin[integer] == '"') {
                size = integer;
            } else if (begin[integer] == '.') {
                const char* const fraction = begin + integer + 1;
                const std::uint64_t tail =
                    core::detail::non_digit_bytes(core::detail::load8(fraction));
                const std::size_t decimals =
                    tail == 0 ? 8 : static_cast<std::size_t>(std::countr_zero(tail)) / 8;
                if (fraction[decimals] != '"') {
                    return slow_decimal_text(text);
                }
                size = integer + 1 + decimals;
            } else {
                return false;
            }
        } else {
            return slow_decimal_text(text);
        }
        if (static_cast<std::size_t>(end_ - begin) <= size) {
            return false; // the closing quote lies past the message
        }
        text = {begin, size};
        p_ = begin + size + 1;
        return true;
    }

    /// A level array [["px","qty"],...] converted with spec into out; false beyond max levels.
    /// Out of line: the per-level code gets the inliner's whole budget.
    [[nodiscard, gnu::noinline]] bool levels(const core::symbol_spec& spec, book_level* out,
                                             std::size_t max, std::size_t& count) noexcept {
        if (!literal<"[">()) {
            return false;
        }
        const unit_grid grid(spec);
        count = 0;
        if (literal<"]">()) {
            return true;
        }
        const bool unit = grid.price_decimals() >= 0 && grid.qty_decimals() >= 0;
        for (;;) {
            if (count == max) {
                return false;
            }
            std::int64_t ticks = 0;
            std::int64_t lots = 0;
            if (!(unit && unchecked_level(grid, ticks, lots))) {
                if (!literal<"[\"">() || !price_text(spec, grid, ticks) || !literal<",\"">() ||
                    !qty_text(spec, grid, lots) || !literal<"]">()) {
                    return false;
                }
            }
            out[count++] = {core::price{ticks}, core::qty{lots}};
            if (!literal<",">()) {
                return literal<"]">();
            }
        }
    }

    /// ["px","qty"] with both decimals of Binance's shape, when the message has room for the
    /// longest such level: then no read can leave it and no bounds check is needed. False (and
    /// nothing consumed) for anything else.
    [[nodiscard, gnu::always_inline]] bool
    unchecked_level(const unit_grid& grid, std::int64_t& ticks, std::int64_t& lots) noexcept {
        // ["<=16"," <=16"] plus the separator: 2 + 17 + 2 + 17 + 1 + 1 bytes at most.
        constexpr std::ptrdiff_t longest = 40;
        if (end_ - p_ < longest || p_[0] != '[' || p_[1] != '"') {
            return false;
        }
        const char* p = p_ + 2;
        const std::size_t px_size =
            core::detail::parse_binance_quoted(p, grid.price_decimals(), ticks);
        if (px_size == 0) {
            return false;
        }
        p += px_size + 1;
        if (p[0] != ',' || p[1] != '"') {
            return false;
        }
        p += 2;
        const std::size_t qty_size =
            core::detail::parse_binance_quoted(p, grid.qty_decimals(), lots);
        if (qty_size == 0 || p[qty_size + 1] != ']') {
            return false;
        }
        p_ = p + qty_size + 2;
        return true;
    }

    /// The rest of a decimal string (opening quote consumed) read as a price of spec: in place
    /// when it has Binance's shape and the tick is one unit, else through decimal_text.
    [[nodiscard, gnu::always_inline]] bool
    price_text(const core::symbol_spec& spec, const unit_grid& grid, std::int64_t& ticks) noexcept {
        if (grid.price_decimals() >= 0) {
            const std::size_t size =
                core::detail::parse_binance_quoted(p_, grid.price_decimals(), ticks);
            if (size != 0 && static_cast<std::size_t>(end_ - p_) > size) {
                p_ += size + 1;
                return true;
            }
        }
        std::string_view text;
        return decimal_text(text) && grid.read_price(spec, text, ticks);
    }
    /// As price_text(), for a quantity.
    [[nodiscard, gnu::always_inline]] bool
    qty_text(const core::symbol_spec& spec, const unit_grid& grid, std::int64_t& lots) noexcept {
        if (grid.qty_decimals() >= 0) {
            const std::size_t size =
                core::detail::parse_binance_quoted(p_, grid.qty_decimals(), lots);
            if (size != 0 && static_cast<std::size_t>(end_ - p_) > size) {
                p_ += size + 1;
                return true;
            }
        }
        std::string_view text;
        return decimal_text(text) && grid.read_qty(spec, text, lots);
    }

    /// A quoted decimal string read as a price of spec.
    [[nodiscard, gnu::always_inline]] bool quoted_price(const core::symbol_spec& spec,
                                                        core::price& value) noexcept {
        std::int64_t ticks = 0;
        const bool read = literal<"\"">() && price_text(spec, unit_grid(spec), ticks);
        value = core::price{ticks};
        return read;
    }
    /// A quoted decimal string read as a quantity of spec.
    [[nodiscard, gnu::always_inline]] bool quoted_qty(const core::symbol_spec& spec,
                                                      core::qty& value) noexcept {
        std::int64_t lots = 0;
        const bool read = literal<"\"">() && qty_text(spec, unit_grid(spec), lots);
        value = core::qty{lots};
        return read;
    }

private:
    static constexpr std::uint64_t repeat(unsigned byte) noexcept {
        return 0x0101010101010101ULL * byte;
    }
    /// High bit set in the lowest zero byte of word (exactly) and possibly in bytes above it.
    static constexpr std::uint64_t zero_bytes(std::uint64_t word) noexcept {
        return (word - repeat(0x01)) & ~word;
    }

    /// decimal_text() the long way, one character at a time.
    [[gnu::always_inline]] bool slow_decimal_text(std::string_view& text) noexcept {
        const std::size_t size = decimal_size(p_, end_);
        if (size == std::string_view::npos) {
            return false;
        }
        text = {p_, size};
        p_ += size + 1;
        return true;
    }
    /// Characters before the closing quote, all digits or points, or npos.
    [[gnu::noinline]] static std::size_t decimal_size(const char* begin, const char* end) noexcept {
        for (const char* p = begin; p != end; ++p) {
            if (*p == '"') {
                return static_cast<std::size_t>(p - begin);
            }
            if (*p != '.' && static_cast<unsigned>(*p - '0') > 9) {
                return std::string_view::npos;
            }
        }
        return std::string_view::npos;
    }

    const char* p_;
    const char* end_;
};

} // namespace

struct binance_decoder::impl {
    ondemand::parser parser;
    std::vector<book_level> bids;
    std::vector<book_level> asks;
    std::vector<level_text> texts; ///< One side's level texts between walk and conversion.
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
    message_walker(const symbol_registry& registry, std::vector<book_level>& bids,
                   std::vector<book_level>& asks, std::vector<level_text>& texts,
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
                case ondemand::json_type::array: kind = value_kind::levels; break;
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
                default: return decode_error::wrong_type;
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
            case value_kind::side: break; // resolved above
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
        std::vector<book_level>& out = bid ? bids_ : asks_;
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
    std::vector<book_level>& bids_;
    std::vector<book_level>& asks_;
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

/// What a combined stream named "<symbol>@<channel>[@<speed>]" carries: the message kind of its
/// channel, or none for a channel the decoder does not check.
message_kind stream_kind(std::string_view stream) noexcept {
    const std::size_t at = stream.find('@');
    if (at == std::string_view::npos) {
        return message_kind::none;
    }
    std::string_view channel = stream.substr(at + 1);
    channel = channel.substr(0, channel.find('@'));
    if (channel == "depth") {
        return message_kind::depth_update;
    }
    if (channel == "bookTicker") {
        return message_kind::book_ticker;
    }
    if (channel == "trade") {
        return message_kind::trade;
    }
    if (channel == "aggTrade") {
        return message_kind::agg_trade;
    }
    return message_kind::none;
}

/// True when stream is "<name>" + Suffix with no '@' in the name: the channel is Suffix's.
template <std::size_t N>
[[gnu::always_inline]] inline bool is_channel(std::string_view stream,
                                              const char (&suffix)[N]) noexcept {
    constexpr std::size_t size = N - 1;
    return stream.size() >= size &&
           std::memcmp(stream.data() + stream.size() - size, suffix, size) == 0 &&
           std::memchr(stream.data(), '@', stream.size() - size) == nullptr;
}

/// False when a message of kind arrived on a stream that carries something else.
bool fits_stream(std::string_view stream, message_kind kind) noexcept {
    // The stream names of a usual subscription, without splitting the name.
    if ((kind == message_kind::book_ticker && is_channel(stream, "@bookTicker")) ||
        (kind == message_kind::depth_update && is_channel(stream, "@depth@100ms"))) {
        return true;
    }
    const message_kind carried = stream_kind(stream);
    return carried == message_kind::none || carried == kind ||
           kind == message_kind::server_shutdown; // sent on any stream
}

bool all_of(std::uint32_t seen, std::uint32_t required) noexcept {
    return (seen & required) == required;
}

core::timestamp_ns ms_to_ns(std::uint64_t ms) noexcept {
    return static_cast<core::timestamp_ns>(ms) * core::ns_per_ms;
}

} // namespace

std::string_view to_string(message_kind kind) noexcept {
    switch (kind) {
    case message_kind::none: return "none";
    case message_kind::depth_update: return "depth_update";
    case message_kind::book_ticker: return "book_ticker";
    case message_kind::trade: return "trade";
    case message_kind::agg_trade: return "agg_trade";
    case message_kind::depth_snapshot: return "depth_snapshot";
    case message_kind::server_shutdown: return "server_shutdown";
    case message_kind::ignored: return "ignored";
    case message_kind::unknown_symbol: return "unknown_symbol";
    case message_kind::malformed: return "malformed";
    }
    return "unknown";
}

std::string_view describe(decode_error error) noexcept {
    switch (error) {
    case decode_error::none: return "no error";
    case decode_error::too_large: return "message larger than the configured maximum";
    case decode_error::json: return "invalid or truncated JSON";
    case decode_error::wrong_type: return "field of the wrong JSON type";
    case decode_error::missing_field: return "required field missing";
    case decode_error::bad_number: return "integer out of range";
    case decode_error::bad_price: return "price not a decimal on the tick grid";
    case decode_error::bad_qty: return "quantity not a decimal on the lot grid";
    case decode_error::too_many_levels: return "more levels than configured";
    case decode_error::no_symbol: return "symbol unknown when prices must be read";
    case decode_error::rest_error: return "REST error response";
    case decode_error::wrong_stream:
        return "body not what its market-data stream carries";
    }
    return "unknown error";
}

void receive_buffer::assign(std::string_view text) noexcept {
    const std::size_t size = std::min(text.size(), writable().size());
    std::memcpy(storage_.data(), text.data(), size);
    commit(size);
}

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
    impl_->bids.resize(config_.max_levels_per_side);
    impl_->asks.resize(config_.max_levels_per_side);
    impl_->texts.resize(config_.max_levels_per_side);
}

binance_decoder::~binance_decoder() = default;

const decoded_message& binance_decoder::decode_copy(std::string_view message,
                                                    core::timestamp_ns local_ns,
                                                    symbol_id default_symbol) noexcept {
    const std::size_t size = std::min(message.size(), config_.max_message_bytes + 1);
    if (size <= config_.max_message_bytes) {
        std::memcpy(copy_buffer_.data(), message.data(), size);
        std::memset(copy_buffer_.data() + size, 0, message_padding);
        return decode({copy_buffer_.data(), size, copy_buffer_.size()}, local_ns, default_symbol);
    }
    // Too large to copy: decode() rejects it on size alone, without reading past the view.
    return decode({message.data(), message.size(), message.size() + message_padding}, local_ns,
                  default_symbol);
}

const decoded_message& binance_decoder::decode(padded_view message, core::timestamp_ns local_ns,
                                               symbol_id default_symbol) noexcept {
    message_ = decoded_message{};
    message_.local_ns = local_ns;
    ++stats_.messages;

    const auto fail = [&](decode_error error) -> const decoded_message& {
        message_.kind = message_kind::malformed;
        message_.error = error;
        finish(local_ns, message);
        return message_;
    };

    if (message.size > config_.max_message_bytes) {
        return fail(decode_error::too_large);
    }
    if (message.capacity < message.size + simdjson::SIMDJSON_PADDING) {
        return fail(decode_error::json);
    }

    if (config_.canonical_fast_path) {
        if (decode_canonical(message)) {
            ++stats_.canonical;
            finish(local_ns, message);
            return message_;
        }
        message_ = decoded_message{};
        message_.local_ns = local_ns;
    }

    ondemand::document document;
    if (impl_->parser.iterate(message.data, message.size, message.capacity).get(document) !=
        simdjson::SUCCESS) {
        return fail(decode_error::json);
    }
    message_walker walker(registry_, impl_->bids, impl_->asks, impl_->texts,
                          config_.max_levels_per_side);
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
        depth.bids = {impl_->bids.data(), f.bid_count};
        depth.asks = {impl_->asks.data(), f.ask_count};
        break;
    }
    case message_kind::book_ticker: {
        if (!all_of(seen, has_final_id | has_bid_price | has_bid_qty | has_ask_price |
                              has_ask_qty)) {
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
        trade.trade_ns = ms_to_ns((seen & has_transaction_time) != 0 ? f.transaction_time_ms
                                                                      : f.event_time_ms);
        trade.exchange_ns = ms_to_ns(f.event_time_ms);
        break;
    }
    default: break;
    }
    message_.kind = kind;
    finish(local_ns, message);
    return message_;
}

symbol_id binance_decoder::resolve_symbol(std::string_view name) noexcept {
    constexpr std::size_t max_cached = sizeof(cached_name_);
    if (name.empty() || name.size() > max_cached) {
        return registry_.find(name);
    }
    // The name lies inside a padded message: loading whole words past its end is safe.
    std::array<std::uint64_t, 3> words{};
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::size_t used =
            i * 8 < name.size() ? std::min<std::size_t>(name.size() - i * 8, 8) : 0;
        const std::uint64_t mask =
            used == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * used)) - 1;
        words[i] = core::detail::load8(name.data() + i * 8) & mask;
    }
    if (name.size() == cached_name_size_ && words == cached_name_) {
        return cached_symbol_;
    }
    const symbol_id id = registry_.find(name);
    if (id != invalid_symbol) {
        cached_name_ = words;
        cached_name_size_ = name.size();
        cached_symbol_ = id;
    }
    return id;
}

bool binance_decoder::decode_canonical(padded_view message) noexcept {
    // Accepted, with no whitespace anywhere ([..] optional, "str" printable ASCII, n an integer):
    //   envelope: {"stream":"str","data":PAYLOAD}  or PAYLOAD alone, then the end of the message
    //   {"e":"depthUpdate","E":n[,"T":n],"s":"str","U":n,"u":n[,"pu":n],"b":LEVELS,"a":LEVELS}
    //   {"u":n,"s":"str","b":"dec","B":"dec","a":"dec","A":"dec"}                  (spot)
    //   {"e":"bookTicker","u":n,"E":n,"T":n,"s":"str","b":"dec","B":"dec","a":"dec","A":"dec"}
    // The general path gives these the same meaning: the payload's "s" decides the symbol.
    canonical_reader in(message.data, message.data + message.size);
    const bool envelope = in.literal<R"({"stream":)">();
    std::string_view stream;
    if (envelope) {
        if (!in.plain_string(stream) || !in.literal<R"(,"data":)">()) {
            return false;
        }
    }
    std::uint64_t event_ms = 0;
    std::uint64_t transaction_ms = 0;
    std::uint64_t update_id = 0;
    std::string_view name;
    if (in.literal<R"({"e":"depthUpdate","E":)">()) {
        std::uint64_t first_id = 0;
        std::uint64_t prev_id = 0;
        if (!in.unsigned_number(event_ms) ||
            (in.literal<R"(,"T":)">() && !in.unsigned_number(transaction_ms)) ||
            !in.literal<R"(,"s":)">() || !in.plain_string(name) || !in.literal<R"(,"U":)">() ||
            !in.unsigned_number(first_id) || !in.literal<R"(,"u":)">() ||
            !in.unsigned_number(update_id)) {
            return false;
        }
        const bool has_prev = in.literal<R"(,"pu":)">();
        if ((has_prev && !in.unsigned_number(prev_id)) || event_ms > max_ms ||
            transaction_ms > max_ms || first_id > update_id) {
            return false;
        }
        const symbol_id symbol = resolve_symbol(name);
        if (symbol == invalid_symbol) {
            return false;
        }
        const core::symbol_spec& spec = registry_.at(symbol).book_spec;
        std::size_t bid_count = 0;
        std::size_t ask_count = 0;
        if (!in.literal<R"(,"b":)">() ||
            !in.levels(spec, impl_->bids.data(), config_.max_levels_per_side, bid_count) ||
            !in.literal<R"(,"a":)">() ||
            !in.levels(spec, impl_->asks.data(), config_.max_levels_per_side, ask_count) ||
            !in.literal<"}">() || (envelope && !in.literal<"}">()) || !in.at_end()) {
            return false;
        }
        if (envelope && !fits_stream(stream, message_kind::depth_update)) {
            return false; // the general path rejects it
        }
        decoded_depth& depth = message_.depth;
        depth.first_update_id = first_id;
        depth.final_update_id = update_id;
        depth.prev_final_update_id = prev_id;
        depth.has_prev_final_update_id = has_prev;
        depth.exchange_ns = ms_to_ns(event_ms);
        depth.transaction_ns = ms_to_ns(transaction_ms);
        depth.bids = {impl_->bids.data(), bid_count};
        depth.asks = {impl_->asks.data(), ask_count};
        message_.symbol = symbol;
        message_.kind = message_kind::depth_update;
        return true;
    }
    if (in.literal<R"({"u":)">()) {
        if (!in.unsigned_number(update_id) || !in.literal<R"(,"s":)">() || !in.plain_string(name)) {
            return false;
        }
    } else if (in.literal<R"({"e":"bookTicker","u":)">()) {
        if (!in.unsigned_number(update_id) || !in.literal<R"(,"E":)">() ||
            !in.unsigned_number(event_ms) || !in.literal<R"(,"T":)">() ||
            !in.unsigned_number(transaction_ms) || !in.literal<R"(,"s":)">() ||
            !in.plain_string(name) || event_ms > max_ms || transaction_ms > max_ms) {
            return false;
        }
    } else {
        return false;
    }
    const symbol_id symbol = resolve_symbol(name);
    if (symbol == invalid_symbol) {
        return false;
    }
    const core::symbol_spec& spec = registry_.at(symbol).book_spec;
    decoded_book_ticker& ticker = message_.ticker;
    if (!in.literal<R"(,"b":)">() || !in.quoted_price(spec, ticker.bid.px) ||
        !in.literal<R"(,"B":)">() || !in.quoted_qty(spec, ticker.bid.qty) ||
        !in.literal<R"(,"a":)">() || !in.quoted_price(spec, ticker.ask.px) ||
        !in.literal<R"(,"A":)">() || !in.quoted_qty(spec, ticker.ask.qty) || !in.literal<"}">() ||
        (envelope && !in.literal<"}">()) || !in.at_end() ||
        (envelope && !fits_stream(stream, message_kind::book_ticker))) {
        return false;
    }
    ticker.update_id = update_id;
    ticker.exchange_ns = ms_to_ns(event_ms);
    ticker.transaction_ns = ms_to_ns(transaction_ms);
    message_.symbol = symbol;
    message_.kind = message_kind::book_ticker;
    return true;
}

void binance_decoder::finish(core::timestamp_ns local_ns, padded_view message) noexcept {
    ++stats_.by_kind[static_cast<std::size_t>(message_.kind)];
    if (message_.kind != message_kind::malformed) {
        return;
    }
    ++stats_.by_error[static_cast<std::size_t>(message_.error)];
    if (!report_limiter_.allow(local_ns)) {
        return; // the limiter counts it; added to unreported_ when it next admits one
    }
    unreported_ += report_limiter_.take_suppressed();
    if (report_count_ == reports_.size()) {
        ++unreported_; // nobody took the queued reports yet: the next one counts this
        return;
    }
    malformed_report& report = reports_[(report_head_ + report_count_) % reports_.size()];
    ++report_count_;
    report.error = message_.error;
    report.local_ns = local_ns;
    report.suppressed = unreported_;
    unreported_ = 0;
    report.message_bytes = static_cast<std::uint32_t>(
        std::min<std::size_t>(message.size, std::numeric_limits<std::uint32_t>::max()));
    const std::size_t excerpt = std::min(message.size, malformed_report::excerpt_capacity);
    if (excerpt > 0) {
        std::memcpy(report.excerpt.data(), message.data, excerpt);
    }
    report.excerpt_size = static_cast<std::uint8_t>(excerpt);
}

bool binance_decoder::take_report(malformed_report& out) noexcept {
    if (report_count_ == 0) {
        return false;
    }
    out = reports_[report_head_];
    report_head_ = (report_head_ + 1) % reports_.size();
    --report_count_;
    return true;
}

} // namespace quoter::md
