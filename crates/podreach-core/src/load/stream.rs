//! One large input read while its bytes are still arriving, front to back: the page reads a
//! whole-account export in slices, and the ENIs' array can be read element by element from the
//! slices already in while the rest is still being read (BENCHMARKS.md item 53).
//!
//! It reads only what [`halves`](super::halves) reads, an AWS CLI or kubectl document printed
//! one array element per indented block, and trusts no more: each run of elements it reads must
//! end exactly at the comma before a line that begins an element, the last must end at the
//! array's `]`, and the rest of the document must read as the usual parse reads it. Anything else
//! (compact JSON, another shape, a syntax error, bytes that are not UTF-8) leaves the input to
//! the usual parse once all of it is in, so the result is always [`parse`](super::parse)'s.

use super::halves::{self, Element};
use super::{first_non_ws, Input, Parsed, TopLevel, BOM};
use crate::aws;
use crate::lenient::List;

/// Runs of elements shorter than this wait for more bytes: each run costs a look for the last
/// element's line and a check of its text.
const RUN_MIN: usize = 256 * 1024;

/// An input read while its bytes arrive: [`Stream::feed`] it the bytes in so far, as often as
/// they grow, and [`Stream::finish`] it with all of them.
pub struct Stream {
    state: State,
    /// The shortest run of elements read at once.
    run: usize,
}

impl Default for Stream {
    fn default() -> Self {
        Stream { state: State::Head, run: RUN_MIN }
    }
}

#[derive(Default)]
enum State {
    /// Not enough bytes yet to find the array.
    #[default]
    Head,
    /// Reading the array's elements.
    Array(Box<Array>),
    /// Not a document this reads: the usual parse reads the input once it is all in.
    Whole,
}

struct Array {
    /// Bytes of byte-order mark before the text.
    bom: usize,
    /// In the text after the mark: the document's first byte and the array's `[`.
    start: usize,
    open: usize,
    key: &'static str,
    /// The line that begins each element (`halves::element_line`).
    line: Vec<u8>,
    /// Where the elements still to read begin (just after a comma, or after the `[`).
    next: usize,
    /// The shortest run of elements read at once.
    run: usize,
    items: Items,
}

/// The elements read so far, of the array's type.
enum Items {
    Enis(List<aws::NetworkInterface>),
    Groups(List<aws::SecurityGroup>),
    Objects(List<aws::K8sObject>),
}

impl Items {
    fn of(key: &str) -> Items {
        match key {
            "\"NetworkInterfaces\"" => Items::Enis(List::default()),
            "\"SecurityGroups\"" => Items::Groups(List::default()),
            _ => Items::Objects(List::default()),
        }
    }

    /// Reads the elements of `text` from its start, up to the comma at `until` or, without it, up
    /// to the array's `]`; returns where it stopped, or `None` if the text is not that.
    fn read(&mut self, text: &str, until: Option<usize>) -> Option<usize> {
        fn more<T: Element>(list: &mut List<T>, text: &str, until: Option<usize>) -> Option<usize> {
            let (run, end) = halves::elements::<T>(text, 0, until)?;
            list.items.extend(run.items);
            list.dropped += run.dropped;
            Some(end)
        }
        match self {
            Items::Enis(l) => more(l, text, until),
            Items::Groups(l) => more(l, text, until),
            Items::Objects(l) => more(l, text, until),
        }
    }

    /// The document around the array, with the elements in its place.
    fn envelope(self, before: &str, after: &str, key: &str) -> Option<TopLevel> {
        match self {
            Items::Enis(l) => halves::envelope(before, after, key, l),
            Items::Groups(l) => halves::envelope(before, after, key, l),
            Items::Objects(l) => halves::envelope(before, after, key, l),
        }
    }
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    /// For tests: a stream that reads runs of elements from `run` bytes long, so that small
    /// inputs are read in many runs.
    #[doc(hidden)]
    pub fn with_run(run: usize) -> Stream {
        Stream { state: State::Head, run }
    }

    /// Reads what it can of `prefix`, the input's first bytes (the same bytes every time, and
    /// more of them each time): the array's elements up to the last element that begins in it.
    pub fn feed(&mut self, prefix: &[u8]) {
        self.state = match std::mem::take(&mut self.state) {
            State::Head => head(prefix, self.run),
            State::Array(mut a) => match a.feed(prefix) {
                Some(()) => State::Array(a),
                None => State::Whole,
            },
            State::Whole => State::Whole,
        };
    }

    /// Whether it has read part of the array (for tests).
    #[doc(hidden)]
    pub fn streaming(&self) -> bool {
        matches!(&self.state, State::Array(a) if a.next > a.open + 1)
    }

