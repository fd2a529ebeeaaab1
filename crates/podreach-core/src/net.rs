//! Addresses, CIDR blocks, protocols and port ranges, with AWS's spellings and matching rules.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// An IPv4 CIDR block, stored canonically (host bits cleared), as AWS prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr4 {
    pub base: u32,
    pub len: u8,
}

impl Cidr4 {
    pub fn host(addr: Ipv4Addr) -> Cidr4 {
        Cidr4 { base: u32::from(addr), len: 32 }
    }

    pub fn parse(s: &str) -> Option<Cidr4> {
        let s = s.trim();
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, l.parse::<u8>().ok()?),
            None => (s, 32),
        };
        if len > 32 {
            return None;
        }
        let addr: Ipv4Addr = dotted_quad(addr.as_bytes()).or_else(|| addr.parse().ok())?;
        Some(Cidr4 { base: u32::from(addr) & mask4(len), len })
    }

    pub fn first(self) -> u32 {
        self.base
    }

    pub fn last(self) -> u32 {
        self.base | !mask4(self.len)
    }

    pub fn contains_addr(self, addr: u32) -> bool {
        addr & mask4(self.len) == self.base
    }

    /// How `self` relates to `other`: all of `other` inside `self`, none of it, or part of it.
    pub fn cover(self, other: Cidr4) -> Cover {
        if other.first() >= self.first() && other.last() <= self.last() {
            Cover::All
        } else if other.last() < self.first() || other.first() > self.last() {
            Cover::None
        } else {
            Cover::Part
        }
    }

    pub fn is_host(self) -> bool {
        self.len == 32
    }

    /// Always with the prefix length, as AWS prints rule CIDRs (`3.3.3.3/32`).
    /// The smallest block that holds all of `blocks` (`None` for none).
    pub fn covering(blocks: impl IntoIterator<Item = Cidr4>) -> Option<Cidr4> {
        let (lo, hi) = blocks.into_iter().fold(None, |acc: Option<(u32, u32)>, c| match acc {
            None => Some((c.first(), c.last())),
            Some((lo, hi)) => Some((lo.min(c.first()), hi.max(c.last()))),
        })?;
        let len = u8::try_from((lo ^ hi).leading_zeros()).unwrap_or(32);
        Some(Cidr4 { base: lo & mask4(len), len })
    }

    pub fn cidr_string(self) -> String {
        format!("{}/{}", Ipv4Addr::from(self.base), self.len)
    }
}

/// Serialised as AWS prints it: `10.0.1.57` for a host, `10.0.2.32/28` for a block.
impl serde::Serialize for Cidr4 {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Cidr4 {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Cidr4::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not an ipv4 address or cidr: {s}")))
    }
}

impl fmt::Display for Cidr4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.len == 32 {
            write!(f, "{}", Ipv4Addr::from(self.base))
        } else {
            write!(f, "{}/{}", Ipv4Addr::from(self.base), self.len)
        }
    }
}

fn mask4(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    }
}

/// How much of a source block a rule's block covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cover {
    All,
    Part,
    None,
}

/// An IPv6 CIDR block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cidr6 {
    pub base: u128,
    pub len: u8,
}

impl Cidr6 {
    pub fn parse(s: &str) -> Option<Cidr6> {
        let s = s.trim();
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, l.parse::<u8>().ok()?),
            None => (s, 128),
        };
        if len > 128 {
            return None;
        }
        let addr: Ipv6Addr = addr.parse().ok()?;
        let mask = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
        Some(Cidr6 { base: u128::from(addr) & mask, len })
    }
}

impl fmt::Display for Cidr6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv6Addr::from(self.base), self.len)
    }
}

/// An IP protocol as a security-group rule or NACL entry names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Proto {
    /// `-1`: every protocol.
    All,
    /// A protocol number: 6 tcp, 17 udp, 1 icmp, 58 icmpv6, anything else by number.
    Num(u8),
}

