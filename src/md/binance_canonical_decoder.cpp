// The canonical decoder: a strict single-pass reader of the fixed compact layout in which Binance
// sends depthUpdate, bookTicker and spot trades, nearly every message of a feed. It accepts exactly
// that layout (no whitespace, fields in Binance's order), validates every byte it takes, and parses
// levels in place, eight digits at a time. Anything it does not accept in full goes to the
// general simdjson path (binance_json_decoder.cpp), which alone decides errors: a false here costs
// speed, never correctness. The reader halves decode time; decoder_config::canonical_fast_path =
// false turns it off.
#include "quoter/core/decimal.hpp"
#include "quoter/md/binance_decoder.hpp"

#include "binance_decimal.hpp"
#include "binance_decoder_internal.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

namespace quoter::md {

using detail::fits_stream;
using detail::max_ms;
using detail::ms_to_ns;

namespace {

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

    /// A string whose text is known's (which was read by plain_string() before), quotes
    /// included; text excludes them. False, with nothing consumed, for any other string: the
    /// caller then reads it with plain_string(). Four masked word compares instead of a scan.
    [[nodiscard, gnu::always_inline]] bool known_string(const binance_decoder::known_text& known,
                                                        std::string_view& text) noexcept {
        // The words after the quote lie within the message and its padding: max_size + 1 bytes
        // past p_ < end_ + message_padding.
        static_assert(binance_decoder::known_text::max_size + 1 < message_padding);
        const char* const begin = p_ + 1;
        std::uint64_t difference = 0;
        for (std::size_t i = 0; i < known.words.size(); ++i) {
            difference |= (core::detail::load8(begin + 8 * i) & known.masks[i]) ^ known.words[i];
        }
        // The closing quote must lie inside the message (so must the opening one).
        if (difference != 0 || static_cast<std::size_t>(end_ - p_) < known.size + 2 || *p_ != '"' ||
            begin[known.size] != '"') {
            return false;
        }
        text = {begin, known.size};
        p_ = begin + known.size + 1;
        return true;
    }

    /// The opening of a message (at its start) as remembered in known: true, with the opening
    /// consumed, when the next known.size bytes are known's; false (nothing consumed) otherwise.
    [[nodiscard, gnu::always_inline]] bool
    known_opening(const binance_decoder::known_opening& known) noexcept {
        // The masked words lie within the message (size >= known.size) and its padding: every
        // word starts below known.size <= max_size, and max_size - known.size < message_padding
        // for every stored opening (at least 24 bytes long).
        static_assert(binance_decoder::known_opening::max_size < message_padding + 24);
        if (static_cast<std::size_t>(end_ - p_) < known.size ||
            core::detail::load8(p_ + known.size - 8) != known.last_word) {
            return false;
        }
        std::uint64_t difference = 0;
        for (std::size_t i = 0; i < known.words.size(); ++i) {
            difference |= (core::detail::load8(p_ + 8 * i) & known.masks[i]) ^ known.words[i];
        }
        if (difference != 0) {
            return false;
        }
        p_ += known.size;
        return true;
    }

    /// Where the reader stands.
    [[nodiscard]] const char* position() const noexcept { return p_; }

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
    /// Out of line: the per-level code gets the inliner's whole budget. The usual book spec (a
    /// one-unit tick of 0 to 8 decimals, quantities in 1e-8) reads its levels with the decimals
    /// as constants, which removes their branches and variable shifts from every level.
    [[nodiscard, gnu::noinline]] bool levels(const core::symbol_spec& spec, core::book_level* out,
                                             std::size_t max, std::size_t& count) noexcept {
        if (!literal<"[">()) {
            return false;
        }
        const unit_grid grid(spec);
        count = 0;
        if (literal<"]">()) {
            return true;
        }
        if (grid.qty_decimals() == 8) {
            switch (grid.price_decimals()) {
            case 0:
                return level_list<0, 8>(spec, grid, out, max, count);
            case 1:
                return level_list<1, 8>(spec, grid, out, max, count);
            case 2:
                return level_list<2, 8>(spec, grid, out, max, count);
            case 3:
                return level_list<3, 8>(spec, grid, out, max, count);
            case 4:
                return level_list<4, 8>(spec, grid, out, max, count);
            case 5:
                return level_list<5, 8>(spec, grid, out, max, count);
            case 6:
                return level_list<6, 8>(spec, grid, out, max, count);
            case 7:
                return level_list<7, 8>(spec, grid, out, max, count);
            case 8:
                return level_list<8, 8>(spec, grid, out, max, count);
            default:
                break;
            }
        }
        return level_list<-1, -1>(spec, grid, out, max, count);
    }

