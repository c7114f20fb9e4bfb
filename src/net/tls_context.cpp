// Client TLS contexts and per-connection verification settings.
#include "tls_context.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace quoter::net::detail {

core::result<std::shared_ptr<boost::asio::ssl::context>, std::string>
make_client_tls_context(const tls_config& config) {
    namespace ssl = boost::asio::ssl;
    auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
    boost::system::error_code ec;
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                             ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                             ssl::context::no_tlsv1_1,
                         ec);
    if (ec) {
        return core::unexpected{"TLS options: " + ec.message()};
    }
    if (config.use_system_ca) {
        context->set_default_verify_paths(ec);
        if (ec) {
            return core::unexpected{"system CA store: " + ec.message()};
        }
    }
    if (!config.extra_ca_file.empty()) {
        context->load_verify_file(config.extra_ca_file, ec);
        if (ec) {
            return core::unexpected{"CA file " + config.extra_ca_file + ": " + ec.message()};
        }
    }
    context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
    if (ec) {
        return core::unexpected{"TLS verify mode: " + ec.message()};
    }
    return context;
}

bool configure_client_session(SSL* session, const url& endpoint) {
    if (endpoint.host_is_ip_literal()) {
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(session), endpoint.host.c_str()) == 1;
    }
    if (SSL_set_tlsext_host_name(session, endpoint.host.c_str()) != 1) {
        return false;
    }
    SSL_set_hostflags(session, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return SSL_set1_host(session, endpoint.host.c_str()) == 1;
}

std::string describe_tls_failure(SSL* session, const boost::system::error_code& ec) {
    std::string text = ec.message();
    const long verify = SSL_get_verify_result(session);
    if (verify != X509_V_OK) {
        text += ": ";
        text += X509_verify_cert_error_string(verify);
    }
    return text;
}

} // namespace quoter::net::detail
