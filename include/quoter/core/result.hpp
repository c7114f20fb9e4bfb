// result<T, E>: a value or an error, for failures that are expected on normal paths
// (malformed input, rejected orders). No allocation and no exceptions, so it is usable on the
// hot path. T and E must be default-constructible; both are stored inline.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>

namespace quoter::core {

/// Wraps an error so that result's constructors can tell it from a value.
template <class E> struct unexpected {
    E error;
};

template <class E> unexpected(E) -> unexpected<E>;

template <class T, class E> class [[nodiscard]] result {
public:
    static_assert(std::is_default_constructible_v<T> && std::is_default_constructible_v<E>);

    constexpr result(T value) : value_(std::move(value)), has_value_(true) {} // NOLINT
    constexpr result(unexpected<E> failure) : error_(std::move(failure.error)) {} // NOLINT

    [[nodiscard]] constexpr bool has_value() const noexcept { return has_value_; }
    constexpr explicit operator bool() const noexcept { return has_value_; }

    [[nodiscard]] constexpr T& value() & noexcept {
        assert(has_value_);
        return value_;
    }
    [[nodiscard]] constexpr const T& value() const& noexcept {
        assert(has_value_);
        return value_;
    }
    [[nodiscard]] constexpr T value_or(T fallback) const { return has_value_ ? value_ : fallback; }
    constexpr T& operator*() & noexcept { return value(); }
    constexpr const T& operator*() const& noexcept { return value(); }
    constexpr T* operator->() noexcept { return &value(); }
    constexpr const T* operator->() const noexcept { return &value(); }

    [[nodiscard]] constexpr const E& error() const noexcept {
        assert(!has_value_);
        return error_;
    }

private:
    T value_{};
    E error_{};
    bool has_value_ = false;
};

} // namespace quoter::core
