// Client-side TLS set-up shared by the WebSocket and REST clients: one OpenSSL context per
// client (TLS 1.2 or later, peer verification against the system store and/or an extra CA file)
// and, per connection, SNI plus the name or address the server certificate must carry.
#pragma once

#include "quoter/core/result.hpp"
#include "quoter/net/tls.hpp"
#include "quoter/net/url.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace quoter::net::detail {

/// A verifying client context, or the reason it could not be built (e.g. unreadable CA file).
[[nodiscard]] core::result<std::shared_ptr<boost::asio::ssl::context>, std::string>
make_client_tls_context(const tls_config& config);

/// Sets SNI (DNS names only, as RFC 6066 requires) and the expected host name or IP address on
/// a connection before its handshake. False if OpenSSL rejected the name.
[[nodiscard]] bool configure_client_session(SSL* session, const url& endpoint);

/// Describes a failed handshake, naming the certificate check that failed when there is one
/// ("certificate verify failed: hostname mismatch").
[[nodiscard]] std::string describe_tls_failure(SSL* session, const boost::system::error_code& ec);

} // namespace quoter::net::detail
