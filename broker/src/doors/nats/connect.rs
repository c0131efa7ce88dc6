//! A client's `CONNECT` options, decoded as nats-server decodes them into its
//! `ClientOpts` (`server/client.go`), and the checks nats-server makes on them.
//!
//! Absent fields keep their value: nats-server's defaults before the first `CONNECT`
//! (`verbose`, `pedantic` and `echo` true), the previous `CONNECT`'s after. This module
//! must never authenticate: checking `user`, `pass` and `auth_token` is the core's job.

use std::fmt;

use super::json::{self, Malformed};
use super::violation::ViolationKind;

/// The fields of `ClientOpts` that a client's `CONNECT` can set.
const FIELDS: &[&str] = &[
    "echo",
    "verbose",
    "pedantic",
    "tls_required",
    "nkey",
    "jwt",
    "sig",
    "auth_token",
    "user",
    "pass",
    "name",
    "lang",
    "version",
    "protocol",
    "account",
    "new_account",
    "headers",
    "no_responders",
    "import",
    "export",
    "remote_account",
    "proxy_sig",
];

/// A connection's options, as its `CONNECT`s set them.
#[derive(Clone, PartialEq, Eq)]
pub struct Connect {
    /// Answer each valid `CONNECT`, `PUB`, `SUB` and `UNSUB` with `+OK`.
    pub verbose: bool,
    /// Check publish subjects (`-ERR 'Invalid Publish Subject'`).
    pub pedantic: bool,
    /// The client asks for TLS.
    pub tls_required: bool,
    /// Deliver the connection's own messages to its own subscriptions.
    pub echo: bool,
    /// The client understands `HPUB` and `HMSG`.
    pub headers: bool,
    /// The client wants a 503 status message when a request finds no subscriber.
    pub no_responders: bool,
    /// The client's name.
    pub name: String,
    /// The client library's language.
    pub lang: String,
    /// The client library's version.
    pub version: String,
    /// The client protocol: 0 (original) or 1 (understands asynchronous `INFO`).
    pub protocol: i64,
    /// User name.
    pub user: String,
    /// Password.
    pub pass: String,
    /// Token.
    pub auth_token: String,
    /// User JWT.
    pub jwt: String,
    /// Public NKey.
    pub nkey: String,
    /// The signed nonce.
    pub sig: String,
    /// An account to bind to (nats-server refuses any).
    pub account: String,
    /// Asks for a new account (nats-server refuses it).
    pub new_account: bool,
}

impl Default for Connect {
    /// nats-server's `defaultOpts`: what a connection has before its `CONNECT`.
    fn default() -> Self {
        Self {
            verbose: true,
            pedantic: true,
            tls_required: false,
            echo: true,
            headers: false,
            no_responders: false,
            name: String::new(),
            lang: String::new(),
            version: String::new(),
            protocol: 0,
            user: String::new(),
            pass: String::new(),
            auth_token: String::new(),
            jwt: String::new(),
            nkey: String::new(),
            sig: String::new(),
            account: String::new(),
            new_account: false,
        }
    }
}

impl fmt::Debug for Connect {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |secret: &str| if secret.is_empty() { "" } else { "[REDACTED]" };
        formatter
            .debug_struct("Connect")
            .field("verbose", &self.verbose)
            .field("pedantic", &self.pedantic)
            .field("tls_required", &self.tls_required)
            .field("echo", &self.echo)
            .field("headers", &self.headers)
            .field("no_responders", &self.no_responders)
            .field("name", &self.name)
            .field("lang", &self.lang)
            .field("version", &self.version)
            .field("protocol", &self.protocol)
            .field("user", &self.user)
            .field("pass", &hidden(&self.pass))
            .field("auth_token", &hidden(&self.auth_token))
            .field("jwt", &self.jwt)
            .field("nkey", &self.nkey)
            .field("sig", &hidden(&self.sig))
            .field("account", &self.account)
            .field("new_account", &self.new_account)
            .finish()
    }
}

impl Connect {
    /// Applies a `CONNECT`'s JSON argument over these options, as Go's `json.Unmarshal`
    /// does over nats-server's `ClientOpts`. On error the options may be half changed;
    /// nats-server closes the connection then.
    pub(crate) fn apply_json(&mut self, argument: &[u8]) -> Result<(), Malformed> {
        // Go replaces invalid UTF-8 inside strings with U+FFFD; outside strings it is a
        // syntax error either way.
        let text = String::from_utf8_lossy(argument);
        for (key, raw) in json::object_members(&text)?.unwrap_or_default() {
            let Some(field) = json::field_name(&key, FIELDS) else {
                continue;
            };
            let flag = |target: &mut bool| -> Result<(), Malformed> {
                if let Some(value) = json::boolean(raw)? {
                    *target = value;
                }
                Ok(())
            };
            let words = |target: &mut String| -> Result<(), Malformed> {
                if let Some(value) = json::text(raw)? {
                    *target = value;
                }
                Ok(())
            };
            match field {
                "echo" => flag(&mut self.echo)?,
                "verbose" => flag(&mut self.verbose)?,
                "pedantic" => flag(&mut self.pedantic)?,
                "tls_required" => flag(&mut self.tls_required)?,
                "new_account" => flag(&mut self.new_account)?,
                "headers" => flag(&mut self.headers)?,
                "no_responders" => flag(&mut self.no_responders)?,
                "nkey" => words(&mut self.nkey)?,
                "jwt" => words(&mut self.jwt)?,
                "sig" => words(&mut self.sig)?,
                "auth_token" => words(&mut self.auth_token)?,
                "user" => words(&mut self.user)?,
                "pass" => words(&mut self.pass)?,
                "name" => words(&mut self.name)?,
                "lang" => words(&mut self.lang)?,
                "version" => words(&mut self.version)?,
                "account" => words(&mut self.account)?,
                "protocol" => {
                    if let Some(value) = json::signed(raw, i64::MIN, i64::MAX)? {
                        self.protocol = value;
                    }
                }
                "import" | "export" => json::permission(raw)?,
                // "remote_account" and "proxy_sig": strings nats-server reads only for
                // leaf nodes and proxies.
                _ => {
                    json::text(raw)?;
                }
            }
        }
        Ok(())
    }

