//! Fuzz target: the streaming frame decoder, fed arbitrary bytes in arbitrary chunks.
//!
//! It must return frames or an error, never panic, and never hold more memory than
//! the bytes it was given plus one growth step.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sinew::zmtp::buffer::{GROWTH_STEP, ReceiveBuffer};
use sinew::zmtp::frame::Decoder;

fuzz_target!(|data: &[u8]| {
    let Some((&control, bytes)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(control).max(1);
    let limit = (control & 1 == 1).then_some(1024);
    let mut decoder = Decoder::new(limit);
    let mut input = ReceiveBuffer::new();
    let mut fed = 0usize;
    for piece in bytes.chunks(chunk) {
        let target = decoder.read_target(&mut input);
        if target.extend_from_slice(piece).is_err() {
            return;
        }
        fed += piece.len();
        let held = decoder.read_target(&mut input).received();
        assert!(held <= fed + 2 * GROWTH_STEP);
        loop {
            match decoder.decode(&mut input) {
                Ok(Some(frame)) => assert!(frame.body.len() <= fed),
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
