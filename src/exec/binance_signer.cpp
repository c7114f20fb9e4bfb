#include "quoter/exec/binance_signer.hpp"

// The low-level SHA-256 interface is deprecated in OpenSSL 3 in favour of EVP, but EVP's HMAC
// allocates a context per message; the plain SHA256_CTX is a value that can be copied, which is
// what makes precomputed key states possible.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace quoter::exec {
namespace {

constexpr std::size_t sha256_block = 64;

static_assert(sizeof(SHA256_CTX) <= 112, "hmac_signer::state_bytes too small for SHA256_CTX");
static_assert(alignof(SHA256_CTX) <= 8);

SHA256_CTX load_state(const std::array<unsigned char, 112>& storage) noexcept {
    SHA256_CTX state;
    std::memcpy(&state, storage.data(), sizeof state);
    return state;
}

void store_state(const SHA256_CTX& state, std::array<unsigned char, 112>& storage) noexcept {
    std::memcpy(storage.data(), &state, sizeof state);
}

void hex_encode(const unsigned char* bytes, std::size_t size, char* out) noexcept {
    constexpr std::string_view digits = "0123456789abcdef";
    for (std::size_t i = 0; i < size; ++i) {
        out[2 * i] = digits[bytes[i] >> 4U];
        out[2 * i + 1] = digits[bytes[i] & 0xFU];
    }
}

} // namespace

hmac_signer::hmac_signer() noexcept : hmac_signer(std::string_view{}) {}

hmac_signer::hmac_signer(std::string_view secret) noexcept {
    std::array<unsigned char, sha256_block> key{};
    if (secret.size() > sha256_block) {
        // RFC 2104: keys longer than a block are hashed first.
        SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), key.data());
    } else if (!secret.empty()) {
        std::memcpy(key.data(), secret.data(), secret.size());
    }
    std::array<unsigned char, sha256_block> pad{};
    SHA256_CTX state;
    for (std::size_t i = 0; i < sha256_block; ++i) {
        pad[i] = static_cast<unsigned char>(key[i] ^ 0x36U);
    }
    SHA256_Init(&state);
    SHA256_Update(&state, pad.data(), pad.size());
    store_state(state, inner_);
    for (std::size_t i = 0; i < sha256_block; ++i) {
        pad[i] = static_cast<unsigned char>(key[i] ^ 0x5cU);
    }
    SHA256_Init(&state);
    SHA256_Update(&state, pad.data(), pad.size());
    store_state(state, outer_);
    OPENSSL_cleanse(key.data(), key.size());
    OPENSSL_cleanse(pad.data(), pad.size());
}

hex_signature hmac_signer::sign(std::string_view payload) const noexcept {
    return sign(std::span<const std::string_view>{&payload, 1});
}

hex_signature hmac_signer::sign(std::span<const std::string_view> parts) const noexcept {
    SHA256_CTX inner = load_state(inner_);
    for (const std::string_view part : parts) {
        SHA256_Update(&inner, part.data(), part.size());
    }
    std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
    SHA256_Final(digest.data(), &inner);
    SHA256_CTX outer = load_state(outer_);
    SHA256_Update(&outer, digest.data(), digest.size());
    SHA256_Final(digest.data(), &outer);
    hex_signature signature;
    hex_encode(digest.data(), digest.size(), signature.chars.data());
    return signature;
}

std::string_view describe(key_error error) noexcept {
    switch (error) {
    case key_error::none:
        return "none";
    case key_error::bad_encoding:
        return "not a PKCS#8 private key in PEM or base64 DER";
    case key_error::not_ed25519:
        return "the private key is not an Ed25519 key";
    case key_error::openssl:
        return "OpenSSL could not set up Ed25519 signing";
    }
    return "unknown";
}

std::string_view encode_base64(std::span<const unsigned char> bytes, std::span<char> out) noexcept {
    constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const std::size_t needed = 4 * ((bytes.size() + 2) / 3);
    if (out.size() < needed) {
        return {};
    }
    std::size_t written = 0;
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t group =
            (std::uint32_t{bytes[i]} << 16U) | (std::uint32_t{bytes[i + 1]} << 8U) | bytes[i + 2];
        out[written++] = alphabet[(group >> 18U) & 0x3FU];
        out[written++] = alphabet[(group >> 12U) & 0x3FU];
        out[written++] = alphabet[(group >> 6U) & 0x3FU];
        out[written++] = alphabet[group & 0x3FU];
    }
    if (const std::size_t rest = bytes.size() - i; rest > 0) {
        std::uint32_t group = std::uint32_t{bytes[i]} << 16U;
        if (rest == 2) {
            group |= std::uint32_t{bytes[i + 1]} << 8U;
        }
        out[written++] = alphabet[(group >> 18U) & 0x3FU];
        out[written++] = alphabet[(group >> 12U) & 0x3FU];
        out[written++] = rest == 2 ? alphabet[(group >> 6U) & 0x3FU] : '=';
        out[written++] = '=';
    }
    return {out.data(), written};
}

