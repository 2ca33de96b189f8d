//! Secure transcoding: drop resolutions, layers or tiles of a protected
//! file without any key, and keep its SEC segments true — packets that
//! went are marked absent, the others get their new offsets, and the
//! number of removed resolution levels is recorded so that regions still
//! map onto the same code-blocks. What stays decrypts and verifies as
//! before: IVs depend on packet identities only, and every unit that a
//! transcoder keeps whole keeps its MAC or hash.

use super::consume::{check_zoi, read_sec_in};
use super::protect::insert_sec;
use super::syntax::{PacketState, Params, DOMAIN_PACKETS};
use super::zone::{self, Layout};
use crate::j2k::transcode::{transcode_mapped, TranscodeOptions};
use crate::{Error, ErrorKind, Result};

/// Transcode `data` (protected or not) as [`crate::j2k::transcode::transcode`]
/// does, and update its SEC segments.
pub fn transcode(data: &[u8], opts: &TranscodeOptions) -> Result<Vec<u8>> {
    let f = crate::j2k::J2kFile::parse(data)?;
    let Some(mut sec) = read_sec_in(&f.codestream, data)? else {
        return crate::j2k::transcode::transcode(data, opts);
    };
    if let Some(t) = sec.tools.iter().find(|t| {
        matches!(&t.params, Params::Decryption(d) if d.domain == DOMAIN_PACKETS
            && t.zoi.units.iter().any(|u| u.packets.iter().any(|p| p.state == PacketState::Present)))
    }) {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "SEC tool {} encrypts whole packets: their headers, which a transcoder reads, \
                 are hidden; such a file cannot be transcoded without its keys",
                t.instance
            ),
        ));
    }
    let l = Layout::new(data)?;
    for t in &sec.tools {
        if t.template().is_some() {
            check_zoi(&l, t)?;
        }
    }
    let tr = transcode_mapped(data, opts)?;
    if let Some((t, n)) = tr
        .tiles
        .iter()
        .enumerate()
        .find_map(|(t, m)| m.filter(|&n| n as usize != t).map(|n| (t, n)))
    {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "this reduction renumbers tile {t} as {n}: the SEC segments name packets by tile, \
                 so a protected file cannot be transcoded so"
            ),
        ));
    }
    let out = Layout::new(&tr.data)?;
    let mut new_of = vec![None; l.index.packets.len()];
    for (o, &i) in tr.kept.iter().enumerate() {
        new_of[i] = Some(o);
    }
    for t in &mut sec.tools {
        if t.template().is_none() {
            continue;
        }
        t.zoi.reduced = t.zoi.reduced.saturating_add(opts.reduce);
        for u in &mut t.zoi.units {
            for p in &mut u.packets {
                if p.state == PacketState::Absent {
                    continue;
                }
                let i = l.find(zone::ref_key(p)).ok_or_else(|| {
                    Error::new(ErrorKind::Internal, "a checked packet is not indexed")
                })?;
                match new_of[i] {
                    Some(o) => p.offset = out.packet_ref(o).offset,
                    None => p.state = PacketState::Absent,
                }
            }
        }
    }
    insert_sec(&out.file, &tr.data, &sec)
}
