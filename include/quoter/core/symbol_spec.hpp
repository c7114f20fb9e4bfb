// symbol_spec: a symbol's trading rules (tick size, step size, minimum notional) and every
// conversion between its exact integer prices/quantities and the outside world (decimal text
// from Binance, doubles from strategy math).
//
// Units. price_decimals is the number of decimals of the tick size and qty_decimals that of the
// step size. A price of t ticks is t * tick_units * 10^-price_decimals; a quantity of l lots is
// l * step_units * 10^-qty_decimals. Notional values are int64 in units of
// 10^-(price_decimals + qty_decimals) of the quote asset ("notional units").
#pragma once

#include "quoter/core/decimal.hpp"
#include "quoter/core/fixed_point.hpp"
#include "quoter/core/result.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif

namespace quoter::core {

/// Fixed-capacity symbol name ("BTCUSDT"), trivially copyable so it can cross rings.
class symbol_name {
public:
    static constexpr std::size_t capacity = 23;

    constexpr symbol_name() noexcept = default;
    /// Truncates names longer than capacity; Binance symbols are at most 20 characters.
    constexpr explicit symbol_name(std::string_view name) noexcept {
        size_ = static_cast<std::uint8_t>(name.size() < capacity ? name.size() : capacity);
        for (std::size_t i = 0; i < size_; ++i) {
            chars_[i] = name[i];
        }
    }
    [[nodiscard]] constexpr std::string_view view() const noexcept {
        return {chars_.data(), size_};
    }
    constexpr bool operator==(const symbol_name& other) const noexcept {
        return view() == other.view();
    }

private:
    std::array<char, capacity> chars_{};
    std::uint8_t size_ = 0;
};

/// Text form of a symbol's filters, as exchangeInfo gives them.
struct symbol_filters_text {
    std::string_view name;
    std::string_view tick_size;    ///< PRICE_FILTER tickSize, e.g. "0.01000000".
    std::string_view step_size;    ///< LOT_SIZE stepSize, e.g. "0.00001000".
    std::string_view min_notional; ///< NOTIONAL/MIN_NOTIONAL minNotional, e.g. "5.00000000".
};

enum class spec_error : std::uint8_t {
    none,
    bad_tick_size,
    bad_step_size,
    bad_min_notional,
    too_precise, ///< price_decimals + qty_decimals above 18: notional would not fit.
};

[[nodiscard]] std::string_view describe(spec_error error) noexcept;

class symbol_spec {
public:
    symbol_spec() = default;

    /// Builds a spec from exchangeInfo-style text. Tick and step must be positive.
    [[nodiscard]] static result<symbol_spec, spec_error> from_text(const symbol_filters_text& text);

    [[nodiscard]] const symbol_name& name() const noexcept { return name_; }
    [[nodiscard]] int price_decimals() const noexcept { return price_decimals_; }
    [[nodiscard]] int qty_decimals() const noexcept { return qty_decimals_; }
    /// Tick size in units of 10^-price_decimals (1 for "0.01" with 2 decimals, 5 for "0.05").
    [[nodiscard]] std::int64_t tick_units() const noexcept { return tick_units_; }
    /// Step size in units of 10^-qty_decimals.
    [[nodiscard]] std::int64_t step_units() const noexcept { return step_units_; }
    /// Minimum order notional in notional units.
    [[nodiscard]] std::int64_t min_notional_units() const noexcept { return min_notional_units_; }
    [[nodiscard]] double tick_size() const noexcept { return tick_size_; }
    [[nodiscard]] double step_size() const noexcept { return step_size_; }

    // Text -> exact. Hot path: used by the market-data decoders, two calls per book level, so
    // forced inline (with parse_decimal's fast path) and free of division.
    [[nodiscard, gnu::always_inline]] result<price, decimal_error>
    parse_price(std::string_view text) const noexcept {
        const auto units = parse_decimal(text, {.decimals = price_decimals_});
        if (!units) {
            return unexpected{units.error()};
        }
        std::int64_t ticks = 0;
        if (!tick_grid_.divide(*units, ticks)) {
            return unexpected{decimal_error::off_grid};
        }
        return price{ticks};
    }
    [[nodiscard, gnu::always_inline]] result<qty, decimal_error>
    parse_qty(std::string_view text) const noexcept {
        const auto units = parse_decimal(text, {.decimals = qty_decimals_});
        if (!units) {
            return unexpected{units.error()};
        }
        std::int64_t lots = 0;
        if (!step_grid_.divide(*units, lots)) {
            return unexpected{decimal_error::off_grid};
        }
        return qty{lots};
    }

    // Exact -> text with the symbol's precision ("61737.63"); out needs 41 characters.
    [[nodiscard]] std::string_view format_price(price p, std::span<char> out) const noexcept;
    [[nodiscard]] std::string_view format_qty(qty q, std::span<char> out) const noexcept;

