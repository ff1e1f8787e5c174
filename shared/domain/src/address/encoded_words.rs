//! RFC 2047 encoded words (`=?charset?B|Q?text?=`) in display names and comments.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charset {
    Utf8,
    Ascii,
    Latin1,
}

impl Charset {
    fn decode(self, bytes: &[u8]) -> Option<String> {
        match self {
            Charset::Utf8 => std::str::from_utf8(bytes).ok().map(str::to_owned),
            Charset::Ascii => bytes
                .is_ascii()
                .then(|| bytes.iter().map(|&b| char::from(b)).collect()),
            // Latin-1 bytes are the first 256 code points.
            Charset::Latin1 => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        }
    }
}

/// A word of a display name: plain text, or an encoded word's charset and bytes.
#[derive(Debug)]
pub(super) struct Piece {
    raw: String,
    encoded: Option<(Charset, Vec<u8>)>,
    /// Separated from the previous piece by whitespace only (not by a comment).
    joinable: bool,
}

impl Piece {
    pub(super) fn word(raw: &str, joinable: bool) -> Self {
        Self {
            raw: raw.to_owned(),
            encoded: encoded_word(raw),
            joinable,
        }
    }
}

/// A quoted string's content. RFC 2047 forbids encoded words inside quotes, but some
/// senders put them there, and every mail client decodes them: so when the content holds
/// one, its words are decoded; otherwise it is kept exactly as written.
pub(super) fn quoted_pieces(text: &str, joinable: bool) -> Vec<Piece> {
    if !text.split_whitespace().any(|w| encoded_word(w).is_some()) {
        return vec![Piece {
            raw: text.to_owned(),
            encoded: None,
            joinable,
        }];
    }
    text.split_whitespace()
        .enumerate()
        .map(|(n, w)| Piece::word(w, n > 0 || joinable))
        .collect()
}

/// A comment's text, encoded words decoded (RFC 2047 allows them in comments).
pub(super) fn decode_text(text: &str) -> String {
    let pieces = quoted_pieces(text, true);
    render(&pieces)
}

/// Joins pieces with one space, except between encoded words separated only by whitespace,
/// which are joined without it (RFC 2047, 6.2). Adjacent encoded words of one charset are
/// decoded together, so a character split across two words by a careless encoder survives.
pub(super) fn render(pieces: &[Piece]) -> String {
    let mut out = String::new();
    let mut k = 0;
    while let Some(piece) = pieces.get(k) {
        if k > 0 {
            out.push(' ');
        }
        if piece.encoded.is_some() {
            let mut m = k + 1;
            while pieces
                .get(m)
                .is_some_and(|p| p.encoded.is_some() && p.joinable)
            {
                m += 1;
            }
            out.push_str(&decode_run(pieces.get(k..m).unwrap_or_default()));
            k = m;
        } else {
            out.push_str(&piece.raw);
            k += 1;
        }
    }
    out
}

fn decode_run(run: &[Piece]) -> String {
    let mut out = String::new();
    let mut k = 0;
    while let Some(Piece {
        encoded: Some((charset, _)),
        ..
    }) = run.get(k)
    {
        let mut m = k + 1;
        while run
            .get(m)
            .is_some_and(|p| matches!(p.encoded, Some((c, _)) if c == *charset))
        {
            m += 1;
        }
        let group = run.get(k..m).unwrap_or_default();
        let bytes: Vec<u8> = group
            .iter()
            .flat_map(|p| p.encoded.iter().flat_map(|(_, b)| b.iter().copied()))
            .collect();
        match charset.decode(&bytes) {
            Some(text) => out.push_str(&text),
            None => {
                // Not decodable together: each word on its own, or as written.
                let words: Vec<String> = group
                    .iter()
                    .map(|p| match &p.encoded {
                        Some((c, b)) => c.decode(b).unwrap_or_else(|| p.raw.clone()),
                        None => p.raw.clone(),
                    })
                    .collect();
                out.push_str(&words.join(" "));
            }
        }
        k = m;
    }
    out
}

/// `=?charset?encoding?text?=` with a charset we decode, and its bytes; `None` for
/// anything else, which then stays as written.
fn encoded_word(word: &str) -> Option<(Charset, Vec<u8>)> {
    let inner = word.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut parts = inner.splitn(3, '?');
    let charset = parts.next()?;
    let encoding = parts.next()?;
    let text = parts.next()?;
    if text.contains('?') {
        return None;
    }
    // RFC 2231 adds a language: =?US-ASCII*EN?Q?...?=
    let charset = charset.split('*').next().unwrap_or_default();
    let charset = match charset.to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" => Charset::Utf8,
        "us-ascii" | "ascii" => Charset::Ascii,
        "iso-8859-1" | "iso8859-1" | "iso_8859-1" | "latin1" | "latin-1" | "l1" => Charset::Latin1,
        _ => return None,
    };
    let bytes = match encoding {
        "B" | "b" => base64(text)?,
        "Q" | "q" => q_decode(text)?,
        _ => return None,
    };
    Some((charset, bytes))
}

/// Base64 as encoders write it in headers: the standard alphabet, padding optional (at
/// most the two `=` a quantum can need), and stray low bits in the last character ignored,
/// as every mail client does.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

fn base64(text: &str) -> Option<Vec<u8>> {
    let data = text.trim_end_matches('=');
    if text.len() - data.len() > 2 {
        return None;
    }
    LENIENT_BASE64.decode(data).ok()
}

fn q_decode(text: &str) -> Option<Vec<u8>> {
    fn hex(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'_' => out.push(b' '),
            b'=' => {
                let high = hex(bytes.next()?)?;
                let low = hex(bytes.next()?)?;
                out.push(high << 4 | low);
            }
            b'!'..=b'~' => out.push(b),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_with_or_without_padding_and_refuses_other_alphabets() {
        assert_eq!(base64("SGk=").as_deref(), Some(&b"Hi"[..]));
        assert_eq!(base64("SGk").as_deref(), Some(&b"Hi"[..]));
        // Stray low bits in the last character are ignored, as mail clients do.
        assert_eq!(base64("SGl=").as_deref(), Some(&b"Hi"[..]));
        assert_eq!(base64("").as_deref(), Some(&b""[..]));
        assert_eq!(base64("S"), None);
        assert_eq!(base64("SG-k"), None);
        assert_eq!(base64("SGk==="), None);
    }

    #[test]
    fn q_decodes_underscores_and_hex_escapes() {
        assert_eq!(q_decode("a_b=3D").as_deref(), Some(&b"a b="[..]));
        assert_eq!(q_decode("a=4"), None);
        assert_eq!(q_decode("a=ZZ"), None);
    }
}
