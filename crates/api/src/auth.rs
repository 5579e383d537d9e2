//! Who is who: users and roles from a TOML file, password sign-in with a signed session
//! cookie (for the UI), bearer tokens (for the API), and the extractor that turns either into a
//! [`User`]. What a role may do to a domain's items is that domain's rule (its `access.rs`).
//!
//! The file holds no secrets in the clear: passwords as Argon2 PHC strings and API tokens as
//! SHA-256 hex digests (tokens are long random strings, so a fast hash is enough). Users are looked
//! up on every request, so removing one from the file and restarting revokes their sessions.
//!
//! ```toml
//! [[user]]
//! name = "alice"
//! role = "approver"          # requester | approver | admin
//! password_hash = "$argon2id$v=19$m=19456,t=2,p=1$…"
//! token_sha256 = "9f86d0…"    # optional
//! ```

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::Method;
use hmac::{Hmac, Mac as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::AppState;

/// What a user may do. Each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Starts runs, re-plans, extends TTLs, destroys; requests and decommissions applications;
    /// reads everything.
    Requester,
    /// A requester who may also approve or reject plans (of runs that list them, or list nobody)
    /// and authorize the application requests that name them.
    Approver,
    /// Everything, including approving any run, authorizing any application request and
    /// resetting runs to their plan stage.
    Admin,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Self::Requester => "requester",
            Self::Approver => "approver",
            Self::Admin => "admin",
        })
    }
}

/// A signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// The user's name; recorded as the approver of their decisions.
    pub name: String,
    /// The user's role.
    pub role: Role,
}

impl User {
    /// Fails with 403 unless the user's role is at least `role`.
    pub fn require(&self, role: Role, action: &str) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "{} ({}) may not {action}: that needs the {role} role",
                self.name, self.role
            )))
        }
    }
}

/// Why a users file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// The file cannot be read.
    #[error("reading users file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("parsing users file")]
    Parse(#[source] toml::de::Error),
    /// One entry is unusable.
    #[error("user {user:?}: {reason}")]
    Invalid {
        /// The entry's name (or its position when the name is the problem).
        user: String,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    #[serde(default, rename = "user")]
    users: Vec<UserEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    name: String,
    role: Role,
    #[serde(default)]
    password_hash: Option<String>,
    #[serde(default)]
    token_sha256: Option<String>,
}

/// The configured users.
#[derive(Debug, Clone)]
pub struct Users {
    entries: Vec<UserEntry>,
    demo: bool,
}

/// The built-in demo users (`config/users.example.toml`), used when no users file is configured.
pub const DEMO_USERS_TOML: &str = include_str!("../../../config/users.example.toml");

/// A demo user's clear-text credentials, printed by `ordo up` so a newcomer can sign in at once.
#[derive(Debug, Clone, Copy)]
pub struct DemoCredential {
    /// User name.
    pub name: &'static str,
    /// Role.
    pub role: Role,
    /// Password for the sign-in page.
    pub password: &'static str,
    /// Bearer token for the API.
    pub token: &'static str,
}

/// The clear-text credentials matching [`DEMO_USERS_TOML`]. Demo only: set `ORDO_USERS_FILE` for
/// anything shared.
pub const DEMO_CREDENTIALS: &[DemoCredential] = &[
    DemoCredential { name: "alice", role: Role::Approver, password: "alice-demo", token: "ordo-demo-token-alice" },
    DemoCredential { name: "bob", role: Role::Requester, password: "bob-demo", token: "ordo-demo-token-bob" },
    DemoCredential { name: "admin", role: Role::Admin, password: "admin-demo", token: "ordo-demo-token-admin" },
];

impl Users {
    /// Parses and checks a users file's text.
    pub fn from_toml(text: &str) -> Result<Self, UsersError> {
        let file: UsersFile = toml::from_str(text).map_err(UsersError::Parse)?;
        if file.users.is_empty() {
            return Err(UsersError::Invalid { user: "-".into(), reason: "the file defines no [[user]]".into() });
        }
        let mut seen = BTreeSet::new();
        for (index, entry) in file.users.iter().enumerate() {
            let invalid = |reason: &str| UsersError::Invalid {
                user: if entry.name.is_empty() { format!("#{}", index + 1) } else { entry.name.clone() },
                reason: reason.to_owned(),
            };
            if !is_valid_name(&entry.name) {
                return Err(invalid("name: 1-64 characters of a-z, A-Z, 0-9, '_' and '-'"));
            }
            if !seen.insert(entry.name.clone()) {
                return Err(invalid("name: defined twice"));
            }
            if entry.password_hash.is_none() && entry.token_sha256.is_none() {
                return Err(invalid("needs a password_hash, a token_sha256, or both"));
            }
            if let Some(hash) = &entry.password_hash {
                PasswordHash::new(hash).map_err(|e| invalid(&format!("password_hash: not a PHC string ({e})")))?;
            }
            if let Some(digest) = &entry.token_sha256 {
                if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(invalid("token_sha256: must be 64 hex digits (sha256 of the token)"));
                }
            }
        }
        Ok(Self { entries: file.users, demo: false })
    }

    /// Reads and checks a users file.
    pub fn load(path: &Path) -> Result<Self, UsersError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| UsersError::Read { path: path.to_owned(), source })?;
        Self::from_toml(&text)
    }

    /// The built-in demo users.
    pub fn demo() -> Self {
        let users = Self::from_toml(DEMO_USERS_TOML).expect("the shipped demo users file is valid");
        Self { demo: true, ..users }
    }

    /// Whether these are the built-in demo users (the sign-in page then says so).
    pub fn is_demo(&self) -> bool {
        self.demo
    }

    /// The user with this name.
    pub fn get(&self, name: &str) -> Option<User> {
        self.entries.iter().find(|e| e.name == name).map(UserEntry::user)
    }

    /// Every user, in file order.
    pub fn all(&self) -> Vec<User> {
        self.entries.iter().map(UserEntry::user).collect()
    }

    /// The user these credentials belong to. Slow on purpose (Argon2): call off the async runtime.
    pub fn verify_password(&self, name: &str, password: &str) -> Option<User> {
        let entry = self.entries.iter().find(|e| e.name == name);
        let hash = entry.and_then(|e| e.password_hash.as_deref());
        // Unknown names cost the same as wrong passwords, so timing does not reveal who exists.
        let phc = hash.unwrap_or(TIMING_DUMMY_HASH);
        let parsed = PasswordHash::new(phc).ok()?;
        let ok = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        (ok && hash.is_some()).then(|| entry.map(UserEntry::user)).flatten()
    }

    /// The user holding this API token.
    pub fn verify_token(&self, token: &str) -> Option<User> {
        let digest = token_sha256(token);
        self.entries
            .iter()
            .find(|e| e.token_sha256.as_deref().is_some_and(|d| d.eq_ignore_ascii_case(&digest)))
            .map(UserEntry::user)
    }
}

