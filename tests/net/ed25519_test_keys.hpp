// Test support: a fresh Ed25519 key pair made with OpenSSL for each test, never committed. The
// private key as PKCS#8 PEM (what the gateway loads), the public key written to a 0600 PEM file
// in a private temporary folder (what quoter-venue's --api-ed25519-key reads); the folder goes
// with the object.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <stdlib.h>

namespace quoter::testing {

class ed25519_test_keys {
public:
    ed25519_test_keys() {
        EVP_PKEY* key = nullptr;
        EVP_PKEY_CTX* context = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
        if (context == nullptr || EVP_PKEY_keygen_init(context) != 1 ||
            EVP_PKEY_keygen(context, &key) != 1) {
            EVP_PKEY_CTX_free(context);
            throw std::runtime_error("Ed25519 key generation failed");
        }
        EVP_PKEY_CTX_free(context);
        private_pem_ = pem_of(key, true);
        public_pem_ = pem_of(key, false);
        EVP_PKEY_free(key);
        std::string pattern =
            (std::filesystem::temp_directory_path() / "quoter-ed25519-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        dir_ = pattern;
        public_file_ = (dir_ / "public.pem").string();
        private_file_ = (dir_ / "private.pem").string();
        write(public_file_, public_pem_);
        write(private_file_, private_pem_);
    }
    ~ed25519_test_keys() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    ed25519_test_keys(const ed25519_test_keys&) = delete;
    ed25519_test_keys& operator=(const ed25519_test_keys&) = delete;

    /// PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----").
    [[nodiscard]] const std::string& private_pem() const { return private_pem_; }
    [[nodiscard]] const std::string& public_pem() const { return public_pem_; }
    /// The public key as a PEM file, for quoter-venue --api-ed25519-key.
    [[nodiscard]] const std::string& public_file() const { return public_file_; }
    /// The private key as a 0600 PEM file.
    [[nodiscard]] const std::string& private_file() const { return private_file_; }

private:
    static std::string pem_of(EVP_PKEY* key, bool private_key) {
        BIO* bio = BIO_new(BIO_s_mem());
        const int ok =
            private_key ? PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr)
                        : PEM_write_bio_PUBKEY(bio, key);
        char* data = nullptr;
        const long size = BIO_get_mem_data(bio, &data);
        std::string out =
            ok == 1 && size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
        BIO_free(bio);
        if (out.empty()) {
            throw std::runtime_error("PEM encoding failed");
        }
        return out;
    }
    static void write(const std::string& path, const std::string& text) {
        std::ofstream(path) << text;
        std::filesystem::permissions(path, std::filesystem::perms::owner_read |
                                               std::filesystem::perms::owner_write);
    }

    std::string private_pem_;
    std::string public_pem_;
    std::filesystem::path dir_;
    std::string public_file_;
    std::string private_file_;
};

} // namespace quoter::testing
