//! One large document parsed in two halves at once, or, without a join, its big array read
//! element by element in one run (each ENI, kubectl item and security group by `load::fast` where it can).
//!
//! A whole-account `describe-network-interfaces` is one object holding one long array, and it is
//! more than half of a typical export: parsed whole, it keeps one thread busy while the other has
//! finished every other file. The AWS CLI and kubectl print JSON indented, one array element
//! after another at the same indentation; a line holding only that indentation and `{` after a
//! `,` is where the second half may begin.
//!
//! The guess is never trusted:
//! - the first half is parsed element by element from the real start of the array and must end
//!   exactly at the comma before the guessed element, so the guess is an element of that array;
//! - the second half must end at the array's `]`;
//! - the rest of the document (what comes before the array and after it) is parsed as the
//!   document itself, with an empty array, and must hold the array's key once, at the top.
//!
//! Anything else (compact JSON, another shape, a syntax error anywhere) returns `None`, and the
//! caller parses the text as usual, so messages about bad input come from one place. The result
//! is the same [`TopLevel`] the usual parse gives. One difference cannot show: elements parsed on
//! their own start two levels shallower under serde_json's nesting limit (128), but the element
//! types nest a dozen levels at most, and what they ignore is skipped without a limit, so neither
//! parse reaches it.

use super::{first_non_ws, TopLevel};
use crate::aws;
use crate::lenient::{List, Obj};
use crate::par::Join;
use serde::Deserialize;

/// The arrays worth splitting, or reading element by element: the ENIs of
/// `describe-network-interfaces`, the items of a `kubectl get … -o json` list (pods are the
/// second-largest file) and the groups of `describe-security-groups` (the third).
const KEYS: [&str; 3] = ["\"NetworkInterfaces\"", "\"items\"", "\"SecurityGroups\""];

/// How far into the text the array must begin (kubectl prints `apiVersion` before `items`).
const HEADER_MAX: usize = 4096;

/// Parses `text`, one JSON object whose array under one of [`KEYS`] is split between the two
/// sides of `join`, or read in one run without a join (`load::parse`: the elements then go
/// through their own readers all the same). Returns the document and its span (first byte, one
/// past the last), or `None` when the text does not have that shape.
pub(super) fn parse(text: &str, join: Option<&impl Join>) -> Option<(TopLevel, (usize, usize))> {
    let bytes = text.as_bytes();
    let start = first_non_ws(text, 0);
    if bytes.get(start) != Some(&b'{') {
        return None;
    }
    let head = text.get(start..(start + HEADER_MAX).min(text.len()))?;
    let (key, open) = KEYS.iter().find_map(|k| {
        let at = start + head.find(k)?;
        let after = skip_ws(bytes, at + k.len());
        (bytes.get(after) == Some(&b':')).then_some(())?;
        let open = skip_ws(bytes, after + 1);
        (bytes.get(open) == Some(&b'[')).then_some((*k, open))
    })?;
    let split = match join {
        Some(join) => Some((join, cut(text, open)?)),
        None => None,
    };
    let (top, end) = match key {
        "\"NetworkInterfaces\"" => document::<aws::NetworkInterface>(text, (start, open), split, key, |t| &mut t.enis)?,
        "\"SecurityGroups\"" => document::<aws::SecurityGroup>(text, (start, open), split, key, |t| &mut t.sgs)?,
        _ => document::<aws::K8sObject>(text, (start, open), split, key, |t| &mut t.items)?,
    };
    Some((top, (start, end)))
}