    // Exact -> double, for strategy math and reports.
    [[nodiscard]] double to_double(price p) const noexcept {
        return static_cast<double>(p.ticks()) * tick_size_;
    }
    [[nodiscard]] double to_double(qty q) const noexcept {
        return static_cast<double>(q.lots()) * step_size_;
    }

    // Double -> exact. Bids round down and asks round up, so rounding never makes a quote more
    // aggressive than the strategy asked for; quantities round down to the step. The comparison
    // is exact against each grid point's double (the double nearest to its decimal value): a
    // double written as a grid price ("100.00", although 100.00 / 0.01 = 9999.999...) stays on
    // its point, and any other double goes to the neighbour on the asked-for side, at any
    // magnitude (no relative tolerance that could pull a bid up across a grid point).
    // The common case (a value not near a grid point) is answered inline: these run several
    // times per quote, and the call cost more than the multiply.
    [[nodiscard]] price round_bid(double value) const noexcept {
        std::int64_t k = 0;
        return grid_guess(value, tick_inverse_, tick_guess_limit_, false, k)
                   ? price{k}
                   : round_bid_exact(value);
    }
    [[nodiscard]] price round_ask(double value) const noexcept {
        std::int64_t k = 0;
        return grid_guess(value, tick_inverse_, tick_guess_limit_, true, k)
                   ? price{k}
                   : round_ask_exact(value);
    }
    /// {round_bid(bid_value), round_ask(ask_value)}: a quote's two sides at once. Where SSE4.1
    /// is available both fast paths run side by side in the two lanes of one vector, each lane
    /// doing exactly the scalar path's operations; a side that needs the full rounding gets it.
    [[nodiscard]] std::pair<price, price> round_bid_ask(double bid_value,
                                                        double ask_value) const noexcept {
#if defined(__SSE4_1__)
        const __m128d guess =
            _mm_mul_pd(_mm_set_pd(ask_value, bid_value), _mm_set1_pd(tick_inverse_));
        const __m128d magnitude = _mm_andnot_pd(_mm_set1_pd(-0.0), guess);
        const __m128d in_range = _mm_cmplt_pd(magnitude, _mm_set1_pd(tick_guess_limit_));
        const __m128d below = _mm_floor_pd(guess);
        const __m128d fraction = _mm_sub_pd(guess, below);
        const __m128d margin =
            _mm_add_pd(_mm_mul_pd(magnitude, _mm_set1_pd(0x1p-46)), _mm_set1_pd(0x1p-60));
        const __m128d clear =
            _mm_and_pd(_mm_cmpgt_pd(fraction, margin),
                       _mm_cmpgt_pd(_mm_sub_pd(_mm_set1_pd(1.0), fraction), margin));
        if (_mm_movemask_pd(_mm_and_pd(in_range, clear)) == 3) {
            const __m128d index = _mm_add_pd(below, _mm_set_pd(1.0, 0.0)); // the ask rounds up
            return {price{_mm_cvttsd_si64(index)},
                    price{_mm_cvttsd_si64(_mm_unpackhi_pd(index, index))}};
        }
#endif
        return {round_bid(bid_value), round_ask(ask_value)};
    }
    [[nodiscard]] price round_nearest(double value) const noexcept;
    [[nodiscard]] qty round_qty_down(double value) const noexcept {
        std::int64_t k = 0;
        return grid_guess(value, step_inverse_, step_guess_limit_, false, k)
                   ? qty{k}
                   : round_qty_down_exact(value);
    }

