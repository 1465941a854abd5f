#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace poolwatch {

// The names exporter-toolkit's web configuration takes are Go's crypto/tls names; OpenSSL has
// its own. These tables translate the ones exporter-toolkit accepts.

struct GoCipherSuite {
  std::string_view go_name;       // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
  std::string_view openssl_name;  // ECDHE-RSA-AES128-GCM-SHA256
  bool tls13;                     // Go (and so poolwatch) does not let these be configured
};

// Every suite of Go's tls.CipherSuites(), the list exporter-toolkit looks names up in.
std::span<const GoCipherSuite> GoCipherSuites();
const GoCipherSuite* FindGoCipherSuite(std::string_view go_name);

// curve_preferences: CurveP256 → P-256, CurveP384, CurveP521, X25519.
std::optional<std::string_view> OpenSslGroupOfGoCurve(std::string_view go_name);

// min_version / max_version: TLS10 … TLS13 → 0x0301 … 0x0304 (the wire values).
std::optional<int> TlsVersionOfGoName(std::string_view go_name);

}  // namespace poolwatch
