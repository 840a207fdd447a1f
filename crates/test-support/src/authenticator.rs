//! A software passkey for tests without a browser: it answers the options
//! the site sends as `navigator.credentials.create()` and `.get()` would,
//! with a real P-256 key, CBOR and signatures, so the server's WebAuthn
//! library checks everything it checks for a real device. The test decides
//! what a real device never would: the signature counter, or answering a
//! challenge twice.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

/// User present, user verified.
const FLAGS_UP_UV: u8 = 0x01 | 0x04;
/// ... and attested credential data follows.
const FLAG_AT: u8 = 0x40;

/// One credential on a software authenticator for the site at `origin`.
pub struct SoftPasskey {
    key: SigningKey,
    credential_id: Vec<u8>,
    origin: String,
    rp_id: String,
    user_handle: Vec<u8>,
    /// The signature counter the next answer to `.get()` carries, after
    /// it is increased by one.
    pub counter: u32,
}

fn random<const N: usize>() -> [u8; N] {
    use std::io::Read;
    let mut bytes = [0u8; N];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("random bytes from /dev/urandom");
    bytes
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &Value) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text.as_str().expect("a base64url string"))
        .expect("base64url")
}

/// A CBOR byte string's head and bytes.
fn cbor_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = match bytes.len() {
        n if n < 24 => vec![0x40 | n as u8],
        n if n < 256 => vec![0x58, n as u8],
        n => {
            let n = u16::try_from(n).expect("short enough");
            let mut head = vec![0x59];
            head.extend_from_slice(&n.to_be_bytes());
            head
        }
    };
    out.extend_from_slice(bytes);
    out
}

/// A CBOR text string of under 24 bytes.
fn cbor_text(text: &str) -> Vec<u8> {
    let mut out = vec![0x60 | text.len() as u8];
    out.extend_from_slice(text.as_bytes());
    out
}

impl SoftPasskey {
    /// A new credential for the site at `origin` (`https://secrets.example`).
    pub fn new(origin: &str) -> Self {
        let rp_id = origin
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split([':', '/']).next())
            .expect("an origin with a host")
            .to_owned();
        let key = loop {
            if let Ok(key) = SigningKey::from_slice(&random::<32>()) {
                break key;
            }
        };
        Self {
            key,
            credential_id: random::<16>().to_vec(),
            origin: origin.to_owned(),
            rp_id,
            user_handle: Vec::new(),
            counter: 0,
        }
    }

    /// The credential's id, base64url, as the browser names it.
    pub fn id(&self) -> String {
        b64(&self.credential_id)
    }

    fn client_data(&self, kind: &str, options: &Value) -> Vec<u8> {
        json!({
            "type": kind,
            "challenge": options["publicKey"]["challenge"],
            "origin": self.origin,
            "crossOrigin": false,
        })
        .to_string()
        .into_bytes()
    }

    fn rp_id_hash(&self) -> [u8; 32] {
        Sha256::digest(self.rp_id.as_bytes()).into()
    }

    /// The answer to `navigator.credentials.create()` with `options` (the
    /// JSON the site sent), as JSON for the site.
    pub fn create(&mut self, options: &str) -> String {
        let options: Value = serde_json::from_str(options).expect("options are JSON");
        self.user_handle = unb64(&options["publicKey"]["user"]["id"]);
        let point = self.key.verifying_key().to_sec1_point(false);
        let (x, y) = (point.x().expect("x"), point.y().expect("y"));
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        cose.extend(cbor_bytes(x));
        cose.push(0x22);
        cose.extend(cbor_bytes(y));

        let mut auth_data = self.rp_id_hash().to_vec();
        auth_data.push(FLAGS_UP_UV | FLAG_AT);
        auth_data.extend_from_slice(&self.counter.to_be_bytes());
        auth_data.extend_from_slice(&[0; 16]);
        auth_data.extend_from_slice(&(self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend_from_slice(&self.credential_id);
        auth_data.extend(cose);

        let mut attestation = vec![0xa3];
        attestation.extend(cbor_text("fmt"));
        attestation.extend(cbor_text("none"));
        attestation.extend(cbor_text("attStmt"));
        attestation.push(0xa0);
        attestation.extend(cbor_text("authData"));
        attestation.extend(cbor_bytes(&auth_data));

        json!({
            "id": self.id(),
            "rawId": self.id(),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation),
                "clientDataJSON": b64(&self.client_data("webauthn.create", &options)),
            },
            "extensions": {},
        })
        .to_string()
    }

    /// The answer to `navigator.credentials.get()` with `options`, its
    /// counter one above the last.
    pub fn get(&mut self, options: &str) -> String {
        self.counter += 1;
        self.answer(options, self.counter)
    }

    /// The answer to `.get()` with `options`, carrying `counter` as a
    /// cloned credential might.
    pub fn answer(&self, options: &str, counter: u32) -> String {
        let options: Value = serde_json::from_str(options).expect("options are JSON");
        let client_data = self.client_data("webauthn.get", &options);
        let mut auth_data = self.rp_id_hash().to_vec();
        auth_data.push(FLAGS_UP_UV);
        auth_data.extend_from_slice(&counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        json!({
            "id": self.id(),
            "rawId": self.id(),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(signature.to_der().as_bytes()),
                "userHandle": b64(&self.user_handle),
            },
            "extensions": {},
        })
        .to_string()
    }
}
