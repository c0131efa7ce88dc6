//! Z85 (RFC 32): the ZeroMQ base-85 text form of binary data, used for CURVE keys.
//!
//! Every 4 bytes, read as a big-endian number, become 5 characters of RFC 32's
//! alphabet, most significant digit first; so binary lengths are multiples of 4 and
//! text lengths multiples of 5. Decoding refuses a character outside the alphabet
//! and a 5-character block worth more than 2^32 - 1, as libzmq's `zmq_z85_decode`
//! does. This file must never panic on any input and never allocate more than the
//! output's exact size.

/// RFC 32's alphabet, digit 0 to digit 84.
pub const ALPHABET: &[u8; 85] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/// Marks a byte that is not a Z85 character in `DIGITS`.
const NOT_A_DIGIT: u8 = 0xFF;

/// The digit each ASCII byte stands for, or `NOT_A_DIGIT`.
const DIGITS: [u8; 128] = {
    let mut digits = [NOT_A_DIGIT; 128];
    let mut digit = 0;
    while digit < ALPHABET.len() {
        digits[ALPHABET[digit] as usize] = digit as u8;
        digit += 1;
    }
    digits
};

/// Why bytes could not be encoded or text could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Z85Error {
    /// Z85 encodes whole 4-byte blocks.
    #[error("Z85 encodes bytes in blocks of 4, and {length} bytes is not a multiple of 4")]
    BinaryLength {
        /// The number of bytes offered.
        length: usize,
    },
    /// Z85 text is made of whole 5-character blocks.
    #[error("Z85 text comes in blocks of 5 characters, and {length} is not a multiple of 5")]
    TextLength {
        /// The text's length in bytes.
        length: usize,
    },
    /// A character outside RFC 32's alphabet.
    #[error("{character:?} at position {position} is not a Z85 character")]
    Character {
        /// Where it is, in bytes from the start.
        position: usize,
        /// The character.
        character: char,
    },
    /// A block's value does not fit in 4 bytes (above `%nSc0`).
    #[error("the Z85 block at position {position} is worth more than 2^32 - 1")]
    Overflow {
        /// Where the block starts, in bytes from the start.
        position: usize,
    },
}

/// Encodes `bytes` (a multiple of 4 long) as Z85 text.
pub fn encode(bytes: &[u8]) -> Result<String, Z85Error> {
    if !bytes.len().is_multiple_of(4) {
        return Err(Z85Error::BinaryLength {
            length: bytes.len(),
        });
    }
    let mut text = String::with_capacity(bytes.len() / 4 * 5);
    for block in bytes.chunks_exact(4) {
        let mut value = block
            .iter()
            .fold(0u32, |value, &byte| (value << 8) | u32::from(byte));
        let mut digits = [0u8; 5];
        for digit in digits.iter_mut().rev() {
            *digit = (value % 85) as u8;
            value /= 85;
        }
        for digit in digits {
            let character = ALPHABET.get(usize::from(digit)).copied().unwrap_or(b'0');
            text.push(char::from(character));
        }
    }
    Ok(text)
}

/// Decodes Z85 `text` (a multiple of 5 characters long).
pub fn decode(text: &str) -> Result<Vec<u8>, Z85Error> {
    let input = text.as_bytes();
    if !input.len().is_multiple_of(5) {
        return Err(Z85Error::TextLength {
            length: input.len(),
        });
    }
    let mut bytes = Vec::with_capacity(input.len() / 5 * 4);
    for (index, block) in input.chunks_exact(5).enumerate() {
        let start = index * 5;
        let mut value = 0u64;
        for (offset, &character) in block.iter().enumerate() {
            let digit = DIGITS
                .get(usize::from(character))
                .copied()
                .filter(|&digit| digit != NOT_A_DIGIT)
                .ok_or_else(|| {
                    let position = start + offset;
                    let character = text
                        .get(position..)
                        .and_then(|rest| rest.chars().next())
                        .unwrap_or(char::REPLACEMENT_CHARACTER);
                    Z85Error::Character {
                        position,
                        character,
                    }
                })?;
            value = value * 85 + u64::from(digit);
        }
        let value = u32::try_from(value).map_err(|_| Z85Error::Overflow { position: start })?;
        bytes.extend_from_slice(&value.to_be_bytes());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc_32_test_vector() {
        let bytes = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B];
        assert_eq!(encode(&bytes).unwrap(), "HelloWorld");
        assert_eq!(decode("HelloWorld").unwrap(), bytes);
    }

    /// What pyzmq 27.1.0's `zmq.utils.z85.encode` gives for the bytes 0 to 31.
    #[test]
    fn agrees_with_pyzmq() {
        let bytes: Vec<u8> = (0..32).collect();
        let text = "009c61o!#m2NH?C3>iWS5d]J*6CRx17-skh9337x";
        assert_eq!(encode(&bytes).unwrap(), text);
        assert_eq!(decode(text).unwrap(), bytes);
    }

    #[test]
    fn the_extremes_of_a_block() {
        assert_eq!(encode(&[0; 4]).unwrap(), "00000");
        assert_eq!(encode(&[0xFF; 4]).unwrap(), "%nSc0");
        assert_eq!(decode("%nSc0").unwrap(), [0xFF; 4]);
        assert_eq!(decode("%nSc1"), Err(Z85Error::Overflow { position: 0 }));
        assert_eq!(
            decode("00000#####"),
            Err(Z85Error::Overflow { position: 5 })
        );
        assert_eq!(encode(&[]).unwrap(), "");
        assert_eq!(decode("").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn bad_lengths_and_characters_are_errors() {
        assert_eq!(
            encode(&[1, 2, 3]),
            Err(Z85Error::BinaryLength { length: 3 })
        );
        assert_eq!(decode("Hello0"), Err(Z85Error::TextLength { length: 6 }));
        assert_eq!(
            decode("Hel\"o"),
            Err(Z85Error::Character {
                position: 3,
                character: '"'
            })
        );
        assert_eq!(
            decode("Hello Worl"),
            Err(Z85Error::Character {
                position: 5,
                character: ' '
            })
        );
        // Two bytes of UTF-8 plus three characters: five bytes, one bad character.
        assert_eq!(
            decode("\u{e9}abc"),
            Err(Z85Error::Character {
                position: 0,
                character: '\u{e9}'
            })
        );
    }

    #[test]
    fn the_alphabet_has_85_distinct_printable_characters() {
        let mut seen = std::collections::HashSet::new();
        for &character in ALPHABET {
            assert!(character.is_ascii_graphic());
            assert!(seen.insert(character));
        }
        assert_eq!(seen.len(), 85);
    }

    proptest! {
        #[test]
        fn encode_then_decode_is_the_identity(blocks in prop::collection::vec(any::<[u8; 4]>(), 0..32)) {
            let bytes: Vec<u8> = blocks.concat();
            let text = encode(&bytes).unwrap();
            prop_assert_eq!(text.len(), bytes.len() / 4 * 5);
            prop_assert!(text.bytes().all(|character| ALPHABET.contains(&character)));
            prop_assert_eq!(decode(&text).unwrap(), bytes);
        }

        #[test]
        fn decode_never_panics(text in prop_oneof!["\\PC{0,40}", "[0-9a-zA-Z.:+=^!/*?&<>()\\[\\]{}@%$#-]{0,40}"]) {
            if let Ok(bytes) = decode(&text) {
                prop_assert_eq!(encode(&bytes).unwrap(), text);
            }
        }
    }
}
