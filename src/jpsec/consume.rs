//! Consuming a JPSEC-protected file: check the SEC parameters against the
//! codestream, verify every authentication, hash and identification tool
//! that can be verified, decrypt what the keys open, and report per tool
//! and per unit.

use std::collections::HashMap;

use super::keys::{self, JpsecKey};
use super::protect::{content_binding, mac_alg, mac_key_for, seal_mac, splice_sec, SIGN_LABEL};
use super::syntax::{
    AuthMethod, Granularity, PacketState, Params, SecStream, SignatureScheme, Template, Tool,
    DOMAIN_PACKETS, SEC,
};
use super::zone::{self, Key, Layout};
use crate::crypto::longterm::LongTermPublic;
use crate::crypto::mac::{mac_eq, HashAlg};
use crate::crypto::modes::{Mode, UnitCipher};
use crate::j2k::codestream::Codestream;
use crate::j2k::marker::SIZ;
use crate::j2k::J2kFile;
use crate::{Error, ErrorKind, Result};

/// Keys and public keys for [`consume`].
#[derive(Debug, Clone, Default)]
pub struct ConsumeOptions {
    /// Level keys (any level of any tool's chain).
    pub keys: Vec<JpsecKey>,
    /// Public keys of trusted signers.
    pub public_keys: Vec<LongTermPublic>,
}

/// What happened to one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitStatus {
    /// Its MAC, signature-covered hash, or hash matched.
    Verified,
    /// Its MAC or hash did not match: it was modified.
    Failed,
    /// Decrypted.
    Decrypted,
    /// Not decrypted or not verified: no key for its level.
    Locked,
    /// Some of its packets were dropped by a transcoder: not verifiable.
    Incomplete,
    /// All its packets were dropped by a transcoder.
    Absent,
    /// Already decrypted by an earlier (partial) consumer; not verifiable.
    Opened,
    /// Not checked (the tool itself could not be checked).
    Unchecked,
}

impl UnitStatus {
    /// Name for reports.
    pub fn name(self) -> &'static str {
        match self {
            UnitStatus::Verified => "verified",
            UnitStatus::Failed => "FAILED",
            UnitStatus::Decrypted => "decrypted",
            UnitStatus::Locked => "locked (no key for its level)",
            UnitStatus::Incomplete => "incomplete (transcoded; not verifiable)",
            UnitStatus::Absent => "absent (transcoded away)",
            UnitStatus::Opened => "opened earlier (not verifiable)",
            UnitStatus::Unchecked => "unchecked",
        }
    }
}

/// Report of one unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitReport {
    /// The zone it covers ("tile 0 resolution 2").
    pub zone: String,
    /// Key level.
    pub level: u8,
    /// Outcome.
    pub status: UnitStatus,
}

/// Report of one tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolReport {
    /// Tool instance.
    pub instance: u32,
    /// Template (`None` for a tool of another profile).
    pub template: Option<Template>,
    /// One line: what the tool is.
    pub description: String,
    /// One line: the tool-level outcome.
    pub outcome: String,
    /// The tool-level check failed (seal, signature, binding).
    pub failed: bool,
    /// Per unit.
    pub units: Vec<UnitReport>,
}

impl ToolReport {
    /// Count units with `s`.
    pub fn count(&self, s: UnitStatus) -> usize {
        self.units.iter().filter(|u| u.status == s).count()
    }
}

/// Report of a consumption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Per tool, in SEC order.
    pub tools: Vec<ToolReport>,
}

impl Report {
    /// Whether any verification failed.
    pub fn failed(&self) -> bool {
        self.tools
            .iter()
            .any(|t| t.failed || t.units.iter().any(|u| u.status == UnitStatus::Failed))
    }

    /// The failures, one line each.
    pub fn failures(&self) -> Vec<String> {
        let mut v = Vec::new();
        for t in &self.tools {
            if t.failed {
                v.push(format!("tool {}: {}", t.instance, t.outcome));
            }
            for u in &t.units {
                if u.status == UnitStatus::Failed {
                    v.push(format!(
                        "tool {} ({}): {} was modified",
                        t.instance,
                        t.template.map_or("unknown", |x| x.name()),
                        u.zone
                    ));
                }
            }
        }
        v
    }
}