    /// price * quantity in notional units (exact; saturates at int64 limits).
    [[nodiscard]] std::int64_t notional_units(price p, qty q) const noexcept;
    /// price * quantity in the quote asset.
    [[nodiscard]] double notional(price p, qty q) const noexcept {
        return to_double(p) * to_double(q);
    }
    [[nodiscard]] bool meets_min_notional(price p, qty q) const noexcept {
        return notional_units(p, q) >= min_notional_units_;
    }
    /// Whether the venue waives the minimum notional for reduce-only orders: Binance USD-M
    /// futures does (-4164 "...unless you choose reduce only"), spot does not. Then a position
    /// below the minimum can still be closed.
    [[nodiscard]] bool reduce_only_waives_min_notional() const noexcept {
        return reduce_only_waives_min_notional_;
    }
    void set_reduce_only_waives_min_notional(bool waived) noexcept {
        reduce_only_waives_min_notional_ = waived;
    }
    /// The venue's largest order (LOT_SIZE maxQty) in lots, and its largest order notional
    /// (spot NOTIONAL maxNotional) in notional units; 0: none known.
    [[nodiscard]] qty max_qty() const noexcept {
        return max_qty_;
    }
    [[nodiscard]] std::int64_t max_notional_units() const noexcept {
        return max_notional_units_;
    }
    /// Sets them from exchangeInfo's text (maxQty rounded down to the step); empty text: none.
    /// False, with nothing changed, when a text is not a decimal this spec can hold.
    bool set_venue_maximums(std::string_view max_qty, std::string_view max_notional) noexcept;
    /// meets_min_notional(), or waived for a reduce-only order where the venue waives it.
    [[nodiscard]] bool meets_min_notional(price p, qty q, bool reduce_only) const noexcept {
        return (reduce_only && reduce_only_waives_min_notional_) || meets_min_notional(p, q);
    }

private:
    /// The rounding's fast path (symbol_spec.cpp, to_grid, explains why it is exact): true with
    /// the grid index in k when value * inverse lies clearly between two grid points. limit is
    /// a tick_guess_limit_ or step_guess_limit_.
    [[nodiscard]] static bool grid_guess(double value, double inverse, double limit, bool up,
                                         std::int64_t& k) noexcept {
        const double guess = value * inverse;
        if (!(std::abs(guess) < limit)) {
            return false;
        }
        const double below = std::floor(guess);
        const double fraction = guess - below;
        const double margin = std::abs(guess) * 0x1p-46 + 0x1p-60;
        if (fraction > margin && 1.0 - fraction > margin) {
            k = static_cast<std::int64_t>(up ? below + 1.0 : below);
            return true;
        }
        return false;
    }
    /// The full rounding (any value, grid points and NaN included).
    [[nodiscard]] price round_bid_exact(double value) const noexcept;
    [[nodiscard]] price round_ask_exact(double value) const noexcept;
    [[nodiscard]] qty round_qty_down_exact(double value) const noexcept;

    /// Exact division by a fixed positive divisor d = 2^shift * odd without a divide
    /// instruction: for x >= 0, rotr(x * odd^-1 mod 2^64, shift) is x / d when d divides x and
    /// exceeds (2^64 - 1) / d otherwise (Granlund and Montgomery's divisibility test).
    class grid_divisor {
    public:
        constexpr grid_divisor() noexcept = default;
        constexpr explicit grid_divisor(std::int64_t divisor) noexcept;

        /// quotient = value / divisor when divisor divides value; false when it does not.
        [[nodiscard]] constexpr bool divide(std::int64_t value,
                                            std::int64_t& quotient) const noexcept {
            if (value < 0) [[unlikely]] {
                if (value % divisor_ != 0) {
                    return false;
                }
                quotient = value / divisor_;
                return true;
            }
            std::uint64_t q = static_cast<std::uint64_t>(value) * inverse_;
            q = (q >> shift_) | (q << ((64 - shift_) & 63));
            quotient = static_cast<std::int64_t>(q);
            return q <= limit_;
        }

    private:
        std::int64_t divisor_ = 1;
        std::uint64_t inverse_ = 1; ///< Inverse of the divisor's odd part, modulo 2^64.
        std::uint64_t limit_ = ~std::uint64_t{0}; ///< (2^64 - 1) / divisor.
        unsigned shift_ = 0;                      ///< Trailing zero bits of the divisor.
    };

    symbol_name name_;
    int price_decimals_ = 0;
    int qty_decimals_ = 0;
    std::int64_t tick_units_ = 1;
    std::int64_t step_units_ = 1;
    grid_divisor tick_grid_;
    grid_divisor step_grid_;
    std::int64_t min_notional_units_ = 0;
    bool reduce_only_waives_min_notional_ = false;
    qty max_qty_{0};
    std::int64_t max_notional_units_ = 0;
    double tick_size_ = 1.0;
    double step_size_ = 1.0;
    /// 1 / tick_size_ and 1 / step_size_, rounded: the roundings' first guess multiplies
    /// (an exact answer never depends on them).
    double tick_inverse_ = 1.0;
    double step_inverse_ = 1.0;
    /// 2^50 / tick_units_ and 2^50 / step_units_: below them a guess times the units stays
    /// under the 2^51 up to which the fast path is exact (to_grid), with no multiply to check.
    double tick_guess_limit_ = 0x1p50;
    double step_guess_limit_ = 0x1p50;
};

constexpr symbol_spec::grid_divisor::grid_divisor(std::int64_t divisor) noexcept
    : divisor_(divisor > 0 ? divisor : 1) {
    auto odd = static_cast<std::uint64_t>(divisor_);
    while ((odd & 1U) == 0) {
        odd >>= 1U;
        ++shift_;
    }
    // Newton's iteration doubles the correct low bits each step: 3 -> 6 -> ... -> 96 >= 64.
    std::uint64_t inverse = odd;
    for (int i = 0; i < 5; ++i) {
        inverse *= 2 - odd * inverse;
    }
    inverse_ = inverse;
    limit_ = ~std::uint64_t{0} / static_cast<std::uint64_t>(divisor_);
}

} // namespace quoter::core
