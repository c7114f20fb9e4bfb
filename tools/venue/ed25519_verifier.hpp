// ed25519_verifier: checks Ed25519 signatures (base64, as Binance's WebSocket API sends them)
// with an account's public key, given as PEM ("-----BEGIN PUBLIC KEY-----", SubjectPublicKeyInfo).
//
// The venue's side of session.logon and of Ed25519-signed requests. OpenSSL does the work
// (EVP_DigestVerify with NID_ED25519); one context per call, the venue is not a hot path.
//
// Not thread-safe: owned by the venue's io_loop thread.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

struct evp_pkey_st;

namespace quoter::venue {

class ed25519_verifier {
public:
    /// The key of pem, or nothing when it is not an Ed25519 public key.
    [[nodiscard]] static std::optional<ed25519_verifier> from_public_pem(std::string_view pem);

    /// True when signature_base64 (88 characters, padded) is the key's signature of payload.
    [[nodiscard]] bool verify(std::string_view payload, std::string_view signature_base64) const;

private:
    struct key_deleter {
        void operator()(evp_pkey_st* key) const noexcept;
    };
    std::unique_ptr<evp_pkey_st, key_deleter> key_;
};

} // namespace quoter::venue
