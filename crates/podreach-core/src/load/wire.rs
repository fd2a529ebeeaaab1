//! A compact binary form of a parsed input that holds only pods and nodes, converted
//! ([`Parsed::convert_k8s`]): how the page's second worker hands a kubectl export it parsed to
//! the analysis worker. Two workers of a static page share no memory (that needs cross-origin
//! isolation, which needs response headers a static host does not set), so the hand-over is a
//! copy, and this form is much smaller and quicker to read than the JSON it came from.
//!
//! Only an input with nothing else is written: no other kind of document, no diagnostic (their
//! codes are static strings, and an input that has any is rare and small). For any other input
//! [`Parsed::to_wire`] says `None` and the page parses the text in the analysis worker as usual.
//! Reading checks every length against what is left, so a short or damaged form gives `None`,
//! never a panic.

use super::{Batch, Document, K8s, Parsed};
use crate::model::{ExportKind, Node, Pod, Workload};
use std::net::{Ipv4Addr, Ipv6Addr};

/// The form's first bytes, with its version: a form from another build is not read.
const MAGIC: &[u8; 8] = b"podrk8s1";

/// The kinds a form may hold, by their number in it.
const KINDS: [ExportKind; 2] = [ExportKind::Pods, ExportKind::Nodes];

impl Parsed {
    /// The compact form of this input, if it holds only converted pods and nodes and no
    /// diagnostic; `None` otherwise.
    pub fn to_wire(&self) -> Option<Vec<u8>> {
        let a = &self.acc;
        let only_k8s = a.enis.is_empty()
            && a.sgs.is_empty()
            && a.sg_rules.is_empty()
            && a.nacls.is_empty()
            && a.subnets.is_empty()
            && a.prefix_lists.is_empty()
            && a.labelled_entries.is_empty()
            && a.unlabelled_entries == 0
            && a.instances.is_empty()
            && a.coverage.have.iter().chain(&a.coverage.partial).all(|k| KINDS.contains(k))
            && self.documents.iter().all(|d| KINDS.contains(&d.kind))
            && self.sink.is_empty();
        if !only_k8s {
            return None;
        }
        let mut w = Writer(Vec::with_capacity(1 << 16));
        w.0.extend_from_slice(MAGIC);
        for set in [&a.coverage.have, &a.coverage.partial] {
            w.u8(KINDS.iter().enumerate().filter(|(_, k)| set.contains(k)).map(|(i, _)| 1u8 << i).sum());
        }
        w.len(self.documents.len());
        for d in &self.documents {
            w.str(&d.file);
            for n in [d.line, d.start, d.end, d.count] {
                w.len(n);
            }
            w.u8(u8::try_from(KINDS.iter().position(|k| *k == d.kind)?).ok()?);
            w.u8(u8::from(d.partial));
        }
        w.batches(&a.pods, Writer::pod)?;
        w.batches(&a.nodes, Writer::node)?;
        Some(w.0)
    }

