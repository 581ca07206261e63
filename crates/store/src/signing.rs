//! Signed events: the writer signs each envelope's chain hash with an Ed25519 key, and
//! whoever holds the log (a replica, `verify`) checks the signature with the public
//! key the log itself announces.
//!
//! The chain hash alone proves order and integrity to someone who trusts the bytes'
//! source; it is unkeyed, so anyone who can write to the log's transport (JetStream)
//! can extend it with a chain-valid forgery. A signature binds each envelope to the
//! writer's secret key.
//!
//! # The keys in the log
//! The public keys live in the log, in the stream [`KEY_STREAM`]:
//! - [`KEY_ADOPTED`]: the first key of a log, signed by itself. Events before it
//!   (written before signing existed) are unsigned; the adoption's signature covers
//!   its hash, which chains over every one of them.
//! - [`KEY_ROTATED`]: a new key, signed by the key it replaces; from the next event on
//!   every envelope is signed by the new key.
//!
//! A reader trusts the first key it meets (or the key it is told to pin,
//! [`crate::StoreOptions::trusted_key`]) and follows rotations from there: after the
//! adoption every envelope must carry a signature by the key in force.
//!
//! # The signature
//! `sig` is `"<key id>:<signature>"`: the key id is the first 16 hex digits of the
//! public key's blake3, the signature Ed25519 over the envelope's `hash` (its 64 ASCII
//! hex digits), base64url without padding. The field sits between `hash` and `data` and
//! is left out of the bytes the hash is computed over, like `hash` itself.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::Envelope;

/// The stream of the log's public keys.
pub const KEY_STREAM: &str = "signing-keys";
/// The log's first key (payload [`KeyEvent`], signed by that key).
pub const KEY_ADOPTED: &str = "SigningKeyAdopted";
/// A new key replacing the one in force (payload [`KeyEvent`], signed by the old key).
pub const KEY_ROTATED: &str = "SigningKeyRotated";

/// Payload of [`KEY_ADOPTED`] and [`KEY_ROTATED`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEvent {
    /// Always `ed25519`.
    pub algorithm: String,
    /// [`PublicKey::id`] of the key.
    pub key_id: String,
    /// The 32-byte public key, hex.
    pub public_key: String,
    /// The key this one replaces (rotations only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_key_id: Option<String>,
}

/// A public key with its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    id: String,
}

impl PublicKey {
    pub fn new(key: VerifyingKey) -> PublicKey {
        let digest = blake3::hash(key.as_bytes()).to_hex();
        PublicKey {
            key,
            id: digest[..16].to_string(),
        }
    }

    /// From 64 hex digits.
    pub fn from_hex(text: &str) -> Result<PublicKey, String> {
        let bytes: [u8; 32] = hex::decode(text.trim())
            .map_err(|e| format!("a public key is 64 hex digits: {e}"))?
            .try_into()
            .map_err(|_| "a public key is 32 bytes (64 hex digits)".to_string())?;
        VerifyingKey::from_bytes(&bytes)
            .map(PublicKey::new)
            .map_err(|e| format!("not an Ed25519 public key: {e}"))
    }

    /// The first 16 hex digits of blake3(public key).
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.key.as_bytes())
    }

    /// Whether `sig` (the envelope field) is this key's signature of `hash`.
    pub fn verify(&self, hash: &str, sig: &str) -> Result<(), String> {
        let (id, value) = sig
            .split_once(':')
            .ok_or_else(|| "sig is not \"<key id>:<signature>\"".to_string())?;
        if id != self.id {
            return Err(format!(
                "signed by key {id}, but key {} is in force",
                self.id
            ));
        }
        let bytes: [u8; 64] = URL_SAFE_NO_PAD
            .decode(value)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| "the signature is not 64 bytes of base64url".to_string())?;
        self.key
            .verify_strict(hash.as_bytes(), &Signature::from_bytes(&bytes))
            .map_err(|_| format!("the signature does not verify with key {}", self.id))
    }
}

