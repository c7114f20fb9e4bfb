#include "quoter/md/instrument.hpp"

#include <algorithm>
#include <array>
#include <bit>

namespace quoter::md {
namespace {

constexpr char upper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

std::uint64_t hash_name(std::string_view name) noexcept {
    // FNV-1a over the upper-cased name, so that both lookups land on the same slot.
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (const char c : name) {
        hash ^= static_cast<unsigned char>(upper(c));
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

bool equal_folded(std::string_view stored, std::string_view name) noexcept {
    if (stored.size() != name.size()) {
        return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (upper(stored[i]) != upper(name[i])) {
            return false;
        }
    }
    return true;
}

} // namespace

std::string_view to_string(market m) noexcept {
    switch (m) {
    case market::spot: return "spot";
    case market::usdm_futures: return "usdm_futures";
    }
    return "unknown";
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

void symbol_registry::rebuild_index() {
    const std::size_t wanted = std::bit_ceil(std::max<std::size_t>(8, instruments_.size() * 2));
    slots_.assign(wanted, invalid_symbol);
    const std::size_t mask = wanted - 1;
    for (std::size_t id = 0; id < instruments_.size(); ++id) {
        std::size_t slot = hash_name(instruments_[id].book_spec.name().view()) & mask;
        while (slots_[slot] != invalid_symbol) {
            slot = (slot + 1) & mask;
        }
        slots_[slot] = static_cast<symbol_id>(id);
    }
}

symbol_id symbol_registry::lookup(std::string_view name, bool fold_case) const noexcept {
    if (slots_.empty()) {
        return invalid_symbol;
    }
    const std::size_t mask = slots_.size() - 1;
    std::size_t slot = hash_name(name) & mask;
    while (slots_[slot] != invalid_symbol) {
        const symbol_id id = slots_[slot];
        const std::string_view stored = instruments_[id].book_spec.name().view();
        if (fold_case ? equal_folded(stored, name) : stored == name) {
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
