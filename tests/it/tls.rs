//! TLS with an extra CA bundle (a government PKI): the client trusts a backend whose certificate
//! comes from the configured bundle, and refuses it without the bundle. The backend is the
//! simulator behind a TLS terminator started by the test on loopback.

use std::sync::Arc;

use ioc_console::sim::{SimConfig, SimServer};
use ioc_console::sources::{Client, ClientConfig, FetchError};

/// A test CA named `name`, and a server certificate for localhost and 127.0.0.1 signed by it
/// (with its key).
pub fn test_ca_and_server_cert(
    name: &str,
) -> (rcgen::Certificate, rcgen::Certificate, rcgen::KeyPair) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let cert = params.signed_by(&key, &issuer).unwrap();
    (ca, cert, key)
}

/// A CA, a server certificate for 127.0.0.1 signed by it, and a TLS terminator forwarding to
/// `backend`. Returns the terminator's port and the CA's PEM.
async fn tls_front(backend: std::net::SocketAddr) -> (u16, String) {
    let (ca, cert, key) = test_ca_and_server_cert("Test government root CA");

    ioc_console::util::tls::install_crypto_provider();
    let server = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (port, ca.pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_ca_bundle_is_trusted_and_required() {
    let sim = SimServer::start(SimConfig {
        epoch: Some(crate::support::fixed_now()),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let (port, ca_pem) = tls_front(sim.addr).await;
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("gov-ca.pem");
    std::fs::write(&bundle, ca_pem).unwrap();
    let url = format!("https://127.0.0.1:{port}/api/v1");

    let trusted = Client::new(&ClientConfig {
        ca_bundle: Some(bundle.clone()),
        ..ClientConfig::new(url.clone())
    })
    .unwrap();
    let body = trusted
        .get_bytes("units")
        .await
        .expect("the bundle's CA is trusted");
    assert!(String::from_utf8_lossy(&body).contains("\"items\""));

    let untrusted = Client::new(&ClientConfig::new(url)).unwrap();
    match untrusted.get_bytes("units").await {
        Err(FetchError::Unreachable(m)) => assert!(
            m.to_lowercase().contains("certificate") || m.contains("invalid peer"),
            "{m}"
        ),
        other => panic!("an unknown CA must be refused: {other:?}"),
    }

    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificate here").unwrap();
    assert!(
        Client::new(&ClientConfig {
            ca_bundle: Some(empty),
            ..ClientConfig::new("https://127.0.0.1:1/api/v1")
        })
        .is_err()
    );
    sim.stop().await;
}
