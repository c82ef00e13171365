package server

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return selfSignedKey(t, key)
}

// selfSignedRSA is selfSigned with an RSA key, for the ECDHE_RSA suites.
func selfSignedRSA(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return selfSignedKey(t, key)
}

func selfSignedKey(t *testing.T, key crypto.Signer) (certFile, keyFile string) {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lawbot test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

func TestTLS(t *testing.T) {
	cert, key := selfSigned(t)
	s := New(Options{Logger: quietLogger(), TLSCert: cert, TLSKey: key})
	url, stop := serve(t, s)
	url = strings.Replace(url, "http://", "https://", 1)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(url + "/healthz")
	if err != nil {
		t.Fatalf("https: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok\n" || resp.TLS == nil {
		t.Errorf("https /healthz: %d %q tls=%v", resp.StatusCode, b, resp.TLS != nil)
	}
	if resp, err := http.Get(strings.Replace(url, "https://", "http://", 1) + "/healthz"); err == nil {
		if resp.StatusCode == 200 {
			t.Error("plain HTTP served on the TLS port")
		}
		resp.Body.Close()
	}
	if err := stop(); err != nil {
		t.Errorf("Serve: %v", err)
	}
}

func TestTLSNeedsBoth(t *testing.T) {
	s := New(Options{Logger: quietLogger(), Addr: "127.0.0.1:0", TLSCert: "cert.pem"})
	if err := s.ListenAndServe(t.Context()); err == nil || !strings.Contains(err.Error(), "both") {
		t.Errorf("ListenAndServe with a certificate and no key: %v", err)
	}
}

// TestTLSSuites shakes hands with a real HTTPS server as clients limited to one suite would:
// TLS 1.2 only with the AEAD suites with forward secrecy, TLS 1.3 always.
func TestTLSSuites(t *testing.T) {
	ecdsaAddr := serveTLS(t, selfSigned)
	rsaAddr := serveTLS(t, selfSignedRSA)
	tests := []struct {
		addr    string
		version uint16
		suite   uint16 // 0: the client's defaults
		ok      bool
	}{
		{ecdsaAddr, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, false},
		{ecdsaAddr, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, false},
		{ecdsaAddr, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, false},
		{ecdsaAddr, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, true},
		{ecdsaAddr, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, true},
		{ecdsaAddr, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, true},
		{ecdsaAddr, tls.VersionTLS13, 0, true},
		{ecdsaAddr, tls.VersionTLS11, 0, false},
		{rsaAddr, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, false},
		{rsaAddr, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, false},
		{rsaAddr, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, false},
		{rsaAddr, tls.VersionTLS12, tls.TLS_RSA_WITH_AES_128_GCM_SHA256, false}, // no forward secrecy
		{rsaAddr, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, true},
		{rsaAddr, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, true},
		{rsaAddr, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, true},
		{rsaAddr, tls.VersionTLS13, 0, true},
	}
	for _, tt := range tests {
		cert := map[string]string{ecdsaAddr: "ECDSA", rsaAddr: "RSA"}[tt.addr]
		suite := "default suites"
		if tt.suite != 0 {
			suite = tls.CipherSuiteName(tt.suite)
		}
		name := fmt.Sprintf("%s/%s/%s", cert, tls.VersionName(tt.version), suite)
		t.Run(name, func(t *testing.T) {
			cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: tt.version, MaxVersion: tt.version}
			if tt.suite != 0 {
				cfg.CipherSuites = []uint16{tt.suite}
			}
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", tt.addr, cfg)
			if err != nil {
				if tt.ok {
					t.Errorf("handshake refused: %v", err)
				}
				return
			}
			defer conn.Close()
			st := conn.ConnectionState()
			if !tt.ok {
				t.Errorf("handshake accepted: %s %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
			} else if st.Version != tt.version || tt.suite != 0 && st.CipherSuite != tt.suite {
				t.Errorf("negotiated %s %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
			}
		})
	}
}

// serveTLS starts a TLS server with the certificate cert makes and returns its host:port.
func serveTLS(t *testing.T, cert func(*testing.T) (string, string)) string {
	t.Helper()
	certFile, keyFile := cert(t)
	url, stop := serve(t, New(Options{Logger: quietLogger(), TLSCert: certFile, TLSKey: keyFile}))
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return strings.TrimPrefix(url, "http://")
}

// TestTLSHSTS: over HTTPS every response — errors included — pins HTTPS for a year, and HTTP/2
// still negotiates with the suites held back; plain HTTP sends no pin.
func TestTLSHSTS(t *testing.T) {
	addr := serveTLS(t, selfSigned)
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		ForceAttemptHTTP2: true, // a custom TLS config turns HTTP/2 off otherwise
	}}
	defer client.CloseIdleConnections()
	for _, path := range []string{"/healthz", "/graphql", "/no/such/page"} {
		resp, err := client.Get("https://" + addr + path)
		if err != nil {
			t.Fatalf("https %s: %v", path, err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
			t.Errorf("https %s (%d): Strict-Transport-Security %q", path, resp.StatusCode, got)
		}
		if resp.ProtoMajor != 2 {
			t.Errorf("https %s: %s, want HTTP/2", path, resp.Proto)
		}
	}

	url, stop := serve(t, New(Options{Logger: quietLogger()}))
	defer stop()
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, ok := resp.Header["Strict-Transport-Security"]; ok {
		t.Errorf("plain HTTP sends Strict-Transport-Security %q", got)
	}
}
