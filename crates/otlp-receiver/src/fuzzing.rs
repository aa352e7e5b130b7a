//! The check the fuzz target `otlp_receiver_body` (`fuzz/fuzz_targets/`)
//! runs on each input, shared with the test that replays the saved corpus
//! on stable Rust (`tests/fuzz_corpus.rs`). It panics on a broken
//! invariant, which is how libFuzzer recognises a finding.

use std::borrow::Cow;
use std::io::Write;

use prost::Message;

use crate::Compression;
use crate::decode::{
    AnyRequest, DecodeError, JSON, PROTOBUF, SignalKind, decode_signal,
};

/// The body limit the target decodes with, unless the input asks for
/// [`SMALL_LIMIT`].
pub const LIMIT: usize = 64 * 1024;

/// A limit small enough that inputs of libFuzzer's usual length cross it.
pub const SMALL_LIMIT: usize = 256;

/// One HTTP body. The first byte chooses the request; the rest is the body:
///
/// - bits 0-1: the signal (traces, metrics, logs; 3 is traces again);
/// - bits 2-3: `Content-Type`: protobuf, JSON, JSON with a parameter in
///   mixed case, or `text/plain`;
/// - bits 4-5: `Content-Encoding`: none; gzip, with the body compressed
///   here so that the decoder behind gzip is explored; gzip, with the bytes
///   sent as they are (to fuzz the inflater); `identity`;
/// - bit 6: decode with [`SMALL_LIMIT`] instead of [`LIMIT`].
///
/// Whatever the input: no panic; a body above the limit, compressed or not,
/// is refused as too large; an accepted request came from at most `limit`
/// bytes and re-encodes to at most twice that, and to protobuf that decodes
/// to the same request.
pub fn http_body(data: &[u8]) {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let signal = match selector & 3 {
        1 => SignalKind::Metrics,
        2 => SignalKind::Logs,
        _ => SignalKind::Traces,
    };
    let content_type = match (selector >> 2) & 3 {
        0 => PROTOBUF,
        1 => JSON,
        2 => "Application/JSON; charset=utf-8",
        _ => "text/plain",
    };
    let (encoding, body): (Option<&str>, Cow<[u8]>) = match (selector >> 4) & 3 {
        0 => (None, Cow::Borrowed(payload)),
        1 => (Some("gzip"), Cow::Owned(gzip(payload))),
        2 => (Some("gzip"), Cow::Borrowed(payload)),
        _ => (Some("identity"), Cow::Borrowed(payload)),
    };
    let limit = if selector & 0x40 != 0 {
        SMALL_LIMIT
    } else {
        LIMIT
    };
    match decode_signal(signal, Some(content_type), encoding, &body, limit) {
        Ok(decoded) => {
            assert!(body.len() <= limit, "a body above the limit was accepted");
            assert_eq!(decoded.body_bytes, body.len());
            assert!(decoded.plain_bytes <= limit, "inflated past the limit");
            if decoded.compression == Compression::None {
                assert_eq!(decoded.plain_bytes, body.len());
            }
            let encoded = decoded.request.encoded_len();
            assert!(
                encoded <= 2 * decoded.plain_bytes + 16,
                "{} body bytes grew to {encoded} protobuf bytes",
                decoded.plain_bytes
            );
            assert_eq!(reencoded(&decoded.request), decoded.request);
        }
        Err(DecodeError::TooLarge { .. }) => {
            assert!(
                body.len() > limit || encoding == Some("gzip"),
                "refused as too large: {} bytes, limit {limit}",
                body.len()
            );
        }
        Err(error) => {
            // Every other refusal is a client error with a message.
            assert!(matches!(error.http_status(), 400 | 415), "{error}");
            assert!(!error.to_string().is_empty());
        }
    }
}

/// The request, through binary protobuf and back.
fn reencoded(request: &AnyRequest) -> AnyRequest {
    fn again<R: Message + Default>(r: &R) -> R {
        R::decode(&r.encode_to_vec()[..]).expect("an encoded request decodes")
    }
    match request {
        AnyRequest::Traces(r) => AnyRequest::Traces(again(r)),
        AnyRequest::Metrics(r) => AnyRequest::Metrics(again(r)),
        AnyRequest::Logs(r) => AnyRequest::Logs(again(r)),
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder =
        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(data)
        .expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_made_inputs_pass_the_checks() {
        http_body(b"");
        http_body(&[0x00]); // empty protobuf trace request
        http_body(b"\x05{}"); // JSON metrics request, `{}`
        http_body(b"\x14{\"resourceSpans\":[{}]}"); // JSON, gzipped here
        http_body(b"\x20not gzip"); // raw bytes that claim gzip
        let mut big = vec![0x40];
        big.extend(std::iter::repeat_n(0u8, SMALL_LIMIT + 1));
        http_body(&big); // above the small limit
    }
}
