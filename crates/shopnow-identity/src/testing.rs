//! In-memory ports, a fixed clock and sequential ids for the use-case unit tests. Test-only.

use shopnow_kernel::events::NewEvent;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use shopnow_kernel::Secret;
use shopnow_kernel::auth::{Principal, Role, SigningKey, TokenAudience, TokenSigner};
use shopnow_kernel::ids::{CountingRandom, FixedClock, SequentialIds};

use crate::app::register::{AdminEmails, Registration, register};
use crate::app::sign_in::Credentials;
use crate::domain::audit::AuditRecord;
use crate::domain::session::{NewRefreshToken, RefreshTokenHash, RefreshTokenRecord};
use crate::domain::throttle::ThrottleState;
use crate::domain::user::PasswordHashText;
use crate::domain::{DisplayName, Email, Password, User};
use crate::ports::{
    AuditLog, Erasure, HashError, PasswordHasher, Ports, RepoError, SessionRepository,
    SignInThrottle, UserRepository,
};

/// Users; password changes and erasure revoke the user's sessions, and changes write their audit
/// record, as the SQL repository does.
pub struct MemoryUsers(
    RefCell<Vec<(User, bool)>>,
    Rc<MemorySessions>,
    Rc<MemoryAudit>,
    RefCell<Vec<NewEvent>>,
);

impl MemoryUsers {
    /// The types of the events written so far, in order.
    pub fn event_types(&self) -> Vec<String> {
        self.3
            .borrow()
            .iter()
            .map(|e| e.event_type.clone())
            .collect()
    }

    pub fn by_email(&self, normalized: &str) -> Option<User> {
        self.find_by_email(normalized).unwrap()
    }
}

impl UserRepository for MemoryUsers {
    fn insert(
        &self,
        user: &User,
        audit: &AuditRecord,
        events: &[NewEvent],
    ) -> Result<(), RepoError> {
        let mut users = self.0.borrow_mut();
        if users
            .iter()
            .any(|(u, _)| u.email.normalized() == user.email.normalized())
        {
            return Err(RepoError::EmailTaken);
        }
        users.push((user.clone(), false));
        self.3.borrow_mut().extend_from_slice(events);
        self.2.record(audit)
    }

    fn find_by_email(&self, normalized: &str) -> Result<Option<User>, RepoError> {
        Ok(self
            .0
            .borrow()
            .iter()
            .find(|(u, erased)| !erased && u.email.normalized() == normalized)
            .map(|(u, _)| u.clone()))
    }

    fn find_by_id(&self, id: &str) -> Result<Option<User>, RepoError> {
        Ok(self
            .0
            .borrow()
            .iter()
            .find(|(u, erased)| !erased && u.id == id)
            .map(|(u, _)| u.clone()))
    }

    fn update_display_name(
        &self,
        id: &str,
        name: &DisplayName,
        _now: i64,
    ) -> Result<Option<User>, RepoError> {
        let mut users = self.0.borrow_mut();
        Ok(users
            .iter_mut()
            .find(|(u, e)| !e && u.id == id)
            .map(|(u, _)| {
                u.display_name = name.clone();
                u.clone()
            }))
    }

    fn change_password(
        &self,
        id: &str,
        hash: &PasswordHashText,
        now: i64,
        audit: &AuditRecord,
    ) -> Result<bool, RepoError> {
        let mut users = self.0.borrow_mut();
        let changed = users
            .iter_mut()
            .find(|(u, e)| !e && u.id == id)
            .map(|(u, _)| u.password_hash = hash.clone())
            .is_some();
        if changed {
            self.1.revoke_user(id, now);
            self.2.record(audit)?;
        }
        Ok(changed)
    }

    fn erase(
        &self,
        id: &str,
        erasure: &Erasure,
        now: i64,
        audit: &AuditRecord,
        events: &[NewEvent],
    ) -> Result<bool, RepoError> {
        let mut users = self.0.borrow_mut();
        Ok(users
            .iter_mut()
            .find(|(u, e)| !e && u.id == id)
            .map(|(u, erased)| {
                u.email = Email::from_stored(
                    erasure.email_placeholder.clone(),
                    erasure.email_placeholder.clone(),
                );
                u.display_name = DisplayName::from_stored(erasure.display_name.clone());
                u.password_hash = erasure.password_hash.clone();
                *erased = true;
            })
            .is_some())
        .and_then(|erased| {
            if erased {
                self.1.revoke_user(id, now);
                self.3.borrow_mut().extend_from_slice(events);
                self.2.record(audit)?;
            }
            Ok(erased)
        })
    }
}