    /// The levels of a non-empty array whose "[" was read, up to and including its "]".
    /// PriceDecimals and QtyDecimals are grid's decimals (both one-unit) as constants, or -1 to
    /// read them from grid.
    template <int PriceDecimals, int QtyDecimals>
    [[nodiscard, gnu::always_inline]] bool
    level_list(const core::symbol_spec& spec, const unit_grid& grid, core::book_level* out,
               std::size_t max, std::size_t& count) noexcept {
        const int price_decimals = PriceDecimals >= 0 ? PriceDecimals : grid.price_decimals();
        const int qty_decimals = QtyDecimals >= 0 ? QtyDecimals : grid.qty_decimals();
        const bool unit = price_decimals >= 0 && qty_decimals >= 0;
        for (;;) {
            if (count == max) {
                return false;
            }
            std::int64_t ticks = 0;
            std::int64_t lots = 0;
            if (!(unit && unchecked_level(price_decimals, qty_decimals, ticks, lots))) {
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

    /// ["px","qty"] with both decimals of Binance's shape (price_decimals and qty_decimals those
    /// of one-unit tick and step), when the message has room for the longest such level: then
    /// no read can leave it and no bounds check is needed. False (and nothing consumed) for
    /// anything else.
    [[nodiscard, gnu::always_inline]] bool unchecked_level(int price_decimals, int qty_decimals,
                                                           std::int64_t& ticks,
                                                           std::int64_t& lots) noexcept {
        // ["<=16"," <=16"] plus the separator: 2 + 17 + 2 + 17 + 1 + 1 bytes at most.
        constexpr std::ptrdiff_t longest = 40;
        if (end_ - p_ < longest || p_[0] != '[' || p_[1] != '"') {
            return false;
        }
        const char* p = p_ + 2;
        const std::size_t px_size = detail::parse_binance_quoted(p, price_decimals, ticks);
        if (px_size == 0) {
            return false;
        }
        p += px_size + 1;
        if (p[0] != ',' || p[1] != '"') {
            return false;
        }
        p += 2;
        const std::size_t qty_size = detail::parse_binance_quoted(p, qty_decimals, lots);
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
            const std::size_t size = detail::parse_binance_quoted(p_, grid.price_decimals(), ticks);
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
            const std::size_t size = detail::parse_binance_quoted(p_, grid.qty_decimals(), lots);
            if (size != 0 && static_cast<std::size_t>(end_ - p_) > size) {
                p_ += size + 1;
                return true;
            }
        }
        std::string_view text;
        return decimal_text(text) && grid.read_qty(spec, text, lots);
    }

    /// A JSON boolean literal.
    [[nodiscard, gnu::always_inline]] bool boolean(bool& value) noexcept {
        if (literal<"true">()) {
            value = true;
            return true;
        }
        value = false;
        return literal<"false">();
    }

    /// Key (a field's key, colon and opening quote, e.g. `,"b":"`), then the rest of a decimal
    /// string read as a price of spec (grid: spec's unit_grid).
    template <fixed_text Key>
    [[nodiscard, gnu::always_inline]] bool
    keyed_price(const core::symbol_spec& spec, const unit_grid& grid, core::price& value) noexcept {
        std::int64_t ticks = 0;
        const bool read = literal<Key>() && price_text(spec, grid, ticks);
        value = core::price{ticks};
        return read;
    }
    /// As keyed_price(), for a quantity.
    template <fixed_text Key>
    [[nodiscard, gnu::always_inline]] bool
    keyed_qty(const core::symbol_spec& spec, const unit_grid& grid, core::qty& value) noexcept {
        std::int64_t lots = 0;
        const bool read = literal<Key>() && qty_text(spec, grid, lots);
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

namespace {

/// The little-endian words of text[0, size) (text in a padded message, so whole words past
/// its end may be loaded), zero past its end, and their masks.
template <std::size_t Words>
void load_known(const char* text, std::size_t size, std::array<std::uint64_t, Words>& words,
                std::array<std::uint64_t, Words>& masks) noexcept {
    for (std::size_t i = 0; i < Words; ++i) {
        const std::size_t used = i * 8 < size ? std::min<std::size_t>(size - i * 8, 8) : 0;
        masks[i] = used == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * used)) - 1;
        words[i] = used == 0 ? 0 : core::detail::load8(text + i * 8) & masks[i];
    }
}

/// text (a view into a padded message, at most known_text::max_size long) as a known_text.
binance_decoder::known_text make_known(std::string_view text) noexcept {
    binance_decoder::known_text known;
    load_known(text.data(), text.size(), known.words, known.masks);
    known.size = text.size();
    return known;
}

/// How a payload begins: its first key and what it announces.
enum class payload_head : std::uint8_t {
    none,
    spot_ticker,    ///< {"u":        spot bookTicker
    depth,          ///< {"e":"depthUpdate","E":
    trade,          ///< {"e":"trade","E":
    agg_trade,      ///< {"e":"aggTrade","E":
    futures_ticker, ///< {"e":"bookTicker","u":
};

/// The payload head at the reader, consumed; none (nothing consumed) for any other start.
payload_head read_head(canonical_reader& in) noexcept {
    // Spot's bookTicker, most messages of a feed, is told apart first.
    if (in.literal<R"({"u":)">()) {
        return payload_head::spot_ticker;
    }
    if (in.literal<R"({"e":"depthUpdate","E":)">()) {
        return payload_head::depth;
    }
    if (in.literal<R"({"e":"trade","E":)">()) {
        return payload_head::trade;
    }
    if (in.literal<R"({"e":"aggTrade","E":)">()) {
        return payload_head::agg_trade;
    }
    if (in.literal<R"({"e":"bookTicker","u":)">()) {
        return payload_head::futures_ticker;
    }
    return payload_head::none;
}

} // namespace

symbol_id binance_decoder::resolve_symbol(std::string_view name) noexcept {
    if (name.empty() || name.size() > known_text::max_size) {
        return registry_.find(name);
    }
    const known_text known = make_known(name);
    if (name.size() == cached_name_.size && known.words == cached_name_.words) {
        return cached_symbol_;
    }
    const symbol_id id = registry_.find(name);
    if (id != invalid_symbol) {
        cached_name_ = known;
        cached_symbol_ = id;
    }
    return id;
}

bool binance_decoder::stream_fits(std::string_view stream, message_kind kind,
                                  std::string_view opening, std::uint8_t head) noexcept {
    if (!fits_stream(stream, kind)) {
        return false;
    }
    if (opening.size() <= known_opening::max_size) {
        known_opening& known = openings_[next_opening_];
        load_known(opening.data(), opening.size(), known.words, known.masks);
        known.last_word = core::detail::load8(opening.data() + opening.size() - 8);
        known.size = opening.size();
        known.head = head;
        opening_count_ = std::max(opening_count_, next_opening_ + 1);
        next_opening_ = (next_opening_ + 1) % openings_.size();
    }
    return true;
}

bool binance_decoder::decode_canonical(padded_view message) noexcept {
    // Accepted, with no whitespace anywhere ([..] optional, "str" printable ASCII, n an integer):
    //   envelope: {"stream":"str","data":PAYLOAD}  or PAYLOAD alone, then the end of the message
    //   {"e":"depthUpdate","E":n[,"T":n],"s":"str","U":n,"u":n[,"pu":n],"b":LEVELS,"a":LEVELS}
    //   {"u":n,"s":"str","b":"dec","B":"dec","a":"dec","A":"dec"}                  (spot)
    //   {"e":"bookTicker","u":n,"E":n,"T":n,"s":"str","b":"dec","B":"dec","a":"dec","A":"dec"}
    //   {"e":"trade","E":n,"s":"str","t":n,"p":"dec","q":"dec","T":n,"m":bool,"M":bool}  (spot)
    //   {"e":"aggTrade","E":n,"s":"str","a":n,"p":"dec","q":"dec","f":n,"l":n,"T":n,"m":bool,
    //    "M":bool}                                                                  (spot)
    // The general path gives these the same meaning: the payload's "s" decides the symbol.
    canonical_reader in(message.data, message.data + message.size);
    // The opening: a remembered one (envelope, stream and head at once), or read in full.
    payload_head head = payload_head::none;
    bool envelope = false;
    bool known = false; // a remembered opening matched: its stream fits its payload
    std::string_view stream;
    for (std::size_t i = 0; i < opening_count_; ++i) {
        if (in.known_opening(openings_[i])) {
            head = static_cast<payload_head>(openings_[i].head);
            envelope = true;
            known = true;
            break;
        }
    }
    if (!known) {
        envelope = in.literal<R"({"stream":)">();
        if (envelope && (!in.plain_string(stream) || !in.literal<R"(,"data":)">())) {
            return false;
        }
        head = read_head(in);
    }
    // An envelope read in full: its stream must carry the payload (else the general path rejects
    // the message); once the whole message is accepted, its opening is remembered.
    const bool check_stream = envelope && !known;
    const std::string_view opening(message.data,
                                   static_cast<std::size_t>(in.position() - message.data));
    const auto stream_head = static_cast<std::uint8_t>(head);
    // The symbol name: the last one resolved, compared in place, or read and looked up.
    const auto read_symbol = [&](std::string_view& name) {
        if (cached_name_.size != 0 && in.known_string(cached_name_, name)) {
            return cached_symbol_;
        }
        return in.plain_string(name) ? resolve_symbol(name) : invalid_symbol;
    };
    std::uint64_t event_ms = 0;
    std::uint64_t transaction_ms = 0;
    std::uint64_t update_id = 0;
    std::string_view name;
    if (head == payload_head::depth) {
        std::uint64_t first_id = 0;
        std::uint64_t prev_id = 0;
        if (!in.unsigned_number(event_ms) ||
            (in.literal<R"(,"T":)">() && !in.unsigned_number(transaction_ms)) ||
            !in.literal<R"(,"s":)">()) {
            return false;
        }
        const symbol_id symbol = read_symbol(name);
        if (symbol == invalid_symbol || !in.literal<R"(,"U":)">() ||
            !in.unsigned_number(first_id) || !in.literal<R"(,"u":)">() ||
            !in.unsigned_number(update_id)) {
            return false;
        }
        const bool has_prev = in.literal<R"(,"pu":)">();
        if ((has_prev && !in.unsigned_number(prev_id)) || event_ms > max_ms ||
            transaction_ms > max_ms || first_id > update_id) {
            return false;
        }
        const core::symbol_spec& spec = registry_.at(symbol).book_spec;
        std::size_t bid_count = 0;
        std::size_t ask_count = 0;
        if (!in.literal<R"(,"b":)">() ||
            !in.levels(spec, bids_.data(), config_.max_levels_per_side, bid_count) ||
            !in.literal<R"(,"a":)">() ||
            !in.levels(spec, asks_.data(), config_.max_levels_per_side, ask_count) ||
            !in.literal<"}">() || (envelope && !in.literal<"}">()) || !in.at_end()) {
            return false;
        }
        if (check_stream &&
            !stream_fits(stream, message_kind::depth_update, opening, stream_head)) {
            return false; // the general path rejects it
        }
        decoded_depth& depth = message_.depth;
        depth.first_update_id = first_id;
        depth.final_update_id = update_id;
        depth.prev_final_update_id = prev_id;
        depth.has_prev_final_update_id = has_prev;
        depth.exchange_ns = ms_to_ns(event_ms);
        depth.transaction_ns = ms_to_ns(transaction_ms);
        depth.bids = {bids_.data(), bid_count};
        depth.asks = {asks_.data(), ask_count};
        message_.symbol = symbol;
        message_.kind = message_kind::depth_update;
        return true;
    }
    if (head == payload_head::trade || head == payload_head::agg_trade) {
        const bool trade = head == payload_head::trade;
        // After {"e":"trade","E": or {"e":"aggTrade","E": (spot's field order; others go to the
        // general path):
        //   trade:    n,"s":"str","t":n,"p":"dec","q":"dec","T":n,"m":bool,"M":bool}
        //   aggTrade: n,"s":"str","a":n,"p":"dec","q":"dec","f":n,"l":n,"T":n,"m":bool,"M":bool}
        std::uint64_t id = 0;
        std::uint64_t first = 0;
        std::uint64_t last = 0;
        if (!in.unsigned_number(event_ms) || !in.literal<R"(,"s":)">()) {
            return false;
        }
        const symbol_id symbol = read_symbol(name);
        if (symbol == invalid_symbol ||
            !(trade ? in.literal<R"(,"t":)">() : in.literal<R"(,"a":)">()) ||
            !in.unsigned_number(id) ||
            id > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return false;
        }
        const core::symbol_spec& spec = registry_.at(symbol).book_spec;
        const unit_grid grid(spec);
        decoded_trade& out = message_.trade;
        bool buyer_is_maker = false;
        bool best_match = false;
        if (!in.keyed_price<R"(,"p":")">(spec, grid, out.px) ||
            !in.keyed_qty<R"(,"q":")">(spec, grid, out.qty)) {
            return false;
        }
        if (!trade && (!in.literal<R"(,"f":)">() || !in.unsigned_number(first) ||
                       !in.literal<R"(,"l":)">() || !in.unsigned_number(last) || last < first ||
                       last - first >= std::numeric_limits<std::uint32_t>::max())) {
            return false;
        }
        if (!in.literal<R"(,"T":)">() || !in.unsigned_number(transaction_ms) ||
            !in.literal<R"(,"m":)">() || !in.boolean(buyer_is_maker) || !in.literal<R"(,"M":)">() ||
            !in.boolean(best_match) || !in.literal<"}">() || (envelope && !in.literal<"}">()) ||
            !in.at_end() || event_ms > max_ms || transaction_ms > max_ms) {
            return false;
        }
        const message_kind kind = trade ? message_kind::trade : message_kind::agg_trade;
        if (check_stream && !stream_fits(stream, kind, opening, stream_head)) {
            return false; // the general path rejects it
        }
        out.trade_id = static_cast<std::int64_t>(id);
        out.aggressor = buyer_is_maker ? core::side::sell : core::side::buy;
        out.count = trade ? 1 : static_cast<std::uint32_t>(last - first + 1);
        out.trade_ns = ms_to_ns(transaction_ms);
        out.exchange_ns = ms_to_ns(event_ms);
        message_.symbol = symbol;
        message_.kind = kind;
        return true;
    }
    if (head == payload_head::spot_ticker) {
        if (!in.unsigned_number(update_id) || !in.literal<R"(,"s":)">()) {
            return false;
        }
    } else if (head == payload_head::futures_ticker) {
        if (!in.unsigned_number(update_id) || !in.literal<R"(,"E":)">() ||
            !in.unsigned_number(event_ms) || !in.literal<R"(,"T":)">() ||
            !in.unsigned_number(transaction_ms) || !in.literal<R"(,"s":)">() || event_ms > max_ms ||
            transaction_ms > max_ms) {
            return false;
        }
    } else {
        return false;
    }
    const symbol_id symbol = read_symbol(name);
    if (symbol == invalid_symbol) {
        return false;
    }
    const core::symbol_spec& spec = registry_.at(symbol).book_spec;
    const unit_grid grid(spec);
    decoded_book_ticker& ticker = message_.ticker;
    if (!in.keyed_price<R"(,"b":")">(spec, grid, ticker.bid.px) ||
        !in.keyed_qty<R"(,"B":")">(spec, grid, ticker.bid.qty) ||
        !in.keyed_price<R"(,"a":")">(spec, grid, ticker.ask.px) ||
        !in.keyed_qty<R"(,"A":")">(spec, grid, ticker.ask.qty) || !in.literal<"}">() ||
        (envelope && !in.literal<"}">()) || !in.at_end() ||
        (check_stream && !stream_fits(stream, message_kind::book_ticker, opening, stream_head))) {
        return false;
    }
    ticker.update_id = update_id;
    ticker.exchange_ns = ms_to_ns(event_ms);
    ticker.transaction_ns = ms_to_ns(transaction_ms);
    message_.symbol = symbol;
    message_.kind = message_kind::book_ticker;
    return true;
}

} // namespace quoter::md