    /// The input read, all of its bytes in `input` (those fed before first): the same as
    /// [`parse`](super::parse)`(input)`.
    pub fn finish(self, input: &Input<'_>) -> Parsed {
        self.finish_streamed(input).unwrap_or_else(|| super::parse(input))
    }

    /// For tests: [`Stream::finish`] when the stream reads the rest of the input itself, `None`
    /// when the input is left to the usual parse.
    #[doc(hidden)]
    pub fn finish_streamed(self, input: &Input<'_>) -> Option<Parsed> {
        match self.state {
            State::Array(a) => a.finish(input),
            State::Head | State::Whole => None,
        }
    }
}

/// Finds the array once `prefix` holds the start of the document: the state to go on in.
fn head(prefix: &[u8], run: usize) -> State {
    let bom = if prefix.starts_with(BOM) { BOM.len() } else { 0 };
    if prefix.len() < BOM.len() {
        return State::Head;
    }
    let bytes = prefix.get(bom..).unwrap_or(&[]);
    // The valid text so far; a character cut by the prefix's end is not an error yet.
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() => {
            bytes.get(..e.valid_up_to()).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("")
        }
        Err(_) => return State::Whole,
    };
    let start = first_non_ws(text, 0);
    // The usual parse looks for the key in the first `HEADER_MAX` bytes of the document and
    // checks what follows it: wait until all that is in, with room to spare, so that both see
    // the same bytes.
    if text.len() <= start + halves::HEADER_MAX + run {
        return State::Head;
    }
    let Some((key, open)) = halves::array(text, start) else { return State::Whole };
    if open + run > text.len() {
        return State::Whole;
    }
    let Some(line) = halves::element_line(text, open) else { return State::Whole };
    let mut a = Array { bom, start, open, key, line: line.into_bytes(), next: open + 1, run, items: Items::of(key) };
    match a.feed(prefix) {
        Some(()) => State::Array(Box::new(a)),
        None => State::Whole,
    }
}

impl Array {
    /// Reads the elements from `next` up to the last element that begins in `prefix`. `None` if
    /// they are not elements of the array.
    fn feed(&mut self, prefix: &[u8]) -> Option<()> {
        let bytes = prefix.get(self.bom..)?;
        let from = self.next;
        let rest = bytes.get(from..)?;
        if rest.len() < self.run.max(1) {
            return Some(());
        }
        let n = self.line.len();
        // The last element line in the bytes not read yet, with the comma before it. None yet
        // (an element longer than what is in, or the first element's own line): wait for more.
        let Some(at) = rest.windows(n).rposition(|w| w == self.line.as_slice()).map(|i| from + i) else {
            return Some(());
        };
        let Some(comma) = halves::comma_before(bytes, at).filter(|c| *c >= from) else { return Some(()) };
        let text = std::str::from_utf8(bytes.get(from..=comma)?).ok()?;
        self.items.read(text, Some(comma - from))?;
        self.next = comma + 1;
        Some(())
    }

    /// The rest of the array and the document around it, read from all of the input's bytes;
    /// `None` if they are not what the usual parse reads as one such document.
    fn finish(mut self, input: &Input<'_>) -> Option<Parsed> {
        let bytes = input.bytes.get(self.bom..)?;
        if self.bom > 0 && !input.bytes.starts_with(BOM) {
            return None;
        }
        let head = std::str::from_utf8(bytes.get(..=self.open)?).ok()?;
        let rest = std::str::from_utf8(bytes.get(self.next..)?).ok()?;
        let close = self.items.read(rest, None)?;
        let top = self.items.envelope(head.get(self.start..)?, rest.get(close..)?, self.key)?;
        let end = self.next + rest.trim_end_matches([' ', '\t', '\n', '\r']).len();
        Some(super::parsed_document(input.name, head, top, (self.start, end)))
    }
}

#[cfg(test)]
mod tests {
    use super::Stream;
    use crate::load::{assemble, parse, Input, Loaded};

