// tls_config: how net clients verify servers. Verification is always on: the server's chain
// must lead to a trusted CA and its certificate must name the host being connected to (DNS name,
// or IP address for IP literals); SNI carries the host name. There is deliberately no switch to
// turn verification off: tests trust a throw-away CA through extra_ca_file instead.
#pragma once

#include <string>

namespace quoter::net {

struct tls_config {
    /// Trust the system CA store (OpenSSL's default paths). Tests that must see an untrusted
    /// certificate fail can set this to false.
    bool use_system_ca = true;
    /// Additional PEM file of trusted CA certificates (e.g. a local test CA); "" for none.
    std::string extra_ca_file;
};

} // namespace quoter::net
