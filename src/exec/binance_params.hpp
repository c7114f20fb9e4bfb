// binance_params: the text building shared by the Binance request encoders. A request is a set
// of `name=value` parameters written into a caller buffer; nothing allocates. Values are
// restricted to characters that need no escaping in JSON or in a query string
// ([A-Za-z0-9.:/_-]: symbols, client order ids, decimals, enums, API keys), so the signed text
// and the text sent are byte-identical; a value outside that set fails the encoding instead of
// being escaped differently in two places.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace quoter::exec::detail {

[[nodiscard]] constexpr bool is_plain_char(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == ':' || c == '/' || c == '_' || c == '-';
}

[[nodiscard]] constexpr bool is_plain(std::string_view value) noexcept {
    for (const char c : value) {
        if (!is_plain_char(c)) {
            return false;
        }
    }
    return !value.empty();
}

/// Decimal text of an int64 in a small fixed buffer.
class integer_text {
public:
    constexpr explicit integer_text(std::int64_t value) noexcept {
        std::uint64_t magnitude =
            value < 0 ? ~static_cast<std::uint64_t>(value) + 1 : static_cast<std::uint64_t>(value);
        std::size_t start = chars_.size();
        do {
            chars_[--start] = static_cast<char>('0' + magnitude % 10);
            magnitude /= 10;
        } while (magnitude != 0);
        if (value < 0) {
            chars_[--start] = '-';
        }
        start_ = static_cast<std::uint8_t>(start);
    }
    [[nodiscard]] constexpr std::string_view view() const noexcept {
        return {chars_.data() + start_, chars_.size() - start_};
    }

private:
    std::array<char, 20> chars_{};
    std::uint8_t start_ = 0;
};

/// Appends to a fixed buffer; once something does not fit, every later append is ignored and
/// ok() stays false.
class text_writer {
public:
    constexpr explicit text_writer(std::span<char> out) noexcept : out_(out) {}

    constexpr void append(std::string_view text) noexcept {
        if (!ok_ || text.size() > out_.size() - size_) {
            ok_ = false;
            return;
        }
        std::copy_n(text.data(), text.size(), out_.data() + size_);
        size_ += text.size();
    }
    constexpr void append(char c) noexcept {
        if (!ok_ || size_ == out_.size()) {
            ok_ = false;
            return;
        }
        out_[size_++] = c;
    }
    constexpr void fail() noexcept { ok_ = false; }

    [[nodiscard]] constexpr bool ok() const noexcept { return ok_; }
    [[nodiscard]] constexpr std::size_t size() const noexcept { return size_; }
    /// The text written from offset on; empty when anything failed.
    [[nodiscard]] constexpr std::string_view text(std::size_t from = 0) const noexcept {
        return ok_ ? std::string_view{out_.data() + from, size_ - from} : std::string_view{};
    }

private:
    std::span<char> out_;
    std::size_t size_ = 0;
    bool ok_ = true;
};

/// One request parameter; quoted says whether JSON carries the value as a string.
struct param {
    std::string_view name;
    std::string_view value;
    bool quoted = true;
};

/// Up to 16 parameters of one request.
class param_list {
public:
    static constexpr std::size_t capacity = 16;

    constexpr void add(std::string_view name, std::string_view value, bool quoted = true) noexcept {
        if (count_ == capacity || !is_plain(value)) {
            ok_ = false;
            return;
        }
        items_[count_++] = param{name, value, quoted};
    }
    /// Adds the parameter only when value is not empty.
    constexpr void add_optional(std::string_view name, std::string_view value) noexcept {
        if (!value.empty()) {
            add(name, value);
        }
    }

    /// Byte order of names, as the WebSocket API's signature payload wants. Insertion sort: a
    /// dozen items, no allocation.
    constexpr void sort() noexcept {
        for (std::size_t i = 1; i < count_; ++i) {
            const param item = items_[i];
            std::size_t j = i;
            while (j > 0 && items_[j - 1].name > item.name) {
                items_[j] = items_[j - 1];
                --j;
            }
            items_[j] = item;
        }
    }

    [[nodiscard]] constexpr bool ok() const noexcept { return ok_; }
    [[nodiscard]] constexpr std::span<const param> items() const noexcept {
        return {items_.data(), count_};
    }

private:
    std::array<param, capacity> items_{};
    std::size_t count_ = 0;
    bool ok_ = true;
};

/// `name=value&name=value...` of every parameter, in list order.
constexpr void write_query(text_writer& out, const param_list& params) noexcept {
    bool first = true;
    for (const param& item : params.items()) {
        if (!first) {
            out.append('&');
        }
        first = false;
        out.append(item.name);
        out.append('=');
        out.append(item.value);
    }
}

} // namespace quoter::exec::detail