pub const TCP: u8 = 6;
pub const UDP: u8 = 17;
pub const ICMP: u8 = 1;
pub const ICMPV6: u8 = 58;

impl Proto {
    /// Parses `tcp`, `6`, `-1`, `all`, `icmp`, `50`, … (case-insensitive).
    pub fn parse(s: &str) -> Option<Proto> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "-1" | "all" => Some(Proto::All),
            "tcp" => Some(Proto::Num(TCP)),
            "udp" => Some(Proto::Num(UDP)),
            "icmp" => Some(Proto::Num(ICMP)),
            "icmpv6" | "ipv6-icmp" => Some(Proto::Num(ICMPV6)),
            other => other.parse::<u8>().ok().map(Proto::Num),
        }
    }

    pub fn has_ports(self) -> bool {
        matches!(self, Proto::Num(TCP) | Proto::Num(UDP))
    }

    pub fn is_icmp(self) -> bool {
        matches!(self, Proto::Num(ICMP) | Proto::Num(ICMPV6))
    }

    /// The spelling for `aws` command lines (`tcp`, `udp`, `icmp`, `-1`, `50`).
    pub fn cli(self) -> String {
        match self {
            Proto::All => "-1".to_owned(),
            Proto::Num(n) => match n {
                TCP => "tcp".to_owned(),
                UDP => "udp".to_owned(),
                ICMP => "icmp".to_owned(),
                ICMPV6 => "icmpv6".to_owned(),
                other => other.to_string(),
            },
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Proto::All => f.write_str("all"),
            Proto::Num(_) => f.write_str(&self.cli()),
        }
    }
}

/// An inclusive range of ports (or, for ICMP, of types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ports {
    pub from: u16,
    pub to: u16,
}

impl Ports {
    pub const ALL: Ports = Ports { from: 0, to: 65535 };
    /// Linux clients' ephemeral ports (`ip_local_port_range` default).
    pub const EPHEMERAL: Ports = Ports { from: 32768, to: 60999 };

    pub fn one(p: u16) -> Ports {
        Ports { from: p, to: p }
    }

    pub fn contains(self, p: u16) -> bool {
        self.from <= p && p <= self.to
    }

    pub fn covers(self, other: Ports) -> bool {
        self.from <= other.from && other.to <= self.to
    }

    pub fn overlaps(self, other: Ports) -> bool {
        self.from <= other.to && other.from <= self.to
    }
}

impl fmt::Display for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.from)
        } else if *self == Ports::ALL {
            f.write_str("all ports")
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}

/// The traffic being asked about: a protocol and, for tcp/udp, a port (for icmp, a type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    pub proto: Proto,
    /// tcp/udp destination port, or the icmp type; `None` for other protocols.
    pub port: Option<u16>,
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.proto, self.port) {
            (Proto::All, _) => f.write_str("all traffic"),
            (p, Some(port)) if p.has_ports() => write!(f, "{p}/{port}"),
            (p, Some(t)) if p.is_icmp() => write!(f, "{p} type {t}"),
            (p, _) => write!(f, "{p}"),
        }
    }
}

/// Parses an IPv4 address, tolerating surrounding white space.
pub fn parse_v4(s: &str) -> Option<Ipv4Addr> {
    // The common spelling first: it has no spaces to trim.
    if let Some(ip) = dotted_quad(s.as_bytes()) {
        return Some(ip);
    }
    let s = s.trim();
    dotted_quad(s.as_bytes()).or_else(|| s.parse().ok())
}