impl UserEntry {
    fn user(&self) -> User {
        User { name: self.name.clone(), role: self.role }
    }
}

/// A valid Argon2 hash of a password nobody has, verified against when the name is unknown.
const TIMING_DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$lhdmYL5x1qwPo0YY70b85A$BegmCtKSoVN6mX2tUAZnb1bwemCF2UIZRUmz8P8tAgU";

fn is_valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// An Argon2id PHC string for `password`, for a users file.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).expect("the OS random source works");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 hashes any password").to_string()
}

/// The `token_sha256` a users file stores for an API token.
pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new random API token and its `token_sha256`.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 24];
    getrandom::getrandom(&mut bytes).expect("the OS random source works");
    let token = format!("ordo_{}", hex::encode(bytes));
    let digest = token_sha256(&token);
    (token, digest)
}

/// The secret that signs session cookies. API replicas behind one address need the same key.
#[derive(Clone)]
pub struct SessionKey(Vec<u8>);

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKey(<redacted>)")
    }
}

impl SessionKey {
    /// A random key: sessions end when the process does.
    pub fn random() -> Self {
        let mut bytes = vec![0u8; 32];
        getrandom::getrandom(&mut bytes).expect("the OS random source works");
        Self(bytes)
    }

    /// A key from configuration; at least 32 bytes.
    pub fn from_secret(secret: &str) -> Result<Self, String> {
        if secret.len() < 32 {
            return Err("the session key must be at least 32 bytes".into());
        }
        Ok(Self(secret.as_bytes().to_vec()))
    }

    fn mac(&self, payload: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(payload.as_bytes());
        mac
    }

    /// A cookie value naming `user` until `now + ttl`: `name.expiry.signature`.
    pub fn issue(&self, user: &str, now: SystemTime, ttl: Duration) -> String {
        let expires = (now + ttl).duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let payload = format!("{user}.{expires}");
        let signature = hex::encode(self.mac(&payload).finalize().into_bytes());
        format!("{payload}.{signature}")
    }

