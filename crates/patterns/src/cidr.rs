//! IP addresses and CIDR blocks, as event-ruler (EventBridge's engine) reads them.
//!
//! Quirks kept on purpose because AWS has them: a CIDR block's range starts at the address as
//! written (`10.0.0.5/24` covers `10.0.0.5`–`10.0.0.255`, not the whole network), the mask must be
//! below the address width (`/32` and `/128` are rejected), and an IPv4-mapped IPv6 address is the
//! IPv4 address.

use std::net::{Ipv4Addr, Ipv6Addr};

/// An address as its big-endian bytes: 4 for IPv4, 16 for IPv6.
pub(crate) type IpBytes = Vec<u8>;

/// Whether `s` has the shape of an IP literal (event-ruler checks this before parsing, so that a
/// host name is never looked up): four dot-separated decimal runs, or hex digits and colons with
/// at least one colon.
fn looks_like_ip(s: &str) -> bool {
    looks_like_ipv4(s) || looks_like_ipv6(s)
}

fn looks_like_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn looks_like_ipv6(s: &str) -> bool {
    s.contains(':') && s.bytes().all(|b| b == b':' || b.is_ascii_hexdigit())
}

/// Why an address could not be read; the text is AWS's reason.
fn parse_ip(s: &str) -> Result<IpBytes, String> {
    if !looks_like_ip(s) {
        return Err(format!("Nonstandard IP address: {s}"));
    }
    if looks_like_ipv4(s) {
        return s
            .parse::<Ipv4Addr>()
            .map(|a| a.octets().to_vec())
            .map_err(|_| format!("Invalid IP address: {s}"));
    }
    let v6 = s
        .parse::<Ipv6Addr>()
        .map_err(|_| format!("Invalid IP address: {s}"))?;
    Ok(match v6.to_ipv4_mapped() {
        Some(v4) => v4.octets().to_vec(),
        None => v6.octets().to_vec(),
    })
}

/// The address an event's string value denotes, if it is an IP literal.
pub(crate) fn event_ip(s: &str) -> Option<IpBytes> {
    parse_ip(s).ok()
}

/// An IP literal used as a plain pattern value (`"sourceIPAddress": ["10.0.0.1"]`): event-ruler
/// compares such values as addresses, so `"::ffff:a00:1"` in an event matches it too.
pub(crate) fn literal_ip(s: &str) -> Option<IpBytes> {
    if looks_like_ip(s) {
        parse_ip(s).ok()
    } else {
        None
    }
}

/// An inclusive range of addresses of one width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IpRange {
    pub(crate) low: IpBytes,
    pub(crate) high: IpBytes,
}

impl IpRange {
    pub(crate) fn contains(&self, ip: &[u8]) -> bool {
        ip.len() == self.low.len() && self.low.as_slice() <= ip && ip <= self.high.as_slice()
    }
}

