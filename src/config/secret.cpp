#include "quoter/config/secret.hpp"

#include <algorithm>
#include <ostream>

namespace quoter::config {

secret& secret::operator=(const secret& other) {
    if (this != &other) {
        wipe();
        value_ = other.value_;
    }
    return *this;
}

secret::secret(secret&& other) noexcept : value_(other.value_) {
    other.wipe();
}

secret& secret::operator=(secret&& other) noexcept {
    if (this != &other) {
        wipe();
        value_ = other.value_;
        other.wipe();
    }
    return *this;
}

secret::~secret() {
    wipe();
}

void secret::wipe() noexcept {
    // Volatile stores: the compiler may not drop them as dead writes before the release.
    volatile char* chars = value_.data();
    for (std::size_t i = 0; i < value_.size(); ++i) {
        chars[i] = '\0';
    }
    value_.clear();
}

std::string secret::masked() const {
    if (value_.empty()) {
        return {};
    }
    const bool printable =
        std::all_of(value_.begin(), value_.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    if (!printable || value_.size() < min_length_for_partial_mask) {
        return "****";
    }
    std::string out = value_.substr(0, 4);
    out += "\u2026";
    out += value_.substr(value_.size() - 4);
    return out;
}

std::ostream& operator<<(std::ostream& out, const secret& value) {
    return out << value.masked();
}

} // namespace quoter::config
