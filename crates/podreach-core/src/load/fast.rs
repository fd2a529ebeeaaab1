//! Hand-written readers for the elements that make most of a whole-account export: an ENI as
//! `describe-network-interfaces` prints it (half the bytes at 5,000 nodes), a kubectl item (a
//! pod or a node; pods are most of the rest) and a security group as `describe-security-groups`
//! prints it (the next largest).
//!
//! serde's derived reader for an ENI is generic over every lenient wrapper and compiles to one
//! large function; these read the fields podreach keeps straight from the text, compare keys and
//! scan strings eight bytes at a time, and skip everything else in place (BENCHMARKS.md, item 42).
//!
//! They are never trusted beyond what they are sure of: each known field must have the JSON type
//! the AWS CLI or kubectl prints for it (or `null`), each key must come once and be unescaped,
//! and the JSON must be well-formed everywhere, skipped values included. Anything else (a number
//! where a string belongs, a key given twice, a syntax error, a lone surrogate) returns `None`, and
//! the caller reads the element with serde, so every coercion, drop and message still comes from
//! one place. Where a reader returns a value, the value and the offset where it stopped are
//! serde's: the tests compare the two on every text one byte away from an ENI, a pod and a node,
//! the corpus tests on every input, and the fuzz target on any bytes.

use crate::aws::{
    Association, Attachment, GroupIdentifier, IpPermission, IpRange, Ipv4PrefixSpec, Ipv6Addr, Ipv6PrefixSpec,
    Ipv6Range, K8sObject, K8sSpec, K8sStatus, NetworkInterface, NodeAddress, ObjectMeta, OwnerReference, PodIp,
    PrefixListId, PrivateIp, SecurityGroup, Tag, UserIdGroupPair,
};
use crate::lenient::{meta_keys, Field, Ip, List, Obj, StrMap};
use std::borrow::Cow;

/// Reads the `NetworkInterface` object that starts at `at` (its `{`, white space allowed before
/// it). Returns it and the offset one past its `}`, or `None` when serde must decide.
///
/// A call per element, in a browser too: V8 optimises a function while it runs, and a call keeps
/// the code it began with (`lenient::next_obj`).
#[cfg_attr(target_arch = "wasm32", inline(never))]
pub(crate) fn network_interface(text: &str, at: usize) -> Option<(NetworkInterface, usize)> {
    let mut c = Cursor { text, at };
    let read = c.fields(|c, e: &mut NetworkInterface, seen, key| match key {
        k if same(k, "NetworkInterfaceId") => seen.put(0, &mut e.network_interface_id, c.string()),
        k if same(k, "VpcId") => seen.put(1, &mut e.vpc_id, c.string()),
        k if same(k, "SubnetId") => seen.put(2, &mut e.subnet_id, c.string()),
        k if same(k, "AvailabilityZone") => seen.put(3, &mut e.availability_zone, c.string()),
        k if same(k, "Description") => seen.put(4, &mut e.description, c.string()),
        k if same(k, "InterfaceType") => seen.put(5, &mut e.interface_type, c.string()),
        k if same(k, "Groups") => seen.put(6, &mut e.groups, c.list(group)),
        k if same(k, "PrivateIpAddress") => seen.put(7, &mut e.private_ip_address, c.ip()),
        k if same(k, "PrivateIpAddresses") => seen.put(8, &mut e.private_ip_addresses, c.list(private_ip)),
        k if same(k, "Ipv4Prefixes") => seen.put(9, &mut e.ipv4_prefixes, c.list(ipv4_prefix)),
        k if same(k, "Ipv6Addresses") => seen.put(10, &mut e.ipv6_addresses, c.list(ipv6_address)),
        k if same(k, "Ipv6Prefixes") => seen.put(11, &mut e.ipv6_prefixes, c.list(ipv6_prefix)),
        k if same(k, "Attachment") => seen.put(12, &mut e.attachment, c.optional(attachment)),
        k if same(k, "RequesterId") => seen.put(13, &mut e.requester_id, c.string()),
        k if same(k, "RequesterManaged") => seen.put(14, &mut e.requester_managed, c.boolean()),
        k if same(k, "TagSet") => seen.put(15, &mut e.tag_set, c.kept_list(tag)),
        k if same(k, "Association") => seen.put(16, &mut e.association, c.optional(association)),
        _ => c.skip(),
    })?;
    Some((read, c.at))
}

fn group(c: &mut Cursor<'_>) -> Option<GroupIdentifier> {
    c.fields(|c, g: &mut GroupIdentifier, seen, key| match key {
        k if same(k, "GroupId") => seen.put(0, &mut g.group_id, c.string()),
        k if same(k, "GroupName") => seen.put(1, &mut g.group_name, c.string()),
        _ => c.skip(),
    })
}

fn private_ip(c: &mut Cursor<'_>) -> Option<PrivateIp> {
    c.fields(|c, p: &mut PrivateIp, seen, key| match key {
        k if same(k, "PrivateIpAddress") => seen.put(0, &mut p.private_ip_address, c.ip()),
        k if same(k, "Primary") => seen.put(1, &mut p.primary, c.boolean()),
        _ => c.skip(),
    })
}

fn ipv4_prefix(c: &mut Cursor<'_>) -> Option<Ipv4PrefixSpec> {
    c.fields(|c, p: &mut Ipv4PrefixSpec, seen, key| match key {
        k if same(k, "Ipv4Prefix") => seen.put(0, &mut p.ipv4_prefix, c.string()),
        _ => c.skip(),
    })
}

fn ipv6_address(c: &mut Cursor<'_>) -> Option<Ipv6Addr> {
    c.fields(|c, a: &mut Ipv6Addr, seen, key| match key {
        k if same(k, "Ipv6Address") => seen.put(0, &mut a.ipv6_address, c.string()),
        _ => c.skip(),
    })
}

