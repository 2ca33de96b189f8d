//! Cell signatures (croppable signatures, cell layer): sign every cell,
//! verify the aggregate, localize tampering, and survive `jpegtran -crop`
//! on the cell grid (the coefficients, not the bytes, are signed).

mod common;

use common::{generate, Layout};
use jsec::crypto::bls::{BlsSecretKey, BlsSignature};
use jsec::jpeg::coefficients::{decode_coefficients, Coefficients};
use jsec::sign::{
    aggregate_rect, localize, prefix_table, sign_cells, verify_cells, CellGrid, CellRect, CellSig,
};

const BINDING: [u8; 32] = [7; 32];

fn key() -> BlsSecretKey {
    BlsSecretKey::from_ikm(&[42; 32], b"sign_cells test").unwrap()
}

struct Signed {
    jpeg: Vec<u8>,
    coefs: Coefficients,
    grid: CellGrid,
    sigs: Vec<CellSig>,
}

fn signed(jpeg: Vec<u8>, g: u32, threads: usize) -> Signed {
    let coefs = decode_coefficients(&jpeg).unwrap();
    let grid = CellGrid::new(&coefs.frame, g).unwrap();
    let per_cell = sign_cells(&coefs, &grid, &BINDING, &key(), threads).unwrap();
    let sigs: Vec<CellSig> = prefix_table(&per_cell, grid.cells_x);
    assert_eq!(sigs.len() as u64, grid.len());
    Signed {
        jpeg,
        coefs,
        grid,
        sigs,
    }
}

fn layouts() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("444-40x24", generate(40, 24, Layout::S444, 85, 0, 1)),
        ("420-70x45", generate(70, 45, Layout::S420, 80, 0, 2)),
        ("422-50x33", generate(50, 33, Layout::S422, 75, 0, 3)),
        ("gray-37x29", generate(37, 29, Layout::Gray, 90, 0, 4)),
        ("420-rst-64x48", generate(64, 48, Layout::S420, 80, 2, 5)),
    ]
}

#[test]
fn whole_image_verifies_and_threads_agree() {
    let pk = key().public_key();
    for (name, jpeg) in layouts() {
        for g in 1..=3 {
            let s = signed(jpeg.clone(), g, 0);
            let agg = aggregate_rect(&s.sigs, s.grid.cells_x, CellRect::all(&s.grid)).unwrap();
            for threads in [0, 1, 3] {
                assert!(
                    verify_cells(&s.coefs, &s.grid, &BINDING, (0, 0), &agg, &pk, threads).unwrap(),
                    "{name} g={g} threads={threads}"
                );
            }
            // Signing on several threads gives the same table.
            assert_eq!(signed(jpeg.clone(), g, 2).sigs, s.sigs, "{name} g={g}");
            // Another binding, another key, a shifted origin: rejected.
            let other = [8u8; 32];
            assert!(!verify_cells(&s.coefs, &s.grid, &other, (0, 0), &agg, &pk, 0).unwrap());
            let pk2 = BlsSecretKey::from_ikm(&[43; 32], b"").unwrap().public_key();
            assert!(!verify_cells(&s.coefs, &s.grid, &BINDING, (0, 0), &agg, &pk2, 0).unwrap());
            assert!(!verify_cells(&s.coefs, &s.grid, &BINDING, (1, 0), &agg, &pk, 0).unwrap());
        }
    }
}

