//! Lenient serde field types: what AWS and kubectl really print, never a reason to reject a document.
//!
//! Every member of an AWS output shape is optional, numbers sometimes arrive as strings (and the
//! reverse), and `null` means "absent". These wrappers accept all of that and remember what they
//! had to coerce, so that loading can turn it into diagnostics instead of silent guesses.

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;
use std::net::Ipv4Addr;

/// One scalar field as it was found in the JSON.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Field<T> {
    /// The key was absent or `null`.
    #[default]
    Absent,
    /// The value had the expected JSON type.
    Value(T),
    /// The value had another JSON type that converts without loss (a number as a string, …).
    Coerced(T),
    /// The value had a JSON type that cannot mean this field (an object where a string belongs).
    Wrong(&'static str),
}

impl<T> Field<T> {
    pub fn get(&self) -> Option<&T> {
        match self {
            Field::Value(v) | Field::Coerced(v) => Some(v),
            Field::Absent | Field::Wrong(_) => None,
        }
    }

    pub fn into_option(self) -> Option<T> {
        match self {
            Field::Value(v) | Field::Coerced(v) => Some(v),
            Field::Absent | Field::Wrong(_) => None,
        }
    }

    /// Describes a coercion or a wrong type, for a diagnostic; `None` when the value was clean.
    pub fn oddity(&self) -> Option<&'static str> {
        match self {
            Field::Coerced(_) => Some("coerced"),
            Field::Wrong(kind) => Some(kind),
            Field::Absent | Field::Value(_) => None,
        }
    }
}

impl Field<String> {
    pub fn as_str(&self) -> Option<&str> {
        self.get().map(String::as_str)
    }
}

fn ignore_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

fn ignore_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// `null` is absent, and an object or an array where a scalar belongs is `$t::Wrong`.
macro_rules! wrong_compound {
    ($t:ident) => {
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            ignore_map(map)?;
            Ok($t::Wrong("an object"))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            ignore_seq(seq)?;
            Ok($t::Wrong("an array"))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($t::Absent)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($t::Absent)
        }
    };
}

/// Booleans and numbers where an array or object belongs: each becomes `$value`.
macro_rules! bools_and_numbers_become {
    ($value:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($value)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($value)
        }
    };
}

/// A number or a boolean where text belongs, kept as its JSON spelling by `$make`.
macro_rules! scalar_as_text {
    ($make:path) => {
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok($make(v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok($make(v.to_string()))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok($make(v.to_string()))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok($make(v.to_string()))
        }
    };
}

struct StringVisitor;

impl<'de> Visitor<'de> for StringVisitor {
    type Value = Field<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Field::Value(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Field::Value(v))
    }
    scalar_as_text!(Field::Coerced);
    wrong_compound!(Field);
}

impl<'de> Deserialize<'de> for Field<String> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StringVisitor)
    }
}

/// An address field, read where it stands: an IPv4 address is kept as one, without a string;
/// anything else (IPv6, a typo, a number) stays text, for the caller to parse or report. A
/// whole-account export holds hundreds of thousands of addresses.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Ip {
    /// The key was absent or `null`.
    #[default]
    Absent,
    V4(Ipv4Addr),
    /// Not an IPv4 address: the text as found (a number or a boolean as its JSON spelling).
    Text(String),
    /// An object or an array where an address belongs.
    Wrong(&'static str),
}

impl Ip {
    /// The IPv4 address, or else the text; `None` when absent or not a scalar.
    pub fn v4_or_text(&self) -> Option<Result<Ipv4Addr, &str>> {
        match self {
            Ip::V4(a) => Some(Ok(*a)),
            Ip::Text(s) => Some(Err(s.as_str())),
            Ip::Absent | Ip::Wrong(_) => None,
        }
    }

    pub fn v4(&self) -> Option<Ipv4Addr> {
        match self {
            Ip::V4(a) => Some(*a),
            Ip::Absent | Ip::Text(_) | Ip::Wrong(_) => None,
        }
    }
}

struct IpVisitor;

impl<'de> Visitor<'de> for IpVisitor {
    type Value = Ip;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an address")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(crate::net::parse_v4(v).map_or_else(|| Ip::Text(v.to_owned()), Ip::V4))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(crate::net::parse_v4(&v).map_or(Ip::Text(v), Ip::V4))
    }
    scalar_as_text!(Ip::Text);
    wrong_compound!(Ip);
}

impl<'de> Deserialize<'de> for Ip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IpVisitor)
    }
}

struct IntVisitor;

