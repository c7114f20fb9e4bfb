#include "ed25519_verifier.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <array>

namespace quoter::venue {

void ed25519_verifier::key_deleter::operator()(evp_pkey_st* key) const noexcept {
    EVP_PKEY_free(key);
}

std::optional<ed25519_verifier> ed25519_verifier::from_public_pem(std::string_view pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    if (bio == nullptr) {
        return std::nullopt;
    }
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (key == nullptr) {
        return std::nullopt;
    }
    ed25519_verifier out;
    out.key_.reset(key);
    if (EVP_PKEY_id(key) != NID_ED25519) {
        return std::nullopt;
    }
    return out;
}

bool ed25519_verifier::verify(std::string_view payload, std::string_view signature_base64) const {
    // 64 bytes encode to 88 characters, the last two of them padding.
    if (key_ == nullptr || signature_base64.size() != 88 || !signature_base64.ends_with("==")) {
        return false;
    }
    std::array<unsigned char, 66> raw{}; // 88 / 4 * 3, padding bytes included
    const int decoded =
        EVP_DecodeBlock(raw.data(), reinterpret_cast<const unsigned char*>(signature_base64.data()),
                        static_cast<int>(signature_base64.size()));
    if (decoded != 66) {
        return false;
    }
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    if (context == nullptr) {
        return false;
    }
    bool ok = EVP_DigestVerifyInit(context, nullptr, nullptr, nullptr, key_.get()) == 1 &&
              EVP_DigestVerify(context, raw.data(), 64,
                               reinterpret_cast<const unsigned char*>(payload.data()),
                               payload.size()) == 1;
    EVP_MD_CTX_free(context);
    return ok;
}

} // namespace quoter::venue
