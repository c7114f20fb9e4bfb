// binance_signer: the signatures Binance asks of SIGNED requests.
//
// - HMAC-SHA256 keys sign the exact text of the request parameters (REST: query string then body
//   as sent; WebSocket API: every parameter but `signature`, sorted by name, `k=v` joined by `&`)
//   and send the digest as 64 lowercase hex characters.
// - Ed25519 keys sign the same kind of payload (WebSocket API session.logon,
//   userDataStream.subscribe.signature) and send the 64-byte signature in base64 (88 characters).
//
// Keys are loaded once at start-up (that may allocate and may fail); signing writes into fixed
// arrays returned by value. HMAC signing is allocation-free: the inner and outer SHA-256 states
// of the key are computed at load time, so a signature costs two SHA-256 passes over the payload
// plus one block. Ed25519 reuses one OpenSSL signing context created at load time.
//
// Thread ownership: a signer belongs to the thread that sends (the gateway I/O thread); sign()
// on one object must not run concurrently with itself.
#pragma once

#include "quoter/core/result.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

struct evp_pkey_st;
struct evp_md_ctx_st;

namespace quoter::exec {

/// HMAC-SHA256 digest as 64 lowercase hex characters.
struct hex_signature {
    static constexpr std::size_t size = 64;
    std::array<char, size> chars{};

    [[nodiscard]] constexpr std::string_view view() const noexcept {
        return {chars.data(), chars.size()};
    }
};

/// Ed25519 signature (64 bytes) in standard base64 with padding: 88 characters.
struct base64_signature {
    static constexpr std::size_t size = 88;
    std::array<char, size> chars{};

    [[nodiscard]] constexpr std::string_view view() const noexcept {
        return {chars.data(), chars.size()};
    }
};

/// HMAC-SHA256 with a fixed secret.
class hmac_signer {
public:
    /// A signer without a key signs with the empty secret; load one with the constructor below.
    hmac_signer() noexcept;
    /// Precomputes the key's inner and outer hash states. The secret is not kept.
    explicit hmac_signer(std::string_view secret) noexcept;

    /// Signature of payload. No allocation.
    [[nodiscard]] hex_signature sign(std::string_view payload) const noexcept;
    /// Signature of the concatenation of parts (REST: query string, then body), without joining
    /// them first. No allocation.
    [[nodiscard]] hex_signature sign(std::span<const std::string_view> parts) const noexcept;

private:
    /// SHA-256 states after absorbing key ^ ipad and key ^ opad (OpenSSL SHA256_CTX, opaque here
    /// so that OpenSSL stays out of this header; the size is checked in the source).
    static constexpr std::size_t state_bytes = 112;
    alignas(8) std::array<unsigned char, state_bytes> inner_{};
    alignas(8) std::array<unsigned char, state_bytes> outer_{};
};

/// How an API key signs: HMAC-SHA256 with a secret (every request signed), or Ed25519 with a
/// private key (spot: session.logon once per connection, then requests go unsigned).
enum class api_key_type : std::uint8_t {
    hmac,
    ed25519,
};

enum class key_error : std::uint8_t {
    none,
    bad_encoding, ///< Neither PEM nor base64 DER.
    not_ed25519,  ///< A valid key of another type.
    openssl,      ///< OpenSSL refused to set up signing.
};

[[nodiscard]] std::string_view describe(key_error error) noexcept;

/// Ed25519 signing with a private key given as PKCS#8: PEM ("-----BEGIN PRIVATE KEY-----" ...)
/// or the bare base64 of the DER (the PEM body on one line).
class ed25519_signer {
public:
    ed25519_signer() noexcept = default;
    ~ed25519_signer();
    ed25519_signer(ed25519_signer&& other) noexcept;
    ed25519_signer& operator=(ed25519_signer&& other) noexcept;
    ed25519_signer(const ed25519_signer&) = delete;
    ed25519_signer& operator=(const ed25519_signer&) = delete;

    /// Loads the key and prepares the signing context. Start-up only: allocates.
    [[nodiscard]] static core::result<ed25519_signer, key_error>
    from_private_key(std::string_view pkcs8) noexcept;

    [[nodiscard]] bool loaded() const noexcept { return key_ != nullptr; }

    /// Signature of payload. A signer without a key (or an OpenSSL failure) gives 88 '='
    /// characters, which no venue accepts, so the request is refused rather than left unsigned.
    [[nodiscard]] base64_signature sign(std::string_view payload) noexcept;

private:
    void reset() noexcept;

    evp_pkey_st* key_ = nullptr;
    evp_md_ctx_st* context_ = nullptr;
};

/// Writes bytes as standard base64 with padding into out (4 * ceil(n / 3) characters); returns
/// the written part, or an empty view when out is too small. No allocation.
[[nodiscard]] std::string_view encode_base64(std::span<const unsigned char> bytes,
                                             std::span<char> out) noexcept;

} // namespace quoter::exec