    /// The user a cookie value names, if its signature is ours and it has not expired.
    pub fn check(&self, value: &str, now: SystemTime) -> Option<String> {
        let (payload, signature) = value.rsplit_once('.')?;
        let (user, expires) = payload.split_once('.')?;
        let signature = hex::decode(signature).ok()?;
        self.mac(payload).verify_slice(&signature).ok()?;
        let expires: u64 = expires.parse().ok()?;
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        (now < expires).then(|| user.to_owned())
    }
}

/// What the API remembers about sessions: cookies signed out before they expire, and recent failed
/// sign-ins by name. In memory, per process: replicas behind one address each keep their own (a
/// signed-out cookie is refused only by the replica that signed it out, and each replica counts its
/// own failures); README § "Trust model" tells operators what that means for them.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    /// Signed-out cookie values, with their expiry (seconds since the epoch).
    revoked: Mutex<HashMap<String, u64>>,
    /// Failed sign-ins by user name: when the window opened, and how many.
    failures: Mutex<HashMap<String, (Instant, u32)>>,
}

/// Failed sign-ins allowed per name per [`SIGN_IN_WINDOW`].
const MAX_FAILED_SIGN_INS: u32 = 5;
/// The window failed sign-ins are counted in.
const SIGN_IN_WINDOW: Duration = Duration::from_secs(60);

