// Two tiny shared objects that let Debian 12's civetweb 1.15 serve TLS with OpenSSL 3.
//
// civetweb loads OpenSSL at run time with dlopen("libssl.so") / dlopen("libcrypto.so") and
// looks every function up by name. It was built for the OpenSSL 1.1 API and asks for
// SSL_get_peer_certificate, which OpenSSL 3 only has as a macro (for SSL_get1_peer_certificate):
// civetweb 1.15 then calls a null pointer on every TLS connection (civetweb issue #1334).
//
// poolwatch loads these objects (RTLD_GLOBAL) before it starts civetweb. Their sonames are
// "libssl.so" and "libcrypto.so", so glibc hands them to civetweb's dlopen() calls; dlsym()
// on them finds the missing function here and everything else in the real libraries they
// depend on. This also spares the unversioned libssl.so / libcrypto.so symlinks of libssl-dev
// at run time.
#include <openssl/ssl.h>

#ifdef POOLWATCH_TLS_SHIM_SSL
#undef SSL_get_peer_certificate
extern "C" __attribute__((visibility("default"))) X509* SSL_get_peer_certificate(const SSL* ssl) {
  return SSL_get1_peer_certificate(ssl);
}
#endif

// The libcrypto object needs no code of its own: it only carries the soname and the
// dependency on the real libcrypto.
extern "C" __attribute__((visibility("default"))) int poolwatch_tls_shim_present() { return 1; }