/// Result of [`consume`].
#[derive(Debug, Clone)]
pub struct Consumed {
    /// The output file: `None` when a verification failed (nothing is
    /// decrypted then). Without SEC segments when every protected packet
    /// was opened (the original file), else with them, the opened packets
    /// marked.
    pub output: Option<Vec<u8>>,
    /// Whether every encrypted packet is now in clear.
    pub complete: bool,
    /// What was checked and opened.
    pub report: Report,
}

/// The SEC stream of a parsed file: `None` when it has no SEC segment.
/// The segments must directly follow SIZ, consecutively.
pub fn read_sec(l: &Layout) -> Result<Option<SecStream>> {
    read_sec_in(l.cs(), l.data)
}

/// [`read_sec`] on a codestream that need not be indexable (its packet
/// headers may be encrypted).
pub fn read_sec_in(cs: &Codestream, data: &[u8]) -> Result<Option<SecStream>> {
    let main = &cs.main;
    let first = main.iter().position(|s| s.marker == SEC);
    let Some(first) = first else {
        return Ok(None);
    };
    if first == 0 || main[first - 1].marker != SIZ {
        return Err(Error::malformed_at(
            main[first].offset as u64,
            "SEC segment not directly after SIZ",
        ));
    }
    let mut payloads = Vec::new();
    let mut i = first;
    while i < main.len() && main[i].marker == SEC {
        payloads.push((main[i].offset, main[i].payload(data)));
        i += 1;
    }
    if let Some(s) = main[i..].iter().find(|s| s.marker == SEC) {
        return Err(Error::malformed_at(
            s.offset as u64,
            "SEC segments are not consecutive",
        ));
    }
    if cs
        .tile_parts
        .iter()
        .any(|t| t.segments.iter().any(|s| s.marker == SEC))
    {
        return Err(Error::new(
            ErrorKind::Malformed,
            "SEC segment in a tile-part header (only the main header may carry SEC)",
        ));
    }
    SecStream::from_segments(&payloads).map(Some)
}

fn unit_zone(g: Granularity, k: Key) -> String {
    let (t, l, r, c, p) = k;
    match g {
        Granularity::Tile => format!("tile {t}"),
        Granularity::Resolution => format!("tile {t} resolution {r}"),
        Granularity::Layer => format!("tile {t} layer {l}"),
        Granularity::Component => format!("tile {t} component {c}"),
        Granularity::Precinct => format!("tile {t} resolution {r} component {c} precinct {p}"),
        Granularity::Packet => zone::describe(k),
    }
}