/// The writer's secret key.
pub struct Signer {
    key: SigningKey,
    public: PublicKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("key_id", &self.public.id)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Signer, String> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| format!("no randomness for a key: {e}"))?;
        Ok(Signer::from_seed(seed))
    }

    pub fn from_seed(seed: [u8; 32]) -> Signer {
        let key = SigningKey::from_bytes(&seed);
        let public = PublicKey::new(key.verifying_key());
        Signer { key, public }
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// The `sig` field for an envelope with this `hash`.
    pub fn sign(&self, hash: &str) -> String {
        let sig = self.key.sign(hash.as_bytes());
        format!(
            "{}:{}",
            self.public.id,
            URL_SAFE_NO_PAD.encode(sig.to_bytes())
        )
    }

    /// The payload announcing this key (`previous`: the key it replaces).
    pub fn announcement(&self, previous: Option<&PublicKey>) -> KeyEvent {
        KeyEvent {
            algorithm: "ed25519".into(),
            key_id: self.public.id.clone(),
            public_key: self.public.to_hex(),
            previous_key_id: previous.map(|p| p.id.clone()),
        }
    }

    /// Reads a key file: the 32-byte seed as 64 hex digits.
    pub fn read(path: &Path) -> Result<Signer, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the signing key {}: {e}", path.display()))?;
        let seed: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                format!(
                    "{} is not a signing key (64 hex digits expected)",
                    path.display()
                )
            })?;
        Ok(Signer::from_seed(seed))
    }

    /// Writes the key file readable by its owner only (0600), atomically: a temporary
    /// file synced, renamed over `path`, the directory synced.
    pub fn write(&self, path: &Path) -> Result<(), String> {
        use std::io::Write as _;
        let tmp = tmp_path(path);
        let fail =
            |e: std::io::Error| format!("cannot write the signing key {}: {e}", path.display());
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(fail)?;
        f.write_all(hex::encode(self.key.to_bytes()).as_bytes())
            .and_then(|()| f.write_all(b"\n"))
            .and_then(|()| f.sync_all())
            .map_err(fail)?;
        std::fs::rename(&tmp, path).map_err(fail)?;
        // a bare file name lives in the current directory
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir.or(Some(Path::new("."))) {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(fail)?;
        }
        Ok(())
    }
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// A signature still to verify: [`Trust::check_later`].
#[derive(Debug, Clone)]
pub(crate) struct DueSignature {
    key: PublicKey,
    hash: String,
    sig: String,
}

impl DueSignature {
    pub(crate) fn run(&self) -> Result<(), String> {
        self.key.verify(&self.hash, &self.sig)
    }
}

/// Verifies `due` (each with its seq) on every core; the first failure in seq order.
pub(crate) fn verify_all(due: &[(u64, DueSignature)]) -> Option<(u64, String)> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = due.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = due
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .find_map(|(seq, d)| d.run().err().map(|e| (*seq, e)))
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().ok().flatten())
            .min_by_key(|(seq, _)| *seq)
    })
}

/// The key in force along the log, as a reader follows it: see the module docs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Trust {
    /// The key the first adoption must announce, when pinned.
    pinned: Option<PublicKey>,
    /// The key every envelope from here on must be signed by.
    current: Option<PublicKey>,
}

impl Trust {
    pub(crate) fn new(pinned: Option<PublicKey>) -> Trust {
        Trust {
            pinned,
            current: None,
        }
    }

    pub(crate) fn current(&self) -> Option<&PublicKey> {
        self.current.as_ref()
    }

    /// Checks the next envelope of the log and, for a key event, moves to its key.
    /// `Ok(true)` when the envelope was signed, `Ok(false)` for an unsigned one from
    /// before signing began.
    pub(crate) fn check(&mut self, env: &Envelope) -> Result<bool, String> {
        match self.check_later(env)? {
            Some(due) => due.run().map(|()| true),
            None => Ok(false),
        }
    }

