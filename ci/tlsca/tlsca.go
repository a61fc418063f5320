// Package tlsca makes the self-signed certificate of the harness' TLS
// servers (MinIO, the registry): valid for 127.0.0.1 and 10.0.2.2 (the
// host as a QEMU guest sees it), from an hour ago to a day from now.
package tlsca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Cert is a certificate that is its own CA.
type Cert struct {
	PEM  []byte         // the certificate, for clients to trust
	Pool *x509.CertPool // the same, as a pool
	TLS  tls.Certificate
}

// New makes a certificate named name, for 127.0.0.1, 10.0.2.2 and ips.
func New(name string, ips ...net.IP) (*Cert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           append([]net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(10, 0, 2, 2)}, ips...),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("certificate %s: %w", name, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	c := &Cert{PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), Pool: x509.NewCertPool()}
	c.Pool.AppendCertsFromPEM(c.PEM)
	c.TLS, err = tls.X509KeyPair(c.PEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	return c, err
}

// Write writes the certificate and its key in dir as public.crt and
// private.key, the names MinIO's --certs-dir wants.
func (c *Cert) Write(dir string) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.TLS.PrivateKey)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "public.crt"), c.PEM, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "private.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
}