/// Check that the tool's ZOI agrees with the codestream (§9 of the
/// format): every recorded packet is where it says, nothing in its zone is
/// missing from it, and levels are as the key template assigns them.
pub(crate) fn check_zoi(l: &Layout, t: &Tool) -> Result<()> {
    let ctx = |m: String| {
        Error::new(
            ErrorKind::Malformed,
            format!(
                "SEC tool {} ({}): {m}",
                t.instance,
                t.template().map_or("unknown", |x| x.name())
            ),
        )
    };
    let z = &t.zoi;
    let s = &l.cs().siz;
    let sh = z.reduced as u32;
    let red = |v: u32| ((v as u64).div_ceil(1u64 << sh)) as u32;
    if (
        red(z.grid.x0),
        red(z.grid.y0),
        red(z.grid.x1),
        red(z.grid.y1),
    ) != (s.x0, s.y0, s.width, s.height)
    {
        return Err(ctx(format!(
            "the recorded image area ({}..{} x {}..{}, reduced {} times) is not this codestream's",
            z.grid.x0, z.grid.x1, z.grid.y0, z.grid.y1, z.reduced
        )));
    }
    let tpl = match &t.params {
        Params::Decryption(d) => Some(&d.keys),
        Params::Authentication(a) => a.keys.as_ref(),
        _ => None,
    };
    let whole = matches!(&t.params, Params::Decryption(d) if d.domain == DOMAIN_PACKETS);
    let mut seen: HashMap<Key, ()> = HashMap::new();
    for u in &z.units {
        if u.packets.is_empty() {
            return Err(ctx("a unit without packets".into()));
        }
        for p in &u.packets {
            let k = zone::ref_key(p);
            if seen.insert(k, ()).is_some() {
                return Err(ctx(format!("{} is listed twice", zone::describe(k))));
            }
            if let Some(tpl) = tpl {
                let lv = keys::level_of(tpl, p.resolution, p.layer);
                if lv != u.level || (u.level as usize) >= tpl.levels() {
                    return Err(ctx(format!(
                        "{} is recorded at key level {}, its level is {lv}",
                        zone::describe(k),
                        u.level
                    )));
                }
            }
            match (p.state, l.find(k)) {
                (PacketState::Absent, None) => {}
                (PacketState::Absent, Some(_)) => {
                    return Err(ctx(format!(
                        "{} is recorded as dropped but is in the codestream",
                        zone::describe(k)
                    )))
                }
                (_, None) => {
                    return Err(ctx(format!(
                        "{} is recorded but not in the codestream",
                        zone::describe(k)
                    )))
                }
                (_, Some(i)) => {
                    let mut q = l.packet_ref(i);
                    if whole {
                        let pk = &l.index.packets[i];
                        let start = pk.offset + if pk.sop { 6 } else { 0 };
                        q.offset = (start - l.first_sot) as u32;
                        q.body_length = (pk.offset + pk.length - start) as u32;
                    }
                    if q.offset != p.offset || q.body_length != p.body_length {
                        return Err(ctx(format!(
                            "{}: recorded at offset {} with {} body bytes, the codestream has {} bytes at {}",
                            zone::describe(k),
                            p.offset,
                            p.body_length,
                            q.body_length,
                            q.offset
                        )));
                    }
                }
            }
        }
    }
    // Completeness: a packet of the zone that the tool does not list
    // (zones by sequence numbers or byte ranges were resolved into the
    // list when the tool was applied; the list is all there is).
    let layout_zone = z.image.by_layout();
    for p in l.index.packets.iter().filter(|_| !layout_zone) {
        let k = zone::key_of(p);
        if seen.contains_key(&k) || !l.in_zone(p, &z.image) {
            continue;
        }
        let listed = match &t.params {
            Params::Decryption(_) if whole => true,
            Params::Decryption(_) => {
                p.body_length > 0
                    && l.body_mask(p, z.image.region, z.reduced)?
                        .map_or(true, |m| m.iter().any(|&b| b))
            }
            Params::ContentId(_) => true,
            Params::Authentication(_) | Params::Hash(_) => true,
            Params::Unknown { .. } => false,
        };
        if listed {
            return Err(ctx(format!(
                "{} is in the tool's zone but not listed",
                zone::describe(k)
            )));
        }
    }
    Ok(())
}

/// Find the level keys `key_sets` gives for a key template.
fn open_template(
    tpl: &super::syntax::KeyTemplate,
    given: &[JpsecKey],
) -> Option<Vec<Option<JpsecKey>>> {
    given
        .iter()
        .filter_map(|k| keys::open(tpl, k))
        .min_by_key(|(i, _)| *i)
        .map(|(_, ks)| ks)
}

/// Indices (into the layout index) of a unit's packets, `None` when one is
/// absent; and whether one was opened earlier.
fn unit_packets(l: &Layout, u: &super::syntax::Unit) -> (Option<Vec<usize>>, bool, bool) {
    let mut idx = Vec::with_capacity(u.packets.len());
    let mut absent = 0;
    let mut opened = false;
    for p in &u.packets {
        match p.state {
            PacketState::Absent => absent += 1,
            PacketState::Opened => opened = true,
            PacketState::Present => {}
        }
        if let Some(i) = l.find(zone::ref_key(p)) {
            idx.push(i);
        }
    }
    let all_absent = absent == u.packets.len();
    (
        if absent > 0 { None } else { Some(idx) },
        opened,
        all_absent,
    )
}