/// The document whose array (under `key`, opening at `open`) is `field`: the array parsed in
/// halves through `join` when it is cut (at `cut`), else in one run, and the rest of the document
/// around it, which must have read that key as an empty array. Returns the document and the
/// offset one past its end.
fn document<T: Element>(
    text: &str,
    (start, open): (usize, usize),
    split: Option<(&impl Join, (usize, usize))>,
    key: &str,
    field: fn(&mut TopLevel) -> &mut Option<List<T>>,
) -> Option<(TopLevel, usize)> {
    let (list, close) = match split {
        Some((join, cut)) => halves::<T>(text, open, cut, join)?,
        None => elements::<T>(text, open + 1, None)?,
    };
    let (mut top, end) = envelope(text, start, open, close, key)?;
    let slot = field(&mut top);
    slot.as_ref().is_some_and(|l| l.items.is_empty() && l.dropped == 0).then_some(())?;
    *slot = Some(list);
    Some((top, end))
}

/// Where the second half begins: the byte offset of the `,` before a line that holds only the
/// first element's indentation and `{`, at or after the middle of the array. `None` when the array
/// is not printed one element per indented block.
fn cut(text: &str, open: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let first = skip_ws(bytes, open + 1);
    if bytes.get(first) != Some(&b'{') {
        return None;
    }
    let line_start = bytes.get(..first)?.iter().rposition(|&b| b == b'\n')? + 1;
    let indent = text.get(line_start..first)?;
    if line_start <= open || indent.is_empty() || !indent.bytes().all(|b| b == b' ' || b == b'\t') {
        return None;
    }
    let needle = format!("\n{indent}{{");
    let needle = needle.as_bytes();
    // The first such line at or after the middle, or else the last one before it (an array of
    // two or three elements). Bytes, not text: the middle may fall inside a character.
    let middle = open + (text.len() - open) / 2;
    let at = bytes
        .get(middle..)
        .and_then(|after| after.windows(needle.len()).position(|w| w == needle))
        .map(|i| middle + i)
        .or_else(|| {
            let before = bytes.get(first..(middle + needle.len()).min(bytes.len()))?;
            before.windows(needle.len()).rposition(|w| w == needle).map(|i| first + i)
        })?;
    let second = at + needle.len() - 1;
    let comma = bytes.get(..at)?.iter().rposition(|&b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))?;
    (bytes.get(comma) == Some(&b',')).then_some((comma, second))
}

/// Parses the array that opens at `open` in two halves, the second from `cut.1`, and returns the
/// whole list and the offset of its `]`.
fn halves<T: Element>(
    text: &str,
    open: usize,
    (comma, second): (usize, usize),
    join: &impl Join,
) -> Option<(List<T>, usize)> {
    let (first, rest) = join.join(|| elements::<T>(text, open + 1, Some(comma)), || elements::<T>(text, second, None));
    let (mut list, _) = first?;
    let (tail, close) = rest?;
    list.items.extend(tail.items);
    list.dropped += tail.dropped;
    Some((list, close))
}

/// Array elements from `from`, as [`List`] reads them, up to the comma at `until` (which must
/// follow an element) or, without `until`, up to the closing `]`; returns the list and where it
/// stopped.
fn elements<T: Element>(text: &str, from: usize, until: Option<usize>) -> Option<(List<T>, usize)> {
    let bytes = text.as_bytes();
    let mut list = List::default();
    let mut at = from;
    loop {
        let (item, end) = match T::read(text, at) {
            Some((item, end)) => (Some(item), end),
            None => by_serde::<T>(text, at)?,
        };
        match item {
            Some(item) => list.items.push(item),
            None => list.dropped += 1,
        }
        if list.items.len() == SIZED_AFTER {
            reserve_for_rest(&mut list.items, end - from, text.len() - end);
        }
        at = skip_ws(bytes, end);
        match (bytes.get(at)?, until) {
            (b',', Some(u)) if at == u => return Some((list, at)),
            (b',', Some(u)) if at > u => return None,
            (b',', _) => at += 1,
            (b']', None) => return Some((list, at)),
            _ => return None,
        }
    }
}

/// How many elements [`elements`] reads before it makes room for the rest of the text's worth.
const SIZED_AFTER: usize = 32;