    /// Reads the form [`Parsed::to_wire`] wrote; `None` if `bytes` are not such a form whole.
    pub fn from_wire(bytes: &[u8]) -> Option<Parsed> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(MAGIC.len())? != MAGIC {
            return None;
        }
        let mut parsed =
            Parsed { acc: super::Acc::default(), sink: crate::diag::Sink::default(), documents: Vec::new() };
        for set in [&mut parsed.acc.coverage.have, &mut parsed.acc.coverage.partial] {
            let bits = r.u8()?;
            if bits >> KINDS.len() != 0 {
                return None;
            }
            set.extend(KINDS.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, k)| *k));
        }
        for _ in 0..r.count(7)? {
            let file = r.string()?;
            let (line, start, end, count) = (r.len()?, r.len()?, r.len()?, r.len()?);
            let kind = *KINDS.get(usize::from(r.u8()?))?;
            let partial = r.bool()?;
            parsed.documents.push(Document { file, line, start, end, kind, count, partial });
        }
        parsed.acc.pods = r.batches(Reader::pod)?;
        parsed.acc.nodes = r.batches(Reader::node)?;
        (r.at == bytes.len()).then_some(parsed)
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, b: u8) {
        self.0.push(b);
    }

    /// A length or count: seven bits a byte, low first (LEB128).
    fn len(&mut self, n: usize) {
        let mut n = n as u64;
        while n >= 0x80 {
            self.0.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        self.0.push(n as u8);
    }

    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
            None => self.u8(0),
        }
    }

    /// Each batch's file and items, with `item`; `None` if any batch is not converted.
    fn batches<C>(&mut self, pile: &[K8s<C>], item: fn(&mut Writer, &C)) -> Option<()> {
        self.len(pile.len());
        for b in pile {
            let K8s::Converted(b) = b else { return None };
            self.str(&b.file);
            self.len(b.items.len());
            for i in &b.items {
                item(self, i);
            }
        }
        Some(())
    }

    fn node(&mut self, n: &Node) {
        self.str(&n.name);
        self.opt_str(n.instance.as_deref());
        match n.internal_ip {
            Some(ip) => {
                self.u8(1);
                self.0.extend_from_slice(&ip.octets());
            }
            None => self.u8(0),
        }
        self.opt_str(n.eni_config.as_deref());
        self.u8(u8::from(n.fargate));
    }

    fn pod(&mut self, p: &Pod) {
        self.str(&p.namespace);
        self.str(&p.name);
        self.opt_str(p.node.as_deref());
        self.u8(u8::from(p.host_network));
        self.len(p.ips.len());
        for ip in &p.ips {
            self.0.extend_from_slice(&ip.octets());
        }
        self.len(p.ipv6.len());
        for ip in &p.ipv6 {
            self.0.extend_from_slice(&ip.octets());
        }
        self.opt_str(p.branch_eni.as_deref());
        match &p.owner {
            Some(w) => {
                self.u8(1);
                self.str(&w.kind);
                self.str(&w.name);
            }
            None => self.u8(0),
        }
        self.opt_str(p.phase.as_deref());
    }
}

struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Option<&'b [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u8(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn bool(&mut self) -> Option<bool> {
        match self.u8()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    fn len(&mut self) -> Option<usize> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            n |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return usize::try_from(n).ok();
            }
        }
        None
    }

    /// A count of items each at least `min` bytes long: more than what is left can hold is
    /// damage, and is not allocated for.
    fn count(&mut self, min: usize) -> Option<usize> {
        let n = self.len()?;
        (n <= (self.bytes.len() - self.at.min(self.bytes.len())) / min.max(1)).then_some(n)
    }

    fn string(&mut self) -> Option<String> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).ok().map(str::to_owned)
    }

    fn opt_string(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            1 => self.string().map(Some),
            _ => None,
        }
    }

    /// Batches as [`Writer::batches`] wrote them, each item read with `item` (at least four bytes
    /// long each).
    fn batches<C>(&mut self, item: fn(&mut Reader<'b>) -> Option<C>) -> Option<Vec<K8s<C>>> {
        (0..self.count(2)?)
            .map(|_| {
                let file = self.string()?;
                let items = (0..self.count(4)?).map(|_| item(self)).collect::<Option<Vec<C>>>()?;
                Some(K8s::Converted(Batch { file, items }))
            })
            .collect()
    }

    fn node(&mut self) -> Option<Node> {
        let name = self.string()?;
        let instance = self.opt_string()?;
        let internal_ip = match self.u8()? {
            0 => None,
            1 => Some(Ipv4Addr::from(self.array::<4>()?)),
            _ => return None,
        };
        let eni_config = self.opt_string()?;
        let fargate = self.bool()?;
        Some(Node { name, instance, internal_ip, eni_config, fargate })
    }

    fn pod(&mut self) -> Option<Pod> {
        let namespace = self.string()?;
        let name = self.string()?;
        let node = self.opt_string()?;
        let host_network = self.bool()?;
        let ips = (0..self.count(4)?).map(|_| self.array::<4>().map(Ipv4Addr::from)).collect::<Option<_>>()?;
        let ipv6 = (0..self.count(16)?).map(|_| self.array::<16>().map(Ipv6Addr::from)).collect::<Option<_>>()?;
        let branch_eni = self.opt_string()?;
        let owner = match self.u8()? {
            0 => None,
            1 => Some(Workload { kind: self.string()?, name: self.string()? }),
            _ => return None,
        };
        let phase = self.opt_string()?;
        Some(Pod { namespace, name, node, host_network, ips, ipv6, branch_eni, owner, phase })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{assemble, parse, Input};

    const PODS: &str = r#"{"apiVersion": "v1", "kind": "List", "items": [
      {"kind": "Pod", "metadata": {"name": "a", "namespace": "x",
        "ownerReferences": [{"kind": "ReplicaSet", "name": "web-5d9f", "controller": true}],
        "labels": {"pod-template-hash": "5d9f"},
        "annotations": {"vpc.amazonaws.com/pod-eni": "[{\"eniId\": \"eni-0b1\"}]"}},
       "spec": {"nodeName": "n1"}, "status": {"phase": "Running", "podIP": "10.0.0.7",
        "podIPs": [{"ip": "10.0.0.7"}, {"ip": "2600:1f18::7"}]}},
      {"kind": "Pod", "metadata": {"name": "b"}, "spec": {"hostNetwork": true}, "status": {}},
      {"kind": "Node", "metadata": {"name": "n1", "labels": {"eks.amazonaws.com/compute-type": "fargate"}},
       "spec": {"providerID": "aws:///us-east-1a/i-0abc"},
       "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.5"}]}},
      {"kind": "Node", "metadata": {"name": "n2"}}
    ]}"#;

    fn parsed(text: &str) -> Parsed {
        let mut p = parse(&Input { name: "pods.json", bytes: text.as_bytes() });
        p.convert_k8s();
        p
    }

    #[test]
    fn a_form_read_back_builds_the_same_model() {
        let wire = parsed(PODS).to_wire().expect("only pods and nodes");
        let back = Parsed::from_wire(&wire).expect("a whole form");
        assert_eq!(back.documents, parsed(PODS).documents);
        let (a, b) = (assemble([back]), assemble([parse(&Input { name: "pods.json", bytes: PODS.as_bytes() })]));
        assert_eq!(a.model.pods, b.model.pods);
        assert_eq!(a.model.nodes, b.model.nodes);
        assert_eq!(a.model.coverage, b.model.coverage);
        assert_eq!(a.diagnostics, b.diagnostics);
        assert_eq!(a.model.pods.len(), 2);
        // Sorted by namespace: `default/b`, then `x/a`, with both of its addresses and its owner.
        assert_eq!(a.model.pods[1].ipv6.len(), 1);
        assert_eq!(a.model.pods[1].owner.as_ref().map(|w| w.name.as_str()), Some("web"));
        assert_eq!(a.model.pods[1].branch_eni.as_deref(), Some("eni-0b1"));
        assert_eq!(a.model.nodes[0].internal_ip, Some(Ipv4Addr::new(10, 0, 0, 5)));
    }

    #[test]
    fn every_shorter_or_longer_form_is_refused() {
        let wire = parsed(PODS).to_wire().expect("only pods and nodes");
        for n in 0..wire.len() {
            assert!(Parsed::from_wire(&wire[..n]).is_none(), "a form cut at {n} bytes was read");
        }
        let mut longer = wire.clone();
        longer.push(0);
        assert!(Parsed::from_wire(&longer).is_none());
        // A damaged byte anywhere may read as another form, but never panics.
        for at in 0..wire.len() {
            let mut bad = wire.clone();
            bad[at] ^= 0xff;
            let _ = Parsed::from_wire(&bad);
        }
    }

    #[test]
    fn an_input_with_anything_else_has_no_form() {
        let enis = r#"{"NetworkInterfaces": []}"#;
        assert!(parsed(enis).to_wire().is_none());
        // Not converted yet.
        assert!(parse(&Input { name: "p", bytes: PODS.as_bytes() }).to_wire().is_none());
        // A diagnostic: a pod-eni annotation that is not json.
        let bad = PODS.replace(r#""[{\"eniId\": \"eni-0b1\"}]""#, r#""nope""#);
        let p = parsed(&bad);
        assert!(!p.sink.is_empty());
        assert!(p.to_wire().is_none());
    }
}