/// The status of unit number `ui` (`u`) of a tool whose values are unit
/// hashes (hash, content identification, signature): absent, opened
/// earlier, incomplete, or whether its hash is `want`.
fn unit_hash_status(
    l: &mut Layout,
    data: &[u8],
    instance: u32,
    ui: usize,
    u: &super::syntax::Unit,
    alg: HashAlg,
    want: &[u8],
) -> Result<UnitStatus> {
    let (idx, op, all_absent) = unit_packets(l, u);
    if all_absent {
        return Ok(UnitStatus::Absent);
    }
    if op {
        return Ok(UnitStatus::Opened);
    }
    let Some(idx) = idx else {
        return Ok(UnitStatus::Incomplete);
    };
    let mut got = Vec::new();
    super::protect::unit_message(l, data, instance, ui as u32, &idx, &mut |_, feed| {
        let mut h = crate::crypto::mac::Hasher::new(alg);
        feed(&mut |b| h.update(b));
        got = h.finalize();
        Ok(())
    })?;
    Ok(if mac_eq(&got, want) {
        UnitStatus::Verified
    } else {
        UnitStatus::Failed
    })
}

/// Consume `data`: see [`Consumed`]. Errors: not protected or a SEC that
/// does not match the codestream (`Malformed`), a key that opens none of
/// the keyed tools (`BadKey`).
pub fn consume(data: &[u8], opts: &ConsumeOptions) -> Result<Consumed> {
    let file = J2kFile::parse(data)?;
    let Some(mut sec) = read_sec_in(&file.codestream, data)? else {
        return Err(Error::invalid_argument(
            "the file has no SEC marker segment: it is not JPSEC-protected",
        ));
    };
    let is_whole =
        |t: &Tool| matches!(&t.params, Params::Decryption(d) if d.domain == DOMAIN_PACKETS);
    // Whole-packet tools come last (they hide the headers the others
    // need): they are undone first, from their ZOI alone.
    let n_main = sec.tools.len() - sec.tools.iter().rev().take_while(|t| is_whole(t)).count();
    if let Some(t) = sec.tools[..n_main].iter().find(|t| is_whole(t)) {
        return Err(Error::new(
            ErrorKind::Malformed,
            format!(
                "SEC tool {}: a whole-packet decryption tool before other tools",
                t.instance
            ),
        ));
    }
    // Level keys per keyed tool.
    let mut opened: Vec<Option<Vec<Option<JpsecKey>>>> = Vec::new();
    let mut any_keyed = false;
    for t in &sec.tools {
        let tpl = match &t.params {
            Params::Decryption(d) => Some(&d.keys),
            Params::Authentication(a) => a.keys.as_ref(),
            _ => None,
        };
        any_keyed |= tpl.is_some();
        opened.push(tpl.and_then(|tpl| open_template(tpl, &opts.keys)));
    }
    if !opts.keys.is_empty() && any_keyed && opened.iter().all(|o| o.is_none()) {
        return Err(Error::new(
            ErrorKind::BadKey,
            "wrong key: it is none of the access-level keys of this file's tools",
        ));
    }
    let canonical = sec.to_bytes(true);
    let mut cur = data.to_vec();
    let mut reports: Vec<ToolReport> = Vec::with_capacity(sec.tools.len());
    let mut newly_opened: std::collections::HashSet<Key> = std::collections::HashSet::new();
    let mut still_hidden = false;
    for ti in (n_main..sec.tools.len()).rev() {
        let (rep, hidden) = open_whole(
            &file,
            &sec.tools[ti],
            opened[ti].as_deref(),
            &mut cur,
            &mut newly_opened,
        )?;
        still_hidden |= hidden;
        reports.push(rep);
    }
    if still_hidden {
        // The packet headers of some packets stay encrypted: nothing else
        // can be read. Report, mark what was opened, write.
        for t in sec.tools[..n_main].iter().rev() {
            reports.push(ToolReport {
                instance: t.instance,
                template: t.template(),
                description: t
                    .template()
                    .map_or("tool of another profile", |x| x.name())
                    .to_string(),
                outcome:
                    "not checked: some packets' headers stay encrypted (their level key is needed)"
                        .into(),
                failed: false,
                units: Vec::new(),
            });
        }
        reports.reverse();
        mark_opened(&mut sec, &newly_opened);
        return Ok(Consumed {
            output: Some(super::protect::insert_sec(&file, &cur, &sec)?),
            complete: false,
            report: Report { tools: reports },
        });
    }
    let base = cur.clone();
    let mut l = Layout::new(&base)?;
    for t in &sec.tools {
        if t.template().is_some() {
            check_zoi(&l, t)?;
        }
    }
    for ti in (0..n_main).rev() {
        let t = sec.tools[ti].clone();
        let template = t.template();
        let mut rep = ToolReport {
            instance: t.instance,
            template,
            description: String::new(),
            outcome: String::new(),
            failed: false,
            units: Vec::new(),
        };
        match &t.params {
            Params::Unknown { t: tb, .. } => {
                rep.description = format!("tool of another profile (t = 0x{tb:02x}); ignored");
                rep.outcome = "ignored".into();
            }
            Params::Decryption(d) => {
                let mode = Mode::from_code(d.mode)
                    .ok_or_else(|| Error::new(ErrorKind::Internal, "mode"))?;
                rep.description = format!(
                    "decryption: AES-{} {}{}, {} level(s) by {}, {} packet(s){}",
                    d.key_bits,
                    mode.name().to_uppercase(),
                    if d.compliant { " format-compliant" } else { "" },
                    d.keys.levels(),
                    d.keys.access.name(),
                    t.zoi.units.len(),
                    t.zoi
                        .image
                        .region
                        .map(|(r, o)| format!(
                            ", region {}..{} x {}..{}{}",
                            r.x0,
                            r.x1,
                            r.y0,
                            r.y1,
                            if o { " (outside)" } else { "" }
                        ))
                        .unwrap_or_default()
                );
                // After a failed verification nothing is decrypted.
                let failed_before = reports
                    .iter()
                    .any(|r| r.failed || r.units.iter().any(|u| u.status == UnitStatus::Failed));
                let ks = if failed_before { &None } else { &opened[ti] };
                let mut ciphers: HashMap<u8, UnitCipher> = HashMap::new();
                let mut dec = 0usize;
                for u in &t.zoi.units {
                    for p in &u.packets {
                        let k = zone::ref_key(p);
                        let status = match p.state {
                            PacketState::Absent => UnitStatus::Absent,
                            PacketState::Opened => UnitStatus::Opened,
                            PacketState::Present => {
                                let key = ks
                                    .as_ref()
                                    .and_then(|v| v.get(u.level as usize).cloned().flatten());
                                match key {
                                    None => UnitStatus::Locked,
                                    Some(key) => {
                                        if let std::collections::hash_map::Entry::Vacant(e) =
                                            ciphers.entry(u.level)
                                        {
                                            let ck = key.cipher_key();
                                            if ck.len() * 8 != d.key_bits as usize {
                                                return Err(Error::new(
                                                    ErrorKind::BadKey,
                                                    format!(
                                                        "tool {}: an AES-{} key is needed",
                                                        t.instance, d.key_bits
                                                    ),
                                                ));
                                            }
                                            e.insert(UnitCipher::new(&ck, mode)?);
                                        }
                                        let c = &ciphers[&u.level];
                                        let i = l.find(k).ok_or_else(|| {
                                            Error::new(
                                                ErrorKind::Internal,
                                                "checked packet vanished",
                                            )
                                        })?;
                                        let pk = &l.index.packets[i];
                                        let mask =
                                            l.body_mask(pk, t.zoi.image.region, t.zoi.reduced)?;
                                        let iv = zone::packet_iv(&d.iv, k);
                                        let body = &mut cur
                                            [pk.body_offset..pk.body_offset + pk.body_length];
                                        zone::crypt_body(
                                            c,
                                            &iv,
                                            k,
                                            body,
                                            mask.as_deref(),
                                            d.compliant,
                                            false,
                                        )?;
                                        newly_opened.insert(k);
                                        dec += 1;
                                        UnitStatus::Decrypted
                                    }
                                }
                            }
                        };
                        rep.units.push(UnitReport {
                            zone: zone::describe(k),
                            level: u.level,
                            status,
                        });
                    }
                }
                let locked = rep.count(UnitStatus::Locked);
                rep.outcome = if failed_before {
                    "nothing decrypted: a verification failed".to_string()
                } else {
                    format!(
                        "{dec} packet(s) decrypted, {locked} locked, {} dropped, {} opened earlier",
                        rep.count(UnitStatus::Absent),
                        rep.count(UnitStatus::Opened)
                    )
                };
            }
            Params::Authentication(a) => {
                let g = a.granularity;
                let first_key = |u: &super::syntax::Unit| {
                    u.packets
                        .first()
                        .map(|p| zone::unit_key(g, zone::ref_key(p)))
                };
                let statuses: Vec<(String, u8)> = t
                    .zoi
                    .units
                    .iter()
                    .map(|u| {
                        (
                            first_key(u).map(|k| unit_zone(g, k)).unwrap_or_default(),
                            u.level,
                        )
                    })
                    .collect();
                let mut unit_status: Vec<UnitStatus> =
                    vec![UnitStatus::Unchecked; t.zoi.units.len()];
                match a.method {
                    AuthMethod::Hmac | AuthMethod::CbcMac => {
                        let alg = mac_alg(a.method, a.hash).ok_or_else(|| {
                            Error::new(ErrorKind::Malformed, "authentication tool without MAC")
                        })?;
                        rep.description = format!(
                            "authentication: {} per {}, {} unit(s)",
                            alg.name(),
                            g.name(),
                            t.zoi.units.len()
                        );
                        let ks = &opened[ti];
                        match ks {
                            None => {
                                rep.outcome = "not verified: no key".into();
                                unit_status.fill(UnitStatus::Locked);
                            }
                            Some(ks) => {
                                let n = ks.len();
                                let last = ks[n - 1].as_ref().ok_or_else(|| {
                                    Error::new(ErrorKind::Internal, "no last-level key")
                                })?;
                                let seal = seal_mac(alg, &mac_key_for(alg, last), &canonical)?;
                                if !mac_eq(&seal, &a.seal) {
                                    rep.failed = true;
                                    rep.outcome =
                                        "SEC parameters modified: the seal MAC does not match"
                                            .into();
                                } else {
                                    rep.outcome = "SEC parameters authentic".into();
                                    for (ui, u) in t.zoi.units.iter().enumerate() {
                                        let (idx, op, all_absent) = unit_packets(&l, u);
                                        unit_status[ui] = if all_absent {
                                            UnitStatus::Absent
                                        } else if op {
                                            UnitStatus::Opened
                                        } else if let Some(idx) = idx {
                                            match ks.get(u.level as usize).cloned().flatten() {
                                                None => UnitStatus::Locked,
                                                Some(k) => {
                                                    let mk = mac_key_for(alg, &k);
                                                    let mut tag = Vec::new();
                                                    super::protect::unit_message(
                                                        &mut l,
                                                        &cur,
                                                        t.instance,
                                                        ui as u32,
                                                        &idx,
                                                        &mut |total, feed| {
                                                            let mut m =
                                                                crate::crypto::mac::Mac::new(
                                                                    alg, &mk, total,
                                                                )?;
                                                            feed(&mut |b| m.update(b));
                                                            tag = m.finalize();
                                                            Ok(())
                                                        },
                                                    )?;
                                                    if mac_eq(&tag, &a.values[ui]) {
                                                        UnitStatus::Verified
                                                    } else {
                                                        UnitStatus::Failed
                                                    }
                                                }
                                            }
                                        } else {
                                            UnitStatus::Incomplete
                                        };
                                    }
                                }
                            }
                        }
                    }
                    AuthMethod::Signature => {
                        let alg = HashAlg::from_id(a.hash).ok_or_else(|| {
                            Error::new(ErrorKind::Malformed, "signature tool without hash")
                        })?;
                        let scheme = a.scheme.unwrap_or(SignatureScheme::EcdsaP256);
                        rep.description = format!(
                            "authentication: {} signature over {} unit hashes per {}, {} unit(s), signer key {}",
                            scheme.name(),
                            alg.name(),
                            g.name(),
                            t.zoi.units.len(),
                            hex(&a.key_id[..8])
                        );
                        let pk = opts
                            .public_keys
                            .iter()
                            .find(|p| p.fingerprint() == a.key_id);
                        match pk {
                            None if opts.public_keys.is_empty() => {
                                rep.outcome = "signature not verified: no public key given".into();
                            }
                            None => {
                                rep.failed = true;
                                rep.outcome = "signed by another key than the ones given".into();
                            }
                            Some(pk) => {
                                let msg = crate::crypto::sha256(&[SIGN_LABEL, &canonical]);
                                let ok = match scheme {
                                    SignatureScheme::RsaPkcs1v15 => {
                                        pk.verify_pkcs1v15(&msg, &a.seal)
                                    }
                                    _ => pk.verify(&msg, &a.seal),
                                };
                                if !ok {
                                    rep.failed = true;
                                    rep.outcome =
                                        "signature does not verify: the SEC parameters were modified or the signer differs".into();
                                } else {
                                    rep.outcome = "signature valid".into();
                                }
                            }
                        }
                        // The unit hashes are checked with or without the
                        // signature (with it, they are authentic).
                        if !rep.failed {
                            for (ui, u) in t.zoi.units.iter().enumerate() {
                                unit_status[ui] = unit_hash_status(
                                    &mut l,
                                    &cur,
                                    t.instance,
                                    ui,
                                    u,
                                    alg,
                                    &a.values[ui],
                                )?;
                            }
                        }
                    }
                }
                rep.units = statuses
                    .into_iter()
                    .zip(unit_status)
                    .map(|((zone, level), status)| UnitReport {
                        zone,
                        level,
                        status,
                    })
                    .collect();
            }
            Params::Hash(_) | Params::ContentId(_) => {
                let (alg_id, values, g) = match &t.params {
                    Params::Hash(h) => (h.hash, &h.values, h.granularity),
                    Params::ContentId(c) => (c.hash, &c.values, Granularity::Packet),
                    _ => return Err(Error::new(ErrorKind::Internal, "hash tool kind")),
                };
                let alg = HashAlg::from_id(alg_id)
                    .ok_or_else(|| Error::new(ErrorKind::Malformed, "hash"))?;
                for (ui, u) in t.zoi.units.iter().enumerate() {
                    let status =
                        unit_hash_status(&mut l, &cur, t.instance, ui, u, alg, &values[ui])?;
                    let zk = u
                        .packets
                        .first()
                        .map(|p| zone::unit_key(g, zone::ref_key(p)));
                    rep.units.push(UnitReport {
                        zone: zk.map(|k| unit_zone(g, k)).unwrap_or_default(),
                        level: u.level,
                        status,
                    });
                }
                let bad = rep.count(UnitStatus::Failed);
                match &t.params {
                    Params::ContentId(c) => {
                        let binding = content_binding(alg, &c.id, &c.authority, &c.values);
                        rep.description = format!(
                            "content identification: \"{}\" registered with \"{}\", {} packet hashes",
                            c.id,
                            c.authority,
                            c.values.len()
                        );
                        if binding != c.binding {
                            rep.failed = true;
                            rep.outcome = "does NOT match: the binding hash differs".into();
                        } else if bad > 0 {
                            rep.outcome = format!("does NOT match: {bad} packet(s) differ");
                        } else {
                            rep.outcome = format!(
                                "matches ({} packet(s) checked, {} dropped)",
                                rep.count(UnitStatus::Verified),
                                rep.count(UnitStatus::Absent) + rep.count(UnitStatus::Incomplete)
                            );
                        }
                    }
                    _ => {
                        rep.description = format!(
                            "hash: {} per {}, {} unit(s)",
                            alg.name(),
                            g.name(),
                            t.zoi.units.len()
                        );
                        rep.outcome = format!(
                            "{} unit(s) intact, {bad} modified",
                            rep.count(UnitStatus::Verified)
                        );
                    }
                }
            }
        }
        reports.push(rep);
    }
    reports.reverse();
    let report = Report { tools: reports };
    if report.failed() {
        return Ok(Consumed {
            output: None,
            complete: false,
            report,
        });
    }
    mark_opened(&mut sec, &newly_opened);
    let complete = sec.tools.iter().all(|t| {
        !matches!(t.params, Params::Decryption(_))
            || t.zoi
                .units
                .iter()
                .all(|u| u.packets.iter().all(|p| p.state != PacketState::Present))
    });
    let output = if complete {
        splice_sec(&l.file, &cur, &[])?
    } else {
        super::protect::insert_sec(&l.file, &cur, &sec)?
    };
    Ok(Consumed {
        output: Some(output),
        complete,
        report,
    })
}