impl Sessions {
    /// Refuses a sign-in for `name` while it has failed too often lately.
    pub(crate) fn admit_sign_in(&self, name: &str) -> Result<(), ApiError> {
        let failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match failures.get(name) {
            Some((since, count)) if *count >= MAX_FAILED_SIGN_INS && since.elapsed() < SIGN_IN_WINDOW => {
                let wait = SIGN_IN_WINDOW.saturating_sub(since.elapsed()).as_secs().max(1);
                Err(ApiError::TooManyRequests(format!("too many failed sign-ins for {name:?}; try again in {wait} s")))
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed sign-in for `name`.
    pub(crate) fn failed_sign_in(&self, name: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        failures.retain(|_, (since, _)| since.elapsed() < SIGN_IN_WINDOW);
        let entry = failures.entry(name.to_owned()).or_insert((Instant::now(), 0));
        entry.1 += 1;
    }

    /// Forgets `name`'s failures (it signed in).
    pub(crate) fn signed_in(&self, name: &str) {
        self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(name);
    }

    /// Refuses `cookie` from now until it would have expired.
    pub(crate) fn revoke(&self, cookie: &str, now: SystemTime) {
        let Some(expires) =
            cookie.rsplit_once('.').and_then(|(p, _)| p.rsplit_once('.')).and_then(|(_, e)| e.parse().ok())
        else {
            return;
        };
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let mut revoked = self.revoked.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        revoked.retain(|_, until| *until > now);
        revoked.insert(cookie.to_owned(), expires);
    }

    fn is_revoked(&self, cookie: &str) -> bool {
        self.revoked.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains_key(cookie)
    }
}

/// The session cookie's value in `headers`, if any.
pub(crate) fn session_cookie_value(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// A cookie-authenticated write must come from Ordo's own pages: its `Origin` names the host the
/// request was sent to. (SameSite=Strict already keeps the cookie off cross-site requests; this
/// holds where SameSite does not, e.g. a sibling subdomain or an old browser.)
fn same_origin(parts: &Parts) -> Result<(), ApiError> {
    if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let origin_host = parts
        .headers
        .get(ORIGIN)
        .and_then(|o| o.to_str().ok())
        .and_then(|o| o.split_once("://"))
        .map(|(_, host)| host.trim_end_matches('/').to_owned());
    let host = parts.headers.get(HOST).and_then(|h| h.to_str().ok());
    match (origin_host, host) {
        (Some(origin), Some(host)) if origin.eq_ignore_ascii_case(host) => Ok(()),
        _ => Err(ApiError::Forbidden(
            "a write signed in by cookie must come from Ordo's own pages (its Origin must match the Host); \
             scripts use `Authorization: Bearer <token>`"
                .into(),
        )),
    }
}

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "ordo_session";

/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);

/// The `Set-Cookie` value that signs `user` in.
pub(crate) fn session_cookie(value: &str, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        SESSION_TTL.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that signs out.
pub(crate) fn clear_session_cookie(secure: bool) -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}", if secure { "; Secure" } else { "" })
}

impl FromRequestParts<AppState> for User {
    type Rejection = ApiError;

    /// A bearer token first, then the session cookie.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let users = &state.config().users;
        if let Some(header) = parts.headers.get(AUTHORIZATION) {
            let token = header
                .to_str()
                .ok()
                .and_then(|h| h.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into()))?;
            return users.verify_token(token).ok_or_else(|| ApiError::Unauthorized("unknown API token".into()));
        }
        let Some(cookie) = session_cookie_value(&parts.headers) else {
            return Err(ApiError::Unauthorized(
                "sign in, or send an API token as `Authorization: Bearer <token>`".into(),
            ));
        };
        let name = state
            .config()
            .session_key
            .check(&cookie, SystemTime::now())
            .ok_or_else(|| ApiError::Unauthorized("the session has expired; sign in again".into()))?;
        if state.sessions().is_revoked(&cookie) {
            return Err(ApiError::Unauthorized("this session was signed out; sign in again".into()));
        }
        same_origin(parts)?;
        users.get(&name).ok_or_else(|| ApiError::Unauthorized("this user no longer exists; sign in again".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The printed demo credentials are the ones the shipped demo file accepts, with the right roles.
    #[test]
    fn demo_credentials_match_the_demo_file() {
        let users = Users::demo();
        for demo in DEMO_CREDENTIALS {
            let by_password = users.verify_password(demo.name, demo.password).expect(demo.name);
            assert_eq!(by_password.role, demo.role);
            assert_eq!(users.verify_token(demo.token).map(|u| u.name), Some(demo.name.to_owned()));
        }
        assert_eq!(users.verify_password("alice", "bob-demo"), None);
        assert_eq!(users.verify_password("mallory", "alice-demo"), None);
        assert_eq!(users.verify_token("ordo-demo-token-mallory"), None);
    }

    /// A hash made by `hash_password` verifies, and a new token's digest is what the file stores.
    #[test]
    fn hashed_passwords_and_new_tokens_verify() {
        let (token, digest) = new_token();
        let text = format!(
            "[[user]]\nname = \"carol\"\nrole = \"admin\"\npassword_hash = \"{}\"\ntoken_sha256 = \"{digest}\"\n",
            hash_password("correct horse")
        );
        let users = Users::from_toml(&text).unwrap();
        assert_eq!(users.verify_password("carol", "correct horse").map(|u| u.role), Some(Role::Admin));
        assert_eq!(users.verify_password("carol", "wrong"), None);
        assert_eq!(users.verify_token(&token).map(|u| u.name), Some("carol".to_owned()));
    }

    /// Bad files are refused with the entry and the reason.
    #[test]
    fn bad_users_files_are_refused_naming_the_entry() {
        let cases = [
            ("", "no [[user]]"),
            ("[[user]]\nname = \"a b\"\nrole = \"admin\"\ntoken_sha256 = \"00\"\n", "name"),
            ("[[user]]\nname = \"dave\"\nrole = \"admin\"\n", "needs a password_hash"),
            ("[[user]]\nname = \"dave\"\nrole = \"admin\"\ntoken_sha256 = \"xyz\"\n", "token_sha256"),
            ("[[user]]\nname = \"dave\"\nrole = \"admin\"\npassword_hash = \"plain\"\n", "password_hash"),
        ];
        for (text, needle) in cases {
            let err = Users::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(needle), "{text:?} gave {err:?}");
        }
        let unknown_role = Users::from_toml("[[user]]\nname = \"x\"\nrole = \"root\"\ntoken_sha256 = \"00\"\n");
        assert!(matches!(unknown_role, Err(UsersError::Parse(_))));
    }

    /// A session cookie names its user until it expires; a forged or re-keyed one names nobody.
    #[test]
    fn session_cookies_are_signed_and_expire() {
        let key = SessionKey::from_secret("0123456789abcdef0123456789abcdef").unwrap();
        let now = SystemTime::now();
        let value = key.issue("alice", now, Duration::from_secs(60));
        assert_eq!(key.check(&value, now).as_deref(), Some("alice"));
        assert_eq!(key.check(&value, now + Duration::from_secs(61)), None);
        assert_eq!(key.check(&value.replacen("alice", "admin", 1), now), None);
        assert_eq!(SessionKey::random().check(&value, now), None);
        assert!(SessionKey::from_secret("short").is_err());
    }

    /// Roles nest: each includes the ones before it.
    #[test]
    fn roles_nest() {
        let alice = User { name: "alice".into(), role: Role::Approver };
        let bob = User { name: "bob".into(), role: Role::Requester };
        assert!(bob.require(Role::Requester, "start runs").is_ok());
        assert!(alice.require(Role::Requester, "start runs").is_ok());
        assert!(matches!(bob.require(Role::Admin, "reset runs"), Err(ApiError::Forbidden(_))));
    }
}