#[test]
fn tampered_coefficient_is_localized() {
    let pk = key().public_key();
    for (name, jpeg) in layouts() {
        let mut s = signed(jpeg, 1, 0);
        assert_eq!(
            localize(&s.coefs, &s.grid, &BINDING, &s.sigs, &pk, 2).unwrap(),
            vec![]
        );
        // Change one AC coefficient of the last component's last block: the
        // cell holding that block, and only it, fails.
        let last = s.coefs.components.len() - 1;
        let comp = s.coefs.frame.components[last].clone();
        let (bx, by) = (comp.blocks_w - 1, comp.blocks_h - 1);
        let cc = &mut s.coefs.components[last];
        let i = ((by * cc.blocks_w + bx) * 64 + 9) as usize;
        cc.data[i] = cc.data[i].wrapping_add(1);
        let agg = aggregate_rect(&s.sigs, s.grid.cells_x, CellRect::all(&s.grid)).unwrap();
        assert!(!verify_cells(&s.coefs, &s.grid, &BINDING, (0, 0), &agg, &pk, 0).unwrap());
        let want = (s.grid.cells_x - 1, s.grid.cells_y - 1);
        assert_eq!(
            localize(&s.coefs, &s.grid, &BINDING, &s.sigs, &pk, 0).unwrap(),
            vec![want],
            "{name}"
        );
        // Two changed cells are both reported.
        let mut s3 = signed(s.jpeg.clone(), 1, 0);
        if s3.grid.len() >= 2 {
            for c in [0usize, last] {
                let cc = &mut s3.coefs.components[c];
                cc.data[0] = cc.data[0].wrapping_add(1); // DC of block (0, 0)
            }
            let cc = &mut s3.coefs.components[last];
            cc.data[i] = cc.data[i].wrapping_sub(1);
            assert_eq!(
                localize(&s3.coefs, &s3.grid, &BINDING, &s3.sigs, &pk, 0).unwrap(),
                vec![(0, 0), want],
                "{name}"
            );
        }
        // Exchanging two table entries changes no content: the whole image
        // still verifies and nothing is blamed, but a crop holding only one
        // of them fails.
        let mut s2 = signed(s.jpeg.clone(), 1, 0);
        if s2.sigs.len() >= 3 {
            s2.sigs.swap(0, 2);
            assert_eq!(
                localize(&s2.coefs, &s2.grid, &BINDING, &s2.sigs, &pk, 0).unwrap(),
                vec![]
            );
            let all = aggregate_rect(&s2.sigs, s2.grid.cells_x, CellRect::all(&s2.grid)).unwrap();
            assert!(verify_cells(&s2.coefs, &s2.grid, &BINDING, (0, 0), &all, &pk, 0).unwrap());
            let one = aggregate_rect(
                &s2.sigs,
                s2.grid.cells_x,
                CellRect {
                    x0: 0,
                    y0: 0,
                    x1: 1,
                    y1: 1,
                },
            )
            .unwrap();
            let mut sum = jsec::crypto::bls::HashSum::new();
            sum.add(
                &jsec::sign::cell_message(&s2.coefs, &s2.grid, &BINDING, 0, 0, (0, 0)).unwrap(),
                jsec::crypto::bls::DST_CROP_V1,
            );
            assert!(!jsec::crypto::bls::verify_same_key(&one, &sum, &pk));
        }
    }
}

fn have(tool: &str) -> bool {
    common::have_tool(tool)
}

/// `jpegtran -crop` re-encodes the entropy-coded data; the crop's cells
/// still verify against the aggregate of the original's cells they came
/// from, and only at the right origin.
#[test]
fn survives_jpegtran_crop() {
    if !have("jpegtran") {
        eprintln!("jpegtran not installed: skipping (CI installs it)");
        return;
    }
    let pk = key().public_key();
    for (name, jpeg) in [
        ("420-100x70", generate(100, 70, Layout::S420, 80, 0, 21)),
        ("444-60x44", generate(60, 44, Layout::S444, 90, 0, 22)),
        ("gray-45x30", generate(45, 30, Layout::Gray, 85, 0, 23)),
        ("422-rst-90x50", generate(90, 50, Layout::S422, 80, 3, 24)),
    ] {
        for g in [1u32, 2] {
            let s = signed(jpeg.clone(), g, 0);
            // Interior crop (ends on the grid) and one reaching the edges.
            let (cw, ch) = (s.grid.cell_w(), s.grid.cell_h());
            let rects = [
                CellRect {
                    x0: 1,
                    y0: 1,
                    x1: 2,
                    y1: 2,
                },
                CellRect {
                    x0: 1,
                    y0: 0,
                    x1: s.grid.cells_x,
                    y1: s.grid.cells_y,
                },
            ];
            for r in rects {
                if r.x1 > s.grid.cells_x || r.y1 > s.grid.cells_y || r.x0 >= r.x1 || r.y0 >= r.y1 {
                    continue;
                }
                let (px, py) = (r.x0 * cw, r.y0 * ch);
                let pw = (r.x1 * cw).min(s.grid.width) - px;
                let ph = (r.y1 * ch).min(s.grid.height) - py;
                let crop =
                    decode_coefficients(&common::jpegtran_crop(&s.jpeg, (px, py, pw, ph))).unwrap();
                assert_eq!((crop.frame.width, crop.frame.height), (pw, ph), "{name}");
                let cgrid = CellGrid::new(&crop.frame, g).unwrap();
                assert_eq!((cgrid.cells_x, cgrid.cells_y), (r.x1 - r.x0, r.y1 - r.y0));
                let agg = aggregate_rect(&s.sigs, s.grid.cells_x, r).unwrap();
                assert!(
                    verify_cells(&crop, &cgrid, &BINDING, (r.x0, r.y0), &agg, &pk, 2).unwrap(),
                    "{name} g={g} {r:?}"
                );
                assert!(!verify_cells(&crop, &cgrid, &BINDING, (0, 0), &agg, &pk, 0).unwrap());
            }
        }
    }
}

