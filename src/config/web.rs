//! The workbench's sessions: where users reach the server, and how long a session lasts.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The workbench's sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    /// The address users reach the server at (`https://…` behind TLS: session cookies are
    /// then `Secure` and `__Host-` prefixed).
    pub public_url: Option<String>,
    /// A session unused this long ends.
    pub session_idle_minutes: u64,
    /// A session ends this long after its sign-in, used or not.
    pub session_hours: u64,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            public_url: None,
            session_idle_minutes: 120,
            session_hours: 12,
        }
    }
}

impl WebSettings {
    /// Whether cookies must only travel over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    pub(super) fn validate(&self) -> Result<()> {
        if let Some(u) = &self.public_url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            return Err(Error::Invalid(format!(
                "web.public_url {u:?} must start with https:// (or http://)"
            )));
        }
        if self.session_idle_minutes == 0 || self.session_hours == 0 {
            return Err(Error::Invalid(
                "web.session_idle_minutes and web.session_hours must be positive".into(),
            ));
        }
        Ok(())
    }
}
