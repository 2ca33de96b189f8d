//! JPEG 2000 codestream marker codes (ISO/IEC 15444-1 Annex A, plus the
//! JPSEC marker of Part 8) and their names.

/// Start of codestream.
pub const SOC: u16 = 0xFF4F;
/// Extended capabilities (Part 1 amendment; skipped by length).
pub const CAP: u16 = 0xFF50;
/// Image and tile size.
pub const SIZ: u16 = 0xFF51;
/// Coding style default.
pub const COD: u16 = 0xFF52;
/// Coding style component.
pub const COC: u16 = 0xFF53;
/// Tile-part lengths.
pub const TLM: u16 = 0xFF55;
/// Packet length, main header.
pub const PLM: u16 = 0xFF57;
/// Packet length, tile-part header.
pub const PLT: u16 = 0xFF58;
/// Quantization default.
pub const QCD: u16 = 0xFF5C;
/// Quantization component.
pub const QCC: u16 = 0xFF5D;
/// Region of interest.
pub const RGN: u16 = 0xFF5E;
/// Progression order change.
pub const POC: u16 = 0xFF5F;
/// Packed packet headers, main header.
pub const PPM: u16 = 0xFF60;
/// Packed packet headers, tile-part header.
pub const PPT: u16 = 0xFF61;
/// Component registration.
pub const CRG: u16 = 0xFF63;
/// Comment.
pub const COM: u16 = 0xFF64;
/// JPSEC security marker (ISO/IEC 15444-8).
pub const SEC: u16 = 0xFF65;
/// Start of tile-part.
pub const SOT: u16 = 0xFF90;
/// Start of packet.
pub const SOP: u16 = 0xFF91;
/// End of packet header.
pub const EPH: u16 = 0xFF92;
/// Start of data.
pub const SOD: u16 = 0xFF93;
/// End of codestream.
pub const EOC: u16 = 0xFFD9;

/// The marker's name (`SIZ`), or `0xFFxx` for others.
pub fn name(m: u16) -> String {
    let s = match m {
        SOC => "SOC",
        CAP => "CAP",
        SIZ => "SIZ",
        COD => "COD",
        COC => "COC",
        TLM => "TLM",
        PLM => "PLM",
        PLT => "PLT",
        QCD => "QCD",
        QCC => "QCC",
        RGN => "RGN",
        POC => "POC",
        PPM => "PPM",
        PPT => "PPT",
        CRG => "CRG",
        COM => "COM",
        SEC => "SEC",
        SOT => "SOT",
        SOP => "SOP",
        EPH => "EPH",
        SOD => "SOD",
        EOC => "EOC",
        _ => return format!("0x{m:04X}"),
    };
    s.to_string()
}

/// Markers without a length field (delimiting markers).
pub fn is_delimiting(m: u16) -> bool {
    matches!(m, SOC | SOD | EOC | EPH) || (0xFF30..=0xFF3F).contains(&m)
}
