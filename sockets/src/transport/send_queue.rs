//! How much a socket's send queue still holds (SIOCOUTQ), so a closing connection
//! waits only while its peer has not taken what was sent.
//!
//! No crate we depend on wraps this ioctl, so this module holds an `unsafe` block. It is called once per check while a closing connection drains,
//! never on a per-message path. It must never be given anything but an open socket.

#![allow(unsafe_code)]

use std::os::fd::AsRawFd;

/// What SIOCOUTQ reports for `socket`: for TCP, bytes not yet acknowledged by the
/// peer's kernel; for a Unix stream socket, the memory of what the peer's process
/// has not read yet (so more than the bytes). `None` if the system cannot say.
#[cfg(target_os = "linux")]
pub(crate) fn length(socket: &impl AsRawFd) -> Option<usize> {
    let mut length: libc::c_int = 0;
    // SAFETY: the descriptor belongs to `socket`, which the caller borrows for the
    // whole call, so it stays open; TIOCOUTQ writes exactly one `c_int` through the
    // pointer, which points at a live local of that type.
    let result = unsafe {
        libc::ioctl(
            socket.as_raw_fd(),
            libc::TIOCOUTQ,
            &mut length as *mut libc::c_int,
        )
    };
    if result == 0 {
        usize::try_from(length).ok()
    } else {
        None
    }
}

/// Elsewhere the send queue is not known: callers wait for the peer instead.
#[cfg(not(target_os = "linux"))]
pub(crate) fn length(_socket: &impl AsRawFd) -> Option<usize> {
    None
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn counts_what_the_peer_has_not_read_on_a_unix_socket() {
        let (mut ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        assert_eq!(length(&ours), Some(0));
        ours.write_all(&[7u8; 1000]).unwrap();
        assert!(length(&ours).unwrap() >= 1000, "unread bytes are counted");
        let mut buffer = [0u8; 1000];
        theirs.read_exact(&mut buffer).unwrap();
        assert_eq!(length(&ours), Some(0), "read bytes are not");
    }

    #[test]
    fn says_nothing_for_a_descriptor_that_is_not_a_socket() {
        let file = std::fs::File::open("/dev/null").unwrap();
        assert_eq!(length(&file), None);
    }
}
