//! Signed streaming payloads (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, and `…-PAYLOAD-TRAILER`):
//! S3 uploads whose body is sent in aws-chunked frames, each signed in a chain that starts at
//! the request's own signature, and whose trailing headers (a checksum) are signed last. The
//! signatures are computed with the `aws-sigv4` crate's `sign_chunk` and `sign_trailer`, the
//! ones the SDKs sign with, and compared.

use std::time::SystemTime;

use aws_sigv4::http_request::SigningSettings;
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::http::Headers;

use super::AuthError;
use crate::util::constant_time_eq;

/// The `x-amz-content-sha256` values whose chunks are signed.
pub const SIGNED_STREAMING: [&str; 2] = [
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
];

/// Who signed, and for what scope: what each chunk's signature is computed from.
pub struct Scope<'a> {
    pub access_key_id: &'a str,
    pub secret: &'a str,
    pub time: SystemTime,
    pub region: &'a str,
    pub service: &'a str,
}

/// Verify every chunk signature of `body` (and the trailer's, when `trailer`), the chain
/// starting at `seed`, the request's signature.
pub fn verify(body: &[u8], seed: &str, scope: &Scope<'_>, trailer: bool) -> Result<(), AuthError> {
    let identity = super::signer(scope.access_key_id, scope.secret, None);
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(scope.region)
        .name(scope.service)
        .time(scope.time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| AuthError::Malformed(e.to_string()))?;
    let framed =
        crate::protocol::chunked::read(body).map_err(|e| AuthError::Malformed(e.to_string()))?;
    let mut previous = seed.to_string();
    let last = framed.chunks.len().saturating_sub(1);
    for (i, chunk) in framed.chunks.iter().enumerate() {
        // As S3: every chunk but the last two (the last data chunk and the empty one) holds at
        // least 8 KiB (which also bounds the work a body of many tiny chunks could ask for).
        if i + 1 < last && chunk.data.len() < MIN_CHUNK {
            return Err(AuthError::Malformed(
                "every chunk but the last must hold at least 8192 bytes".into(),
            ));
        }
        let signature = chunk.signature.ok_or(AuthError::Mismatch)?;
        let expected = v4::sign_chunk(
            &bytes::Bytes::copy_from_slice(chunk.data),
            &previous,
            &params,
        )
        .map_err(|e| AuthError::Malformed(e.to_string()))?;
        if !constant_time_eq(expected.signature().as_bytes(), signature.as_bytes()) {
            return Err(AuthError::Mismatch);
        }
        previous = signature.to_string();
    }
    if !trailer {
        // Nothing may follow the last chunk that its signature does not cover.
        return if framed.trailers.is_empty() {
            Ok(())
        } else {
            Err(AuthError::Mismatch)
        };
    }
    let mut headers = Headers::new();
    let mut signature = None;
    for (name, value) in framed.trailers {
        let name = name.to_ascii_lowercase();
        if name == "x-amz-trailer-signature" {
            signature = Some(value);
        } else {
            headers
                .try_insert(name, value)
                .map_err(|_| AuthError::Malformed("a trailer that is not a header".into()))?;
        }
    }
    let signature = signature.ok_or(AuthError::Mismatch)?;
    let expected = v4::sign_trailer(&headers, &previous, &params)
        .map_err(|e| AuthError::Malformed(e.to_string()))?;
    if constant_time_eq(expected.signature().as_bytes(), signature.as_bytes()) {
        Ok(())
    } else {
        Err(AuthError::Mismatch)
    }
}

/// The least a chunk but the last may hold.
const MIN_CHUNK: usize = 8192;

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(time: SystemTime) -> Scope<'static> {
        Scope {
            access_key_id: "AKIDEXAMPLE",
            secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            time,
            region: "us-east-1",
            service: "s3",
        }
    }

    /// A body framed and signed as the SDKs frame and sign it.
    fn signed_body(chunks: &[&[u8]], seed: &str, trailer: Option<(&str, &str)>) -> Vec<u8> {
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_764_000_000);
        let s = scope(time);
        let identity =
            aws_credential_types::Credentials::new(s.access_key_id, s.secret, None, None, "t")
                .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(s.region)
            .name(s.service)
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .unwrap();
        let mut out = Vec::new();
        let mut previous = seed.to_string();
        for data in chunks.iter().copied().chain([&b""[..]]) {
            let sig = v4::sign_chunk(&bytes::Bytes::copy_from_slice(data), &previous, &params)
                .unwrap()
                .signature()
                .to_string();
            out.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", data.len()).as_bytes());
            if !data.is_empty() {
                out.extend_from_slice(data);
                out.extend_from_slice(b"\r\n");
            }
            previous = sig;
        }
        if let Some((k, v)) = trailer {
            let mut h = Headers::new();
            h.insert(k.to_string(), v.to_string());
            let sig = v4::sign_trailer(&h, &previous, &params).unwrap();
            out.extend_from_slice(
                format!(
                    "{k}:{v}\r\nx-amz-trailer-signature:{}\r\n\r\n",
                    sig.signature()
                )
                .as_bytes(),
            );
        }
        out
    }

    fn time() -> SystemTime {
        SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_764_000_000)
    }

    #[test]
    fn signed_chunks_verify_and_tampered_ones_do_not() {
        let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
        let first = vec![b'x'; MIN_CHUNK];
        let body = signed_body(&[&first, b"world"], seed, None);
        assert!(verify(&body, seed, &scope(time()), false).is_ok());
        // Another request's chain, changed data, a made-up signature: refused.
        assert!(verify(&body, &seed.replace('4', "5"), &scope(time()), false).is_err());
        let tampered = String::from_utf8(body.clone())
            .unwrap()
            .replace("world", "WORLD");
        assert!(verify(tampered.as_bytes(), seed, &scope(time()), false).is_err());
        let made_up = b"5;chunk-signature=abc\r\nhello\r\n0;chunk-signature=abc\r\n\r\n";
        assert!(verify(made_up, seed, &scope(time()), false).is_err());
        // Trailers the signatures do not cover, tiny chunks before the last: refused.
        let mut extra = body.clone();
        extra.extend_from_slice(b"x-amz-checksum-crc32c:AAAAAA==\r\n\r\n");
        assert!(verify(&extra, seed, &scope(time()), false).is_err());
        let tiny = signed_body(&[b"hello ", b"world"], seed, None);
        assert!(verify(&tiny, seed, &scope(time()), false).is_err());
        let unsigned = b"5\r\nhello\r\n0\r\n\r\n";
        assert!(verify(unsigned, seed, &scope(time()), false).is_err());
    }

    #[test]
    fn the_trailer_is_signed_too() {
        let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
        let body = signed_body(
            &[b"hello"],
            seed,
            Some(("x-amz-checksum-crc32", "NhCmhg==")),
        );
        assert!(verify(&body, seed, &scope(time()), true).is_ok());
        let forged = String::from_utf8(body)
            .unwrap()
            .replace("NhCmhg==", "AAAAAA==");
        assert!(verify(forged.as_bytes(), seed, &scope(time()), true).is_err());
    }
}