/// Cells bind the quantization tables; a file that changes a table after a
/// scan used it is refused rather than signed with the wrong values.
#[test]
fn quant_table_redefined_after_a_scan_is_refused() {
    let jpeg = generate(24, 16, Layout::Gray, 80, 0, 31);
    let eoi = jpeg.len() - 2;
    assert_eq!(&jpeg[eoi..], &[0xFF, 0xD9]);
    let coefs = decode_coefficients(&jpeg).unwrap();
    let q0 = coefs.quant[0].clone().unwrap();
    let dqt = |values: &[u16; 64]| {
        let mut seg = vec![0xFF, 0xDB, 0x00, 67, 0x00];
        // Natural order in memory, zigzag order in the segment.
        for z in 0..64 {
            let n = jsec::jpeg::segment::ZIGZAG_TO_NATURAL[z] as usize;
            seg.push(values[n] as u8);
        }
        seg
    };
    let with = |seg: Vec<u8>| {
        let mut f = jpeg[..eoi].to_vec();
        f.extend_from_slice(&seg);
        f.extend_from_slice(&[0xFF, 0xD9]);
        f
    };
    // The same values again: harmless.
    assert!(decode_coefficients(&with(dqt(&q0.values))).is_ok());
    // Other values after the scan: refused, and the error says why.
    let mut other = q0.values;
    other[0] = other[0].wrapping_add(1).max(1);
    let err = decode_coefficients(&with(dqt(&other))).unwrap_err();
    assert_eq!(err.kind(), jsec::ErrorKind::Unsupported);
    assert!(err.message().contains("redefined"), "{err}");
}

/// Every rectangle's aggregate from the summed-area table (four entries)
/// equals the sum of its cells' own signatures.
#[test]
fn table_rectangles_equal_cell_sums() {
    let jpeg = generate(80, 48, Layout::S420, 80, 0, 41);
    let coefs = decode_coefficients(&jpeg).unwrap();
    let grid = CellGrid::new(&coefs.frame, 1).unwrap();
    let per_cell = sign_cells(&coefs, &grid, &BINDING, &key(), 0).unwrap();
    let table = prefix_table(&per_cell, grid.cells_x);
    assert_eq!(table.len(), per_cell.len());
    let (cx, cy) = (grid.cells_x, grid.cells_y);
    let mut n = 0;
    for y0 in 0..cy {
        for y1 in y0 + 1..=cy {
            for x0 in 0..cx {
                for x1 in x0 + 1..=cx {
                    let r = CellRect { x0, y0, x1, y1 };
                    let want = BlsSignature::aggregate(
                        (y0..y1)
                            .flat_map(|y| (x0..x1).map(move |x| (x, y)))
                            .map(|(x, y)| &per_cell[(y * cx + x) as usize]),
                    )
                    .unwrap();
                    assert_eq!(aggregate_rect(&table, cx, r).unwrap(), want, "{r:?}");
                    n += 1;
                }
            }
        }
    }
    assert_eq!(n, (cx * (cx + 1) / 2) * (cy * (cy + 1) / 2));
    // An entry that is not a point is reported, naming the table.
    let mut broken = table.clone();
    broken[0] = [0x80; 48];
    let e = aggregate_rect(
        &broken,
        cx,
        CellRect {
            x0: 0,
            y0: 0,
            x1: 1,
            y1: 1,
        },
    )
    .unwrap_err();
    assert!(e.message().contains("signature table"), "{e}");
}