/// The common spelling, `a.b.c.d` with no leading zeros, read without the standard parser's
/// generality (a whole-account export holds hundreds of thousands of addresses). `None` for
/// anything else, which the standard parser then decides.
fn dotted_quad(b: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut n = 0usize;
    let (mut v, mut digits) = (0u32, 0u32);
    for &c in b {
        if c.is_ascii_digit() {
            // A second digit after a leading zero, or a fourth digit: not the common spelling.
            if (digits == 1 && v == 0) || digits == 3 {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
            digits += 1;
        } else if c == b'.' && digits > 0 {
            *octets.get_mut(n)? = u8::try_from(v).ok()?;
            n += 1;
            (v, digits) = (0, 0);
        } else {
            return None;
        }
    }
    if n != 3 || digits == 0 {
        return None;
    }
    *octets.get_mut(3)? = u8::try_from(v).ok()?;
    Some(Ipv4Addr::from(octets))
}

pub fn parse_v6(s: &str) -> Option<Ipv6Addr> {
    s.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covering_is_the_smallest_block_holding_all() {
        let c = |s: &str| Cidr4::parse(s).unwrap();
        assert_eq!(Cidr4::covering([]), None);
        assert_eq!(Cidr4::covering([c("10.0.1.10")]), Some(c("10.0.1.10/32")));
        assert_eq!(Cidr4::covering([c("10.0.1.10"), c("10.0.1.20")]), Some(c("10.0.1.0/27")));
        assert_eq!(Cidr4::covering([c("10.0.1.0/24"), c("10.0.2.0/24")]), Some(c("10.0.0.0/22")));
        assert_eq!(Cidr4::covering([c("10.0.0.0/8"), c("10.200.3.4")]), Some(c("10.0.0.0/8")));
        assert_eq!(Cidr4::covering([c("0.0.0.1"), c("255.0.0.0")]), Some(c("0.0.0.0/0")));
    }

    #[test]
    fn dotted_quad_agrees_with_the_standard_parser() {
        let cases = [
            "10.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "256.0.0.1",
            "10.0.0",
            "10.0.0.1.2",
            "010.0.0.1",
            "1..2.3",
            "10.0.0.1 ",
            " 10.0.0.1",
            "a.b.c.d",
            "1.2.3.04",
            "1.2.3.-4",
            "1.2.3.+4",
            "",
            ".",
            "1.2.3.",
            "999.1.1.1",
            "0.00.0.0",
            "192.168.1.100",
        ];
        for c in cases {
            assert_eq!(parse_v4(c), c.trim().parse::<Ipv4Addr>().ok(), "{c:?}");
            if let Some(fast) = dotted_quad(c.as_bytes()) {
                assert_eq!(Some(fast), c.parse::<Ipv4Addr>().ok(), "{c:?}");
            }
        }
        for n in (0u32..=u32::MAX).step_by(65_521) {
            let ip = Ipv4Addr::from(n);
            assert_eq!(dotted_quad(ip.to_string().as_bytes()), Some(ip));
        }
    }

    #[test]
    fn cidr_is_canonical_and_covers() {
        let c = Cidr4::parse("100.68.0.18/18").unwrap();
        assert_eq!(c.to_string(), "100.68.0.0/18");
        let p = Cidr4::parse("10.0.2.32/28").unwrap();
        assert_eq!(Cidr4::parse("10.0.0.0/16").unwrap().cover(p), Cover::All);
        assert_eq!(Cidr4::parse("10.0.2.40/29").unwrap().cover(p), Cover::Part);
        assert_eq!(Cidr4::parse("10.1.0.0/16").unwrap().cover(p), Cover::None);
        assert_eq!(Cidr4::parse("0.0.0.0/0").unwrap().cover(p), Cover::All);
        assert!(Cidr4::parse("10.0.0.0/33").is_none());
    }

    #[test]
    fn protocol_spellings() {
        assert_eq!(Proto::parse("6"), Proto::parse("TCP"));
        assert_eq!(Proto::parse("-1"), Some(Proto::All));
        assert_eq!(Proto::parse("50"), Some(Proto::Num(50)));
        assert_eq!(Proto::parse("bogus"), None);
        assert_eq!(Proto::Num(6).cli(), "tcp");
    }
}
