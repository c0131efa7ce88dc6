//! The server's `INFO`: the fields NATS clients read, written as nats-server writes
//! them (`server/server.go`'s `Info`, `generateInfoJSON` in `server/util.go`), and the
//! check nats-server makes when a client sends an `INFO` of its own.
//!
//! This module must never write a field nats-server omits when empty, nor omit one it
//! always writes: some clients decode `INFO` into strict types.

use bytes::{BufMut, BytesMut};
use serde::Serialize;

use super::json::{self, Malformed};

/// The server's description of itself and of the connection, sent first on every
/// connection (and again, with `connect_info`, after a protocol-1 client's first
/// `PING`). Fields are in nats-server's order; the `skip` ones are `omitempty` there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Info {
    /// A unique id of this server.
    pub server_id: String,
    /// The server's name (nats-server uses the id when none is configured).
    pub server_name: String,
    /// The server version. nats.js parses it as `major.minor.micro` and refuses to
    /// connect otherwise, and it gates features on it (headers need 2.2.0).
    pub version: String,
    /// The protocol version: 1.
    pub proto: i32,
    /// The build's commit.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub git_commit: String,
    /// nats-server's Go version; no client reads it, but nats-server always sends it.
    pub go: String,
    /// The address the client port is bound to.
    pub host: String,
    /// The client port.
    pub port: u16,
    /// The server understands `HPUB` and sends `HMSG`.
    pub headers: bool,
    /// The client must authenticate in its `CONNECT`.
    #[serde(skip_serializing_if = "is_false")]
    pub auth_required: bool,
    /// The client must start TLS.
    #[serde(skip_serializing_if = "is_false")]
    pub tls_required: bool,
    /// The server checks client certificates.
    #[serde(skip_serializing_if = "is_false")]
    pub tls_verify: bool,
    /// The client may start TLS.
    #[serde(skip_serializing_if = "is_false")]
    pub tls_available: bool,
    /// The largest payload the server accepts.
    pub max_payload: i32,
    /// JetStream is available.
    #[serde(skip_serializing_if = "is_false")]
    pub jetstream: bool,
    /// This connection's id.
    #[serde(rename = "client_id", skip_serializing_if = "is_zero")]
    pub client_id: u64,
    /// The client's address as the server sees it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub client_ip: String,
    /// A nonce for the client to sign, when NKey or JWT authentication is on.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub nonce: String,
    /// The cluster's name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    /// The JetStream domain.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub domain: String,
    /// Other servers a client may reconnect to (`host:port`).
    #[serde(rename = "connect_urls", skip_serializing_if = "Vec::is_empty")]
    pub connect_urls: Vec<String>,
    /// The server is shutting down gracefully: clients should move.
    #[serde(rename = "ldm", skip_serializing_if = "is_false")]
    pub lame_duck_mode: bool,
    /// This `INFO` answers a `CONNECT` (sent after the first `PING`).
    #[serde(skip_serializing_if = "is_false")]
    pub connect_info: bool,
    /// The account the client is bound to (with `connect_info`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub remote_account: String,
    /// The bound account is the system account (with `connect_info`).
    #[serde(rename = "acc_is_sys", skip_serializing_if = "is_false")]
    pub is_system_account: bool,
    /// The JetStream API level.
    #[serde(rename = "api_lvl", skip_serializing_if = "is_zero_level")]
    pub api_level: i32,
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

fn is_zero_level(value: &i32) -> bool {
    *value == 0
}

impl Default for Info {
    /// Protocol 1, headers on, a 1 MiB maximum payload; names, version and addresses
    /// empty for the server to fill in.
    fn default() -> Self {
        Self {
            server_id: String::new(),
            server_name: String::new(),
            version: String::new(),
            proto: 1,
            git_commit: String::new(),
            go: String::new(),
            host: String::new(),
            port: 0,
            headers: true,
            auth_required: false,
            tls_required: false,
            tls_verify: false,
            tls_available: false,
            max_payload: 1024 * 1024,
            jetstream: false,
            client_id: 0,
            client_ip: String::new(),
            nonce: String::new(),
            cluster: String::new(),
            domain: String::new(),
            connect_urls: Vec::new(),
            lame_duck_mode: false,
            connect_info: false,
            remote_account: String::new(),
            is_system_account: false,
            api_level: 0,
        }
    }
}