    /// [`Trust::check`] but for the signature itself, which is handed back to be
    /// verified later (many at once, on every core); `None` for an unsigned envelope
    /// from before signing began. Key events move to their key at once.
    pub(crate) fn check_later(&mut self, env: &Envelope) -> Result<Option<DueSignature>, String> {
        let announced = self.announced(env)?;
        let signer = match (&self.current, &announced) {
            (Some(current), _) => current.clone(),
            // the first key signs its own adoption
            (None, Some(first)) if env.event_type == KEY_ADOPTED => first.clone(),
            (None, _) if env.sig.is_none() => return Ok(None),
            (None, _) => return Err("signed, but the log has announced no key".into()),
        };
        let sig = env
            .sig
            .clone()
            .ok_or_else(|| format!("unsigned, but key {} is in force", signer.id))?;
        if let Some(next) = announced {
            self.current = Some(next);
        }
        Ok(Some(DueSignature {
            key: signer,
            hash: env.hash.clone(),
            sig,
        }))
    }

    /// The writer's own key change (its announcement is not checked: the writer made it).
    pub(crate) fn set_current(&mut self, key: PublicKey) {
        self.current = Some(key);
    }

    /// Follows a stored key event without checking its signature (opening a store:
    /// `verify` checks the whole log).
    pub(crate) fn follow(&mut self, env: &Envelope) {
        if let Ok(Some(key)) = self.announced(env) {
            self.current = Some(key);
        }
    }

    /// The key a key event announces, checked against what may announce it.
    fn announced(&self, env: &Envelope) -> Result<Option<PublicKey>, String> {
        if env.stream != KEY_STREAM {
            return Ok(None);
        }
        let first = match env.event_type.as_str() {
            KEY_ADOPTED => true,
            KEY_ROTATED => false,
            _ => return Ok(None),
        };
        let k: KeyEvent = serde_json::from_value(env.data.clone())
            .map_err(|e| format!("unreadable key announcement: {e}"))?;
        let key = PublicKey::from_hex(&k.public_key)?;
        if key.id != k.key_id {
            return Err(format!(
                "announces key id {} for a key whose id is {}",
                k.key_id, key.id
            ));
        }
        match (first, &self.current) {
            (true, Some(current)) => Err(format!(
                "a second adoption while key {} is in force (a new key comes by rotation)",
                current.id
            )),
            (true, None) => match &self.pinned {
                Some(pin) if pin.id != key.id => Err(format!(
                    "adopts key {}, but this reader trusts only key {}",
                    key.id, pin.id
                )),
                _ => Ok(Some(key)),
            },
            (false, None) => Err("a rotation before any key was adopted".into()),
            (false, Some(current)) if k.previous_key_id.as_deref() != Some(current.id()) => {
                Err(format!(
                    "rotates from key {:?}, but key {} is in force",
                    k.previous_key_id, current.id
                ))
            }
            (false, Some(_)) => Ok(Some(key)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_its_key_only() {
        let a = Signer::from_seed([1; 32]);
        let b = Signer::from_seed([2; 32]);
        let hash = "ab".repeat(32);
        let sig = a.sign(&hash);
        assert!(a.public().verify(&hash, &sig).is_ok());
        assert!(a.public().verify(&"cd".repeat(32), &sig).is_err());
        let err = b.public().verify(&hash, &sig).unwrap_err();
        assert!(err.contains(a.public().id()), "{err}");
        // b's key id on a's signature
        let forged = format!("{}:{}", b.public().id(), sig.split_once(':').unwrap().1);
        assert!(b.public().verify(&hash, &forged).is_err());
        assert!(a.public().verify(&hash, "nonsense").is_err());
    }

    #[test]
    fn a_key_file_is_its_owners_only_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing.key");
        let s = Signer::generate().unwrap();
        s.write(&path).unwrap();
        let back = Signer::read(&path).unwrap();
        assert_eq!(back.public(), s.public());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key").unwrap();
        assert!(Signer::read(&path)
            .unwrap_err()
            .contains("not a signing key"));
    }
}
