//! The CURVE server and ZAP (RFC 27): what it asks, and what each verdict does
//! on the wire. Test-only.

use super::*;
use crate::zmtp::mechanism::ZapReply;

#[test]
fn zap_is_asked_about_the_clients_long_term_key_and_its_answer_is_reported() {
    let mut run = run_to_initiate(true);
    let mut out = Encoder::new();
    let Ok(Progress::Authenticate(request)) = run.server.handle_command(&run.initiate, &mut out)
    else {
        panic!("the server did not ask ZAP");
    };
    assert!(out.is_empty(), "nothing goes out before ZAP answers");
    assert_eq!(request.mechanism, MechanismName::CURVE);
    assert_eq!(
        request.credentials,
        [&run.client_keys.public().as_bytes()[..]]
    );
    let mut reply = ZapReply::allow();
    reply.user_id = Bytes::from_static(b"alice");
    reply.metadata.insert("Role", "admin");
    reply
        .metadata
        .insert("Socket-Type", "ignored: the first one counts");
    let Ok(Progress::Ready(peer)) = run.server.handle_zap_reply(reply, &mut out) else {
        panic!("the server did not admit the client");
    };
    let names: Vec<&[u8]> = peer.iter().map(|(name, _)| &name[..]).collect();
    assert_eq!(names[..2], [b"User-Id" as &[u8], b"Role"]);
    assert_eq!(peer.get(USER_ID_PROPERTY).unwrap(), "alice");
    assert_eq!(peer.get("Role").unwrap(), "admin");
    let ready = command(&mut out);
    assert!(matches!(
        run.client.handle_command(&ready, &mut out),
        Ok(Progress::Ready(_))
    ));
    assert_eq!(
        run.server.handle_zap_reply(ZapReply::allow(), &mut out),
        Err(ProtocolError::UnexpectedZapReply)
    );
}

#[test]
fn a_zap_denial_ends_in_error_and_a_temporary_failure_in_silence() {
    for (code, sends_error) in [("400", true), ("500", true), ("300", false)] {
        let mut run = run_to_initiate(true);
        let mut out = Encoder::new();
        let progress = run.server.handle_command(&run.initiate, &mut out);
        assert!(matches!(progress, Ok(Progress::Authenticate(_))));
        let reply = ZapReply {
            status_code: Bytes::copy_from_slice(code.as_bytes()),
            status_text: Bytes::from_static(b"no entry"),
            user_id: Bytes::new(),
            metadata: Metadata::new(),
        };
        assert_eq!(
            run.server.handle_zap_reply(reply, &mut out),
            Err(ProtocolError::AuthenticationFailed {
                status_code: code.to_owned(),
                status_text: "no entry".to_owned(),
            })
        );
        if !sends_error {
            assert!(out.is_empty(), "ZAP 300 closes without ERROR, as libzmq");
            continue;
        }
        let error = command(&mut out);
        assert_eq!(&error[..], format!("\x05ERROR\x03{code}").as_bytes());
        let refused = run.client.handle_command(&error, &mut out);
        assert!(
            matches!(&refused, Err(ProtocolError::AuthenticationFailed { status_code, .. }) if status_code == code),
            "{refused:?}"
        );
    }
}
