#include "quoter/exec/binance_client_id.hpp"

namespace quoter::exec {
namespace {

// Digits in ASCII order, so that fixed-width texts sort like the numbers they encode.
constexpr std::string_view base62_digits =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

[[nodiscard]] constexpr bool is_base62(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

[[nodiscard]] constexpr bool is_hex(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

} // namespace

client_id_factory::client_id_factory(std::string_view tag, std::int64_t start_us) noexcept {
    tag_size_ = static_cast<std::uint8_t>(tag.size() < max_tag ? tag.size() : max_tag);
    for (std::size_t i = 0; i < tag_size_; ++i) {
        prefix_[i] = is_client_id_char(tag[i]) ? tag[i] : '_';
    }
    auto value = static_cast<std::uint64_t>(start_us < 0 ? 0 : start_us);
    for (std::size_t i = start_digits; i-- > 0;) {
        prefix_[tag_size_ + i] = base62_digits[value % 62];
        value /= 62;
    }
    size_ = static_cast<std::uint8_t>(tag_size_ + start_digits);
}

client_id_owner client_id_factory::owner(std::string_view text) const noexcept {
    if (text.substr(0, size_) == prefix()) {
        return parse(text) ? client_id_owner::this_run : client_id_owner::foreign;
    }
    if (text.size() != size_ + counter_digits || text.substr(0, tag_size_) != tag()) {
        return client_id_owner::foreign;
    }
    for (std::size_t i = tag_size_; i < size_; ++i) {
        if (!is_base62(text[i])) {
            return client_id_owner::foreign;
        }
    }
    for (std::size_t i = size_; i < text.size(); ++i) {
        if (!is_hex(text[i])) {
            return client_id_owner::foreign;
        }
    }
    return client_id_owner::earlier_run;
}

} // namespace quoter::exec