impl<'de> Visitor<'de> for IntVisitor {
    type Value = Field<i64>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Field::Wrong("a number out of range"), Field::Value))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Field::Value(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // 5432.0 is 5432; 1e300 or 0.5 are not integers.
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            #[expect(clippy::cast_possible_truncation, reason = "checked to be integral and in range")]
            Ok(Field::Coerced(v as i64))
        } else {
            Ok(Field::Wrong("a number out of range"))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.trim().parse::<i64>().map_or(Field::Wrong("a non-numeric string"), Field::Coerced))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Field::Wrong("a boolean"))
    }
    wrong_compound!(Field);
}

impl<'de> Deserialize<'de> for Field<i64> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IntVisitor)
    }
}

struct BoolVisitor;

impl<'de> Visitor<'de> for BoolVisitor {
    type Value = Field<bool>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a boolean")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Field::Value(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(match v.trim().to_ascii_lowercase().as_str() {
            "true" => Field::Coerced(true),
            "false" => Field::Coerced(false),
            _ => Field::Wrong("a string"),
        })
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Field::Wrong("a number"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Field::Wrong("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Field::Wrong("a number"))
    }
    wrong_compound!(Field);
}

impl<'de> Deserialize<'de> for Field<bool> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BoolVisitor)
    }
}

/// A list of objects. `null` or absent is empty; an element that is not an object is dropped
/// and counted, so one odd element never rejects the document.
#[derive(Clone, Debug, PartialEq)]
pub struct List<T> {
    pub items: Vec<T>,
    /// Elements (or the whole value) that had the wrong JSON type.
    pub dropped: usize,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        List { items: Vec::new(), dropped: 0 }
    }
}

struct ListVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
    type Value = List<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = List { items: Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096)), dropped: 0 };
        while let Some(item) = next_obj::<A, T>(&mut seq)? {
            match item.0 {
                Some(v) => out.items.push(v),
                None => out.dropped += 1,
            }
        }
        Ok(out)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        ignore_map(map)?;
        Ok(List { items: Vec::new(), dropped: 1 })
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(List::default())
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(List::default())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(List { items: Vec::new(), dropped: 1 })
    }
    bools_and_numbers_become!(List { items: Vec::new(), dropped: 1 });
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ListVisitor(PhantomData))
    }
}

/// One element of a list, in a call of its own. In a browser, V8 first runs WebAssembly on
/// baseline code and optimises a function once it has run for a while, but a call keeps the code
/// it began with: inlined into its list's loop, every element of a 50 MB list ran on baseline code
/// (BENCHMARKS.md, item 33). A call per element picks up the optimised code as soon as it exists.
#[inline(never)]
fn next_obj<'de, A: SeqAccess<'de>, T: Deserialize<'de>>(seq: &mut A) -> Result<Option<Obj<T>>, A::Error> {
    seq.next_element::<Obj<T>>()
}

/// An element that must be an object; anything else becomes `None`.
#[derive(Debug, PartialEq)]
pub struct Obj<T>(pub Option<T>);

struct ObjVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjVisitor<T> {
    type Value = Obj<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|v| Obj(Some(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        ignore_seq(seq)?;
        Ok(Obj(None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Obj(None))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Obj(None))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Obj(None))
    }
    bools_and_numbers_become!(Obj(None));
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ObjVisitor(PhantomData))
    }
}

/// A list of plain strings (for example `AssociatedSubnets`); non-strings are dropped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StrList(pub Vec<String>);

struct StrListVisitor;

impl<'de> Visitor<'de> for StrListVisitor {
    type Value = StrList;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of strings")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element::<Field<String>>()? {
            if let Some(s) = item.into_option() {
                out.push(s);
            }
        }
        Ok(StrList(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        ignore_map(map)?;
        Ok(StrList::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(StrList::default())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(StrList(vec![v.to_owned()]))
    }
    bools_and_numbers_become!(StrList::default());
}

impl<'de> Deserialize<'de> for StrList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrListVisitor)
    }
}

/// The kubernetes labels and annotations podreach reads. A [`StrMap`] keeps only these: a pod's
/// annotations can hold kilobytes of JSON (sidecar status, last-applied configuration) that
/// nothing here reads, and an export holds thousands of pods.
pub mod meta_keys {
    pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
    pub const POD_ENI: &str = "vpc.amazonaws.com/pod-eni";
    pub const ENI_CONFIG: &str = "k8s.amazonaws.com/eniConfig";
    pub const COMPUTE_TYPE: &str = "eks.amazonaws.com/compute-type";
    pub const ALL: [&str; 4] = [POD_TEMPLATE_HASH, POD_ENI, ENI_CONFIG, COMPUTE_TYPE];
}