fn ipv6_prefix(c: &mut Cursor<'_>) -> Option<Ipv6PrefixSpec> {
    c.fields(|c, p: &mut Ipv6PrefixSpec, seen, key| match key {
        k if same(k, "Ipv6Prefix") => seen.put(0, &mut p.ipv6_prefix, c.string()),
        _ => c.skip(),
    })
}

fn attachment(c: &mut Cursor<'_>) -> Option<Attachment> {
    c.fields(|c, a: &mut Attachment, seen, key| match key {
        k if same(k, "InstanceId") => seen.put(0, &mut a.instance_id, c.string()),
        k if same(k, "InstanceOwnerId") => seen.put(1, &mut a.instance_owner_id, c.string()),
        k if same(k, "DeviceIndex") => seen.put(2, &mut a.device_index, c.int()),
        k if same(k, "NetworkCardIndex") => seen.put(3, &mut a.network_card_index, c.int()),
        _ => c.skip(),
    })
}

/// An ENI's tag, `Some(None)` when its key is not one podreach reads ([`crate::model::ENI_TAGS`],
/// as `aws::eni_tags` cuts serde's list): its text is checked but not kept.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn tag<'t>(c: &mut Cursor<'t>) -> Option<Option<Tag>> {
    let (key, value) = c.fields(|c, t: &mut (Field<Cow<'t, str>>, Field<Cow<'t, str>>), seen, key| match key {
        k if same(k, "Key") => seen.put(0, &mut t.0, c.text()),
        k if same(k, "Value") => seen.put(1, &mut t.1, c.text()),
        _ => c.skip(),
    })?;
    let kept = matches!(&key, Field::Value(k) if crate::model::ENI_TAGS.contains(&k.as_ref()));
    Some(kept.then(|| Tag { key: owned(key), value: owned(value) }))
}

/// A text field read by [`Cursor::text`] (a value or absent), its text owned.
fn owned(f: Field<Cow<'_, str>>) -> Field<String> {
    match f {
        Field::Value(v) => Field::Value(v.into_owned()),
        _ => Field::Absent,
    }
}

fn association(c: &mut Cursor<'_>) -> Option<Association> {
    c.fields(|c, a: &mut Association, seen, key| match key {
        k if same(k, "PublicIp") => seen.put(0, &mut a.public_ip, c.ip()),
        _ => c.skip(),
    })
}

/// Reads the kubectl item (a pod or a node) that starts at `at`, as [`network_interface`] reads
/// an ENI.
#[cfg_attr(target_arch = "wasm32", inline(never))]
pub(crate) fn k8s_object(text: &str, at: usize) -> Option<(K8sObject, usize)> {
    let mut c = Cursor { text, at };
    let read = c.fields(|c, o: &mut K8sObject, seen, key| match key {
        k if same(k, "kind") => seen.put(0, &mut o.kind, c.string()),
        k if same(k, "metadata") => seen.put(1, &mut o.metadata, c.optional(metadata)),
        k if same(k, "spec") => seen.put(2, &mut o.spec, c.optional(spec)),
        k if same(k, "status") => seen.put(3, &mut o.status, c.optional(status)),
        _ => c.skip(),
    })?;
    Some((read, c.at))
}

fn metadata(c: &mut Cursor<'_>) -> Option<ObjectMeta> {
    c.fields(|c, m: &mut ObjectMeta, seen, key| match key {
        k if same(k, "name") => seen.put(0, &mut m.name, c.string()),
        k if same(k, "namespace") => seen.put(1, &mut m.namespace, c.string()),
        k if same(k, "labels") => seen.put(2, &mut m.labels, c.str_map()),
        k if same(k, "annotations") => seen.put(3, &mut m.annotations, c.str_map()),
        k if same(k, "ownerReferences") => seen.put(4, &mut m.owner_references, c.list(owner_reference)),
        _ => c.skip(),
    })
}

fn owner_reference(c: &mut Cursor<'_>) -> Option<OwnerReference> {
    c.fields(|c, r: &mut OwnerReference, seen, key| match key {
        k if same(k, "kind") => seen.put(0, &mut r.kind, c.string()),
        k if same(k, "name") => seen.put(1, &mut r.name, c.string()),
        k if same(k, "controller") => seen.put(2, &mut r.controller, c.boolean()),
        _ => c.skip(),
    })
}

fn spec(c: &mut Cursor<'_>) -> Option<K8sSpec> {
    c.fields(|c, s: &mut K8sSpec, seen, key| match key {
        k if same(k, "nodeName") => seen.put(0, &mut s.node_name, c.string()),
        k if same(k, "hostNetwork") => seen.put(1, &mut s.host_network, c.boolean()),
        k if same(k, "providerID") => seen.put(2, &mut s.provider_id, c.string()),
        _ => c.skip(),
    })
}

fn status(c: &mut Cursor<'_>) -> Option<K8sStatus> {
    c.fields(|c, s: &mut K8sStatus, seen, key| match key {
        k if same(k, "podIP") => seen.put(0, &mut s.pod_ip, c.ip()),
        k if same(k, "podIPs") => seen.put(1, &mut s.pod_ips, c.list(pod_ip)),
        k if same(k, "phase") => seen.put(2, &mut s.phase, c.string()),
        k if same(k, "addresses") => seen.put(3, &mut s.addresses, c.list(node_address)),
        _ => c.skip(),
    })
}

fn pod_ip(c: &mut Cursor<'_>) -> Option<PodIp> {
    c.fields(|c, p: &mut PodIp, seen, key| match key {
        k if same(k, "ip") => seen.put(0, &mut p.ip, c.ip()),
        _ => c.skip(),
    })
}

fn node_address(c: &mut Cursor<'_>) -> Option<NodeAddress> {
    c.fields(|c, a: &mut NodeAddress, seen, key| match key {
        k if same(k, "type") => seen.put(0, &mut a.kind, c.string()),
        k if same(k, "address") => seen.put(1, &mut a.address, c.string()),
        _ => c.skip(),
    })
}

