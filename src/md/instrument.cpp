#include "quoter/md/instrument.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <utility>

namespace quoter::md {
namespace {

constexpr std::size_t symbol_name_capacity = core::symbol_name::capacity;
static_assert(symbol_name_capacity <= 3 * sizeof(std::uint64_t), "a name fits three words");

/// Upper-cases the ASCII letters of 8 packed characters; other bytes (including non-ASCII) are
/// unchanged, as in a character-wise toupper limited to 'a'..'z'.
constexpr std::uint64_t fold_word(std::uint64_t word) noexcept {
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t high_bits = 0x8080808080808080ULL;
    const std::uint64_t low7 = word & ~high_bits;
    const std::uint64_t at_least_a = low7 + ones * (0x80 - 'a');  // high bit: byte >= 'a'
    const std::uint64_t above_z = low7 + ones * (0x80 - 'z' - 1); // high bit: byte > 'z'
    const std::uint64_t lower = at_least_a & ~above_z & ~word & high_bits;
    return word ^ (lower >> 2U); // 0x80 >> 2 == 0x20, the case bit
}

std::size_t hash_words(const std::array<std::uint64_t, 3>& words, std::size_t size) noexcept {
    std::uint64_t hash = (words[0] * 0x9E3779B97F4A7C15ULL) ^ (words[1] * 0xC2B2AE3D27D4EB4FULL) ^
                         (words[2] * 0x165667B19E3779F9ULL) ^ size;
    hash ^= hash >> 29U;
    hash *= 0xBF58476D1CE4E5B9ULL;
    return static_cast<std::size_t>(hash ^ (hash >> 32U));
}

} // namespace

std::string_view to_string(market m) noexcept {
    switch (m) {
    case market::spot: return "spot";
    case market::usdm_futures: return "usdm_futures";
    }
    return "unknown";
}

namespace {

/// Every status with its exchangeInfo text, in enum order after unknown.
constexpr std::array<std::pair<symbol_status, std::string_view>, 14> status_texts{{
    {symbol_status::trading, "TRADING"},
    {symbol_status::pre_trading, "PRE_TRADING"},
    {symbol_status::post_trading, "POST_TRADING"},
    {symbol_status::end_of_day, "END_OF_DAY"},
    {symbol_status::halt, "HALT"},
    {symbol_status::auction_match, "AUCTION_MATCH"},
    {symbol_status::in_break, "BREAK"},
    {symbol_status::pending_trading, "PENDING_TRADING"},
    {symbol_status::pre_delivering, "PRE_DELIVERING"},
    {symbol_status::delivering, "DELIVERING"},
    {symbol_status::delivered, "DELIVERED"},
    {symbol_status::pre_settle, "PRE_SETTLE"},
    {symbol_status::settling, "SETTLING"},
    {symbol_status::close, "CLOSE"},
}};

} // namespace

symbol_status parse_symbol_status(std::string_view text) noexcept {
    if (text.empty()) {
        return symbol_status::unknown;
    }
    for (const auto& [status, name] : status_texts) {
        if (name == text) {
            return status;
        }
    }
    return symbol_status::other;
}

std::string_view to_string(symbol_status status) noexcept {
    for (const auto& [known, name] : status_texts) {
        if (known == status) {
            return name;
        }
    }
    return status == symbol_status::other ? "other" : "unknown";
}

symbol_id symbol_registry::add(const instrument& info) {
    if (instruments_.size() >= invalid_symbol ||
        find_lower(info.book_spec.name().view()) != invalid_symbol) {
        return invalid_symbol;
    }
    instruments_.push_back(info);
    rebuild_index();
    return static_cast<symbol_id>(instruments_.size() - 1);
}

symbol_registry::name_key symbol_registry::key_of(std::string_view name) noexcept {
    // Callers pass at most symbol_name_capacity (23) characters. Whole-word loads that overlap
    // instead of a byte-wise copy: an overlapping load shifted right drops the bytes the
    // previous word already holds, and the zero bits shifted in are the padding.
    name_key key;
    key.size = name.size();
    const char* p = name.data();
    const std::size_t size = name.size();
    const auto load8 = [](const char* at) noexcept {
        std::uint64_t word = 0;
        std::memcpy(&word, at, sizeof word);
        return word;
    };
    const auto load4 = [](const char* at) noexcept {
        std::uint32_t word = 0;
        std::memcpy(&word, at, sizeof word);
        return std::uint64_t{word};
    };
    if constexpr (std::endian::native == std::endian::little) {
        if (size >= 8) {
            key.exact[0] = load8(p);
            if (size > 16) {
                key.exact[1] = load8(p + 8);
                key.exact[2] = load8(p + size - 8) >> (8U * (24 - size));
            } else if (size > 8) {
                key.exact[1] = load8(p + size - 8) >> (8U * (16 - size));
            }
        } else if (size >= 4) {
            const std::uint64_t low = load4(p);
            const std::uint64_t high = load4(p + size - 4);
            key.exact[0] = low | (high << (8U * (size - 4))); // overlapping bytes agree
        } else {
            for (std::size_t i = 0; i < size; ++i) {
                key.exact[0] |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8U * i);
            }
        }
    } else {
        std::memcpy(key.exact.data(), p, std::min(size, sizeof key.exact));
    }
    for (std::size_t i = 0; i < key.exact.size(); ++i) {
        key.folded[i] = fold_word(key.exact[i]);
    }
    return key;
}

