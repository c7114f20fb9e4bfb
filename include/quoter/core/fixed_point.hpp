// Prices and quantities as exact integers: a price counts ticks of its symbol, a quantity counts
// lots (steps). The two are distinct types so that a price can never be passed as a quantity.
// Conversion to and from decimal text lives in symbol_spec, which knows the tick and step.
#pragma once

#include <compare>
#include <cstdint>

namespace quoter::core {

/// A price in ticks of its symbol (tick size from exchangeInfo's PRICE_FILTER).
class price {
public:
    constexpr price() noexcept = default;
    constexpr explicit price(std::int64_t ticks) noexcept : ticks_(ticks) {}

    [[nodiscard]] constexpr std::int64_t ticks() const noexcept { return ticks_; }

    constexpr auto operator<=>(const price&) const noexcept = default;

    constexpr price& operator+=(std::int64_t ticks) noexcept {
        ticks_ += ticks;
        return *this;
    }
    constexpr price& operator-=(std::int64_t ticks) noexcept {
        ticks_ -= ticks;
        return *this;
    }
    friend constexpr price operator+(price p, std::int64_t ticks) noexcept { return p += ticks; }
    friend constexpr price operator-(price p, std::int64_t ticks) noexcept { return p -= ticks; }
    /// Distance in ticks.
    friend constexpr std::int64_t operator-(price a, price b) noexcept {
        return a.ticks_ - b.ticks_;
    }

private:
    std::int64_t ticks_ = 0;
};

/// A quantity in lots of its symbol (step size from exchangeInfo's LOT_SIZE filter). Signed, so
/// that it can also express a position (negative = short).
class qty {
public:
    constexpr qty() noexcept = default;
    constexpr explicit qty(std::int64_t lots) noexcept : lots_(lots) {}

    [[nodiscard]] constexpr std::int64_t lots() const noexcept { return lots_; }
    [[nodiscard]] constexpr bool is_zero() const noexcept { return lots_ == 0; }

    constexpr auto operator<=>(const qty&) const noexcept = default;

    constexpr qty& operator+=(qty other) noexcept {
        lots_ += other.lots_;
        return *this;
    }
    constexpr qty& operator-=(qty other) noexcept {
        lots_ -= other.lots_;
        return *this;
    }
    friend constexpr qty operator+(qty a, qty b) noexcept { return a += b; }
    friend constexpr qty operator-(qty a, qty b) noexcept { return a -= b; }
    constexpr qty operator-() const noexcept { return qty{-lots_}; }

private:
    std::int64_t lots_ = 0;
};

enum class side : std::uint8_t { buy, sell };

[[nodiscard]] constexpr side opposite(side s) noexcept {
    return s == side::buy ? side::sell : side::buy;
}

/// +1 for buy, -1 for sell: the sign a fill of this side gives the position.
[[nodiscard]] constexpr std::int64_t sign(side s) noexcept { return s == side::buy ? 1 : -1; }

} // namespace quoter::core
