// secret: an API key or secret that cannot be printed by accident.
//
// Invariants: the value never leaves the object except through reveal(), which only the request
// signer calls. Every printing path (masked(), fmt, iostreams, Catch2 messages) shows the masked
// form "abcd…wxyz"; there is no conversion to std::string or std::string_view. The destructor
// and moves overwrite the characters they release, so copies do not linger in freed memory
// longer than necessary (best effort: the environment and the OS still hold their own copies).
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>

namespace quoter::config {

class secret {
public:
    /// Secrets shorter than this are masked completely ("****"): showing 8 characters of a short
    /// secret would give most of it away.
    static constexpr std::size_t min_length_for_partial_mask = 16;

    secret() = default;
    explicit secret(std::string value) noexcept : value_(std::move(value)) {}
    secret(const secret& other) = default;
    secret& operator=(const secret& other);
    /// Copies and wipes the source, so that no stale copy survives in a moved-from buffer.
    secret(secret&& other) noexcept;
    secret& operator=(secret&& other) noexcept;
    ~secret();

    /// The clear value. For the request signer only; never log or print it.
    [[nodiscard]] std::string_view reveal() const noexcept { return value_; }
    [[nodiscard]] bool empty() const noexcept { return value_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return value_.size(); }

    /// "abcd…wxyz" (first and last four characters) for secrets of at least
    /// min_length_for_partial_mask printable ASCII characters, "****" for shorter or non-ASCII
    /// ones, "" when empty.
    [[nodiscard]] std::string masked() const;

private:
    void wipe() noexcept;

    std::string value_;
};

/// Writes the masked form.
std::ostream& operator<<(std::ostream& out, const secret& value);

} // namespace quoter::config

/// fmt::format("{}", s) writes the masked form; format specs apply to it ("{:>20}").
template <> struct fmt::formatter<quoter::config::secret> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(const quoter::config::secret& value, FormatContext& ctx) const {
        const std::string masked = value.masked();
        return fmt::formatter<std::string_view>::format(std::string_view(masked), ctx);
    }
};