    /// The checks nats-server makes once a `CONNECT` decoded and the client is
    /// authenticated, in its order (`processConnect`).
    pub(crate) fn check(&self) -> Result<(), ViolationKind> {
        if self.new_account || !self.account.is_empty() {
            return Err(ViolationKind::AccountDesignation);
        }
        if !(0..=1).contains(&self.protocol) {
            return Err(ViolationKind::ClientProtocol);
        }
        if self.no_responders && !self.headers {
            return Err(ViolationKind::NoRespondersRequiresHeaders);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(json: &str) -> Result<Connect, Malformed> {
        let mut connect = Connect::default();
        connect.apply_json(json.as_bytes())?;
        Ok(connect)
    }

    #[test]
    fn documented_example() {
        let json = r#"{"verbose":false,"pedantic":false,"tls_required":false,"name":"","lang":"go","version":"1.2.2","protocol":1}"#;
        let connect = applied(json).unwrap();
        assert!(!connect.verbose && !connect.pedantic && connect.echo);
        assert_eq!(
            (connect.lang.as_str(), connect.version.as_str()),
            ("go", "1.2.2")
        );
        assert_eq!(connect.protocol, 1);
        assert_eq!(connect.check(), Ok(()));
    }

    #[test]
    fn absent_fields_keep_defaults_and_previous_values() {
        let first = applied(r#"{"verbose":false,"name":"one","headers":true}"#).unwrap();
        assert!(first.pedantic && first.echo && first.headers);
        let mut second = first.clone();
        second.apply_json(br#"{"name":null,"echo":false}"#).unwrap();
        assert_eq!(second.name, "one");
        assert!(!second.verbose && !second.echo && second.headers);
        assert_eq!(applied("null").unwrap(), Connect::default());
    }

    #[test]
    fn keys_are_case_insensitive_and_last_wins() {
        let connect = applied(r#"{"Verbose":false,"ECHO":false,"echo":true,"unknown":[{}]}"#);
        let connect = connect.unwrap();
        assert!(!connect.verbose && connect.echo);
    }

    #[test]
    fn wrong_types_and_bad_json_are_malformed() {
        for bad in [
            "",
            "{",
            "[]",
            r#"{"verbose":"false"}"#,
            r#"{"protocol":1.0}"#,
            r#"{"protocol":"1"}"#,
            r#"{"name":5}"#,
            r#"{"import":["a"]}"#,
            r#"{"proxy_sig":1}"#,
            r#"{"unknown":tru}"#,
            r#"{} {}"#,
        ] {
            assert_eq!(applied(bad), Err(Malformed), "{bad}");
        }
    }

    #[test]
    fn invalid_utf8_in_strings_is_replaced_not_refused() {
        let mut connect = Connect::default();
        connect.apply_json(b"{\"name\":\"a\xffb\"}").unwrap();
        assert_eq!(connect.name, "a\u{FFFD}b");
    }

    #[test]
    fn checks_in_nats_servers_order() {
        let check = |json: &str| applied(json).unwrap().check();
        assert_eq!(
            check(r#"{"account":"A","protocol":7}"#),
            Err(ViolationKind::AccountDesignation)
        );
        assert_eq!(
            check(r#"{"new_account":true}"#),
            Err(ViolationKind::AccountDesignation)
        );
        assert_eq!(
            check(r#"{"protocol":2}"#),
            Err(ViolationKind::ClientProtocol)
        );
        assert_eq!(
            check(r#"{"protocol":-1}"#),
            Err(ViolationKind::ClientProtocol)
        );
        assert_eq!(
            check(r#"{"no_responders":true}"#),
            Err(ViolationKind::NoRespondersRequiresHeaders)
        );
        assert_eq!(check(r#"{"no_responders":true,"headers":true}"#), Ok(()));
    }

    #[test]
    fn debug_hides_secrets() {
        let connect = applied(r#"{"user":"u","pass":"secret","auth_token":"t"}"#).unwrap();
        let shown = format!("{connect:?}");
        assert!(shown.contains("\"u\"") && !shown.contains("secret") && !shown.contains("\"t\""));
    }
}