    /// Feeds `bytes` to a stream `step` bytes more at a time and checks that it gives what
    /// `parse` gives, in every diagnostic, document and report byte. Returns whether the stream
    /// read part of the array before the last bytes came and read the rest itself.
    fn agrees(bytes: &[u8], step: usize) -> bool {
        let input = Input { name: "t.json", bytes };
        let mut stream = Stream::with_run(0);
        let mut n = 0;
        while n + step < bytes.len() {
            n += step;
            stream.feed(&bytes[..n]);
        }
        let early = stream.streaming();
        stream.feed(bytes);
        let streamed = stream.finish_streamed(&input);
        let read_itself = streamed.is_some();
        let mut other = Stream::with_run(0);
        other.feed(bytes);
        let (whole, part) = (assemble([parse(&input)]), assemble([other.finish(&input)]));
        let json = |l: &Loaded| crate::report::build(l, None).map(|r| crate::render::json(&r)).ok();
        for part in [part].into_iter().chain(streamed.map(|p| assemble([p]))) {
            assert_eq!(whole.diagnostics, part.diagnostics);
            assert_eq!(whole.documents, part.documents);
            assert_eq!(json(&whole), json(&part));
        }
        early && read_itself
    }

    fn eni(i: usize) -> String {
        format!(
            "        {{\n            \"NetworkInterfaceId\": \"eni-{i}\",\n            \"Description\": \"nœud {i}\",\n            \"PrivateIpAddress\": \"10.0.{}.{}\",\n            \"Groups\": [\n                {{\n                    \"GroupId\": \"sg-1\"\n                }}\n            ]\n        }}",
            i / 250,
            i % 250
        )
    }

    /// `n` ENIs as the AWS CLI prints them, with `after` after the array.
    fn enis(n: usize, after: &str) -> String {
        let items: Vec<String> = (0..n).map(eni).collect();
        format!("{{\n    \"NetworkInterfaces\": [\n{}\n    ]{after}\n}}\n", items.join(",\n"))
    }

    #[test]
    fn aws_cli_output_is_read_while_it_arrives() {
        for step in [1, 100, 1000] {
            assert!(agrees(enis(80, "").as_bytes(), step));
            assert!(agrees(enis(80, "").replace('\n', "\r\n").as_bytes(), step));
            assert!(agrees(format!("\u{feff}{}", enis(80, "")).as_bytes(), step));
            // A page that is not the last: the warning comes from the rest of the document.
            assert!(agrees(enis(80, ",\n    \"NextToken\": \"abc\"").as_bytes(), step));
        }
    }

    #[test]
    fn short_or_other_shapes_are_left_to_the_usual_parse() {
        // Shorter than the header the array is looked for in; compact; one element; several
        // documents; a key given twice (the last one counts).
        assert!(!agrees(enis(5, "").as_bytes(), 1));
        let compact: Vec<String> = (0..200).map(|i| format!("{{\"NetworkInterfaceId\":\"eni-{i}\"}}")).collect();
        assert!(!agrees(format!("{{\"NetworkInterfaces\":[{}]}}", compact.join(",")).as_bytes(), 10));
        assert!(!agrees(enis(1, "").as_bytes(), 1));
        assert!(!agrees(format!("{}{}", enis(80, ""), enis(3, "")).as_bytes(), 50));
        assert!(!agrees(enis(80, ",\n    \"NetworkInterfaces\": []").as_bytes(), 50));
    }

    #[test]
    fn broken_text_gives_the_usual_messages() {
        let text = enis(80, "");
        let late = text.rfind("\"10.0.0.70\"").unwrap();
        let early = text.find("\"10.0.0.40\"").unwrap();
        for at in [early, late] {
            // A syntax error, in a run read early or in the rest.
            let mut broken = text.clone().into_bytes();
            broken[at] = b'x';
            assert!(!agrees(&broken, 100));
            // A byte that is not UTF-8.
            let mut broken = text.clone().into_bytes();
            broken[at + 1] = 0xff;
            assert!(!agrees(&broken, 100));
        }
        // Cut short: the end never comes.
        assert!(!agrees(&text.as_bytes()[..text.len() - 20], 100));
        // A first slice cut inside a character is no error.
        assert!(agrees(text.as_bytes(), 1));
    }

    #[test]
    fn a_nested_line_that_looks_like_an_element_is_not_read_as_one() {
        // Hand-indented: the groups of an ENI sit at the elements' indentation, so the line that
        // seems to begin an element is inside one; the run that ends there fails and the text is
        // read whole.
        let groups: Vec<String> = (0..40).map(|i| format!("        {{\"GroupId\": \"sg-{i}\"}}")).collect();
        let text = enis(60, "").replacen(
            "        {\n            \"NetworkInterfaceId\": \"eni-30\",",
            &format!("        {{\"NetworkInterfaceId\": \"eni-x\", \"Groups\": [\n{}\n        ]}},\n        {{\n            \"NetworkInterfaceId\": \"eni-30\",", groups.join(",\n")),
            1,
        );
        assert!(text.contains("eni-x"));
        assert!(!agrees(text.as_bytes(), 1));
    }
}