/// Reads the security group that starts at `at`, as [`network_interface`] reads an ENI. At 5,000
/// nodes its file is the third largest (6 MB), and serde read it at 8 ms per MB in a cold page
/// run, against 3.4 ms for the ENIs' reader (BENCHMARKS.md item 52).
#[cfg_attr(target_arch = "wasm32", inline(never))]
pub(crate) fn security_group(text: &str, at: usize) -> Option<(SecurityGroup, usize)> {
    let mut c = Cursor { text, at };
    let read = c.fields(|c, g: &mut SecurityGroup, seen, key| match key {
        k if same(k, "GroupId") => seen.put(0, &mut g.group_id, c.string()),
        k if same(k, "GroupName") => seen.put(1, &mut g.group_name, c.string()),
        k if same(k, "Description") => seen.put(2, &mut g.description, c.string()),
        k if same(k, "VpcId") => seen.put(3, &mut g.vpc_id, c.string()),
        k if same(k, "OwnerId") => seen.put(4, &mut g.owner_id, c.string()),
        k if same(k, "IpPermissions") => seen.put(5, &mut g.ip_permissions, c.list(ip_permission)),
        k if same(k, "IpPermissionsEgress") => seen.put(6, &mut g.ip_permissions_egress, c.list(ip_permission)),
        k if same(k, "Tags") => seen.put(7, &mut g.tags, c.list(group_tag)),
        _ => c.skip(),
    })?;
    Some((read, c.at))
}

fn ip_permission(c: &mut Cursor<'_>) -> Option<IpPermission> {
    c.fields(|c, p: &mut IpPermission, seen, key| match key {
        k if same(k, "IpProtocol") => seen.put(0, &mut p.ip_protocol, c.string()),
        k if same(k, "FromPort") => seen.put(1, &mut p.from_port, c.int()),
        k if same(k, "ToPort") => seen.put(2, &mut p.to_port, c.int()),
        k if same(k, "IpRanges") => seen.put(3, &mut p.ip_ranges, c.list(ip_range)),
        k if same(k, "Ipv6Ranges") => seen.put(4, &mut p.ipv6_ranges, c.list(ipv6_range)),
        k if same(k, "PrefixListIds") => seen.put(5, &mut p.prefix_list_ids, c.list(prefix_list_id)),
        k if same(k, "UserIdGroupPairs") => seen.put(6, &mut p.user_id_group_pairs, c.list(group_pair)),
        _ => c.skip(),
    })
}

fn ip_range(c: &mut Cursor<'_>) -> Option<IpRange> {
    c.fields(|c, r: &mut IpRange, seen, key| match key {
        k if same(k, "CidrIp") => seen.put(0, &mut r.cidr_ip, c.string()),
        k if same(k, "Description") => seen.put(1, &mut r.description, c.string()),
        _ => c.skip(),
    })
}

fn ipv6_range(c: &mut Cursor<'_>) -> Option<Ipv6Range> {
    c.fields(|c, r: &mut Ipv6Range, seen, key| match key {
        k if same(k, "CidrIpv6") => seen.put(0, &mut r.cidr_ipv6, c.string()),
        k if same(k, "Description") => seen.put(1, &mut r.description, c.string()),
        _ => c.skip(),
    })
}

fn prefix_list_id(c: &mut Cursor<'_>) -> Option<PrefixListId> {
    c.fields(|c, p: &mut PrefixListId, seen, key| match key {
        k if same(k, "PrefixListId") => seen.put(0, &mut p.prefix_list_id, c.string()),
        k if same(k, "Description") => seen.put(1, &mut p.description, c.string()),
        _ => c.skip(),
    })
}

fn group_pair(c: &mut Cursor<'_>) -> Option<UserIdGroupPair> {
    c.fields(|c, p: &mut UserIdGroupPair, seen, key| match key {
        k if same(k, "GroupId") => seen.put(0, &mut p.group_id, c.string()),
        k if same(k, "GroupName") => seen.put(1, &mut p.group_name, c.string()),
        k if same(k, "UserId") => seen.put(2, &mut p.user_id, c.string()),
        k if same(k, "VpcId") => seen.put(3, &mut p.vpc_id, c.string()),
        k if same(k, "VpcPeeringConnectionId") => seen.put(4, &mut p.vpc_peering_connection_id, c.string()),
        k if same(k, "PeeringStatus") => seen.put(5, &mut p.peering_status, c.string()),
        k if same(k, "Description") => seen.put(6, &mut p.description, c.string()),
        _ => c.skip(),
    })
}

/// A security group's tag: every one is kept (an ENI keeps only those podreach reads, [`tag`]).
fn group_tag(c: &mut Cursor<'_>) -> Option<Tag> {
    c.fields(|c, t: &mut Tag, seen, key| match key {
        k if same(k, "Key") => seen.put(0, &mut t.key, c.string()),
        k if same(k, "Value") => seen.put(1, &mut t.value, c.string()),
        _ => c.skip(),
    })
}

/// The known keys an object has given so far: serde's derived reader rejects a key given twice.
#[derive(Default)]
struct Seen(u32);

impl Seen {
    /// Stores the value read for the field numbered `bit`. `None` when the value was not read,
    /// or when the key came before: serde rejects the element then, so this reader leaves it.
    fn put<T>(&mut self, bit: u32, slot: &mut T, value: Option<T>) -> Option<()> {
        let mask = 1u32.checked_shl(bit)?;
        if self.0 & mask != 0 {
            return None;
        }
        self.0 |= mask;
        *slot = value?;
        Some(())
    }
}

