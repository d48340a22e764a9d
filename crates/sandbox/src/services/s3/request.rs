//! Reading S3 requests, in one place: headers, the payload (`aws-chunked` framing removed,
//! Content-MD5 and `x-amz-checksum-*` checked) and the XML documents some operations send.

use base64::Engine;
use http::HeaderMap;
use md5::{Digest, Md5};
use quick_xml::events::Event;

use super::errors::{bad_digest, err, incomplete_body, malformed_xml};
use crate::protocol::restxml::RestRequest;
use crate::protocol::AwsError;

pub(super) fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

// ---------------------------------------------------------------------------------------------
// Payloads: aws-chunked decoding and checksums.

/// Checksum algorithms S3 accepts, by the suffix of their `x-amz-checksum-…` header.
const CHECKSUMS: &[(&str, &str)] = &[
    ("crc32", "CRC32"),
    ("crc32c", "CRC32C"),
    ("crc64nvme", "CRC64NVME"),
    ("sha1", "SHA1"),
    ("sha256", "SHA256"),
];

/// The payload of a request, with `aws-chunked` framing removed and checksums checked.
pub fn payload(req: &RestRequest) -> Result<Vec<u8>, AwsError> {
    payload_checked(req).map(|(data, _)| data)
}

/// A checksum as sent: (algorithm, base64 value).
pub(super) type Checksum = Option<(String, String)>;

/// The payload and the checksum it came with. CRC32, SHA-1 and SHA-256 are verified; CRC32C
/// and CRC64NVME are kept as sent.
pub(super) fn payload_checked(req: &RestRequest) -> Result<(Vec<u8>, Checksum), AwsError> {
    let sha = header(&req.headers, "x-amz-content-sha256").unwrap_or("");
    let chunked = sha.starts_with("STREAMING-")
        || header(&req.headers, "content-encoding")
            .is_some_and(|c| c.split(',').any(|p| p.trim() == "aws-chunked"));
    let mut trailers: Trailers = Vec::new();
    let data = if chunked {
        let (data, t) = decode_aws_chunked(&req.body)?;
        trailers = t;
        if let Some(n) = header(&req.headers, "x-amz-decoded-content-length") {
            if n.trim().parse::<usize>().ok() != Some(data.len()) {
                return Err(incomplete_body("The request body terminated unexpectedly"));
            }
        }
        data
    } else {
        req.body.to_vec()
    };
    check_md5(&req.headers, &data)?;
    let checksum = checksum_of(&req.headers, &trailers, &data)?;
    Ok((data, checksum))
}

fn check_md5(headers: &HeaderMap, data: &[u8]) -> Result<(), AwsError> {
    let Some(md5) = header(headers, "content-md5") else {
        return Ok(());
    };
    let want = base64::engine::general_purpose::STANDARD
        .decode(md5.trim())
        .ok();
    let got = Md5::digest(data);
    match want {
        None => Err(err(
            400,
            "InvalidDigest",
            "The Content-MD5 you specified was invalid.",
        )),
        Some(w) if w.as_slice() != got.as_slice() => Err(bad_digest(
            "The Content-MD5 you specified did not match what we received.",
        )),
        _ => Ok(()),
    }
}

/// The first `x-amz-checksum-*` header or trailer sent, checked where the sandbox can.
fn checksum_of(
    headers: &HeaderMap,
    trailers: &Trailers,
    data: &[u8],
) -> Result<Checksum, AwsError> {
    for (suffix, alg) in CHECKSUMS {
        let name = format!("x-amz-checksum-{suffix}");
        let sent = header(headers, &name).map(str::to_string).or_else(|| {
            trailers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&name))
                .map(|(_, v)| v.clone())
        });
        let Some(want) = sent else { continue };
        let want = want.trim().to_string();
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let got = match *alg {
            "CRC32" => Some(b64(&crc32fast::hash(data).to_be_bytes())),
            "SHA1" => Some(b64(&sha1::Sha1::digest(data))),
            "SHA256" => Some(b64(&sha2::Sha256::digest(data))),
            _ => None,
        };
        if got.is_some_and(|g| g != want) {
            return Err(bad_digest(&format!(
                "The {alg} you specified did not match the calculated checksum."
            )));
        }
        return Ok(Some((alg.to_string(), want)));
    }
    Ok(None)
}

/// Trailing headers of an aws-chunked body (checksums).
type Trailers = Vec<(String, String)>;

/// The payload and trailers of an aws-chunked body ([`crate::protocol::chunked`]).
pub(super) fn decode_aws_chunked(body: &[u8]) -> Result<(Vec<u8>, Trailers), AwsError> {
    let framed = crate::protocol::chunked::read(body)
        .map_err(|_| incomplete_body("The request body is not valid aws-chunked encoding"))?;
    let data = framed.chunks.iter().flat_map(|c| c.data).copied().collect();
    Ok((data, framed.trailers))
}

// ---------------------------------------------------------------------------------------------
// XML documents in request bodies.

/// An element of a request document: its local name, text and children.
#[derive(Debug, Default)]
pub struct Node {
    pub(super) name: String,
    pub(super) text: String,
    pub(super) children: Vec<Node>,
}

impl Node {
    pub(super) fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
    pub(super) fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    pub(super) fn text_of(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.trim().to_string())
    }
}

/// The request's XML document, whose root must be `root`.
pub(super) fn xml_body(req: &RestRequest, root: &str) -> Result<Node, AwsError> {
    let doc = parse_xml(&payload(req)?)?;
    if doc.name != root {
        return Err(malformed_xml());
    }
    Ok(doc)
}

/// As [`xml_body`], for operations whose document may be left out (an empty or blank body).
pub(super) fn optional_xml_body(req: &RestRequest, root: &str) -> Result<Option<Node>, AwsError> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let body = payload(req)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let doc = parse_xml(&body)?;
    if doc.name != root {
        return Err(malformed_xml());
    }
    Ok(Some(doc))
}

/// Read an XML request document into a tree (namespaces dropped, depth bounded).
pub fn parse_xml(body: &[u8]) -> Result<Node, AwsError> {
    let text = std::str::from_utf8(body).map_err(|_| malformed_xml())?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let local = |raw: &[u8]| -> String {
        let s = String::from_utf8_lossy(raw);
        s.rsplit(':').next().unwrap_or("").to_string()
    };
    let mut root: Option<Node> = None;
    loop {
        match reader.read_event().map_err(|_| malformed_xml())? {
            Event::Start(e) => {
                if stack.len() > 32 {
                    return Err(malformed_xml());
                }
                stack.push(Node {
                    name: local(e.name().as_ref()),
                    ..Node::default()
                });
            }
            Event::Empty(e) => {
                let n = Node {
                    name: local(e.name().as_ref()),
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None if root.is_none() => root = Some(n),
                    None => return Err(malformed_xml()),
                }
            }
            Event::End(_) => {
                let n = stack.pop().ok_or_else(malformed_xml)?;
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None if root.is_none() => root = Some(n),
                    None => return Err(malformed_xml()),
                }
            }
            Event::Text(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.decode().map_err(|_| malformed_xml())?);
                } else if !t.decode().map_err(|_| malformed_xml())?.trim().is_empty() {
                    return Err(malformed_xml());
                }
            }
            Event::CData(t) => {
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&t.decode().map_err(|_| malformed_xml())?);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(|_| malformed_xml())? {
                    Some(c) => c.to_string(),
                    None => match r.decode().map_err(|_| malformed_xml())?.as_ref() {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        _ => return Err(malformed_xml()),
                    },
                };
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(malformed_xml());
    }
    root.ok_or_else(malformed_xml)
}