/// A string-to-string map (kubernetes labels and annotations), holding only the keys in
/// [`meta_keys::ALL`]; odd values are dropped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StrMap(pub Vec<(&'static str, String)>);

impl StrMap {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }
}

/// A map key: which of [`meta_keys::ALL`] it is, without allocating for the others.
struct KeptKey;

impl<'de> de::DeserializeSeed<'de> for KeptKey {
    type Value = Option<&'static str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeptKey {
    type Value = Option<&'static str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(meta_keys::ALL.iter().find(|k| **k == v).copied())
    }
}

struct StrMapVisitor;

impl<'de> Visitor<'de> for StrMapVisitor {
    type Value = StrMap;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of strings")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key_seed(KeptKey)? {
            match key {
                Some(k) => {
                    if let Some(v) = map.next_value::<Field<String>>()?.into_option() {
                        out.push((k, v));
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(StrMap(out))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        ignore_seq(seq)?;
        Ok(StrMap::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(StrMap::default())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(StrMap::default())
    }
    bools_and_numbers_become!(StrMap::default());
}

impl<'de> Deserialize<'de> for StrMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrMapVisitor)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::{meta_keys, Field, Ip, StrMap};

    #[test]
    fn text_takes_a_number_or_boolean_as_its_spelling_and_nothing_else() {
        let read = |json: &str| serde_json::from_str::<Field<String>>(json).unwrap();
        assert_eq!(read("\"sg-1\""), Field::Value("sg-1".to_owned()));
        assert_eq!(read("7"), Field::Coerced("7".to_owned()));
        assert_eq!(read("-7"), Field::Coerced("-7".to_owned()));
        assert_eq!(read("1.5"), Field::Coerced("1.5".to_owned()));
        assert_eq!(read("false"), Field::Coerced("false".to_owned()));
        assert_eq!(read("null"), Field::Absent);
        assert_eq!(read("{}"), Field::Wrong("an object"));
        assert_eq!(read("[]"), Field::Wrong("an array"));
    }

    #[test]
    fn an_address_is_read_in_place_and_anything_else_stays_text() {
        let read = |json: &str| serde_json::from_str::<Ip>(json).unwrap();
        assert_eq!(read("\"10.0.1.7\""), Ip::V4([10, 0, 1, 7].into()));
        assert_eq!(read("\" 10.0.1.7 \""), Ip::V4([10, 0, 1, 7].into()), "as parse_v4: trimmed");
        // An escaped string arrives owned rather than borrowed.
        assert_eq!(read("\"10.0.1.\\u0037\""), Ip::V4([10, 0, 1, 7].into()));
        assert_eq!(read("\"fd00::7\""), Ip::Text("fd00::7".to_owned()));
        assert_eq!(read("\"10.0.1\""), Ip::Text("10.0.1".to_owned()));
        assert_eq!(read("167772417"), Ip::Text("167772417".to_owned()));
        assert_eq!(read("true"), Ip::Text("true".to_owned()));
        assert_eq!(read("null"), Ip::Absent);
        assert_eq!(read("{\"a\": 1}"), Ip::Wrong("an object"));
        assert_eq!(read("[1]"), Ip::Wrong("an array"));
        assert_eq!(read("\"10.0.1.7\"").v4_or_text(), Some(Ok([10, 0, 1, 7].into())));
        assert_eq!(read("\"x\"").v4_or_text(), Some(Err("x")));
        assert_eq!(read("null").v4_or_text(), None);
        assert_eq!(read("\"x\"").v4(), None);
    }

    #[test]
    fn a_label_map_keeps_only_the_keys_podreach_reads() {
        let json = r#"{"app": "x", "pod-template-hash": "5d79", "sidecar.istio.io/status": "{\"a\": [1, 2]}",
            "vpc.amazonaws.com/pod-eni": "[]", "k8s.amazonaws.com/eniConfig": 7, "eks.amazonaws.com/compute-type": null}"#;
        let m: StrMap = serde_json::from_str(json).unwrap();
        assert_eq!(
            m.0,
            [
                (meta_keys::POD_TEMPLATE_HASH, "5d79".to_owned()),
                (meta_keys::POD_ENI, "[]".to_owned()),
                // A number where a string belongs is kept as its text, as before; `null` is absent.
                (meta_keys::ENI_CONFIG, "7".to_owned()),
            ]
        );
        assert_eq!(m.get(meta_keys::POD_TEMPLATE_HASH), Some("5d79"));
        assert_eq!(m.get("app"), None);
        assert_eq!(serde_json::from_str::<StrMap>("[1]").unwrap(), StrMap::default());
    }
}