void symbol_registry::rebuild_index() {
    keys_.clear();
    for (const instrument& info : instruments_) {
        keys_.push_back(key_of(info.book_spec.name().view()));
    }
    const std::size_t wanted = std::bit_ceil(std::max<std::size_t>(8, instruments_.size() * 2));
    slots_.assign(wanted, invalid_symbol);
    const std::size_t mask = wanted - 1;
    for (std::size_t id = 0; id < instruments_.size(); ++id) {
        std::size_t slot = hash_words(keys_[id].folded, keys_[id].size) & mask;
        while (slots_[slot] != invalid_symbol) {
            slot = (slot + 1) & mask;
        }
        slots_[slot] = static_cast<symbol_id>(id);
    }
}

symbol_id symbol_registry::lookup(std::string_view name, bool fold_case) const noexcept {
    // Stored names are at most symbol_name::capacity characters: a longer one matches nothing.
    if (slots_.empty() || name.size() > symbol_name_capacity) {
        return invalid_symbol;
    }
    const name_key key = key_of(name);
    const std::size_t mask = slots_.size() - 1;
    std::size_t slot = hash_words(key.folded, key.size) & mask;
    while (slots_[slot] != invalid_symbol) {
        const symbol_id id = slots_[slot];
        const name_key& stored = keys_[id];
        const auto& have = fold_case ? stored.folded : stored.exact;
        const auto& want = fold_case ? key.folded : key.exact;
        // Word by word, without a memcmp call.
        if (stored.size == key.size &&
            ((have[0] ^ want[0]) | (have[1] ^ want[1]) | (have[2] ^ want[2])) == 0) {
            return id;
        }
        slot = (slot + 1) & mask;
    }
    return invalid_symbol;
}

symbol_id symbol_registry::find(std::string_view name) const noexcept {
    return lookup(name, false);
}

symbol_id symbol_registry::find_lower(std::string_view name) const noexcept {
    return lookup(name, true);
}

core::result<core::symbol_spec, core::spec_error>
make_book_spec(std::string_view name, std::string_view tick_size, int qty_decimals) {
    const auto tick_decimals = core::significant_decimals(tick_size);
    if (!tick_decimals) {
        return core::unexpected{core::spec_error::bad_tick_size};
    }
    const int decimals =
        std::clamp(qty_decimals, 0, core::max_decimals - *tick_decimals);
    // "0.00000001" for 8 decimals, "1" for none.
    std::array<char, 24> step{};
    std::size_t length = 0;
    if (decimals == 0) {
        step[length++] = '1';
    } else {
        step[length++] = '0';
        step[length++] = '.';
        for (int i = 1; i < decimals; ++i) {
            step[length++] = '0';
        }
        step[length++] = '1';
    }
    return core::symbol_spec::from_text({.name = name,
                                         .tick_size = tick_size,
                                         .step_size = std::string_view(step.data(), length),
                                         .min_notional = {}});
}

} // namespace quoter::md
