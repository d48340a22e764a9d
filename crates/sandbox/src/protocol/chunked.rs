//! The aws-chunked body framing S3 streaming uploads use:
//! `hex-size[;chunk-signature=…]\r\n data \r\n … 0[;chunk-signature=…]\r\n trailer: value\r\n \r\n`.
//! One reader serves both who read it: the signature check ([`crate::auth::chunks`]) and S3's
//! payload, so the two can never see different chunks or trailers in the same body.

/// One chunk: its bytes (empty for the last) and its signature, when signed.
pub struct Chunk<'a> {
    pub data: &'a [u8],
    pub signature: Option<&'a str>,
}

/// A body read as aws-chunked: every chunk, the last (empty) one included, and the trailing
/// headers in their order.
pub struct Framed<'a> {
    pub chunks: Vec<Chunk<'a>>,
    pub trailers: Vec<(String, String)>,
}

/// A body that is not valid aws-chunked framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the body is not valid aws-chunked encoding")]
pub struct NotChunked;

/// Read `body`; [`NotChunked`] when it is not valid aws-chunked framing: a bad chunk head, a chunk
/// shorter than its size or without its CRLF, a trailer line without `:`, a trailer named
/// twice (a second value could be read where the signed one was not), or anything after the
/// end of the framing.
pub fn read(body: &[u8]) -> Result<Framed<'_>, NotChunked> {
    let mut chunks = Vec::new();
    let mut pos = 0usize;
    loop {
        let (head, next) = line(body, pos).ok_or(NotChunked)?;
        let head = std::str::from_utf8(head).map_err(|_| NotChunked)?;
        let (size, signature) = match head.split_once(';') {
            Some((size, ext)) => (size, ext.strip_prefix("chunk-signature=").map(str::trim)),
            None => (head, None),
        };
        let size = usize::from_str_radix(size.trim(), 16).map_err(|_| NotChunked)?;
        let end = next.checked_add(size).ok_or(NotChunked)?;
        let data = body.get(next..end).ok_or(NotChunked)?;
        chunks.push(Chunk { data, signature });
        if size == 0 {
            pos = next;
            break;
        }
        if body.get(end..end + 2) != Some(b"\r\n") {
            return Err(NotChunked);
        }
        pos = end + 2;
    }
    let mut trailers: Vec<(String, String)> = Vec::new();
    while let Some((text, next)) = line(body, pos) {
        pos = next;
        if text.is_empty() {
            break;
        }
        let text = String::from_utf8_lossy(text);
        let (k, v) = text.split_once(':').ok_or(NotChunked)?;
        if trailers
            .iter()
            .any(|(seen, _)| seen.eq_ignore_ascii_case(k.trim()))
        {
            return Err(NotChunked);
        }
        trailers.push((k.trim().to_string(), v.trim().to_string()));
    }
    if pos != body.len() {
        return Err(NotChunked);
    }
    Ok(Framed { chunks, trailers })
}

/// The line that starts at `pos` (up to CRLF) and where the next one starts.
fn line(body: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = body.get(pos..)?;
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    Some((&rest[..end], pos + end + 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_is_read_whole_or_refused() {
        let body = b"5;chunk-signature=ab\r\nhello\r\n0;chunk-signature=cd\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
        let f = read(body).expect("framed");
        assert_eq!(f.chunks.len(), 2);
        assert_eq!(f.chunks[0].data, b"hello");
        assert_eq!(f.chunks[1].signature, Some("cd"));
        assert_eq!(
            f.trailers,
            vec![("x-amz-checksum-crc32".into(), "NhCmhg==".into())]
        );
        assert!(read(b"5\r\nhello\r\n0\r\n").is_ok());
        for bad in [
            &b"5\r\nhell"[..],
            b"5\r\nhelloX\r\n0\r\n\r\n",
            b"zz\r\n",
            b"0\r\na:1\r\nA:2\r\n\r\n",
            b"0\r\nno-colon\r\n\r\n",
            b"0\r\n\r\nafter the end",
        ] {
            assert!(read(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