/// Makes room in `items`, whose elements took `read` bytes of text, for as many more as `left`
/// bytes of text would hold at that size, and an eighth more. A list that grows by doubling
/// copies all it holds at each step and writes each new buffer's fresh pages (at 50,000 nodes,
/// 500,000 ENIs: memory copies and page clearing were a fifth of a one-job CLI run,
/// BENCHMARKS.md item 66). Room the elements do not take is never written, so it costs no memory
/// but address space; the first half of an array parsed in halves makes room for the whole
/// array, so the second half is appended without another copy of the first.
fn reserve_for_rest<T>(items: &mut Vec<T>, read: usize, left: usize) {
    let per = (read / items.len().max(1)).max(1);
    let more = left / per;
    let _ = items.try_reserve(more + more / 8);
}

/// The document with its array left empty: the text before the array's `[` and from its `]` on,
/// parsed as the usual parse would. The array's key must occur in neither part (a key given twice
/// keeps its last value). Returns the document and the offset one past its end.
fn envelope(text: &str, start: usize, open: usize, close: usize, key: &str) -> Option<(TopLevel, usize)> {
    let before = text.get(start..=open)?;
    let after = text.get(close..)?;
    if before.matches(key).count() != 1 || after.contains(key) {
        return None;
    }
    let mut doc = String::with_capacity(before.len() + after.len());
    doc.push_str(before);
    doc.push_str(after);
    let top: TopLevel = serde_json::from_str(&doc).ok()?;
    let end = text.trim_end_matches([' ', '\t', '\n', '\r']).len();
    Some((top, end))
}

/// The element at `at` read by serde (`None` inside when it is not an object, which [`List`]
/// drops and counts), and the offset one past it; `None` on a syntax error.
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn by_serde<T: Element>(text: &str, at: usize) -> Option<(Option<T>, usize)> {
    let mut stream = serde_json::Deserializer::from_str(text.get(at..)?).into_iter::<Obj<T>>();
    let item = stream.next()?.ok()?;
    Some((item.0, at + stream.byte_offset()))
}

/// An element type of a splittable array, with its own reader where it has one.
trait Element: for<'de> Deserialize<'de> + Send {
    /// The element that starts at `at` (white space allowed before it) and the offset one past
    /// its end, or `None` when serde must read it.
    fn read(_text: &str, _at: usize) -> Option<(Self, usize)> {
        None
    }
}

impl Element for aws::NetworkInterface {
    fn read(text: &str, at: usize) -> Option<(Self, usize)> {
        super::fast::network_interface(text, at)
    }
}

impl Element for aws::SecurityGroup {
    fn read(text: &str, at: usize) -> Option<(Self, usize)> {
        super::fast::security_group(text, at)
    }
}

impl Element for aws::K8sObject {
    fn read(text: &str, at: usize) -> Option<(Self, usize)> {
        super::fast::k8s_object(text, at)
    }
}

fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use crate::load::{assemble, parse, parse_in_halves, Input};
    use crate::par::Sequential;

    /// Parses `text` whole and, if it splits, in halves; the two must agree in every diagnostic,
    /// document and report byte. Returns whether it split.
    fn halves_agree(text: &str) -> bool {
        let input = Input { name: "t.json", bytes: text.as_bytes() };
        let whole = assemble([parse(&input)]);
        let Some(part) = parse_in_halves(&input, &Sequential) else { return false };
        let halves = assemble([part]);
        assert_eq!(whole.diagnostics, halves.diagnostics);
        assert_eq!(whole.documents, halves.documents);
        let json = |l: &crate::load::Loaded| crate::report::build(l, None).map(|r| crate::render::json(&r)).ok();
        assert_eq!(json(&whole), json(&halves));
        true
    }

    fn eni(id: &str, ip: &str) -> String {
        format!(
            "        {{\n            \"NetworkInterfaceId\": \"{id}\",\n            \"PrivateIpAddress\": \"{ip}\",\n            \"Groups\": [\n                {{\n                    \"GroupId\": \"sg-1\"\n                }}\n            ]\n        }}"
        )
    }

    fn enis(n: usize, after: &str) -> String {
        let items: Vec<String> = (0..n).map(|i| eni(&format!("eni-{i}"), &format!("10.0.0.{i}"))).collect();
        format!("{{\n    \"NetworkInterfaces\": [\n{}\n    ]{after}\n}}\n", items.join(",\n"))
    }

    #[test]
    fn aws_cli_output_splits() {
        assert!(halves_agree(&enis(2, "")));
        assert!(halves_agree(&enis(7, "")));
        assert!(halves_agree(&enis(7, "").replace('\n', "\r\n")));
        assert!(halves_agree(&format!("\u{feff}{}", enis(3, ""))));
        // A page that is not the last: the warning comes from the rest of the document.
        assert!(halves_agree(&enis(4, ",\n    \"NextToken\": \"abc\"")));
    }

    #[test]
    fn kubectl_lists_split() {
        let pod = |i: usize| {
            format!(
                "        {{\n            \"kind\": \"Pod\",\n            \"metadata\": {{\n                \"name\": \"p{i}\",\n                \"namespace\": \"default\"\n            }},\n            \"status\": {{\n                \"podIP\": \"10.0.0.{i}\"\n            }}\n        }}"
            )
        };
        let items: Vec<String> = (0..5).map(pod).collect();
        let text = format!(
            "{{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n{}\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {{\n        \"resourceVersion\": \"\"\n    }}\n}}\n",
            items.join(",\n")
        );
        assert!(halves_agree(&text));
    }

    #[test]
    fn odd_elements_are_dropped_alike() {
        let text = enis(4, "").replace(
            "        {\n            \"NetworkInterfaceId\": \"eni-2\"",
            "        7,\n        null,\n        {\n            \"NetworkInterfaceId\": \"eni-2\"",
        );
        assert!(text.contains("null"));
        assert!(halves_agree(&text));
    }

    #[test]
    fn what_does_not_split_is_parsed_whole() {
        // Compact JSON, one element, an empty array, several documents.
        assert!(!halves_agree(
            r#"{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-1"},{"NetworkInterfaceId":"eni-2"}]}"#
        ));
        assert!(!halves_agree(&enis(1, "")));
        assert!(!halves_agree("{\n    \"NetworkInterfaces\": []\n}\n"));
        assert!(!halves_agree(&format!("{}{}", enis(3, ""), enis(3, ""))));
        // A key given twice keeps its last value; the halves must not resurrect the first.
        assert!(!halves_agree(&enis(4, ",\n    \"NetworkInterfaces\": []")));
        // A syntax error in either half: the usual parse reports it.
        let broken = enis(6, "");
        assert!(!halves_agree(&broken.replacen("\"10.0.0.5\"", "10.0.0.5", 1)));
        assert!(!halves_agree(&broken.replacen("\"10.0.0.0\"", "\"10.0.0.0\",,", 1)));
        assert!(!halves_agree(&broken[..broken.len() - 8]));
    }

    #[test]
    fn a_nested_line_that_looks_like_an_element_is_not_a_cut() {
        // Hand-indented: the groups of the first ENI sit at the elements' indentation, so the
        // guess lands inside the first element; the first half runs past it and the text is
        // parsed whole.
        let groups: Vec<String> = (0..40).map(|i| format!("        {{\"GroupId\": \"sg-{i}\"}}")).collect();
        let text = format!(
            "{{\n    \"NetworkInterfaces\": [\n        {{\"NetworkInterfaceId\": \"eni-1\", \"PrivateIpAddress\": \"10.0.0.1\", \"Groups\": [\n{}\n        ]}},\n        {{\"NetworkInterfaceId\": \"eni-2\"}}\n    ]\n}}\n",
            groups.join(",\n")
        );
        assert!(!halves_agree(&text));
    }
}
