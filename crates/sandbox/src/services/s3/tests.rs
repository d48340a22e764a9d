//! Unit tests of S3's request reading and naming rules.

use super::ops::buckets::valid_bucket_name;
use super::ops::objects::parse_range;
use super::request::{decode_aws_chunked, parse_xml};

#[test]
fn bucket_names() {
    for ok in ["abc", "kmsworkshop-111122223333", "a.b-c", "my.bucket.1"] {
        assert!(valid_bucket_name(ok), "{ok}");
    }
    for bad in [
        "ab",
        "ABC",
        "-abc",
        "abc-",
        "a..b",
        "192.168.1.1",
        "xn--abc",
        "a_b",
        "a.-b",
        &"a".repeat(64),
    ] {
        assert!(!valid_bucket_name(bad), "{bad}");
    }
}

#[test]
fn aws_chunked_with_trailer() {
    let body = b"5\r\nhello\r\n6;chunk-signature=abc\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
    let (data, trailers) = decode_aws_chunked(body).unwrap();
    assert_eq!(data, b"hello world");
    assert_eq!(
        trailers,
        vec![("x-amz-checksum-crc32".to_string(), "DUoRhQ==".to_string())]
    );
    for bad in [
        &b"5\r\nhel"[..],
        b"zz\r\n",
        b"5\r\nhelloXX0\r\n",
        b"ffffffffffffffff\r\nx",
    ] {
        assert!(decode_aws_chunked(bad).is_err());
    }
}

#[test]
fn xml_bodies() {
    let d = parse_xml(b"<?xml version=\"1.0\"?><Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>a&amp;b</Key></Object><Object><Key>c</Key><VersionId>v</VersionId></Object><Quiet>true</Quiet></Delete>").unwrap();
    assert_eq!(d.name, "Delete");
    let keys: Vec<_> = d
        .children("Object")
        .map(|o| o.text_of("Key").unwrap())
        .collect();
    assert_eq!(keys, ["a&b", "c"]);
    for bad in [&b"<a>"[..], b"<a></b>", b"", b"text", b"<a/><b/>", b"\xff"] {
        assert!(parse_xml(bad).is_err(), "{:?}", bad);
    }
}

#[test]
fn ranges() {
    assert_eq!(parse_range("bytes=0-4", 10), Some(Ok((0, 4))));
    assert_eq!(parse_range("bytes=5-", 10), Some(Ok((5, 9))));
    assert_eq!(parse_range("bytes=-3", 10), Some(Ok((7, 9))));
    assert_eq!(parse_range("bytes=20-", 10), Some(Err(())));
    assert_eq!(parse_range("bytes=0-1,3-4", 10), None);
}