/// Mark the packets in `opened` as opened in every tool.
fn mark_opened(sec: &mut SecStream, opened: &std::collections::HashSet<Key>) {
    for t in &mut sec.tools {
        for u in &mut t.zoi.units {
            for p in &mut u.packets {
                if opened.contains(&zone::ref_key(p)) && p.state == PacketState::Present {
                    p.state = PacketState::Opened;
                }
            }
        }
    }
}

/// Undo a whole-packet decryption tool with the level keys `keys`, from
/// its ZOI alone (the packet headers are encrypted, so the codestream
/// cannot be indexed yet). Returns the report and whether packets of the
/// tool stay encrypted.
fn open_whole(
    f: &J2kFile,
    t: &Tool,
    keys: Option<&[Option<JpsecKey>]>,
    cur: &mut [u8],
    opened: &mut std::collections::HashSet<Key>,
) -> Result<(ToolReport, bool)> {
    let Params::Decryption(d) = &t.params else {
        return Err(Error::new(ErrorKind::Internal, "not a decryption tool"));
    };
    let mode = Mode::from_code(d.mode).ok_or_else(|| Error::new(ErrorKind::Internal, "mode"))?;
    let cs = &f.codestream;
    let first_sot = cs
        .tile_parts
        .first()
        .map(|tp| tp.offset())
        .ok_or_else(|| Error::new(ErrorKind::Malformed, "the codestream has no tile-part"))?;
    let mut rep = ToolReport {
        instance: t.instance,
        template: Some(Template::Decryption),
        description: format!(
            "decryption of whole packets (headers too; not decodable): AES-{} {}, {} level(s) by {}, {} packet(s)",
            d.key_bits,
            mode.name().to_uppercase(),
            d.keys.levels(),
            d.keys.access.name(),
            t.zoi.units.len()
        ),
        outcome: String::new(),
        failed: false,
        units: Vec::new(),
    };
    let mut ciphers: HashMap<u8, UnitCipher> = HashMap::new();
    let mut hidden = false;
    for u in &t.zoi.units {
        for p in &u.packets {
            let k = zone::ref_key(p);
            let status = match p.state {
                PacketState::Absent => UnitStatus::Absent,
                PacketState::Opened => UnitStatus::Opened,
                PacketState::Present => {
                    match keys.and_then(|v| v.get(u.level as usize).cloned().flatten()) {
                        None => {
                            hidden = true;
                            UnitStatus::Locked
                        }
                        Some(key) => {
                            let start = first_sot + p.offset as usize;
                            let end = start + p.body_length as usize;
                            // The range must lie in one tile-part's data.
                            if !cs
                                .tile_parts
                                .iter()
                                .any(|tp| tp.data.start <= start && end <= tp.data.end)
                            {
                                return Err(Error::new(
                                    ErrorKind::Malformed,
                                    format!(
                                        "SEC tool {}: {} is recorded at bytes {}..{} from the first SOT, \
                                         outside the tile-part data",
                                        t.instance,
                                        zone::describe(k),
                                        p.offset,
                                        p.offset as u64 + p.body_length as u64
                                    ),
                                ));
                            }
                            if let std::collections::hash_map::Entry::Vacant(e) =
                                ciphers.entry(u.level)
                            {
                                e.insert(UnitCipher::new(&key.cipher_key(), mode)?);
                            }
                            ciphers[&u.level]
                                .decrypt(&zone::packet_iv(&d.iv, k), &mut cur[start..end]);
                            opened.insert(k);
                            UnitStatus::Decrypted
                        }
                    }
                }
            };
            rep.units.push(UnitReport {
                zone: zone::describe(k),
                level: u.level,
                status,
            });
        }
    }
    rep.outcome = format!(
        "{} packet(s) decrypted, {} locked, {} dropped, {} opened earlier",
        rep.count(UnitStatus::Decrypted),
        rep.count(UnitStatus::Locked),
        rep.count(UnitStatus::Absent),
        rep.count(UnitStatus::Opened)
    );
    Ok((rep, hidden))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