/// Writes `INFO {json} \r\n`, byte for byte as nats-server does: its `bytes.Join` with
/// a space leaves one before the line end, and Go's encoder escapes `<`, `>`, `&`,
/// U+2028 and U+2029.
pub fn encode_info(info: &Info, out: &mut BytesMut) -> Result<(), serde_json::Error> {
    let json = serde_json::to_vec(info)?;
    out.reserve(json.len() + 8);
    out.put_slice(b"INFO ");
    let mut rest = json.as_slice();
    while let Some((&byte, tail)) = rest.split_first() {
        match (byte, tail) {
            (b'<', _) => out.put_slice(b"\\u003c"),
            (b'>', _) => out.put_slice(b"\\u003e"),
            (b'&', _) => out.put_slice(b"\\u0026"),
            (0xE2, [0x80, 0xA8, ..]) => out.put_slice(b"\\u2028"),
            (0xE2, [0x80, 0xA9, ..]) => out.put_slice(b"\\u2029"),
            _ => {
                out.put_u8(byte);
                rest = tail;
                continue;
            }
        }
        rest = if byte == 0xE2 {
            tail.get(2..).unwrap_or_default()
        } else {
            tail
        };
    }
    out.put_slice(b" \r\n");
    Ok(())
}

/// How Go types one field of nats-server's `Info`.
#[derive(Clone, Copy)]
enum Kind {
    Boolean,
    Text,
    Texts,
    Integer,
    Integer32,
    Unsigned64,
    Unsigned8,
    Permission,
    Bytes,
}

/// Every field of nats-server's `Info` with its Go type, for a client's `INFO`.
const INFO_FIELDS: &[(&str, Kind)] = &[
    ("server_id", Kind::Text),
    ("server_name", Kind::Text),
    ("version", Kind::Text),
    ("proto", Kind::Integer),
    ("git_commit", Kind::Text),
    ("go", Kind::Text),
    ("host", Kind::Text),
    ("port", Kind::Integer),
    ("headers", Kind::Boolean),
    ("auth_required", Kind::Boolean),
    ("tls_required", Kind::Boolean),
    ("tls_verify", Kind::Boolean),
    ("tls_available", Kind::Boolean),
    ("max_payload", Kind::Integer32),
    ("jetstream", Kind::Boolean),
    ("ip", Kind::Text),
    ("client_id", Kind::Unsigned64),
    ("client_ip", Kind::Text),
    ("nonce", Kind::Text),
    ("cluster", Kind::Text),
    ("cluster_dynamic", Kind::Boolean),
    ("domain", Kind::Text),
    ("connect_urls", Kind::Texts),
    ("ws_connect_urls", Kind::Texts),
    ("ldm", Kind::Boolean),
    ("compression", Kind::Text),
    ("connect_info", Kind::Boolean),
    ("remote_account", Kind::Text),
    ("acc_is_sys", Kind::Boolean),
    ("api_lvl", Kind::Integer),
    ("import", Kind::Permission),
    ("export", Kind::Permission),
    ("lnoc", Kind::Boolean),
    ("lnocu", Kind::Boolean),
    ("info_on_connect", Kind::Boolean),
    ("route_pool_size", Kind::Integer),
    ("route_pool_idx", Kind::Integer),
    ("route_account", Kind::Text),
    ("route_acc_add_reqid", Kind::Text),
    ("gossip_mode", Kind::Unsigned8),
    ("gateway", Kind::Text),
    ("gateway_urls", Kind::Texts),
    ("gateway_url", Kind::Text),
    ("gateway_cmd", Kind::Unsigned8),
    ("gateway_cmd_payload", Kind::Bytes),
    ("gateway_nrp", Kind::Boolean),
    ("gateway_iom", Kind::Boolean),
    ("leafnode_urls", Kind::Texts),
    ("xkey", Kind::Text),
];