/// Splits like Java's `String.split("/")`: trailing empty pieces are dropped.
fn java_split_slash(s: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split('/').collect();
    if s.is_empty() {
        return parts;
    }
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// Reads a `cidr` operand; the error is AWS's reason text.
pub(crate) fn parse_cidr(s: &str) -> Result<IpRange, String> {
    let parts = java_split_slash(s);
    let [address, mask] = parts.as_slice() else {
        return Err("Malformed CIDR, one '/' required".to_owned());
    };
    let mask: i32 = mask
        .parse()
        .map_err(|_| "Malformed CIDR, mask bits must be an integer".to_owned())?;
    if mask < 0 {
        return Err("Malformed CIDR, mask bits must not be negative".to_owned());
    }
    let low = parse_ip(address)?;
    let width = low.len() * 8;
    if low.len() == 4 && mask > 31 {
        return Err("IPv4 mask bits must be < 32".to_owned());
    }
    if low.len() == 16 && mask > 127 {
        return Err("IPv6 mask bits must be < 128".to_owned());
    }
    // Set every host bit (the `width - mask` lowest bits) in the top of the range.
    let mut high = low.clone();
    let mut host_bits = width.saturating_sub(usize::try_from(mask).unwrap_or(width));
    for byte in high.iter_mut().rev() {
        if host_bits == 0 {
            break;
        }
        let take = host_bits.min(8);
        *byte |= ((1u16 << take) - 1) as u8;
        host_bits -= take;
    }
    Ok(IpRange { low, high })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(cidr: &str, ip: &str) -> bool {
        parse_cidr(cidr).unwrap().contains(&event_ip(ip).unwrap())
    }

    #[test]
    fn ipv4_blocks() {
        assert!(contains("10.0.0.0/24", "10.0.0.255"));
        assert!(contains("10.0.0.0/24", "10.0.0.0"));
        assert!(!contains("10.0.0.0/24", "10.0.1.0"));
        assert!(contains("10.0.0.0/8", "10.255.3.4"));
        assert!(contains("0.0.0.0/0", "255.255.255.255"));
        assert!(!contains("192.168.1.7/31", "192.168.1.6"));
        assert!(contains("192.168.1.6/31", "192.168.1.7"));
    }

    #[test]
    fn range_starts_at_the_written_address() {
        assert!(!contains("10.0.0.5/24", "10.0.0.4"));
        assert!(contains("10.0.0.5/24", "10.0.0.5"));
        assert!(contains("10.0.0.5/24", "10.0.0.200"));
    }

    #[test]
    fn ipv6_blocks() {
        assert!(contains(
            "2001:db8:1234:1a00::/64",
            "2001:0db8:1234:1a00:0000:0000:0000:0000"
        ));
        assert!(contains(
            "2001:db8:1234:1a00::/64",
            "2001:db8:1234:1a00:ffff:ffff:ffff:ffff"
        ));
        assert!(!contains(
            "2001:db8:1234:1a00::/64",
            "2001:0db8:123f:1a01::"
        ));
        assert!(!contains("2001:db8::/32", "10.0.0.1"));
        assert!(!contains("10.0.0.0/8", "2001:db8::1"));
    }

    #[test]
    fn ipv4_mapped_ipv6_is_ipv4() {
        assert!(contains("10.0.0.0/8", "::ffff:a00:1"));
    }

    #[test]
    fn malformed_blocks_have_aws_reasons() {
        let reason = |s: &str| parse_cidr(s).unwrap_err();
        assert_eq!(reason("bad-filter"), "Malformed CIDR, one '/' required");
        assert_eq!(reason("10.0.0.0/"), "Malformed CIDR, one '/' required");
        assert_eq!(reason("1/2/3"), "Malformed CIDR, one '/' required");
        assert_eq!(
            reason("bad-/64filter"),
            "Malformed CIDR, mask bits must be an integer"
        );
        assert_eq!(
            reason("10.0.0.0/-1"),
            "Malformed CIDR, mask bits must not be negative"
        );
        assert_eq!(reason("xx.11.xx/8"), "Nonstandard IP address: xx.11.xx");
        assert_eq!(
            reason("xxxx:db8:1234:1a00::/64"),
            "Nonstandard IP address: xxxx:db8:1234:1a00::"
        );
        assert_eq!(reason("999.0.0.0/8"), "Invalid IP address: 999.0.0.0");
        assert_eq!(reason("1:2/64"), "Invalid IP address: 1:2");
        assert_eq!(reason("10.0.0.0/32"), "IPv4 mask bits must be < 32");
        assert_eq!(reason("::1/128"), "IPv6 mask bits must be < 128");
    }

    #[test]
    fn event_values_that_are_not_addresses() {
        assert_eq!(event_ip("10.0.0.256"), None);
        assert_eq!(event_ip("hello"), None);
        assert_eq!(event_ip(""), None);
        assert_eq!(literal_ip("1.2.3"), None);
    }
}