/// Whether a key is `known`. A `match` on strings compares with `memcmp`, which in WebAssembly
/// is a call that compares byte by byte; keys are compared here eight bytes at a time.
#[inline(always)]
fn same(key: &str, known: &str) -> bool {
    let (a, b) = (key.as_bytes(), known.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    let mut at = 0;
    while at + 8 < n {
        if word(a, at) != word(b, at) {
            return false;
        }
        at += 8;
    }
    word(a, n - 8) == word(b, n - 8)
}

const SPACES: u64 = u64::from_le_bytes([b' '; 8]);

/// The offset of the first `"`, `\\` or control character at or after `from`.
#[inline(always)]
fn run_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut end = from;
    loop {
        match word(bytes, end) {
            Some(w) => match special(w) {
                0 => end += 8,
                found => return Some(end + found.trailing_zeros() as usize / 8),
            },
            None => return Some(end + bytes.get(end..)?.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?),
        }
    }
}

/// The escape at `at` (its `\\`) decoded, and its length: a surrogate pair is one character.
fn escape(bytes: &[u8], at: usize) -> Option<(char, usize)> {
    let c = match bytes.get(at + 1)? {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let high = hex4(bytes, at + 2)?;
            if !(0xD800..0xDC00).contains(&high) {
                // A lone low surrogate is no `char`.
                return char::from_u32(high).map(|c| (c, 6));
            }
            (bytes.get(at + 6..at + 8)? == b"\\u").then_some(())?;
            let low = hex4(bytes, at + 8)?;
            (0xDC00..0xE000).contains(&low).then_some(())?;
            return char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)).map(|c| (c, 12));
        }
        _ => return None,
    };
    Some((c, 2))
}

/// Four hex digits at `at`.
fn hex4(bytes: &[u8], at: usize) -> Option<u32> {
    let digits = std::str::from_utf8(bytes.get(at..at + 4)?).ok()?;
    digits.bytes().all(|b| b.is_ascii_hexdigit()).then(|| u32::from_str_radix(digits, 16).ok())?
}

/// The eight bytes from `at`, when there are eight.
#[inline(always)]
fn word(bytes: &[u8], at: usize) -> Option<u64> {
    bytes.get(at..at + 8).and_then(|w| w.try_into().ok()).map(u64::from_le_bytes)
}

/// The bytes of `w` (read little-endian) that end a plain string, `"`, `\\` or a control
/// character, as their high bits. A test may also set the bit of a byte above a match, never
/// of one below it: so the lowest bit set is the first such byte, and 0 means none.
#[inline(always)]
fn special(w: u64) -> u64 {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    zero(w ^ (ONES * u64::from(b'"'))) | zero(w ^ (ONES * u64::from(b'\\'))) | below_space
}

struct Cursor<'t> {
    text: &'t str,
    at: usize,
}

impl<'t> Cursor<'t> {
    /// The next byte after white space (JSON's four), with the cursor on it. Indentation is
    /// skipped eight spaces at a time: the AWS CLI indents by four per level.
    #[inline(always)]
    fn peek(&mut self) -> Option<u8> {
        match *self.text.as_bytes().get(self.at)? {
            b' ' | b'\n' | b'\r' | b'\t' => self.past_space(),
            b => Some(b),
        }
    }

