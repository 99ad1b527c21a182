//! User tokens: issuing them (login and the test helpers), validating them (signature, app,
//! user status, expiry) and remembering which ones were issued with `remember`.
//!
//! A token lives two days, or two weeks when issued with `remember`, counted from its `iat`
//! on the server clock. Nothing revokes a token: `POST /_fake/reset` keeps the secret and
//! the remembered set, so tokens issued before a reset stay valid.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};

use crate::clock::Clock;
use crate::ids::Id;
use crate::jwt::{Claims, Jwt};
use crate::schema::{Schema, UserSchema};

const TWO_DAYS: i64 = 48 * 3600;
const TWO_WEEKS: i64 = 14 * 24 * 3600;

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenError {
    Invalid,
    Expired,
}

/// The token secret of one server and the tokens issued with `remember`.
pub(crate) struct Tokens {
    jwt: Jwt,
    remembered: Mutex<HashSet<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Tokens {
    /// A fresh random secret, nothing remembered.
    pub(crate) fn new() -> Tokens {
        Tokens {
            jwt: Jwt::new(),
            remembered: Mutex::new(HashSet::new()),
        }
    }

    /// A signed token for `user` of app `app_id`, issued at `iat` (unix seconds).
    pub(crate) fn mint(&self, app_id: &str, user: &UserSchema, remember: bool, iat: i64) -> String {
        let token = self.jwt.sign(&Claims {
            user_id: user.id.hex(),
            application_id: app_id.to_string(),
            iat,
        });
        if remember {
            lock(&self.remembered).insert(token.clone());
        }
        token
    }

    /// The user a token was issued to, if it is well signed, names this app and an approved,
    /// active user, and has not expired on the server clock.
    pub(crate) fn validate<'s>(
        &self,
        schema: &'s Schema,
        clock: &Clock,
        token: &str,
    ) -> Result<&'s UserSchema, TokenError> {
        let claims = self.jwt.verify(token).ok_or(TokenError::Invalid)?;
        if !claims.application_id.eq_ignore_ascii_case(&schema.app.id) {
            return Err(TokenError::Invalid);
        }
        let user = Id::parse(&claims.user_id)
            .and_then(|id| schema.user_by_id(&id))
            .ok_or(TokenError::Invalid)?;
        if user.approval_status != "approved" || user.account_status != "active" {
            return Err(TokenError::Invalid);
        }
        let life = if lock(&self.remembered).contains(token) {
            TWO_WEEKS
        } else {
            TWO_DAYS
        };
        if clock.now_secs() >= claims.iat.saturating_add(life) {
            return Err(TokenError::Expired);
        }
        Ok(user)
    }

    /// The session's `utility_key` for a user id.
    pub(crate) fn utility_key(&self, user_id: &str) -> String {
        self.jwt.utility_key(user_id)
    }
}