ed25519_signer::~ed25519_signer() {
    reset();
}

ed25519_signer::ed25519_signer(ed25519_signer&& other) noexcept
    : key_(std::exchange(other.key_, nullptr)), context_(std::exchange(other.context_, nullptr)) {}

ed25519_signer& ed25519_signer::operator=(ed25519_signer&& other) noexcept {
    if (this != &other) {
        reset();
        key_ = std::exchange(other.key_, nullptr);
        context_ = std::exchange(other.context_, nullptr);
    }
    return *this;
}

void ed25519_signer::reset() noexcept {
    EVP_MD_CTX_free(context_);
    EVP_PKEY_free(key_);
    context_ = nullptr;
    key_ = nullptr;
}

core::result<ed25519_signer, key_error>
ed25519_signer::from_private_key(std::string_view pkcs8) noexcept {
    EVP_PKEY* key = nullptr;
    if (pkcs8.find("-----BEGIN") != std::string_view::npos) {
        BIO* bio = BIO_new_mem_buf(pkcs8.data(), static_cast<int>(pkcs8.size()));
        if (bio != nullptr) {
            key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
            BIO_free(bio);
        }
    } else {
        // Bare base64 of the DER: strip surrounding whitespace, decode, drop the padding bytes
        // EVP_DecodeBlock counts as zeros.
        while (!pkcs8.empty() && (pkcs8.back() == '\n' || pkcs8.back() == '\r' ||
                                  pkcs8.back() == ' ' || pkcs8.back() == '\t')) {
            pkcs8.remove_suffix(1);
        }
        while (!pkcs8.empty() && (pkcs8.front() == ' ' || pkcs8.front() == '\t')) {
            pkcs8.remove_prefix(1);
        }
        std::array<unsigned char, 256> der{};
        if (!pkcs8.empty() && pkcs8.size() % 4 == 0 && pkcs8.size() / 4 * 3 <= der.size()) {
            int size =
                EVP_DecodeBlock(der.data(), reinterpret_cast<const unsigned char*>(pkcs8.data()),
                                static_cast<int>(pkcs8.size()));
            if (size > 0) {
                size -= static_cast<int>(std::count(pkcs8.end() - 2, pkcs8.end(), '='));
                const unsigned char* cursor = der.data();
                key = d2i_AutoPrivateKey(nullptr, &cursor, size);
            }
        }
        OPENSSL_cleanse(der.data(), der.size());
    }
    if (key == nullptr) {
        return core::unexpected{key_error::bad_encoding};
    }
    if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(key);
        return core::unexpected{key_error::not_ed25519};
    }
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    if (context == nullptr || EVP_DigestSignInit(context, nullptr, nullptr, nullptr, key) != 1) {
        EVP_MD_CTX_free(context);
        EVP_PKEY_free(key);
        return core::unexpected{key_error::openssl};
    }
    ed25519_signer signer;
    signer.key_ = key;
    signer.context_ = context;
    return signer;
}

base64_signature ed25519_signer::sign(std::string_view payload) noexcept {
    base64_signature signature;
    signature.chars.fill('=');
    if (key_ == nullptr) {
        return signature;
    }
    std::array<unsigned char, 64> raw{};
    std::size_t raw_size = raw.size();
    const auto* bytes = reinterpret_cast<const unsigned char*>(payload.data());
    int status = EVP_DigestSign(context_, raw.data(), &raw_size, bytes, payload.size());
    if (status != 1) {
        // OpenSSL versions that refuse a second one-shot call on a context get a fresh start.
        status = EVP_DigestSignInit(context_, nullptr, nullptr, nullptr, key_) == 1
                     ? EVP_DigestSign(context_, raw.data(), &raw_size, bytes, payload.size())
                     : 0;
    }
    if (status != 1 || raw_size != raw.size()) {
        return signature;
    }
    (void)encode_base64(raw, signature.chars);
    return signature;
}

} // namespace quoter::exec