    /// [`Cursor::peek`] past white space. In WebAssembly a call of its own: inlined at each of
    /// the ENI reader's forty-odd places that look for the next byte, its two loops made that
    /// reader the slowest function for V8 to optimise (BENCHMARKS.md item 57).
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn past_space(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        loop {
            let b = *bytes.get(self.at)?;
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(b);
            }
            self.at += 1;
            while word(bytes, self.at) == Some(SPACES) {
                self.at += 8;
            }
        }
    }

    /// Steps over `b`, the next byte after white space.
    #[inline(always)]
    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.at += 1)
    }

    /// Steps over `literal` (`true`, `false`, `null`), which must start at the cursor.
    fn literal(&mut self, literal: &str) -> Option<()> {
        let end = self.at + literal.len();
        (self.text.get(self.at..end)? == literal).then(|| self.at = end)
    }

    /// `null`, read as `absent`; any other value is `read`'s, given the byte it starts with.
    #[inline(always)]
    fn or_null<T>(&mut self, absent: T, read: impl FnOnce(&mut Self, u8) -> Option<T>) -> Option<T> {
        match self.peek()? {
            b'n' => self.literal("null").map(|()| absent),
            b => read(self, b),
        }
    }

    /// Steps into a string: where its text starts, and where its first run of plain bytes ends
    /// (at a `"`, a `\\` or a control character).
    #[inline(always)]
    fn open_str(&mut self) -> Option<(usize, usize)> {
        self.eat(b'"')?;
        Some((self.at, run_end(self.text.as_bytes(), self.at)?))
    }

    /// A string without escapes (a key): its text. `None` for anything else: serde decodes
    /// escaped keys, and rejects control characters, which JSON forbids unescaped.
    #[inline]
    fn plain_str(&mut self) -> Option<&'t str> {
        let (start, end) = self.open_str()?;
        (self.text.as_bytes().get(end) == Some(&b'"')).then_some(())?;
        self.at = end + 1;
        self.text.get(start..end)
    }

    /// A string value, its escapes decoded as serde decodes them. `None` for a control
    /// character, an unknown escape or a lone surrogate (serde rejects those).
    fn text_str(&mut self) -> Option<Cow<'t, str>> {
        let (mut from, mut end) = self.open_str()?;
        let bytes = self.text.as_bytes();
        if bytes.get(end) == Some(&b'"') {
            self.at = end + 1;
            return self.text.get(from..end).map(Cow::Borrowed);
        }
        let mut out = String::new();
        loop {
            out.push_str(self.text.get(from..end)?);
            match bytes.get(end)? {
                b'"' => {
                    self.at = end + 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => {
                    let (c, len) = escape(bytes, end)?;
                    out.push(c);
                    from = end + len;
                    end = run_end(bytes, from)?;
                }
                _ => return None,
            }
        }
    }

    /// Steps over a string, checking its escapes as serde does when it ignores one: any four
    /// hex digits after `\\u`.
    fn skip_str(&mut self) -> Option<()> {
        let (_, mut end) = self.open_str()?;
        let bytes = self.text.as_bytes();
        loop {
            match bytes.get(end)? {
                b'"' => {
                    self.at = end + 1;
                    return Some(());
                }
                b'\\' => {
                    let len = match bytes.get(end + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => 2,
                        b'u' => hex4(bytes, end + 2).map(|_| 6)?,
                        _ => return None,
                    };
                    end = run_end(bytes, end + len)?;
                }
                _ => return None,
            }
        }
    }

    /// A text field: a string, or `null` for absent.
    fn string(&mut self) -> Option<Field<String>> {
        self.text().map(owned)
    }

    /// A text field as [`Cursor::string`] reads it, its text borrowed where it has no escapes.
    #[inline(always)]
    fn text(&mut self) -> Option<Field<Cow<'t, str>>> {
        self.or_null(Field::Absent, |c, b| match b {
            b'"' => Some(Field::Value(c.text_str()?)),
            _ => None,
        })
    }

    /// An address field, as [`Ip`] reads it.
    fn ip(&mut self) -> Option<Ip> {
        self.or_null(Ip::Absent, |c, b| match b {
            b'"' => {
                let s = c.text_str()?;
                Some(crate::net::parse_v4(&s).map_or_else(|| Ip::Text(s.into_owned()), Ip::V4))
            }
            _ => None,
        })
    }

    fn boolean(&mut self) -> Option<Field<bool>> {
        self.or_null(Field::Absent, |c, b| match b {
            b't' => c.literal("true").map(|()| Field::Value(true)),
            b'f' => c.literal("false").map(|()| Field::Value(false)),
            _ => None,
        })
    }

    /// An integer of at most 18 digits (a device or card index, a port, `-1` for every ICMP
    /// type), or `null`. Other numbers (`-0`, fractional, with an exponent, huge) are serde's to
    /// coerce.
    fn int(&mut self) -> Option<Field<i64>> {
        self.or_null(Field::Absent, |c, _| {
            let bytes = c.text.as_bytes();
            let sign = usize::from(bytes.get(c.at) == Some(&b'-'));
            let first = c.at + sign;
            let digits = bytes.get(first..)?.iter().take_while(|b| b.is_ascii_digit()).count();
            let after = bytes.get(first + digits).copied();
            if digits == 0
                || digits > 18
                || (bytes.get(first) == Some(&b'0') && (digits > 1 || sign == 1))
                || matches!(after, Some(b'.' | b'e' | b'E'))
            {
                return None;
            }
            let n = c.text.get(c.at..first + digits)?.parse().ok()?;
            c.at = first + digits;
            Some(Field::Value(n))
        })
    }

    /// Labels or annotations, as [`StrMap`] reads them: the keys podreach reads, each with a
    /// string value (`null` is left out); the others are skipped. A value of another type is
    /// serde's to coerce.
    fn str_map(&mut self) -> Option<StrMap> {
        self.or_null(StrMap::default(), |c, _| {
            let mut kept = Vec::new();
            c.object(|c, key| match meta_keys::ALL.iter().find(|k| same(key, k)) {
                Some(k) => {
                    if let Field::Value(v) = c.string()? {
                        kept.push((*k, v));
                    }
                    Some(())
                }
                None => c.skip(),
            })?;
            Some(StrMap(kept))
        })
    }

    /// An optional object, as `Option<Obj<T>>` reads it: `null` is `None`.
    fn optional<T>(&mut self, read: fn(&mut Self) -> Option<T>) -> Option<Option<Obj<T>>> {
        self.or_null(None, |c, b| match b {
            b'{' => read(c).map(|v| Some(Obj(Some(v)))),
            _ => None,
        })
    }

    /// A list of objects, as [`List`] reads it: `null` is empty. An element that is not an
    /// object (which serde drops and counts) is serde's.
    fn list<T>(&mut self, read: fn(&mut Self) -> Option<T>) -> Option<List<T>> {
        self.kept_list(|c| read(c).map(Some))
    }

    /// A list whose items `read` may leave out (`Some(None)`).
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    fn kept_list<T>(&mut self, read: impl Fn(&mut Self) -> Option<Option<T>>) -> Option<List<T>> {
        self.or_null(List::default(), |c, _| {
            c.eat(b'[')?;
            let mut items = Vec::new();
            if c.peek()? == b']' {
                c.at += 1;
                return Some(List { items, dropped: 0 });
            }
            loop {
                if c.peek()? != b'{' {
                    return None;
                }
                if let Some(item) = read(c)? {
                    items.push(item);
                }
                match c.peek()? {
                    b',' => c.at += 1,
                    b']' => {
                        c.at += 1;
                        return Some(List { items, dropped: 0 });
                    }
                    _ => return None,
                }
            }
        })
    }

    /// An object read into a `T`: `field` is called with each key, the cursor before its value,
    /// and the keys seen so far, and must read the value.
    fn fields<T: Default>(
        &mut self,
        mut field: impl FnMut(&mut Self, &mut T, &mut Seen, &'t str) -> Option<()>,
    ) -> Option<T> {
        let (mut out, mut seen) = (T::default(), Seen::default());
        self.object(|c, key| field(c, &mut out, &mut seen, key))?;
        Some(out)
    }

    /// An object: `field` is called with each key and the cursor before its value, and must
    /// read the value.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'t str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            let key = self.plain_str()?;
            self.eat(b':')?;
            field(self, key)?;
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Skips one value, checking it is well-formed JSON as serde's `IgnoredAny` does, to any
    /// depth (serde's skipping has no depth limit either).
    fn skip(&mut self) -> Option<()> {
        // The closing byte of each container the cursor is in.
        let mut open: Vec<u8> = Vec::new();
        loop {
            // A value.
            match self.peek()? {
                b'"' => self.skip_str()?,
                b'{' => {
                    self.at += 1;
                    if self.peek()? == b'}' {
                        self.at += 1;
                    } else {
                        open.push(b'}');
                        self.plain_str()?;
                        self.eat(b':')?;
                        continue;
                    }
                }
                b'[' => {
                    self.at += 1;
                    if self.peek()? == b']' {
                        self.at += 1;
                    } else {
                        open.push(b']');
                        continue;
                    }
                }
                b't' => self.literal("true")?,
                b'f' => self.literal("false")?,
                b'n' => self.literal("null")?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return None,
            }
            // After a value: close what ends here, then a comma leads to the next value.
            loop {
                let Some(&close) = open.last() else { return Some(()) };
                match self.peek()? {
                    b',' => {
                        self.at += 1;
                        if close == b'}' {
                            self.plain_str()?;
                            self.eat(b':')?;
                        }
                        break;
                    }
                    b if b == close => {
                        self.at += 1;
                        open.pop();
                    }
                    _ => return None,
                }
            }
        }
    }

    /// Steps over a number in JSON's grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        let bytes = self.text.as_bytes();
        let digits = |from: usize| bytes.get(from..).map_or(0, |r| r.iter().take_while(|b| b.is_ascii_digit()).count());
        let mut at = self.at;
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        match bytes.get(at)? {
            b'0' => at += 1,
            b'1'..=b'9' => at += digits(at),
            _ => return None,
        }
        if bytes.get(at) == Some(&b'.') {
            let n = digits(at + 1);
            (n > 0).then_some(())?;
            at += 1 + n;
        }
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            at += 1;
            if matches!(bytes.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            let n = digits(at);
            (n > 0).then_some(())?;
            at += n;
        }
        self.at = at;
        Some(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests fail loudly")]
    use super::{k8s_object, network_interface, security_group};
    use crate::lenient::{meta_keys, Field, Ip, Obj};
    use serde::Deserialize;
    use std::fmt::Debug;

    type Reader<T> = fn(&str, usize) -> Option<(T, usize)>;

    /// Whether `read` took `text`; where it did, serde must read the same element from it and
    /// stop at the same offset.
    fn agrees_with<T>(read: Reader<T>, text: &str) -> bool
    where
        T: for<'de> Deserialize<'de> + PartialEq + Debug,
    {
        let Some((fast, end)) = read(text, 0) else { return false };
        let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Obj<T>>();
        let serde =
            stream.next().and_then(Result::ok).unwrap_or_else(|| panic!("taken, but serde rejects it:\n{text}"));
        assert_eq!(Some(&fast), serde.0.as_ref(), "a different element from:\n{text}");
        assert_eq!(end, stream.byte_offset(), "a different end in:\n{text}");
        true
    }

    fn agrees(text: &str) -> bool {
        agrees_with(network_interface, text)
    }

    /// Every text one byte away from `text` (a byte deleted, or one of JSON's significant bytes
    /// inserted or put in its place): `read` either leaves it to serde or reads what serde
    /// reads. Returns how many texts were tried and how many `read` took.
    fn one_byte_away<T>(read: Reader<T>, text: &str) -> (usize, usize)
    where
        T: for<'de> Deserialize<'de> + PartialEq + Debug,
    {
        let bytes = text.as_bytes();
        let (mut tried, mut taken) = (0, 0);
        let mut try_text = |v: Vec<u8>| {
            if let Ok(text) = String::from_utf8(v) {
                tried += 1;
                taken += usize::from(agrees_with(read, &text));
            }
        };
        for at in 0..=bytes.len() {
            if at < bytes.len() {
                try_text([&bytes[..at], &bytes[at + 1..]].concat());
            }
            for b in *b" \n\"\\,:{}[]0-.eEntf\x01" {
                try_text([&bytes[..at], &[b], &bytes[at..]].concat());
                if at < bytes.len() {
                    try_text([&bytes[..at], &[b], &bytes[at + 1..]].concat());
                }
            }
        }
        (tried, taken)
    }

    /// An ENI as the AWS CLI prints it, with every field the reader keeps and values of every
    /// JSON kind in fields it skips.
    const ENI: &str = r#"{
    "Attachment": {
        "AttachTime": "2026-11-20T09:12:44+00:00",
        "DeleteOnTermination": true,
        "DeviceIndex": 1,
        "InstanceId": "i-0a",
        "InstanceOwnerId": "111122223333",
        "NetworkCardIndex": 0,
        "Status": "attached"
    },
    "AvailabilityZone": "us-east-1a",
    "Description": "aws-K8S-i-0a",
    "Groups": [
        {"GroupId": "sg-1", "GroupName": "eks-cluster-sg"},
        {"GroupName": "db", "GroupId": "sg-2"}
    ],
    "InterfaceType": "interface",
    "Ipv4Prefixes": [{"Ipv4Prefix": "10.0.3.16/28"}],
    "Ipv6Addresses": [{"Ipv6Address": "fd00::7", "IsPrimaryIpv6": false}],
    "Ipv6Prefixes": [],
    "MacAddress": "02:0a:00:00:10:01",
    "NetworkInterfaceId": "eni-0a",
    "OwnerId": "111122223333",
    "PrivateDnsName": "ip-10-0-0-16.ec2.internal",
    "PrivateIpAddress": "10.0.0.16",
    "PrivateIpAddresses": [
        {"Primary": true, "PrivateDnsName": "ip-10-0-0-16.ec2.internal", "PrivateIpAddress": "10.0.0.16",
         "Association": {"PublicIp": "3.4.5.6", "IpOwnerId": "amazon"}},
        {"Primary": false, "PrivateIpAddress": "10.0.0.17"},
        {"Primary": false, "PrivateIpAddress": "not an address"}
    ],
    "RequesterId": "AROAEXAMPLE:aws-go-sdk",
    "RequesterManaged": false,
    "SourceDestCheck": true,
    "Status": "in-use",
    "TagSet": [
        {"Value": "2026-11-30T09:12:00Z", "Key": "node.k8s.amazonaws.com/createdAt"},
        {"Key": "node.k8s.amazonaws.com/instance_id", "Value": "i-0a"},
        {"Key": "cluster.k8s.amazonaws.com/name", "Value": "prod-\u00e9u"},
        {"Key": "eks:eni:owner", "Value": null}
    ],
    "Association": {"PublicIp": "3.4.5.6", "CarrierIp": null},
    "Extra": [1, -2.5e3, 0.25, 1E+2, [], {}, [null, [true, {"a": {"b": []}}]], ""],
    "VpcId": "vpc-1"
}"#;

    #[test]
    fn reads_an_eni_as_serde_does() {
        assert!(agrees(ENI));
        let (e, _) = network_interface(ENI, 0).unwrap();
        assert_eq!(e.network_interface_id, Field::Value("eni-0a".to_owned()));
        assert_eq!(e.private_ip_addresses.items.len(), 3);
        assert_eq!(e.private_ip_addresses.items[2].private_ip_address, Ip::Text("not an address".to_owned()));
        assert_eq!(e.attachment.and_then(|a| a.0).map(|a| a.device_index), Some(Field::Value(1)));
        // Only the tags podreach reads are kept, as serde's list is cut.
        let tags: Vec<_> = e.tag_set.items.iter().map(|t| (t.key.as_str(), t.value.as_str())).collect();
        assert_eq!(tags, [(Some("node.k8s.amazonaws.com/instance_id"), Some("i-0a"))]);
        let kept_last = ENI.replacen("eks:eni:owner", "node.k8s.amazonaws.com/no_manage", 1);
        assert!(agrees(&kept_last));
        let read = network_interface(&kept_last, 0).unwrap().0;
        let kept: Vec<_> = read.tag_set.items.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(kept, [Some("node.k8s.amazonaws.com/instance_id"), Some("node.k8s.amazonaws.com/no_manage")]);
        // Compact, with white space of every kind, and as the second element of a list.
        let compact: String = ENI.lines().map(str::trim).collect();
        assert!(agrees(&compact));
        assert!(agrees(&ENI.replace("\n", "\r\n\t")));
        // Escapes, decoded as serde decodes them; in a skipped value, any four hex digits.
        let escaped = ENI.replacen("\"eni-0a\"", r#""eni-\u0030a\ud83d\ude00\/\"\\\b\f\n\r\t""#, 1).replacen(
            "\"02:0a:00:00:10:01\"",
            r#""\udc00\uD800\"""#,
            1,
        );
        assert!(agrees(&escaped));
        let id = network_interface(&escaped, 0).unwrap().0.network_interface_id;
        assert_eq!(id, Field::Value("eni-0a\u{1f600}/\"\\\u{8}\u{c}\n\r\t".to_owned()));
        let list = format!("[7, {ENI}]");
        assert_eq!(network_interface(&list, 4).map(|(_, end)| end), Some(list.len() - 1));
    }

    #[test]
    fn leaves_to_serde_what_it_is_not_sure_of() {
        for (from, to) in [
            // An escaped key, an unknown escape, a lone surrogate and a control character.
            ("\"VpcId\"", "\"Vpc\\u0049d\""),
            ("\"eni-0a\"", "\"eni-\\x0a\""),
            ("\"eni-0a\"", "\"eni-\\udc00\""),
            ("\"eni-0a\"", "\"eni-\\ud800x\""),
            ("\"eni-0a\"", "\"eni-\u{1}\""),
            ("\"ip-10-0-0-16.ec2.internal\",\n    \"PrivateIpAddress\"", "\"ip\\q\",\n    \"PrivateIpAddress\""),
            // Another type than the field's: serde coerces, drops or counts it.
            ("\"vpc-1\"", "7"),
            ("\"DeviceIndex\": 1", "\"DeviceIndex\": \"1\""),
            ("\"DeviceIndex\": 1", "\"DeviceIndex\": 1.0"),
            ("\"DeviceIndex\": 1", "\"DeviceIndex\": -0"),
            ("\"DeviceIndex\": 1", "\"DeviceIndex\": 1234567890123456789"),
            ("\"RequesterManaged\": false", "\"RequesterManaged\": \"false\""),
            ("\"eks:eni:owner\", \"Value\": null", "\"eks:eni:owner\", \"Value\": 7"),
            ("\"Ipv6Prefixes\": []", "\"Ipv6Prefixes\": [null]"),
            ("\"Ipv6Prefixes\": []", "\"Ipv6Prefixes\": {}"),
            // A key given twice: serde rejects the element.
            ("\"VpcId\": \"vpc-1\"", "\"VpcId\": \"vpc-1\", \"VpcId\": null"),
            // A syntax error.
            ("\"Extra\": [1,", "\"Extra\": [01,"),
            ("\"vpc-1\"\n}", "\"vpc-1\",\n}"),
        ] {
            assert!(ENI.contains(from), "{from}");
            let text = ENI.replacen(from, to, 1);
            assert!(network_interface(&text, 0).is_none(), "taken:\n{text}");
        }
        // Null is absent, and a skipped key may come twice.
        let text = ENI.replacen("\"vpc-1\"", "null", 1).replacen("\"Extra\"", "\"OwnerId\"", 1);
        assert!(agrees(&text));
        assert_eq!(network_interface(&text, 0).unwrap().0.vpc_id, Field::Absent);
        // A negative integer is read as serde reads it.
        let text = ENI.replacen("\"DeviceIndex\": 1", "\"DeviceIndex\": -1", 1);
        assert!(agrees(&text));
    }

    /// White space between tokens and new digits in numbers, among others, keep an element
    /// readable: each comparison runs on tens of thousands of texts, of which the readers take
    /// about half (the counts are exact: a change to what a reader takes shows here).
    #[test]
    fn agrees_with_serde_one_byte_away() {
        let (tried, taken) = one_byte_away(network_interface, ENI);
        assert_eq!((tried, taken), (70_336, 35_723));
        let (tried, taken) = one_byte_away(k8s_object, POD);
        assert_eq!((tried, taken), (29_659, 14_894));
        let (tried, taken) = one_byte_away(k8s_object, NODE);
        assert_eq!((tried, taken), (11_056, 5_941));
        let (tried, taken) = one_byte_away(security_group, SG);
        assert_eq!((tried, taken), (42_451, 19_763));
    }

    /// A pod as kubectl prints it, with labels and annotations podreach reads and others.
    const POD: &str = r#"{
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "annotations": {"vpc.amazonaws.com/pod-eni": "[{\"eniId\":\"eni-0b\"}]", "other": "x", "k8s.amazonaws.com/eniConfig": null},
        "labels": {"app": "api", "pod-template-hash": "5d79", "pod-template-hash": "again"},
        "name": "api-5d79-x",
        "namespace": "shop",
        "ownerReferences": [{"apiVersion": "apps/v1", "controller": true, "kind": "ReplicaSet", "name": "api-5d79", "uid": "u"}]
    },
    "spec": {"containers": [{"image": "app:1", "name": "app", "ports": [{"containerPort": 8080}]}], "hostNetwork": false, "nodeName": "ip-1"},
    "status": {"hostIP": "10.0.0.16", "phase": "Running", "podIP": "10.0.0.19", "podIPs": [{"ip": "10.0.0.19"}, {"ip": "fd00::1"}]}
}"#;

    /// A node as kubectl prints it.
    const NODE: &str = r#"{
    "kind": "Node",
    "metadata": {"labels": {"eks.amazonaws.com/compute-type": "ec2"}, "name": "ip-1"},
    "spec": {"providerID": "aws:///us-east-1a/i-0a"},
    "status": {"addresses": [{"address": "10.0.0.16", "type": "InternalIP"}, {"type": "Hostname", "address": "ip-1"}]}
}"#;

    #[test]
    fn reads_kubectl_items_as_serde_does() {
        assert!(agrees_with(k8s_object, POD));
        assert!(agrees_with(k8s_object, NODE));
        let (pod, _) = k8s_object(POD, 0).unwrap();
        let meta = pod.metadata.and_then(|m| m.0).unwrap();
        // Both values of a label given twice, as serde keeps them; a `null` one is left out.
        let hash: Vec<_> = meta.labels.0.iter().filter(|(k, _)| *k == meta_keys::POD_TEMPLATE_HASH).collect();
        assert_eq!(hash.len(), 2);
        assert_eq!(meta.annotations.get(meta_keys::ENI_CONFIG), None);
        assert_eq!(meta.annotations.get(meta_keys::POD_ENI), Some("[{\"eniId\":\"eni-0b\"}]"));
        let status = pod.status.and_then(|s| s.0).unwrap();
        assert_eq!(status.pod_ip, Ip::V4([10, 0, 0, 19].into()));
        // A number where a label belongs is serde's to keep as text.
        assert!(k8s_object(&POD.replacen("\"api\"", "7", 1), 0).is_some(), "not a kept label");
        assert!(k8s_object(&POD.replacen("\"again\"", "7", 1), 0).is_none(), "a kept label");
    }

    /// A security group as the AWS CLI prints it, with every field the reader keeps, `null`s, an
    /// ICMP rule's `-1` ports, and values of every JSON kind in fields it skips.
    const SG: &str = r#"{
    "Description": "db access",
    "GroupId": "sg-0db",
    "GroupName": "db",
    "IpPermissions": [
        {
            "FromPort": 5432,
            "IpProtocol": "tcp",
            "IpRanges": [{"CidrIp": "10.0.0.0/16", "Description": "vpc"}, {"CidrIp": null}],
            "Ipv6Ranges": [{"CidrIpv6": "fd00::/8", "Description": "v6"}],
            "PrefixListIds": [{"PrefixListId": "pl-0a", "Description": null}],
            "ToPort": 5433,
            "UserIdGroupPairs": [{"Description": "nodes", "GroupId": "sg-0nodes", "GroupName": "nodes", "PeeringStatus": "active", "UserId": "111122223333", "VpcId": "vpc-1", "VpcPeeringConnectionId": "pcx-1"}]
        },
        {"FromPort": -1, "IpProtocol": "icmp", "IpRanges": [], "ToPort": -1, "Extra": [1, -2.5e3, true, {"a": [null]}]}
    ],
    "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": null, "PrefixListIds": [], "UserIdGroupPairs": []}],
    "OwnerId": "111122223333",
    "Tags": [{"Key": "Name", "Value": "db"}, {"Key": "team", "Value": null}],
    "VpcId": "vpc-1"
}"#;

    #[test]
    fn reads_a_security_group_as_serde_does() {
        assert!(agrees_with(security_group, SG));
        let (g, _) = security_group(SG, 0).unwrap();
        assert_eq!(g.group_id, Field::Value("sg-0db".to_owned()));
        let ports: Vec<_> = g.ip_permissions.items.iter().map(|p| (p.from_port.clone(), p.to_port.clone())).collect();
        assert_eq!(ports, [(Field::Value(5432), Field::Value(5433)), (Field::Value(-1), Field::Value(-1))]);
        assert_eq!(
            g.ip_permissions.items[0].user_id_group_pairs.items[0].vpc_peering_connection_id,
            Field::Value("pcx-1".to_owned())
        );
        // Every tag is kept, not only those podreach reads on an ENI.
        assert_eq!(g.tags.items.len(), 2);
        // Compact, and as the second element of a list.
        let compact: String = SG.lines().map(str::trim).collect();
        assert!(agrees_with(security_group, &compact));
        let list = format!("[7, {SG}]");
        assert_eq!(security_group(&list, 4).map(|(_, end)| end), Some(list.len() - 1));
        // Numbers the reader leaves to serde: `-0`, a fraction, an exponent, a leading zero.
        for port in ["-0", "5432.0", "5e3", "05432", "-05"] {
            let text = SG.replacen("5432", port, 1);
            assert!(security_group(&text, 0).is_none(), "{port} is serde's");
        }
    }
}