/// Sessions, sharing the user list so password changes and erasure can revoke families.
#[derive(Default)]
pub struct MemorySessions {
    tokens: RefCell<Vec<RefreshTokenRecord>>,
    revoked: RefCell<HashMap<String, i64>>,
}

impl MemorySessions {
    pub fn count(&self) -> usize {
        self.tokens.borrow().len()
    }

    pub fn all_revoked(&self) -> bool {
        let revoked = self.revoked.borrow();
        self.tokens
            .borrow()
            .iter()
            .all(|t| revoked.contains_key(&t.family_id))
    }

    fn revoke_user(&self, user_id: &str, now: i64) {
        let families: Vec<String> = self
            .tokens
            .borrow()
            .iter()
            .filter(|t| t.user_id == user_id)
            .map(|t| t.family_id.clone())
            .collect();
        for f in families {
            self.revoked.borrow_mut().entry(f).or_insert(now);
        }
    }
}

impl SessionRepository for MemorySessions {
    fn start_family(&self, token: &NewRefreshToken, _now: i64) -> Result<(), RepoError> {
        self.tokens.borrow_mut().push(RefreshTokenRecord {
            token_hash: token.token_hash.clone(),
            family_id: token.family_id.clone(),
            user_id: token.user_id.clone(),
            expires_at_ms: token.expires_at_ms,
            spent_at_ms: None,
            family_revoked_at_ms: None,
        });
        Ok(())
    }

    fn find(&self, hash: &RefreshTokenHash) -> Result<Option<RefreshTokenRecord>, RepoError> {
        let revoked = self.revoked.borrow();
        Ok(self
            .tokens
            .borrow()
            .iter()
            .find(|t| &t.token_hash == hash)
            .map(|t| {
                let mut t = t.clone();
                t.family_revoked_at_ms = revoked.get(&t.family_id).copied();
                t
            }))
    }

    fn rotate(
        &self,
        spent: &RefreshTokenHash,
        next: &NewRefreshToken,
        now: i64,
    ) -> Result<bool, RepoError> {
        let mut tokens = self.tokens.borrow_mut();
        let Some(old) = tokens
            .iter_mut()
            .find(|t| &t.token_hash == spent && t.spent_at_ms.is_none())
        else {
            return Ok(false);
        };
        old.spent_at_ms = Some(now);
        tokens.push(RefreshTokenRecord {
            token_hash: next.token_hash.clone(),
            family_id: next.family_id.clone(),
            user_id: next.user_id.clone(),
            expires_at_ms: next.expires_at_ms,
            spent_at_ms: None,
            family_revoked_at_ms: None,
        });
        Ok(true)
    }

    fn revoke_family(&self, family_id: &str, now: i64) -> Result<(), RepoError> {
        self.revoked
            .borrow_mut()
            .entry(family_id.to_owned())
            .or_insert(now);
        Ok(())
    }
}

#[derive(Default)]
pub struct MemoryAudit(RefCell<Vec<AuditRecord>>);

impl MemoryAudit {
    pub fn events(&self) -> Vec<String> {
        self.0
            .borrow()
            .iter()
            .map(|r| r.event.as_str().to_owned())
            .collect()
    }
}

impl AuditLog for MemoryAudit {
    fn record(&self, record: &AuditRecord) -> Result<(), RepoError> {
        self.0.borrow_mut().push(record.clone());
        Ok(())
    }
}

#[derive(Default)]
pub struct MemoryThrottle(RefCell<HashMap<String, ThrottleState>>);

impl MemoryThrottle {
    /// How many keys have counters.
    pub fn keys(&self) -> usize {
        self.0.borrow().len()
    }
}

impl SignInThrottle for MemoryThrottle {
    fn purge_passed(&self, now_ms: i64) -> Result<(), RepoError> {
        self.0.borrow_mut().retain(|_, s| !s.expired(now_ms));
        Ok(())
    }