/// Whether nats-server's decoder accepts a client's `INFO` argument (it then ignores
/// it; it closes the connection otherwise).
pub(crate) fn check_client_info(argument: &[u8]) -> Result<(), Malformed> {
    let text = String::from_utf8_lossy(argument);
    let names: Vec<&str> = INFO_FIELDS.iter().map(|(name, _)| *name).collect();
    for (key, raw) in json::object_members(&text)?.unwrap_or_default() {
        let Some(name) = json::field_name(&key, &names) else {
            continue;
        };
        let kind = INFO_FIELDS
            .iter()
            .find(|(field, _)| *field == name)
            .map_or(Kind::Text, |(_, kind)| *kind);
        match kind {
            Kind::Boolean => json::boolean(raw).map(drop)?,
            Kind::Text => json::text(raw).map(drop)?,
            Kind::Texts => json::texts(raw)?,
            Kind::Integer => json::signed(raw, i64::MIN, i64::MAX).map(drop)?,
            Kind::Integer32 => json::signed(raw, i32::MIN.into(), i32::MAX.into()).map(drop)?,
            Kind::Unsigned64 => json::unsigned(raw, u64::MAX).map(drop)?,
            Kind::Unsigned8 => json::unsigned(raw, u8::MAX.into()).map(drop)?,
            Kind::Permission => json::permission(raw)?,
            Kind::Bytes => json::base64(raw)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(info: &Info) -> String {
        let mut out = BytesMut::new();
        encode_info(info, &mut out).unwrap();
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn minimal_info_has_nats_servers_shape() {
        let info = Info {
            server_id: "ID".into(),
            server_name: "name".into(),
            version: "2.11.0".into(),
            go: "go1.24".into(),
            host: "127.0.0.1".into(),
            port: 4222,
            ..Info::default()
        };
        assert_eq!(
            encoded(&info),
            "INFO {\"server_id\":\"ID\",\"server_name\":\"name\",\"version\":\"2.11.0\",\
             \"proto\":1,\"go\":\"go1.24\",\"host\":\"127.0.0.1\",\"port\":4222,\
             \"headers\":true,\"max_payload\":1048576} \r\n"
        );
    }

    #[test]
    fn optional_fields_appear_when_set() {
        let info = Info {
            auth_required: true,
            client_id: 7,
            client_ip: "127.0.0.1".into(),
            nonce: "abc".into(),
            connect_urls: vec!["10.0.0.1:4222".into()],
            lame_duck_mode: true,
            connect_info: true,
            remote_account: "$G".into(),
            is_system_account: true,
            api_level: 1,
            ..Info::default()
        };
        let text = encoded(&info);
        for field in [
            "\"auth_required\":true",
            "\"client_id\":7",
            "\"client_ip\":\"127.0.0.1\"",
            "\"nonce\":\"abc\"",
            "\"connect_urls\":[\"10.0.0.1:4222\"]",
            "\"ldm\":true",
            "\"connect_info\":true",
            "\"remote_account\":\"$G\"",
            "\"acc_is_sys\":true",
            "\"api_lvl\":1",
        ] {
            assert!(text.contains(field), "{field} in {text}");
        }
    }

    #[test]
    fn escapes_like_go() {
        let info = Info {
            server_name: "<a&b>\u{2028}\u{2029}é".into(),
            ..Info::default()
        };
        let text = encoded(&info);
        assert!(
            text.contains(r#""server_name":"\u003ca\u0026b\u003e\u2028\u2029é""#),
            "{text}"
        );
    }

    #[test]
    fn our_info_passes_nats_servers_decoder() {
        let info = Info {
            connect_urls: vec!["a".into()],
            client_id: u64::MAX,
            ..Info::default()
        };
        let text = encoded(&info);
        let json = text.trim_start_matches("INFO ").trim_end();
        assert_eq!(check_client_info(json.as_bytes()), Ok(()));
    }

    #[test]
    fn client_info_is_type_checked() {
        assert_eq!(check_client_info(b"{}"), Ok(()));
        assert_eq!(check_client_info(b"null"), Ok(()));
        assert_eq!(check_client_info(br#"{"unknown":[1,{"a":null}]}"#), Ok(()));
        assert_eq!(
            check_client_info(br#"{"gateway_cmd_payload":"QUJD"}"#),
            Ok(())
        );
        for bad in [
            &b""[..],
            b"{",
            br#"{"port":"4222"}"#,
            br#"{"max_payload":2147483648}"#,
            br#"{"gossip_mode":256}"#,
            br#"{"client_id":-1}"#,
            br#"{"connect_urls":"a"}"#,
            br#"{"Headers":1}"#,
            br#"{"gateway_cmd_payload":"QQ"}"#,
        ] {
            assert_eq!(check_client_info(bad), Err(Malformed), "{bad:?}");
        }
    }
}
