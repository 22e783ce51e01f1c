//! TLS with rustls (the `tls` feature): one root store for both
//! transports: the WebSocket's rustls session and ureq's (polling).

use std::io::{self, Read, Write};
use std::net::TcpStream;

use crate::error::Error;
use crate::options::TlsRoots;

/// The TLS settings of one client, for both transports.
#[derive(Clone)]
pub(crate) struct Tls {
    #[cfg(feature = "tls")]
    rustls: std::sync::Arc<rustls::ClientConfig>,
    #[cfg(feature = "tls")]
    pub(crate) ureq: ureq::tls::TlsConfig,
}

#[cfg(feature = "tls")]
pub(crate) fn pem_certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    CertificateDer::pem_slice_iter(pem)
        .map(|cert| {
            cert.map(|c| c.to_vec())
                .map_err(|e| Error::Tls(format!("invalid PEM certificate: {e}")))
        })
        .collect()
}

#[cfg(not(feature = "tls"))]
pub(crate) fn pem_certificates(_pem: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    Err(Error::TlsUnavailable)
}

impl Tls {
    /// The settings for `roots`.
    #[cfg(feature = "tls")]
    pub(crate) fn new(roots: &TlsRoots) -> Result<Tls, Error> {
        use std::sync::Arc;
        use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut store = rustls::RootCertStore::empty();
        let ureq_roots = match roots {
            TlsRoots::WebPki => {
                store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                RootCerts::WebPki
            }
            TlsRoots::Custom(ders) => {
                for der in ders {
                    store
                        .add(rustls::pki_types::CertificateDer::from(der.clone()))
                        .map_err(|e| Error::Tls(format!("unusable root certificate: {e}")))?;
                }
                let certs: Vec<Certificate<'static>> = ders
                    .iter()
                    .map(|der| Certificate::from_der(der).to_owned())
                    .collect();
                RootCerts::new_with_certs(&certs)
            }
        };
        let rustls = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Tls(e.to_string()))?
            .with_root_certificates(store)
            .with_no_client_auth();
        let ureq = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .root_certs(ureq_roots)
            .unversioned_rustls_crypto_provider(provider)
            .build();
        Ok(Tls {
            rustls: Arc::new(rustls),
            ureq,
        })
    }

    /// Without the `tls` feature: nothing to set up.
    #[cfg(not(feature = "tls"))]
    pub(crate) fn new(_roots: &TlsRoots) -> Result<Tls, Error> {
        Ok(Tls {})
    }

    /// Wraps `tcp` in a TLS session with `host` (the server name checked
    /// against the certificate).
    #[cfg(feature = "tls")]
    pub(crate) fn wrap(&self, host: &str, tcp: TcpStream) -> io::Result<Stream> {
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let conn = rustls::ClientConnection::new(self.rustls.clone(), name)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let mut stream = rustls::StreamOwned::new(conn, tcp);
        // Complete the handshake now, so that certificate errors surface here.
        while stream.conn.is_handshaking() {
            stream.conn.complete_io(&mut stream.sock)?;
        }
        Ok(Stream::Tls(Box::new(stream)))
    }

    #[cfg(not(feature = "tls"))]
    pub(crate) fn wrap(&self, _host: &str, _tcp: TcpStream) -> io::Result<Stream> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "built without the `tls` feature",
        ))
    }
}

/// A WebSocket's byte stream: plain TCP or TLS over TCP.
pub(crate) enum Stream {
    Plain(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    /// The TCP socket under it.
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            #[cfg(feature = "tls")]
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.flush(),
        }
    }
}