    fn count_attempt(&self, key: &str, now_ms: i64) -> Result<ThrottleState, RepoError> {
        let mut map = self.0.borrow_mut();
        let state = ThrottleState::after_attempt(map.get(key).copied(), now_ms);
        map.insert(key.to_owned(), state);
        Ok(state)
    }
    fn clear(&self, key: &str) -> Result<(), RepoError> {
        self.0.borrow_mut().remove(key);
        Ok(())
    }
}

/// Stores `fake$<password>`; counts verifications (dummy ones included).
#[derive(Default)]
pub struct FakeHasher(Cell<u32>);

impl FakeHasher {
    pub fn verifications(&self) -> u32 {
        self.0.get()
    }
}

impl PasswordHasher for FakeHasher {
    fn hash(
        &self,
        password: &Secret<String>,
        _salt: &[u8; 16],
    ) -> Result<PasswordHashText, HashError> {
        Ok(PasswordHashText(format!("fake${}", password.expose())))
    }
    fn verify(&self, candidate: &Secret<String>, stored: &PasswordHashText) -> bool {
        self.0.set(self.0.get() + 1);
        stored.0 == format!("fake${}", candidate.expose())
    }
}

pub struct Harness {
    pub users: MemoryUsers,
    pub sessions: Rc<MemorySessions>,
    pub audit: Rc<MemoryAudit>,
    pub throttle: MemoryThrottle,
    pub hasher: FakeHasher,
    pub clock: FixedClock,
    pub ids: SequentialIds,
    pub random: CountingRandom,
    pub signer: TokenSigner,
    user_id: RefCell<Option<String>>,
}

impl Harness {
    pub fn new() -> Self {
        let key = SigningKey::from_seed_b64(
            &Secret::new("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8".into()),
            "test-1",
        )
        .unwrap();
        let sessions = Rc::new(MemorySessions::default());
        let audit = Rc::new(MemoryAudit::default());
        Self {
            users: MemoryUsers(
                RefCell::default(),
                Rc::clone(&sessions),
                Rc::clone(&audit),
                RefCell::default(),
            ),
            sessions,
            audit,
            throttle: MemoryThrottle::default(),
            hasher: FakeHasher::default(),
            clock: FixedClock::at(1_800_000_000_000),
            ids: SequentialIds::default(),
            random: CountingRandom::default(),
            signer: TokenSigner::new(key, Self::audience_static()),
            user_id: RefCell::new(None),
        }
    }

    fn audience_static() -> TokenAudience {
        TokenAudience {
            issuer: "https://identity.test".into(),
            audience: "shopnow".into(),
        }
    }

    pub fn audience(&self) -> TokenAudience {
        Self::audience_static()
    }

    pub fn with_user(email: &str, password: &str) -> Self {
        let h = Self::new();
        let mut reg = registration(email, Role::Customer);
        reg.password = Password::parse(Secret::new(password.to_owned())).unwrap();
        let view = register(
            &h.ports(),
            reg,
            &AdminEmails::default(),
            &crate::app::Client::default(),
        )
        .unwrap();
        *h.user_id.borrow_mut() = Some(view.id);
        h
    }

    pub fn user_id(&self) -> String {
        self.user_id.borrow().clone().unwrap()
    }

    pub fn principal(&self) -> Principal {
        Principal {
            user_id: self.user_id(),
            roles: [Role::Customer].into_iter().collect(),
        }
    }

    pub fn ports(&self) -> Ports<'_> {
        Ports {
            users: &self.users,
            sessions: &*self.sessions,
            audit: &*self.audit,
            throttle: &self.throttle,
            hasher: &self.hasher,
            clock: &self.clock,
            ids: &self.ids,
            random: &self.random,
            tokens: &self.signer,
            request_id: "test-request",
        }
    }
}

pub fn registration(email: &str, role: Role) -> Registration {
    Registration {
        email: Email::parse(email).unwrap(),
        password: Password::parse(Secret::new("violet-kettle-79-orbit".into())).unwrap(),
        display_name: DisplayName::parse("Ada").unwrap(),
        role,
    }
}

pub fn credentials(email: &str, password: &str) -> Credentials {
    Credentials {
        email: Email::parse(email).unwrap(),
        password: Secret::new(password.to_owned()),
    }
}
