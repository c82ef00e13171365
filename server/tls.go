package server

import (
	"crypto/tls"
	"net/http"
)

// tlsConfig is the HTTPS listener's configuration. Go's defaults still accept TLS 1.2's
// ECDHE-…-CBC-SHA suites (MAC-then-encrypt, the Lucky13 family), so TLS 1.2 is held to the AEAD
// suites with forward secrecy; TLS 1.3's suites are all AEAD and Go does not let them be chosen.
// NextProtos stays empty: ServeTLS fills in "h2" and "http/1.1" on its copy, and HTTP/2 needs one
// of the AES-128-GCM suites below, which is why they are here first.
func tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}

// hstsValue pins HTTPS on this host for a year. No includeSubDomains: the operator's other hosts
// under the same domain are not ours to pin, and a pin cannot be taken back before it expires.
const hstsValue = "max-age=31536000"

// strictTransportSecurity tells browsers to come back only over HTTPS, so a later plain-HTTP
// link or a downgrading network cannot expose a question. Sent only over TLS: browsers ignore it
// on plain HTTP, and a server without TLS must not tell anyone to expect it.
func strictTransportSecurity(tls bool, next http.Handler) http.Handler {
	if !tls {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", hstsValue)
		next.ServeHTTP(w, r)
	})
}
